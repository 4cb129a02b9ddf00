#!/bin/sh
# Disk and network throughput of libvmm's virtio-mmio devices (virtio-blk
# with io_uring, the default, and with synchronous I/O) against QEMU's
# (-M microvm, virtio-blk-device and virtio-net-device on the same image and
# the same TAP), the same guest kernel and the same load (guest_io: O_DIRECT
# sequential write/read MB/s and 4 KiB random-read IOPS on /dev/vda, TCP
# MB/s guest->host and host->guest), interleaved run by run, medians and
# ratios at the end. Runs natively with a usable /dev/kvm (as root: it makes
# a TAP), else inside the KVM-in-TCG rig, whose times are those of full
# emulation (~40 us per exit): compare the columns, not the absolute values.
# Usage: tests/bench/virtio_bench.sh [BUILD_DIR] [LINUX_DIR] [RUNS] [MIB]
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
LINUX=${2:-}
RUNS=${3:-3}
MIB=${4:-32}
SECONDS_RAND=5
GUEST_IP=10.0.2.15
HOST_IP=10.0.2.1

if [ -z "$LINUX" ]; then
	eval "$("$ROOT/examples/linux-guest/build.sh" --print-paths)"
	LINUX=$(dirname "$KERNEL")
fi
VMM="$BUILD/vmm/vmm"
IO="$BUILD/tests/bench/guest_io"
for f in "$VMM" "$IO" "$LINUX/bzImage" "$LINUX/initrd.cpio" "$LINUX/cmdline"; do
	[ -e "$f" ] || { echo "virtio_bench: missing $f (build first)" >&2; exit 1; }
done
QEMU=$(command -v qemu-system-x86_64 || true)

if [ ! -w /dev/kvm ] && [ "${VIRTIO_BENCH_INSIDE:-}" != 1 ]; then
	[ -n "$QEMU" ] || { echo "virtio_bench: install qemu-system-x86 for the comparison" >&2; exit 1; }
	echo "virtio_bench: no /dev/kvm here: running inside the KVM-in-TCG rig (emulated times)"
	exec "$ROOT/tests/kvm-rig/run-in-tcg.sh" --timeout 3000 --with "$ROOT/tests" \
		--with "$LINUX" --with "$QEMU" --with /usr/share/qemu --with /usr/share/seabios \
		--env VIRTIO_BENCH_INSIDE=1 "$BUILD" -- sh "$ROOT/tests/bench/virtio_bench.sh" \
		"$BUILD" "$LINUX" "$RUNS" "$MIB"
fi

