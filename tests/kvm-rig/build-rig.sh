#!/usr/bin/env bash
# build-rig.sh - build (and cache) the base initramfs of the TCG KVM rig.
#
# Why: CI and developer machines are nested guests without /dev/kvm. The rig
# boots Debian's kernel under QEMU in pure software emulation (TCG) with an
# emulated AMD CPU that has SVM; inside, kvm + kvm_amd load and give a real
# /dev/kvm on which libvmm's KVM tests can run. See tests/kvm-rig/README.md.
#
# This script makes the part of the initramfs that does not change between
# runs: static busybox, the kvm/kvm_amd/kvm_intel and tun modules and their
# dependencies (from modules.dep, decompressed), the static kvm-smoke test and
# the /init script (tun: the virtio-net tests need a TAP). run-in-tcg.sh
# appends a second cpio archive holding the directory to test, its shared
# libraries and the command to run.
#
# Usage: build-rig.sh [--cache DIR] [--kver VERSION] [--install-deps] [--force]
#   Prints two lines: KERNEL=<vmlinuz path> and BASE=<base initramfs path>.
#   --install-deps  apt-get install the Debian packages the rig needs
#                   (qemu-system-x86 linux-image-amd64 busybox-static cpio).
#   Cache: $LIBVMM_RIG_CACHE or ~/.cache/libvmm-rig, keyed by kernel version
#   and a hash of this script + busybox + kvm-smoke.c.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${LIBVMM_RIG_CACHE:-${HOME:-/root}/.cache/libvmm-rig}
kver=${LIBVMM_RIG_KVER:-}
install_deps=0
force=0

die() { echo "build-rig: error: $*" >&2; exit 2; }
log() { echo "build-rig: $*" >&2; }

while [ $# -gt 0 ]; do
    case $1 in
        --cache) cache=$2; shift 2 ;;
        --kver) kver=$2; shift 2 ;;
        --install-deps) install_deps=1; shift ;;
        --force) force=1; shift ;;
        -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) die "unknown argument: $1" ;;
    esac
done

if [ "$install_deps" = 1 ]; then
    [ "$(id -u)" = 0 ] || die "--install-deps needs root"
    log "installing Debian packages (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends qemu-system-x86 linux-image-amd64 \
        busybox-static cpio xz-utils zstd gzip gcc libc6-dev >&2
fi

command -v cpio >/dev/null || die "cpio not found (apt-get install cpio)"
command -v gzip >/dev/null || die "gzip not found"

# Pick a kernel that has both a vmlinuz and the kvm modules (the running
# kernel of the host is not a Debian one, so never assume uname -r).
if [ -z "$kver" ]; then
    for d in $(ls -1d /lib/modules/*/ 2>/dev/null | sort -V -r); do
        v=$(basename "$d")
        if [ -r "/boot/vmlinuz-$v" ] && [ -f "$d/modules.dep" ] &&
           grep -q '^kernel/arch/x86/kvm/kvm-amd\.ko' "$d/modules.dep"; then
            kver=$v; break
        fi
    done
fi
[ -n "$kver" ] || die "no kernel with kvm-amd module found under /lib/modules with /boot/vmlinuz-*; run with --install-deps or: apt-get install linux-image-amd64"
moddir=/lib/modules/$kver
kernel=/boot/vmlinuz-$kver
[ -r "$kernel" ] || die "$kernel not readable"

busybox=
for b in /bin/busybox /usr/bin/busybox; do
    if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then busybox=$b; break; fi
done
[ -n "$busybox" ] || die "no static busybox found (apt-get install busybox-static)"

key=$(cat "${BASH_SOURCE[0]}" "$busybox" "$here/kvm-smoke.c" | sha256sum | cut -c1-16)
out=$cache/$kver/base-$key.cpio.gz
if [ "$force" = 0 ] && [ -s "$out" ]; then
    echo "KERNEL=$kernel"
    echo "BASE=$out"
    exit 0
fi

mkdir -p "$cache/$kver"
stage=$(mktemp -d "$cache/$kver/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
log "building base initramfs for kernel $kver in $stage"

mkdir -p "$stage"/{bin,sbin,proc,sys,dev,tmp,root,etc,run,rig/modules}
cp "$busybox" "$stage/bin/busybox"
for a in $("$busybox" --list); do
    [ "$a" = busybox ] || ln -sf busybox "$stage/bin/$a"
done
echo "root:x:0:0:root:/root:/bin/sh" > "$stage/etc/passwd"
echo "root:x:0:" > "$stage/etc/group"

# Resolve module dependencies from modules.dep; emit load order (deps first).
declare -A seen=()
order=()
resolve() {
    local rel=$1 line dep
    [ -n "${seen[$rel]:-}" ] && return 0
    seen[$rel]=1
    line=$(grep -m1 "^${rel}:" "$moddir/modules.dep") || die "module $rel not in modules.dep"
    # modules.dep lists all (transitive) deps; the last one is loaded first.
    local deps=(${line#*:})
    local i
    for ((i=${#deps[@]}-1; i>=0; i--)); do resolve "${deps[$i]}"; done
    order+=("$rel")
}
find_mod() { # name -> relative path in modules.dep (any compression suffix)
    grep -m1 -oE "^[^:]*/$1\.ko(\.xz|\.zst|\.gz)?:" "$moddir/modules.dep" | tr -d :
}
# tun: /dev/net/tun, for the TAP behind the VMM's virtio-net (Debian builds
# it as a module; busybox's tunctl and ip then make and address tap0).
for m in kvm-amd kvm-intel tun; do
    rel=$(find_mod "$m") || die "module $m not found for $kver"
    resolve "$rel"
