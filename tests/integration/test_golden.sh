#!/usr/bin/env bash
# Golden images: packaging/bootrino.service passes `systemd-analyze verify`, and its ExecCondition (run with
# its paths moved into a scratch dir) stamps the first boot whatever happens and lets the unit start only
# when `bootrino userdata` finds a manifest in user-data. The HCL examples are checked with `terraform fmt` where
# terraform is installed (Debian does not package it).
source "$(dirname "$0")/lib.sh"
UNIT="$BOOTRINO_SOURCE/packaging/bootrino.service"
EXAMPLES="$BOOTRINO_SOURCE/packaging/examples"
command -v systemd-analyze >/dev/null || fail "systemd-analyze is not installed (package systemd)"

# The unit as installed, but naming the binary under test (verify checks that it is executable).
mkdir -p "$WORK/units"
sed "s|/usr/local/bin/bootrino|$BOOTRINO|g" "$UNIT" >"$WORK/units/bootrino.service"
systemd-analyze verify "$WORK/units/bootrino.service" >"$WORK/out" 2>"$WORK/err" || fail "systemd-analyze verify failed"
[[ ! -s $WORK/err && ! -s $WORK/out ]] || fail "systemd-analyze verify has complaints"
grep -qx "ExecStart=/usr/local/bin/bootrino run --from-userdata --yes" "$UNIT" || fail "ExecStart changed"
grep -qx "ConditionPathExists=!/var/lib/bootrino/first-boot-done" "$UNIT" || fail "the first-boot condition changed"
ok "bootrino.service passes systemd-analyze verify"

# ExecCondition's words, as systemd splits them (single quotes, no escapes or specifiers in this line), run
# with the real binary on user-data under a scratch root (BOOTRINO_USERDATA_ROOT) and the stamp moved there.
line=$(sed -n 's/^ExecCondition=//p' "$UNIT")
[[ $line == "/bin/sh -c '"*"'" && $line != *[%\$\\]* ]] || fail "ExecCondition is not a plain /bin/sh -c '…' line"
script=${line#"/bin/sh -c '"}
script=${script%"'"}
script=${script//\/var\/lib\/bootrino/$WORK/state}
script=${script//\/usr\/local\/bin\/bootrino/$BOOTRINO}
export BOOTRINO_USERDATA_ROOT="$WORK/root"  # never this machine's /var/lib/cloud
saved="$BOOTRINO_USERDATA_ROOT/var/lib/cloud/instance/user-data.txt"
mkdir -p "$(dirname "$saved")"
start_fault_server  # the metadata services, when asked, answer 404 from here
condition() {  # condition: the ExecCondition's exit status; the stamp must be there afterwards
  local rc=0
  rm -rf "$WORK/state"
  /bin/sh -c "$script" 2>"$WORK/err" || rc=$?
  [[ -f $WORK/state/first-boot-done ]] || fail "the first boot was not stamped (condition exit $rc)"
  echo "$rc"
}
printf '#cloud-config\nbootrino:\n  manifest: https://example.com/os/bootrino.sh#sha256=%064d\n' 0 >"$saved"
[[ $(condition) == 0 ]] || fail "user-data naming a manifest does not start the unit"
printf '#!/bin/sh\ncurl -fsSL https://example.com/install.sh | sh -s -- https://example.com/b.sh#sha256=%064d --yes\n' 0 \
  >"$saved"
[[ $(condition) == 0 ]] || fail "a one-liner script naming a manifest does not start the unit"
printf '#cloud-config\nhostname: plain\n' >"$saved"
[[ $(condition) == 1 ]] || fail "cloud-config without bootrino does not skip the unit"
rm "$saved"
[[ $(BOOTRINO_IMDS_URL=$FS_URL condition) == 1 ]] || fail "no user-data anywhere does not skip the unit"
ok "ExecCondition: stamps every first boot, starts bootrino only when user-data names a manifest"

if command -v terraform >/dev/null; then
  mkdir -p "$WORK/hcl"
  cp "$EXAMPLES/packer/bootrino.pkr.hcl" "$WORK/hcl/packer.tf"  # the same HCL syntax: fmt parses it
  for dir in "$EXAMPLES"/terraform/ "$EXAMPLES"/terraform/*/ "$WORK/hcl/"; do
    terraform fmt -check -diff "$dir" >"$WORK/out" 2>"$WORK/err" || fail "terraform fmt -check $dir"
  done
  ok "the Terraform and Packer examples parse and are formatted (terraform fmt -check)"
else
  echo "note - terraform is not installed: the HCL examples were not parsed"
fi
