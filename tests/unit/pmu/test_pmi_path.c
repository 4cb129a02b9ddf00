/*
 * Host calls on the PMI path (issue 12): Linux's PMI handler replayed N
 * times (global control off, GLOBAL_STATUS, counter read and reload with
 * -left, status ack, global control on) over the fake backend, under the
 * lazy and cache policies, Intel v2 and AMD PerfMonV2, and the cache policy
 * once more over a host that keeps overflow records (perf's ring), and
 * again over one that also lets counts be read in place (rdpmc). At most
 * one PERF_EVENT_IOC_PERIOD per overflowed counter per PMI, none for
 * counters that did not move, nothing opened or closed, with records no
 * read when a signal comes, with reads in place no read at all and two
 * host calls per PMI (the global off and on), and the guest values the
 * same as a plain model of the counters computes.
 */
#include <string.h>

#include "test_util.h"

#define NR_CTRS 3

struct model_msrs {
	enum pmu_model model;
	uint32_t ctl, status, ack;
	uint32_t (*ctr)(int i);
	uint32_t (*sel)(int i);
	uint64_t cycles, instr;
};

static uint32_t intel_ctr(int i)
{
	return A_PMC0 + i;
}

static uint32_t intel_sel(int i)
{
	return EVTSEL0 + i;
}

static uint32_t amd_ctr(int i)
{
	return F15_CTR(i);
}

static uint32_t amd_sel(int i)
{
	return F15_CTL(i);
}

static const struct model_msrs intel = {
    PMU_MODEL_INTEL, GLOBAL_CTRL, GLOBAL_STATUS, GLOBAL_OVF,
    intel_ctr,	     intel_sel,	  CYCLES_SEL,	 INSTR_SEL,
};

static const struct model_msrs amd = {
    PMU_MODEL_AMD, AMD_CTL, AMD_STATUS, AMD_STATUS_CLR, amd_ctr, amd_sel, AMD_CYCLES_SEL, INSTR_SEL,
};

/* What the guest programmed: period 0 is a counting (perf stat) counter. */
struct scenario {
	uint64_t period[NR_CTRS];
	uint64_t step;	 /* events between two host signals */
	bool new_period; /* the guest changes the period at every reload */
	int kicks;	 /* slice kicks (signals with no overflow) per PMI */
	bool inexact;	 /* a software fallback's periods (whole ns) */
};

struct run {
	struct tpmu t;
	const struct model_msrs *m;
	uint64_t left[NR_CTRS];	 /* events to each sampling counter's wrap */
	uint64_t value[NR_CTRS]; /* counting counters' guest values */
	uint64_t period[NR_CTRS];
	uint64_t now;
	int overflowed, reloads_moved, handled;
	bool records; /* the host keeps overflow records */
	bool peek;    /* ... and lets counts be read in place */
};

static void run_start(struct run *r, const struct model_msrs *m, enum pmu_policy policy,
		      bool records, bool peek, const struct scenario *s)
{
	uint64_t all = 0;

	memset(r, 0, sizeof(*r));
	r->m = m;
	r->now = 1000000;
	r->records = records;
	tpmu_init(&r->t, m->model, policy);
	r->t.fb.records = records;
	r->peek = peek;
	r->t.fb.caps.peek = r->t.fb.caps.exclude_host = peek;
	if (s->inexact)
		r->t.fb.caps.software = 1u << PMU_EV_CYCLES;
	tpmu_start(&r->t);
	/* perf's enable: global off, counters programmed, global on */
	wr(&r->t, m->ctl, 0);
	for (int i = 0; i < NR_CTRS; i++) {
		uint64_t sel = i ? m->instr : m->cycles;

		r->period[i] = s->period[i];
		if (s->period[i]) {
			r->left[i] = s->period[i];
			wr(&r->t, m->ctr(i), (0 - s->period[i]) & MASK48);
			sel |= INT;
		} else {
			wr(&r->t, m->ctr(i), 0);
		}
		wr(&r->t, m->sel(i), sel | EN);
		all |= 1ull << i;
	}
	wr(&r->t, m->ctl, all);
	fake_reset_calls(&r->t.fb);
}

/* Time passes and the host counts; returns the status the model expects. */
static uint64_t run_advance(struct run *r, uint64_t events)
{
	uint64_t status = 0;

	fake_advance(&r->t.fb, events);
	r->now += events; /* one event a ns: slower than the wrap bound */
	vpmu_tick(r->t.v, r->now);
	for (int i = 0; i < NR_CTRS; i++) {
		if (!r->period[i]) {
			r->value[i] += events;
			continue;
		}
		if (events >= r->left[i]) {
			status |= 1ull << i;
			r->left[i] = r->period[i] - (events - r->left[i]);
		} else {
			r->left[i] -= events;
		}
	}
	return status;
}

