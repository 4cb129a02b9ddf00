#!/bin/sh
# Guest side of the Linux vPMU benchmark (packed into initrd-perf.cpio by
# build.sh; /init runs it when the cmdline has libvmm.autotest=bench).
# A context-switch benchmark (perf bench sched pipe: two tasks passing a
# token through pipes, two switches per round trip) run
#   libvmm.bench=none    on its own,
#   libvmm.bench=stat    under per-task perf stat with 4 GP cycle events
#                        (every switch toggles the counters),
#   libvmm.bench=record  under perf record sampling cycles
#                        (libvmm.bench_period=N, default 2000000),
# libvmm.bench_loops=N round trips (default 2000), after one warm-up run of
# a tenth of that. Prints one "PERF-BENCH key=value ..." line.
export PATH=/usr/bin:/bin:/usr/sbin:/sbin

arg() { # NAME DEFAULT: value of libvmm.NAME= on the cmdline
	v=$(tr ' ' '\n' </proc/cmdline | sed -n "s/^libvmm\.$1=//p" | tail -n 1)
	echo "${v:-$2}"
}
MODE=$(arg bench none)
LOOPS=$(arg bench_loops 2000)
PERIOD=$(arg bench_period 2000000)
cd /tmp || exit 1

run() { # LOOPS: the benchmark under the chosen mode; its output on stdout
	case $MODE in
	none) perf bench sched pipe -l "$1" ;;
	stat) perf stat -x, -o stat.out -e cycles,cycles,cycles,cycles -- \
		perf bench sched pipe -l "$1" ;;
	record) perf record -q -o rec.data -e cycles -c "$PERIOD" -- \
		perf bench sched pipe -l "$1" ;;
	*) echo "PERF-BENCH error=unknown-mode mode=$MODE"; exit 1 ;;
	esac
}

run $((LOOPS / 10 + 1)) >/dev/null 2>&1
t0=$(cut -d' ' -f1 /proc/uptime)
out=$(run "$LOOPS" 2>/dev/null)
t1=$(cut -d' ' -f1 /proc/uptime)
ops=$(echo "$out" | sed -n 's/^ *\([0-9][0-9]*\) ops\/sec.*/\1/p' | head -n 1)
usecs=$(echo "$out" | sed -n 's/^ *\([0-9.][0-9.]*\) usecs\/op.*/\1/p' | head -n 1)
samples=0
if [ "$MODE" = record ]; then
	# "# Samples: 42K": perf rounds down to a unit.
	samples=$(perf report -i rec.data --stdio 2>/dev/null |
		sed -n 's/^# Samples: *\([0-9][0-9]*[KM]*\).*/\1/p' | head -n 1 |
		awk '{n = $1 + 0; u = substr($1, length($1))
			if (u == "K") n *= 1000; else if (u == "M") n *= 1000000
			printf "%d", n}')
fi
ms=$(echo "$t0 $t1" | awk '{printf "%d", ($2 - $1) * 1000}')
echo "PERF-BENCH mode=$MODE loops=$LOOPS ops_per_s=${ops:-0} usecs_per_op=${usecs:-0} ms=$ms samples=${samples:-0}"
