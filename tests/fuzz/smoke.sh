#!/usr/bin/env bash
# One fuzz target's CI run: replay its seed corpus, then fuzz for
# $BOOTRINO_FUZZ_SECONDS (default 10). New inputs go to a scratch directory,
# never into the tree; a crash leaves its input in $BOOTRINO_FUZZ_ARTIFACTS
# (default: fuzz-artifacts/ beside the fuzzer) and fails the test.
#   smoke.sh FUZZER CORPUS_DIR        (NAME.dict next to corpus/ is used if present)
set -euo pipefail
fuzzer=$1 seeds=$2
here=$(dirname "$(readlink -f "$0")")
name=$(basename "$seeds")
[[ -x $fuzzer ]] || { echo "smoke: $fuzzer is not built (configure with -DBOOTRINO_FUZZ=ON)" >&2; exit 1; }
[[ -d $seeds && -n $(ls -A "$seeds") ]] || { echo "smoke: no seed corpus in $seeds" >&2; exit 1; }
artifacts=${BOOTRINO_FUZZ_ARTIFACTS:-$(dirname "$fuzzer")/fuzz-artifacts}/$name
mkdir -p "$artifacts"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/bootrino-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/corpus"
symbolizer=/usr/lib/llvm-16/bin/llvm-symbolizer  # tests/checked_build.sh installs it
[[ -x $symbolizer ]] && export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$symbolizer}
options=(-max_total_time="${BOOTRINO_FUZZ_SECONDS:-10}" -timeout=10 -rss_limit_mb=2048
         -artifact_prefix="$artifacts/" -print_final_stats=1)
[[ -f $here/$name.dict ]] && options+=(-dict="$here/$name.dict")
rc=0
"$fuzzer" "${options[@]}" "$scratch/corpus" "$seeds" 2>"$scratch/log" || rc=$?
grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)' "$scratch/log" || true
if ((rc != 0)); then
  tail -n 60 "$scratch/log" >&2
  echo "smoke: $name FAILED (exit $rc); the input is in $artifacts/; reproduce: $fuzzer $artifacts/FILE" >&2
fi
exit $rc
