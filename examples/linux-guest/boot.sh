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
# RDMSR, which the VMM serves; lazy policy unless --pmu-policy naive is
# given), with 256 MiB of RAM. Try `perf stat -e cycles -- ls /`.
#
# Usage: examples/linux-guest/boot.sh [--perf] [vmm run options...]
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${LIBVMM_BUILD:-$ROOT/build}
PERF=0
if [ "${1:-}" = --perf ]; then
	PERF=1
	shift
fi
case ${1:-} in
-h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

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
	MEM=256M
	PMU="--pmu rdmsr"
fi

if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	# shellcheck disable=SC2086
	exec "$BUILD/vmm/vmm" run -m "$MEM" $PMU -k "$KERNEL" -i "$INITRD" -p "$CMDLINE" "$@"
fi
echo "boot.sh: /dev/kvm is not usable here: booting inside the KVM-in-TCG rig (slow)" >&2
"$ROOT/tests/kvm-rig/build-rig.sh" $deps >/dev/null
# shellcheck disable=SC2086
exec "$ROOT/tests/kvm-rig/run-in-tcg.sh" --interactive --timeout 3600 --with "$GUEST" "$BUILD" -- \
	"$BUILD/vmm/vmm" run -m "$MEM" $PMU -k "$KERNEL" -i "$INITRD" -p "$CMDLINE loglevel=4" "$@"
