#!/usr/bin/env bash
# examples/linux-guest/build.sh - build libvmm's small Linux guest from Debian
# packages only: a kernel from linux-source-6.1 (tinyconfig + guest.config +
# patches/*.patch) and an uncompressed busybox-static initramfs running ./init.
#
# Outputs (bzImage, vmlinux, initrd.cpio, rootfs.ext4, cmdline, config,
# System.map, and with --perf initrd-perf.cpio and rootfs-perf.ext4) are
# cached in
# ${LIBVMM_GUEST_CACHE:-$HOME/.cache/libvmm-guest}/<hash>/. The kernel is
# cached on its own (kernel-<khash>/), keyed by guest.config, patches/,
# KERNEL_RECIPE below, the linux-source-6.1 version and the compiler version,
# so a change to init or to the initramfs never rebuilds it. A run whose
# outputs are cached builds nothing and only prints the paths.
#
# --perf also builds initrd-perf.cpio: initrd.cpio followed by a second
# archive with Debian's perf (package linux-perf: the binary, its shared
# libraries and the dynamic loader, ~30 MB uncompressed) and the guest sides
# of the perf self-test and benchmark (perf-selftest.sh, perf-bench.sh).
# Linux unpacks both archives.
#
# rootfs.ext4 is a raw ext4 disk image holding the initramfs' tree (device
# nodes aside: the kernel mounts devtmpfs on its /dev), for booting with the
# root on a virtio-blk disk: root=/dev/vda rw init=/init. It is made by
# mkfs.ext4 -d, without root or a mount; its size is the contents plus
# ROOTFS_FREE_MIB for the guest to write to. rootfs-perf.ext4 (--perf) adds
# what initrd-perf.cpio adds. Boot a copy, or read-only: a guest writes to it.
#
# Usage: build.sh [--out DIR] [--jobs N] [--perf] [--print-paths] [--no-build]
#                 [--force] [--keep-tree] [--install-deps] [-h|--help]
#
# Progress and messages go to stderr; with --print-paths, stdout carries only
# KERNEL=... VMLINUX=... INITRD=... DISK=... CMDLINE_FILE=... (and
# INITRD_PERF=... DISK_PERF=...) lines for scripts.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG=${0##*/}

KPKG=linux-source-6.1
TARBALL=/usr/src/linux-source-6.1.tar.xz
BBPKG=busybox-static
BUSYBOX=/bin/busybox
DEPS=(linux-source-6.1 busybox-static build-essential bc bison flex libelf-dev
      libssl-dev cpio xz-utils patch util-linux e2fsprogs)
PERF_DEPS=(linux-perf)
# Bump when the kernel build steps of this script change what they produce:
# the kernel's cache key covers this, not the whole script.
KERNEL_RECIPE=2
# Free space on the root disks, beyond their contents (perf.data, test files).
ROOTFS_FREE_MIB=64

# Recommended kernel command line, written to <out>/cmdline.
# - console/earlyprintk: all output on the 8250 at 0x3f8 (ttyS0).
# - panic=-1: a panic reboots at once (the VMM ends the VM) instead of hanging.
# - reboot=k: reboot through the i8042 reset line (libvmm emulates it).
# - libvmm.poweroff_port=0x505: `poweroff` writes to port 0x505 (patch 0001).
# - tsc=reliable no_timer_check io_delay=none mitigations=off: skip the
#   clocksource watchdog, the IO-APIC timer check, port-0x80 delays and
#   mitigation set-up (each costs VM exits or emulated code). No `nokaslr`:
#   the kernel has no KASLR (RANDOMIZE_BASE=n), it would only be handed to
#   /init as an unknown parameter.
# - clearcpuid=...: workaround for software-assisted (kvm_pvm) nested hosts,
#   whose emulator cannot execute XRSTOR(S)/POPCNT/CLAC in guest kernel mode. Harmless elsewhere (a few
#   unused CPU features); drop it once the hosts are fixed.
CMDLINE="console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1 reboot=k"
CMDLINE+=" libvmm.poweroff_port=0x505 tsc=reliable no_timer_check io_delay=none"
CMDLINE+=" mitigations=off"
CMDLINE+=" clearcpuid=xsave,popcnt,smap,rdrand,rdseed,rdpid,fsgsbase,rdtscp,pcid,invpcid,3dnowprefetch"

# Fixed build identity so that the same inputs give the same images.
export KBUILD_BUILD_USER=libvmm KBUILD_BUILD_HOST=libvmm
export KBUILD_BUILD_TIMESTAMP="2024-01-01 00:00:00 UTC"
EPOCH=1704067200

