# Sourced by the project's scripts: install Debian packages that are missing,
# quietly, refreshing the package lists only when an install needs it.
#   ensure_packages PKG...
# Debian's nginx (and other daemons) start a system service on install; the
# tests run their own, so services are kept from starting while installing.
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  echo "installing ${missing[*]}" >&2
  local sudo=""
  [[ $EUID -eq 0 ]] || sudo=sudo
  local policy=/usr/sbin/policy-rc.d created=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy" && created=1
  fi
  local rc=0
  # Another apt (a parallel job, unattended-upgrades) may hold the lock: wait for it.
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=600)
  $sudo "${apt[@]}" install --no-install-recommends "${missing[@]}" >&2 ||
    { $sudo "${apt[@]}" update >&2 && $sudo "${apt[@]}" install --no-install-recommends "${missing[@]}" >&2; } ||
    rc=$?
  ((created)) && $sudo rm -f "$policy"
  return $rc
}
