/* Test guest pmu_toggle iters=N [spin=M]: enable GP counter 0 (cycles)
 * once, then N times clear and set its EN bit with EVTSEL writes, as
 * Linux's x86_pmu_disable_event/enable_event do around a context switch;
 * with spin=M, busy-loop M iterations with the counter enabled before each
 * toggle (a task's time slice). The host test checks how many host events
 * each policy opened for it. */
#include "lib/gpmu.h"

int main(uint64_t ram, uint64_t ncpus, const char *args)
{
	uint64_t iters = arg_u64(args, "iters", 10000), spin = arg_u64(args, "spin", 0);
	uint64_t t0, t1, v;
	uint64_t cfg;
	struct gpmu p;

	if (gpmu_detect(&p) == GPMU_NONE) {
		printf("pmu_toggle: no PMU\n");
		return 10;
	}
	cfg = p.cycles | EVTSEL_USR | EVTSEL_OS;
	wrmsr(gpmu_ctr_msr(&p, 0), 0);
	gpmu_use(&p, 0);
	gpmu_write_evtsel(&p, 0, cfg | EVTSEL_EN);
	gpmu_enable_all(&p);
	t0 = rdtsc();
	for (uint64_t i = 0; i < iters; i++) {
		busy_loop(spin);
		wrmsr(gpmu_evtsel_msr(&p, 0), cfg);
		wrmsr(gpmu_evtsel_msr(&p, 0), cfg | EVTSEL_EN);
	}
	t1 = rdtsc();
	v = rdmsr(gpmu_ctr_msr(&p, 0));
	printf("pmu_toggle: model=%s iters=%llu tsc=%llu counter=%llu\n", p.vendor,
	       (unsigned long long)iters, (unsigned long long)(t1 - t0), (unsigned long long)v);
	return v ? 0 : 11; /* it was enabled throughout: it must have counted */
}
