#!/usr/bin/env bash
# Runs the AES-GCM tests (gcm_test.cc) again with the CPU's instructions masked. NETTLE_FAT_OVERRIDE names
# the CPU features Nettle's fat build may use, and packaging/deps/gcm_x86.c honours it too:
#   none          Nettle's portable C, as on a CPU without AES-NI/PCLMULQDQ or ARMv8 AES/PMULL
#   aesni,pclmul  gcm_x86.c's 128-bit code, as on an x86_64 CPU without VAES/VPCLMULQDQ (run where the
#                 CPU has AES-NI, PCLMULQDQ and SSE4.1, and the binary is not emulated)
# Each run must name the code it used (the test prints it, NETTLE_FAT_VERBOSE makes Nettle print its
# choice), so that a build that ignores the mask cannot pass.
#   gcm_masked.sh [EMULATOR] TEST_BINARY
set -uo pipefail

out=""
run() {  # MASK IMPLEMENTATION: the tests pass with the mask, on that implementation
  local rc
  out=$(NETTLE_FAT_OVERRIDE=$1 NETTLE_FAT_VERBOSE=1 "${cmd[@]}" --gtest_filter='Gcm*' 2>&1)
  rc=$?
  printf '%s\n' "$out"
  ((rc == 0)) || { echo "FAIL: the AES-GCM tests fail with NETTLE_FAT_OVERRIDE=$1 (exit $rc)"; exit 1; }
  grep -q '^\[  PASSED  \] [1-9]' <<<"$out" || { echo "FAIL: no AES-GCM test ran"; exit 1; }
  grep -qx "gcm implementation: $2" <<<"$out" || {
    echo "FAIL: with NETTLE_FAT_OVERRIDE=$1 AES-GCM ran on '$(sed -n 's/^gcm implementation: //p' <<<"$out")', not $2"
    exit 1
  }
  echo "ok: the AES-GCM tests pass on $2 (NETTLE_FAT_OVERRIDE=$1)"
}

cmd=("$@")
run none nettle
features=$(grep '^libnettle: cpu features:' <<<"$out") ||
  { echo "FAIL: Nettle printed no CPU features: it is not the fat build, or it ignored NETTLE_FAT_VERBOSE"; exit 1; }
if grep -Eq 'aes|pclmul|pmull' <<<"$features"; then
  echo "FAIL: Nettle still chose accelerated code: $features"; exit 1
fi
echo "ok: Nettle used its portable code ($features)"

flags=$(grep -m1 '^flags' /proc/cpuinfo)
if (($# == 1)) && [[ $(uname -m) == x86_64 ]] && grep -qw aes <<<"$flags" && grep -qw pclmulqdq <<<"$flags" &&
   grep -qw sse4_1 <<<"$flags"; then
  run aesni,pclmul "x86 AES-NI+PCLMULQDQ"
fi
