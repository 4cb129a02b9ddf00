/* vmm-bench reports: the terminal table (also table.txt), results.json and
 * results.csv, with the strace cross-check when there is one. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

static const char *const metric_names[NR_METRIC] = {
    "ns_per_op",	   "syscalls_per_op", "opens_per_1k_ops", "exits_per_op",
    "vmm_cpu_ms",	   "fds_end",	      "fds_peak",	  "pmis",
    "backend_calls_per_op", "pmi_handler_ns"};

static void fmt_num(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (v >= 100000)
		snprintf(buf, len, "%.0f", v);
	else if (v >= 100)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.2f", v);
}

/*
 * The PMI's cost as the guest sees it: time in its handler (the exits and
 * host calls of disable, read, reload, ack, enable). The time between PMIs
 * is the period; on a software fallback the period is the vCPU thread's CPU
 * time, which the VMM's own work eats into too, so ns/op hardly moves with
 * the policy there.
 */
static void print_pmi_handler(const struct bench_ctx *b, FILE *f)
{
	static const int pols[] = {POL_NAIVE, POL_LAZY, POL_CACHE};
	char c[5][32];

	fprintf(f, "\npmi: guest ns per PMI in its handler, median (ns/op above is mostly the "
		   "period)\n");
	fprintf(f, "%-9s %-5s %11s %11s %11s %11s %11s\n", "workload", "model", "naive", "lazy",
		"cache", "naive/cache", "lazy/cache");
	for (int mo = 0; mo < NR_MODEL; mo++) {
		if (!b->o.model_on[mo])
			continue;
		for (int i = 0; i < 3; i++) {
			const struct bench_summary *s = find_sum(b, WL_PMI, mo, pols[i]);

			fmt_num(c[i], sizeof(c[i]), s ? s->s[M_HANDLER_NS].median : NAN);
		}
		fmt_num(c[3], sizeof(c[3]),
			metric_ratio(b, M_HANDLER_NS, WL_PMI, mo, POL_NAIVE, POL_CACHE));
		fmt_num(c[4], sizeof(c[4]),
			metric_ratio(b, M_HANDLER_NS, WL_PMI, mo, POL_LAZY, POL_CACHE));
		fprintf(f, "%-9s %-5s %11s %11s %11s %11s %11s\n", "pmi", model_names[mo], c[0],
			c[1], c[2], c[3], c[4]);
	}
}

static void print_ratios(const struct bench_ctx *b, FILE *f, ratio_fn *rf, const char *title)
{
	char c[6][32];

	fprintf(f, "\n%s\n", title);
	fprintf(f, "%-9s %-5s %11s %11s %11s %11s %11s %11s\n", "workload", "model", "naive/lazy",
		"lazy/null", "naive/null", "naive/cache", "lazy/cache", "cache/null");
	for (int w = 0; w < NR_WL; w++)
		for (int mo = 0; mo < NR_MODEL; mo++) {
			if (!b->o.wl_on[w] || !b->o.model_on[mo])
				continue;
			fmt_num(c[0], sizeof(c[0]), rf(b, w, mo, POL_NAIVE, POL_LAZY));
			fmt_num(c[1], sizeof(c[1]), rf(b, w, mo, POL_LAZY, POL_NULL));
			fmt_num(c[2], sizeof(c[2]), rf(b, w, mo, POL_NAIVE, POL_NULL));
			fmt_num(c[3], sizeof(c[3]), rf(b, w, mo, POL_NAIVE, POL_CACHE));
			fmt_num(c[4], sizeof(c[4]), rf(b, w, mo, POL_LAZY, POL_CACHE));
			fmt_num(c[5], sizeof(c[5]), rf(b, w, mo, POL_CACHE, POL_NULL));
			fprintf(f, "%-9s %-5s %11s %11s %11s %11s %11s %11s\n", wl_names[w],
				model_names[mo], c[0], c[1], c[2], c[3], c[4], c[5]);
		}
}

