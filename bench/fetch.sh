#!/usr/bin/env bash
# Benchmarks `bootrino fetch REF --stage DIR` against curl on a loopback nginx.
#
# Usage: bench/fetch.sh [path/to/bootrino]      (as root on Debian/Ubuntu)
# Environment: RUNS (default 5), SIZES_MIB (default "256 128 96 32": 4 files,
# 512 MiB), PROTOS (default "http https"), LIMIT_RATE (default none: nginx's
# limit_rate per connection, e.g. 50m; bench/fetch_capped.sh sets it), BOOTRINO_FETCH_ARGS (more options for
# bootrino fetch, to compare settings: e.g. "--segments 1", one stream per file).
#
# Makes the random payload once (deleted at exit), writes a pinned v1 manifest
# for it, serves both from tests/integration/nginx.sh, and then, RUNS times,
# interleaved in a rotating order, per protocol:
#   bootrino    bootrino fetch REF --stage DIR   (DIR: a fresh tmpfs directory)
#   curl-null   curl --parallel --parallel-max 4, the same 4 URLs, -o /dev/null
#   curl-tmpfs  the same, -o DIR/FILE in a fresh tmpfs directory
# bootrino also fetches the manifest, hashes and writes every byte, so the
# apples-to-apples reference is curl-tmpfs: the targets (HTTP <= 1.10, HTTPS
# <= 1.25, where bootrino's TLS record path competes with OpenSSL's) are judged
# on bootrino / curl-tmpfs; the ratio to curl-null is printed too.
# With LIMIT_RATE (a server that caps each connection, as CDNs do) the default
# payload is one 256 MiB file, curl-null is left out (it is the same transfer)
# and curl fetches as a user would, over one connection; bootrino splits the
# file into ranges (fetch/segments.h) and the target is bootrino <= 0.35 x curl.
# Reports medians of wall time, throughput, peak RSS (/usr/bin/time %M), CPU
# time, the ratios, and bench/sha256.sh (SHA-256 against openssl speed).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-5}
LIMIT_RATE=${LIMIT_RATE:-}
if [[ -n $LIMIT_RATE ]]; then
  SIZES_MIB=${SIZES_MIB:-256} tools=(bootrino curl-tmpfs) http_target=0.35 https_target=0.35
else
  SIZES_MIB=${SIZES_MIB:-256 128 96 32} tools=(bootrino curl-null curl-tmpfs) http_target=1.10 https_target=1.25
fi
read -r -a sizes <<<"$SIZES_MIB"
read -r -a protos <<<"${PROTOS:-http https}"
say() { echo "bench: $*" >&2; }

