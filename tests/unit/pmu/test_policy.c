/*
 * Exact host-call counts of the lazy and naive policies on the MSR
 * sequences a Linux guest issues (arch/x86/events/intel/core.c,
 * amd/core.c), idle release timing, and host failure handling.
 */
#include <string.h>

#include "test_util.h"

/* Enable once, then N disable/enable toggles of the EN bit. */
static void toggles(struct tpmu *t, int n)
{
	int i;

	wr(t, EVTSEL0, CYCLES_SEL | EN);
	for (i = 0; i < n; i++) {
		wr(t, EVTSEL0, CYCLES_SEL);
		wr(t, EVTSEL0, CYCLES_SEL | EN);
	}
}

static void test_toggles_lazy(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	toggles(&t, 1000);
	assert_int_equal(CALLS(&t, OPEN), 1);
	assert_int_equal(CALLS(&t, DISABLE), 1000);
	assert_int_equal(CALLS(&t, ENABLE), 1000);
	assert_int_equal(CALLS(&t, CLOSE), 0);
	assert_int_equal(CALLS(&t, READ), 0);
	assert_int_equal(vpmu_stats(t.v)->fds_peak, 1);
	tpmu_end(&t);
}

static void test_toggles_naive(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_NAIVE);
	toggles(&t, 1000);
	assert_int_equal(CALLS(&t, OPEN), 1001);
	assert_int_equal(CALLS(&t, CLOSE), 1000);
	assert_int_equal(CALLS(&t, READ), 1000);	/* fold before close */
	assert_int_equal(CALLS(&t, ENABLE) + CALLS(&t, DISABLE), 0);
	assert_int_equal(vpmu_stats(t.v)->opens, 1001);
	assert_int_equal(vpmu_stats(t.v)->fds_peak, 1);
	tpmu_end(&t);
}

/*
 * A context switch in and out of a task with one counting event:
 * perf_pmu_disable (GLOBAL_CTRL=0), del (EVTSEL without EN, read the
 * count), add (set_period writes the counter, EVTSEL|EN), perf_pmu_enable
 * (GLOBAL_CTRL=mask). Test guests read with RDMSR where Linux uses RDPMC.
 */
static void intel_sched_cycle(struct tpmu *t)
{
	wr(t, GLOBAL_CTRL, 0);
	wr(t, EVTSEL0, CYCLES_SEL);
	rd(t, PMC0);
	wr(t, A_PMC0, (-1000ull) & MASK48);
	wr(t, EVTSEL0, CYCLES_SEL | EN);
	wr(t, GLOBAL_CTRL, 1);
}

static void test_intel_context_switch(void **state)
{
	enum pmu_policy policy;
	struct tpmu t;
	int i;

	for (policy = PMU_POLICY_LAZY; policy <= PMU_POLICY_NAIVE; policy++) {
		tpmu_new(&t, PMU_MODEL_INTEL, policy);
		intel_sched_cycle(&t);			/* first add */
		assert_int_equal(CALLS(&t, OPEN), 1);
		fake_reset_calls(&t.fb);
		for (i = 0; i < 100; i++) {
			fake_advance(&t.fb, 10);
			intel_sched_cycle(&t);
		}
		if (policy == PMU_POLICY_LAZY) {
			assert_int_equal(CALLS(&t, OPEN), 0);
			assert_int_equal(CALLS(&t, DISABLE), 100);
			assert_int_equal(CALLS(&t, ENABLE), 100);
			/* one to read the count, one to rebase the write */
			assert_int_equal(CALLS(&t, READ), 200);
		} else {
			assert_int_equal(CALLS(&t, OPEN), 100);
			assert_int_equal(CALLS(&t, CLOSE), 100);
			assert_int_equal(CALLS(&t, READ), 100);
		}
		fake_advance(&t.fb, 10);
		assert_int_equal(rd(&t, PMC0), (-990ull) & MASK48);
		tpmu_end(&t);
	}
}

