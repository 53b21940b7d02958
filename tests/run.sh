#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this).
# On a fresh Debian/Ubuntu machine it installs what it needs, builds the
# static binary (dependencies cached in ~/.cache/bootrino), then runs every
# ctest tier. A tier that cannot run fails loudly; nothing is skipped silently.
#   tests/run.sh              every tier
#   tests/run.sh unit         one tier (unit, integration)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
BUILD_DIR=${BUILD_DIR:-build}
export BUILD_DIR
tier=${1:-}

PACKAGES=(openssl python3 nginx curl cpio bsdutils)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "tests: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Debian's nginx starts a system service on install; tests run their own.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -q --no-install-recommends "${missing[@]}" ||
    { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; }
  rm -f /usr/sbin/policy-rc.d
fi

echo "tests: building"
packaging/build.sh >/dev/null
echo "tests: running ${tier:-every} tier"
cd "$BUILD_DIR"
if [[ -n $tier ]]; then
  exec ctest --output-on-failure --no-tests=error -L "^${tier}\$"
fi
exec ctest --output-on-failure --no-tests=error