/* arch/x86/events: intel_pmu_handle_irq, amd_pmu_v2_handle_irq. */
static void linux_pmi_handler(struct run *r, const struct scenario *s, uint64_t expect)
{
	const struct model_msrs *m = r->m;
	uint64_t status, all = (1ull << NR_CTRS) - 1;

	wr(&r->t, m->ctl, 0);
	status = rd(&r->t, m->status);
	assert_int_equal(status, expect);
	for (int i = 0; i < NR_CTRS; i++) {
		uint64_t val, left;

		if (!(status & (1ull << i)))
			continue;
		/* x86_perf_event_update, then x86_perf_event_set_period */
		val = rd(&r->t, m->ctr(i));
		assert_int_equal(val, r->period[i] - r->left[i]); /* the overshoot */
		left = r->left[i];
		if (s->new_period) {
			/* frequency mode: the next period differs */
			r->period[i] += 7;
			left += 7;
			r->left[i] = left;
			r->reloads_moved++;
		}
		wr(&r->t, m->ctr(i), (0 - left) & MASK48);
		r->overflowed++;
	}
	r->handled++;
	wr(&r->t, m->ack, status);
	wr(&r->t, m->ctl, all);
}

/* A signal: with overflow records it costs no host call. */
static int run_signal(struct run *r)
{
	int reads = CALLS(&r->t, READ), ret = vpmu_overflow(r->t.v);

	if (r->records)
		assert_int_equal(CALLS(&r->t, READ), reads);
	return ret;
}

static void run_pmis(struct run *r, const struct scenario *s, int n)
{
	for (int k = 0; k < n; k++) {
		uint64_t status = 0;

		for (int j = 0; j < s->kicks; j++) {
			/* a slice kick: the same signal, and nothing wrapped */
			r->now += 1000;
			vpmu_tick(r->t.v, r->now);
			assert_int_equal(run_signal(r), 0);
		}
		status = run_advance(r, s->step);
		if (!status) {
			assert_int_equal(run_signal(r), 0);
			continue;
		}
		assert_int_equal(run_signal(r), 1);
		linux_pmi_handler(r, s, status);
	}
}

static void run_check_values(struct run *r)
{
	for (int i = 0; i < NR_CTRS; i++) {
		uint64_t want = r->period[i] ? (0 - r->left[i]) & MASK48 : r->value[i];

		assert_int_equal(rd(&r->t, r->m->ctr(i)), want);
	}
}

static void check_scenario(const struct scenario *s, int n)
{
	const struct model_msrs *models[] = {&intel, &amd};
	enum pmu_policy policies[] = {PMU_POLICY_LAZY, PMU_POLICY_CACHE, PMU_POLICY_CACHE,
				      PMU_POLICY_CACHE};

	for (unsigned int mi = 0; mi < 2; mi++) {
		for (unsigned int pi = 0; pi < 4; pi++) {
			const struct pmu_stats *st;
			struct run r;

			/* reads in place need a hardware PMU: exact periods */
			if (pi == 3 && s->inexact)
				continue;
			run_start(&r, models[mi], policies[pi], pi >= 2, pi == 3, s);
			run_pmis(&r, s, n);
			st = vpmu_stats(r.t.v);
			assert_true(r.overflowed >= n / 2);
			/* one PERIOD per overflowed counter that the guest
			 * reloaded elsewhere than the host re-armed itself */
			assert_int_equal(CALLS(&r.t, SET_PERIOD), r.reloads_moved);
			assert_true(CALLS(&r.t, SET_PERIOD) <= r.overflowed);
			assert_int_equal(st->overflows, (uint64_t)r.overflowed);
			assert_int_equal(st->pmis, (uint64_t)r.handled);
			assert_int_equal(CALLS(&r.t, OPEN), 0);
			assert_int_equal(CALLS(&r.t, CLOSE), 0);
			assert_int_equal(st->parks, 0);
			if (r.peek) {
				assert_int_equal(CALLS(&r.t, READ), 0);
				assert_int_equal(CALLS(&r.t, SET_ALL), 2 * r.handled);
			}
			run_check_values(&r);
			tpmu_end(&r.t);
		}
	}
}

