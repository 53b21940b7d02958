#!/usr/bin/env bash
# Time from QEMU start to the RAM OS, split into its parts, over several runs
# of the VM tier's kexec tests (1 vCPU, like CI).
#
#   bench/boot.sh [RUNS]      (default 5 runs per sample OS)
#   VM_ARCH=aarch64 bench/boot.sh [RUNS]   the arm64 guest (tests/vm/test_kexec_arm64.sh, its device-tree
#                                          boot; the aarch64 release binary, packaging/release.sh --arch aarch64)
#
# Per sample OS and accelerator it prints the median of: host boot (QEMU start → the host
# stand-in's network is up), bootrino (its start → the new kernel starting:
# fetch, verify, plan, load, kexec), kexec → the RAM OS's /init, the total, and
# bootrino's own account of its start → loaded kernel, of which the transfer
# and the kernel's kexec_file_load (it copies and hashes every segment), and
# what is left (the target: under 2 s beyond the transfer). Every run is under
# software emulation (tcg, as in CI); where /dev/kvm starts a guest the same runs
# are repeated under KVM, for the figures of a machine at real speed. Needs a built
# binary (packaging/build.sh) and runs the VM fixtures' installer as the tests do.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
runs=${1:-5}
export VM_ARCH=${VM_ARCH:-x86_64} BOOTRINO_SOURCE=$PWD
if [[ $VM_ARCH == aarch64 ]]; then
  export BOOTRINO=${BOOTRINO:-$PWD/build-release/aarch64/agent/bootrino}
  samples=(arm64) qemu=qemu-system-aarch64 kvm_machine=virt
else
  export BOOTRINO=${BOOTRINO:-$PWD/build/agent/bootrino}
  samples=(alpine tinycore) qemu=qemu-system-x86_64 kvm_machine=none
fi
[[ -x $BOOTRINO ]] || { echo "bench: no binary at $BOOTRINO; run packaging/build.sh" >&2; exit 1; }

# KVM where it starts a guest: QEMU with -accel kvm still running after 3 s has initialised it.
accels=(tcg)
if [[ -w /dev/kvm ]]; then
  rc=0
  timeout 3 "$qemu" -accel kvm -machine "$kvm_machine" -display none -monitor none -serial none </dev/null \
    >/dev/null 2>&1 || rc=$?
  ((rc == 124)) && accels+=(kvm)
fi
((${#accels[@]} > 1)) || echo "bench: no usable /dev/kvm here: software emulation (tcg) only" >&2

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }

printf '%s\n' "| sample OS | accel | runs | host boot | bootrino → kexec | kexec → RAM OS | total | bootrino start → loaded | of which transfer | of which the kernel's kexec_file_load | beyond transfer | bootrino's own work |"
printf '|---|---|---|---|---|---|---|---|---|---|---|---|\n'
for accel in "${accels[@]}"; do
for os in "${samples[@]}"; do
  log=$(mktemp)
  for i in $(seq "$runs"); do
    echo "bench: $os ($accel) run $i/$runs" >&2
    # The first kexec of the test (the arm64 test boots twice: device tree, then UEFI).
    VM_ACCEL=$accel bash tests/vm/test_kexec_$os.sh 2>&1 | grep -m1 '^# timings' >>"$log" ||
      { echo "bench: run failed" >&2; exit 1; }
  done
  # "# timings (…): ready=6.5s bootrino-start=6.6s kexec=12.1s bootrino-self=3.2s ramos-up=20.3s"
  field() { sed -nE "s/.* $1=([0-9.]+)s.*/\\1/p" "$log"; }
  paste <(field ready) <(field bootrino-start) <(field kexec) <(field ramos-up) <(field bootrino-self) \
    <(field bootrino-fetch) <(field bootrino-load) >"$log.cols"
  host=$(awk '{print $1}' "$log.cols" | median)
  agent=$(awk '{print $3-$2}' "$log.cols" | median)
  kexec=$(awk '{print $4-$3}' "$log.cols" | median)
  total=$(awk '{print $4}' "$log.cols" | median)
  self=$(awk '{print $5}' "$log.cols" | median)
  transfer=$(awk '{print $6}' "$log.cols" | median)
  load=$(awk '{print $7}' "$log.cols" | median)
  beyond=$(awk '{print $5-$6}' "$log.cols" | median)
  own=$(awk '{print $5-$6-$7}' "$log.cols" | median)
  label=$os-like
  [[ $os != arm64 ]] || label="alpine-like, arm64"
  printf '| %s | %s | %d | %.1f s | %.1f s | %.1f s | %.1f s | %.2f s | %.2f s | %.2f s | %.2f s | %.2f s |\n' \
    "$label" "$accel" "$runs" "$host" "$agent" "$kexec" "$total" "$self" "$transfer" "$load" "$beyond" "$own"
  rm -f "$log" "$log.cols"
done
done
