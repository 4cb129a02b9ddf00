#!/bin/sh
# Integration test of the virtio-mmio devices with the project's Linux
# guest, under `vmm` as a user runs it (seccomp kill, privileges dropped):
#  1. root on virtio-blk: boot from the ext4 image of build.sh, write and
#     sync a file, power off; boot again and read it back; then check it
#     from the host with debugfs (when the host has it);
#  2. a second disk given read-only: the guest sees it read-only and a
#     write to it fails;
#  3. virtio-net on a TAP (made here with busybox tunctl): the guest takes
#     an address and moves 1 MiB each way with a host-side server
#     (guest_io), checked byte for byte in count.
# Usage: linux_virtio_test.sh BUILD_DIR LINUX_DIR
set -u
BUILD=$1
DIR=$2
VMM="$BUILD/vmm/vmm"
IO="$BUILD/tests/bench/guest_io"
fail=0

if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
	echo "skipped: /dev/kvm is not usable here"
	exit 77
fi
for f in "$DIR/bzImage" "$DIR/initrd.cpio" "$DIR/rootfs.ext4" "$IO"; do
	if ! [ -s "$f" ]; then
		echo "skipped: no $f (run examples/linux-guest/build.sh, and ninja -C BUILD for guest_io)"
		exit 77
	fi
done

T=$(mktemp -d)
cleanup() {
	busybox tunctl -d vttap0 >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
BASE="console=ttyS0 panic=-1 reboot=k libvmm.poweroff_port=0x505 tsc=reliable no_timer_check loglevel=4"

check() { # WHAT CONDITION...
	what=$1
	shift
	if "$@"; then
		echo "ok: $what"
	else
		echo "FAILED: $what"
		fail=1
	fi
}

# vm LOG ARGS...: one guest; status in $T/LOG.status
vm() {
	log=$1
	shift
	timeout 600 "$VMM" run -m 256M "$@" </dev/null >"$T/$log" 2>&1
	echo $? >"$T/$log.status"
}

# 1. Persistence across two boots with the root file system on vda.
cp "$DIR/rootfs.ext4" "$T/root.img"
STAMP="libvmm-persist-$$"
vm boot1 -k "$DIR/bzImage" --disk "$T/root.img" \
	-p "$BASE root=/dev/vda rw init=/bin/sh -- -c \"echo $STAMP >/persist.txt; sync; echo WROTE; poweroff -f\""
check "first boot from the disk writes and syncs (status $(cat "$T/boot1.status"))" \
	grep -q '^WROTE' "$T/boot1"
check "first boot ends with a clean power-off" [ "$(cat "$T/boot1.status")" = 0 ]
vm boot2 -k "$DIR/bzImage" --disk "$T/root.img" \
	-p "$BASE root=/dev/vda ro init=/bin/sh -- -c \"cat /persist.txt; poweroff -f\""
check "second boot reads the file back" grep -q "^$STAMP" "$T/boot2"
if command -v debugfs >/dev/null 2>&1; then
	debugfs -R "cat /persist.txt" "$T/root.img" >"$T/debugfs" 2>/dev/null
	check "the host reads the file from the image (debugfs)" grep -q "^$STAMP" "$T/debugfs"
else
	echo "note: no debugfs on this host: the image is not checked from the host"
fi

# 2 and 3 boot the initramfs with guest_io added, a read-only second disk
# and, where a TAP can be made, a network.
mkdir -p "$T/ov/bin"
cp "$IO" "$T/ov/bin/guest_io"
(cd "$T/ov" && echo bin/guest_io | busybox cpio -o -H newc >"$T/ov.cpio" 2>/dev/null)
cat "$DIR/initrd.cpio" "$T/ov.cpio" >"$T/initrd.cpio"
dd if=/dev/zero of="$T/ro.img" bs=1M count=4 2>/dev/null
set -- --disk "$T/root.img" --disk "$T/ro.img,ro"
NET=0
if grep -q '^CONFIG_VIRTIO_NET=y' "$DIR/config" 2>/dev/null && busybox tunctl -t vttap0 >/dev/null 2>&1; then
	NET=1
	busybox ip addr add 10.0.2.1/24 dev vttap0
	busybox ip link set vttap0 up
	set -- "$@" --net tap=vttap0
	# Bounded: a guest that never connects must not hang the test.
	timeout 300 "$IO" sink 5001 >"$T/sink" 2>&1 &
	sink=$!
	timeout 300 "$IO" source 5002 1 >"$T/source" 2>&1 &
	source=$!
else
	echo "note: no TAP (tun) here or no virtio-net in the guest kernel: network not tested"
fi
GUEST='mount -t proc p /proc; mount -t sysfs s /sys; mount -t devtmpfs d /dev;
echo RO=$(cat /sys/block/vdb/ro);
if dd if=/dev/zero of=/dev/vdb bs=512 count=1 conv=fsync 2>/dev/null; then echo RO-WRITE-ACCEPTED; else echo RO-WRITE-REFUSED; fi;
if [ -e /sys/class/net/eth0 ]; then ip addr add 10.0.2.15/24 dev eth0; ip link set eth0 up;
guest_io send 10.0.2.1 5001 1; guest_io recv 10.0.2.1 5002; fi; poweroff -f'
vm devices -k "$DIR/bzImage" -i "$T/initrd.cpio" "$@" \
	-p "$BASE rdinit=/bin/sh -- -c \"$(echo "$GUEST" | tr '\n' ' ')\""
check "guest with three virtio devices powers off cleanly" [ "$(cat "$T/devices.status")" = 0 ]
check "the read-only disk is read-only in the guest" grep -q '^RO=1' "$T/devices"
check "a write to the read-only disk fails" grep -q '^RO-WRITE-REFUSED' "$T/devices"
if [ "$NET" = 1 ]; then
	wait "$sink" "$source" 2>/dev/null
	check "guest -> host: 1 MiB reached the host's server" grep -q 'sink bytes=1048576 ' "$T/sink"
	check "host -> guest: 1 MiB reached the guest" grep -q 'recv bytes=1048576 ' "$T/devices"
	grep -h 'guest_io: ' "$T/devices" "$T/sink" "$T/source"
fi
if [ "$fail" != 0 ]; then
	for f in boot1 boot2 devices; do
		echo "--- $f"
		tail -30 "$T/$f"
	done
fi
exit "$fail"
