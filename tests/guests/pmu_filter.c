/* Test guest pmu_filter: programs what the host's event filter may deny
 * and reports what each counter counted over a busy loop, in one line:
 *   pmu_filter: model=M gp0=N gp1=N fixed1=N
 * GP 0 counts core cycles; GP 1 reference cycles on Intel (same event
 * select, unit mask 1), kernel-only core cycles on AMD; Intel's fixed
 * counter 1 core cycles. A filtered counter must read 0 without a fault.
 * Arguments: loops=N (busy-loop length). */
#include "lib/gpmu.h"

enum {
	OK = 0,
	NO_PMU = 10,
};

int main(uint64_t ram, uint64_t ncpus, const char *args)
{
	uint64_t loops = arg_u64(args, "loops", 200000), gp1, fixed1 = 0;
	uint64_t base = EVTSEL_USR | EVTSEL_OS;
	bool intel;
	struct gpmu p;

	if (gpmu_detect(&p) == GPMU_NONE || p.nr_gp < 2) {
		printf("pmu_filter: no PMU\n");
		return NO_PMU;
	}
	intel = p.kind == GPMU_INTEL;
	gpmu_disable_all(&p);
	wrmsr(gpmu_ctr_msr(&p, 0), 0);
	wrmsr(gpmu_ctr_msr(&p, 1), 0);
	gpmu_use(&p, 0);
	gpmu_use(&p, 1);
	gpmu_write_evtsel(&p, 0, p.cycles | base | EVTSEL_EN);
	gpmu_write_evtsel(
	    &p, 1, intel ? p.cycles | 0x100 | base | EVTSEL_EN : p.cycles | EVTSEL_OS | EVTSEL_EN);
	if (intel && p.nr_fixed >= 2) {
		wrmsr(MSR_IA32_FIXED_CTR0 + 1, 0);
		gpmu_use_fixed(&p, 1);
		gpmu_write_fixed_ctrl(&p, (FIXED_OS | FIXED_USR) << 4);
	}
	gpmu_enable_all(&p);
	busy_loop(loops);
	gpmu_disable_all(&p);
	gp1 = rdmsr(gpmu_ctr_msr(&p, 1));
	if (intel && p.nr_fixed >= 2)
		fixed1 = rdmsr(MSR_IA32_FIXED_CTR0 + 1);
	printf("pmu_filter: model=%s gp0=%llu gp1=%llu fixed1=%llu\n", p.vendor,
	       (unsigned long long)rdmsr(gpmu_ctr_msr(&p, 0)), (unsigned long long)gp1,
	       (unsigned long long)fixed1);
	return OK;
}
