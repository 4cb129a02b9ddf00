/* The benchmark harness's statistics: the ratios between policies, of
 * medians and paired within rounds, on a machine whose speed drifts. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "bench.h"

#define ROUNDS 5

/* ctxsw on one model: round r runs lazy, then cache, back to back. */
static void fill(struct bench_ctx *b, const double *lazy, const double *cache)
{
	b->o.runs = ROUNDS;
	b->o.wl_on[WL_CTXSW] = true;
	b->o.model_on[MODEL_INTEL] = true;
	b->o.pol_on[POL_LAZY] = b->o.pol_on[POL_CACHE] = true;
	b->runs = calloc(2 * ROUNDS, sizeof(*b->runs));
	assert_non_null(b->runs);
	for (int r = 0; r < ROUNDS; r++)
		for (int k = 0; k < 2; k++) {
			struct bench_run *run = &b->runs[b->nr_runs++];

			run->wl = WL_CTXSW;
			run->model = MODEL_INTEL;
			run->pol = k ? POL_CACHE : POL_LAZY;
			run->run = r;
			run->ok = true;
			run->m[M_NS] = k ? cache[r] : lazy[r];
		}
	assert_int_equal(summarize(b), 0);
}

static void done(struct bench_ctx *b)
{
	free(b->runs);
	free(b->sum);
}

static bool near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

/* Phases that change between rounds: both ratios see the 2 %. */
static void test_phases_between_rounds(void **state)
{
	static const double lazy[ROUNDS] = {1000, 2000, 1000, 2000, 2000};
	static const double cache[ROUNDS] = {1020, 2040, 1020, 2040, 2040};
	struct bench_ctx b = {0};

	fill(&b, lazy, cache);
	assert_true(near(ratio(&b, WL_CTXSW, MODEL_INTEL, POL_CACHE, POL_LAZY), 1.02));
	assert_true(near(paired_ratio(&b, WL_CTXSW, MODEL_INTEL, POL_CACHE, POL_LAZY), 1.02));
	/* no naive runs: no ratio */
	assert_true(isnan(paired_ratio(&b, WL_CTXSW, MODEL_INTEL, POL_NAIVE, POL_LAZY)));
	/* failed runs drop their rounds */
	b.runs[0].ok = b.runs[2].ok = false;
	assert_true(near(paired_ratio(&b, WL_CTXSW, MODEL_INTEL, POL_CACHE, POL_LAZY), 1.02));
	done(&b);
}

/* A phase change inside a round (between lazy's run and cache's): the
 * medians come from different phases and halve the ratio; the pairs do
 * not. */
static void test_phase_change_inside_a_round(void **state)
{
	static const double lazy[ROUNDS] = {1000, 1000, 2000, 2000, 2000};
	static const double cache[ROUNDS] = {1020, 1020, 1020, 2040, 2040};
	struct bench_ctx b = {0};

	fill(&b, lazy, cache);
	assert_true(near(ratio(&b, WL_CTXSW, MODEL_INTEL, POL_CACHE, POL_LAZY), 0.51));
	assert_true(near(paired_ratio(&b, WL_CTXSW, MODEL_INTEL, POL_CACHE, POL_LAZY), 1.02));
	done(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_phases_between_rounds),
	    cmocka_unit_test(test_phase_change_inside_a_round),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