/* Linux's v2 PMI handler: disable all, status, reload, ack, enable all. */
static void test_intel_pmi_handler_no_recreation(void **state)
{
	enum pmu_policy policy;
	struct tpmu t;
	int i;

	for (policy = PMU_POLICY_LAZY; policy <= PMU_POLICY_NAIVE; policy++) {
		tpmu_new(&t, PMU_MODEL_INTEL, policy);
		wr(&t, GLOBAL_CTRL, 0);
		wr(&t, A_PMC0, (-1000ull) & MASK48);
		wr(&t, EVTSEL0, CYCLES_SEL | INT | EN);
		wr(&t, GLOBAL_CTRL, 1);
		for (i = 0; i < 50; i++) {
			fake_advance(&t.fb, 1000);
			assert_int_equal(vpmu_overflow(t.v), 1);
			wr(&t, GLOBAL_CTRL, 0);
			assert_int_equal(rd(&t, GLOBAL_STATUS), 1);
			rd(&t, PMC0);
			wr(&t, A_PMC0, (-1000ull) & MASK48);
			wr(&t, GLOBAL_OVF, 1);
			wr(&t, GLOBAL_CTRL, 1);
			assert_int_equal(rd(&t, GLOBAL_STATUS), 0);
		}
		if (policy == PMU_POLICY_LAZY) {
			assert_int_equal(CALLS(&t, OPEN), 1);
			assert_int_equal(vpmu_stats(t.v)->recreations, 0);
			assert_int_equal(fake_event_of(&t.fb, 0)->period, 1000);
			/* each reload lands where the host re-armed itself */
			assert_int_equal(CALLS(&t, SET_PERIOD), 0);
		} else {
			assert_int_equal(CALLS(&t, OPEN), 51);
			assert_int_equal(t.fb.last_open.sample_period, 1000);
		}
		assert_int_equal(vpmu_stats(t.v)->pmis, 50);
		tpmu_end(&t);
	}
}

/*
 * A sampling counter overflows on the host while the guest runs, and the
 * guest disables it before the host's signal is handled: the disable must
 * find the overflow, so the status bit and the PMI reach the guest while it
 * still counts the counter as active (hardware raises the PMI at the
 * overflow itself). Both policies.
 */
static void test_overflow_found_at_disable(void **state)
{
	enum pmu_policy policy;
	struct tpmu t;

	for (policy = PMU_POLICY_LAZY; policy <= PMU_POLICY_NAIVE; policy++) {
		tpmu_new(&t, PMU_MODEL_AMD, policy);
		wr(&t, AMD_CTL, 0);
		wr(&t, F15_CTR(0), (-1000ull) & MASK48);
		wr(&t, F15_CTL(0), AMD_CYCLES_SEL | INT | EN);
		wr(&t, AMD_CTL, 1);
		fake_advance(&t.fb, 1500);
		vpmu_tick(t.v, 1000);	/* 1 us: time enough for 1500 events */
		assert_false(vpmu_take_pmi(t.v));
		wr(&t, AMD_CTL, 0);
		assert_true(vpmu_take_pmi(t.v));
		assert_false(vpmu_take_pmi(t.v));	/* one PMI per overflow */
		assert_int_equal(rd(&t, AMD_STATUS), 1);
		assert_int_equal(rd(&t, F15_CTR(0)), 500);
		assert_int_equal(vpmu_stats(t.v)->pmis, 1);
		tpmu_end(&t);
	}
}

/*
 * An overflow belongs to the control it happened under: a disabling write
 * that also clears INT still shows the status bit (no PMI, like hardware
 * that raised it already), and a counter that wrapped with INT clear does
 * not raise a PMI when it is later reprogrammed with INT set. Both policies.
 */
static void test_overflow_judged_by_old_control(void **state)
{
	enum pmu_policy policy;
	struct tpmu t;

	for (policy = PMU_POLICY_LAZY; policy <= PMU_POLICY_NAIVE; policy++) {
		tpmu_new(&t, PMU_MODEL_AMD, policy);
		wr(&t, F15_CTR(0), (-1000ull) & MASK48);
		wr(&t, F15_CTL(0), AMD_CYCLES_SEL | INT | EN);
		fake_advance(&t.fb, 1500);
		vpmu_tick(t.v, 1000);
		wr(&t, F15_CTL(0), AMD_CYCLES_SEL); /* off, and INT off */
		assert_int_equal(rd(&t, AMD_STATUS), 1);
		assert_true(vpmu_take_pmi(t.v)); /* it wrapped while INT was on */
		wr(&t, AMD_STATUS_CLR, 1);

		wr(&t, F15_CTR(1), (-1000ull) & MASK48);
		wr(&t, F15_CTL(1), INSTR_SEL | EN); /* no INT */
		fake_advance(&t.fb, 1500);
		vpmu_tick(t.v, 2000);
		wr(&t, F15_CTL(1), AMD_CYCLES_SEL | INT | EN);
		assert_int_equal(rd(&t, AMD_STATUS), 2);
		assert_false(vpmu_take_pmi(t.v));
		tpmu_end(&t);
	}
}

