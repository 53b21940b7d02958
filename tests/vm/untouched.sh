# shellcheck shell=bash disable=SC2034  # REF, EXTRA_APPEND, HOST_ROOT_MODE … are lib.sh's
# Shared by test_disk_untouched.sh and test_faults_untouched.sh (source it after lib.sh): every
# failure before bootrino's commit point leaves the host disk byte-identical and the host running.
# The host boots from its own disk (a private_disk) like a cloud image, and bootrino runs WITHOUT
# --keep-disk, so it would replace that disk had it got as far as the commit. The host's root is
# mounted read-only, so that only bootrino could change the image.
#
#   untouched_setup                       the private disk and its digest; serves $FIX/www
#   REF=$(pinned faults/hook-fails.sh)
#   untouched CASE EXIT MESSAGE_RE [KERNEL_PARAM...]
#       one boot of the disk host: bootrino exits EXIT, its "bootrino: error:" line matches
#       MESSAGE_RE, it says what to do, it never began the commit, the host goes on
#       (BOOTRINO-HOST-ALIVE) and the image's digest is unchanged. MEM and CASE_ARGS (an array:
#       more bootrino arguments, after the fast-retry ones) apply to this boot.
#   untouched_final_boot                  after the last case: the file system is clean and the
#                                         image boots once more, normally (root rw), to
#                                         BOOTRINO-HOST-READY and BOOTRINO-HOST-ALIVE

# image_digest IMG: sha256 over IMG's size and each data extent (tests/lib/image_digest.py): equal
# digests mean equal bytes, and only the allocated ~40 MiB of the 2 GiB sparse host disk are read
# (sha256sum reads all 2 GiB: ~30 s on a busy CI machine, per hash).
image_digest() { python3 "$TESTS_LIB/image_digest.py" "$1"; }

untouched_setup() {
  private_disk
  HOST_ROOT_MODE=ro
  UNTOUCHED_DIGEST=$(image_digest "$HOST_DISK")
  [[ -n $UNTOUCHED_DIGEST ]] || fail "could not digest $HOST_DISK"
  serve "$FIX/www"
  CASE_ARGS=()
}

untouched() {
  local case=$1 want=$2 msg=$3 got i args=()
  shift 3
  # GUEST_FAST's option-value pairs, less those CASE_ARGS sets again (bootrino takes each once).
  for ((i = 0; i < ${#GUEST_FAST[@]}; i += 2)); do
    [[ " ${CASE_ARGS[*]} " == *" ${GUEST_FAST[i]} "* ]] || args+=("${GUEST_FAST[@]:i:2}")
  done
  EXTRA_APPEND="$* bootrino.cmd=$VM_CMD $(host_args "${args[@]}" "${CASE_ARGS[@]}")"
  local t0=$SECONDS
  boot_host_disk "$HOST_DISK"
  wait_for '^BOOTRINO-HOST-READY' 120 "$case-ready"
  wait_for '^BOOTRINO-HOST-EXIT=' 300 "$case-exit"
  got=$(console_value BOOTRINO-HOST-EXIT=)
  [[ $got == "$want" ]] || fail "$case: bootrino exited $got, expected $want"
  expect_seen "^bootrino: error: .*$msg"
  expect_seen '^bootrino: what to do: '
  expect_not_seen '^bootrino: replacing '
  wait_for '^BOOTRINO-HOST-ALIVE' 30
  stop_vm
  [[ $(image_digest "$HOST_DISK") == "$UNTOUCHED_DIGEST" ]] || fail "$case: the host disk changed"
  TIMINGS+=("$case=$((SECONDS - t0))s")
  ok "$case: exit $want, '$(tr -d '\r' <"$SERIAL" | grep -m1 '^bootrino: error: ' | cut -c18-)'; the host went on, its disk is byte-identical"
}

untouched_final_boot() {
  [[ $(image_digest "$HOST_DISK") == "$UNTOUCHED_DIGEST" ]] || fail "the host disk changed"
  e2fsck -fn "$HOST_DISK?offset=$HOST_ROOT_OFFSET" >"$WORK/e2fsck.log" 2>&1 ||
    fail "e2fsck finds the host's root file system damaged: $(tail -n 5 "$WORK/e2fsck.log")"
  local t0=$SECONDS
  REF='' HOST_ROOT_MODE=rw EXTRA_APPEND='' boot_host_disk "$HOST_DISK"
  wait_for '^BOOTRINO-HOST-READY' 120 final-boot-ready
  wait_for '^BOOTRINO-HOST-ALIVE' 30
  # mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... - FSTYPE SOURCE SUPEROPTIONS
  expect_seen '^HOST-ROOT: [0-9]+ [0-9]+ [0-9:]+ / / rw[, ].* - ext4 /dev/vda1 '
  stop_vm
  TIMINGS+=("final-boot=$((SECONDS - t0))s")
  ok "after every failure the host disk still boots: root /dev/vda1 rw, BOOTRINO-HOST-READY"
}
