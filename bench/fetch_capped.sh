#!/usr/bin/env bash
# Benchmarks bootrino against curl on a loopback nginx that caps each connection's rate (limit_rate), as
# CDNs and object stores do: one 256 MiB file, bootrino (which fetches it in parallel byte ranges,
# fetch/segments.h) against curl over one connection as a user would run it. Target: bootrino <= 0.35 x
# curl's wall time, peak RSS < 32 MiB. It is bench/fetch.sh with LIMIT_RATE set; see there for the rest.
#
# Usage: bench/fetch_capped.sh [path/to/bootrino]   (as root on Debian/Ubuntu)
# Environment: LIMIT_RATE (default 50m), RUNS (default 3), SIZES_MIB (default 256), PROTOS (default "http https").
set -euo pipefail
export LIMIT_RATE=${LIMIT_RATE:-50m} RUNS=${RUNS:-3}
exec bash "$(dirname "${BASH_SOURCE[0]}")/fetch.sh" "$@"
