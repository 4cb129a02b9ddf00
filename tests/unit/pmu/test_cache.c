/*
 * The cache policy: host calls of a multiplexing rotation (no opens once
 * warm), values across park and re-use (a parked event's count never
 * reaches the guest), the per-vPMC and per-vCPU bounds, idle release of
 * parked events, sampling events re-armed on re-use, and a differential
 * test: the same random MSR sequence under lazy, naive and cache reads
 * back the same guest values.
 */
#include "test_util.h"

#define NR_CFG 6
static const uint64_t intel_cfgs[NR_CFG] = {
    0x03c | USR | OS, 0x13c | USR | OS, 0x03c | OS,
    0x13c | OS,	      0x03c | USR,	0x13c | USR,
};

/* One rotation of perf's multiplexing over @ngp counters (bench.c's). */
static void rotate(struct tpmu *t, int n, int ngp, uint64_t per_counter,
		   bool check)
{
	int i;

	wr(t, GLOBAL_CTRL, 0);
	for (i = 0; i < ngp; i++) {
		uint64_t sel = rd(t, EVTSEL0 + i);
		uint64_t val;

		wr(t, EVTSEL0 + i, sel & ~EN);
		val = rd(t, PMC0 + i);
		if (check)
			assert_int_equal(val, per_counter);
		wr(t, A_PMC0 + i, 0);
		wr(t, EVTSEL0 + i, intel_cfgs[(n + i) % NR_CFG] | EN);
	}
	wr(t, GLOBAL_CTRL, 0x70000000full);
}

static void test_cache_multiplex(void **state)
{
	struct tpmu t;
	int n;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_CACHE);
	for (n = 0; n < NR_CFG; n++)
		rotate(&t, n, 4, 0, false);
	fake_reset_calls(&t.fb);
	for (n = NR_CFG; n < NR_CFG + 100; n++) {
		fake_advance(&t.fb, 7);
		rotate(&t, n, 4, 7, n > NR_CFG);
	}
	/* warm: every configuration comes back from the cache */
	assert_int_equal(CALLS(&t, OPEN), 0);
	assert_int_equal(CALLS(&t, CLOSE), 0);
	/* per rotation: every counter stopped in one call (GLOBAL_CTRL 0);
	 * per counter: read, start (parked events must stay off, so no
	 * thread-wide start); nothing else */
	assert_int_equal(CALLS(&t, SET_ALL), 100);
	assert_int_equal(CALLS(&t, DISABLE), 0);
	assert_int_equal(CALLS(&t, READ), 400);
	assert_int_equal(CALLS(&t, ENABLE), 400);
	assert_int_equal(CALLS(&t, SET_PERIOD), 0);
	/* two events of each configuration: the one a counter wants back is
	 * often still on its neighbour, which has yet to rotate */
	assert_int_equal(t.fb.live, 2 * NR_CFG);
	assert_int_equal(vpmu_stats(t.v)->fds_open, 2 * NR_CFG);
	assert_true(vpmu_stats(t.v)->cache_hits >= 400);
	assert_int_equal(vpmu_stats(t.v)->evictions, 0);
	assert_int_equal(vpmu_stats(t.v)->recreations, 0);
	tpmu_end(&t);

	/* lazy, for the record: a new host event per counter and rotation */
	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	for (n = 0; n < 100; n++)
		rotate(&t, n, 4, 0, false);
	assert_true(CALLS(&t, OPEN) >= 396);
	tpmu_end(&t);
}

/* A -> B -> A on one vPMC: the count A's event held when parked is its
 * reference on re-use, not guest counts. */
