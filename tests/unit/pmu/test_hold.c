/*
 * Global flips held in place (pmu/hold.c) over a fake host that lets its
 * counts be read in place: no host call for a context switch's off/on,
 * nothing counted while the guest had its counters off reaches it, and
 * every way out that needs the host stops the held events first.
 */
#include "test_util.h"

static void new_holding(struct tpmu *t, enum pmu_model model)
{
	tpmu_init(t, model, PMU_POLICY_CACHE);
	t->fb.caps.peek = true;
	t->fb.caps.exclude_host = true;
	tpmu_start(t);
}

static uint32_t ctl_msr(enum pmu_model model)
{
	return model == PMU_MODEL_INTEL ? GLOBAL_CTRL : AMD_CTL;
}

static uint32_t sel_msr(enum pmu_model model, unsigned int i)
{
	return model == PMU_MODEL_INTEL ? EVTSEL0 + i : F15_CTL(i);
}

static uint32_t ctr_msr(enum pmu_model model, unsigned int i)
{
	return model == PMU_MODEL_INTEL ? A_PMC0 + i : F15_CTR(i);
}

/* Two counters on, counting; @extra_sel ORed into their controls. */
static void two_counting(struct tpmu *t, enum pmu_model model, uint64_t extra_sel)
{
	uint64_t sel = (model == PMU_MODEL_INTEL ? CYCLES_SEL : AMD_CYCLES_SEL) | extra_sel;

	wr(t, ctl_msr(model), 0);
	wr(t, sel_msr(model, 0), sel | EN);
	wr(t, sel_msr(model, 1), INSTR_SEL | extra_sel | EN);
	wr(t, ctl_msr(model), 0x3);
}

/* bench.c's ctxsw op, as Linux switches between two tasks it counts. */
static void test_ctxsw_no_host_call(void **state)
{
	enum pmu_model model;

	for (model = PMU_MODEL_INTEL; model <= PMU_MODEL_AMD; model++) {
		uint64_t sel0, sel1;
		struct tpmu t;
		int i;

		new_holding(&t, model);
		two_counting(&t, model, 0);
		sel0 = rd(&t, sel_msr(model, 0));
		sel1 = rd(&t, sel_msr(model, 1));
		fake_reset_calls(&t.fb);
		for (i = 0; i < 1000; i++) {
			fake_advance(&t.fb, 10); /* the task runs */
			wr(&t, ctl_msr(model), 0);
			fake_advance(&t.fb, 3); /* the switch, counters off */
			wr(&t, sel_msr(model, 0), sel0 & ~EN);
			wr(&t, sel_msr(model, 1), sel1 & ~EN);
			wr(&t, sel_msr(model, 0), sel0);
			wr(&t, sel_msr(model, 1), sel1);
			wr(&t, ctl_msr(model), 0x3);
		}
		assert_int_equal(t.fb.ntrace, 0); /* not one host call */
		assert_int_equal(vpmu_stats(t.v)->held_toggles, 2000);
		assert_int_equal(rd(&t, ctr_msr(model, 0)), 10000);
		assert_int_equal(rd(&t, ctr_msr(model, 1)), 10000);
		tpmu_end(&t);
	}
}

/* While held the guest reads what the counters stopped at, rewrites them
 * and reads the status; none of it needs the host. */
static void test_reads_and_writes_while_held(void **state)
{
	struct tpmu t;

	new_holding(&t, PMU_MODEL_INTEL);
	two_counting(&t, PMU_MODEL_INTEL, 0);
	fake_advance(&t.fb, 100);
	wr(&t, GLOBAL_CTRL, 0);
	fake_reset_calls(&t.fb);
	fake_advance(&t.fb, 50);
	assert_int_equal(rd(&t, A_PMC0), 100);
	wr(&t, A_PMC0 + 1, 7);
	assert_int_equal(rd(&t, GLOBAL_STATUS), 0);
	fake_advance(&t.fb, 50);
	wr(&t, GLOBAL_CTRL, 0x3);
	assert_int_equal(t.fb.ntrace, 0);
	fake_advance(&t.fb, 5);
	assert_int_equal(rd(&t, A_PMC0), 105);
	assert_int_equal(rd(&t, A_PMC0 + 1), 12);
	tpmu_end(&t);
}

/* A wrap counted before the off shows at the off, as a stop would show it:
 * the status bit and the PMI its control asked for. */
