/*
 * The bound on host opens per vCPU (issue 10): a guest changing event
 * configurations in a storm gets at most the budget's opens, a counter over
 * the budget keeps its guest value without counting, and it counts again
 * from that value once the budget has room (at a tick, or its next enable).
 * Fake backend, fake clock (vpmu_tick).
 */
#include <stdio.h>
#include <string.h>

#include "test_util.h"

#define MS 1000000ull

/* 1,000 opens/s (one a ms), bursts of 10. */
static void throttle_new(struct tpmu *t, enum pmu_policy policy)
{
	tpmu_init(t, PMU_MODEL_INTEL, policy);
	t->cfg.open_rate = 1000;
	t->cfg.open_burst = 10;
	tpmu_start(t);
}

/* Reconfigure counter 0 (two configs in turn) @n times at time @now. */
static void storm(struct tpmu *t, int n, uint64_t now)
{
	vpmu_tick(t->v, now);
	for (int i = 0; i < n; i++)
		wr(t, EVTSEL0, (i & 1 ? INSTR_SEL : CYCLES_SEL) | EN);
}

static void test_storm_bounded(void **state)
{
	enum pmu_policy policies[] = {PMU_POLICY_LAZY, PMU_POLICY_NAIVE, PMU_POLICY_CACHE};

	for (unsigned int p = 0; p < 3; p++) {
		struct tpmu t;

		throttle_new(&t, policies[p]);
		storm(&t, 100, 0);
		/* the cache re-enables parked events: it needs 2 opens */
		assert_int_equal(CALLS(&t, OPEN), policies[p] == PMU_POLICY_CACHE ? 2 : 10);
		if (policies[p] != PMU_POLICY_CACHE) {
			assert_int_equal(vpmu_stats(t.v)->throttled, 1);
			assert_null(fake_event_of(&t.fb, 0));
		}
		/* a second of storm, a write every 100 us: one open a ms */
		for (int ms = 1; ms <= 1000; ms++)
			for (int k = 0; k < 10; k++)
				storm(&t, 1, ms * MS + k * 100000ull);
		if (policies[p] != PMU_POLICY_CACHE)
			assert_true(CALLS(&t, OPEN) <= 10 + 1000 + 1);
		tpmu_end(&t);
	}
}

/* Over the budget the value stands still; it counts again from there. */
static void test_value_kept_then_counts(void **state)
{
	struct tpmu t;

	throttle_new(&t, PMU_POLICY_LAZY);
	wr(&t, A_PMC0, 500);
	storm(&t, 10, 0); /* the budget's 10 opens */
	fake_advance(&t.fb, 40);
	assert_int_equal(rd(&t, PMC0), 540);
	wr(&t, EVTSEL0, INSTR_SEL | INT | EN); /* one more: over */
	assert_int_equal(CALLS(&t, OPEN), 10);
	assert_int_equal(vpmu_stats(t.v)->throttled, 1);
	fake_advance(&t.fb, 1000);
	assert_int_equal(rd(&t, PMC0), 540);
	vpmu_tick(t.v, 500000); /* half an interval: still no room */
	assert_int_equal(CALLS(&t, OPEN), 10);
	vpmu_tick(t.v, MS); /* room: the tick opens it */
	assert_int_equal(CALLS(&t, OPEN), 11);
	assert_non_null(fake_event_of(&t.fb, 0));
	assert_int_equal(fake_event_of(&t.fb, 0)->desc.raw_config, 0xc0);
	/* sampling from the value it kept */
	assert_int_equal(fake_event_of(&t.fb, 0)->period, (1ull << 48) - 540);
	fake_advance(&t.fb, 60);
	assert_int_equal(rd(&t, PMC0), 600);
	assert_int_equal(vpmu_stats(t.v)->throttled, 1);
	tpmu_end(&t);
}

/* A throttled counter the guest disables wants nothing; its next enable
 * opens if there is room, and nothing is retried for a filtered one. */
static void test_next_enable_opens(void **state)
{
	struct tpmu t;

	throttle_new(&t, PMU_POLICY_LAZY);
	storm(&t, 11, 0);
	assert_int_equal(vpmu_stats(t.v)->throttled, 1);
	wr(&t, EVTSEL0, CYCLES_SEL); /* off */
	vpmu_tick(t.v, 5 * MS);
	assert_int_equal(CALLS(&t, OPEN), 10); /* off: no open at the tick */
	wr(&t, EVTSEL0, CYCLES_SEL | EN);
	assert_int_equal(CALLS(&t, OPEN), 11);
	assert_non_null(fake_event_of(&t.fb, 0));
	tpmu_end(&t);
}

/* Bursts of the default bound are far above what perf needs; unbounded
 * where asked (the fuzz harness compares policies that way). */
static void test_defaults_and_unbounded(void **state)
{
	struct tpmu t;
	char buf[2048];

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_NAIVE);
	assert_int_equal(t.cfg.open_rate, PMU_DEFAULT_OPEN_RATE);
	storm(&t, PMU_DEFAULT_OPEN_BURST + 5, 0);
	assert_int_equal(CALLS(&t, OPEN), PMU_DEFAULT_OPEN_BURST);
	assert_int_equal(vpmu_stats(t.v)->throttled, 1);
	assert_true(pmu_stats_format(vpmu_stats(t.v), true, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"throttled\": 1"));
	assert_true(pmu_stats_format(vpmu_stats(t.v), false, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "throttled"));
	tpmu_end(&t);

	tpmu_init(&t, PMU_MODEL_INTEL, PMU_POLICY_NAIVE);
	t.cfg.open_rate = PMU_OPEN_RATE_UNBOUNDED;
	tpmu_start(&t);
	storm(&t, 5000, 0);
	assert_int_equal(CALLS(&t, OPEN), 5000);
	assert_int_equal(vpmu_stats(t.v)->throttled, 0);
	tpmu_end(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_storm_bounded),
	    cmocka_unit_test(test_value_kept_then_counts),
	    cmocka_unit_test(test_next_enable_opens),
	    cmocka_unit_test(test_defaults_and_unbounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
