#!/usr/bin/env bash
# The happy path: a pinned manifest, four files, staged and byte-identical.
source "$(dirname "$0")/lib.sh"
start_fault_server
make_payload os/vmlinuz 300000
make_payload os/initrd.gz 1000000
make_payload os/extra.cpio 70000
make_payload os/boot/modloop 2500000
make_manifest "$WWW/os/bootrino.sh" kernel:os/vmlinuz initrd:os/initrd.gz initrd:os/extra.cpio file:os/boot/modloop
sed -i 's|"url": "os/|"url": "|' "$WWW/os/bootrino.sh"  # URLs relative to the manifest
ref=$(pinned os/bootrino.sh)

run_bootrino 0 fetch "$ref" --stage "$WORK/stage" "${FAST[@]}" --json-events "$WORK/events.jsonl"
for f in vmlinuz initrd.gz extra.cpio boot/modloop; do
  cmp "$WWW/os/$f" "$WORK/stage/os/$f" || fail "staged $f differs from the served file"
done
ok "four files staged byte-identical"
expect_out "staged 4 files, every one verified \(manifest verified by sha256 pin\)"
[[ $(find "$WORK/stage" -name '.bootrino-partial') == "" ]] || fail "partial dir left behind"
cmp "$WWW/os/bootrino.sh" "$WORK/stage/.bootrino/bootrino.sh" || fail "verified manifest not kept"
python3 - "$WORK/stage/.bootrino/stage.json" <<'PY' || fail "stage index is wrong"
import json, sys
index = json.load(open(sys.argv[1]))
names = [f["name"] for f in index["files"]]
assert names == ["os/vmlinuz", "os/initrd.gz", "os/extra.cpio", "os/boot/modloop"], names
assert [f["role"] for f in index["files"]] == ["kernel", "initrd", "initrd", "file"]
assert index["manifest"]["verifiedBy"] == "sha256 pin"
PY
ok "stage index and verified manifest written"
grep -q '"phase":"manifest","status":"verified"' "$WORK/events.jsonl" || fail "no manifest event"
[[ $(grep -c '"status":"file-verified"' "$WORK/events.jsonl") == 4 ]] || fail "want 4 file-verified events"
grep -q '"phase":"stage","status":"ok"' "$WORK/events.jsonl" || fail "no stage ok event"
ok "one JSON event per phase and per verified file"

# Not a terminal: progress comes as periodic lines, ending at 100 %.
expect_err "fetch +os/boot/modloop .*100%"
ok "progress lines on a non-terminal"

# --json prints the index; a second fetch into a non-empty directory is refused.
run_bootrino 0 fetch "$ref" --stage "$WORK/stage2" --json
jsonq --check "$WORK/out" 'len(d["files"]) == 4' || fail "--json"
run_bootrino 2 fetch "$ref" --stage "$WORK/stage2"
expect_err "is not empty"
ok "--json output; non-empty stage dir refused"

# An interrupted earlier stage (its partial dir) does not block a new one.
mkdir -p "$WORK/stage3/.bootrino-partial/os" && echo junk >"$WORK/stage3/.bootrino-partial/os/vmlinuz"
run_bootrino 0 fetch "$ref" --stage "$WORK/stage3"
cmp "$WWW/os/vmlinuz" "$WORK/stage3/os/vmlinuz" || fail "restart after an interrupted stage"
ok "an interrupted stage restarts cleanly"

# On a terminal: live bars redrawn in place (cursor-up escapes), ending at 100 %.
script -qec "'$BOOTRINO' fetch '$ref' --stage '$WORK/stage4'" "$WORK/tty.log" >/dev/null </dev/null ||
  fail "fetch on a pseudo-terminal failed: $(tail -5 "$WORK/tty.log")"
grep -q $'\x1b\\[4A' "$WORK/tty.log" || fail "no in-place redraw on a terminal"
grep -q "os/boot/modloop .*100%" "$WORK/tty.log" || fail "terminal bars did not reach 100 %"
grep -q "^bootrino: fetch " "$WORK/tty.log" && fail "periodic lines on a terminal"
ok "terminal: a live bar per file"