void print_table(const struct bench_ctx *b, FILE *f)
{
	char a[24], lo[24], hi[24], c[6][32];

	fprintf(f, "\nmachine: %s; cpu: %s%s%s\n", b->uname, b->cpu, b->o.note ? "; " : "",
		b->o.note ? b->o.note : "");
	fprintf(f, "runs per configuration: %u (interleaved), values: median [min-max]\n",
		b->o.runs);
	for (int p = 0; p < NR_POL; p++)
		for (int w = 0; w < NR_WL; w++) {
			const char *why =
			    b->o.pol_on[p] && b->o.wl_on[w] ? skip_reason(b, w, p) : NULL;

			if (why == NULL)
				continue;
			if (p == POL_KVM) { /* the same reason for every workload */
				fprintf(f, "skipped: policy kvm: %s\n", why);
				break;
			}
			fprintf(f, "skipped: policy %s, workload %s: %s\n", pol_names[p],
				wl_names[w], why);
		}
	fprintf(f, "\n%-9s %-5s %-6s %5s %27s %9s %9s %8s %9s %7s %6s\n", "workload", "model",
		"policy", "ok", "guest ns/op", "sysc/op", "opens/1k", "exits/op", "VMM cpu ms",
		"fds end", "PMIs");
	for (size_t i = 0; i < b->nr_sum; i++) {
		const struct bench_summary *s = &b->sum[i];
		char ok[16], ns[80];

		snprintf(ok, sizeof(ok), "%d/%d", s->n_ok, s->n_ok + s->n_fail);
		fmt_num(a, sizeof(a), s->s[M_NS].median);
		fmt_num(lo, sizeof(lo), s->s[M_NS].min);
		fmt_num(hi, sizeof(hi), s->s[M_NS].max);
		snprintf(ns, sizeof(ns), "%s [%s-%s]", a, lo, hi);
		fmt_num(c[0], sizeof(c[0]), s->s[M_SYSC].median);
		fmt_num(c[1], sizeof(c[1]), s->s[M_OPENS].median);
		fmt_num(c[2], sizeof(c[2]), s->s[M_EXITS].median);
		fmt_num(c[3], sizeof(c[3]), s->s[M_CPU].median);
		fprintf(f, "%-9s %-5s %-6s %5s %27s %9s %9s %8s %9s %7.0f %6.0f\n", wl_names[s->wl],
			model_names[s->model], pol_names[s->pol], ok, ns, c[0], c[1], c[2], c[3],
			s->s[M_FDS].median, s->s[M_PMIS].median);
	}
	fprintf(f,
		"sysc/op, opens/1k: host perf syscalls (open, close, enable, disable, read, "
		"period, prctl all on/off) from\n"
		"libvmm's counters; null backend: none (its bookkeeping calls are in the JSON)\n");
	print_ratios(b, f, ratio, "ratios of median guest ns/op (null = the trap floor)");
	print_ratios(b, f, paired_ratio,
		     "the same, paired: median over rounds of the ratio within a round (both\n"
		     "sides ran back to back, under the same load: steadier on a noisy machine)");
	if (b->o.wl_on[WL_PMI])
		print_pmi_handler(b, f);
	if (b->sc.done || b->sc.error[0]) {
		const struct strace_check *s = &b->sc;

		fprintf(f, "\nstrace cross-check (%s/%s/%s, one run):\n", wl_names[s->wl],
			model_names[s->model], pol_names[s->pol]);
		if (!s->done) {
			fprintf(f, "  not done: %s\n", s->error);
		} else {
			fprintf(f,
				"  strace -c -f totals: perf_event_open %llu, ioctl %llu, close "
				"%llu, read %llu\n",
				(unsigned long long)s->c_perf_open, (unsigned long long)s->c_ioctl,
				(unsigned long long)s->c_close, (unsigned long long)s->c_read);
			fprintf(f, "  %-28s %10s %10s\n", "on perf fds", "strace", "libvmm");
#define SC_ROW(name, x, y)                                                                         \
	fprintf(f, "  %-28s %10llu %10llu %s\n", name, (unsigned long long)(x),                    \
		(unsigned long long)(y), (x) == (y) ? "ok" : "MISMATCH")
			SC_ROW("perf_event_open", s->perf_opens, s->st.opens);
			SC_ROW("close (incl. at teardown)", s->perf_closes,
			       s->st.closes + s->st.fds_open);
			SC_ROW("ioctl ENABLE", s->perf_enables, s->st.enables);
			SC_ROW("ioctl DISABLE", s->perf_disables, s->st.disables);
			SC_ROW("ioctl PERIOD", s->perf_periods, s->st.set_periods);
			SC_ROW("read", s->perf_reads, s->st.reads);
#undef SC_ROW
			fprintf(f,
				"  %-28s %10llu %10llu (KVM_RUN returning 0 vs exits; %llu more "
				"returned EINTR)\n",
				"KVM_RUN", (unsigned long long)s->kvm_runs,
				(unsigned long long)s->st.exits,
				(unsigned long long)s->kvm_runs_intr);
			if (s->probe_opens)
				fprintf(f,
					"  not counted by libvmm: %llu perf_event_open / %llu "
					"close before the first KVM_RUN (backend probe)\n",
					(unsigned long long)s->probe_opens,
					(unsigned long long)s->probe_closes);
			if (s->perf_other_ioctls)
				fprintf(f,
					"  other ioctls on perf fds: %llu (setup: F_SETOWN etc. "
					"are fcntl)\n",
					(unsigned long long)s->perf_other_ioctls);
		}
	}
	fprintf(f, "\n");
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else
		fprintf(f, "%.6g", v);
}