die() { echo "$PROG: error: $*" >&2; exit 1; }
msg() { echo "$PROG: $*" >&2; }

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

OUT= JOBS=$(nproc 2>/dev/null || echo 2) PRINT=0 NOBUILD=0 FORCE=0 KEEP=0 INSTALL=0 PERF=0
while [ $# -gt 0 ]; do
	case $1 in
	--out) [ $# -ge 2 ] || die "--out needs a directory"; OUT=$2; shift ;;
	--out=*) OUT=${1#*=} ;;
	--jobs|-j) [ $# -ge 2 ] || die "--jobs needs a number"; JOBS=$2; shift ;;
	--jobs=*) JOBS=${1#*=} ;;
	--print-paths) PRINT=1 ;;
	--perf) PERF=1 ;;
	--no-build) NOBUILD=1 ;;
	--force) FORCE=1 ;;
	--keep-tree) KEEP=1 ;;
	--install-deps) INSTALL=1 ;;
	-h|--help) usage; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "--jobs wants a positive number, got '$JOBS'"

# ---- dependencies ---------------------------------------------------------
if [ "$INSTALL" = 1 ]; then
	SUDO=
	[ "$(id -u)" = 0 ] || SUDO=sudo
	[ "$PERF" = 0 ] || DEPS+=("${PERF_DEPS[@]}")
	msg "installing: ${DEPS[*]}"
	$SUDO apt-get install -y "${DEPS[@]}" >&2 ||
		{ $SUDO apt-get update >&2 && $SUDO apt-get install -y "${DEPS[@]}" >&2; } ||
		die "apt-get install failed"
fi

pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }
KVERSION=$(pkgver "$KPKG")
BBVERSION=$(pkgver "$BBPKG")
E2VERSION=$(pkgver e2fsprogs)
[ -n "$KVERSION" ] && [ -f "$TARBALL" ] ||
	die "$KPKG not installed (no $TARBALL): run with --install-deps"
[ -n "$BBVERSION" ] && [ -x "$BUSYBOX" ] ||
	die "$BBPKG not installed (no $BUSYBOX): run with --install-deps"
missing=()
for t in gcc make bison flex bc tar xz patch sha256sum flock perl; do
	command -v "$t" >/dev/null || missing+=("$t")