/* perf record -c: one sampling counter, a fixed period. */
static void test_one_counter_fixed_period(void **state)
{
	struct scenario s = {.period = {1000}, .step = 997};

	check_scenario(&s, 200);
}

/* Two sampling counters and a counting one; they overflow at different
 * PMIs, and slice kicks come between. */
static void test_mixed_counters_with_kicks(void **state)
{
	struct scenario s = {.period = {1000, 0, 2600}, .step = 997, .kicks = 2};

	check_scenario(&s, 300);
}

/* perf record -F: a new period at every reload, one PERIOD per overflow. */
static void test_new_period_each_pmi(void **state)
{
	struct scenario s = {.period = {1000, 0, 2600}, .step = 990, .new_period = true};

	check_scenario(&s, 300);
}

/*
 * A context switch of a task with a sampling counter: the counter is
 * stopped, read, and written back with the value it stopped at (perf's
 * set_period with period_left unchanged). It did not move: no PERIOD.
 */
static void test_context_switch_same_value(void **state)
{
	enum pmu_policy policies[] = {PMU_POLICY_LAZY, PMU_POLICY_CACHE};

	for (unsigned int pi = 0; pi < 2; pi++) {
		struct tpmu t;
		uint64_t val;

		tpmu_new(&t, PMU_MODEL_INTEL, policies[pi]);
		wr(&t, A_PMC0, (-100000ull) & MASK48);
		wr(&t, EVTSEL0, CYCLES_SEL | INT | EN);
		fake_reset_calls(&t.fb);
		for (int i = 0; i < 100; i++) {
			fake_advance(&t.fb, 100);
			wr(&t, GLOBAL_CTRL, 0);
			wr(&t, EVTSEL0, CYCLES_SEL | INT);
			val = rd(&t, PMC0);
			wr(&t, A_PMC0, val);
			wr(&t, EVTSEL0, CYCLES_SEL | INT | EN);
			wr(&t, GLOBAL_CTRL, 1);
		}
		assert_int_equal(CALLS(&t, SET_PERIOD), 0);
		assert_int_equal(rd(&t, PMC0), (-90000ull) & MASK48);
		tpmu_end(&t);
	}
}

/*
 * A guest that acks an overflow without reloading: its counter runs on
 * towards the next wrap, 2^48 away, while the host re-armed itself with
 * the old period. The host's next overflow finds nothing and re-arms once.
 */
static void test_unreloaded_overflow_rearms_once(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_AMD, PMU_POLICY_LAZY);
	wr(&t, F15_CTR(0), (-1000ull) & MASK48);
	wr(&t, F15_CTL(0), AMD_CYCLES_SEL | INT | EN);
	fake_reset_calls(&t.fb);
	fake_advance(&t.fb, 1000);
	assert_int_equal(vpmu_overflow(t.v), 1);
	wr(&t, AMD_STATUS_CLR, 1);
	assert_int_equal(vpmu_overflow(t.v), 0); /* a kick */
	assert_int_equal(CALLS(&t, SET_PERIOD), 0);
	fake_advance(&t.fb, 1000); /* the host fires */
	assert_int_equal(vpmu_overflow(t.v), 0);
	assert_int_equal(CALLS(&t, SET_PERIOD), 1);
	assert_int_equal(t.fb.last_period, (1ull << 48) - 1000);
	fake_advance(&t.fb, 1000);
	assert_int_equal(vpmu_overflow(t.v), 0);
	assert_int_equal(CALLS(&t, SET_PERIOD), 1);
	assert_int_equal(rd(&t, F15_CTR(0)), 2000);
	tpmu_end(&t);
}

/*
 * A slow PMI handler: the host overflows again (it re-armed itself with
 * the old period) before the guest has acked and reloaded the counter.
 * That overflow is the guest's handler's to settle: no PERIOD for it, and
 * at most one at the reload.
 */
