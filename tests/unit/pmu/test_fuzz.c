/*
 * Random values to every PMU MSR, both models and policies, with host
 * failures injected: never crashes, only #GP or host errors, never more
 * host events than vPMCs (plus the parked ones the cache policy may keep),
 * nothing left open afterwards.
 */
#include "test_util.h"

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: reproducible without libc state */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* Mostly plausible values: real control bits, sometimes garbage. */
static uint64_t random_value(void)
{
	switch (rng() % 6) {
	case 0:
		return rng();
	case 1:
		return rng() & 0xffffffffull;
	case 2:
		return rng() & 0x7;
	case 3:
		return rng() & 0x70000003full;	/* global enables */
	case 4:
		return rng() & 0xbbb;		/* fixed counter fields */
	default:
		return (rng() & 0xffff) | (rng() & (USR | OS | EN | INT));
	}
}

static uint32_t random_msr(const struct pmu_msr_range *r, int n)
{
	const struct pmu_msr_range *pick;

	if (rng() % 50 == 0)
		return (uint32_t)rng();			/* not ours at all */
	pick = &r[rng() % n];
	return pick->base + rng() % (pick->count + 1);	/* and one past */
}

static void fuzz_one(enum pmu_model model, enum pmu_policy policy,
		     bool failures, uint64_t seed)
{
	struct pmu_msr_range ranges[16];
	unsigned int max_events;
	uint64_t now = 0, val;
	struct tpmu t;
	int n, i, ret;

	rng_state = seed;
	tpmu_new(&t, model, policy);
	max_events = model == PMU_MODEL_INTEL ? 4 + 3 : 6;
	if (policy == PMU_POLICY_CACHE)
		max_events += PMU_CACHE_DEFAULT_PER_VCPU;
	n = pmu_msr_ranges(&t.cfg, ranges, 16);
	assert_true(n > 0);
	for (i = 0; i < 20000; i++) {
		uint32_t msr = random_msr(ranges, n);

		if (failures && rng() % 10 == 0) {
			switch (rng() % 4) {
			case 0: t.fb.fail_open = -EMFILE; break;
			case 1: t.fb.fail_read = -EIO; break;
			case 2: t.fb.fail_enable = -EIO; break;
			default: t.fb.fail_disable = -EIO; break;
			}
		}
		if (rng() % 2)
			ret = vpmu_wrmsr(t.v, msr, random_value());
		else
			ret = vpmu_rdmsr(t.v, msr, &val);
		if (!failures)
			assert_true(ret == 0 || ret == -EINVAL);
		else
			assert_true(ret <= 0);
		if (rng() % 8 == 0)
			fake_advance(&t.fb, rng() % 100000);
		if (rng() % 16 == 0) {
			now += rng() % (2 * SLICE);
			vpmu_tick(t.v, now);
		}
		if (rng() % 64 == 0)
			ret = vpmu_overflow(t.v);
		assert_true(t.fb.live >= 0);
		assert_true((unsigned int)t.fb.live <= max_events);
		assert_int_equal(vpmu_stats(t.v)->fds_open, t.fb.live);
	}
	assert_true(t.fb.max_live <= (int)max_events);
	print_message("%s/%s%s: %llu opens, peak %d\n",
		      model == PMU_MODEL_INTEL ? "intel" : "amd",
		      policy == PMU_POLICY_LAZY    ? "lazy"
		      : policy == PMU_POLICY_NAIVE ? "naive"
						   : "cache",
		      failures ? "/failures" : "",
		      (unsigned long long)vpmu_stats(t.v)->opens,
		      t.fb.max_live);
	assert_true(vpmu_stats(t.v)->opens > 0);	/* reached the host */
	tpmu_end(&t);
}

static void test_fuzz_all(void **state)
{
	enum pmu_policy policy;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	int failures;

	for (failures = 0; failures < 2; failures++) {
		for (policy = PMU_POLICY_LAZY; policy <= PMU_POLICY_CACHE;
		     policy++) {
			fuzz_one(PMU_MODEL_INTEL, policy, failures, seed++);
			fuzz_one(PMU_MODEL_AMD, policy, failures, seed++);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