static void test_wrap_folded_at_hold(void **state)
{
	struct tpmu t;

	new_holding(&t, PMU_MODEL_INTEL);
	two_counting(&t, PMU_MODEL_INTEL, 0);
	wr(&t, A_PMC0, MASK48 - 9);
	fake_advance(&t.fb, 20);
	wr(&t, GLOBAL_CTRL, 0);
	assert_int_equal(vpmu_stats(t.v)->held_toggles, 1);
	assert_int_equal(rd(&t, GLOBAL_STATUS), 0x1);
	assert_int_equal(rd(&t, A_PMC0), 10);
	assert_false(vpmu_take_pmi(t.v)); /* no INT in its control */
	tpmu_end(&t);
}

/* Only some of the held counters come back: every held event stops for
 * real (one host call), the others go on from where they were. */
static void test_partial_on_settles(void **state)
{
	struct tpmu t;

	new_holding(&t, PMU_MODEL_INTEL);
	two_counting(&t, PMU_MODEL_INTEL, 0);
	fake_advance(&t.fb, 100);
	wr(&t, GLOBAL_CTRL, 0);
	fake_advance(&t.fb, 40); /* off: not the guest's */
	fake_reset_calls(&t.fb);
	wr(&t, GLOBAL_CTRL, 0x1);
	assert_int_equal(CALLS(&t, SET_ALL), 1); /* the settle */
	assert_int_equal(CALLS(&t, ENABLE), 1);	 /* counter 0 on again */
	assert_int_equal(CALLS(&t, OPEN), 0);
	fake_advance(&t.fb, 5);
	assert_int_equal(rd(&t, A_PMC0), 105);
	assert_int_equal(rd(&t, A_PMC0 + 1), 100);
	wr(&t, GLOBAL_CTRL, 0x3);
	fake_advance(&t.fb, 1);
	assert_int_equal(rd(&t, A_PMC0 + 1), 101);
	tpmu_end(&t);
}

/* A counter the guest enables on its own while the others are held (its
 * global bit was on): the held ones stop first, so the one host call that
 * stops them cannot stop the new one. */
static void test_counter_enabled_alone_while_held(void **state)
{
	struct tpmu t;

	new_holding(&t, PMU_MODEL_INTEL);
	two_counting(&t, PMU_MODEL_INTEL, 0);
	fake_advance(&t.fb, 100);
	wr(&t, GLOBAL_CTRL, 0x4); /* counters 0, 1 off; 2's bit on */
	assert_int_equal(vpmu_stats(t.v)->held_toggles, 1);
	wr(&t, EVTSEL0 + 2, INSTR_SEL | EN);
	fake_advance(&t.fb, 30);
	wr(&t, GLOBAL_CTRL, 0x5); /* 0 back, 1 stays off */
	fake_advance(&t.fb, 5);
	assert_int_equal(rd(&t, A_PMC0), 105);
	assert_int_equal(rd(&t, A_PMC0 + 1), 100);
	assert_int_equal(rd(&t, A_PMC0 + 2), 35);
	tpmu_end(&t);
}

/* A sampling event near its overflow is never held: an overflow while held
 * would not be the guest's. Linux's counting events (INT on, the counter
 * 2^47 from its wrap) are. */
static void test_sampling_near_overflow_not_held(void **state)
{
	struct tpmu t;

	new_holding(&t, PMU_MODEL_INTEL);
	two_counting(&t, PMU_MODEL_INTEL, INT);
	wr(&t, A_PMC0, MASK48 - 99999);
	fake_reset_calls(&t.fb);
	wr(&t, GLOBAL_CTRL, 0);
	assert_int_equal(CALLS(&t, SET_ALL), 1);
	assert_int_equal(vpmu_stats(t.v)->held_toggles, 0);
	wr(&t, GLOBAL_CTRL, 0x3);
	wr(&t, A_PMC0, (MASK48 + 1) >> 1); /* 2^47 from the wrap */
	fake_reset_calls(&t.fb);
	wr(&t, GLOBAL_CTRL, 0);
	wr(&t, GLOBAL_CTRL, 0x3);
	assert_int_equal(t.fb.ntrace, 0);
	assert_int_equal(vpmu_stats(t.v)->held_toggles, 2);
	tpmu_end(&t);
}

/* A reload of a held sampling counter must re-arm the host: the held
 * events stop for real first, and the value is exact. */
