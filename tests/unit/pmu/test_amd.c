/*
 * AMD core PMU register semantics over the fake backend: legacy and
 * PerfCtrExtCore aliasing, ignored reserved bits, PerfMonV2 global MSRs.
 */
#include "test_util.h"

static void test_legacy_aliases_ext_core(void **state)
{
	struct tpmu t;
	int i;

	tpmu_new(&t, PMU_MODEL_AMD, PMU_POLICY_LAZY);
	for (i = 0; i < 4; i++) {
		wr(&t, K7_EVTSEL0 + i, 0x10 + i);
		assert_int_equal(rd(&t, F15_CTL(i)), 0x10 + i);
		wr(&t, F15_CTR(i), 0x100 + i);
		assert_int_equal(rd(&t, K7_CTR0 + i), 0x100 + i);
	}
	wr(&t, F15_CTL(5), 0x76);
	assert_int_equal(rd(&t, F15_CTL(5)), 0x76);
	rd_gp(&t, F15_CTL(6));
	wr_gp(&t, F15_CTR(6), 0);
	tpmu_end(&t);
}

static void test_legacy_only(void **state)
{
	struct tpmu t;

	tpmu_init(&t, PMU_MODEL_AMD, PMU_POLICY_LAZY);
	t.cfg.nr_gp = 4;
	assert_int_equal(vpmu_create(&t.cfg, &t.be, &t.v), -EINVAL);
	t.cfg.perfmon_v2 = false;
	tpmu_start(&t);
	rd_gp(&t, F15_CTL(0));
	wr_gp(&t, F15_CTR(0), 0);
	rd_gp(&t, AMD_CTL);
	wr_gp(&t, AMD_STATUS_CLR, 0);
	/* no global control: the enable bit alone starts counting */
	wr(&t, K7_EVTSEL0 + 3, AMD_CYCLES_SEL | EN);
	assert_int_equal(CALLS(&t, OPEN), 1);
	fake_advance(&t.fb, 7);
	assert_int_equal(rd(&t, K7_CTR0 + 3), 7);
	tpmu_end(&t);

	tpmu_init(&t, PMU_MODEL_AMD, PMU_POLICY_LAZY);
	t.cfg.nr_gp = 5;
	assert_int_equal(vpmu_create(&t.cfg, &t.be, &t.v), -EINVAL);
}

static void test_reserved_bits_ignored(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_AMD, PMU_POLICY_LAZY);
	/* bits 19, 21, 40-41 (Host/GuestOnly), 63 are dropped, no #GP */
	wr(&t, F15_CTL(0), 0x0000000f00000076ull | 1ull << 19 | 1ull << 21 |
			   3ull << 40 | 1ull << 63);
	assert_int_equal(rd(&t, F15_CTL(0)), 0x0000000f00000076ull);
	wr(&t, F15_CTR(0), ~0ull);
	assert_int_equal(rd(&t, F15_CTR(0)), MASK48);
	tpmu_end(&t);
}

static void test_perfmon_v2_global(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_AMD, PMU_POLICY_LAZY);
	assert_int_equal(rd(&t, AMD_CTL), 0x3f);
	wr(&t, AMD_CTL, ~0ull);			/* reserved bits dropped */
	assert_int_equal(rd(&t, AMD_CTL), 0x3f);

	wr(&t, AMD_CTL, 0);
	wr(&t, F15_CTL(1), AMD_CYCLES_SEL | EN);
	assert_int_equal(CALLS(&t, OPEN), 0);
	wr(&t, AMD_CTL, 2);
	assert_int_equal(CALLS(&t, OPEN), 1);

	wr(&t, AMD_STATUS, 0x3f);		/* read-only: ignored */
	assert_int_equal(rd(&t, AMD_STATUS), 0);
	wr(&t, AMD_STATUS_SET, ~0ull);
	assert_int_equal(rd(&t, AMD_STATUS), 0x3f);
	wr(&t, AMD_STATUS_CLR, 0x5);
	assert_int_equal(rd(&t, AMD_STATUS), 0x3a);
	assert_int_equal(rd(&t, AMD_STATUS_CLR), 0);
	assert_int_equal(rd(&t, AMD_STATUS_SET), 0);
	wr(&t, AMD_STATUS_CLR, ~0ull);
	assert_int_equal(rd(&t, AMD_STATUS), 0);

	/* overflow sets the status bit; STATUS_CLR acknowledges it */
	wr(&t, F15_CTR(1), MASK48);
	fake_advance(&t.fb, 2);
	assert_int_equal(rd(&t, F15_CTR(1)), 1);
	assert_int_equal(rd(&t, AMD_STATUS), 2);
	wr(&t, AMD_STATUS_CLR, 2);
	assert_int_equal(rd(&t, AMD_STATUS), 0);
	tpmu_end(&t);
}

static void test_event_description(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_AMD, PMU_POLICY_LAZY);
	wr(&t, F15_CTL(0), AMD_CYCLES_SEL | EN);
	assert_int_equal(t.fb.last_open.model, PMU_MODEL_AMD);
	assert_int_equal(t.fb.last_open.generic, PMU_EV_CYCLES);
	wr(&t, F15_CTL(1), 0x00000001000000c0ull | OS | EN);	/* 0x1c0 */
	assert_int_equal(t.fb.last_open.generic, PMU_EV_RAW);
	assert_int_equal(t.fb.last_open.raw_config, 0x00000001000000c0ull);
	assert_true(t.fb.last_open.exclude_user);
	wr(&t, F15_CTL(2), 0xc3 | USR | EN);
	assert_int_equal(t.fb.last_open.generic, PMU_EV_BRANCH_MISSES);
	tpmu_end(&t);
}

static void test_shadow_values(void **state)
{
	struct pmu_msr_value vals[16];
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_AMD, PMU_POLICY_LAZY);
	wr(&t, F15_CTR(2), 1234);
	assert_int_equal(vpmu_shadow_values(t.v, vals, 16), 6);
	assert_int_equal(vals[2].msr, F15_CTR(2));
	assert_int_equal(vals[2].value, 1234);
	assert_int_equal(vpmu_shadow_values(t.v, vals, 5), -ENOSPC);
	tpmu_end(&t);

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	wr(&t, FIXED_CTR0 + 1, 99);
	assert_int_equal(vpmu_shadow_values(t.v, vals, 16), 7);
	assert_int_equal(vals[5].msr, FIXED_CTR0 + 1);
	assert_int_equal(vals[5].value, 99);
	tpmu_end(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_legacy_aliases_ext_core),
		cmocka_unit_test(test_legacy_only),
		cmocka_unit_test(test_reserved_bits_ignored),
		cmocka_unit_test(test_perfmon_v2_global),
		cmocka_unit_test(test_event_description),
		cmocka_unit_test(test_shadow_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
