/*
 * Intel architectural PMU v2 register semantics over the fake backend:
 * reserved bits, widths, sign extension, global gating, status/overflow.
 */
#include "test_util.h"

static void test_unknown_and_absent_msrs(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);	/* 4 GP */
	rd_gp(&t, 0x10);
	wr_gp(&t, 0x10, 0);
	rd_gp(&t, PMC0 + 4);
	wr_gp(&t, PMC0 + 4, 0);
	rd_gp(&t, EVTSEL0 + 7);
	wr_gp(&t, EVTSEL0 + 4, 0);
	rd_gp(&t, A_PMC0 + 4);
	rd_gp(&t, FIXED_CTR0 + 3);
	rd(&t, PMC0 + 3);
	assert_int_equal(vpmu_stats(t.v)->gp_faults, 8);
	tpmu_end(&t);
}

static void test_evtsel_reserved_bits(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	wr_gp(&t, EVTSEL0, 1ull << 21);		/* AnyThread is v3 */
	wr_gp(&t, EVTSEL0, 1ull << 32);
	wr_gp(&t, EVTSEL0, 1ull << 63);
	/* every defined v2 bit, incl. PC (19) and INT (20), is writable */
	wr(&t, EVTSEL0 + 1, 0xffdfffffull);
	assert_int_equal(rd(&t, EVTSEL0 + 1), 0xffdfffffull);
	assert_int_equal(rd(&t, EVTSEL0), 0);
	tpmu_end(&t);
}

static void test_pmc_sign_extension(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	wr(&t, PMC0, 0x80000000);
	assert_int_equal(rd(&t, PMC0), 0xffff80000000ull);
	wr(&t, PMC0, 0x7fffffff);
	assert_int_equal(rd(&t, PMC0), 0x7fffffffull);
	/* only bits 31:0 are written through the legacy alias */
	wr(&t, PMC0, 0x1234567800000001ull);
	assert_int_equal(rd(&t, PMC0), 1);
	wr(&t, PMC0, 0xfffffffffffffff6ull);
	assert_int_equal(rd(&t, PMC0), MASK48 - 9);
	/* the full-width alias reads the same counter */
	assert_int_equal(rd(&t, A_PMC0), MASK48 - 9);
	tpmu_end(&t);
}

