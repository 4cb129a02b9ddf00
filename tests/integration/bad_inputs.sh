#!/bin/sh
# The bad-input table: `vmm` given wrong option values, truncated or garbage
# images of each kind, sizes at the limits, and (where the machine allows)
# no /dev/kvm or one it may not open. Every case must end with a non-zero
# status and exactly one line on stderr; prints one Markdown table row per
# case ("| case | status | message |"), then a summary, and fails otherwise.
# With VALGRIND set (e.g. "valgrind -q --error-exitcode=99 --leak-check=full
# --errors-for-leak-kinds=definite"), each case runs under it and a
# valgrind error is a failure too.
# Usage: bad_inputs.sh VMM GUEST_DIR [LINUX_DIR]
set -u
VMM=$1
GUESTS=$2
LINUX=${3:-}
HELLO=$GUESTS/hello.bin
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
n=0

# case DESCRIPTION ARGS...: run `vmm ARGS`, add its row.
case_() {
	what=$1
	shift
	n=$((n + 1))
	${AS:-} ${VALGRIND:-} "$VMM" "$@" </dev/null >/dev/null 2>"$T/err"
	status=$?
	grep -v '^==[0-9]*==' "$T/err" >"$T/line"
	lines=$(wc -l <"$T/line")
	msg=$(head -n 1 "$T/line" | sed 's/|/\\|/g')
	echo "| $what | $status | $msg |"
	if [ "$status" -eq 0 ] || [ "$status" -eq 99 ] || [ "$lines" -ne 1 ]; then
		echo "FAIL: $what: status $status, $lines lines on stderr"
		[ "$status" -eq 99 ] && grep '^==[0-9]*==' "$T/err" | head -n 20
		fails=$((fails + 1))
	fi
}

# Images: empty, garbage, truncated and corrupted copies of real ones.
: >"$T/empty"
head -c 4096 /dev/urandom >"$T/garbage"
printf '\177ELF' >"$T/elf-magic-only"
head -c 64 /dev/urandom >>"$T/elf-magic-only"
long=$(head -c 70000 /dev/zero | tr '\0' 'a') # over both cmdline limits
if [ -n "$LINUX" ] && [ -s "$LINUX/bzImage" ]; then
	head -c 1024 "$LINUX/bzImage" >"$T/bz-1k"
	head -c 65536 "$LINUX/bzImage" >"$T/bz-64k"
	# The payload's middle overwritten: a corrupt compressed stream.
	cp "$LINUX/bzImage" "$T/bz-corrupt"
	size=$(wc -c <"$LINUX/bzImage")
	dd if=/dev/urandom of="$T/bz-corrupt" bs=1 seek=$((size / 2)) count=4096 conv=notrunc 2>/dev/null
	head -c 4096 "$LINUX/vmlinux" >"$T/vmlinux-4k"
	head -c $(($(wc -c <"$LINUX/vmlinux") / 2)) "$LINUX/vmlinux" >"$T/vmlinux-half"
	head -c $((300 << 20)) /dev/zero >"$T/initrd-300m"
fi

echo "| case | status | message |"
echo "|---|---|---|"
case_ "no arguments" 
case_ "unknown command" frobnicate
case_ "unknown option" run --frobnicate
case_ "option without its value" run --firmware
case_ "no boot image" run
case_ "--kernel and --firmware" run --kernel "$HELLO" --firmware "$HELLO"
case_ "--initrd without --kernel" run --firmware "$HELLO" --initrd "$HELLO"
case_ "unexpected argument" run --firmware "$HELLO" extra
case_ "--memory not a size" run --memory lots --firmware "$HELLO"
case_ "--memory 0" run --memory 0 --firmware "$HELLO"
case_ "--memory without unit" run --memory 4096 --firmware "$HELLO"
case_ "--memory overflow" run --memory 99999999999999999999 --firmware "$HELLO"
case_ "--memory 1M (under 2 MiB)" run --memory 1M --firmware "$HELLO"
case_ "--memory 4095K (not 4 KiB aligned)" run --memory 4095K --firmware "$HELLO"
case_ "--memory 64T (over the host)" run --memory 64T --firmware "$HELLO"
case_ "--cpus 0" run --cpus 0 --firmware "$HELLO"
case_ "--cpus 65" run --cpus 65 --firmware "$HELLO"
case_ "--cpus two" run --cpus two --firmware "$HELLO"
case_ "--cpuid-compat bad" run --cpuid-compat maybe --firmware "$HELLO"
case_ "--pmu bad" run --pmu sometimes --firmware "$HELLO"
case_ "--pmu-policy bad" run --pmu-policy eager --firmware "$HELLO"
case_ "--pmu-backend bad" run --pmu-backend fpga --firmware "$HELLO"
case_ "--pmu-model bad" run --pmu-model arm --firmware "$HELLO"
case_ "--pmu-counters 0" run --pmu-counters 0 --firmware "$HELLO"
case_ "--pmu-counters 9" run --pmu-counters 9 --firmware "$HELLO"
case_ "--pmu-idle-slice 1us" run --pmu-idle-slice 1us --firmware "$HELLO"
case_ "--pmu-idle-slice 61s" run --pmu-idle-slice 61s --firmware "$HELLO"
case_ "--pmu-idle-slice bad unit" run --pmu-idle-slice 10h --firmware "$HELLO"
case_ "--pmu-stats=xml" run --pmu-stats=xml --firmware "$HELLO"
case_ "--seccomp bad" run --seccomp strict --firmware "$HELLO"
case_ "--disk empty path" run --disk ",ro" --firmware "$HELLO"
case_ "--disk unknown option" run --disk "$T/garbage,rw" --firmware "$HELLO"
case_ "--disk io=bad" run --disk "$T/garbage,io=aio" --firmware "$HELLO"
case_ "--disk nine times" run --disk a --disk b --disk c --disk d --disk e --disk f --disk g \
	--disk h --disk i --firmware "$HELLO"
