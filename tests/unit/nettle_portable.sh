#!/usr/bin/env bash
# Runs the AES-GCM tests (gcm_test.cc) again with Nettle's accelerated code switched off: NETTLE_FAT_OVERRIDE
# names the CPU features Nettle's fat build may use ("none": portable C, as on a CPU without AES-NI/PCLMULQDQ
# or ARMv8 AES/PMULL), and NETTLE_FAT_VERBOSE makes it print what it chose, which is checked here so that a
# build that ignores the override cannot pass.
#   nettle_portable.sh [EMULATOR] TEST_BINARY
set -uo pipefail
out=$(NETTLE_FAT_OVERRIDE=none NETTLE_FAT_VERBOSE=1 "$@" --gtest_filter='Gcm*' 2>&1)
rc=$?
printf '%s\n' "$out"
((rc == 0)) || { echo "FAIL: the AES-GCM tests fail on Nettle's portable code (exit $rc)"; exit 1; }
features=$(grep '^libnettle: cpu features:' <<<"$out") ||
  { echo "FAIL: Nettle printed no CPU features: it is not the fat build, or it ignored NETTLE_FAT_VERBOSE"; exit 1; }
if grep -Eq 'aes|pclmul|pmull' <<<"$features"; then
  echo "FAIL: Nettle still chose accelerated code: $features"; exit 1
fi
grep -q '^\[  PASSED  \] [1-9]' <<<"$out" || { echo "FAIL: no AES-GCM test ran"; exit 1; }
echo "ok: the AES-GCM tests pass on Nettle's portable code ($features)"