static void test_cache_value_across_park(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_CACHE);
	wr(&t, EVTSEL0, CYCLES_SEL | EN);
	fake_advance(&t.fb, 100);
	wr(&t, EVTSEL0, INSTR_SEL | EN); /* park A (count 100) */
	assert_int_equal(vpmu_stats(t.v)->parks, 1);
	assert_int_equal(CALLS(&t, OPEN), 2);
	assert_int_equal(t.fb.live, 2);
	fake_advance(&t.fb, 50); /* only B counts */
	assert_int_equal(rd(&t, PMC0), 150);
	wr(&t, EVTSEL0, CYCLES_SEL | EN); /* A again: a hit */
	assert_int_equal(CALLS(&t, OPEN), 2);
	assert_int_equal(vpmu_stats(t.v)->cache_hits, 1);
	assert_int_equal(vpmu_stats(t.v)->cache_misses, 2);
	fake_advance(&t.fb, 5);
	assert_int_equal(rd(&t, PMC0), 155);

	/* the guest writes the counter of a stopped, unread event: the
	 * count it was parked with is unknown, so re-use reads it first */
	wr(&t, EVTSEL0, CYCLES_SEL);
	fake_advance(&t.fb, 1000); /* nothing counts */
	wr(&t, A_PMC0, 10);
	wr(&t, EVTSEL0, INSTR_SEL | EN); /* park A, B back */
	fake_advance(&t.fb, 3);
	assert_int_equal(rd(&t, PMC0), 13);
	fake_reset_calls(&t.fb);
	wr(&t, EVTSEL0, CYCLES_SEL | EN);
	assert_int_equal(CALLS(&t, OPEN), 0);
	fake_advance(&t.fb, 4);
	assert_int_equal(rd(&t, PMC0), 17);
	tpmu_end(&t);
}

/* A configuration comes back on another GP counter; fixed ones keep theirs. */
static void test_cache_any_gp_counter(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_CACHE);
	wr(&t, EVTSEL0, CYCLES_SEL | EN);
	fake_advance(&t.fb, 9);
	wr(&t, EVTSEL0, INSTR_SEL | EN);
	wr(&t, EVTSEL0 + 1, CYCLES_SEL | EN); /* vPMC 0's old event */
	assert_int_equal(CALLS(&t, OPEN), 2);
	fake_advance(&t.fb, 1);
	assert_int_equal(rd(&t, PMC0 + 1), 1);
	assert_int_equal(rd(&t, PMC0), 10);

	wr(&t, GLOBAL_CTRL, 0x700000000ull);
	wr(&t, FIXED_CTRL, 0x003);
	wr(&t, FIXED_CTRL, 0x001); /* fixed 0 parks 0x3 */
	wr(&t, FIXED_CTRL, 0x030); /* fixed 1: 0x3, its own */
	assert_int_equal(vpmu_stats(t.v)->cache_hits, 1);
	assert_int_equal(t.fb.last_open.generic, PMU_EV_CYCLES);
	tpmu_end(&t);
}

static void test_cache_bounds(void **state)
{
	struct tpmu t;
	int n, i;

	tpmu_init(&t, PMU_MODEL_INTEL, PMU_POLICY_CACHE);
	t.cfg.cache_per_vpmc = 2;
	t.cfg.cache_per_vcpu = 3;
	tpmu_start(&t);
	for (n = 0; n < 20; n++) {
		for (i = 0; i < 2; i++) {
			wr(&t, EVTSEL0 + i,
			   intel_cfgs[(n + 3 * i) % NR_CFG] | EN);
			fake_advance(&t.fb, 1);
		}
		assert_true(t.fb.live <= 2 + 3);
	}
	assert_true(t.fb.max_live <= 5);
	assert_true(vpmu_stats(t.v)->evictions > 0);
	assert_int_equal(vpmu_stats(t.v)->fds_open, t.fb.live);
	/* still exact: each counter counted one per step of the other too */
	assert_int_equal(rd(&t, PMC0), 40);
	assert_int_equal(rd(&t, PMC0 + 1), 39);

	/* one vPMC alone: never more than 2 of its own parked */
	for (n = 0; n < 10; n++)
		wr(&t, EVTSEL0 + 2, intel_cfgs[n % NR_CFG] | EN);
	assert_true(t.fb.live <= 3 + 3);
	assert_int_equal(pmu_config_check(&t.cfg, (char[96]){0}, 96), 0);
	t.cfg.cache_per_vcpu = PMU_CACHE_MAX_PER_VCPU + 1;
	assert_int_equal(pmu_config_check(&t.cfg, (char[96]){0}, 96), -EINVAL);
	tpmu_end(&t);
}