static void test_full_width_writes(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	assert_int_equal(rd(&t, PERF_CAPS), 1ull << 13);
	wr_gp(&t, PERF_CAPS, 0);
	wr(&t, A_PMC0 + 2, 0x923456789abcull);
	assert_int_equal(rd(&t, PMC0 + 2), 0x923456789abcull);
	wr_gp(&t, A_PMC0 + 2, 1ull << 48);
	wr(&t, A_PMC0 + 3, MASK48);
	assert_int_equal(rd(&t, A_PMC0 + 3), MASK48);
	tpmu_end(&t);

	tpmu_init(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	t.cfg.full_width_writes = false;
	tpmu_start(&t);
	assert_int_equal(rd(&t, PERF_CAPS), 0);
	rd_gp(&t, A_PMC0);
	wr_gp(&t, A_PMC0, 1);
	tpmu_end(&t);
}

static void test_fixed_counters(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	wr(&t, FIXED_CTR0 + 2, MASK48);
	assert_int_equal(rd(&t, FIXED_CTR0 + 2), MASK48);
	wr_gp(&t, FIXED_CTR0, 1ull << 48);
	wr_gp(&t, FIXED_CTR0 + 3, 0);

	wr_gp(&t, FIXED_CTRL, 0x4);		/* AnyThread is v3 */
	wr_gp(&t, FIXED_CTRL, 1ull << 12);	/* no fourth fixed counter */
	wr(&t, FIXED_CTRL, 0xbbb);
	assert_int_equal(rd(&t, FIXED_CTRL), 0xbbb);
	wr(&t, FIXED_CTRL, 0x0);
	assert_int_equal(rd(&t, FIXED_CTRL), 0);
	tpmu_end(&t);
}

static void test_global_ctrl(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	/* reset value: every GP counter enabled, no fixed */
	assert_int_equal(rd(&t, GLOBAL_CTRL), 0xf);
	wr_gp(&t, GLOBAL_CTRL, 1ull << 4);
	wr_gp(&t, GLOBAL_CTRL, 1ull << 35);
	wr(&t, GLOBAL_CTRL, 0x70000000full);
	assert_int_equal(rd(&t, GLOBAL_CTRL), 0x70000000full);
	tpmu_end(&t);

	tpmu_init(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	t.cfg.nr_gp = 8;
	tpmu_start(&t);
	assert_int_equal(rd(&t, GLOBAL_CTRL), 0xff);
	wr(&t, EVTSEL0 + 7, CYCLES_SEL);
	rd(&t, PMC0 + 7);
	tpmu_end(&t);

	tpmu_init(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	t.cfg.nr_gp = 9;
	assert_int_equal(vpmu_create(&t.cfg, &t.be, &t.v), -EINVAL);
}

static void test_global_gating(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	wr(&t, GLOBAL_CTRL, 0);
	wr(&t, EVTSEL0, CYCLES_SEL | EN);
	assert_int_equal(CALLS(&t, OPEN), 0);	/* EN alone is not enough */
	wr(&t, GLOBAL_CTRL, 1);
	assert_int_equal(CALLS(&t, OPEN), 1);
	fake_advance(&t.fb, 100);
	assert_int_equal(rd(&t, PMC0), 100);
	wr(&t, GLOBAL_CTRL, 0);
	fake_advance(&t.fb, 100);		/* host stopped: not seen */
	assert_int_equal(rd(&t, PMC0), 100);
	wr(&t, GLOBAL_CTRL, 1);
	fake_advance(&t.fb, 5);
	assert_int_equal(rd(&t, PMC0), 105);
	/* global bit alone is not enough either */
	wr(&t, EVTSEL0, CYCLES_SEL);
	fake_advance(&t.fb, 5);
	assert_int_equal(rd(&t, PMC0), 105);

	/* fixed counters: field enable AND global bit 32+i */
	wr(&t, FIXED_CTRL, 0x3);
	assert_int_equal(t.fb.live, 1);
	wr(&t, GLOBAL_CTRL, 1ull << 32);
	assert_int_equal(t.fb.live, 2);
	assert_true(t.fb.last_open.fixed);
	assert_int_equal(t.fb.last_open.generic, PMU_EV_INSTRUCTIONS);
	tpmu_end(&t);
}

static void test_event_description(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	wr(&t, EVTSEL0, 0x3c | USR | EN);
	assert_int_equal(t.fb.last_open.generic, PMU_EV_CYCLES);
	assert_true(t.fb.last_open.exclude_kernel);
	assert_false(t.fb.last_open.exclude_user);
	assert_true(t.fb.last_open_enabled);
	assert_int_equal(t.fb.last_open.sample_period, 0);

	wr(&t, EVTSEL0 + 1, 0x13c | OS | EN);
	assert_int_equal(t.fb.last_open.generic, PMU_EV_REF_CYCLES);
	assert_true(t.fb.last_open.exclude_user);

	/* a counter mask makes it no longer the architectural event */
	wr(&t, EVTSEL0 + 2, 0x010000c0 | USR | OS | EN);
	assert_int_equal(t.fb.last_open.generic, PMU_EV_RAW);
	assert_int_equal(t.fb.last_open.raw_config, 0x010000c0);

	wr(&t, EVTSEL0 + 3, 0x412e | USR | OS | EN);
	assert_int_equal(t.fb.last_open.generic, PMU_EV_LLC_MISSES);

	wr(&t, FIXED_CTRL, 0x200);	/* fixed 2, USR only */
	wr(&t, GLOBAL_CTRL, 0x40000000full);
	assert_int_equal(t.fb.last_open.generic, PMU_EV_REF_CYCLES);
	assert_true(t.fb.last_open.exclude_kernel);
	assert_false(t.fb.last_open.exclude_user);
	assert_int_equal(t.fb.live, 5);
	tpmu_end(&t);
}

static void test_counts_nothing_without_usr_os(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	wr(&t, EVTSEL0, 0x3c | EN);
	assert_int_equal(CALLS(&t, OPEN), 0);
	tpmu_end(&t);
}

static void test_read_is_base_plus_delta_masked(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	wr(&t, EVTSEL0, CYCLES_SEL | EN);
	wr(&t, A_PMC0, MASK48 - 9);
	fake_advance(&t.fb, 25);
	assert_int_equal(rd(&t, PMC0), 15);		/* wrapped at 48 bits */
	assert_int_equal(rd(&t, GLOBAL_STATUS), 1);	/* and overflowed */
	wr_gp(&t, GLOBAL_STATUS, 0);
	wr_gp(&t, GLOBAL_OVF, 1ull << 5);		/* no counter 5 */
	wr(&t, GLOBAL_OVF, 1 | 1ull << 62 | 1ull << 63);
	assert_int_equal(rd(&t, GLOBAL_STATUS), 0);
	assert_int_equal(rd(&t, GLOBAL_OVF), 0);
	assert_int_equal(vpmu_stats(t.v)->overflows, 1);
	tpmu_end(&t);
}

static void test_sampling_period_and_pmi(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	wr(&t, PMC0, -1000);
	wr(&t, EVTSEL0, CYCLES_SEL | INT | EN);
	assert_int_equal(t.fb.last_open.sample_period, 1000);
	assert_int_equal(vpmu_overflow(t.v), 0);
	fake_advance(&t.fb, 1003);
	assert_int_equal(vpmu_overflow(t.v), 1);	/* PMI for the guest */
	assert_int_equal(rd(&t, GLOBAL_STATUS), 1);
	/* host keeps its old period until a signal brings no overflow */
	assert_int_equal(fake_event_of(&t.fb, 0)->period, 1000);
	/* ... and the guest acked the last one: until then it is the
	 * guest's handler's to reload the counter */
	fake_advance(&t.fb, 1000);
	assert_int_equal(vpmu_overflow(t.v), 0);
	assert_int_equal(fake_event_of(&t.fb, 0)->period, 1000);
	wr(&t, GLOBAL_OVF, 1);
	fake_advance(&t.fb, 1000);
	assert_int_equal(vpmu_overflow(t.v), 0);
	assert_int_equal(fake_event_of(&t.fb, 0)->period, (1ull << 48) - 2003);
	assert_int_equal(vpmu_stats(t.v)->pmis, 1);

	/* a period at the width boundary: value 0 means 2^48 */
	wr(&t, A_PMC0, 0);
	assert_int_equal(fake_event_of(&t.fb, 0)->period, 1ull << 48);
	wr(&t, A_PMC0, MASK48);
	assert_int_equal(fake_event_of(&t.fb, 0)->period, 1);
	tpmu_end(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_and_absent_msrs),
		cmocka_unit_test(test_evtsel_reserved_bits),
		cmocka_unit_test(test_pmc_sign_extension),
		cmocka_unit_test(test_full_width_writes),
		cmocka_unit_test(test_fixed_counters),
		cmocka_unit_test(test_global_ctrl),
		cmocka_unit_test(test_global_gating),
		cmocka_unit_test(test_event_description),
		cmocka_unit_test(test_counts_nothing_without_usr_os),
		cmocka_unit_test(test_read_is_base_plus_delta_masked),
		cmocka_unit_test(test_sampling_period_and_pmi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