/* Linux's counting events also ask for a PMI, 2^47 events from the wrap:
 * toggling them never costs a host read, nor does a status read. */
static void test_far_from_wrap_needs_no_read(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_AMD, PMU_POLICY_LAZY);
	wr(&t, F15_CTR(0), (-(1ull << 47)) & MASK48);
	wr(&t, F15_CTL(0), AMD_CYCLES_SEL | INT | EN);
	for (uint64_t ms = 1; ms <= 100; ms++) {
		fake_advance(&t.fb, 3000000);
		vpmu_tick(t.v, ms * 1000000);
		wr(&t, AMD_CTL, 0);
		assert_int_equal(rd(&t, AMD_STATUS), 0);
		wr(&t, AMD_CTL, 0x3f);
	}
	assert_int_equal(CALLS(&t, READ), 0);
	assert_int_equal(rd(&t, F15_CTR(0)), (1ull << 47) + 300000000);
	tpmu_end(&t);
}

/* A counting counter (no PMI) disabled under lazy is folded lazily, but a
 * GLOBAL_STATUS read shows its overflow as hardware's would. */
static void test_status_read_folds(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	wr(&t, A_PMC0, (-100ull) & MASK48);
	wr(&t, EVTSEL0, CYCLES_SEL | EN);
	fake_advance(&t.fb, 200);
	wr(&t, EVTSEL0, CYCLES_SEL);
	assert_int_equal(CALLS(&t, READ), 0);	/* a disable alone reads nothing */
	vpmu_tick(t.v, 1000);
	assert_int_equal(rd(&t, GLOBAL_STATUS), 1);
	assert_false(vpmu_take_pmi(t.v));	/* no INT bit: no PMI */
	assert_int_equal(rd(&t, PMC0), 100);
	tpmu_end(&t);
}

/* amd/core.c without PerfMonV2: disable_all/enable_all walk the EVTSELs. */
static void test_amd_legacy_disable_enable_all(void **state)
{
	enum pmu_policy policy;
	struct tpmu t;
	int i, c;

	for (policy = PMU_POLICY_LAZY; policy <= PMU_POLICY_NAIVE; policy++) {
		tpmu_init(&t, PMU_MODEL_AMD, policy);
		t.cfg.perfmon_v2 = false;
		tpmu_start(&t);
		wr(&t, F15_CTL(0), AMD_CYCLES_SEL | EN);
		wr(&t, F15_CTL(1), INSTR_SEL | EN);
		fake_reset_calls(&t.fb);
		for (i = 0; i < 100; i++) {
			for (c = 0; c < 2; c++) {
				uint64_t sel = rd(&t, F15_CTL(c));

				if (sel & EN)
					wr(&t, F15_CTL(c), sel & ~EN);
			}
			for (c = 0; c < 2; c++)
				wr(&t, F15_CTL(c), rd(&t, F15_CTL(c)) | EN);
		}
		if (policy == PMU_POLICY_LAZY) {
			assert_int_equal(CALLS(&t, OPEN), 0);
			assert_int_equal(CALLS(&t, DISABLE), 200);
			assert_int_equal(CALLS(&t, ENABLE), 200);
		} else {
			assert_int_equal(CALLS(&t, OPEN), 200);
			assert_int_equal(CALLS(&t, CLOSE), 200);
		}
		tpmu_end(&t);
	}
}