static void test_cache_idle_release(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_AMD, PMU_POLICY_CACHE);
	vpmu_tick(t.v, 1000);
	wr(&t, F15_CTL(0), AMD_CYCLES_SEL | EN);
	wr(&t, F15_CTL(0), INSTR_SEL | EN); /* parked at 1000 */
	vpmu_tick(t.v, 1000 + SLICE / 2);
	wr(&t, F15_CTL(0), INSTR_SEL); /* disabled at 0.5 */
	vpmu_tick(t.v, 1000 + SLICE - 1);
	assert_int_equal(t.fb.live, 2);
	vpmu_tick(t.v, 1000 + SLICE); /* the parked one */
	assert_int_equal(t.fb.live, 1);
	assert_int_equal(vpmu_stats(t.v)->idle_releases, 1);
	vpmu_tick(t.v, 1000 + SLICE + SLICE / 2); /* the disabled one */
	assert_int_equal(t.fb.live, 0);
	assert_int_equal(vpmu_stats(t.v)->idle_releases, 2);
	assert_int_equal(vpmu_stats(t.v)->fds_open, 0);
	tpmu_end(&t);
}

/* A sampling event comes back armed for the wrap of its new base. */
static void test_cache_sampling_reuse(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_CACHE);
	wr(&t, A_PMC0, (-1000ull) & MASK48);
	wr(&t, EVTSEL0, CYCLES_SEL | INT | EN);
	assert_int_equal(t.fb.last_open.sample_period, 1000);
	fake_advance(&t.fb, 400);
	vpmu_tick(t.v, 400);
	wr(&t, EVTSEL0, INSTR_SEL | EN); /* park, value -600 */
	assert_false(vpmu_take_pmi(t.v));
	wr(&t, A_PMC0, (-300ull) & MASK48);
	wr(&t, EVTSEL0, CYCLES_SEL | INT | EN); /* back, -300 */
	assert_int_equal(vpmu_stats(t.v)->cache_hits, 1);
	assert_int_equal(t.fb.last_period, 300);
	fake_advance(&t.fb, 350);
	vpmu_tick(t.v, 1000);
	assert_int_equal(vpmu_overflow(t.v), 1);
	assert_int_equal(rd(&t, GLOBAL_STATUS), 1);
	assert_int_equal(rd(&t, PMC0), 50);
	tpmu_end(&t);
}

/* Parked fds give way when the host runs out of them. */
static void test_cache_emfile(void **state)
{
	struct tpmu t;

	tpmu_new(&t, PMU_MODEL_INTEL, PMU_POLICY_CACHE);
	wr(&t, EVTSEL0, intel_cfgs[0] | EN);
	wr(&t, EVTSEL0, intel_cfgs[1] | EN);
	wr(&t, EVTSEL0, intel_cfgs[2] | EN);
	assert_int_equal(t.fb.live, 3);
	t.fb.fail_open = -EMFILE;
	wr(&t, EVTSEL0, intel_cfgs[3] | EN);
	assert_int_equal(vpmu_stats(t.v)->evictions, 1);
	assert_int_equal(vpmu_stats(t.v)->open_failures, 1);
	assert_int_equal(t.fb.live, 3);
	assert_non_null(fake_event_of(&t.fb, 0));
	tpmu_end(&t);
}

/* Linux sequences without configuration changes (context switch, PMI
 * handler, idle): cache does what lazy does, with fewer reads. */
