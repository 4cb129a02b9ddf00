#!/bin/sh
# Runs every fuzz harness of a libFuzzer build for a bounded time each, one
# after the other, on seed corpora made from real images (make-seeds.py),
# then replays the saved regression inputs. Prints one line per target with
# its executions and crashes; exits non-zero if any target crashed.
# Usage: run.sh FUZZ_BUILD_DIR SECONDS_PER_TARGET WORK_DIR [LINUX_DIR] [GUEST_DIR]
set -u
BUILD=$1
SECS=$2
WORK=$3
SRC=$(cd "$(dirname "$0")" && pwd)
python3 "$SRC/make-seeds.py" "$WORK/seeds" "${4:-}" "${5:-}"
status=0
for t in linux decompress devices msr-router vpmu virtio virtio-net; do
	exe="$BUILD/tests/fuzz/fuzz-$t"
	if ! [ -x "$exe" ]; then
		echo "fuzz: $t: not built (no libFuzzer)"
		continue
	fi
	mkdir -p "$WORK/corpus/$t" "$WORK/crashes/$t"
	# Regression inputs first: each once (a hang is a finding too).
	if [ -d "$SRC/regress/$t" ] && ! "$exe" -timeout=20 "$SRC"/regress/"$t"/* >"$WORK/$t-regress.log" 2>&1; then
		echo "fuzz: $t: a regression input fails: $(grep -m1 -e '^fuzz-' -e 'ERROR' "$WORK/$t-regress.log")"
		status=1
	fi
	"$exe" -max_total_time="$SECS" -rss_limit_mb=2048 -max_len=262144 -timeout=20 \
		-artifact_prefix="$WORK/crashes/$t/" "$WORK/corpus/$t" "$WORK/seeds/$t" \
		>"$WORK/$t.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$WORK/$t.log")
	crashes=$(find "$WORK/crashes/$t" -type f | wc -l)
	echo "fuzz: $t: ${execs:-?} execs in ${SECS}s, $crashes crashes (exit $rc)"
	if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
		grep -m1 -e '^fuzz-' -e 'ERROR: ' "$WORK/$t.log"
		status=1
	fi
done
exit "$status"
