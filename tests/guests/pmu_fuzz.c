/* Test guest pmu_fuzz iters=N seed=S: write random and boundary values
 * (0, ~0, single bits, plausible configurations) to every PMU MSR of both
 * models and read each back, with #GP recovery. The VMM must survive, fault
 * where hardware would, and never hold more host events than vPMCs; the
 * host test checks those. Prints how many accesses faulted; exits 0. */
#include "lib/gpmu.h"

static const uint32_t msrs[] = {
	/* Intel: PERFEVTSEL0-7, PMC0-7, A_PMC0-7, FIXED_CTR0-2,
	 * FIXED_CTR_CTRL, GLOBAL_STATUS/CTRL/OVF_CTRL, PERF_CAPABILITIES */
	0x186, 0x187, 0x188, 0x189, 0x18a, 0x18b, 0x18c, 0x18d,
	0x0c1, 0x0c2, 0x0c3, 0x0c4, 0x0c5, 0x0c6, 0x0c7, 0x0c8,
	0x4c1, 0x4c2, 0x4c3, 0x4c4, 0x4c5, 0x4c6, 0x4c7, 0x4c8,
	0x309, 0x30a, 0x30b, 0x38d, 0x38e, 0x38f, 0x390, 0x345,
	/* AMD: K7 EVNTSEL0-3/PERFCTR0-3, PerfCtrExtCore CTL/CTR 0-5,
	 * PerfMonV2 GLOBAL_STATUS/CTL/STATUS_CLR/STATUS_SET */
	0xc0010000, 0xc0010001, 0xc0010002, 0xc0010003,
	0xc0010004, 0xc0010005, 0xc0010006, 0xc0010007,
	0xc0010200, 0xc0010201, 0xc0010202, 0xc0010203, 0xc0010204, 0xc0010205,
	0xc0010206, 0xc0010207, 0xc0010208, 0xc0010209, 0xc001020a, 0xc001020b,
	0xc0000300, 0xc0000301, 0xc0000302, 0xc0000303,
};

/* Values that hit edges of the register layouts, and ones that make the
 * VMM open host events (cycles enabled, all counters globally on). */
static const uint64_t interesting[] = {
	0, ~0ull, 1, 0xffffffffull, 0xffffffff00000000ull, 0x0000ffffffffffffull,
	0x8000000000000000ull, 0x7fffffffffffffffull, 0x00000000ffff0000ull,
	0x3c | EVTSEL_USR | EVTSEL_OS | EVTSEL_EN,
	0x3c | EVTSEL_USR | EVTSEL_OS | EVTSEL_EN | EVTSEL_INT,
	0x13c | EVTSEL_OS | EVTSEL_EN,
	0x76 | EVTSEL_USR | EVTSEL_OS | EVTSEL_EN,
	0x76 | EVTSEL_USR | EVTSEL_OS | EVTSEL_EN | EVTSEL_INT,
	0x333, 0xbbb, 0x70000000full, 0x3f, 0xc00000070000000full,
	0xfffffffffff0ull, /* a counter just below its wrap */
};

static uint64_t pick_value(struct prng *r)
{
	uint64_t x = prng_next(r);

	switch (x & 3) {
	case 0:
		return interesting[(x >> 8) % ARRAY_SIZE(interesting)];
	case 1:
		return 1ull << ((x >> 8) & 63);
	default:
		return prng_next(r);
	}
}

int main(uint64_t ram, uint64_t ncpus, const char *args)
{
	uint64_t iters = arg_u64(args, "iters", 2000), seed = arg_u64(args, "seed", 1);
	uint64_t writes = 0, write_gp = 0, reads = 0, read_gp = 0, v;
	struct prng r;

	prng_seed(&r, seed);
	/* Every MSR read once from reset state, then each written with
	 * every interesting value, then random accesses. */
	for (unsigned int i = 0; i < ARRAY_SIZE(msrs); i++) {
		reads++;
		read_gp += safe_rdmsr(msrs[i], &v);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(msrs); i++) {
		for (unsigned int j = 0; j < ARRAY_SIZE(interesting); j++) {
			writes++;
			write_gp += safe_wrmsr(msrs[i], interesting[j]);
		}
	}
	for (uint64_t n = 0; n < iters; n++) {
		uint32_t msr = msrs[prng_next(&r) % ARRAY_SIZE(msrs)];

		writes++;
		write_gp += safe_wrmsr(msr, pick_value(&r));
		reads++;
		read_gp += safe_rdmsr(msr, &v);
	}
	printf("pmu_fuzz: seed=%llu writes=%llu write_gp=%llu reads=%llu read_gp=%llu nmis=%llu\n",
	       (unsigned long long)seed, (unsigned long long)writes,
	       (unsigned long long)write_gp, (unsigned long long)reads,
	       (unsigned long long)read_gp, (unsigned long long)nmi_count);
	return 0;
}
