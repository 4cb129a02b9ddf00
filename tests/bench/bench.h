/* vmm-bench's shared vocabulary: the workloads, PMU models, policies and
 * metrics it measures, one run's result, the summary of a configuration, the
 * options and the harness state, and the functions its files share. */
#ifndef VMM_BENCH_H
#define VMM_BENCH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "libvmm.h"

enum { WL_CTXSW, WL_PMI, WL_MULTIPLEX, WL_IDLE, NR_WL };
enum { MODEL_INTEL, MODEL_AMD, NR_MODEL };
enum { POL_NAIVE, POL_LAZY, POL_CACHE, POL_NULL, POL_KVM, NR_POL };
enum {
	M_NS,
	M_SYSC,
	M_OPENS,
	M_EXITS,
	M_CPU,
	M_FDS,
	M_FDS_PEAK,
	M_PMIS,
	M_BCALLS,
	M_HANDLER_NS, /* pmi: guest ns per PMI inside its handler */
	NR_METRIC
};

/* Names of the above, as used on the command line and in the outputs. */
extern const char *const wl_names[NR_WL];
extern const char *const model_names[NR_MODEL];
extern const char *const pol_names[NR_POL];

/* One VM run of one configuration. */
struct bench_run {
	int wl, model, pol, run;
	bool ok;
	char error[256];
	uint64_t ops, cycles, handler_cycles;
	double wall_ms;
	double m[NR_METRIC];
	struct vmm_pmu_stats st;
	struct vmm_exit_times et; /* the VMM's own time per exit kind */
};

/* Median and spread of one metric over the successful runs of a config. */
struct bench_stat {
	double median, min, max, q1, q3;
};

struct bench_summary {
	int wl, model, pol;
	int n_ok, n_fail;
	struct bench_stat s[NR_METRIC];
};

/* What strace saw of one run, next to what libvmm counted. */
struct strace_check {
	bool done;
	char error[256];
	int wl, model, pol;
	char file[PATH_MAX];
	/* strace -c totals (all fds) */
	uint64_t c_perf_open, c_ioctl, c_close, c_read;
	/* per-call decode, restricted to perf fds */
	uint64_t perf_opens, perf_closes, perf_reads, perf_enables, perf_disables;
	uint64_t perf_periods, perf_other_ioctls, kvm_runs, kvm_runs_intr;
	/* perf events opened before the first KVM_RUN: the backend's probe */
	uint64_t probe_opens, probe_closes;
	bool running;
	/* libvmm's own counts for the same run */
	struct vmm_pmu_stats st;
	uint64_t ops;
};

struct bench_opts {
	const char *guest, *out_dir, *strace_path, *note;
	bool wl_on[NR_WL], model_on[NR_MODEL], pol_on[NR_POL];
	uint64_t iters[NR_WL];
	long k, m, slices;
	unsigned int runs;
	uint64_t mem_bytes;
	uint64_t strace_iters;
	unsigned int run_timeout;
	bool strace_check, dump, verbose, no_plot;
	bool child; /* --child W,M,P: one run, stats on stdout (under strace) */
	int child_wl, child_model, child_pol;
};

struct bench_ctx {
	struct bench_opts o;
	struct bench_run *runs;
	size_t nr_runs, cap_runs;
	struct bench_summary *sum;
	size_t nr_sum;
	int kvm_pmu_cap;    /* KVM_CAP_PMU_CAPABILITY, or -errno */
	char kvm_skip[200]; /* why the kvm policy is skipped ("" if it runs) */
	char uname[200], cpu[160];
	char self_exe[PATH_MAX];
	struct strace_check sc;
};

/* runner.c: running the VMs */

int bench_run_one(struct bench_ctx *b, struct bench_run *r);
/* Every selected configuration, runs interleaved. Returns the number of
 * failed runs or a negative errno. */
int bench_all(struct bench_ctx *b);
/* The guest's command line for workload @wl. */
void guest_args(const struct bench_ctx *b, int wl, char *buf, size_t len);
int spawn_wait(const char *dir, char *const argv[], int out_fd);

/* stats.c: medians and ratios */

const char *skip_reason(const struct bench_ctx *b, int wl, int pol);
bool pol_runs(const struct bench_ctx *b, int wl, int pol);
/* Fill b->sum from b->runs. */
int summarize(struct bench_ctx *b);
/* Summary of a configuration with at least one successful run, or NULL. */
const struct bench_summary *find_sum(const struct bench_ctx *b, int w, int mo, int p);
double ratio(const struct bench_ctx *b, int w, int mo, int p_num, int p_den);
/* The same, as the median of the ratios within each round (stats.c). */
double paired_ratio(const struct bench_ctx *b, int w, int mo, int p_num, int p_den);
typedef double ratio_fn(const struct bench_ctx *b, int w, int mo, int p_num, int p_den);
/* the same for another metric (M_*) */
double metric_ratio(const struct bench_ctx *b, int metric, int w, int mo, int p_num, int p_den);

/* report.c: terminal table, JSON, CSV */

void print_table(const struct bench_ctx *b, FILE *f);
int write_json(const struct bench_ctx *b, const char *path);
int write_csv(const struct bench_ctx *b, const char *path);

/* output.c: the results directory */

int mkdir_p(const char *path);
/* Every output file into --out (and on stdout with --dump), gnuplot run. */
int write_outputs(struct bench_ctx *b);
void finish_partial(struct bench_ctx *b);

/* strace_check.c: syscall counts of one run seen by strace */

int strace_check(struct bench_ctx *b);
/* --child: one run, its libvmm counts on stdout for strace_check(). */
int child_main(struct bench_ctx *b);

#endif