/* amd_pmu_v2_{disable,enable}_all: one GLOBAL_CTL write each. */
static void test_amd_v2_global_toggles(void **state)
{
	enum pmu_policy policy;
	struct tpmu t;
	int i;

	for (policy = PMU_POLICY_LAZY; policy <= PMU_POLICY_NAIVE; policy++) {
		tpmu_new(&t, PMU_MODEL_AMD, policy);
		wr(&t, AMD_CTL, 0);
		wr(&t, F15_CTL(0), AMD_CYCLES_SEL | EN);
		wr(&t, F15_CTL(3), INSTR_SEL | EN);
		wr(&t, AMD_CTL, 0x9);
		for (i = 0; i < 500; i++) {
			wr(&t, AMD_CTL, 0);
			wr(&t, AMD_CTL, 0x9);
		}
		if (policy == PMU_POLICY_LAZY) {
			/* both counters flip together: one host call per write */
			assert_int_equal(CALLS(&t, OPEN), 2);
			assert_int_equal(CALLS(&t, DISABLE), 0);
			assert_int_equal(CALLS(&t, ENABLE), 0);
			assert_int_equal(CALLS(&t, SET_ALL), 1000);
			assert_int_equal(vpmu_stats(t.v)->group_toggles, 1000);
			fake_advance(&t.fb, 5);
			assert_int_equal(rd(&t, F15_CTR(0)), 5);
			wr(&t, AMD_CTL, 0);
			fake_advance(&t.fb, 5); /* off: not the guest's */
			assert_int_equal(rd(&t, F15_CTR(3)), 5);
		} else {
			assert_int_equal(CALLS(&t, OPEN), 1002);
			assert_int_equal(CALLS(&t, CLOSE), 1000);
		}
		tpmu_end(&t);
	}
}

/*
 * Intel PERF_GLOBAL_CTRL flips on a host that cannot count every enabled
 * counter (the software fallback has no instructions event for fixed 0):
 * the counters without a host event never will have one, so each flip is
 * still one host call, and what the counting ones show is exact.
 */
static void test_intel_global_toggles_with_uncountable(void **state)
{
	enum pmu_policy policy;
	struct tpmu t;
	int i;

	for (policy = PMU_POLICY_LAZY; policy <= PMU_POLICY_CACHE; policy++) {
		if (policy == PMU_POLICY_NAIVE)
			continue;
		tpmu_init(&t, PMU_MODEL_INTEL, policy);
		t.fb.caps.counts = 1u << PMU_EV_CYCLES | 1u << PMU_EV_REF_CYCLES;
		t.fb.caps.software = t.fb.caps.counts;
		t.fb.caps.raw = false;
		tpmu_start(&t);
		wr(&t, GLOBAL_CTRL, 0);
		wr(&t, EVTSEL0, CYCLES_SEL | EN);
		wr(&t, EVTSEL0 + 1, INSTR_SEL | EN); /* not countable here */
		wr(&t, FIXED_CTRL, 0x333);
		wr(&t, GLOBAL_CTRL, 0x700000003ull);
		assert_int_equal(CALLS(&t, OPEN), 3); /* PMC0, fixed 1 and 2 */
		fake_reset_calls(&t.fb);
		for (i = 0; i < 100; i++) {
			fake_advance(&t.fb, 2);
			/* a context switch as Linux does it (see bench guest) */
			wr(&t, GLOBAL_CTRL, 0);
			fake_advance(&t.fb, 1000); /* off: not the guest's */
			wr(&t, EVTSEL0, CYCLES_SEL);
			wr(&t, FIXED_CTRL, 0);
			wr(&t, EVTSEL0, CYCLES_SEL | EN);
			wr(&t, FIXED_CTRL, 0x333);
			wr(&t, GLOBAL_CTRL, 0x700000003ull);
		}
		assert_int_equal(CALLS(&t, SET_ALL), 200);
		assert_int_equal(CALLS(&t, ENABLE), 0);
		assert_int_equal(CALLS(&t, DISABLE), 0);
		assert_int_equal(CALLS(&t, OPEN), 0);
		assert_int_equal(rd(&t, PMC0), 200);
		assert_int_equal(rd(&t, FIXED_CTR0 + 1), 200);
		assert_int_equal(rd(&t, FIXED_CTR0), 0);
		assert_int_equal(rd(&t, PMC0 + 1), 0);
		tpmu_end(&t);
	}
}

