#!/bin/sh
# Integration test of the `vmm` command: clear one-line errors and non-zero
# status for bad input; with KVM, the hello guest's output and exit status.
# Usage: cli_test.sh VMM GUEST_DIR
set -u
VMM=$1
GUESTS=$2
fails=0

# expect_error STATUS PATTERN ARGS...: one line on stderr matching PATTERN.
expect_error() {
	want=$1 pattern=$2
	shift 2
	err=$("$VMM" "$@" 2>&1 >/dev/null </dev/null)
	status=$?
	lines=$(printf '%s\n' "$err" | wc -l)
	if [ "$status" -ne "$want" ] || [ "$lines" -ne 1 ] ||
		! printf '%s' "$err" | grep -q -- "$pattern"; then
		echo "FAIL: vmm $*: status $status (want $want), $lines lines: $err"
		fails=$((fails + 1))
	else
		echo "ok: vmm $*: $err"
	fi
}

expect_error 1 "No such file" run --firmware /nonexistent.bin
expect_error 2 "larger than zero" run --memory 0 --firmware "$GUESTS/hello.bin"
expect_error 1 "exceeds" run --memory 64T --firmware "$GUESTS/hello.bin"
expect_error 2 "not a size" run --memory lots --firmware "$GUESTS/hello.bin"
expect_error 2 "unknown" run --frobnicate
expect_error 2 "expected on, off, force or rdmsr" run --pmu sometimes --firmware "$GUESTS/hello.bin"
expect_error 2 "no boot image" run
expect_error 1 "too small" run --memory 1M --firmware "$GUESTS/hello.bin"
expect_error 2 "needs --kernel" run --firmware "$GUESTS/hello.bin" --module "$GUESTS/hello.bin"
expect_error 2 "expected FILE" run --kernel "$GUESTS/multiboot_elf32.elf" --module ,str
"$VMM" --help | grep -q "Usage: vmm run" || { echo "FAIL: --help"; fails=$((fails + 1)); }
"$VMM" --version | grep -q "^vmm [0-9]" || { echo "FAIL: --version"; fails=$((fails + 1)); }

if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	out=$("$VMM" run -q --memory 64M --firmware "$GUESTS/hello.bin" </dev/null)
	status=$?
	if [ "$status" -ne 0 ] || [ "$out" != "Hello from a libvmm guest" ]; then
		echo "FAIL: hello guest: status $status, output '$out'"
		fails=$((fails + 1))
	fi
	"$VMM" run -q --firmware "$GUESTS/exit_code.bin" </dev/null
	status=$?
	[ "$status" -eq 42 ] || { echo "FAIL: exit-code guest: status $status"; fails=$((fails + 1)); }
	# Multiboot: a module with a string, QEMU's exit encoding (0 -> 1), and
	# a corrupt header refused in one line.
	out=$("$VMM" run -q --memory 64M --kernel "$GUESTS/multiboot_elf32.elf" --qemu-debug-exit \
		--module "$GUESTS/hello.bin,hello" </dev/null)
	status=$?
	case "$out" in *"string=<hello>"*MULTIBOOT-OK*) ok=1 ;; *) ok=0 ;; esac
	if [ "$status" -ne 1 ] || [ "$ok" -ne 1 ]; then
		echo "FAIL: multiboot guest: status $status (want 1), output '$out'"
		fails=$((fails + 1))
	fi
	bad=$(mktemp)
	cp "$GUESTS/multiboot_aout.bin" "$bad"
	printf X | dd of="$bad" bs=1 seek=8 conv=notrunc 2>/dev/null
	expect_error 1 "checksum is wrong" run --kernel "$bad"
	rm -f "$bad"
	# The CPUID pipeline as a guest sees it, for each PMU model.
	# cpuid_expect "ARGS" KEY=VALUE...: the cpuid_check guest's line has each.
	cpuid_expect() {
		args=$1
		shift
		line=$("$VMM" run -q --memory 64M --firmware "$GUESTS/cpuid_check.bin" $args </dev/null)
		for kv in "$@"; do
			case " $line " in
			*" $kv "*) ;;
			*)
				echo "FAIL: cpuid ($args): want $kv in: $line"
				fails=$((fails + 1))
				;;
			esac
		done
		echo "ok: cpuid ($args): $line"
	}
	cpuid_expect "--pmu off" hypervisor=1 sig=KVMKVMKVM___ hv_max=0x40000010 pdcm=0 \
		pmu_version=0 perfctr_core=0 perfmon_v2=0
	cpuid_expect "--pmu force --pmu-model intel" hypervisor=1 pdcm=1 perf_caps=0x2000 \
		pmu_version=2
	cpuid_expect "--pmu force --pmu-model amd" hypervisor=1 pdcm=0 pmu_version=0 \
		perfctr_core=1 perfmon_v2=1
	case $("$VMM" run -q --memory 64M --firmware "$GUESTS/cpuid_check.bin" </dev/null) in
	*" tsc_khz=0 "*) echo "FAIL: cpuid: no TSC frequency leaf"; fails=$((fails + 1)) ;;
	esac
	expect_error 1 "bzImage" run --kernel "$GUESTS/hello.bin"
	expect_error 1 "initrd /nonexistent" run --kernel "$GUESTS/hello.bin" --initrd /nonexistent
else
	expect_error 1 "/dev/kvm" run --firmware "$GUESTS/hello.bin"
	echo "skipped: guest runs: /dev/kvm is not usable here"
fi

[ "$fails" -eq 0 ] || exit 1
exit 0