static void test_rearm_while_held_settles(void **state)
{
	struct tpmu t;

	new_holding(&t, PMU_MODEL_INTEL);
	two_counting(&t, PMU_MODEL_INTEL, INT);
	wr(&t, A_PMC0, (MASK48 + 1) >> 1);
	wr(&t, GLOBAL_CTRL, 0);
	fake_advance(&t.fb, 1000);
	fake_reset_calls(&t.fb);
	wr(&t, A_PMC0, MASK48 - 999); /* 1000 from the wrap */
	assert_int_equal(CALLS(&t, SET_ALL), 1);
	assert_int_equal(CALLS(&t, SET_PERIOD), 1);
	assert_int_equal(t.fb.last_period, 1000);
	wr(&t, GLOBAL_CTRL, 0x3);
	fake_advance(&t.fb, 1000);
	assert_int_equal(vpmu_overflow(t.v), 1);
	assert_int_equal(rd(&t, A_PMC0), 0);
	tpmu_end(&t);
}

/*
 * A Linux context switch between two tasks perf stat counts on their own
 * (inherited events, INT on, each 2^47 from its wrap): the PMU off, the old
 * task's counters stopped and read, the PMU on and off again, the new
 * task's saved values written back, its counters enabled, the PMU on. No
 * host call: the reloads' re-arms wait, both wraps being far.
 */
static void test_linux_task_switch_no_host_call(void **state)
{
	const uint64_t far = (MASK48 + 1) >> 1;
	uint64_t saved[2] = {far + 1000, far + 5000};
	struct tpmu t;

	new_holding(&t, PMU_MODEL_INTEL);
	two_counting(&t, PMU_MODEL_INTEL, INT);
	wr(&t, GLOBAL_CTRL, 0);
	wr(&t, A_PMC0, far + 11);
	wr(&t, A_PMC0 + 1, far + 22);
	wr(&t, GLOBAL_CTRL, 0x3);
	fake_reset_calls(&t.fb);
	for (int i = 0; i < 101; i++) {
		uint64_t now[2];

		fake_advance(&t.fb, 100);
		wr(&t, GLOBAL_CTRL, 0);
		fake_advance(&t.fb, 3); /* the scheduler, PMU off */
		for (int c = 0; c < 2; c++) {
			wr(&t, EVTSEL0 + c, (c ? INSTR_SEL : CYCLES_SEL) | INT);
			now[c] = rd(&t, A_PMC0 + c);
		}
		wr(&t, GLOBAL_CTRL, 0x3);
		wr(&t, GLOBAL_CTRL, 0);
		for (int c = 0; c < 2; c++) {
			wr(&t, A_PMC0 + c, saved[c]);
			wr(&t, EVTSEL0 + c, (c ? INSTR_SEL : CYCLES_SEL) | INT | EN);
			saved[c] = now[c];
		}
		wr(&t, GLOBAL_CTRL, 0x3);
	}
	assert_int_equal(t.fb.ntrace, 0);
	fake_advance(&t.fb, 7);
	/* after an odd number of switches the other task runs: its saved
	 * value plus its own 100-event slices (50 of 101), nothing of the
	 * first task's, nothing counted while the PMU was off */
	assert_int_equal(rd(&t, A_PMC0), far + 1000 + 50 * 100 + 7);
	assert_int_equal(rd(&t, A_PMC0 + 1), far + 5000 + 50 * 100 + 7);
	wr(&t, GLOBAL_CTRL, 0);
	wr(&t, A_PMC0, saved[0]);
	assert_int_equal(rd(&t, A_PMC0), far + 11 + 51 * 100);
	tpmu_end(&t);
}

/* A deferred re-arm is done when the wrap comes near, and the PMI comes
 * at the wrap. */
static void test_deferred_rearm_before_wrap(void **state)
{
	const uint64_t left = 1ull << 42;
	struct tpmu t;

	new_holding(&t, PMU_MODEL_INTEL);
	two_counting(&t, PMU_MODEL_INTEL, INT);
	wr(&t, GLOBAL_CTRL, 0);
	wr(&t, A_PMC0, (MASK48 + 1) >> 1);
	wr(&t, GLOBAL_CTRL, 0x3);
	wr(&t, GLOBAL_CTRL, 0);
	fake_reset_calls(&t.fb);
	wr(&t, A_PMC0, (0 - left) & MASK48); /* host still armed 2^47 out */
	wr(&t, GLOBAL_CTRL, 0x3);
	assert_int_equal(t.fb.ntrace, 0);
	fake_advance(&t.fb, left - (1ull << 38)); /* 2^38 from the wrap */
	vpmu_tick(t.v, SLICE / 2);
	assert_int_equal(CALLS(&t, SET_PERIOD), 1);
	assert_int_equal(t.fb.last_period, 1ull << 38);
	fake_advance(&t.fb, (1ull << 38) + 3);
	assert_int_equal(vpmu_overflow(t.v), 1);
	assert_int_equal(rd(&t, A_PMC0), 3);
	assert_int_equal(rd(&t, GLOBAL_STATUS), 0x1);
	tpmu_end(&t);
}

