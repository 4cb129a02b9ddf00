/* Test guest pmu_count: a cycle-type counter advances while enabled and
 * holds still while disabled (by its EN bit, and by the global control),
 * for GP counter 0 and, on Intel, fixed counter 1. Arguments: loops=N
 * (busy-loop length between reads). Exit codes below, one per failure. */
#include "lib/gpmu.h"

enum {
	OK = 0,
	NO_PMU = 10,	       /* CPUID (and the legacy probe) show no PMU */
	GP_STILL = 11,	       /* GP counter did not advance while enabled */
	GP_MOVED_EN = 12,      /* ... changed with its EN bit clear */
	GP_MOVED_GLOBAL = 13,  /* ... changed with its GLOBAL_CTRL bit clear */
	FIXED_STILL = 14,      /* fixed counter 1 did not advance */
	FIXED_MOVED = 15,      /* ... changed with its FIXED_CTR_CTRL field 0 */
	GP_WRITE = 16,	       /* a written counter value did not read back */
};

/* Counter value before and after a busy loop. */
static void across_loop(uint32_t msr, uint64_t loops, uint64_t *a, uint64_t *b)
{
	*a = rdmsr(msr);
	busy_loop(loops);
	*b = rdmsr(msr);
}

int main(uint64_t ram, uint64_t ncpus, const char *args)
{
	uint64_t loops = arg_u64(args, "loops", 200000), a, b;
	uint64_t cfg;
	struct gpmu p;

	if (gpmu_detect(&p) == GPMU_NONE) {
		printf("pmu_count: no PMU\n");
		return NO_PMU;
	}
	printf("pmu_count: model=%s version=%u gp=%u fixed=%u width=%u\n", p.vendor, p.version,
	       p.nr_gp, p.nr_fixed, p.width);
	cfg = p.cycles | EVTSEL_USR | EVTSEL_OS;

	/* Counter writes are plain stores into the vPMC: check one first. */
	gpmu_disable_all(&p);
	wrmsr(gpmu_ctr_msr(&p, 0), 0x1234);
	a = rdmsr(gpmu_ctr_msr(&p, 0));
	if (a != 0x1234) {
		printf("pmu_count: wrote 0x1234, read 0x%llx\n", (unsigned long long)a);
		return GP_WRITE;
	}
	wrmsr(gpmu_ctr_msr(&p, 0), 0);

	gpmu_use(&p, 0);
	gpmu_write_evtsel(&p, 0, cfg | EVTSEL_EN);
	gpmu_enable_all(&p);
	across_loop(gpmu_ctr_msr(&p, 0), loops, &a, &b);
	printf("gp0 enabled: %llu -> %llu\n", (unsigned long long)a, (unsigned long long)b);
	if (b <= a)
		return GP_STILL;

	gpmu_write_evtsel(&p, 0, cfg);
	across_loop(gpmu_ctr_msr(&p, 0), loops, &a, &b);
	printf("gp0 EN clear: %llu -> %llu\n", (unsigned long long)a, (unsigned long long)b);
	if (b != a)
		return GP_MOVED_EN;

	if (p.global) {
		gpmu_write_evtsel(&p, 0, cfg | EVTSEL_EN);
		wrmsr(p.global_ctrl, 0);
		across_loop(gpmu_ctr_msr(&p, 0), loops, &a, &b);
		printf("gp0 global off: %llu -> %llu\n", (unsigned long long)a,
		       (unsigned long long)b);
		if (b != a)
			return GP_MOVED_GLOBAL;
		/* And it counts again once the global bit is back. */
		gpmu_enable_all(&p);
		across_loop(gpmu_ctr_msr(&p, 0), loops, &a, &b);
		printf("gp0 global on: %llu -> %llu\n", (unsigned long long)a,
		       (unsigned long long)b);
		if (b <= a)
			return GP_STILL;
	}
	gpmu_disable_all(&p);
	gpmu_write_evtsel(&p, 0, 0);

	/* Fixed counter 1 counts core cycles (leaf 0xA EBX bit 0 clear). */
	if (p.kind == GPMU_INTEL && p.nr_fixed >= 2 && !(p.fixed_unavailable & 1)) {
		uint32_t ctr = MSR_IA32_FIXED_CTR0 + 1;

		wrmsr(ctr, 0);
		gpmu_use_fixed(&p, 1);
		gpmu_write_fixed_ctrl(&p, (FIXED_OS | FIXED_USR) << 4);
		gpmu_enable_all(&p);
		across_loop(ctr, loops, &a, &b);
		printf("fixed1 enabled: %llu -> %llu\n", (unsigned long long)a,
		       (unsigned long long)b);
		if (b <= a)
			return FIXED_STILL;
		gpmu_write_fixed_ctrl(&p, 0);
		across_loop(ctr, loops, &a, &b);
		printf("fixed1 disabled: %llu -> %llu\n", (unsigned long long)a,
		       (unsigned long long)b);
		if (b != a)
			return FIXED_MOVED;
		gpmu_disable_all(&p);
	}
	printf("pmu_count: ok\n");
	return OK;
}