static void linux_sequences(struct tpmu *t)
{
	int i;

	wr(t, GLOBAL_CTRL, 0);
	wr(t, A_PMC0 + 1, (-1000ull) & MASK48);
	wr(t, EVTSEL0 + 1, CYCLES_SEL | INT | EN);
	wr(t, FIXED_CTRL, 0x333);
	wr(t, GLOBAL_CTRL, 0x700000003ull);
	for (i = 0; i < 50; i++) {
		/* switch out and in of a task counting on GP 0 */
		wr(t, GLOBAL_CTRL, 0);
		wr(t, EVTSEL0, CYCLES_SEL);
		rd(t, PMC0);
		wr(t, A_PMC0, (-5000ull) & MASK48);
		wr(t, EVTSEL0, CYCLES_SEL | EN);
		wr(t, GLOBAL_CTRL, 0x700000003ull);
		fake_advance(&t->fb, 1000);
		vpmu_tick(t->v, (uint64_t)i * 100 + 100);
		/* the PMI of GP 1 */
		assert_int_equal(vpmu_overflow(t->v), 1);
		wr(t, GLOBAL_CTRL, 0);
		rd(t, GLOBAL_STATUS);
		rd(t, PMC0 + 1);
		wr(t, A_PMC0 + 1, (-1000ull) & MASK48);
		wr(t, GLOBAL_OVF, 2);
		wr(t, GLOBAL_CTRL, 0x700000003ull);
	}
	wr(t, GLOBAL_CTRL, 0);
	vpmu_tick(t->v, 100 * SLICE);
}

static void test_cache_like_lazy(void **state)
{
	struct tpmu lazy, cache;
	int op;

	tpmu_new(&lazy, PMU_MODEL_INTEL, PMU_POLICY_LAZY);
	tpmu_new(&cache, PMU_MODEL_INTEL, PMU_POLICY_CACHE);
	linux_sequences(&lazy);
	linux_sequences(&cache);
	for (op = FAKE_OPEN; op <= FAKE_SET_PERIOD; op++) {
		if (op == FAKE_READ)
			continue;
		assert_int_equal(cache.fb.calls[op], lazy.fb.calls[op]);
	}
	/* the context switch's counter write keeps GP 0 clean (from the
	 * second switch on: the first one opens its event), and so does the
	 * PMI handler's reload of GP 1 after it read the counter (50 PMIs):
	 * enabling them again needs no read */
	assert_int_equal(CALLS(&cache, READ) + 49 + 50, CALLS(&lazy, READ));
	assert_int_equal(vpmu_stats(cache.v)->parks, 0);
	assert_int_equal(cache.fb.live, 0);
	tpmu_end(&lazy);
	tpmu_end(&cache);
}

/* ---- differential: lazy, naive, cache and cache with the host's counts
 * read in place (global flips held, hold.c) read the same values ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

enum { P_LAZY, P_NAIVE, P_CACHE, P_HOLD, NR_P };

struct diff {
	struct tpmu t[NR_P];
	enum pmu_model model;
	uint64_t now;
	unsigned int ngp;
	unsigned int step;
};

static uint32_t evtsel_msr(const struct diff *d, unsigned int i)
{
	return d->model == PMU_MODEL_INTEL ? EVTSEL0 + i : F15_CTL(i);
}

static uint32_t ctr_msr(const struct diff *d, unsigned int i)
{
	if (d->model == PMU_MODEL_AMD)
		return F15_CTR(i);
	return i < d->ngp ? A_PMC0 + i : FIXED_CTR0 + i - d->ngp;
}

static void all_wr(struct diff *d, uint32_t msr, uint64_t val)
{
	int p, ret[NR_P];

	for (p = 0; p < NR_P; p++)
		ret[p] = vpmu_wrmsr(d->t[p].v, msr, val);
	assert_int_equal(ret[P_NAIVE], ret[P_LAZY]);
	assert_int_equal(ret[P_CACHE], ret[P_LAZY]);
	assert_int_equal(ret[P_HOLD], ret[P_LAZY]);
}

/*
 * Counter values must agree under all three. Overflow status and PMIs only
 * between lazy and cache, which fold host counts at the same moments: naive
 * folds at every close, so an overflow of a counter the guest stopped can
 * show (or want a PMI) earlier there, before a later status clear or
 * control change.
 */
