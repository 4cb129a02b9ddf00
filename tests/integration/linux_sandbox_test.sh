#!/bin/sh
# Integration test: `vmm` confines every thread while the project's Linux
# guest runs perf against the vPMU. Samples /proc/PID/task/*/status during
# the run and requires, on every thread (main, input, each vCPU), Seccomp 2
# (filter), NoNewPrivs 1 and CapEff 0, or what vmm said at start-up the
# host's perf_event_paranoid needs for the vPMU (CAP_PERFMON, and on some
# kernels CAP_SYS_ADMIN); perf in the guest must still count and sample,
# and vmm exit 0.
# Usage: linux_sandbox_test.sh VMM LINUX_DIR   (LINUX_DIR from build.sh --perf)
set -u
VMM=$1
DIR=$2
PERFMON=0000004000000000
PERFMON_SYSADMIN=0000004000200000

if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
	echo "skipped: /dev/kvm is not usable here"
	exit 77
fi
if ! [ -s "$DIR/initrd-perf.cpio" ]; then
	echo "skipped: no $DIR/initrd-perf.cpio (examples/linux-guest/build.sh --perf)"
	exit 77
fi

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
timeout 900 "$VMM" run -m 256M -c 2 -k "$DIR/bzImage" -i "$DIR/initrd-perf.cpio" \
	-p "$(cat "$DIR/cmdline") loglevel=4 libvmm.autotest=perf" \
	--pmu rdmsr </dev/null >"$T/out" 2>"$T/err" &
pid=$!

# Snapshot the threads until all of them (main, input, 2 vCPUs) are there
# and confined, then keep sampling until vmm ends: the last full snapshot
# is reported.
n=0
while kill -0 "$pid" 2>/dev/null; do
	snap=
	for s in /proc/"$pid"/task/*/status; do
		line=$(awk '/^(Name|Seccomp|NoNewPrivs|CapEff):/ { printf "%s %s ", $1, $2 }' "$s" 2>/dev/null)
		[ -n "$line" ] && snap="$snap$(basename "$(dirname "$s")") $line
"
	done
	if [ "$(printf '%s' "$snap" | grep -c .)" -ge 4 ]; then
		printf '%s' "$snap" >"$T/snap"
		n=$((n + 1))
	fi
	sleep 2
done
wait "$pid"
status=$?
tr -d '\r' <"$T/out" | grep -e '^PERF-CHECK step=done' -e '^PERF-CHECK step=stat-ls' -e '^PERF-CHECK step=record '
grep 'sandbox:' "$T/err"
echo "threads of vmm during the run (last of $n full samples):"
cat "$T/snap" 2>/dev/null

fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
[ "$status" -eq 0 ] || fail "vmm exited with $status: $(tail -n 3 "$T/err")"
tr -d '\r' <"$T/out" | grep -q '^PERF-CHECK step=done' || fail "the guest's perf check did not finish"
[ -s "$T/snap" ] || fail "never saw vmm's four threads"
allowed=0000000000000000
if grep -q 'sandbox:.*but CAP_PERFMON and CAP_SYS_ADMIN' "$T/err"; then
	allowed="$allowed $PERFMON_SYSADMIN"
elif grep -q 'sandbox:.*but CAP_PERFMON' "$T/err"; then
	allowed="$allowed $PERFMON"
fi
cycles=$(tr -d '\r' <"$T/out" | sed -n 's/^PERF-CHECK step=stat-ls .*cycles=\([0-9]*\).*/\1/p')
samples=$(tr -d '\r' <"$T/out" | sed -n 's/^PERF-CHECK step=record .*samples=\([0-9]*\).*/\1/p')
[ "${cycles:-0}" -gt 0 ] || fail "perf stat counted no cycles under the sandbox"
[ "${samples:-0}" -gt 0 ] || fail "perf record took no samples under the sandbox"
while read -r tid _ name _ capeff _ nnp _ seccomp; do
	case " $allowed " in *" $capeff "*) ;; *) fail "thread $tid ($name): CapEff $capeff" ;; esac
	[ "$seccomp" = 2 ] || fail "thread $tid ($name): Seccomp $seccomp"
	[ "$nnp" = 1 ] || fail "thread $tid ($name): NoNewPrivs $nnp"
done <"$T/snap"
[ "$(grep -c 'Name: vcpu' "$T/snap")" -eq 2 ] || fail "expected 2 vCPU threads"
[ "$fails" -eq 0 ] && echo "linux-sandbox: every thread confined, perf works"
[ "$fails" -eq 0 ]