/* One JSON object per workload and model: the ratios between policies. */
static void json_ratios(const struct bench_ctx *b, FILE *f, ratio_fn *rf)
{
	for (int w = 0, first = 1; w < NR_WL; w++)
		for (int mo = 0; mo < NR_MODEL; mo++) {
			if (!b->o.wl_on[w] || !b->o.model_on[mo])
				continue;
			fprintf(
			    f,
			    "%s    {\"workload\": \"%s\", \"model\": \"%s\", \"naive_over_lazy\": ",
			    first ? "" : ",\n", wl_names[w], model_names[mo]);
			json_num(f, rf(b, w, mo, POL_NAIVE, POL_LAZY));
			fprintf(f, ", \"lazy_over_null\": ");
			json_num(f, rf(b, w, mo, POL_LAZY, POL_NULL));
			fprintf(f, ", \"naive_over_null\": ");
			json_num(f, rf(b, w, mo, POL_NAIVE, POL_NULL));
			fprintf(f, ", \"naive_over_cache\": ");
			json_num(f, rf(b, w, mo, POL_NAIVE, POL_CACHE));
			fprintf(f, ", \"lazy_over_cache\": ");
			json_num(f, rf(b, w, mo, POL_LAZY, POL_CACHE));
			fprintf(f, ", \"cache_over_null\": ");
			json_num(f, rf(b, w, mo, POL_CACHE, POL_NULL));
			fprintf(f, "}");
			first = 0;
		}
}

/* Each counter of struct vmm_pmu_stats the outputs list, in their order. */
#define STAT_FIELDS(X)                                                                             \
	X(msr_reads);                                                                              \
	X(msr_writes);                                                                             \
	X(msr_gp);                                                                                 \
	X(opens);                                                                                  \
	X(closes);                                                                                 \
	X(enables);                                                                                \
	X(disables);                                                                               \
	X(reads);                                                                                  \
	X(set_periods);                                                                            \
	X(group_toggles);                                                                          \
	X(held_toggles);                                                                           \
	X(recreations);                                                                            \
	X(idle_releases);                                                                          \
	X(fds_open);                                                                               \
	X(fds_peak);                                                                               \
	X(exits);                                                                                  \
	X(pmis);                                                                                   \
	X(overflows);                                                                              \
	X(descheduled);                                                                            \
	X(parks);                                                                                  \
	X(cache_hits);                                                                             \
	X(cache_misses);                                                                           \
	X(evictions);                                                                              \
	X(filtered);                                                                               \
	X(throttled);                                                                              \
	X(guest_tsc_khz);

