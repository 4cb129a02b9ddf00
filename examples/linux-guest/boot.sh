#!/bin/sh
# The main demo: build vmm and the project's Linux guest when they are not
# built yet (the guest is cached by a hash of its inputs), then boot the
# guest to its shell on this terminal. `poweroff -f` in the guest returns
# here with status 0. Extra arguments go to `vmm run` (e.g. --cpus 2).
# Without a usable /dev/kvm the VM runs inside the KVM-in-TCG rig
# (tests/kvm-rig): the same vmm and guest, at emulation speed.
#
# --perf: the guest also gets Debian's perf (initrd-perf.cpio) and sees the
# virtual PMU: `vmm run --pmu rdmsr` (the guest kernel reads counters by
# RDMSR, which the VMM serves; the default cache policy unless
# --pmu-policy lazy or naive is given), with 256 MiB of RAM. Try
# `perf stat -e cycles -- ls /`.
#
# --disk: the root is on a virtio-blk disk instead of the initramfs:
# `vmm run --disk`, root=/dev/vda. The disk is BUILD/guest-rootfs.ext4
# (guest-rootfs-perf.ext4 with --perf), copied from the built image the
# first time and kept: what the guest writes and syncs is there at the next
# boot. Delete it to start afresh. Inside the rig the VM writes to the
# rig's in-memory copy, which ends with the rig.
#
# Usage: examples/linux-guest/boot.sh [--perf] [--disk] [vmm run options...]
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${LIBVMM_BUILD:-$ROOT/build}
PERF=0
ONDISK=0
while :; do
	case ${1:-} in
	--perf) PERF=1 ;;
	--disk) ONDISK=1 ;;
	-h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
	shift
done

if [ ! -x "$BUILD/vmm/vmm" ]; then
	echo "boot.sh: building vmm in $BUILD" >&2
	[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$ROOT" >&2
	ninja -C "$BUILD" >&2
fi
deps=""
[ "$(id -u)" -eq 0 ] && deps=--install-deps
perf=""
[ "$PERF" = 0 ] || perf=--perf
eval "$("$ROOT/examples/linux-guest/build.sh" $deps $perf --print-paths)"
GUEST=$(dirname "$KERNEL")
CMDLINE=$(cat "$CMDLINE_FILE")
MEM=128M
PMU=""
if [ "$PERF" = 1 ]; then
	INITRD=$INITRD_PERF
	DISK=$DISK_PERF
	MEM=256M
	PMU="--pmu rdmsr"
fi
# The VMM adds virtio_mmio.device= for the disk to the command line itself.
[ "$ONDISK" = 0 ] || CMDLINE="$CMDLINE root=/dev/vda rw init=/init"

if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	if [ "$ONDISK" = 0 ]; then
		# shellcheck disable=SC2086
		exec "$BUILD/vmm/vmm" run -m "$MEM" $PMU -k "$KERNEL" -i "$INITRD" -p "$CMDLINE" "$@"
	fi
	KEPT="$BUILD/guest-$(basename "$DISK")"
	if [ ! -e "$KEPT" ]; then
		cp --sparse=always "$DISK" "$KEPT.tmp" && mv "$KEPT.tmp" "$KEPT"
		echo "boot.sh: root disk $KEPT (a copy of the built image; kept across boots)" >&2
	else
		echo "boot.sh: root disk $KEPT (kept from earlier boots; delete it to start afresh)" >&2
	fi
	# shellcheck disable=SC2086
	exec "$BUILD/vmm/vmm" run -m "$MEM" $PMU -k "$KERNEL" --disk "$KEPT" -p "$CMDLINE" "$@"
fi
echo "boot.sh: /dev/kvm is not usable here: booting inside the KVM-in-TCG rig (slow)" >&2
"$ROOT/tests/kvm-rig/build-rig.sh" $deps >/dev/null
# The rig packs the guest directory into its RAM: the guest writes to that copy.
if [ "$ONDISK" = 0 ]; then
	set -- -i "$INITRD" "$@"
else
	set -- --disk "$DISK" "$@"
fi
# shellcheck disable=SC2086
exec "$ROOT/tests/kvm-rig/run-in-tcg.sh" --interactive --timeout 3600 --with "$GUEST" "$BUILD" -- \
	"$BUILD/vmm/vmm" run -m "$MEM" $PMU -k "$KERNEL" -p "$CMDLINE loglevel=4" "$@"
