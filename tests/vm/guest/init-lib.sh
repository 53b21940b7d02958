# shellcheck shell=sh
# bootrino VM tests: what the guests' busybox inits share (host-init.sh, disk-boot-init.sh, ramos-init.sh),
# sourced from /lib/init-lib.sh: tests/vm/fixtures.sh puts it into each of their trees.

# load_modules LIST WHO: each module LIST names (one a line, in load order; plain /lib/modules/NAME.ko, as
# fixtures.sh's collect_modules leaves them) that is not loaded yet. One that does not load is named on the
# console as "WHO: insmod NAME failed: WHY"; whatever needed it then fails with its own message.
load_modules() {
  local m err
  while read -r m; do
    # /sys/module spells every module name with underscores, some .ko files with dashes.
    [ -d "/sys/module/$(echo "$m" | tr - _)" ] && continue
    err=$(insmod "/lib/modules/$m.ko" 2>&1) || echo "$2: insmod $m failed: $err"
  done <"$1"
}

# wait_block SPEC SECONDS: the block device SPEC (LABEL=…, UUID=… or a /dev path) names, printed once it is
# there: drivers probe disks in the background. Nothing printed and status 1 after SECONDS without it.
wait_block() {
  local dev i=0
  while :; do
    case $1 in
      LABEL=* | UUID=*) dev=$(findfs "$1" 2>/dev/null) ;;
      *) dev=$1 ;;
    esac
    if [ -n "$dev" ] && [ -b "$dev" ]; then
      echo "$dev"
      return 0
    fi
    i=$((i + 1))
    [ $i -le $(($2 * 10)) ] || return 1
    sleep 0.1
  done
}

# block_devices: the kernel's block devices on one line, for the message of a wait_block that gave up.
block_devices() { ls /sys/class/block | tr '\n' ' '; }