static void test_host_refires_before_reload(void **state)
{
	enum pmu_policy policies[] = {PMU_POLICY_LAZY, PMU_POLICY_CACHE};

	for (unsigned int pi = 0; pi < 2; pi++) {
		struct tpmu t;

		tpmu_new(&t, PMU_MODEL_AMD, policies[pi]);
		t.fb.caps.software = 1u << PMU_EV_CYCLES; /* the rig's backend */
		wr(&t, AMD_CTL, 0);
		wr(&t, F15_CTR(0), (-1000ull) & MASK48);
		wr(&t, F15_CTL(0), AMD_CYCLES_SEL | INT | EN);
		wr(&t, AMD_CTL, 1);
		fake_reset_calls(&t.fb);
		for (int i = 0; i < 50; i++) {
			fake_advance(&t.fb, 1000);
			assert_int_equal(vpmu_overflow(t.v), 1);
			fake_advance(&t.fb, 1000); /* the handler is slow */
			assert_int_equal(vpmu_overflow(t.v), 0);
			wr(&t, AMD_CTL, 0);
			assert_int_equal(rd(&t, AMD_STATUS), 1);
			wr(&t, F15_CTR(0), (-1000ull) & MASK48);
			wr(&t, AMD_STATUS_CLR, 1);
			wr(&t, AMD_CTL, 1);
		}
		assert_true(CALLS(&t, SET_PERIOD) <= 50);
		assert_int_equal(vpmu_stats(t.v)->overflows, 50);
		assert_int_equal(rd(&t, F15_CTR(0)), (-1000ull) & MASK48);
		tpmu_end(&t);
	}
}

/*
 * A guest that never acks its counter's overflow: host overflows are left
 * to its handler for PMU_ACK_WAIT_NS, then one re-arms the counter to its
 * wrap and the host stops signalling (a hostile guest gets no storm).
 */
static void test_never_acked_rearms_after_one(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_AMD, PMU_POLICY_LAZY);
	wr(&t, F15_CTR(0), (-1000ull) & MASK48);
	wr(&t, F15_CTL(0), AMD_CYCLES_SEL | INT | EN);
	fake_reset_calls(&t.fb);
	vpmu_tick(t.v, 1000000);
	fake_advance(&t.fb, 1000);
	assert_int_equal(vpmu_overflow(t.v), 1);
	fake_advance(&t.fb, 1000);
	vpmu_tick(t.v, 2000000); /* 1 ms later: the handler may be slow */
	assert_int_equal(vpmu_overflow(t.v), 0);
	assert_int_equal(CALLS(&t, SET_PERIOD), 0);
	fake_advance(&t.fb, 1000);
	vpmu_tick(t.v, 12000000); /* 11 ms: it does not ack at all */
	assert_int_equal(vpmu_overflow(t.v), 0);
	assert_int_equal(CALLS(&t, SET_PERIOD), 1);
	assert_int_equal(t.fb.last_period, (1ull << 48) - 2000);
	fake_advance(&t.fb, 1000);
	vpmu_tick(t.v, 13000000);
	assert_int_equal(vpmu_overflow(t.v), 0); /* no more host overflows */
	assert_int_equal(CALLS(&t, SET_PERIOD), 1);
	tpmu_end(&t);
}

/*
 * A software fallback's periods run up to a ns long each (whole ns of
 * task-clock), so its own re-arms drift: a reload after the host re-armed
 * itself gets one PERIOD (as many as overflowed counters), a counter that
 * did not move none.
 */
static void test_inexact_periods_rearm_now_and_then(void **state)
{
	struct scenario s = {.period = {1000}, .step = 997, .inexact = true};
	enum pmu_policy policies[] = {PMU_POLICY_LAZY, PMU_POLICY_CACHE, PMU_POLICY_CACHE};

	for (unsigned int pi = 0; pi < 3; pi++) {
		struct run r;

		run_start(&r, &amd, policies[pi], pi == 2, false, &s);
		run_pmis(&r, &s, 340);
		assert_true(r.overflowed >= 170);
		assert_int_equal(CALLS(&r.t, SET_PERIOD), r.overflowed);
		run_check_values(&r);
		/* a context switch that writes back the value: no call */
		fake_reset_calls(&r.t.fb);
		wr(&r.t, AMD_CTL, 0);
		wr(&r.t, F15_CTL(0), AMD_CYCLES_SEL | INT);
		wr(&r.t, F15_CTR(0), rd(&r.t, F15_CTR(0)));
		wr(&r.t, F15_CTL(0), AMD_CYCLES_SEL | INT | EN);
		wr(&r.t, AMD_CTL, 7);
		assert_int_equal(CALLS(&r.t, SET_PERIOD), 0);
		tpmu_end(&r.t);
	}
}

/*
 * With a longer period the lag of a software fallback's own re-arms (up to
 * a ns each) is let run up to 1/256 of the period before one PERIOD
 * re-aligns the host, with the guest's period (the overshoot it read plus
 * the distance it wrote) so that the host keeps pace after: 1,000 PMIs of
 * a 1,000,000-event period cost a few calls, not 1,000 (nor one per PMI
 * after the first re-alignment), and the guest values stay exact.
 */