/* The host cannot read in place at the off: the flip goes to the host.
 * Nor at the on: each counter is read once instead. */
static void test_peek_failures(void **state)
{
	struct tpmu t;

	new_holding(&t, PMU_MODEL_INTEL);
	two_counting(&t, PMU_MODEL_INTEL, 0);
	t.fb.fail_peek = true;
	fake_reset_calls(&t.fb);
	wr(&t, GLOBAL_CTRL, 0);
	assert_int_equal(CALLS(&t, SET_ALL), 1);
	wr(&t, GLOBAL_CTRL, 0x3);
	t.fb.fail_peek = false;
	fake_advance(&t.fb, 10);
	wr(&t, GLOBAL_CTRL, 0);
	fake_advance(&t.fb, 10);
	t.fb.fail_peek = true;
	fake_reset_calls(&t.fb);
	wr(&t, GLOBAL_CTRL, 0x3);
	assert_int_equal(CALLS(&t, READ), 2);
	assert_int_equal(CALLS(&t, SET_ALL), 0);
	fake_advance(&t.fb, 1);
	t.fb.fail_peek = false;
	assert_int_equal(rd(&t, A_PMC0), 11);
	tpmu_end(&t);
}

/* Held counters the guest leaves off for an idle slice are released. */
static void test_held_idle_release(void **state)
{
	struct tpmu t;

	new_holding(&t, PMU_MODEL_AMD);
	two_counting(&t, PMU_MODEL_AMD, 0);
	fake_advance(&t.fb, 10);
	wr(&t, AMD_CTL, 0);
	vpmu_tick(t.v, 2 * SLICE);
	assert_int_equal(t.fb.live, 0);
	assert_int_equal(vpmu_stats(t.v)->idle_releases, 2);
	assert_int_equal(rd(&t, F15_CTR(0)), 10);
	wr(&t, AMD_CTL, 0x3);
	assert_int_equal(CALLS(&t, OPEN), 4);
	fake_advance(&t.fb, 1);
	assert_int_equal(rd(&t, F15_CTR(1)), 11);
	tpmu_end(&t);
}

/* Not under lazy (Linux 5.5's baseline) nor where the host events also
 * count in the VMM (a count read in place would not be where it stops). */
static void test_only_where_exact(void **state)
{
	struct tpmu t;

	tpmu_init(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	t.fb.caps.peek = t.fb.caps.exclude_host = true;
	tpmu_start(&t);
	two_counting(&t, PMU_MODEL_INTEL, 0);
	wr(&t, GLOBAL_CTRL, 0);
	assert_int_equal(vpmu_stats(t.v)->held_toggles, 0);
	tpmu_end(&t);

	tpmu_init(&t, PMU_MODEL_INTEL, PMU_POLICY_CACHE);
	t.fb.caps.peek = true;
	tpmu_start(&t);
	two_counting(&t, PMU_MODEL_INTEL, 0);
	wr(&t, GLOBAL_CTRL, 0);
	assert_int_equal(vpmu_stats(t.v)->held_toggles, 0);
	assert_int_equal(vpmu_stats(t.v)->group_toggles, 1);
	tpmu_end(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ctxsw_no_host_call),
	    cmocka_unit_test(test_reads_and_writes_while_held),
	    cmocka_unit_test(test_wrap_folded_at_hold),
	    cmocka_unit_test(test_partial_on_settles),
	    cmocka_unit_test(test_counter_enabled_alone_while_held),
	    cmocka_unit_test(test_sampling_near_overflow_not_held),
	    cmocka_unit_test(test_rearm_while_held_settles),
	    cmocka_unit_test(test_linux_task_switch_no_host_call),
	    cmocka_unit_test(test_deferred_rearm_before_wrap),
	    cmocka_unit_test(test_peek_failures),
	    cmocka_unit_test(test_held_idle_release),
	    cmocka_unit_test(test_only_where_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