WORK=$(mktemp -d)
NET=0
cleanup() {
	[ "$NET" = 1 ] && busybox tunctl -d vbtap0 >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT

# The guest's side: guest_io and a script run as the initramfs' init.
mkdir -p "$WORK/ov/bin"
cp "$IO" "$WORK/ov/bin/guest_io"
cat >"$WORK/ov/vbench.sh" <<EOF
#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
guest_io seqwrite /dev/vda $MIB
guest_io seqread /dev/vda $MIB
guest_io randread /dev/vda $SECONDS_RAND
if [ -e /sys/class/net/eth0 ]; then
	ip addr add $GUEST_IP/24 dev eth0
	ip link set eth0 up
	guest_io send $HOST_IP 5001 $MIB
	guest_io recv $HOST_IP 5002
fi
poweroff -f
EOF
chmod +x "$WORK/ov/vbench.sh"
(cd "$WORK/ov" && printf 'bin/guest_io\nvbench.sh\n' | busybox cpio -o -H newc >"$WORK/ov.cpio" 2>/dev/null)
cat "$LINUX/initrd.cpio" "$WORK/ov.cpio" >"$WORK/initrd.cpio"
dd if=/dev/zero of="$WORK/disk.img" bs=1M count=$((MIB + 16)) 2>/dev/null
CMDLINE="console=ttyS0 panic=-1 reboot=k libvmm.poweroff_port=0x505 tsc=reliable no_timer_check mitigations=off rdinit=/vbench.sh"

# A TAP on the host's side, if this kernel can give one and the guest's
# kernel has virtio-net.
if grep -q '^CONFIG_VIRTIO_NET=y' "$LINUX/config" 2>/dev/null &&
	busybox tunctl -t vbtap0 >/dev/null 2>&1; then
	NET=1
	busybox ip addr add $HOST_IP/24 dev vbtap0
	busybox ip link set vbtap0 up
else
	echo "virtio_bench: no TAP here or no virtio-net in the guest kernel: disk only"
fi

OUT="$WORK/out"
mkdir -p "$OUT"
# run NAME COMMAND...: one VM, each guest_io figure appended to $OUT/NAME.KEY
run() {
	name=$1
	shift
	if [ "$NET" = 1 ]; then
		timeout 600 "$IO" sink 5001 >"$WORK/sink.log" 2>&1 &
		sink=$!
		timeout 600 "$IO" source 5002 "$MIB" >"$WORK/source.log" 2>&1 &
		source=$!
	fi
	"$@" </dev/null >"$WORK/run.log" 2>&1 || true
	if [ "$NET" = 1 ]; then
		# A guest that failed before connecting leaves them waiting.
		kill "$sink" "$source" 2>/dev/null || true
		wait "$sink" "$source" 2>/dev/null || true
	fi
	for k in seqwrite seqread; do
		v=$(sed -n "s/.*guest_io: $k .*MBps=\([0-9.]*\).*/\1/p" "$WORK/run.log")
		[ -n "$v" ] && echo "$v" >>"$OUT/$name.$k-MBps"
	done
	v=$(sed -n 's/.*guest_io: randread .*iops=\([0-9]*\).*/\1/p' "$WORK/run.log")
	[ -n "$v" ] && echo "$v" >>"$OUT/$name.randread-iops"
	v=$(sed -n 's/.*guest_io: send .*MBps=\([0-9.]*\).*/\1/p' "$WORK/run.log")
	[ -n "$v" ] && echo "$v" >>"$OUT/$name.tcp-to-host-MBps"
	v=$(sed -n 's/.*guest_io: recv .*MBps=\([0-9.]*\).*/\1/p' "$WORK/run.log")
	[ -n "$v" ] && echo "$v" >>"$OUT/$name.tcp-to-guest-MBps"
	echo "  $name: $(grep -h 'guest_io: [a-z]* ' "$WORK/run.log" | sed 's/guest_io: //' |
		awk '{printf "%s%s %s", sep, $1, $NF; sep="; "}')"
	grep -q 'guest_io: seqread' "$WORK/run.log" ||
		{ echo "virtio_bench: $name produced no figures; its output:"; tail -20 "$WORK/run.log"; }
}

i=1
while [ "$i" -le "$RUNS" ]; do
	echo "run $i of $RUNS"
	for io in uring sync; do
		set -- --disk "$WORK/disk.img,io=$io"
		[ "$NET" = 1 ] && set -- "$@" --net tap=vbtap0
		run "libvmm-$io" "$VMM" run -q -m 256M -k "$LINUX/bzImage" -i "$WORK/initrd.cpio" \
			"$@" -p "$CMDLINE"
	done
	if [ -n "$QEMU" ]; then
		set -- -drive id=d0,file="$WORK/disk.img",format=raw,if=none \
			-device virtio-blk-device,drive=d0
		[ "$NET" = 1 ] && set -- "$@" -netdev tap,id=n0,ifname=vbtap0,script=no,downscript=no \
			-device virtio-net-device,netdev=n0
		run qemu-microvm "$QEMU" -M microvm,acpi=off -enable-kvm -cpu host -m 256M -smp 1 \
			-nographic -no-reboot -nodefaults -serial stdio \
			-device isa-debug-exit,iobase=0x505,iosize=1 \
			-kernel "$LINUX/bzImage" -initrd "$WORK/initrd.cpio" -append "$CMDLINE" "$@"
	fi
	i=$((i + 1))
done

median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo
echo "median over $RUNS interleaved runs, $MIB MiB per transfer ($(uname -srm)); higher is better"
printf '  %-20s %12s %12s %12s %14s\n' figure libvmm-uring libvmm-sync qemu-microvm \
	"uring/qemu"
for k in seqwrite-MBps seqread-MBps randread-iops tcp-to-host-MBps tcp-to-guest-MBps; do
	[ -f "$OUT/libvmm-uring.$k" ] || continue
	a=$(median "$OUT/libvmm-uring.$k")
	s=-
	[ -f "$OUT/libvmm-sync.$k" ] && s=$(median "$OUT/libvmm-sync.$k")
	b=-
	ratio=-
	if [ -f "$OUT/qemu-microvm.$k" ]; then
		b=$(median "$OUT/qemu-microvm.$k")
		ratio=$(awk -v a="$a" -v b="$b" 'BEGIN {r = 0; if (b > 0) r = a / b; printf "%.2f", r}')
	fi
	printf '  %-20s %12s %12s %12s %14s\n' "$k" "$a" "$s" "$b" "$ratio"
done
