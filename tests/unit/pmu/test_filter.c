/*
 * The guest event filter: parsing of allow:/deny: lists, the model checks,
 * and under every policy a filtered counter opens no host event and keeps
 * the value the guest wrote, while the other counters count.
 */
#include <stdio.h>
#include <string.h>

#include "test_util.h"

#define FIXED_SLOT 8 /* the vPMC index of fixed counter 0 */

static void test_filter_parse(void **state)
{
	struct pmu_event_filter f;
	char err[160];

	assert_int_equal(pmu_filter_parse("deny:0x3c,0xc0:0x01,fixed1,196", &f,
					  err, sizeof(err)),
			 0);
	assert_int_equal(f.action, PMU_FILTER_DENY);
	assert_int_equal(f.nr_events, 3);
	assert_int_equal(f.events[0], PMU_FILTER_EVENT_ANY(0x3c));
	assert_int_equal(f.events[1], PMU_FILTER_EVENT(0xc0, 0x01));
	assert_int_equal(f.events[2], PMU_FILTER_EVENT_ANY(0xc4));
	assert_int_equal(f.fixed, 1u << 1);

	assert_int_equal(pmu_filter_parse("allow:", &f, err, sizeof(err)), 0);
	assert_int_equal(f.action, PMU_FILTER_ALLOW);
	assert_int_equal(f.nr_events + f.fixed, 0);
	assert_int_equal(
	    pmu_filter_parse("allow:0x1c0:0", &f, err, sizeof(err)), 0);
	assert_int_equal(f.events[0], PMU_FILTER_EVENT(0x1c0, 0));

	static const char *const bad[] = {
	    "0x3c",	   "permit:0x3c", "deny:0x1000", "deny:0x3c:0x100",
	    "deny:fixed3", "deny:fixed",  "deny:0x3c,",	 "deny:,0x3c",
	    "deny:x3c",	   "deny:0x3c:",  "deny:3c",	 "allow:0x3c:1:2",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (pmu_filter_parse(bad[i], &f, err, sizeof(err)) != -EINVAL)
			fail_msg("'%s' parsed", bad[i]);
		assert_true(strlen(err) > 0);
		assert_null(strchr(err, '\n'));
	}
	/* 32 events fit, 33 do not */
	char spec[512] = "deny:";
	for (int i = 0; i < PMU_FILTER_MAX_EVENTS; i++)
		snprintf(spec + strlen(spec), sizeof(spec) - strlen(spec),
			 "%s%d", i ? "," : "", i);
	assert_int_equal(pmu_filter_parse(spec, &f, err, sizeof(err)), 0);
	strcat(spec, ",99");
	assert_int_equal(pmu_filter_parse(spec, &f, err, sizeof(err)), -EINVAL);
}

static void test_filter_config_check(void **state)
{
	struct pmu_config cfg;
	char err[160];

	pmu_config_defaults(&cfg, PMU_MODEL_INTEL);
	assert_int_equal(
	    pmu_filter_parse("deny:0x3c,fixed2", &cfg.filter, err, sizeof(err)),
	    0);
	assert_int_equal(pmu_config_check(&cfg, err, sizeof(err)), 0);
	/* Intel event selects are 8 bits */
	assert_int_equal(
	    pmu_filter_parse("deny:0x1c0", &cfg.filter, err, sizeof(err)), 0);
	assert_int_equal(pmu_config_check(&cfg, err, sizeof(err)), -EINVAL);

	pmu_config_defaults(&cfg, PMU_MODEL_AMD);
	assert_int_equal(
	    pmu_filter_parse("deny:0x1c0", &cfg.filter, err, sizeof(err)), 0);
	assert_int_equal(pmu_config_check(&cfg, err, sizeof(err)), 0);
	assert_int_equal(
	    pmu_filter_parse("allow:fixed0", &cfg.filter, err, sizeof(err)), 0);
	assert_int_equal(pmu_config_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "fixed"));

	/* a list without an action, an unknown action, too long a list */
	memset(&cfg.filter, 0, sizeof(cfg.filter));
	cfg.filter.nr_events = 1;
	assert_int_equal(pmu_config_check(&cfg, err, sizeof(err)), -EINVAL);
	cfg.filter.action = 7;
	assert_int_equal(pmu_config_check(&cfg, err, sizeof(err)), -EINVAL);
	cfg.filter.action = PMU_FILTER_DENY;
	cfg.filter.nr_events = PMU_FILTER_MAX_EVENTS + 1;
	assert_int_equal(pmu_config_check(&cfg, err, sizeof(err)), -EINVAL);
}

