#!/usr/bin/env bash
# Compares the AES-128-GCM that carries bootrino's HTTPS records (packaging/deps/gcm_alt.c: gcm_x86.c or
# Nettle) with `openssl speed -evp aes-128-gcm`, both on 16 KiB records, both per second of CPU time.
#
# Usage: bench/gcm.sh [BUILD_DIR]     (default: build; the tree packaging/build.sh configures)
# Builds BUILD_DIR's gcm_bench target, runs it once per implementation this CPU can run (NETTLE_FAT_OVERRIDE
# masks the instructions: unset = the fastest, "aesni,pclmul" = gcm_x86.c's 128-bit code, "none" = Nettle's
# portable C) and prints MB/s for each, OpenSSL's, and the ratio of the fastest to OpenSSL.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$repo/build}
[[ -f $build/build.ninja ]] || { echo "no configured build in $build: run packaging/build.sh first" >&2; exit 1; }
ninja -C "$build" gcm_bench >/dev/null
bench=$build/bench/gcm_bench

results=$("$bench")
fastest=$(awk '{ print $NF }' <<<"$results")
flags=$(grep -m1 '^flags' /proc/cpuinfo)
if [[ $(uname -m) == x86_64 ]] && grep -qw aes <<<"$flags" && grep -qw pclmulqdq <<<"$flags"; then
  results+=$'\n'$(NETTLE_FAT_OVERRIDE=aesni,pclmul "$bench")
fi
results+=$'\n'$(NETTLE_FAT_OVERRIDE=none "$bench")
awk '{ rate = $NF; $1 = ""; $NF = ""; sub(/^ +/, ""); sub(/ +$/, "")
       printf "%-24s %8.1f MB/s (cpu time, 16 KiB records)\n", $0, rate }' <<<"$results"

# "AES-128-GCM  3722354.69k": thousands of bytes per second of user time for the one block size asked for.
openssl_k=$(openssl speed -evp aes-128-gcm -bytes 16384 -seconds 3 2>/dev/null |
  awk '$1 == "AES-128-GCM" && $2 ~ /k$/ { sub(/k$/, "", $2); print $2 }' | tail -n 1)
[[ -n $openssl_k ]] || { echo "could not parse openssl speed's output" >&2; exit 1; }
awk -v ours="$fastest" -v k="$openssl_k" 'BEGIN {
  printf "%-24s %8.1f MB/s (cpu time, 16 KiB records)\n", "openssl", k / 1000
  printf "ratio fastest/openssl %.3f\n", ours / (k / 1000) }'
