#!/bin/sh
# Linux-guest vPMU benchmark: the scenario the lazy policy was made for. In
# the project's Linux guest (examples/linux-guest, built with --perf), a
# context-switch benchmark (perf bench sched pipe: 2 switches per round trip)
# runs on its own, under per-task `perf stat` with 4 GP events (every switch
# toggles the counters) and under `perf record` sampling, with the PMU off,
# the null backend (no host events: the floor a trapping design can reach),
# naive, lazy and cache. Configurations are interleaved run by run, their
# order rotated by one each run; speed ratios are paired (the median over
# runs of the ratio within a run), as the rig's speed drifts between runs.
#
# Guest figures: ops/s (perf bench's own, over the measured loops only) and
# the overhead vs the PMU off. Host figures per 1000 guest context switches:
# exits, perf_event_open, enable/disable/period ioctls and all-on/off prctls
# ("ioctls"), PMIs. They come from
# two runs of each configuration, with L and 2L round trips: the difference
# removes boot, perf start-up and warm-up, so only the steady state counts.
#
# Runs natively with a usable /dev/kvm, else inside the KVM-in-TCG rig.
# Usage: tests/bench/linux_perf_bench.sh [--runs N] [--loops L] [--out FILE]
#                                        [BUILD_DIR [LINUX_DIR]]
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=3
LOOPS=1000
OUTFILE=
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=$2; shift 2 ;;
	--loops) LOOPS=$2; shift 2 ;;
	--out) OUTFILE=$2; shift 2 ;;
	-h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "linux_perf_bench: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
LINUX=${2:-}
[ -z "$LINUX" ] || LINUX=$(cd "$LINUX" && pwd)
case $RUNS$LOOPS in *[!0-9]*) echo "linux_perf_bench: --runs and --loops take numbers" >&2; exit 2 ;; esac

if [ -z "$LINUX" ]; then
	eval "$("$ROOT/examples/linux-guest/build.sh" --perf --print-paths)"
	LINUX=$(dirname "$KERNEL")
fi
VMM=$BUILD/vmm/vmm
for f in "$VMM" "$LINUX/bzImage" "$LINUX/initrd-perf.cpio" "$LINUX/cmdline"; do
	[ -e "$f" ] || { echo "linux_perf_bench: missing $f (build first; the guest with --perf)" >&2; exit 1; }
done

if [ ! -w /dev/kvm ] && [ "${LINUX_BENCH_INSIDE:-}" != 1 ]; then
	echo "linux_perf_bench: no /dev/kvm here: running inside the KVM-in-TCG rig (emulated times)" >&2
	log=$(mktemp)
	set +e
	"$ROOT/tests/kvm-rig/run-in-tcg.sh" --timeout 5400 --with "$ROOT/tests" --with "$LINUX" \
		--env LINUX_BENCH_INSIDE=1 "$BUILD" -- \
		sh "$ROOT/tests/bench/linux_perf_bench.sh" --runs "$RUNS" --loops "$LOOPS" "$BUILD" "$LINUX" |
		tee "$log" | grep --line-buffered -v '^@@'
	status=$?
	set -e
	if [ -n "$OUTFILE" ]; then
		sed -n '/^@@TABLE-BEGIN@@/,/^@@TABLE-END@@/p' "$log" | grep -v '^@@' >"$OUTFILE"
		echo "linux_perf_bench: table in $OUTFILE" >&2
	fi
	rm -f "$log"
	exit "$status"
fi

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
CMDLINE="$(cat "$LINUX/cmdline") loglevel=4 libvmm.autotest=bench"

# one NAME PMU-ARGS MODE LOOPS RUN: one VM run; appends "ops exits opens
# ioctls pmis samples run" to $OUT/NAME.LOOPS
one() {
	name=$1 pmu=$2 mode=$3 loops=$4 run=$5
	# shellcheck disable=SC2086
	guest=$(timeout 900 "$VMM" run -q -m 256M -k "$LINUX/bzImage" -i "$LINUX/initrd-perf.cpio" \
		-p "$CMDLINE libvmm.bench=$mode libvmm.bench_loops=$loops" $pmu --pmu-stats=json \
		</dev/null 2>"$OUT/err") || true
	line=$(echo "$guest" | tr -d '\r' | grep '^PERF-BENCH ' | tail -n 1)
	json=$(grep '"pmu"' "$OUT/err" || true)
	get() { echo "$json" | sed -n "s/.*\"$1\": \([0-9][0-9]*\).*/\1/p" | head -n 1; }
	kv() { echo " $line " | sed -n "s/.* $1=\([^ ]*\) .*/\1/p"; }
	ops=$(kv ops_per_s)
	if [ -z "$ops" ] || [ "$ops" = 0 ]; then
		echo "  $name loops=$loops: no result: $(tail -n 2 "$OUT/err" | tr '\n' ' ')" >&2
		return 0
	fi
	# perf syscalls on events: ioctls plus the thread-wide prctl toggles
	ioctls=$(($(get enables) + $(get disables) + $(get set_periods) + $(get group_toggles)))
	echo "$ops $(get exits) $(get opens) $ioctls $(get pmis) $(kv samples) $run" >>"$OUT/$name.$loops"
	echo "  $name loops=$loops: $ops ops/s, exits $(get exits), opens $(get opens), ioctls $ioctls, pmis $(get pmis)" >&2
}