# Proxies come from the environment, as for curl: a dead proxy fails the fetch, no_proxy bypasses it.
dead=$(free_port)
rc=0
http_proxy="http://127.0.0.1:$dead" "$BOOTRINO" inspect "$ref" "${FAST[@]}" --retries 1 >"$WORK/out" 2>"$WORK/err" || rc=$?
[[ $rc == 4 ]] || fail "through a dead proxy: exit $rc, expected 4"
expect_err "127.0.0.1 port $dead"
http_proxy="http://127.0.0.1:$dead" no_proxy=127.0.0.1 run_bootrino 0 inspect "$ref"
ok "http_proxy is honoured and no_proxy bypasses it"

# The hook runs as root on what is staged: a stage directory that others can change is refused.
mkdir "$WORK/open" && chmod 0777 "$WORK/open"
run_bootrino 2 fetch "$ref" --stage "$WORK/open"
expect_err "refusing stage directory .*/open: .*/open is writable by other users \(mode 0777\)"
expect_err "what to do: .*chmod go-w"
mkdir "$WORK/group" && chmod 0770 "$WORK/group"
run_bootrino 2 fetch "$ref" --stage "$WORK/group"
expect_err "is writable by other users \(mode 0770\)"
mkdir "$WORK/theirs" && chown 65534 "$WORK/theirs" && chmod 0755 "$WORK/theirs"
run_bootrino 2 fetch "$ref" --stage "$WORK/theirs"
expect_err "theirs belongs to uid 65534, not to this user"
mkdir "$WORK/shared" && chmod 0777 "$WORK/shared"
run_bootrino 2 fetch "$ref" --stage "$WORK/shared/new/stage"
expect_err "its parent .*/shared is writable by other users"
[[ ! -e $WORK/shared/new ]] || fail "a refused stage directory was created"
mkdir "$WORK/theirs/mine"
run_bootrino 2 fetch "$ref" --stage "$WORK/theirs/mine"
expect_err "its parent .*/theirs belongs to uid 65534"
ln -s "$WORK/open" "$WORK/link-to-open"
run_bootrino 2 fetch "$ref" --stage "$WORK/link-to-open"
expect_err "is writable by other users"
ok "a stage directory others can write or own, or under a parent they can, is refused"
mkdir "$WORK/tmplike" && chmod 1777 "$WORK/tmplike"
run_bootrino 0 fetch "$ref" --stage "$WORK/tmplike/a/b"
[[ $(stat -c %a "$WORK/tmplike/a") == 755 && $(stat -c %a "$WORK/tmplike/a/b") == 755 ]] ||
  fail "created stage directories are not 0755"
ok "under a sticky root-owned parent (like /tmp), a new stage directory is created 0755 and used"

# The directory used is the one checked: a symbolic link in --stage, made to point elsewhere once the
# check has passed (here by the hook itself), changes nothing about where bootrino stages and reads.
make_payload hooked 20000
mkdir -m 0700 "$WORK/real-stage" "$WORK/decoy"
ln -s "$WORK/real-stage" "$WORK/stage-link"
BOOT_EXTRA='"hooks": {"afterStage": {"function": "bootrino_after_stage", "timeoutSeconds": 5}}' \
MANIFEST_TAIL="bootrino_after_stage() { ln -sfn '$WORK/decoy' '$WORK/stage-link'; }
" make_manifest "$WWW/relink.sh" kernel:hooked
run_bootrino 0 fetch "$(pinned relink.sh)" --stage "$WORK/stage-link" --json
[[ -f $WORK/real-stage/hooked ]] || fail "the payload is not in the directory that was checked"
grep -q '"hooked"' "$WORK/out" || fail "the stage index was read through the re-pointed link: $(head -c 200 "$WORK/out")"
[[ -z $(ls -A "$WORK/decoy") ]] || fail "bootrino wrote into the directory the link was re-pointed to"
ok "--stage through a symbolic link: the checked directory is used even after the link changes"