static void new_filtered(struct tpmu *t, enum pmu_model model,
			 enum pmu_policy policy, const char *spec)
{
	char err[160];

	tpmu_init(t, model, policy);
	assert_int_equal(
	    pmu_filter_parse(spec, &t->cfg.filter, err, sizeof(err)), 0);
	tpmu_start(t);
}

/* A denied event reads 0 (or what the guest wrote), and never opens. */
static void test_filter_deny(void **state)
{
	enum pmu_policy policy;
	struct tpmu t;
	int i;

	for (policy = PMU_POLICY_LAZY; policy <= PMU_POLICY_CACHE; policy++) {
		new_filtered(&t, PMU_MODEL_INTEL, policy, "deny:0x3c:0,fixed1");
		wr(&t, EVTSEL0, CYCLES_SEL | EN); /* 0x3c:0 */
		wr(&t, EVTSEL0 + 1, INSTR_SEL | EN);
		wr(&t, EVTSEL0 + 2, 0x13c | USR | OS | EN); /* umask 1 */
		wr(&t, GLOBAL_CTRL, 0x700000007ull);
		wr(&t, FIXED_CTRL, 0x333);
		for (i = 0; i < 10; i++) { /* toggles retry nothing */
			wr(&t, GLOBAL_CTRL, 0);
			wr(&t, GLOBAL_CTRL, 0x700000007ull);
		}
		assert_int_equal(t.fb.max_live, 4); /* gp1, gp2, fixed 0, 2 */
		assert_null(fake_event_of(&t.fb, 0));
		assert_null(fake_event_of(&t.fb, FIXED_SLOT + 1));
		fake_advance(&t.fb, 77);
		assert_int_equal(rd(&t, PMC0), 0);
		assert_int_equal(rd(&t, PMC0 + 1), 77);
		assert_int_equal(rd(&t, PMC0 + 2), 77);
		assert_int_equal(rd(&t, FIXED_CTR0), 77);
		assert_int_equal(rd(&t, FIXED_CTR0 + 1), 0);
		assert_int_equal(rd(&t, FIXED_CTR0 + 2), 77);
		assert_true(vpmu_stats(t.v)->filtered >= 2);
		/* a guest write stays as written */
		wr(&t, A_PMC0, 1234);
		fake_advance(&t.fb, 5);
		assert_int_equal(rd(&t, PMC0), 1234);
		tpmu_end(&t);
	}
}

static void test_filter_allow(void **state)
{
	enum pmu_policy policy;
	struct tpmu t;

	for (policy = PMU_POLICY_LAZY; policy <= PMU_POLICY_CACHE; policy++) {
		new_filtered(&t, PMU_MODEL_INTEL, policy,
			     "allow:0x3c:1,fixed0");
		wr(&t, EVTSEL0, CYCLES_SEL | EN);
		wr(&t, EVTSEL0 + 1, 0x13c | OS | EN);
		wr(&t, GLOBAL_CTRL, 0x700000003ull);
		wr(&t, FIXED_CTRL, 0x333);
		assert_int_equal(CALLS(&t, OPEN), 2); /* gp1, fixed 0 */
		fake_advance(&t.fb, 5);
		assert_int_equal(rd(&t, PMC0), 0);
		assert_int_equal(rd(&t, PMC0 + 1), 5);
		assert_int_equal(rd(&t, FIXED_CTR0), 5);
		assert_int_equal(rd(&t, FIXED_CTR0 + 1), 0);
		/* a counter switching to a filtered event stops counting */
		wr(&t, EVTSEL0 + 1, CYCLES_SEL | EN);
		fake_advance(&t.fb, 5);
		assert_int_equal(rd(&t, PMC0 + 1), 5);
		tpmu_end(&t);

		/* AMD: the event select's bits 11:8 are EVTSEL[35:32] */
		new_filtered(&t, PMU_MODEL_AMD, policy, "allow:0x1c0");
		wr(&t, F15_CTL(0), (1ull << 32) | INSTR_SEL | EN);
		wr(&t, F15_CTL(1), INSTR_SEL | EN);
		assert_int_equal(CALLS(&t, OPEN), 1);
		assert_non_null(fake_event_of(&t.fb, 0));
		assert_int_equal(vpmu_stats(t.v)->filtered, 1);
		tpmu_end(&t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_filter_parse),
	    cmocka_unit_test(test_filter_config_check),
	    cmocka_unit_test(test_filter_deny),
	    cmocka_unit_test(test_filter_allow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
