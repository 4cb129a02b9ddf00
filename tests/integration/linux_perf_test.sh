#!/bin/sh
# Integration test: Debian's perf inside the project's Linux guest, against
# the vPMU, under each policy. The guest (examples/linux-guest/
# perf-selftest.sh) reports "PERF-CHECK step=... key=value" lines; this side
# judges them together with the VMM's own statistics (--pmu-stats=json):
# a PMU driver (not "Broken PMU"), non-zero cycle counts from perf stat and
# perf stat -a, samples from perf record with at least as many PMIs
# delivered, rounds of record + per-task stat around a context-switch
# benchmark with no kernel warnings and no slowdown, and under lazy and
# cache no host event held (nor parked) once the guest has idled.
# Usage: linux_perf_test.sh VMM LINUX_DIR   (LINUX_DIR from build.sh --perf)
set -u
VMM=$1
DIR=$2
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
	echo "skipped: /dev/kvm is not usable here"
	exit 77
fi
if ! [ -s "$DIR/initrd-perf.cpio" ]; then
	echo "skipped: no $DIR/initrd-perf.cpio (examples/linux-guest/build.sh --perf)"
	exit 77
fi

# key VALUE-LINE KEY: the value of KEY=... in a "PERF-CHECK ..." line.
key() {
	echo " $1 " | sed -n "s/.* $2=\([^ ]*\) .*/\1/p"
}
# stat JSON NAME: a field of the VMM's --pmu-stats=json object.
stat() {
	echo "$1" | sed -n "s/.*\"$2\": \([0-9][0-9]*\).*/\1/p" | head -n 1
}

ERR=$(mktemp)
trap 'rm -f "$ERR"' EXIT

for policy in lazy naive cache; do
	echo "== perf in the Linux guest, policy $policy"
	out=$(timeout 900 "$VMM" run -q -m 256M -k "$DIR/bzImage" -i "$DIR/initrd-perf.cpio" \
		-p "$(cat "$DIR/cmdline") loglevel=4 libvmm.autotest=perf" \
		--pmu rdmsr --pmu-policy "$policy" --pmu-stats=json </dev/null 2>"$ERR")
	status=$?
	# The serial console ends lines with CR LF.
	out=$(printf '%s\n' "$out" | tr -d '\r')
	json=$(grep '"pmu"' "$ERR")
	echo "$out" | grep -e '^PERF-CHECK' -e WARNING -e 'NMI received'
	echo "vmm: $json"
	[ "$status" -eq 0 ] || fail "$policy: vmm exited with $status: $(grep -v '"pmu"' "$ERR" | tail -n 3)"
	echo "$out" | grep -q 'PERF-CHECK step=done' || fail "$policy: the guest's check did not finish"

	line=$(echo "$out" | grep 'PERF-CHECK step=driver')
	case $line in
	*PMU_driver*) ;;
	*) fail "$policy: no PMU driver in the guest: $line" ;;
	esac
	case $line in *Broken*) fail "$policy: $line" ;; esac

	for step in stat-ls stat-a; do
		c=$(key "$(echo "$out" | grep "PERF-CHECK step=$step ")" cycles)
		case $c in
		'' | *[!0-9]* | 0) fail "$policy: perf stat ($step) counted no cycles: '$c'" ;;
		esac
	done

	line=$(echo "$out" | grep 'PERF-CHECK step=record ')
	samples=$(key "$line" samples)
	pmis=$(stat "$json" pmis)
	[ "${samples:-0}" -gt 0 ] || fail "$policy: perf record took no samples: $line"
	[ "${pmis:-0}" -ge "${samples:-0}" ] ||
		fail "$policy: the VMM delivered $pmis PMIs, fewer than the guest's $samples samples"

	first= last=
	for r in $(echo "$out" | grep 'PERF-CHECK step=round ' | sed 's/.* ms=\([0-9]*\).*/\1/'); do
		[ -n "$first" ] || first=$r
		last=$r
	done
	if [ -z "$first" ]; then
		fail "$policy: no benchmark rounds"
	elif [ "$last" -gt $((first * 2 + 500)) ]; then
		# The failure mode this guards against made rounds 10-15x slower.
		fail "$policy: the last round took ${last} ms, the first ${first} ms"
	fi

	w=$(key "$(echo "$out" | grep 'PERF-CHECK step=dmesg ')" warnings)
	[ "${w:-1}" = 0 ] || fail "$policy: the guest kernel warned $w times (see above)"

	if [ "$policy" != naive ]; then
		held=$(stat "$json" fds_open)
		[ "${held:-1}" = 0 ] || fail "$policy: $held host events still held after the guest idled"
	fi
done
[ "$fails" -eq 0 ] && echo "linux perf: ok" || exit 1