static void test_inexact_long_period_lags_within_bound(void **state)
{
	struct scenario s = {.period = {1000000}, .step = 1000003, .inexact = true};
	enum pmu_policy policies[] = {PMU_POLICY_LAZY, PMU_POLICY_CACHE, PMU_POLICY_CACHE};

	for (unsigned int pi = 0; pi < 3; pi++) {
		struct run r;

		run_start(&r, &amd, policies[pi], pi == 2, false, &s);
		run_pmis(&r, &s, 1000);
		assert_true(r.overflowed >= 990);
		assert_true(CALLS(&r.t, SET_PERIOD) >= 1);
		assert_true(CALLS(&r.t, SET_PERIOD) <= r.overflowed / 200);
		run_check_values(&r);
		tpmu_end(&r.t);
	}
}

/*
 * The cache policy keeps a stopped event with the control it was opened
 * for. A fixed counter sampling (PMI bit on), its control cleared, the
 * counter read (folded, clean) and written 0x31 from its wrap, the old
 * control back: the event it kept must now overflow at that wrap (a fuzz
 * finding: it kept the old period, so with overflow records the PMI never
 * came).
 */
static void test_cache_rearms_kept_sampling_event(void **state)
{
	for (int records = 0; records < 2; records++) {
		struct tpmu t;
		struct pmu_bev *ev;

		tpmu_init(&t, PMU_MODEL_INTEL, PMU_POLICY_CACHE);
		t.fb.records = records;
		tpmu_start(&t);
		wr(&t, GLOBAL_CTRL, 7ull << 32);
		wr(&t, FIXED_CTR0, 0x1000);
		wr(&t, FIXED_CTRL, 0xb); /* fixed 0: OS+USR, PMI */
		fake_advance(&t.fb, 100);
		assert_int_equal(rd(&t, FIXED_CTR0), 0x1000 + 100);
		wr(&t, FIXED_CTRL, 0); /* stopped, its event kept */
		assert_int_equal(rd(&t, FIXED_CTR0), 0x1000 + 100); /* folded */
		wr(&t, FIXED_CTR0, (0 - 0x31ull) & MASK48);
		wr(&t, FIXED_CTRL, 0xb);
		ev = fake_event_of(&t.fb, 8); /* fixed 0's vPMC index */
		assert_non_null(ev);
		assert_int_equal(ev->next_fire - ev->count, 0x31);
		fake_advance(&t.fb, 0x40);
		assert_int_equal(vpmu_overflow(t.v), 1);
		assert_int_equal(rd(&t, FIXED_CTR0), 0x40 - 0x31);
		tpmu_end(&t);
	}
}

/*
 * Disabling and closing: the idle release and a configuration change
 * close an event without a DISABLE first (lazy), and the cache parks an
 * event the guest already stopped without another.
 */
static void test_no_disable_before_close(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	wr(&t, EVTSEL0, CYCLES_SEL | INT | EN);
	fake_reset_calls(&t.fb);
	wr(&t, EVTSEL0, INSTR_SEL | INT | EN); /* reconfigured while on */
	assert_int_equal(CALLS(&t, DISABLE), 0);
	assert_int_equal(CALLS(&t, CLOSE), 1);
	tpmu_end(&t);

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_CACHE);
	wr(&t, EVTSEL0, CYCLES_SEL | INT | EN);
	wr(&t, EVTSEL0, CYCLES_SEL | INT); /* perf's del: EN off first */
	fake_reset_calls(&t.fb);
	wr(&t, EVTSEL0, INSTR_SEL | INT | EN);
	assert_int_equal(CALLS(&t, DISABLE), 0);
	assert_int_equal(vpmu_stats(t.v)->parks, 1);
	tpmu_end(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_counter_fixed_period),
	    cmocka_unit_test(test_mixed_counters_with_kicks),
	    cmocka_unit_test(test_new_period_each_pmi),
	    cmocka_unit_test(test_context_switch_same_value),
	    cmocka_unit_test(test_unreloaded_overflow_rearms_once),
	    cmocka_unit_test(test_host_refires_before_reload),
	    cmocka_unit_test(test_never_acked_rearms_after_one),
	    cmocka_unit_test(test_inexact_long_period_lags_within_bound),
	    cmocka_unit_test(test_inexact_periods_rearm_now_and_then),
	    cmocka_unit_test(test_cache_rearms_kept_sampling_event),
	    cmocka_unit_test(test_no_disable_before_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
