/* Test guest pmu_pmi period=P count=K [vector=V] [timeout=T]: GP counter 0
 * counts cycles with its interrupt bit and starts at -P; every PMI (NMI,
 * or fixed vector V) runs Linux's handler sequence and reloads -P. Runs
 * until K PMIs or T TSC cycles, then prints
 *   PMI count=<n> spurious=<n> tsc=<cycles> handler_tsc=<cycles> period=<P>
 *       overshoot=<events counted past the wraps> model=<intel|amd>
 * so the host can compare the PMI rate with the time counted. Exit 0 if at
 * least one PMI came, 10 without a PMU, 11 without PMIs. */
#include "lib/gpmu.h"

int main(uint64_t ram, uint64_t ncpus, const char *args)
{
	uint64_t period = arg_u64(args, "period", 1000000);
	uint64_t count = arg_u64(args, "count", 100);
	uint64_t vector = arg_u64(args, "vector", 0);
	/* Generous: the counter runs at most at about the TSC rate here. */
	uint64_t timeout = arg_u64(args, "timeout", 50 * count * period);
	uint64_t t0, t1;
	struct gpmu p;
	struct gpmi g;

	if (gpmu_detect(&p) == GPMU_NONE) {
		printf("pmu_pmi: no PMU\n");
		return 10;
	}
	if (vector != 0 && (vector < 32 || vector > 254)) {
		printf("pmu_pmi: bad vector %llu\n", (unsigned long long)vector);
		return 12;
	}
	gpmi_start(&g, &p, period, (uint8_t)vector);
	t0 = rdtsc();
	while (g.count < count && rdtsc() - t0 < timeout)
		busy_loop(1000);
	t1 = rdtsc();
	gpmi_stop(&g);
	printf("PMI count=%llu spurious=%llu tsc=%llu handler_tsc=%llu period=%llu overshoot=%llu "
	       "model=%s\n",
	       (unsigned long long)g.count, (unsigned long long)g.spurious,
	       (unsigned long long)(t1 - t0), (unsigned long long)g.handler_tsc,
	       (unsigned long long)period, (unsigned long long)g.overshoot, p.vendor);
	return g.count ? 0 : 11;
}
