/* Benchmark workload guest. Arguments:
 *   workload=ctxsw|pmi|multiplex|idle iters=N [k=PERIOD] [m=CONFIGS]
 *   [slices=S] [slice_us=U]
 * It runs one workload against whatever PMU model CPUID shows and prints
 * exactly one line for the host harness (tests/bench/ parses it):
 *   BENCH workload=<w> model=<intel|amd> ops=<N> cycles=<tsc delta>
 *         [handler_cycles=<tsc in the PMI handler, pmi only>]
 * or "BENCH-ERROR <msg>" and exits 1. An op is one iteration as defined at
 * each workload below; cycles covers the ops only, not the setup. */
#include "lib/gpmu.h"

#define BENCH_GP 4	/* counters a context switch touches (perf's default set) */
#define TIMER_VECTOR 0xf0

static int bench_error(const char *msg)
{
	printf("BENCH-ERROR %s\n", msg);
	return 1;
}

static unsigned int used_gp(const struct gpmu *p)
{
	return p->nr_gp < BENCH_GP ? p->nr_gp : BENCH_GP;
}

/* Cycle-type events throughout: the software fallback of hosts without a
 * PMU counts only those, and a host event per counter is what is measured. */
static uint64_t cycles_cfg(const struct gpmu *p, unsigned int i)
{
	/* Intel: alternate core cycles and reference cycles (umask 1). */
	uint64_t ev = p->kind == GPMU_INTEL && (i & 1) ? p->cycles | 0x100 : p->cycles;

	return ev | EVTSEL_USR | EVTSEL_OS;
}

/* Program the GP counters in use (and Intel's fixed ones), all enabled. */
static void program_all(struct gpmu *p)
{
	gpmu_disable_all(p);
	for (unsigned int i = 0; i < used_gp(p); i++) {
		wrmsr(gpmu_ctr_msr(p, i), 0);
		gpmu_use(p, i);
		gpmu_write_evtsel(p, i, cycles_cfg(p, i) | EVTSEL_EN);
	}
	if (p->kind == GPMU_INTEL) {
		for (unsigned int i = 0; i < p->nr_fixed && i < 3; i++)
			gpmu_use_fixed(p, i);
		gpmu_write_fixed_ctrl(p, 0x333 & ((1ull << (4 * p->nr_fixed)) - 1));
	}
	gpmu_enable_all(p);
}

/* ctxsw op: what a Linux guest issues when it switches between two tasks
 * that both have perf counting: perf_pmu_disable (disable all), sched-out
 * of each event (EVTSEL without EN, FIXED_CTR_CTRL cleared), sched-in
 * (EVTSEL with EN, FIXED_CTR_CTRL set), perf_pmu_enable (enable all). */
static int run_ctxsw(struct gpmu *p, uint64_t iters, uint64_t *ops, uint64_t *cycles)
{
	uint64_t fixed_on, t0;

	program_all(p);
	fixed_on = p->fixed_ctrl;
	t0 = rdtsc();
	for (uint64_t n = 0; n < iters; n++) {
		gpmu_disable_all(p);
		for (unsigned int i = 0; i < used_gp(p); i++)
			wrmsr(gpmu_evtsel_msr(p, i), p->evtsel[i] & ~EVTSEL_EN);
		if (p->kind == GPMU_INTEL)
			wrmsr(MSR_IA32_FIXED_CTR_CTRL, 0);
		for (unsigned int i = 0; i < used_gp(p); i++)
			wrmsr(gpmu_evtsel_msr(p, i), p->evtsel[i] | EVTSEL_EN);
		if (p->kind == GPMU_INTEL)
			wrmsr(MSR_IA32_FIXED_CTR_CTRL, fixed_on);
		gpmu_enable_all(p);
	}
	*cycles = rdtsc() - t0;
	*ops = iters;
	return 0;
}

/* pmi op: one PMI of counter 0 sampling every k cycles, handled with
 * Linux's sequence (lib/gpmu.c). */
static int run_pmi(struct gpmu *p, uint64_t iters, uint64_t k, uint64_t *ops,
		   uint64_t *cycles, uint64_t *handler)
{
	uint64_t t0, timeout = 100 * (iters + 1) * k;
	struct gpmi g;

	gpmi_start(&g, p, k, 0);
	t0 = rdtsc();
	while (g.count < iters && rdtsc() - t0 < timeout)
		busy_loop(100);
	/* The PMIs of the timed window, counted before its end is taken:
	 * stopping the counter may still bring one more, for an overflow that
	 * happened after the loop (as on hardware, the disable delivers it at
	 * once). */
	*ops = g.count;
	*handler = g.handler_tsc;
	*cycles = rdtsc() - t0;
	gpmi_stop(&g);
	return g.count < iters ? bench_error("pmi: timed out waiting for PMIs") : 0;
}

/* Event configurations multiplexed over the GP counters. The cycle-type
 * ones come first (the software fallback counts only those; they differ in
 * event, umask or USR/OS, so each switch is a configuration change). */
