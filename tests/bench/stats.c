/* vmm-bench statistics: median, quartiles and range of each metric over
 * the runs of a configuration, and the ratios between policies. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "bench.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double quantile(const double *v, int n, double q)
{
	double pos = q * (n - 1);
	int i = (int)pos;

	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (v[i + 1] - v[i]) * (pos - i);
}

static void stat_of(double *v, int n, struct bench_stat *s)
{
	if (n == 0) {
		*s = (struct bench_stat){NAN, NAN, NAN, NAN, NAN};
		return;
	}
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	s->min = v[0];
	s->max = v[n - 1];
	s->median = quantile(v, n, 0.5);
	s->q1 = quantile(v, n, 0.25);
	s->q3 = quantile(v, n, 0.75);
}

/* Why policy @pol cannot run workload @wl here, or NULL. */
const char *skip_reason(const struct bench_ctx *b, int wl, int pol)
{
	if (pol == POL_KVM && b->kvm_skip[0])
		return b->kvm_skip;
	if (pol == POL_NULL && wl == WL_PMI)
		return "the null backend counts nothing, so counters never overflow: no PMIs";
	return NULL;
}

/* Policy selected and runnable for @wl (any selected workload if @wl < 0). */
bool pol_runs(const struct bench_ctx *b, int wl, int pol)
{
	if (!b->o.pol_on[pol])
		return false;
	if (wl >= 0)
		return b->o.wl_on[wl] && skip_reason(b, wl, pol) == NULL;
	for (int w = 0; w < NR_WL; w++)
		if (b->o.wl_on[w] && skip_reason(b, w, pol) == NULL)
			return true;
	return false;
}

int summarize(struct bench_ctx *b)
{
	double *v = calloc(b->nr_runs + 1, sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	b->sum = calloc(NR_WL * NR_MODEL * NR_POL, sizeof(*b->sum));
	if (b->sum == NULL) {
		free(v);
		return -ENOMEM;
	}
	for (int w = 0; w < NR_WL; w++)
		for (int mo = 0; mo < NR_MODEL; mo++)
			for (int p = 0; p < NR_POL; p++) {
				struct bench_summary *s = &b->sum[b->nr_sum];

				if (!b->o.wl_on[w] || !b->o.model_on[mo] || !pol_runs(b, w, p))
					continue;
				*s = (struct bench_summary){.wl = w, .model = mo, .pol = p};
				for (int k = 0; k < NR_METRIC; k++) {
					int n = 0;

					for (size_t i = 0; i < b->nr_runs; i++) {
						const struct bench_run *r = &b->runs[i];

						if (r->wl != w || r->model != mo || r->pol != p)
							continue;
						if (k == 0)
							r->ok ? s->n_ok++ : s->n_fail++;
						if (r->ok)
							v[n++] = r->m[k];
					}
					stat_of(v, n, &s->s[k]);
				}
				b->nr_sum++;
			}
	free(v);
	return 0;
}

const struct bench_summary *find_sum(const struct bench_ctx *b, int w, int mo, int p)
{
	for (size_t i = 0; i < b->nr_sum; i++)
		if (b->sum[i].wl == w && b->sum[i].model == mo && b->sum[i].pol == p &&
		    b->sum[i].n_ok > 0)
			return &b->sum[i];
	return NULL;
}

/* Ratio of median guest ns/op of two policies, NAN when either is missing. */
double metric_ratio(const struct bench_ctx *b, int metric, int w, int mo, int p_num, int p_den)
{
	const struct bench_summary *a = find_sum(b, w, mo, p_num), *d = find_sum(b, w, mo, p_den);

	if (a == NULL || d == NULL || !(d->s[metric].median > 0))
		return NAN;
	return a->s[metric].median / d->s[metric].median;
}

double ratio(const struct bench_ctx *b, int w, int mo, int p_num, int p_den)
{
	return metric_ratio(b, M_NS, w, mo, p_num, p_den);
}

/*
 * Median over rounds of the ratio of two policies' guest ns/op within a
 * round. Every round runs each configuration once, back to back, so both
 * sides of each ratio ran under the same load: on a machine whose speed
 * drifts between phases (the rig under other work), this compares the
 * policies where the ratio of medians mixes phases. NAN without a round in
 * which both finished.
 */
double paired_ratio(const struct bench_ctx *b, int w, int mo, int p_num, int p_den)
{
	double *v = calloc(b->nr_runs + 1, sizeof(*v));
	struct bench_stat st;
	int n = 0;

	if (v == NULL)
		return NAN;
	for (size_t i = 0; i < b->nr_runs; i++) {
		const struct bench_run *a = &b->runs[i];

		if (!a->ok || a->wl != w || a->model != mo || a->pol != p_num)
			continue;
		for (size_t j = 0; j < b->nr_runs; j++) {
			const struct bench_run *d = &b->runs[j];

			if (d->ok && d->wl == w && d->model == mo && d->pol == p_den &&
			    d->run == a->run && d->m[M_NS] > 0) {
				v[n++] = a->m[M_NS] / d->m[M_NS];
				break;
			}
		}
	}
	stat_of(v, n, &st);
	free(v);
	return st.median;
}
