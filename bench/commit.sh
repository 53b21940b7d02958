#!/usr/bin/env bash
# The disk commit's cost: `bootrino image` writes exactly what the takeover's
# commit writes (boot FAT with the RAM OS's files and bootloaders, ext4 data
# filesystem, GPT, MBR code; fsync'ed) into an image file; dd writes the same
# number of bytes into a file on the same filesystem with conv=fsync.
#
# Usage: bench/commit.sh [BOOTRINO]   (RUNS=5 PAYLOAD_MIB=64 SIZE=8G DIR=/var/tmp)
# Prints bytes written, the medians of both, and their ratio (a markdown row
# for bench/README.md). The issue sets no target; the difference is the
# commit's fixed work (ext4 metadata, signature wipes, GPT, a second fsync).
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
BIN=${1:-$("$ROOT/packaging/build.sh" | tail -n 1)}
[[ $BIN == /* ]] || BIN=$ROOT/$BIN
RUNS=${RUNS:-5} PAYLOAD_MIB=${PAYLOAD_MIB:-64} SIZE=${SIZE:-8G}
WORK=$(mktemp -d "${DIR:-/var/tmp}/bootrino-commit-bench.XXXXXX")
SERVE=$(mktemp -d /dev/shm/bootrino-commit-www.XXXXXX)
trap 'kill $server 2>/dev/null; rm -rf "$WORK" "$SERVE"' EXIT

head -c $((PAYLOAD_MIB * 3 / 4 << 20)) /dev/urandom >"$SERVE/initrd.img"
head -c $((PAYLOAD_MIB / 4 << 20)) /dev/urandom >"$SERVE/vmlinuz"
python3 - "$SERVE" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
f = lambda n: {"url": n, "size": os.path.getsize(f"{d}/{n}"), "sha256": hashlib.sha256(open(f"{d}/{n}", "rb").read()).hexdigest()}
boot = {"schema": 1, "architectures": {"x86_64": {"kernel": f("vmlinuz"), "initrds": [f("initrd.img")], "cmdline": "quiet"}}}
open(f"{d}/bootrino.sh", "w").write('read BOOTRINOJSON <<"BOOTRINOJSONMARKER"\n' + json.dumps({"name": "bench", "boot": boot}) + "\nBOOTRINOJSONMARKER\n")
PY
python3 -m http.server 0 --bind 127.0.0.1 --directory "$SERVE" >"$WORK/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do port=$(sed -nE 's/.*port ([0-9]+).*/\1/p' "$WORK/server.log" | head -1); [[ -n $port ]] && break; sleep 0.1; done
ref="http://127.0.0.1:$port/bootrino.sh#sha256=$(sha256sum <"$SERVE/bootrino.sh" | cut -c1-64)"

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
: >"$WORK/bootrino.s"; : >"$WORK/dd.s"
for i in $(seq "$RUNS"); do
  rm -f "$WORK/disk.img" "$WORK/dd.out"
  "$BIN" image "$ref" "$WORK/disk.img" --size "$SIZE" --seed "$i" --json >"$WORK/out.json" 2>/dev/null
  bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytesWritten"])' "$WORK/out.json")
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' "$WORK/out.json" >>"$WORK/bootrino.s"
  sync
  start=$(date +%s.%N)
  dd if=/dev/zero of="$WORK/dd.out" bs=1M count=$(((bytes + (1 << 20) - 1) >> 20)) conv=fsync status=none
  awk -v end="$(date +%s.%N)" -v start="$start" 'BEGIN { print end - start }' >>"$WORK/dd.s"
  echo "run $i: bootrino $(tail -1 "$WORK/bootrino.s") s, dd $(tail -1 "$WORK/dd.s") s" >&2
done
b=$(median <"$WORK/bootrino.s") d=$(median <"$WORK/dd.s")
echo "| payload | image | bytes written | commit (median of $RUNS) | dd conv=fsync, same bytes | ratio |"
echo "|---|---|---|---|---|---|"
awk -v p="$PAYLOAD_MIB" -v s="$SIZE" -v n="$bytes" -v b="$b" -v d="$d" \
  'BEGIN { printf "| %d MiB | %s sparse | %.1f MiB | %.3f s | %.3f s | %.2f |\n", p, s, n / 1048576, b, d, b / d }'
