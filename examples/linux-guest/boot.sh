#!/bin/sh
# The main demo: build vmm and the project's Linux guest when they are not
# built yet (the guest is cached by a hash of its inputs), then boot the
# guest to its shell on this terminal. `poweroff -f` in the guest returns
# here with status 0. Extra arguments go to `vmm run` (e.g. --cpus 2).
# Without a usable /dev/kvm the VM runs inside the KVM-in-TCG rig
# (tests/kvm-rig): the same vmm and guest, at emulation speed.
# Usage: examples/linux-guest/boot.sh [vmm run options...]
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${LIBVMM_BUILD:-$ROOT/build}

if [ ! -x "$BUILD/vmm/vmm" ]; then
	echo "boot.sh: building vmm in $BUILD" >&2
	[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$ROOT" >&2
	ninja -C "$BUILD" >&2
fi
deps=""
[ "$(id -u)" -eq 0 ] && deps=--install-deps
eval "$("$ROOT/examples/linux-guest/build.sh" $deps --print-paths)"
GUEST=$(dirname "$KERNEL")
CMDLINE=$(cat "$CMDLINE_FILE")

if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	exec "$BUILD/vmm/vmm" run -m 128M -k "$KERNEL" -i "$INITRD" -p "$CMDLINE" "$@"
fi
echo "boot.sh: /dev/kvm is not usable here: booting inside the KVM-in-TCG rig (slow)" >&2
"$ROOT/tests/kvm-rig/build-rig.sh" $deps >/dev/null
exec "$ROOT/tests/kvm-rig/run-in-tcg.sh" --interactive --timeout 3600 --with "$GUEST" "$BUILD" -- \
	"$BUILD/vmm/vmm" run -m 128M -k "$KERNEL" -i "$INITRD" -p "$CMDLINE loglevel=4" "$@"