static void test_config_change_recreates(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	wr(&t, EVTSEL0, CYCLES_SEL | EN);
	fake_advance(&t.fb, 50);
	wr(&t, EVTSEL0, INSTR_SEL | EN);		/* new event */
	assert_int_equal(CALLS(&t, OPEN), 2);
	assert_int_equal(CALLS(&t, CLOSE), 1);
	fake_advance(&t.fb, 30);
	assert_int_equal(rd(&t, PMC0), 80);		/* count carried over */
	wr(&t, EVTSEL0, INSTR_SEL & ~USR);		/* USR off, disabled */
	assert_int_equal(CALLS(&t, OPEN), 2);		/* nothing to count */
	/* an event reconfigured as it stops is closed, not disabled first */
	assert_int_equal(CALLS(&t, DISABLE), 0);
	assert_int_equal(CALLS(&t, CLOSE), 2);
	assert_int_equal(rd(&t, PMC0), 80);
	wr(&t, EVTSEL0, (INSTR_SEL & ~USR) | EN);
	assert_int_equal(CALLS(&t, OPEN), 3);
	assert_true(t.fb.last_open.exclude_user);
	/* the third open had no event to replace any more */
	assert_int_equal(vpmu_stats(t.v)->recreations, 1);
	assert_int_equal(t.fb.live, 1);

	/* fixed: toggling the field reuses; changing USR/OS recreates */
	wr(&t, GLOBAL_CTRL, 0x700000000ull);
	wr(&t, FIXED_CTRL, 0x333);
	assert_int_equal(CALLS(&t, OPEN), 6);
	fake_reset_calls(&t.fb);
	wr(&t, FIXED_CTRL, 0x000);
	wr(&t, FIXED_CTRL, 0x333);
	assert_int_equal(CALLS(&t, OPEN), 0);
	assert_int_equal(CALLS(&t, DISABLE), 3);
	assert_int_equal(CALLS(&t, ENABLE), 3);
	wr(&t, FIXED_CTRL, 0x331);
	assert_int_equal(CALLS(&t, OPEN), 1);
	assert_int_equal(CALLS(&t, CLOSE), 1);
	assert_true(t.fb.last_open.exclude_user);
	tpmu_end(&t);
}

static void test_counter_write_costs(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	wr(&t, A_PMC0, 5);				/* no event: free */
	wr(&t, EVTSEL0, CYCLES_SEL | EN);
	fake_reset_calls(&t.fb);
	wr(&t, EVTSEL0, CYCLES_SEL);
	wr(&t, A_PMC0, 7);				/* disabled: free */
	wr(&t, A_PMC0, 8);
	assert_int_equal(t.fb.ntrace, 1);		/* just the disable */
	assert_int_equal(rd(&t, PMC0), 8);
	assert_int_equal(t.fb.ntrace, 1);
	wr(&t, EVTSEL0, CYCLES_SEL | EN);		/* read ref, enable */
	assert_int_equal(CALLS(&t, READ), 1);
	fake_advance(&t.fb, 4);
	wr(&t, A_PMC0, 100);				/* counting: one read */
	assert_int_equal(CALLS(&t, READ), 2);
	fake_advance(&t.fb, 4);
	assert_int_equal(rd(&t, PMC0), 104);
	assert_int_equal(CALLS(&t, OPEN), 0);
	tpmu_end(&t);
}

static void test_idle_release(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	vpmu_tick(t.v, 1000);
	wr(&t, EVTSEL0, CYCLES_SEL | EN);
	wr(&t, EVTSEL0 + 1, INSTR_SEL | EN);
	fake_advance(&t.fb, 42);
	wr(&t, EVTSEL0, CYCLES_SEL);			/* last use at 1000 */
	vpmu_tick(t.v, 1000 + SLICE - 1);
	assert_int_equal(CALLS(&t, CLOSE), 0);
	vpmu_tick(t.v, 1000 + SLICE);
	assert_int_equal(CALLS(&t, CLOSE), 1);
	assert_int_equal(vpmu_stats(t.v)->idle_releases, 1);
	assert_int_equal(rd(&t, PMC0), 42);		/* folded into base */
	/* an enabled counter is never released */
	vpmu_tick(t.v, 1000 + 10 * SLICE);
	assert_int_equal(CALLS(&t, CLOSE), 1);
	assert_int_equal(t.fb.live, 1);
	/* re-enabling opens again */
	wr(&t, EVTSEL0, CYCLES_SEL | EN);
	assert_int_equal(CALLS(&t, OPEN), 3);
	fake_advance(&t.fb, 8);
	assert_int_equal(rd(&t, PMC0), 50);

	/* any access restarts the slice */
	vpmu_tick(t.v, 20 * SLICE);
	wr(&t, EVTSEL0, CYCLES_SEL);
	vpmu_tick(t.v, 20 * SLICE + SLICE / 2);
	rd(&t, PMC0);
	vpmu_tick(t.v, 21 * SLICE);
	assert_int_equal(CALLS(&t, CLOSE), 1);
	vpmu_tick(t.v, 21 * SLICE + SLICE / 2);
	assert_int_equal(CALLS(&t, CLOSE), 2);
	tpmu_end(&t);
}