# --- what it needs --------------------------------------------------------
# shellcheck source=packaging/packages.sh
source "$repo/packaging/packages.sh"
ensure_packages time curl openssl python3
bin=${1:-}
if [[ -z $bin ]]; then
  say "building bootrino (packaging/build.sh)"
  bin=$(cd "$repo" && packaging/build.sh | tail -n 1)
  [[ $bin == /* ]] || bin=$repo/$bin
fi
[[ -x $bin ]] || { say "no bootrino binary at $bin"; exit 1; }

# --- payload, manifest, nginx ----------------------------------------------
work=$(mktemp -d "${TMPDIR:-/var/tmp}/bootrino-bench.XXXXXX")
stage=""
cleanup() {
  [[ -n $stage ]] && rm -rf "$stage"
  bash "$repo/tests/integration/nginx.sh" stop "$work/nginx" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/www"
names=() total=0 entries=()
for i in "${!sizes[@]}"; do
  name="f$((i + 1)).bin"
  names+=("$name")
  total=$((total + sizes[i]))
  say "making $name (${sizes[i]} MiB of random bytes)"
  head -c "$((sizes[i] << 20))" /dev/urandom >"$work/www/$name"
  entries+=("$(printf '{"url": "%s", "size": %d, "sha256": "%s"}' "$name" "$((sizes[i] << 20))" \
    "$(sha256sum <"$work/www/$name" | cut -d' ' -f1)")")
done
sync  # no writeback of the payload during the runs
initrds=$(IFS=,; echo "${entries[*]:1:1}")
rest=$(IFS=,; echo "${entries[*]:2}")
cat >"$work/www/bootrino.sh" <<EOF
#!/bin/sh
read BOOTRINOJSON <<"BOOTRINOJSONMARKER"
{"name": "bench payload", "version": "1", "boot": {"schema": 1, "architectures": {"x86_64": {
  "kernel": ${entries[0]}, "initrds": [$initrds], "files": [$rest],
  "cmdline": "bench=1"}}}}
BOOTRINOJSONMARKER
EOF
pin=$(sha256sum <"$work/www/bootrino.sh" | cut -d' ' -f1)
say "starting nginx on loopback${LIMIT_RATE:+, limit_rate $LIMIT_RATE per connection}"
LIMIT_RATE=$LIMIT_RATE bash "$repo/tests/integration/nginx.sh" start "$work/nginx" "$work/www" >/dev/null
# shellcheck disable=SC1091
source "$work/nginx/ports.env"
base_url() { [[ $1 == http ]] && echo "http://127.0.0.1:$HTTP_PORT" || echo "https://127.0.0.1:$HTTPS_PORT"; }

# --- one measured run: appends "WALL RSS_KIB CPU_S" to $work/PROTO.TOOL ----
run_one() {  # PROTO TOOL
  local proto=$1 tool=$2 url cmd=() n t0 t1
  url=$(base_url "$proto")
  stage=$(mktemp -d /dev/shm/bootrino-bench.XXXXXX)
  case $tool in
    bootrino)
      cmd=("$bin" fetch "$url/bootrino.sh#sha256=$pin" --stage "$stage" --no-hooks --parallel 4)
      read -r -a extra <<<"${BOOTRINO_FETCH_ARGS:-}"
      cmd+=("${extra[@]}")
      [[ $proto == https ]] && cmd+=(--ca-file "$CA_FILE") ;;
    curl-*)
      # curl 7.88 prints its parallel progress meter despite -s: --no-progress-meter.
      cmd=(curl -sSf --no-progress-meter)
      [[ ${#names[@]} -gt 1 ]] && cmd+=(--parallel --parallel-max 4)
      [[ $proto == https ]] && cmd+=(--cacert "$CA_FILE")
      for n in "${names[@]}"; do
        [[ $tool == curl-null ]] && cmd+=(-o /dev/null "$url/$n") || cmd+=(-o "$stage/$n" "$url/$n")
      done ;;
  esac
  t0=$EPOCHREALTIME
  /usr/bin/time -f '%M %U %S' -o "$work/time.out" "${cmd[@]}" >"$work/out" 2>"$work/err" || {
    say "FAILED: ${cmd[*]}"; cat "$work/err" >&2; exit 1; }
  t1=$EPOCHREALTIME
  if [[ $tool != curl-null ]]; then  # a sanity check outside the timing
    for n in "${names[@]}"; do [[ -s $stage/$n ]] || { say "$tool did not write $n"; exit 1; }; done
  fi
  rm -rf "$stage"
  stage=""
  awk -v a="$t0" -v b="$t1" '{ printf "%.3f %d %.2f\n", b - a, $1, $2 + $3 }' "$work/time.out" \
    >>"$work/$proto.$tool"
}

# Percent of both CPUs busy over 1 s while we do nothing: other work on the machine.
busy_pct() {
  local a b
  a=$(awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat); sleep 1
  b=$(awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x); split(b, y); printf "%.0f", 100 * (y[1] - x[1]) / (y[1] - x[1] + y[2] - x[2]) }'
}
busy_before=$(busy_pct)
say "$RUNS runs x ${#protos[@]} protocols x ${#tools[@]} clients, ${total} MiB each"
for ((r = 0; r < RUNS; r++)); do
  for proto in "${protos[@]}"; do
    for ((k = 0; k < ${#tools[@]}; k++)); do
      tool=${tools[(k + r) % ${#tools[@]}]}
      run_one "$proto" "$tool"
      say "run $((r + 1))/$RUNS $proto $tool: $(tail -n 1 "$work/$proto.$tool") (s KiB cpu-s)"
    done
  done
done

busy_after=$(busy_pct)
# --- results ---------------------------------------------------------------
med() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { cut -d' ' -f"$2" "$work/$1" | med; }
# Median over the runs of the per-run ratio (each bootrino run / the curl run of the same round).
paired() { paste -d' ' "$work/$1.bootrino" "$work/$1.$2" | awk '{ print $1 / $4 }' | med; }
say "SHA-256 benchmark (bench/sha256.sh)"
sha=$(bash "$repo/bench/sha256.sh")

table=$(
  printf '| protocol | client | wall s (median) | MB/s | peak RSS MiB | CPU s |\n|---|---|---|---|---|---|\n'
  for proto in "${protos[@]}"; do
    for tool in "${tools[@]}"; do
      w=$(col "$proto.$tool" 1)
      awk -v p="$proto" -v t="$tool" -v w="$w" -v m="$(col "$proto.$tool" 2)" -v c="$(col "$proto.$tool" 3)" \
        -v b="$((total << 20))" 'BEGIN { printf "| %s | %s | %.2f | %.0f | %.1f | %.2f |\n", p, t, w, b / w / 1e6, m / 1024, c }'
    done
  done
  printf '\n| protocol | bootrino / curl-tmpfs (target) | paired | bootrino / curl-null | paired | RSS < 32 MiB |\n'
  printf '|---|---|---|---|---|---|\n'
  for proto in "${protos[@]}"; do
    # Without curl-null runs (LIMIT_RATE) its columns say "-".
    n=0 pn=0
    [[ -s $work/$proto.curl-null ]] && n=$(col "$proto.curl-null" 1) pn=$(paired "$proto" curl-null)
    target=${proto}_target
    awk -v p="$proto" -v b="$(col "$proto.bootrino" 1)" -v t="$(col "$proto.curl-tmpfs" 1)" -v target="${!target}" \
      -v n="$n" -v pt="$(paired "$proto" curl-tmpfs)" -v pn="$pn" \
      -v m="$(sort -n "$work/$proto.bootrino" -k2 | tail -n 1 | cut -d' ' -f2)" 'BEGIN {
      printf "| %s | %.3f (<= %s) %s | %.3f | %s | %s | %.1f MiB (max) %s |\n", p, b / t, target,
        (b / t <= target ? "PASS" : "MISS"),
        pt, (n ? sprintf("%.3f", b / n) : "-"), (pn ? sprintf("%.3f", pn) : "-"), m / 1024, (m < 32768 ? "PASS" : "MISS") }'
  done
)
sha_verdict=$(awk '/^ratio/ { print $3, ($3 >= 0.85 ? "PASS" : "MISS") }' <<<"$sha")
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
shaext=$(grep -qwE 'sha_ni|sha2' /proc/cpuinfo && echo yes || echo no)
cat <<EOF

## bench/fetch.sh results, $(date -u +%Y-%m-%d)

Machine: $(nproc) CPUs, ${cpu} (SHA extensions: ${shaext}), Linux $(uname -r), $(curl --version | head -n 1 | cut -d' ' -f1-2).
Payload: ${#sizes[@]} file(s), ${SIZES_MIB} MiB (${total} MiB), loopback nginx${LIMIT_RATE:+ with limit_rate ${LIMIT_RATE} per connection}, staged into tmpfs.
CPU busy with other work just before / after the runs: ${busy_before} % / ${busy_after} % (a shared VM: noisy).
Median of ${RUNS} interleaved runs each; "paired" is the median of the per-round ratios.
Targets (HTTP <= ${http_target}, HTTPS <= ${https_target}): bootrino / curl-tmpfs (both write the files to tmpfs).

${table}

SHA-256 (bench/sha256.sh; target: ratio >= 0.85 on CPUs with SHA extensions): ${sha_verdict}

\`\`\`
${sha}
\`\`\`
EOF