CONFIGS="off-none:--pmu=off:none
null-stat:--pmu=rdmsr --pmu-backend=null:stat
naive-stat:--pmu=rdmsr --pmu-policy=naive:stat
lazy-stat:--pmu=rdmsr --pmu-policy=lazy:stat
cache-stat:--pmu=rdmsr --pmu-policy=cache:stat
null-record:--pmu=rdmsr --pmu-backend=null:record
naive-record:--pmu=rdmsr --pmu-policy=naive:record
lazy-record:--pmu=rdmsr --pmu-policy=lazy:record
cache-record:--pmu=rdmsr --pmu-policy=cache:record"

i=1
while [ "$i" -le "$RUNS" ]; do
	echo "run $i of $RUNS" >&2
	echo "$CONFIGS" | awk -v r="$i" '{a[NR] = $0} END {for (k = 0; k < NR; k++) print a[(k + r - 1) % NR + 1]}' |
		while IFS=: read -r name pmu mode; do
			one "$name" "$(echo "$pmu" | tr '=' ' ')" "$mode" "$LOOPS" "$i"
			one "$name" "$(echo "$pmu" | tr '=' ' ')" "$mode" $((LOOPS * 2)) "$i"
		done
	i=$((i + 1))
done

# med FILE COLUMN: median of a column
med() {
	[ -s "$1" ] || { echo 0; return; }
	awk -v c="$2" '{print $c}' "$1" | sort -n |
		awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'
}
base=$(med "$OUT/off-none.$LOOPS" 1)
{
echo "Linux guest (6.1, perf $(sed -n 's/.*linux-perf \([^ ]*\).*/\1/p' "$LINUX/build.log" 2>/dev/null | head -n 1)), perf bench sched pipe, $LOOPS vs $((LOOPS * 2)) round trips,"
echo "median of $RUNS interleaved runs; $(uname -srm); host counts per 1000 guest context switches (2L-L difference)"
printf '%-13s %9s %9s %9s %9s %9s %9s\n' config ops/s vs-off exits opens ioctls pmis
echo "$CONFIGS" | while IFS=: read -r name pmu mode; do
	a=$OUT/$name.$LOOPS b=$OUT/$name.$((LOOPS * 2))
	[ -s "$a" ] && [ -s "$b" ] || { printf '%-13s %9s\n' "$name" "no data"; continue; }
	ops=$(med "$a" 1)
	per() { # COLUMN: (median at 2L - median at L) per 1000 switches (2 per round trip)
		awk -v x="$(med "$a" "$1")" -v y="$(med "$b" "$1")" -v l="$LOOPS" \
			'BEGIN {printf "%.1f", (y - x) * 1000 / (2 * l)}'
	}
	printf '%-13s %9s %9s %9s %9s %9s %9s\n' "$name" "$ops" \
		"$(awk -v a="$ops" -v b="$base" 'BEGIN {printf (b > 0 ? "%.2fx" : "-"), a / b}')" \
		"$(per 2)" "$(per 3)" "$(per 4)" "$(per 5)"
done
# ratio A B: ops/s of B over A, the median over runs of the ratio within a
# run (both ran in it, under the same load)
ratio() {
	[ -s "$OUT/$1.$LOOPS" ] && [ -s "$OUT/$2.$LOOPS" ] || { echo -; return; }
	awk 'FNR == NR {a[$7] = $1; next} ($7 in a) && a[$7] > 0 {print $1 / a[$7]}' \
		"$OUT/$1.$LOOPS" "$OUT/$2.$LOOPS" | sort -n |
		awk '{v[NR] = $1} END {if (!NR) print "-"; else printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
echo "speed (ops/s) ratios, paired: lazy/naive stat $(ratio naive-stat lazy-stat), record $(ratio naive-record lazy-record); cache/naive stat $(ratio naive-stat cache-stat), record $(ratio naive-record cache-record); cache/lazy stat $(ratio lazy-stat cache-stat), record $(ratio lazy-record cache-record); null/lazy stat $(ratio lazy-stat null-stat), record $(ratio lazy-record null-record); null/cache stat $(ratio cache-stat null-stat), record $(ratio cache-record null-record)"
echo "null: backend calls, no host syscalls (no host events)"
} >"$OUT/table"
echo "@@TABLE-BEGIN@@"
cat "$OUT/table"
echo "@@TABLE-END@@"
[ -z "$OUTFILE" ] || cp "$OUT/table" "$OUTFILE"
