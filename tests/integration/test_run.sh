#!/usr/bin/env bash
# run --dry-run: everything fetched into RAM and verified, the plan printed,
# nothing left behind; not enough RAM is refused before any download.
source "$(dirname "$0")/lib.sh"
start_fault_server
make_sample 200000 300000

run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run --json-events "$WORK/events.jsonl"
expect_out "kernel +vmlinuz .*verified"
expect_out "cmdline test=1 .*console=ttyS0 bootrino.id=[0-9a-f]{16}$"
expect_out "^  [0-9]+\. kexec_file_load the kernel"
expect_out "nothing was changed"
# (run_bootrino checks that the run left no stage directory behind.)
grep -q '"phase":"plan","status":"ok".*"initrdParts":2' "$WORK/events.jsonl" || fail "no plan event"
grep -Eq '"phase":"preflight","status":"(ok|refused)"' "$WORK/events.jsonl" || fail "no preflight event"
grep -Eq '"phase":"stage","status":"start".*"dir":"/(run|dev/shm)/bootrino-stage' "$WORK/events.jsonl" ||
  fail "run did not stage on a RAM filesystem"
if [[ $DRY_RUN_RC == 6 ]]; then
  expect_err "kexec is not possible here .*the dry run goes on"
  expect_err "what to do:"
fi
ok "dry run stages in RAM, verifies, prints the plan, leaves nothing (exit $DRY_RUN_RC here)"

# The RAM budget the check counted before the fetch, line by line: the files (500000 bytes), the kexec boot's
# composed initrd (the disk's is composed as the disk is written), kexec_file_load's copies of kernel and
# initrd, and bootrino's headroom.
run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run
expect_out "^  RAM     [0-9.]+ MiB at once, of [0-9.]+ MiB available \(checked before the fetch\):$"
expect_out "^ +0\.5 MiB  the staged files$"
expect_out "^ +0\.3 MiB  the kexec boot's composed initrd \(the disk's is composed as it is written\)$"
expect_out "^  [0-9]\. compose the kexec initrd \(0\.3 MiB\) in RAM; the disk's is composed from the same staged files as it is written$"
expect_out "^ +0\.2 MiB  the kernel's copy made by kexec_file_load$"
expect_out "^ +0\.3 MiB  the initrd's copy made by kexec_file_load$"
expect_out "^ +64\.0 MiB  bootrino itself and working headroom$"
run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run --json
jsonq --check "$WORK/out" 'sum(l["bytes"] for l in d["ram"]["budget"]) == 500000 + 300000 + 200000 + 300000 + (64 << 20)
  and d["ram"]["memAvailable"] > 0' || fail "--json: the RAM budget does not add up"
ok "dry run: the RAM budget, line by line, as the check counted it"

run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run --json
jsonq --check "$WORK/out" 'd["dryRun"] and [f["name"] for f in d["files"]]==["vmlinuz","initrd.gz"]' || fail "--json plan"
ok "--json plan"

# The disk plan: a dry run names the disk holding / and shows the layout it would write; --seed makes
# the plan reproducible, so the one shown is the one `--yes --seed N` writes. (This machine's root disk
# is only looked at, through mountinfo and sysfs.)
run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run --seed 7
grep -E "disk takeover would be refused" "$WORK/err" && fail "this machine's root disk cannot be planned for"
expect_out "^  disk    replace /dev/[a-z0-9]+ \([0-9.]+ MiB, holds /\):$"
expect_out "^          GPT, 512-byte sectors"
expect_out "^            1 boot  FAT32 BOOTRINO .* BIOS \(syslinux\) \+ UEFI \(systemd-boot\)$"
expect_out "^            2 data  ext4  bootrino-data "
expect_out "^  2\. kexec_file_load the kernel, 2 initrd part\(s\) and the command line$"
expect_out "^  [0-9]+\. open /dev/[a-z0-9]+ once and lock it \(flock\), refusing it unless it is still the disk chosen$"
disk_plan() {  # SEED: the dry run's disk plan as JSON
  run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run --seed "$1" --json
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["disk"]; assert d; print(json.dumps(d, sort_keys=True))' \
    "$WORK/out" || fail "no disk plan in the --json dry run"
}
# The plan's steps, in the order Execute takes them: the kernel loaded before anything is changed, the
# old system stopped and the disk opened before the first write, the reboot last.
run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run --seed 7 --json
python3 -c '
import json, sys
steps = [s["step"] for s in json.load(open(sys.argv[1]))["steps"]]
want = ["compose-initrd", "load-kernel", "commit-point", "stop-old-system", "open-disk", "write-disk", "boot"]
assert [s for s in steps if s != "detach"] == want, steps
' "$WORK/out" || fail "the dry run's steps are not the takeover's order"
[[ $(disk_plan 7) == "$(disk_plan 7)" ]] || fail "the same --seed planned different disks"
[[ $(disk_plan 7) != "$(disk_plan 8)" ]] || fail "another --seed planned the same GUIDs"
ok "dry run: the disk holding / and its layout; --seed makes the plan reproducible"

# A payload declared larger than this machine's memory: refused before fetching.
# 512 GiB: under the 1 TiB file limit, over any RAM here.
make_manifest "$WWW/huge.sh" kernel:vmlinuz --set "boot.architectures.x86_64.kernel.size=$((1 << 39))" \
  --set-string "boot.architectures.x86_64.kernel.sha256=$(printf 'a%.0s' {1..64})"
before=$(requests_for '"/vmlinuz"' | wc -l)
run_bootrino 5 run "$(pinned huge.sh)" --dry-run
expect_err "the takeover needs .* MiB of RAM at once .* but only .* MiB is available"
[[ $(requests_for '"/vmlinuz"' | wc -l) == "$before" ]] || fail "fetched although it cannot fit"
run_bootrino 5 fetch "$(pinned huge.sh)" --stage "$WORK/s"
expect_nothing_staged "$WORK/s"
ok "not enough RAM: exit 5 before any payload request"

# One run at a time: a second run while the first is fetching is refused, and
# the first goes on undisturbed.
make_manifest "$WWW/slow.sh" kernel:vmlinuz:/_f/stall=3@1000,once/vmlinuz
"$BOOTRINO" run "$(pinned slow.sh)" --dry-run >"$WORK/first.out" 2>"$WORK/first.err" &
first=$!
# (The server logs a request when it ends; the first run says when it starts fetching.)
for _ in $(seq 100); do grep -q "^bootrino: fetching" "$WORK/first.err" 2>/dev/null && break; sleep 0.1; done
grep -q "^bootrino: fetching" "$WORK/first.err" || fail "the first run never reached its payload"
run_bootrino 6 run "$ref" --dry-run
expect_err "another bootrino run is in progress \(pid $first\)"
expect_err "what to do: wait for it to finish"
rc=0
wait "$first" || rc=$?
[[ $rc == "$DRY_RUN_RC" ]] || fail "the first run exited $rc, expected $DRY_RUN_RC: $(tail -3 "$WORK/first.err")"
expect_no_stage_left "$first"
run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run
ok "a second run while one is in progress is refused (exit 6); the first completes; then runs are free again"