static void all_rd(struct diff *d, uint32_t msr, bool naive_too)
{
	uint64_t val[NR_P];
	int p;

	for (p = 0; p < NR_P; p++)
		assert_int_equal(vpmu_rdmsr(d->t[p].v, msr, &val[p]), 0);
	if ((naive_too && val[P_NAIVE] != val[P_LAZY]) || val[P_CACHE] != val[P_LAZY] ||
	    val[P_HOLD] != val[P_LAZY])
		fail_msg("step %u, msr 0x%x: lazy 0x%llx naive 0x%llx cache 0x%llx "
			 "held 0x%llx",
			 d->step, msr, (unsigned long long)val[P_LAZY],
			 (unsigned long long)val[P_NAIVE], (unsigned long long)val[P_CACHE],
			 (unsigned long long)val[P_HOLD]);
}

/* Events from a small set, so configurations come back. */
static uint64_t random_sel(const struct diff *d)
{
	static const uint64_t amd[] = {AMD_CYCLES_SEL, 0x76 | OS, 0x76 | USR,
				       INSTR_SEL};
	uint64_t sel = d->model == PMU_MODEL_INTEL ? intel_cfgs[rng() % 4]
						   : amd[rng() % 4];

	if (rng() % 4 == 0)
		sel |= INT;
	return rng() % 5 ? sel | EN : sel;
}

/* Values near the wrap now and then, so overflows happen. */
static uint64_t random_count(void)
{
	return rng() % 3 ? rng() % 100000 : (-(rng() % 20000)) & MASK48;
}

/* Host counts and time move together, as on a real host: no more than
 * PMU_MAX_EVENTS_PER_NS events a nanosecond. */
static void advance(struct diff *d, uint64_t n, uint64_t extra_ns)
{
	int p;

	d->now += n / 64 + 1 + extra_ns;
	for (p = 0; p < NR_P; p++) {
		fake_advance(&d->t[p].fb, n);
		vpmu_tick(d->t[p].v, d->now);
	}
}

static void diff_step(struct diff *d)
{
	unsigned int nctr = d->ngp + (d->model == PMU_MODEL_INTEL ? 3 : 0);
	uint64_t global_all =
	    d->model == PMU_MODEL_INTEL ? 0x70000000full : 0x3full;
	uint32_t status =
	    d->model == PMU_MODEL_INTEL ? GLOBAL_STATUS : AMD_STATUS;
	uint32_t ctl = d->model == PMU_MODEL_INTEL ? GLOBAL_CTRL : AMD_CTL;
	int r;

	switch (rng() % 12) {
	case 0:
	case 1:
		all_wr(d, evtsel_msr(d, rng() % d->ngp), random_sel(d));
		break;
	case 2: {
		unsigned int i = rng() % d->ngp;
		uint64_t sel;

		assert_int_equal(vpmu_rdmsr(d->t[0].v, evtsel_msr(d, i), &sel),
				 0);
		all_wr(d, evtsel_msr(d, i), sel ^ EN);
		break;
	}
	case 3:
		all_wr(d, ctl, rng() % 3 ? global_all : 0);
		break;
	case 4:
		if (d->model == PMU_MODEL_INTEL) {
			static const uint64_t fixed[] = {0, 0x333, 0x311, 0xb3b,
							 0x033};

			all_wr(d, FIXED_CTRL, fixed[rng() % 5]);
		}
		break;
	case 5:
		all_wr(d, ctr_msr(d, rng() % nctr), random_count());
		break;
	case 6:
	case 7:
		all_rd(d, ctr_msr(d, rng() % nctr), true);
		break;
	case 8:
		all_rd(d, status, false);
		break;
	case 9:
		all_wr(d,
		       d->model == PMU_MODEL_INTEL ? GLOBAL_OVF
						   : AMD_STATUS_CLR,
		       rng() & global_all);
		break;
	case 10:
		advance(d, rng() % 30000, rng() % 3 ? 0 : rng() % (2 * SLICE));
		break;
	default:
		r = vpmu_overflow(d->t[P_LAZY].v);
		assert_int_equal(vpmu_overflow(d->t[P_CACHE].v), r);
		assert_int_equal(vpmu_overflow(d->t[P_HOLD].v), r);
		assert_true(vpmu_overflow(d->t[P_NAIVE].v) >= 0);
		break;
	}
	r = vpmu_take_pmi(d->t[P_LAZY].v);
	if (vpmu_take_pmi(d->t[P_CACHE].v) != r || vpmu_take_pmi(d->t[P_HOLD].v) != r)
		fail_msg("step %u: a PMI under one of lazy and cache only",
			 d->step);
	vpmu_take_pmi(d->t[P_NAIVE].v);
	d->step++;
}