done
: > "$stage/rig/modules.order"
for rel in "${order[@]}"; do
    base=$(basename "$rel")
    src=$moddir/$rel
    case $base in
        *.ko.xz)  xz -dc "$src" > "$stage/rig/modules/${base%.xz}";  base=${base%.xz} ;;
        *.ko.zst) zstd -qdc "$src" > "$stage/rig/modules/${base%.zst}"; base=${base%.zst} ;;
        *.ko.gz)  gzip -dc "$src" > "$stage/rig/modules/${base%.gz}"; base=${base%.gz} ;;
        *.ko)     cp "$src" "$stage/rig/modules/$base" ;;
    esac
    echo "$base" >> "$stage/rig/modules.order"
done
log "modules: $(tr '\n' ' ' < "$stage/rig/modules.order")"

# Static smoke test (optional: skipped with a warning if no static libc).
if command -v gcc >/dev/null &&
   gcc -O2 -static -o "$stage/rig/kvm-smoke" "$here/kvm-smoke.c" 2>"$stage/gcc.log"; then
    :
else
    log "warning: could not build static kvm-smoke (need gcc + libc6-dev); rig will lack it"
    cat "$stage/gcc.log" >&2 2>/dev/null || true
fi
rm -f "$stage/gcc.log"

cat > "$stage/init" <<'EOF'
#!/bin/sh
# /init of the libvmm TCG KVM rig (generated by tests/kvm-rig/build-rig.sh).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TMPDIR=/tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -d /tmp ] || mkdir /tmp
chmod 1777 /tmp
hostname rig
ip link set lo up 2>/dev/null

rig_end() { # $1: status line to print
    echo "$1"
    sync
    poweroff -f
    reboot -f
    sleep 5
}

echo "RIG-BOOT uptime=$(cut -d' ' -f1 /proc/uptime)"
vendor=$(grep -m1 vendor_id /proc/cpuinfo | awk '{print $3}')
for m in $(cat /rig/modules.order); do
    case $m in
        kvm-amd.ko)   [ "$vendor" = AuthenticAMD ] || continue; grep -qw svm /proc/cpuinfo || continue ;;
        kvm-intel.ko) grep -qw vmx /proc/cpuinfo || continue ;;
    esac
    insmod /rig/modules/$m 2>/tmp/insmod.err || { echo "RIG-INFO insmod $m failed: $(cat /tmp/insmod.err)"; }
done
if [ ! -c /dev/kvm ]; then
    echo "RIG-INFO cpu flags: $(grep -m1 ^flags /proc/cpuinfo)"
    dmesg | grep -iE 'kvm|svm|vmx' | sed 's/^/RIG-DMESG /'
    rig_end "RIG-ERROR=no-dev-kvm"
fi
chmod 666 /dev/kvm
echo "RIG-KVM-READY uptime=$(cut -d' ' -f1 /proc/uptime)"

if [ -f /rig/env ]; then set -a; . /rig/env; set +a; fi
if [ -x /rig/cmd ]; then
    /rig/cmd </dev/console
    rc=$?
elif [ -x /rig/kvm-smoke ]; then
    /rig/kvm-smoke
    rc=$?
else
    echo "RIG-INFO no command given"
    rc=0
fi
rig_end "RIG-STATUS=$rc (run $(cat /rig/nonce 2>/dev/null))"
EOF
chmod 755 "$stage/init"

tmp=$out.tmp.$$
(cd "$stage" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort |
    cpio --quiet -o -H newc -R 0:0) | gzip -6 > "$tmp"
# Pad to a 512-byte boundary so an appended archive starts 4-byte aligned.
sz=$(stat -c %s "$tmp")
pad=$(( (512 - sz % 512) % 512 ))
[ "$pad" = 0 ] || head -c "$pad" /dev/zero >> "$tmp"
mv -f "$tmp" "$out"
# Drop stale bases for this kernel.
find "$cache/$kver" -maxdepth 1 -name 'base-*.cpio.gz' ! -name "$(basename "$out")" -delete
log "built $out ($(stat -c %s "$out") bytes)"
echo "KERNEL=$kernel"
echo "BASE=$out"
