#!/usr/bin/env bash
# Personalisation: the Alpine apkovl and the Tiny Core mydata.tgz that `image` (as `run`) writes to the boot
# partition, read back with mtools, listed with tar -tzvf and extracted with busybox tar as those RAM OSes do;
# the kernel parameters of each boot; the network mode (--network, user-data, DigitalOcean's auto) in
# `run --dry-run`'s plan.
source "$(dirname "$0")/lib.sh"
start_fault_server
make_payload vmlinuz 300000
make_payload initrd.gz 200000
BOOT_EXTRA='"personalisation": "apkovl"' make_manifest "$WWW/alpine.sh" kernel:vmlinuz initrd:initrd.gz
BOOT_EXTRA='"personalisation": "tinycore-mydata"' make_manifest "$WWW/tinycore.sh" kernel:vmlinuz initrd:initrd.gz

# boot_file IMG PATH OUT: copies PATH out of IMG's boot partition (partition 1, 512-byte sectors).
boot_file() {
  local offset
  offset=$(sfdisk -J "$1" | jsonq - "d['partitiontable']['partitions'][0]['start']*512")
  mcopy -n -i "$1@@$offset" "::/$2" "$3" || fail "no $2 on the boot partition of $1"
}

# --- Alpine: bootrino.apkovl.tar.gz at the top of the boot partition, found there by nlplug-findfs.
run_bootrino 0 image "$(pinned alpine.sh)" "$WORK/alpine.img" --size 1G --seed 3
boot_file "$WORK/alpine.img" bootrino.apkovl.tar.gz "$WORK/apkovl.tar.gz"
tar -tzvf "$WORK/apkovl.tar.gz" >"$WORK/apkovl.list" || fail "tar cannot list the apkovl"
for line in '^-rw-r--r-- root/root +0 1970-01-01 00:00 etc/.default_boot_services$' \
  '^-rw-r--r-- root/root .* etc/bootrino/manifest.json$' '^-rw-r--r-- root/root .* etc/network/interfaces$' \
  '^lrwxrwxrwx root/root .* etc/runlevels/boot/networking -> /etc/init.d/networking$'; do
  grep -Eq "$line" "$WORK/apkovl.list" || { cat "$WORK/apkovl.list"; fail "apkovl: no line /$line/"; }
done
grep -q 'root/.ssh\|etc/apk/world\|sshd' "$WORK/apkovl.list" && fail "an image has no SSH keys, so no sshd either"
mkdir "$WORK/alpine-root"
busybox tar -C "$WORK/alpine-root" -xzf "$WORK/apkovl.tar.gz" || fail "busybox tar cannot extract the apkovl"
grep -q '"integration test OS"' "$WORK/alpine-root/etc/bootrino/manifest.json" || fail "apkovl: manifest.json"
grep -q '^iface eth0 inet dhcp$' "$WORK/alpine-root/etc/network/interfaces" || fail "apkovl: interfaces is not dhcp"
[[ $(readlink "$WORK/alpine-root/etc/runlevels/boot/networking") == /etc/init.d/networking ]] || fail "apkovl: networking link"
ok "apkovl: on the boot partition, root-owned, extracted by busybox tar"
mtype -i "$WORK/alpine.img@@$(sfdisk -J "$WORK/alpine.img" | jsonq - "d['partitiontable']['partitions'][0]['start']*512")" \
  ::/loader/entries/bootrino.conf >"$WORK/entry"
grep -q 'apkovl=' "$WORK/entry" && fail "firmware boots find the apkovl themselves: no apkovl= on the disk"
run_bootrino 0 image "$(pinned alpine.sh)" "$WORK/again.img" --size 1G --seed 3
cmp -s "$WORK/alpine.img" "$WORK/again.img" || fail "the same manifest and seed gave a different image (apkovl not reproducible?)"
ok "apkovl: no parameter on the disk's command line; the image is byte-for-byte reproducible"

# --- Tiny Core: tce/mydata.tgz, restored through restore=LABEL=BOOTRINO/tce.
run_bootrino 0 image "$(pinned tinycore.sh)" "$WORK/tc.img" --size 1G --seed 3
boot_file "$WORK/tc.img" tce/mydata.tgz "$WORK/mydata.tgz"
tar -tzvf "$WORK/mydata.tgz" >"$WORK/mydata.list" || fail "tar cannot list mydata.tgz"
grep -Eq '^-rwxrwxr-x root/staff .* opt/bootlocal.sh$' "$WORK/mydata.list" &&
  grep -Eq '^-rw-rw-r-- root/staff .* opt/.filetool.lst$' "$WORK/mydata.list" || { cat "$WORK/mydata.list"; fail "mydata.tgz members"; }
mkdir "$WORK/tc-root"
busybox tar -C "$WORK/tc-root" -xzf "$WORK/mydata.tgz" || fail "busybox tar cannot extract mydata.tgz"
[[ $(stat -c '%u:%g %a' "$WORK/tc-root/opt/bootlocal.sh") == "0:50 775" ]] || fail "bootlocal.sh: $(stat -c '%u:%g %a' "$WORK/tc-root/opt/bootlocal.sh")"
[[ $(cat "$WORK/tc-root/opt/.filetool.lst") == $'opt\nhome' ]] || fail ".filetool.lst: $(cat "$WORK/tc-root/opt/.filetool.lst")"
boot_file "$WORK/tc.img" loader/entries/bootrino.conf "$WORK/tc-entry"
boot_file "$WORK/tc.img" syslinux.cfg "$WORK/tc-syslinux"
grep -q '^options .*restore=LABEL=BOOTRINO/tce' "$WORK/tc-entry" && grep -q 'restore=LABEL=BOOTRINO/tce' "$WORK/tc-syslinux" ||
  fail "the disk's command lines lack restore=LABEL=BOOTRINO/tce"