done
[ -f /usr/include/gelf.h ] || missing+=("libelf-dev")
[ -f /usr/include/openssl/opensslv.h ] || missing+=("libssl-dev")
# In /sbin, which a user's PATH may lack.
MKFS_EXT4=$(PATH=$PATH:/sbin:/usr/sbin command -v mkfs.ext4 || true)
DEBUGFS=$(PATH=$PATH:/sbin:/usr/sbin command -v debugfs || true)
[ -n "$MKFS_EXT4" ] && [ -n "$DEBUGFS" ] && [ -n "$E2VERSION" ] || missing+=("e2fsprogs")
[ ${#missing[@]} = 0 ] || die "missing build tools: ${missing[*]}: run with --install-deps"
PERF_BIN=/usr/bin/perf
PERFVERSION=
if [ "$PERF" = 1 ]; then
	PERFVERSION=$(pkgver linux-perf)
	[ -n "$PERFVERSION" ] && [ -x "$PERF_BIN" ] && file -L "$PERF_BIN" 2>/dev/null | grep -q ELF ||
		die "linux-perf not installed (no ELF $PERF_BIN): run with --install-deps --perf"
	command -v ldd >/dev/null || die "ldd not found"
fi

# ---- cache keys -------------------------------------------------------------
shopt -s nullglob
PATCHES=("$HERE"/patches/*.patch)
shopt -u nullglob
hash_files() { # FILE... : names (relative to HERE) and contents
	local f
	for f in "$@"; do
		printf '%s\n' "${f#"$HERE"/}"
		sha256sum <"$f"
	done
}
KHASH=$(
	{
		echo "recipe $KERNEL_RECIPE"
		hash_files "$HERE/guest.config" "${PATCHES[@]}"
		echo "$KPKG $KVERSION"
		gcc --version | head -n1
	} | sha256sum | cut -c1-16
)
HASH=$(
	{
		echo "kernel $KHASH"
		hash_files "$HERE/build.sh" "$HERE/init" "$HERE/perf-selftest.sh" "$HERE/perf-bench.sh"
		echo "$BBPKG $BBVERSION"
		echo "e2fsprogs $E2VERSION"
		[ "$PERF" = 0 ] || echo "linux-perf $PERFVERSION"
	} | sha256sum | cut -c1-16
)
CACHE=${LIBVMM_GUEST_CACHE:-$HOME/.cache/libvmm-guest}
DEST=$CACHE/$HASH
KDEST=$CACHE/kernel-$KHASH
KOUTPUTS=(bzImage vmlinux System.map config)
KTOOLS=(gen_init_cpio)
OUTPUTS=(bzImage vmlinux initrd.cpio rootfs.ext4 cmdline)
[ "$PERF" = 0 ] || OUTPUTS+=(initrd-perf.cpio rootfs-perf.ext4)

print_paths() {
	local d=$1
	if [ "$PRINT" = 1 ]; then
		echo "KERNEL=$d/bzImage"
		echo "VMLINUX=$d/vmlinux"
		echo "INITRD=$d/initrd.cpio"
		echo "DISK=$d/rootfs.ext4"
		echo "CMDLINE_FILE=$d/cmdline"
		[ "$PERF" = 0 ] || echo "INITRD_PERF=$d/initrd-perf.cpio"
		[ "$PERF" = 0 ] || echo "DISK_PERF=$d/rootfs-perf.ext4"
	else
		msg "kernel:  $d/bzImage ($(stat -c %s "$d/bzImage") bytes)"
		msg "vmlinux: $d/vmlinux ($(stat -c %s "$d/vmlinux") bytes)"
		msg "initrd:  $d/initrd.cpio ($(stat -c %s "$d/initrd.cpio") bytes)"
		msg "disk:    $d/rootfs.ext4 ($(stat -c %s "$d/rootfs.ext4") bytes)"
		msg "cmdline: $d/cmdline: $(cat "$d/cmdline")"
		[ "$PERF" = 0 ] ||
			msg "perf:    $d/initrd-perf.cpio ($(stat -c %s "$d/initrd-perf.cpio") bytes)"
		[ "$PERF" = 0 ] ||
			msg "perf:    $d/rootfs-perf.ext4 ($(stat -c %s "$d/rootfs-perf.ext4") bytes)"
	fi
}

finish() {
	local d=$DEST
	if [ -n "$OUT" ]; then
		mkdir -p "$OUT"
		for f in "${OUTPUTS[@]}" config System.map; do
			cp -f "$DEST/$f" "$OUT/$f"
		done
		d=$(cd "$OUT" && pwd)
	fi
	print_paths "$d"
	exit 0
}

cached() {
	local f
	for f in "${OUTPUTS[@]}"; do [ -s "$DEST/$f" ] || return 1; done
}
kernel_cached() {
	local f
	for f in "${KOUTPUTS[@]}" "${KTOOLS[@]}"; do [ -s "$KDEST/$f" ] || return 1; done
}

if [ "$FORCE" = 0 ] && cached; then
	msg "cached: $DEST"
	finish
fi
[ "$NOBUILD" = 0 ] || die "guest image not built yet ($DEST): run $HERE/build.sh"

mkdir -p "$CACHE"
exec 9>"$CACHE/$HASH.lock"
if ! flock -n 9; then
	msg "another build of $HASH is running; waiting for it"
	flock 9
	if [ "$FORCE" = 0 ] && cached; then msg "cached: $DEST"; finish; fi
fi

# ---- build ------------------------------------------------------------------
BUILD=$CACHE/$HASH.build
LOG=$CACHE/$HASH.log
rm -rf "$BUILD" "$DEST.tmp"
mkdir -p "$BUILD/src" "$DEST.tmp"
: >"$LOG"
START=$(date +%s)
msg "building guest $HASH (kernel $KHASH: $KPKG $KVERSION; $BBPKG $BBVERSION${PERFVERSION:+; linux-perf $PERFVERSION}; -j$JOBS)"
msg "full log: $LOG"

failed() {
	msg "FAILED: $*; last lines of $LOG:"
	tail -n 25 "$LOG" | sed 's/^/    /' >&2
	msg "build tree kept in $BUILD"
	exit 1
}

if [ "$FORCE" = 0 ] && kernel_cached; then
	msg "[1-4/5] kernel cached: $KDEST"
else
	msg "[1/5] extracting $TARBALL"
	tar -xf "$TARBALL" -C "$BUILD/src" --strip-components=1 >>"$LOG" 2>&1 ||
		failed "cannot extract $TARBALL"
	K=$BUILD/src

	msg "[2/5] applying ${#PATCHES[@]} patch(es)"
	for p in "${PATCHES[@]}"; do
		msg "      ${p#"$HERE"/}"
		patch -d "$K" -p1 --batch --forward <"$p" >>"$LOG" 2>&1 ||
			failed "patch ${p#"$HERE"/} does not apply"
	done

	msg "[3/5] configuring: tinyconfig + guest.config"
	# -n: merge with allnoconfig (as tinyconfig itself does), so nothing beyond
	# tinyconfig and the fragment is switched on.
	{
		make -C "$K" tinyconfig &&
		(cd "$K" && scripts/kconfig/merge_config.sh -n .config "$HERE/guest.config")
	} >>"$LOG" 2>&1 || failed "configuration failed"
	# merge_config only warns when an option is dropped (unmet dependency):
	# compare every option of the fragment with the final .config ourselves.
	dropped=()
	while IFS= read -r line; do
		if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
			sym=${BASH_REMATCH[1]} val=${BASH_REMATCH[2]}
		elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			sym=${BASH_REMATCH[1]} val=n
		else
			continue
		fi
		got=$(grep -E "^$sym=" "$K/.config" | cut -d= -f2- || true)
		[ -n "$got" ] || got=n
		[ "$got" = "$val" ] || dropped+=("$sym=$val (got $got)")
	done <"$HERE/guest.config"
	if [ ${#dropped[@]} -gt 0 ]; then
		msg "options of guest.config not in the final .config (unmet dependencies?):"
		printf '    %s\n' "${dropped[@]}" >&2
		failed "fix guest.config"
	fi
	msg "      all $(grep -c '^[#]* *CONFIG_' "$HERE/guest.config") options of guest.config are set"

	msg "[4/5] compiling the kernel (nice -n 10 make -j$JOBS bzImage)"
	nice -n 10 make -C "$K" -j"$JOBS" bzImage >>"$LOG" 2>&1 &
	MAKEPID=$!
	trap 'kill $MAKEPID 2>/dev/null || true' EXIT INT TERM
	last=0
	while kill -0 "$MAKEPID" 2>/dev/null; do
		sleep 2
		now=$(date +%s)
		if [ $((now - last)) -ge 15 ]; then
			last=$now
			n=$(grep -c '^  CC ' "$LOG" || true)
			cur=$(grep -E '^  [A-Z]+ ' "$LOG" | tail -n1 | sed 's/^ *//' || true)
			msg "      $((now - START))s: $n files compiled; $cur"
		fi
	done
	rc=0
	wait "$MAKEPID" || rc=$?
	trap - EXIT INT TERM
	[ "$rc" = 0 ] || failed "kernel build (make exited with $rc)"
	grep -q ' libvmm_power_off$' "$K/System.map" ||
		failed "vmlinux lacks libvmm_power_off: patch 0001 not built in"
	grep -q ' libvmm_pmu_rdmsr$' "$K/System.map" ||
		failed "vmlinux lacks libvmm_pmu_rdmsr: patch 0002 not built in"
	rm -rf "$KDEST.tmp"
	mkdir -p "$KDEST.tmp"
	cp "$K/arch/x86/boot/bzImage" "$K/vmlinux" "$K/System.map" "$KDEST.tmp/"
	cp "$K/.config" "$KDEST.tmp/config"
	cp "$K/usr/gen_init_cpio" "$KDEST.tmp/gen_init_cpio"
	cp "$LOG" "$KDEST.tmp/build.log"
	rm -rf "$KDEST"
	mv "$KDEST.tmp" "$KDEST"
fi

msg "[5/5] building the initramfs (uncompressed newc cpio) and the root disk"
# gen_init_cpio (built with the kernel, kept beside it) writes device nodes
# and root-owned files from a list, without root and reproducibly.
GEN_CPIO=$KDEST/gen_init_cpio
{
	echo "dir /dev 0755 0 0"
	echo "nod /dev/console 0600 0 0 c 5 1"
	for d in /bin /sbin /usr /usr/bin /usr/sbin /proc /sys /root /etc; do
		echo "dir $d 0755 0 0"
	done
	echo "dir /tmp 1777 0 0"
	echo "file /init $HERE/init 0755 0 0"
	echo "file /bin/busybox $BUSYBOX 0755 0 0"
	"$BUSYBOX" --list-full | sort | while read -r a; do
		[ "$a" = bin/busybox ] || echo "slink /$a /bin/busybox 0777 0 0"
	done
} >"$BUILD/initramfs.list"
"$GEN_CPIO" -t "$EPOCH" "$BUILD/initramfs.list" >"$DEST.tmp/initrd.cpio" 2>>"$LOG" ||
	failed "gen_init_cpio"

if [ "$PERF" = 1 ]; then
	msg "      + perf archive (linux-perf $PERFVERSION)"
	# perf, the shared libraries it links and the dynamic loader, at the
	# paths the loader looks for them; then the guest-side self-test.
	libs=$(ldd "$PERF_BIN" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/.*ld-linux/ {print $1}' | sort -u)
	echo "$libs" | grep -q ld-linux || failed "no dynamic loader found in ldd $PERF_BIN"
	{
		dirs() { # every parent directory of the given paths, once, outermost first
			for f in "$@"; do
				d=$(dirname "$f")
				while [ "$d" != / ]; do echo "$d"; d=$(dirname "$d"); done
			done | sort -u
		}
		for d in $(dirs $libs /usr/bin/perf /usr/share/libvmm/x); do
			echo "dir $d 0755 0 0"
		done
		echo "file /usr/bin/perf $PERF_BIN 0755 0 0"
		for l in $libs; do echo "file $l $(readlink -f "$l") 0755 0 0"; done
		echo "file /usr/share/libvmm/perf-selftest.sh $HERE/perf-selftest.sh 0755 0 0"
		echo "file /usr/share/libvmm/perf-bench.sh $HERE/perf-bench.sh 0755 0 0"
	} >"$BUILD/perf.list"
	"$GEN_CPIO" -t "$EPOCH" "$BUILD/perf.list" >"$BUILD/perf.cpio" 2>>"$LOG" ||
		failed "gen_init_cpio (perf)"
	cat "$DEST.tmp/initrd.cpio" "$BUILD/perf.cpio" >"$DEST.tmp/initrd-perf.cpio"
fi

# The root disks hold the trees the same lists describe, so a disk and its
# initramfs cannot drift apart. Device nodes are skipped (mknod needs root):
# the kernel mounts devtmpfs on the disk's /dev before it starts /init
# (DEVTMPFS_MOUNT), and it opened /dev/console in its built-in initramfs.
list_to_tree() { # LIST TREE
	local kind path a b
	while read -r kind path a b _; do
		case $kind in
		dir) mkdir -p "$2$path" && chmod "$a" "$2$path" ;;
		file) cp "$a" "$2$path" && chmod "$b" "$2$path" ;;
		slink) ln -sfn "$a" "$2$path" ;;
		esac || return 1
	done <"$1"
}
make_disk() { # TREE IMAGE
	local mib
	mib=$(($(du -sm "$1" | cut -f1) + ROOTFS_FREE_MIB))
	# 4 KiB blocks and 256-byte inodes whatever the size (mke2fs.conf's
	# "small" type would give 1 KiB blocks and 128-byte inodes).
	"$MKFS_EXT4" -q -F -b 4096 -I 256 -L libvmm-root -E root_owner=0:0 \
		-d "$1" "$2" "${mib}M" >>"$LOG" 2>&1 || return 1
	# -d copies the builder's uid/gid: make everything root's, as in the
	# initramfs, whoever built it.
	(cd "$1" && find . -mindepth 1 | sed 's|^\.\(.*\)|sif \1 uid 0\nsif \1 gid 0|') |
		"$DEBUGFS" -w -f - "$2" >>"$LOG" 2>&1
}
msg "      + root disk (mkfs.ext4 -d, contents + $ROOTFS_FREE_MIB MiB)"
list_to_tree "$BUILD/initramfs.list" "$BUILD/rootfs" || failed "root disk tree"
make_disk "$BUILD/rootfs" "$DEST.tmp/rootfs.ext4" || failed "mkfs.ext4 (root disk)"
if [ "$PERF" = 1 ]; then
	cp -a "$BUILD/rootfs" "$BUILD/rootfs-perf"
	list_to_tree "$BUILD/perf.list" "$BUILD/rootfs-perf" || failed "perf root disk tree"
	make_disk "$BUILD/rootfs-perf" "$DEST.tmp/rootfs-perf.ext4" || failed "mkfs.ext4 (perf root disk)"
fi

for f in "${KOUTPUTS[@]}"; do
	ln -f "$KDEST/$f" "$DEST.tmp/$f" 2>/dev/null || cp "$KDEST/$f" "$DEST.tmp/$f"
done
echo "$CMDLINE" >"$DEST.tmp/cmdline"
cp "$LOG" "$DEST.tmp/build.log"
rm -rf "$DEST"
mv "$DEST.tmp" "$DEST"
rm -f "$LOG"
if [ "$KEEP" = 1 ]; then
	msg "build tree kept in $BUILD"
else
	rm -rf "$BUILD"
fi
msg "done in $(($(date +%s) - START))s: $DEST"
finish