static void differential(enum pmu_model model, uint64_t seed, bool tight)
{
	struct diff *d = test_calloc(1, sizeof(*d));
	static const enum pmu_policy pol[NR_P] = {
	    [P_LAZY] = PMU_POLICY_LAZY,
	    [P_NAIVE] = PMU_POLICY_NAIVE,
	    [P_CACHE] = PMU_POLICY_CACHE,
	    [P_HOLD] = PMU_POLICY_CACHE,
	};
	unsigned int i;
	int p;

	rng_state = seed;
	d->model = model;
	d->ngp = model == PMU_MODEL_INTEL ? 4 : 6;
	for (p = 0; p < NR_P; p++) {
		tpmu_init(&d->t[p], model, pol[p]);
		d->t[p].fb.caps.peek = d->t[p].fb.caps.exclude_host = p == P_HOLD;
		/* tight bounds, so evictions happen too */
		if (tight) {
			d->t[p].cfg.cache_per_vpmc = 1;
			d->t[p].cfg.cache_per_vcpu = 3;
		}
		tpmu_start(&d->t[p]);
	}
	for (i = 0; i < 5000; i++)
		diff_step(d);
	/* every counter, at the end */
	for (i = 0; i < d->ngp + (model == PMU_MODEL_INTEL ? 3 : 0); i++)
		all_rd(d, ctr_msr(d, i), true);
	print_message("%s seed %llu: opens lazy %llu naive %llu cache %llu "
		      "(hits %llu, evictions %llu), flips held %llu\n",
		      model == PMU_MODEL_INTEL ? "intel" : "amd", (unsigned long long)seed,
		      (unsigned long long)vpmu_stats(d->t[P_LAZY].v)->opens,
		      (unsigned long long)vpmu_stats(d->t[P_NAIVE].v)->opens,
		      (unsigned long long)vpmu_stats(d->t[P_CACHE].v)->opens,
		      (unsigned long long)vpmu_stats(d->t[P_CACHE].v)->cache_hits,
		      (unsigned long long)vpmu_stats(d->t[P_CACHE].v)->evictions,
		      (unsigned long long)vpmu_stats(d->t[P_HOLD].v)->held_toggles);
	assert_true(vpmu_stats(d->t[P_CACHE].v)->cache_hits > 0);
	for (p = 0; p < NR_P; p++)
		tpmu_end(&d->t[p]);
	test_free(d);
}

static void test_differential(void **state)
{
	uint64_t seed;

	for (seed = 1; seed <= 8; seed++) {
		differential(PMU_MODEL_INTEL, seed * 0x9e3779b97f4a7c15ull,
			     seed & 1);
		differential(PMU_MODEL_AMD, seed * 0xbf58476d1ce4e5b9ull,
			     seed & 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cache_multiplex),
	    cmocka_unit_test(test_cache_value_across_park),
	    cmocka_unit_test(test_cache_any_gp_counter),
	    cmocka_unit_test(test_cache_bounds),
	    cmocka_unit_test(test_cache_idle_release),
	    cmocka_unit_test(test_cache_sampling_reuse),
	    cmocka_unit_test(test_cache_emfile),
	    cmocka_unit_test(test_cache_like_lazy),
	    cmocka_unit_test(test_differential),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