static void test_idle_slice_configurable(void **state)
{
	struct tpmu t;

	tpmu_init(&t, PMU_MODEL_AMD, PMU_POLICY_LAZY);
	t.cfg.idle_slice_ns = 100;
	tpmu_start(&t);
	wr(&t, F15_CTL(0), AMD_CYCLES_SEL | EN);
	wr(&t, F15_CTL(0), AMD_CYCLES_SEL);
	vpmu_tick(t.v, 99);
	assert_int_equal(t.fb.live, 1);
	vpmu_tick(t.v, 100);
	assert_int_equal(t.fb.live, 0);
	tpmu_end(&t);
}

static void test_naive_ignores_identical_writes(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_NAIVE);
	wr(&t, EVTSEL0, CYCLES_SEL | EN);
	wr(&t, EVTSEL0, CYCLES_SEL | EN);
	wr(&t, GLOBAL_CTRL, 0xf);
	assert_int_equal(CALLS(&t, OPEN), 1);
	wr(&t, GLOBAL_CTRL, 0xe);
	wr(&t, GLOBAL_CTRL, 0xf);
	assert_int_equal(CALLS(&t, OPEN), 2);
	tpmu_end(&t);
}

static int log_calls;

static void count_log(void *opaque, int level, const char *msg)
{
	log_calls++;
	assert_non_null(strstr(msg, "descheduled"));
}

