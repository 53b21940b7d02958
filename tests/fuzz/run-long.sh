#!/usr/bin/env bash
# Long fuzzing runs, one target after another, niced, each for DURATION; the
# results are appended to tests/fuzz/RESULTS.md (date, target, CPU hours, execs,
# crashes). The corpus grows in ~/.cache/bootrino/fuzz/NAME/corpus (seeded
# from corpus/NAME), so each run starts where the last one stopped; a crash
# leaves its input in ~/.cache/bootrino/fuzz/NAME/artifacts and its log in
# last.log there, and is listed in the table.
#   tests/fuzz/run-long.sh DURATION [TARGET...]     DURATION: 600, 10m, 2h; default every target
# Environment: CHECKED_BUILD_DIR (default build-fuzz: an -O1 checked build, faster to
# fuzz than CI's -O0 build-asan), BOOTRINO_CACHE;
# FUZZ_BUILD_DIR=DIR runs the fuzzers already built in DIR (no configure, no build).
set -euo pipefail
self=$(readlink -f "$0")
cd "$(dirname "$self")/../.."
source packaging/packages.sh
ensure_packages time  # /usr/bin/time: the CPU time of each run
[[ $# -ge 1 ]] || { sed -n '2,11p' "$self" | sed 's/^# \{0,1\}//'; exit 2; }
duration=$1
shift
case $duration in
  *h) seconds=$(( ${duration%h} * 3600 )) ;;
  *m) seconds=$(( ${duration%m} * 60 )) ;;
  *) seconds=$duration ;;
esac
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=($(sed -n 's/^bootrino_fuzz_target(\([a-z_0-9]*\).*/\1/p' tests/fuzz/CMakeLists.txt))
fi
build_targets=()
for t in "${targets[@]}"; do build_targets+=("${t}_fuzz"); done
if [[ -n ${FUZZ_BUILD_DIR:-} ]]; then
  dir=$FUZZ_BUILD_DIR
else
  dir=$(CHECKED_BUILD_DIR=${CHECKED_BUILD_DIR:-build-fuzz} CHECKED_BUILD_OPT=${CHECKED_BUILD_OPT:--O1} \
        tests/checked_build.sh "${build_targets[@]}" | tail -n 1)
fi
cache=${BOOTRINO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bootrino}/fuzz
results=tests/fuzz/RESULTS.md
[[ -f $results ]] || printf '%s\n\n%s\n%s\n' "# Fuzzing results (appended by tests/fuzz/run-long.sh)" \
  "| date (UTC) | target | CPU hours | execs | crashes | notes |" "|---|---|---|---|---|---|" >"$results"
failed=0
for t in "${targets[@]}"; do
  work=$cache/$t
  mkdir -p "$work/corpus" "$work/artifacts"
  before=$(ls "$work/artifacts" | wc -l)
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
           -artifact_prefix="$work/artifacts/")
  [[ -f tests/fuzz/$t.dict ]] && options+=(-dict=tests/fuzz/$t.dict)
  echo "run-long: $t for $seconds s (in $work)" >&2
  start=$(date +%s)
  rc=0
  # CPU time, not wall time, is what the table counts: a niced run on a busy machine gets only what is idle.
  # Where the kernel groups scheduling by session (autogroup), nice ranks a process only against its own
  # session, so the fuzzer gets a session of its own and that session's group is niced too.
  /usr/bin/time -f '%U %S' -o "$work/cpu" setsid -w sh -c 'echo 19 >/proc/self/autogroup 2>/dev/null; exec "$@"' \
    sh nice -n 19 "$dir/tests/fuzz/${t}_fuzz" "${options[@]}" "$work/corpus" "tests/fuzz/corpus/$t" \
    2>"$work/last.log" &
  timer=$!
  # In its own session the fuzzer no longer hears the terminal's ^C: pass a stop on to it (time's child).
  trap 'pkill -TERM -P "$timer"; wait "$timer"; exit 130' INT TERM HUP
  wait "$timer" || rc=$?
  trap - INT TERM HUP
  hours=$(tail -n 1 "$work/cpu" | awk '{ printf "%.2f", ($1 + $2) / 3600 }')  # after time's "exited with" line
  wall=$(awk -v s=$(( $(date +%s) - start )) 'BEGIN { printf "%.2f", s / 3600 }')
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/last.log" | tail -n 1)
  crashes=$(( $(ls "$work/artifacts" | wc -l) - before ))
  notes="corpus of $(ls "$work/corpus" | wc -l); $wall h wall"
  if ((rc != 0)); then
    failed=1
    notes="exit $rc: $(grep -m1 -E 'ERROR: |runtime error|invariant failed' "$work/last.log" | cut -c1-100); input in ${work/#$HOME/\~}/artifacts"
    ((crashes > 0)) || crashes=1
  fi
  echo "| $(date -u +%Y-%m-%dT%H:%MZ) | $t | $hours | ${execs:-?} | $crashes | $notes |" | tee -a "$results"
done
exit $failed
