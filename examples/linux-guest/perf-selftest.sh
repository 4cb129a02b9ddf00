#!/bin/sh
# Guest side of the vPMU end-to-end check (packed into initrd-perf.cpio by
# build.sh; /init runs it when the cmdline has libvmm.autotest=perf).
# Runs Debian's perf against the PMU the VMM shows and prints one
# "PERF-CHECK key=value ..." line per step for the host to judge; the host
# side compares the figures with the VMM's own statistics. Tunables, from
# the cmdline: libvmm.perf_rounds=N (record + stat rounds, default 3),
# libvmm.perf_loops=N (sched pipe round trips per round, default 2000).
export PATH=/usr/bin:/bin:/usr/sbin:/sbin

arg() { # NAME DEFAULT: value of libvmm.NAME= on the cmdline
	v=$(tr ' ' '\n' </proc/cmdline | sed -n "s/^libvmm\.$1=//p" | tail -n 1)
	echo "${v:-$2}"
}
ROUNDS=$(arg perf_rounds 3)
LOOPS=$(arg perf_loops 2000)
cd /tmp || exit 1

# A busy loop in the shell: user and kernel cycles, no sleeping.
busy() {
	i=0
	while [ $i -lt "$1" ]; do i=$((i + 1)); done
}

# The PMU driver the kernel found (or "none").
drv=$(dmesg | sed -n 's/.*Performance Events: *//p' | head -n 1 | tr ' ' '_')
echo "PERF-CHECK step=driver text=${drv:-none}"

# perf stat of one event: the count, or "none" when not counted.
out=$(perf stat -x, -e cycles -- ls / 2>&1 >/dev/null)
echo "PERF-CHECK step=stat-ls cycles=$(echo "$out" | awk -F, '/cycles/ {print $1; exit}')"

out=$(perf stat -a -x, -e cycles -- sleep 1 2>&1 >/dev/null)
echo "PERF-CHECK step=stat-a cycles=$(echo "$out" | awk -F, '/cycles/ {print $1; exit}')"

# PMIs the kernel took so far, on every CPU (the PMI line of /proc/interrupts).
pmis() { awk '$1 == "PMI:" {n = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i; print n}' /proc/interrupts; }

# Sampling: a fixed period, then the report's sample count.
# perf report rounds its "# Samples: 42K" line down to a unit: read it back
# as a number (a lower bound of the true count).
unit_number() {
	echo "$1" | awk '{n = $1 + 0; u = substr($1, length($1))
		if (u == "K") n *= 1000; else if (u == "M") n *= 1000000
		printf "%d", n}'
}
p0=$(pmis)
perf record -q -o rec.data -e cycles -c 1000000 -- sh -c 'i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done' \
	>/dev/null 2>rec.err
p1=$(pmis)
perf report -i rec.data --stdio >rec.txt 2>/dev/null
samples=$(unit_number "$(sed -n 's/^# Samples: *\([0-9][0-9]*[KM]*\).*/\1/p' rec.txt | head -n 1)")
lost=$(sed -n 's/^# Total Lost Samples: *\([0-9][0-9]*\).*/\1/p' rec.txt | head -n 1)
top=$(perf report -i rec.data --stdio --sort comm 2>/dev/null | awk '/%/ && !/^#/ {print $2; exit}')
echo "PERF-CHECK step=record samples=${samples:-0} lost=${lost:-0} pmis=$((p1 - p0)) top=${top:-none}"

# Rounds of sampling then per-task counting around a context-switch
# benchmark: every switch toggles the counters. Ops/s per round.
r=1
while [ $r -le "$ROUNDS" ]; do
	perf record -q -o round.data -e cycles -c 2000000 -- perf bench sched pipe -l "$LOOPS" >/dev/null 2>&1
	t0=$(cut -d' ' -f1 /proc/uptime)
	perf stat -x, -o stat.out -e cycles,cycles,cycles,cycles -- perf bench sched pipe -l "$LOOPS" >/dev/null 2>&1
	t1=$(cut -d' ' -f1 /proc/uptime)
	c=$(awk -F, '/cycles/ {print $1; exit}' stat.out)
	ms=$(echo "$t0 $t1" | awk '{printf "%d", ($2 - $1) * 1000}')
	echo "PERF-CHECK step=round n=$r ms=$ms cycles=${c:-none} loops=$LOOPS"
	r=$((r + 1))
done

# What the kernel said about the PMU while all this ran.
warn=$(dmesg | grep -c -e 'WARNING' -e 'inactive PMCs' -e 'NMI received for unknown reason' \
	-e 'Dazed and confused' -e 'perf: interrupt took too long')
echo "PERF-CHECK step=dmesg warnings=$warn"
dmesg | grep -e 'WARNING' -e 'inactive PMCs' -e 'NMI received' -e 'interrupt took too long' | head -n 5
# Idle for many PMU slices, so the host events left over are released.
sleep 1
echo "PERF-CHECK step=done"