ok "tinycore: tce/mydata.tgz (root:staff), restore=LABEL=BOOTRINO/tce on both bootloaders"

# --- The plan: keys, hostname and the network from user-data.
key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@it"
userdata_for() {  # MANIFEST NETWORK
  printf '#cloud-config\nbootrino:\n  manifest: %s\n  hostname: ram-01\n  ssh_authorized_keys:\n    - %s\n  options:\n    network: %s\n' \
    "$(pinned "$1")" "$key" "$2" >"$WORK/ud.yaml"
}
field() { jsonq --json "$WORK/out" "$1"; }

userdata_for tinycore.sh dhcp
run_bootrino "$DRY_RUN_RC" run --from-userdata --userdata-file "$WORK/ud.yaml" --dry-run --keep-disk --json
[[ $(field 'd["personalisation"]["kexecParams"]') == '["restore=LABEL=BOOTRINO/tce", "host=ram-01"]' ]] ||
  fail "tinycore kexec params: $(field 'd["personalisation"]["kexecParams"]')"
[[ $(field 'd["network"]["mode"]') == '"dhcp"' ]] || fail "user-data's network: dhcp was not taken"
[[ $(field '"host=ram-01" in d["cmdline"] and "host=ram-01" in d["diskCmdline"]') == true ]] || fail "host= not on both command lines"
[[ $(field '"home/tc" in d["personalisation"]["kexecOnly"]') == true ]] || fail "the kexec boot lacks tc's home"
ok "tinycore plan: host= from user-data, the mydata files in the kexec initrd"

userdata_for alpine.sh static
if ip -4 route show default 2>/dev/null | grep -q .; then
  run_bootrino "$DRY_RUN_RC" run --from-userdata --userdata-file "$WORK/ud.yaml" --dry-run --keep-disk --json
  [[ $(field 'd["network"]["mode"]') == '"static"' ]] || fail "user-data's network: static was not taken"
  [[ $(field 'd["personalisation"]["kexecParams"][0]') == '"apkovl=/bootrino.apkovl.tar.gz"' ]] || fail "no apkovl= for kexec"
  [[ $(field 'd["personalisation"]["kexecParams"][1].startswith("ip=") and d["personalisation"]["diskParams"][0].startswith("ip=")') == true ]] ||
    fail "a static network gives Alpine's initramfs no ip=: $(field 'd["personalisation"]')"
  [[ $(field 'len(d["network"]["interfaces"]) > 0 and d["network"]["interfaces"][0]["name"].startswith("eth")') == true ]] ||
    fail "network.json has no interface"
  ok "alpine plan: static network from user-data, ip= for the initramfs, apkovl= for kexec"
  run_bootrino "$DRY_RUN_RC" run "$(pinned alpine.sh)" --dry-run --keep-disk --no-instance-settings --network static
  expect_out '^  network  static: eth[0-9]+ \(([0-9a-f]{2}:){5}[0-9a-f]{2}, '
  expect_out '^  personal apkovl: 0 SSH key\(s\) in the initrd overlay'
  expect_err "the RAM OS's network: static"
  ok "the text plan shows the static network"
else
  run_bootrino 6 run --from-userdata --userdata-file "$WORK/ud.yaml" --dry-run --keep-disk --json
  expect_err 'no address on a network device'
  ok "static without a network is refused before anything is fetched"
fi

# auto: static on DigitalOcean (DMI says so); elsewhere dhcp only when the host's IPv4 came from DHCP.
mkdir -p "$WORK/do/sys/class/dmi/id"
echo DigitalOcean >"$WORK/do/sys/class/dmi/id/sys_vendor"
if ip -4 route show default 2>/dev/null | grep -q .; then
  BOOTRINO_USERDATA_ROOT="$WORK/do" run_bootrino "$DRY_RUN_RC" run "$(pinned alpine.sh)" --dry-run --keep-disk \
    --no-instance-settings --json
  [[ $(field 'd["network"]["mode"]') == '"static"' ]] || fail "auto on DigitalOcean is not static"
  expect_err "auto: DigitalOcean gives no DHCP"
fi
# Off DigitalOcean, auto follows where this machine's IPv4 came from (a DHCP lease, or not): whichever it is,
# the plan says why, and only a static network gives Alpine's initramfs an ip=.
run_bootrino "$DRY_RUN_RC" run "$(pinned alpine.sh)" --dry-run --keep-disk --no-instance-settings --json
reason=$(field 'd["network"]["reason"]')
[[ $reason == '"'* && $reason != '"DigitalOcean gives no DHCP"' ]] || fail "auto's reason is missing: $reason"
expect_err "the RAM OS's network: .* \\(auto: "
if [[ $reason == '"every interface'* || $reason == '"this host has no address to carry"' ]]; then
  [[ $(field 'd["network"]["mode"]') == '"dhcp"' ]] || fail "auto with DHCP leases is not dhcp: $reason"
  [[ $(field 'any(p.startswith("ip=") for p in d["personalisation"]["kexecParams"])') == false ]] || fail "ip= without a static network"
else
  [[ $(field 'd["network"]["mode"]') == '"static"' ]] || fail "auto without DHCP leases is not static: $reason"
fi
ok "auto: static on DigitalOcean; here $(field 'd["network"]["mode"]') because $reason"

run_bootrino 2 run "$(pinned alpine.sh)" --dry-run --network manual
printf '#cloud-config\nbootrino:\n  manifest: %s\n  options:\n    network: manual\n' "$(pinned alpine.sh)" >"$WORK/bad.yaml"
run_bootrino 2 userdata --file "$WORK/bad.yaml"
expect_err 'must be auto, dhcp or static'
ok "an unknown network mode is a usage error, on the command line and in user-data"