int write_json(const struct bench_ctx *b, const char *path)
{
	FILE *f = fopen(path, "w");
	char args[256];

	if (f == NULL)
		return -errno;
	fprintf(f, "{\n  \"tool\": \"vmm-bench\", \"libvmm\": ");
	json_str(f, vmm_version());
	fprintf(f, ",\n  \"machine\": {\"uname\": ");
	json_str(f, b->uname);
	fprintf(f, ", \"cpu\": ");
	json_str(f, b->cpu);
	fprintf(f, ", \"note\": ");
	json_str(f, b->o.note ? b->o.note : "");
	fprintf(f, ", \"kvm_pmu_capability\": %d},\n", b->kvm_pmu_cap);
	fprintf(f, "  \"config\": {\"guest\": ");
	json_str(f, b->o.guest);
	fprintf(f, ", \"runs\": %u, \"memory_bytes\": %llu, \"guest_args\": {", b->o.runs,
		(unsigned long long)b->o.mem_bytes);
	for (int w = 0, first = 1; w < NR_WL; w++) {
		if (!b->o.wl_on[w])
			continue;
		guest_args(b, w, args, sizeof(args));
		fprintf(f, "%s\"%s\": ", first ? "" : ", ", wl_names[w]);
		json_str(f, args);
		first = 0;
	}
	fprintf(f, "}},\n  \"skipped\": [");
	for (int p = 0, first = 1; p < NR_POL; p++)
		for (int w = 0; w < NR_WL; w++) {
			const char *why =
			    b->o.pol_on[p] && b->o.wl_on[w] ? skip_reason(b, w, p) : NULL;

			if (why == NULL)
				continue;
			fprintf(f, "%s{\"policy\": \"%s\", \"workload\": \"%s\", \"reason\": ",
				first ? "" : ", ", pol_names[p], wl_names[w]);
			json_str(f, why);
			fprintf(f, "}");
			first = 0;
		}
	fprintf(f, "],\n  \"runs\": [\n");
	for (size_t i = 0; i < b->nr_runs; i++) {
		const struct bench_run *r = &b->runs[i];

		fprintf(f,
			"    {\"workload\": \"%s\", \"model\": \"%s\", \"policy\": \"%s\", "
			"\"run\": %d, \"ok\": %s",
			wl_names[r->wl], model_names[r->model], pol_names[r->pol], r->run,
			r->ok ? "true" : "false");
		if (!r->ok) {
			fprintf(f, ", \"error\": ");
			json_str(f, r->error);
		} else {
			fprintf(f, ", \"ops\": %llu, \"cycles\": %llu, \"wall_ms\": ",
				(unsigned long long)r->ops, (unsigned long long)r->cycles);
			json_num(f, r->wall_ms);
			for (int k = 0; k < NR_METRIC; k++) {
				fprintf(f, ", \"%s\": ", metric_names[k]);
				json_num(f, r->m[k]);
			}
			fprintf(f, ", \"stats\": {");
#define X(n)                                                                                       \
	fprintf(f, "%s\"" #n "\": %llu", strcmp(#n, "msr_reads") ? ", " : "",                      \
		(unsigned long long)r->st.n)
			STAT_FIELDS(X)
#undef X
			static const char *const kinds[VMM_EXIT_KIND_NR] = {
			    "io", "mmio", "rdmsr", "wrmsr", "signals", "other"};

			fprintf(f, "}, \"vmm_ns_per_exit\": {");
			for (int k = 0; k < VMM_EXIT_KIND_NR; k++) {
				fprintf(f, "%s\"%s\": ", k ? ", " : "", kinds[k]);
				json_num(f, r->et.exits[k] ? (double)r->et.ns[k] / r->et.exits[k]
							   : NAN);
			}
			/* signals: kicks and overflow signals, which cost the
			 * vPMU its reads; the others are in the exit count */
			fprintf(f, "}, \"exits_by_kind\": {");
			for (int k = 0; k < VMM_EXIT_KIND_NR; k++)
				fprintf(f, "%s\"%s\": %llu", k ? ", " : "", kinds[k],
					(unsigned long long)r->et.exits[k]);
			fprintf(f, "}");
		}
		fprintf(f, "}%s\n", i + 1 < b->nr_runs ? "," : "");
	}
	fprintf(f, "  ],\n  \"summary\": [\n");
	for (size_t i = 0; i < b->nr_sum; i++) {
		const struct bench_summary *s = &b->sum[i];

		fprintf(f,
			"    {\"workload\": \"%s\", \"model\": \"%s\", \"policy\": \"%s\", \"ok\": "
			"%d, \"failed\": %d",
			wl_names[s->wl], model_names[s->model], pol_names[s->pol], s->n_ok,
			s->n_fail);
		for (int k = 0; k < NR_METRIC; k++) {
			const struct bench_stat *st = &s->s[k];

			fprintf(f, ", \"%s\": {\"median\": ", metric_names[k]);
			json_num(f, st->median);
			fprintf(f, ", \"min\": ");
			json_num(f, st->min);
			fprintf(f, ", \"max\": ");
			json_num(f, st->max);
			fprintf(f, ", \"q1\": ");
			json_num(f, st->q1);
			fprintf(f, ", \"q3\": ");
			json_num(f, st->q3);
			fprintf(f, "}");
		}
		fprintf(f, "}%s\n", i + 1 < b->nr_sum ? "," : "");
	}
	fprintf(f, "  ],\n  \"ratios\": [\n");
	json_ratios(b, f, ratio);
	fprintf(f, "\n  ],\n  \"paired_ratios\": [\n");
	json_ratios(b, f, paired_ratio);
	fprintf(f, "\n  ]");
	if (b->sc.done || b->sc.error[0]) {
		const struct strace_check *s = &b->sc;

		fprintf(f,
			",\n  \"strace_check\": {\"workload\": \"%s\", \"model\": \"%s\", "
			"\"policy\": \"%s\", \"done\": %s",
			wl_names[s->wl], model_names[s->model], pol_names[s->pol],
			s->done ? "true" : "false");
		if (!s->done) {
			fprintf(f, ", \"error\": ");
			json_str(f, s->error);
		} else {
			fprintf(f,
				", \"strace_c\": {\"perf_event_open\": %llu, \"ioctl\": %llu, "
				"\"close\": %llu, \"read\": %llu}",
				(unsigned long long)s->c_perf_open, (unsigned long long)s->c_ioctl,
				(unsigned long long)s->c_close, (unsigned long long)s->c_read);
			fprintf(
			    f,
			    ", \"strace_perf_fds\": {\"opens\": %llu, \"closes\": %llu, "
			    "\"enables\": %llu, \"disables\": %llu, \"set_periods\": %llu, "
			    "\"reads\": %llu, \"kvm_run\": %llu, \"kvm_run_eintr\": %llu, "
			    "\"probe_opens\": %llu, \"probe_closes\": %llu}",
			    (unsigned long long)s->perf_opens, (unsigned long long)s->perf_closes,
			    (unsigned long long)s->perf_enables,
			    (unsigned long long)s->perf_disables,
			    (unsigned long long)s->perf_periods, (unsigned long long)s->perf_reads,
			    (unsigned long long)s->kvm_runs, (unsigned long long)s->kvm_runs_intr,
			    (unsigned long long)s->probe_opens,
			    (unsigned long long)s->probe_closes);
			fprintf(
			    f,
			    ", \"libvmm\": {\"opens\": %llu, \"closes\": %llu, "
			    "\"fds_open_at_end\": %llu, \"enables\": %llu, \"disables\": %llu, "
			    "\"set_periods\": %llu, \"reads\": %llu, \"exits\": %llu, \"ops\": "
			    "%llu}",
			    (unsigned long long)s->st.opens, (unsigned long long)s->st.closes,
			    (unsigned long long)s->st.fds_open, (unsigned long long)s->st.enables,
			    (unsigned long long)s->st.disables,
			    (unsigned long long)s->st.set_periods, (unsigned long long)s->st.reads,
			    (unsigned long long)s->st.exits, (unsigned long long)s->ops);
		}
		fprintf(f, "}");
	}
	fprintf(f, "\n}\n");
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

int write_csv(const struct bench_ctx *b, const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -errno;
	fprintf(f, "kind,workload,model,policy,run,ok,ops,cycles,wall_ms");
	for (int k = 0; k < NR_METRIC; k++)
		fprintf(f, ",%s", metric_names[k]);
#define X(n) fprintf(f, "," #n)
	STAT_FIELDS(X)
#undef X
	fprintf(f, ",error\n");
	for (size_t i = 0; i < b->nr_runs; i++) {
		const struct bench_run *r = &b->runs[i];

		fprintf(f, "run,%s,%s,%s,%d,%d,", wl_names[r->wl], model_names[r->model],
			pol_names[r->pol], r->run, r->ok);
		if (r->ok) {
			fprintf(f, "%llu,%llu,%.3f", (unsigned long long)r->ops,
				(unsigned long long)r->cycles, r->wall_ms);
			for (int k = 0; k < NR_METRIC; k++)
				fprintf(f, ",%.6g", r->m[k]);
#define X(n) fprintf(f, ",%llu", (unsigned long long)r->st.n)
			STAT_FIELDS(X)
#undef X
			fprintf(f, ",\n");
		} else {
			fprintf(f, ",,");
			for (int k = 0; k < NR_METRIC; k++)
				fputc(',', f);
#define X(n) fputc(',', f)
			STAT_FIELDS(X)
#undef X
			fputc('"', f);
			for (const char *p = r->error; *p; p++)
				fputs(*p == '"' ? "\"\"" : (char[2]){*p, 0}, f);
			fprintf(f, "\"\n");
		}
	}
	static const char *const kinds[] = {"median", "min", "max", "q1", "q3"};
	for (size_t i = 0; i < b->nr_sum; i++) {
		const struct bench_summary *s = &b->sum[i];

		for (size_t q = 0; q < sizeof(kinds) / sizeof(kinds[0]); q++) {
			fprintf(f, "%s,%s,%s,%s,,%d,,,", kinds[q], wl_names[s->wl],
				model_names[s->model], pol_names[s->pol], s->n_ok);
			for (int k = 0; k < NR_METRIC; k++) {
				const struct bench_stat *st = &s->s[k];
				double v = q == 0   ? st->median
					   : q == 1 ? st->min
					   : q == 2 ? st->max
					   : q == 3 ? st->q1
						    : st->q3;

				fprintf(f, ",%.6g", v);
			}
#define X(n) fputc(',', f)
			STAT_FIELDS(X)
#undef X
			fprintf(f, ",\n");
		}
	}
	if (fclose(f) != 0)
		return -errno;
	return 0;
}
