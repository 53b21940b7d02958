#!/usr/bin/env bash
# Compares fetch::Sha256 throughput with `openssl speed -evp sha256`.
#
# Usage: bench/sha256.sh [path/to/sha256_bench]
# Without an argument the benchmark is compiled from source with ${CXX:-g++}
# at -O2 (the project's release level) in a temporary directory.
#
# Prints MB/s (10^6 bytes/s) for every implementation this CPU runs, OpenSSL's
# rate for 16 KiB blocks, and the ratio of the default (fastest)
# implementation to OpenSSL. The project's target is a ratio >= 0.85 on CPUs
# with SHA extensions. Both sides of the ratio divide by CPU time (openssl
# speed's default), so the ratio holds up when other work shares the cores;
# the benchmark's wall-clock rates are printed too.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="${1:-}"
if [[ -z "${bench}" ]]; then
  build_dir="$(mktemp -d)"
  trap 'rm -rf "${build_dir}"' EXIT
  bench="${build_dir}/sha256_bench"
  "${CXX:-g++}" -std=c++23 -O2 -I"${repo_root}" \
    "${repo_root}/fetch/sha256.cc" "${repo_root}/bench/sha256_bench.cc" \
    -o "${bench}"
fi

# Lines: "sha256 <implementation> <cpu MB/s> <wall MB/s> <digest>".
bench_output="$("${bench}")"
default_impl="$(sed -n 's/^# default implementation: //p' <<<"${bench_output}")"
awk '$1 == "sha256" {
  printf "%-10s %8.1f MB/s (cpu time)  %8.1f MB/s (wall)  %s\n", $2, $3, $4, $5
}' <<<"${bench_output}"
ours="$(awk -v impl="${default_impl}" \
  '$1 == "sha256" && $2 == impl { print $3 }' <<<"${bench_output}")"

if ! command -v openssl >/dev/null; then
  echo "openssl not found; no ratio" >&2
  exit 0
fi
# The result line looks like "sha256   1107591.17k": thousands of bytes per
# second for the one block size asked for.
openssl_output="$(openssl speed -evp sha256 -bytes 16384 -seconds 3 \
  2>/dev/null)"
openssl_k="$(awk 'tolower($1) == "sha256" && $2 ~ /k$/ {
  sub(/k$/, "", $2); print $2 }' <<<"${openssl_output}" | tail -n 1)"
if [[ -z "${openssl_k}" ]]; then
  echo "could not parse openssl speed output:" >&2
  echo "${openssl_output}" >&2
  exit 1
fi

awk -v ours="${ours}" -v impl="${default_impl}" -v k="${openssl_k}" 'BEGIN {
  openssl = k / 1000
  printf "%-10s %8.1f MB/s (cpu time, 16 KiB blocks)\n", "openssl", openssl
  printf "ratio %s/openssl %.3f\n", impl, ours / openssl
}'