static const uint64_t intel_configs[] = {
	0x03c | EVTSEL_USR | EVTSEL_OS, 0x13c | EVTSEL_USR | EVTSEL_OS,
	0x03c | EVTSEL_OS,		0x13c | EVTSEL_OS,
	0x03c | EVTSEL_USR,		0x13c | EVTSEL_USR,
	0x0c0 | EVTSEL_USR | EVTSEL_OS, 0x0c4 | EVTSEL_USR | EVTSEL_OS,
};
static const uint64_t amd_configs[] = {
	0x076 | EVTSEL_USR | EVTSEL_OS, 0x076 | EVTSEL_OS,
	0x076 | EVTSEL_USR,		0x0c0 | EVTSEL_USR | EVTSEL_OS,
	0x0c2 | EVTSEL_USR | EVTSEL_OS, 0x0c3 | EVTSEL_USR | EVTSEL_OS,
	0x0c0 | EVTSEL_OS,		0x0c2 | EVTSEL_OS,
};

/* multiplex op: one rotation as perf_rotate_context does it: disable all;
 * per counter stop the old event (EVTSEL without EN), read its count,
 * start the next configuration (counter reset, EVTSEL with EN); enable all. */
static int run_multiplex(struct gpmu *p, uint64_t iters, uint64_t m, uint64_t *ops,
			 uint64_t *cycles)
{
	const uint64_t *cfgs = p->kind == GPMU_INTEL ? intel_configs : amd_configs;
	unsigned int ncfg = p->kind == GPMU_INTEL ? ARRAY_SIZE(intel_configs)
						   : ARRAY_SIZE(amd_configs);
	volatile uint64_t sink = 0;
	uint64_t t0;

	if (m < 2 || m > ncfg)
		return bench_error("multiplex: m must be 2..8");
	gpmu_disable_all(p);
	for (unsigned int i = 0; i < used_gp(p); i++) {
		wrmsr(gpmu_ctr_msr(p, i), 0);
		gpmu_use(p, i);
		gpmu_write_evtsel(p, i, cfgs[i % m] | EVTSEL_EN);
	}
	gpmu_enable_all(p);
	t0 = rdtsc();
	for (uint64_t n = 1; n <= iters; n++) {
		gpmu_disable_all(p);
		for (unsigned int i = 0; i < used_gp(p); i++) {
			wrmsr(gpmu_evtsel_msr(p, i), p->evtsel[i] & ~EVTSEL_EN);
			sink += rdmsr(gpmu_ctr_msr(p, i));
			wrmsr(gpmu_ctr_msr(p, i), 0);
			gpmu_write_evtsel(p, i, cfgs[(n + i) % m] | EVTSEL_EN);
		}
		gpmu_enable_all(p);
	}
	*cycles = rdtsc() - t0;
	*ops = iters;
	return 0;
}

static volatile bool timer_fired;

static void timer_handler(struct trap_frame *f)
{
	(void)f;
	timer_fired = true;
	lapic_eoi();
}

/* idle op: one idle slice halted with every counter programmed but
 * disabled, as a guest whose perf tasks sleep. The LAPIC timer wakes it;
 * halting exits only into KVM, so the VMM sees the slices through its own
 * timer kicks, which is what releases idle host events. */
static int run_idle(struct gpmu *p, uint64_t slices, uint64_t slice_us, uint64_t *ops,
		    uint64_t *cycles)
{
	uint64_t t0;

	program_all(p);
	busy_loop(10000);
	gpmu_disable_all(p);
	for (unsigned int i = 0; i < used_gp(p); i++)
		gpmu_write_evtsel(p, i, p->evtsel[i] & ~EVTSEL_EN);
	if (p->kind == GPMU_INTEL)
		gpmu_write_fixed_ctrl(p, 0);
	set_irq_handler(TIMER_VECTOR, timer_handler);
	lapic_enable();
	t0 = rdtsc();
	for (uint64_t s = 0; s < slices; s++) {
		timer_fired = false;
		lapic_timer_oneshot(TIMER_VECTOR, (uint32_t)(slice_us * 1000));
		while (!timer_fired)
			halt_once();
	}
	*cycles = rdtsc() - t0;
	*ops = slices;
	return 0;
}

int main(uint64_t ram, uint64_t ncpus, const char *args)
{
	uint64_t iters = arg_u64(args, "iters", 1000), ops = 0, cycles = 0, handler = 0;
	char w[16];
	struct gpmu p;
	int ret;

	if (!arg_str(args, "workload", w, sizeof(w)))
		return bench_error("no workload= given");
	if (gpmu_detect(&p) == GPMU_NONE)
		return bench_error("no PMU in CPUID (run with --pmu force)");
	if (strcmp(w, "ctxsw") == 0) {
		ret = run_ctxsw(&p, iters, &ops, &cycles);
	} else if (strcmp(w, "pmi") == 0) {
		ret = run_pmi(&p, iters, arg_u64(args, "k", 1000000), &ops, &cycles, &handler);
	} else if (strcmp(w, "multiplex") == 0) {
		ret = run_multiplex(&p, iters, arg_u64(args, "m", 6), &ops, &cycles);
	} else if (strcmp(w, "idle") == 0) {
		uint64_t slice_us = arg_u64(args, "slice_us", 10000);

		if (slice_us == 0 || slice_us > 4000000)
			return bench_error("idle: slice_us must be 1..4000000");
		ret = run_idle(&p, arg_u64(args, "slices", 10), slice_us, &ops, &cycles);
	} else {
		return bench_error("unknown workload (ctxsw, pmi, multiplex, idle)");
	}
	if (ret)
		return ret;
	printf("BENCH workload=%s model=%s ops=%llu cycles=%llu", w, p.vendor,
	       (unsigned long long)ops, (unsigned long long)cycles);
	if (strcmp(w, "pmi") == 0)
		printf(" handler_cycles=%llu", (unsigned long long)handler);
	printf("\n");
	return 0;
}