case_ "--net without tap=" run --net eth0 --firmware "$HELLO"
case_ "--net multicast MAC" run --net tap=t0,mac=01:00:5e:00:00:01 --firmware "$HELLO"
case_ "--net malformed MAC" run --net tap=t0,mac=52:54:00:12:34 --firmware "$HELLO"
case_ "--net five times" run --net tap=a --net tap=b --net tap=c --net tap=d --net tap=e \
	--firmware "$HELLO"
case_ "firmware missing" run --firmware "$T/nonexistent"
case_ "firmware is a directory" run --firmware "$T"
case_ "kernel missing" run --kernel "$T/nonexistent"
case_ "initrd missing" run --kernel "$HELLO" --initrd "$T/nonexistent"
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	case_ "firmware empty" run --firmware "$T/empty"
	case_ "firmware cmdline over 64 KiB" run --firmware "$HELLO" --cmdline "$long"
	case_ "kernel empty" run --kernel "$T/empty"
	case_ "kernel garbage (4 KiB)" run --kernel "$T/garbage"
	case_ "kernel: ELF magic + garbage" run --kernel "$T/elf-magic-only"
	case_ "kernel: raw guest given as kernel" run --kernel "$HELLO"
	head -c 1000 /dev/zero >"$T/disk-1000"
	case_ "disk missing" run --firmware "$HELLO" --disk "$T/nonexistent"
	case_ "disk empty" run --firmware "$HELLO" --disk "$T/empty"
	case_ "disk size not a multiple of 512" run --firmware "$HELLO" --disk "$T/disk-1000"
	case_ "disk is a directory" run --firmware "$HELLO" --disk "$T"
	case_ "net: no such TAP" run --firmware "$HELLO" --net tap=libvmm-none0
	case_ "net: TAP name too long" run --firmware "$HELLO" --net tap=abcdefghijklmnopqrstuvwxyz
	if [ -n "$LINUX" ] && [ -s "$LINUX/bzImage" ]; then
		case_ "bzImage truncated to 1 KiB" run --kernel "$T/bz-1k"
		case_ "bzImage truncated to 64 KiB" run --kernel "$T/bz-64k"
		case_ "bzImage truncated to 64 KiB, guest decompresses" run --kernel "$T/bz-64k" --no-host-decompress
		case_ "bzImage with a corrupt payload" run --kernel "$T/bz-corrupt"
		case_ "vmlinux truncated to 4 KiB" run --kernel "$T/vmlinux-4k"
		case_ "vmlinux truncated to half" run --kernel "$T/vmlinux-half"
		case_ "bzImage in 2 MiB of RAM" run --memory 2M --kernel "$LINUX/bzImage"
		case_ "initrd larger than RAM" run --memory 64M --kernel "$LINUX/bzImage" --initrd "$T/initrd-300m"
		case_ "cmdline over the kernel's limit" run --kernel "$LINUX/bzImage" --cmdline "$long"
	fi
	# /dev/kvm that this user may not open.
	# util-linux's setpriv (busybox's has no --reuid), or $SETPRIV.
	SETPRIV=${SETPRIV:-/usr/bin/setpriv}
	if [ "$(id -u)" -eq 0 ] && "$SETPRIV" --help 2>&1 | grep -q -- --reuid; then
		perm=$(stat -c %a /dev/kvm)
		chmod 600 /dev/kvm
		AS="$SETPRIV --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all"
		case_ "/dev/kvm not permitted (uid 65534)" run --firmware "$HELLO"
		AS=
		chmod "$perm" /dev/kvm
	fi
else
	case_ "no /dev/kvm" run --firmware "$HELLO"
fi
echo "bad inputs: $n cases, $fails failed"
[ "$fails" -eq 0 ]
