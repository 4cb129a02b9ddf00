#!/bin/sh
# Boot benchmark: time from start to the Linux guest's init marker for the
# same kernel and initrd under libvmm (bzImage decompressed in the guest,
# bzImage decompressed on the host, vmlinux via PVH) and under
# qemu-system-x86_64 -enable-kvm (-M pc with the bzImage; -M microvm with the
# vmlinux through PVH, QEMU's fastest form and the reference of the ratios),
# interleaved run by run, with medians. Runs natively with a usable /dev/kvm, else inside the KVM-in-TCG
# rig (tests/kvm-rig), where absolute times are those of full emulation.
# Usage: tests/bench/boot_bench.sh [BUILD_DIR] [LINUX_DIR] [RUNS]
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
LINUX=${2:-}
RUNS=${3:-3}
MARKER="LIBVMM-GUEST-READY"

if [ -z "$LINUX" ]; then
	eval "$("$ROOT/examples/linux-guest/build.sh" --print-paths)"
	LINUX=$(dirname "$KERNEL")
fi
PROBE="$BUILD/tests/integration/startup-probe"
VMM="$BUILD/vmm/vmm"
for f in "$PROBE" "$VMM" "$LINUX/bzImage" "$LINUX/vmlinux" "$LINUX/initrd.cpio" "$LINUX/cmdline"; do
	[ -e "$f" ] || { echo "boot_bench: missing $f (build first)" >&2; exit 1; }
done
QEMU=$(command -v qemu-system-x86_64 || true)

if [ ! -w /dev/kvm ] && [ "${BOOT_BENCH_INSIDE:-}" != 1 ]; then
	[ -n "$QEMU" ] || { echo "boot_bench: install qemu-system-x86 for the comparison" >&2; exit 1; }
	echo "boot_bench: no /dev/kvm here: running inside the KVM-in-TCG rig (emulated times)"
	exec "$ROOT/tests/kvm-rig/run-in-tcg.sh" --timeout 3000 --with "$ROOT/tests" \
		--with "$LINUX" --with "$QEMU" --with /usr/share/qemu --with /usr/share/seabios \
		--env BOOT_BENCH_INSIDE=1 "$BUILD" -- sh "$ROOT/tests/bench/boot_bench.sh" "$BUILD" "$LINUX" "$RUNS"
fi

CMDLINE="$(cat "$LINUX/cmdline") libvmm.autotest"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# run NAME COMMAND...: one boot, marker time appended to $OUT/NAME
run() {
	name=$1
	shift
	line=$("$PROBE" --marker "$MARKER" "$@" </dev/null 2>/dev/null | grep '^startup:')
	ms=$(echo "$line" | sed -n 's/.*marker \([0-9.-]*\) ms.*/\1/p')
	echo "  $name: ${ms} ms to marker"
	echo "$ms" >>"$OUT/$name"
}

i=1
while [ "$i" -le "$RUNS" ]; do
	echo "run $i of $RUNS"
	run vmm-bzimage-guest-decomp "$VMM" run -q -m 128M --no-host-decompress \
		-k "$LINUX/bzImage" -i "$LINUX/initrd.cpio" -p "$CMDLINE"
	run vmm-bzimage-host-decomp "$VMM" run -q -m 128M \
		-k "$LINUX/bzImage" -i "$LINUX/initrd.cpio" -p "$CMDLINE"
	run vmm-vmlinux-pvh "$VMM" run -q -m 128M \
		-k "$LINUX/vmlinux" -i "$LINUX/initrd.cpio" -p "$CMDLINE"
	if [ -n "$QEMU" ]; then
		run qemu-pc-bzimage "$QEMU" -enable-kvm -cpu host -m 128M -smp 1 -nographic \
			-no-reboot -nodefaults -serial stdio \
			-device isa-debug-exit,iobase=0x505,iosize=1 \
			-kernel "$LINUX/bzImage" -initrd "$LINUX/initrd.cpio" -append "$CMDLINE"
		# QEMU's fastest form: microvm, no ACPI, the vmlinux through PVH.
		run qemu-microvm-pvh "$QEMU" -M microvm,acpi=off -enable-kvm -cpu host -m 128M -smp 1 \
			-nographic -no-reboot -nodefaults -serial stdio \
			-device isa-debug-exit,iobase=0x505,iosize=1 \
			-kernel "$LINUX/vmlinux" -initrd "$LINUX/initrd.cpio" -append "$CMDLINE"
	fi
	i=$((i + 1))
done

median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo
echo "median ms to the init marker over $RUNS interleaved runs ($(uname -srm))"
ref=""
[ -f "$OUT/qemu-microvm-pvh" ] && ref=$(median "$OUT/qemu-microvm-pvh")
for name in vmm-bzimage-guest-decomp vmm-bzimage-host-decomp vmm-vmlinux-pvh qemu-pc-bzimage qemu-microvm-pvh; do
	[ -f "$OUT/$name" ] || continue
	med=$(median "$OUT/$name")
	ratio=""
	[ -n "$ref" ] && ratio=$(awk -v a="$med" -v b="$ref" 'BEGIN {printf "%.2f x qemu microvm", a / b}')
	printf '  %-26s %10s ms   %s\n' "$name" "$med" "$ratio"
done