static void test_descheduled_detection(void **state)
{
	struct tpmu t;

	tpmu_init(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	t.cfg.log = count_log;
	tpmu_start(&t);
	log_calls = 0;
	wr(&t, EVTSEL0, CYCLES_SEL | EN);
	fake_advance(&t.fb, 10);
	fake_event_of(&t.fb, 0)->descheduled = true;
	assert_int_equal(rd(&t, PMC0), 10);
	assert_int_equal(vpmu_stats(t.v)->descheduled, 1);
	assert_int_equal(vpmu_stats(t.v)->recreations, 1);
	assert_int_equal(log_calls, 1);
	assert_int_equal(CALLS(&t, OPEN), 2);
	assert_false(fake_event_of(&t.fb, 0)->descheduled);
	fake_advance(&t.fb, 5);
	assert_int_equal(rd(&t, PMC0), 15);
	assert_int_equal(log_calls, 1);
	tpmu_end(&t);
}

static void test_host_failures(void **state)
{
	uint64_t val;
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	t.fb.fail_open = -EMFILE;
	assert_int_equal(vpmu_wrmsr(t.v, EVTSEL0, CYCLES_SEL | EN), -EMFILE);
	assert_int_equal(rd(&t, EVTSEL0), CYCLES_SEL | EN);	/* kept */
	assert_int_equal(t.fb.live, 0);
	assert_int_equal(vpmu_stats(t.v)->open_failures, 1);
	/* the next change retries */
	wr(&t, EVTSEL0, CYCLES_SEL);
	wr(&t, EVTSEL0, CYCLES_SEL | EN);
	assert_int_equal(t.fb.live, 1);

	fake_advance(&t.fb, 3);
	t.fb.fail_read = -EIO;
	assert_int_equal(vpmu_rdmsr(t.v, PMC0, &val), -EIO);
	assert_int_equal(val, 0);			/* last known value */
	assert_int_equal(rd(&t, PMC0), 3);

	/* a failed disable must not leave a counting event behind */
	t.fb.fail_disable = -EIO;
	assert_int_equal(vpmu_wrmsr(t.v, EVTSEL0, CYCLES_SEL), -EIO);
	assert_int_equal(t.fb.live, 0);
	fake_advance(&t.fb, 3);
	assert_int_equal(rd(&t, PMC0), 3);

	/* a failed enable leaves it disabled; the next toggle retries */
	wr(&t, EVTSEL0, CYCLES_SEL | EN);
	wr(&t, EVTSEL0, CYCLES_SEL);
	t.fb.fail_enable = -EIO;
	assert_int_equal(vpmu_wrmsr(t.v, EVTSEL0, CYCLES_SEL | EN), -EIO);
	fake_advance(&t.fb, 3);
	assert_int_equal(rd(&t, PMC0), 3);
	tpmu_end(&t);
}

static void test_unavailable_events_do_not_count(void **state)
{
	struct tpmu t;

	tpmu_init(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	t.fb.caps.counts = 1u << PMU_EV_CYCLES | 1u << PMU_EV_REF_CYCLES;
	t.fb.caps.software = t.fb.caps.counts;
	t.fb.caps.raw = false;
	tpmu_start(&t);
	wr(&t, EVTSEL0, INSTR_SEL | EN);
	wr(&t, EVTSEL0 + 1, 0x1234 | USR | EN);		/* raw */
	wr(&t, GLOBAL_CTRL, 0x700000003ull);
	wr(&t, FIXED_CTRL, 0x333);
	/* only fixed 1 (cycles) and fixed 2 (ref-cycles) get events */
	assert_int_equal(CALLS(&t, OPEN), 2);
	fake_advance(&t.fb, 9);
	assert_int_equal(rd(&t, PMC0), 0);
	assert_int_equal(rd(&t, FIXED_CTR0), 0);
	assert_int_equal(rd(&t, FIXED_CTR0 + 1), 9);
	tpmu_end(&t);
}

static void test_null_backend(void **state)
{
	struct pmu_config cfg;
	struct pmu_backend be;
	struct vpmu *v;
	uint64_t val;
	int i;

	assert_int_equal(pmu_backend_null_create(&be), 0);
	pmu_config_defaults(&cfg, PMU_MODEL_INTEL);
	assert_int_equal(vpmu_create(&cfg, &be, &v), 0);
	assert_int_equal(vpmu_wrmsr(v, EVTSEL0, CYCLES_SEL | EN), 0);
	assert_int_equal(vpmu_wrmsr(v, A_PMC0, 77), 0);
	for (i = 0; i < 10; i++) {
		assert_int_equal(vpmu_wrmsr(v, EVTSEL0, CYCLES_SEL), 0);
		assert_int_equal(vpmu_wrmsr(v, EVTSEL0, CYCLES_SEL | EN), 0);
	}
	assert_int_equal(vpmu_rdmsr(v, PMC0, &val), 0);
	assert_int_equal(val, 77);		/* only guest writes move it */
	assert_int_equal(vpmu_stats(v)->opens, 1);
	vpmu_destroy(v);
	pmu_backend_destroy(&be);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_toggles_lazy),
		cmocka_unit_test(test_toggles_naive),
		cmocka_unit_test(test_intel_context_switch),
		cmocka_unit_test(test_intel_pmi_handler_no_recreation),
		cmocka_unit_test(test_overflow_found_at_disable),
		cmocka_unit_test(test_status_read_folds),
		cmocka_unit_test(test_far_from_wrap_needs_no_read),
		cmocka_unit_test(test_overflow_judged_by_old_control),
		cmocka_unit_test(test_amd_legacy_disable_enable_all),
		cmocka_unit_test(test_amd_v2_global_toggles),
		cmocka_unit_test(test_intel_global_toggles_with_uncountable),
		cmocka_unit_test(test_config_change_recreates),
		cmocka_unit_test(test_counter_write_costs),
		cmocka_unit_test(test_idle_release),
		cmocka_unit_test(test_idle_slice_configurable),
		cmocka_unit_test(test_naive_ignores_identical_writes),
		cmocka_unit_test(test_descheduled_detection),
		cmocka_unit_test(test_host_failures),
		cmocka_unit_test(test_unavailable_events_do_not_count),
		cmocka_unit_test(test_null_backend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
