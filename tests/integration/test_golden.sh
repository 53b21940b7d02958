#!/usr/bin/env bash
# Golden images: packaging/bootrino.service passes `systemd-analyze verify`, and its ExecCondition (run with
# its paths moved into a scratch dir) stamps the first boot whatever happens and lets the unit start only
# when `bootrino userdata` names a manifest. The HCL examples are checked with `terraform fmt` where
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

# ExecCondition's words, as systemd splits them (single quotes, no escapes or specifiers in this line).
line=$(sed -n 's/^ExecCondition=//p' "$UNIT")
[[ $line == "/bin/sh -c '"*"'" && $line != *[%\$\\]* ]] || fail "ExecCondition is not a plain /bin/sh -c '…' line"
script=${line#"/bin/sh -c '"}
script=${script%"'"}
script=${script//\/var\/lib\/bootrino/$WORK/state}
script=${script//\/usr\/local\/bin\/bootrino/$WORK/fake-bootrino}
# A stand-in printing what `bootrino userdata` prints (userdata::ToText), the manifest line from $MANIFEST_LINE.
cat >"$WORK/fake-bootrino" <<'EOF'
#!/bin/sh
[ "$1" = userdata ] || exit 99
echo "source:     /var/lib/cloud/instance/user-data.txt"
echo "$MANIFEST_LINE"
echo "yes:        false"
EOF
chmod +x "$WORK/fake-bootrino"
condition() {  # condition MANIFEST-LINE: the condition's exit status
  local rc=0
  MANIFEST_LINE=$1 /bin/sh -c "$script" || rc=$?
  echo "$rc"
}
[[ $(condition "manifest:   (none)") == 1 ]] || fail "user-data without a manifest does not skip the unit"
[[ -f $WORK/state/first-boot-done ]] || fail "a skipped first boot was not stamped"
rm -rf "$WORK/state"
[[ $(condition "manifest:   https://example.com/os/bootrino.sh#sha256=$(printf '%064d' 0)") == 0 ]] ||
  fail "user-data naming a manifest does not start the unit"
[[ -f $WORK/state/first-boot-done ]] || fail "a first boot that runs bootrino was not stamped"
ok "ExecCondition: stamps every first boot, starts bootrino only when user-data names a manifest"

if command -v terraform >/dev/null; then
  mkdir -p "$WORK/hcl"
  cp "$EXAMPLES/packer/bootrino.pkr.hcl" "$WORK/hcl/packer.tf"  # the same HCL syntax: fmt parses it
  for dir in "$EXAMPLES"/terraform/*/ "$WORK/hcl/"; do
    terraform fmt -check -diff "$dir" >"$WORK/out" 2>"$WORK/err" || fail "terraform fmt -check $dir"
  done
  ok "the Terraform and Packer examples parse and are formatted (terraform fmt -check)"
else
  echo "note - terraform is not installed: the HCL examples were not parsed"
fi
