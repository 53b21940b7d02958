#!/bin/bash
# Each library (a top-level folder whose CMakeLists.txt has add_library) has one public header, LIB/LIB.h, that
# says what the library is for and includes its public headers. Code outside LIB, an executable's sources in
# LIB's folder too (add_executable there, e.g. agent/main.cc), includes "LIB/LIB.h" for LIB's declarations,
# never another of LIB's headers: what a library offers stays in one place, and its other headers may change.
# Tests (tests/) may include any header. Prints FILE:LINE and what to include instead for each violation.
# Usage: public_headers.sh [SOURCE_DIR]   (default: the repository this script is in)
set -euo pipefail

root=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
cd "$root"

libraries=()
for cmake in */CMakeLists.txt; do
  dir=${cmake%/CMakeLists.txt}
  [[ $dir == tests ]] && continue
  grep -q '^add_library(' "$cmake" && libraries+=("$dir")
done
if ((${#libraries[@]} == 0)); then
  echo "public_headers.sh: no library folders under $root (is it the source tree?)" >&2
  exit 2
fi

is_library() {
  local l
  for l in "${libraries[@]}"; do [[ $l == "$1" ]] && return 0; done
  return 1
}

# Sources an add_executable in FOLDER/CMakeLists.txt names: not the library's own.
executable_sources() {
  tr '\n' ' ' <"$1/CMakeLists.txt" | grep -o 'add_executable([^)]*)' | tr ' ()' '\n\n\n' | grep -E '\.(cc|c|cpp)$' || true
}

violations=0
for dir in */; do
  dir=${dir%/}
  case $dir in tests | build* | docs) continue ;; esac
  executables=""
  [[ -f $dir/CMakeLists.txt ]] && executables=$(executable_sources "$dir")
  while IFS= read -r -d '' file; do
    owner=$dir
    if ! is_library "$dir" || grep -qxF "${file#"$dir"/}" <<<"$executables"; then owner=""; fi
    while IFS=: read -r line lib header; do
      is_library "$lib" || continue
      [[ $lib == "$owner" || $header == "$lib" ]] && continue
      echo "$file:$line: includes \"$lib/$header.h\"; outside $lib/ include \"$lib/$lib.h\" (its public header)" \
        "instead, and add $header.h there if it is part of what $lib offers"
      violations=$((violations + 1))
    done < <(grep -n -o -E '^[[:space:]]*#[[:space:]]*include[[:space:]]+"[a-z_0-9]+/[a-z_0-9]+\.h"' "$file" |
      sed -E 's/^([0-9]+):.*"([a-z_0-9]+)\/([a-z_0-9]+)\.h"/\1:\2:\3/')
  done < <(find "$dir" -type f \( -name '*.h' -o -name '*.cc' -o -name '*.c' -o -name '*.cpp' \) -print0 | sort -z)
done

if ((violations > 0)); then
  echo "public_headers.sh: $violations include(s) of another library's internal header" >&2
  exit 1
fi
echo "public_headers.sh: every file outside a library includes only its LIB/LIB.h (${libraries[*]})"
