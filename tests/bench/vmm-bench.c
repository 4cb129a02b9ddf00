/* vmm-bench: measures what the lazy vPMU saves. Runs the benchmark guest
 * (tests/guests/bench.bin) for each workload x PMU model x policy (naive,
 * lazy, null backend = the trap floor, KVM's in-kernel PMU where there is
 * one), several interleaved runs each, and reports guest ns per operation,
 * host perf syscalls, exits, VMM CPU time and host fds held, as a terminal
 * table, results.json, results.csv and a gnuplot chart (cost.png/.svg).
 * Optionally cross-checks the syscall counts of one run against strace. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "libvmm.h"

#ifndef KVM_CAP_PMU_CAPABILITY
#define KVM_CAP_PMU_CAPABILITY 232
#endif

/* Exit status meson reads as "skipped". */
#define EXIT_SKIP 77

#define PERF_IOC_ENABLE 0x2400UL
#define PERF_IOC_DISABLE 0x2401UL
#define PERF_IOC_PERIOD 0x40082404UL
#define KVM_RUN_IOCTL 0xae80UL

enum { WL_CTXSW, WL_PMI, WL_MULTIPLEX, WL_IDLE, NR_WL };
enum { MODEL_INTEL, MODEL_AMD, NR_MODEL };
enum { POL_NAIVE, POL_LAZY, POL_NULL, POL_KVM, NR_POL };
enum { M_NS, M_SYSC, M_OPENS, M_EXITS, M_CPU, M_FDS, M_FDS_PEAK, M_PMIS, M_BCALLS, NR_METRIC };

static const char *const wl_names[NR_WL] = {"ctxsw", "pmi", "multiplex", "idle"};
static const char *const model_names[NR_MODEL] = {"intel", "amd"};
static const char *const pol_names[NR_POL] = {"naive", "lazy", "null", "kvm"};
static const char *const metric_names[NR_METRIC] = {
	"ns_per_op", "syscalls_per_op", "opens_per_1k_ops", "exits_per_op",
	"vmm_cpu_ms", "fds_end", "fds_peak", "pmis", "backend_calls_per_op"};
static const uint64_t default_iters[NR_WL] = {1000, 100, 250, 5};

/* One VM run of one configuration. */
struct bench_run {
	int wl, model, pol, run;
	bool ok;
	char error[256];
	uint64_t ops, cycles;
	double wall_ms;
	double m[NR_METRIC];
	struct vmm_pmu_stats st;
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
	int kvm_pmu_cap;	/* KVM_CAP_PMU_CAPABILITY, or -errno */
	char kvm_skip[200];	/* why the kvm policy is skipped ("" if it runs) */
	char uname[200], cpu[160];
	char self_exe[PATH_MAX];
	struct strace_check sc;
};

/* Console and log capture of one VM (called from its vCPU threads). */
struct capture {
	pthread_mutex_t lock;
	char con[8192];
	size_t con_len;
	char log[2048];
	size_t log_len;
	bool verbose;
};

static void console_sink(void *opaque, const void *buf, size_t len)
{
	struct capture *c = opaque;

	pthread_mutex_lock(&c->lock);
	if (len > sizeof(c->con) - 1 - c->con_len)
		len = sizeof(c->con) - 1 - c->con_len;
	memcpy(c->con + c->con_len, buf, len);
	c->con_len += len;
	c->con[c->con_len] = '\0';
	pthread_mutex_unlock(&c->lock);
}

static void log_sink(void *opaque, enum vmm_log_level level, const char *msg)
{
	struct capture *c = opaque;
	int n;

	pthread_mutex_lock(&c->lock);
	if (c->verbose)
		fprintf(stderr, "  vmm: %s\n", msg);
	if (level <= VMM_LOG_ERROR && c->log_len < sizeof(c->log) - 1) {
		n = snprintf(c->log + c->log_len, sizeof(c->log) - c->log_len, "%s%s",
			     c->log_len ? "; " : "", msg);
		if (n > 0)
			c->log_len = c->log_len + (size_t)n < sizeof(c->log) ? c->log_len + (size_t)n
									      : sizeof(c->log) - 1;
	}
	pthread_mutex_unlock(&c->lock);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* Value of "key=" in a BENCH line, as a number. */
static int field_u64(const char *line, const char *key, uint64_t *v)
{
	char pat[32];
	const char *p;
	char *end;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	if (p == NULL)
		return -ENOENT;
	errno = 0;
	*v = strtoull(p + strlen(pat), &end, 10);
	if (errno || end == p + strlen(pat))
		return -EINVAL;
	return 0;
}

static int field_str(const char *line, const char *key, char *out, size_t len)
{
	char pat[32];
	const char *p;
	size_t n;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	if (p == NULL)
		return -ENOENT;
	p += strlen(pat);
	n = strcspn(p, " \r\n");
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* Find the guest's BENCH (or BENCH-ERROR) line in the console output. */
static int parse_console(const char *con, struct bench_run *r)
{
	const char *p = con, *err;
	char line[512], wl[32], model[32];
	size_t n;

	for (;;) {
		p = strstr(p, "BENCH");
		if (p == NULL)
			break;
		if (p != con && p[-1] != '\n') {
			p++;
			continue;
		}
		n = strcspn(p, "\n");
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		if (strncmp(line, "BENCH-ERROR", 11) == 0) {
			snprintf(r->error, sizeof(r->error), "guest: %s", line + 11 + (line[11] == ' '));
			return -EIO;
		}
		if (strncmp(line, "BENCH ", 6) != 0) {
			p += n;
			continue;
		}
		if (field_str(line, "workload", wl, sizeof(wl)) || field_str(line, "model", model, sizeof(model)) ||
		    field_u64(line, "ops", &r->ops) || field_u64(line, "cycles", &r->cycles)) {
			snprintf(r->error, sizeof(r->error), "malformed BENCH line: %.200s", line);
			return -EINVAL;
		}
		if (strcmp(wl, wl_names[r->wl]) != 0 || strcmp(model, model_names[r->model]) != 0) {
			snprintf(r->error, sizeof(r->error),
				 "guest ran workload=%s model=%s, asked for %s/%s", wl, model,
				 wl_names[r->wl], model_names[r->model]);
			return -EPROTO;
		}
		if (r->ops == 0) {
			snprintf(r->error, sizeof(r->error), "guest reported ops=0");
			return -EINVAL;
		}
		return 0;
	}
	err = con[0] ? con : "(no console output)";
	n = strcspn(err, "\n");
	snprintf(r->error, sizeof(r->error), "no BENCH line; console: %.*s", (int)(n < 120 ? n : 120), err);
	return -ENODATA;
}

static void guest_args(const struct bench_ctx *b, int wl, char *buf, size_t len)
{
	int n = snprintf(buf, len, "workload=%s iters=%llu", wl_names[wl],
			 (unsigned long long)b->o.iters[wl]);

	if (wl == WL_PMI && b->o.k > 0)
		n += snprintf(buf + n, len - (size_t)n, " k=%ld", b->o.k);
	if (wl == WL_MULTIPLEX && b->o.m > 0)
		n += snprintf(buf + n, len - (size_t)n, " m=%ld", b->o.m);
	if (wl == WL_IDLE && b->o.slices > 0)
		snprintf(buf + n, len - (size_t)n, " slices=%ld", b->o.slices);
}

/* Derived per-op figures of a finished run. */
static void run_derive(struct bench_run *r)
{
	const struct vmm_pmu_stats *s = &r->st;
	double ops = (double)r->ops;
	uint64_t calls = s->opens + s->closes + s->enables + s->disables + s->reads + s->set_periods;
	/* The null backend counts its calls like the others but makes no
	 * syscalls and holds no fds: its host figures are zero. */
	bool host = r->pol != POL_NULL;

	r->m[M_NS] = s->guest_tsc_khz ? (double)r->cycles * 1e6 / s->guest_tsc_khz / ops : NAN;
	r->m[M_BCALLS] = (double)calls / ops;
	r->m[M_SYSC] = host ? (double)calls / ops : 0;
	r->m[M_OPENS] = host ? (double)s->opens * 1000.0 / ops : 0;
	r->m[M_EXITS] = (double)s->exits / ops;
	r->m[M_FDS] = host ? (double)s->fds_open : 0;
	r->m[M_FDS_PEAK] = host ? (double)s->fds_peak : 0;
	r->m[M_PMIS] = (double)s->pmis;
}

/* Grace period for a VM to end after vmm_stop(). */
#define STOP_GRACE_S 30

static int add_run(struct bench_ctx *b, const struct bench_run *r);
static void finish_partial(struct bench_ctx *b);

/* Stops a VM that runs longer than the per-run limit; if it does not end
 * after vmm_stop() either, writes what was measured so far and exits. */
struct watchdog {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct vmm *vm;
	struct bench_ctx *b;
	struct bench_run *r;
	unsigned int seconds;
	bool done, fired;
};

static void *watchdog_main(void *arg)
{
	struct watchdog *w = arg;
	struct timespec dl;
	int stage = 0;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += w->seconds;
	pthread_mutex_lock(&w->lock);
	while (!w->done) {
		if (pthread_cond_timedwait(&w->cond, &w->lock, &dl) != ETIMEDOUT || w->done)
			continue;
		if (stage++ == 0) {
			w->fired = true;
			if (w->vm != NULL)
				vmm_stop(w->vm);
			dl.tv_sec += STOP_GRACE_S;
			continue;
		}
		fprintf(stderr, "vmm-bench: %s/%s/%s: the VM did not end %d s after vmm_stop(); "
				"writing partial results and exiting\n", wl_names[w->r->wl],
			model_names[w->r->model], pol_names[w->r->pol], STOP_GRACE_S);
		snprintf(w->r->error, sizeof(w->r->error),
			 "timed out after %u s and did not stop after vmm_stop()", w->seconds);
		if (w->b != NULL) {
			add_run(w->b, w->r);
			finish_partial(w->b);
		}
		_exit(3);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Run one configuration once. Returns 0 or a negative errno (r->error says why). */
static int bench_run_one(struct bench_ctx *b, struct bench_run *r)
{
	struct capture cap = {.lock = PTHREAD_MUTEX_INITIALIZER, .verbose = b->o.verbose};
	struct watchdog wd = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER,
			      .seconds = b->o.run_timeout, .b = b->o.child ? NULL : b, .r = r};
	pthread_t wd_thread;
	bool wd_started;
	struct vmm_config cfg;
	struct vmm_exit ex;
	struct vmm *vm = NULL;
	char args[256], err[256];
	double c0, c1, t0;
	int ret;

	guest_args(b, r->wl, args, sizeof(args));
	vmm_config_init(&cfg);
	cfg.memory_bytes = b->o.mem_bytes;
	cfg.firmware_path = b->o.guest;
	cfg.cmdline = args;
	cfg.console_sink = console_sink;
	cfg.console_opaque = &cap;
	cfg.log = log_sink;
	cfg.log_opaque = &cap;
	cfg.log_level = b->o.verbose ? VMM_LOG_INFO : VMM_LOG_ERROR;
	/* The kvm policy hides the userspace vPMU, so PMU MSRs stay with KVM. */
	cfg.pmu = r->pol == POL_KVM ? VMM_PMU_OFF : VMM_PMU_FORCE;
	cfg.pmu_policy = r->pol == POL_NAIVE ? VMM_PMU_NAIVE : VMM_PMU_LAZY;
	cfg.pmu_backend = r->pol == POL_NULL ? VMM_PMU_BACKEND_NULL : VMM_PMU_BACKEND_PERF;
	cfg.pmu_model = r->model == MODEL_AMD ? VMM_PMU_MODEL_AMD : VMM_PMU_MODEL_INTEL;

	r->ok = false;
	r->error[0] = '\0';
	/* The watchdog covers vmm_create() and vmm_destroy() too. */
	wd_started = pthread_create(&wd_thread, NULL, watchdog_main, &wd) == 0;
	ret = vmm_create(&cfg, &vm, err, sizeof(err));
	if (ret < 0) {
		snprintf(r->error, sizeof(r->error), "vmm_create: %.230s", err);
		goto out;
	}
	pthread_mutex_lock(&wd.lock);
	wd.vm = wd.fired ? NULL : vm;
	pthread_mutex_unlock(&wd.lock);
	t0 = now_ms();
	c0 = cpu_ms();
	ret = vmm_run(vm);
	c1 = cpu_ms();
	r->wall_ms = now_ms() - t0;
	r->m[M_CPU] = c1 - c0;
	pthread_mutex_lock(&wd.lock);
	wd.vm = NULL;
	pthread_mutex_unlock(&wd.lock);
	if (wd.fired) {
		snprintf(r->error, sizeof(r->error), "timed out after %u s (--run-timeout); console: %.120s",
			 wd.seconds, cap.con);
		ret = -ETIMEDOUT;
		goto out;
	}
	if (ret < 0) {
		snprintf(r->error, sizeof(r->error), "vmm_run: %s", strerror(-ret));
		goto out;
	}
	vmm_get_exit(vm, &ex);
	vmm_get_pmu_stats(vm, &r->st);
	ret = parse_console(cap.con, r);
	if (ret == 0 && (ex.reason != VMM_EXIT_TEST || ex.code != 0)) {
		snprintf(r->error, sizeof(r->error), "VM ended badly: %.120s%s%.100s", ex.message,
			 cap.log_len ? "; " : "", cap.log);
		ret = -EIO;
	}
	if (ret == 0) {
		run_derive(r);
		r->ok = true;
	} else if (cap.log_len && strlen(r->error) < 160) {
		size_t n = strlen(r->error);

		snprintf(r->error + n, sizeof(r->error) - n, " (%.90s)", cap.log);
	}
out:
	vmm_destroy(vm);
	if (wd_started) {
		pthread_mutex_lock(&wd.lock);
		wd.done = true;
		pthread_cond_signal(&wd.cond);
		pthread_mutex_unlock(&wd.lock);
		pthread_join(wd_thread, NULL);
	}
	return ret;
}

/*
 * Run one configuration in a child process. Nested KVM on the emulated rig
 * has left a VM process stuck in its host kernel where nothing, not even
 * _exit(), ends it; a child that does not answer in time is killed and, if
 * it cannot die, abandoned, so the harness still finishes with every other
 * run and says which ones hung.
 */
static int bench_run_isolated(struct bench_ctx *b, struct bench_run *r)
{
	int fds[2], ret = -EIO;
	struct pollfd pfd;
	size_t got = 0;
	pid_t pid;

	if (pipe(fds) < 0)
		return bench_run_one(b, r);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return bench_run_one(b, r);
	}
	if (pid == 0) {
		close(fds[0]);
		b->o.child = true; /* the run's own watchdog only exits */
		ret = bench_run_one(b, r);
		if (write(fds[1], &ret, sizeof(ret)) != sizeof(ret) ||
		    write(fds[1], r, sizeof(*r)) != (ssize_t)sizeof(*r))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	pfd = (struct pollfd){.fd = fds[0], .events = POLLIN};
	for (;;) {
		int timeout_ms = (int)(b->o.run_timeout + 2 * STOP_GRACE_S) * 1000;
		char buf[sizeof(int) + sizeof(*r)];
		ssize_t n;

		if (poll(&pfd, 1, timeout_ms) <= 0) {
			kill(pid, SIGKILL);
			snprintf(r->error, sizeof(r->error),
				 "the VM process hung and was abandoned (pid %d)", (int)pid);
			r->ok = false;
			close(fds[0]);
			waitpid(pid, NULL, WNOHANG);
			return -ETIMEDOUT;
		}
		n = read(fds[0], buf + got, sizeof(buf) - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == sizeof(buf)) {
			memcpy(&ret, buf, sizeof(ret));
			memcpy(r, buf + sizeof(ret), sizeof(*r));
			break;
		}
	}
	close(fds[0]);
	waitpid(pid, NULL, 0);
	if (got != sizeof(int) + sizeof(*r)) {
		snprintf(r->error, sizeof(r->error), "the run's process ended without a result");
		r->ok = false;
		return -EIO;
	}
	return ret;
}

static int add_run(struct bench_ctx *b, const struct bench_run *r)
{
	if (b->nr_runs == b->cap_runs) {
		size_t cap = b->cap_runs ? b->cap_runs * 2 : 64;
		struct bench_run *n = realloc(b->runs, cap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		b->runs = n;
		b->cap_runs = cap;
	}
	b->runs[b->nr_runs++] = *r;
	return 0;
}

/* ---- statistics ---- */

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
static const char *skip_reason(const struct bench_ctx *b, int wl, int pol)
{
	if (pol == POL_KVM && b->kvm_skip[0])
		return b->kvm_skip;
	if (pol == POL_NULL && wl == WL_PMI)
		return "the null backend counts nothing, so counters never overflow: no PMIs";
	return NULL;
}

/* Policy selected and runnable for @wl (any selected workload if @wl < 0). */
static bool pol_runs(const struct bench_ctx *b, int wl, int pol)
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

static int summarize(struct bench_ctx *b)
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

static const struct bench_summary *find_sum(const struct bench_ctx *b, int w, int mo, int p)
{
	for (size_t i = 0; i < b->nr_sum; i++)
		if (b->sum[i].wl == w && b->sum[i].model == mo && b->sum[i].pol == p &&
		    b->sum[i].n_ok > 0)
			return &b->sum[i];
	return NULL;
}

/* Ratio of median guest ns/op of two policies, NAN when either is missing. */
static double ratio(const struct bench_ctx *b, int w, int mo, int p_num, int p_den)
{
	const struct bench_summary *a = find_sum(b, w, mo, p_num), *d = find_sum(b, w, mo, p_den);

	if (a == NULL || d == NULL || !(d->s[M_NS].median > 0))
		return NAN;
	return a->s[M_NS].median / d->s[M_NS].median;
}

/* ---- output ---- */

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

static void print_table(const struct bench_ctx *b, FILE *f)
{
	char a[24], lo[24], hi[24], c[5][32];

	fprintf(f, "\nmachine: %s; cpu: %s%s%s\n", b->uname, b->cpu, b->o.note ? "; " : "",
		b->o.note ? b->o.note : "");
	fprintf(f, "runs per configuration: %u (interleaved), values: median [min-max]\n", b->o.runs);
	for (int p = 0; p < NR_POL; p++)
		for (int w = 0; w < NR_WL; w++) {
			const char *why = b->o.pol_on[p] && b->o.wl_on[w] ? skip_reason(b, w, p) : NULL;

			if (why == NULL)
				continue;
			if (p == POL_KVM) {	/* the same reason for every workload */
				fprintf(f, "skipped: policy kvm: %s\n", why);
				break;
			}
			fprintf(f, "skipped: policy %s, workload %s: %s\n", pol_names[p], wl_names[w], why);
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
	fprintf(f, "sysc/op, opens/1k: host perf syscalls (open, close, enable, disable, read, period) from\n"
		   "libvmm's counters; null backend: none (its bookkeeping calls are in the JSON)\n");
	fprintf(f, "\nratios of median guest ns/op (null = the trap floor)\n");
	fprintf(f, "%-9s %-5s %11s %11s %11s\n", "workload", "model", "naive/lazy", "lazy/null",
		"naive/null");
	for (int w = 0; w < NR_WL; w++)
		for (int mo = 0; mo < NR_MODEL; mo++) {
			if (!b->o.wl_on[w] || !b->o.model_on[mo])
				continue;
			fmt_num(c[0], sizeof(c[0]), ratio(b, w, mo, POL_NAIVE, POL_LAZY));
			fmt_num(c[1], sizeof(c[1]), ratio(b, w, mo, POL_LAZY, POL_NULL));
			fmt_num(c[2], sizeof(c[2]), ratio(b, w, mo, POL_NAIVE, POL_NULL));
			fprintf(f, "%-9s %-5s %11s %11s %11s\n", wl_names[w], model_names[mo], c[0],
				c[1], c[2]);
		}
	if (b->sc.done || b->sc.error[0]) {
		const struct strace_check *s = &b->sc;

		fprintf(f, "\nstrace cross-check (%s/%s/%s, one run):\n", wl_names[s->wl],
			model_names[s->model], pol_names[s->pol]);
		if (!s->done) {
			fprintf(f, "  not done: %s\n", s->error);
		} else {
			fprintf(f, "  strace -c -f totals: perf_event_open %llu, ioctl %llu, close %llu, read %llu\n",
				(unsigned long long)s->c_perf_open, (unsigned long long)s->c_ioctl,
				(unsigned long long)s->c_close, (unsigned long long)s->c_read);
			fprintf(f, "  %-28s %10s %10s\n", "on perf fds", "strace", "libvmm");
#define SC_ROW(name, x, y)                                                                         \
	fprintf(f, "  %-28s %10llu %10llu %s\n", name, (unsigned long long)(x),                    \
		(unsigned long long)(y), (x) == (y) ? "ok" : "MISMATCH")
			SC_ROW("perf_event_open", s->perf_opens, s->st.opens);
			SC_ROW("close (incl. at teardown)", s->perf_closes, s->st.closes + s->st.fds_open);
			SC_ROW("ioctl ENABLE", s->perf_enables, s->st.enables);
			SC_ROW("ioctl DISABLE", s->perf_disables, s->st.disables);
			SC_ROW("ioctl PERIOD", s->perf_periods, s->st.set_periods);
			SC_ROW("read", s->perf_reads, s->st.reads);
#undef SC_ROW
			fprintf(f, "  %-28s %10llu %10llu (KVM_RUN returning 0 vs exits; %llu more returned EINTR)\n",
				"KVM_RUN", (unsigned long long)s->kvm_runs,
				(unsigned long long)s->st.exits, (unsigned long long)s->kvm_runs_intr);
			if (s->probe_opens)
				fprintf(f, "  not counted by libvmm: %llu perf_event_open / %llu close before the first KVM_RUN (backend probe)\n",
					(unsigned long long)s->probe_opens, (unsigned long long)s->probe_closes);
			if (s->perf_other_ioctls)
				fprintf(f, "  other ioctls on perf fds: %llu (setup: F_SETOWN etc. are fcntl)\n",
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

#define STAT_FIELDS(X)                                                                             \
	X(msr_reads) X(msr_writes) X(msr_gp) X(opens) X(closes) X(enables) X(disables) X(reads)   \
	X(set_periods) X(recreations) X(idle_releases) X(fds_open) X(fds_peak) X(exits) X(pmis)  \
	X(overflows) X(descheduled) X(guest_tsc_khz)

static int write_json(const struct bench_ctx *b, const char *path)
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
			const char *why = b->o.pol_on[p] && b->o.wl_on[w] ? skip_reason(b, w, p) : NULL;

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

		fprintf(f, "    {\"workload\": \"%s\", \"model\": \"%s\", \"policy\": \"%s\", \"run\": %d, \"ok\": %s",
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
#define X(n) fprintf(f, "%s\"" #n "\": %llu", strcmp(#n, "msr_reads") ? ", " : "", (unsigned long long)r->st.n);
			STAT_FIELDS(X)
#undef X
			fprintf(f, "}");
		}
		fprintf(f, "}%s\n", i + 1 < b->nr_runs ? "," : "");
	}
	fprintf(f, "  ],\n  \"summary\": [\n");
	for (size_t i = 0; i < b->nr_sum; i++) {
		const struct bench_summary *s = &b->sum[i];

		fprintf(f, "    {\"workload\": \"%s\", \"model\": \"%s\", \"policy\": \"%s\", \"ok\": %d, \"failed\": %d",
			wl_names[s->wl], model_names[s->model], pol_names[s->pol], s->n_ok, s->n_fail);
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
	for (int w = 0, first = 1; w < NR_WL; w++)
		for (int mo = 0; mo < NR_MODEL; mo++) {
			if (!b->o.wl_on[w] || !b->o.model_on[mo])
				continue;
			fprintf(f, "%s    {\"workload\": \"%s\", \"model\": \"%s\", \"naive_over_lazy\": ",
				first ? "" : ",\n", wl_names[w], model_names[mo]);
			json_num(f, ratio(b, w, mo, POL_NAIVE, POL_LAZY));
			fprintf(f, ", \"lazy_over_null\": ");
			json_num(f, ratio(b, w, mo, POL_LAZY, POL_NULL));
			fprintf(f, ", \"naive_over_null\": ");
			json_num(f, ratio(b, w, mo, POL_NAIVE, POL_NULL));
			fprintf(f, "}");
			first = 0;
		}
	fprintf(f, "\n  ]");
	if (b->sc.done || b->sc.error[0]) {
		const struct strace_check *s = &b->sc;

		fprintf(f, ",\n  \"strace_check\": {\"workload\": \"%s\", \"model\": \"%s\", \"policy\": \"%s\", \"done\": %s",
			wl_names[s->wl], model_names[s->model], pol_names[s->pol], s->done ? "true" : "false");
		if (!s->done) {
			fprintf(f, ", \"error\": ");
			json_str(f, s->error);
		} else {
			fprintf(f, ", \"strace_c\": {\"perf_event_open\": %llu, \"ioctl\": %llu, \"close\": %llu, \"read\": %llu}",
				(unsigned long long)s->c_perf_open, (unsigned long long)s->c_ioctl,
				(unsigned long long)s->c_close, (unsigned long long)s->c_read);
			fprintf(f, ", \"strace_perf_fds\": {\"opens\": %llu, \"closes\": %llu, \"enables\": %llu, \"disables\": %llu, \"set_periods\": %llu, \"reads\": %llu, \"kvm_run\": %llu, \"kvm_run_eintr\": %llu, \"probe_opens\": %llu, \"probe_closes\": %llu}",
				(unsigned long long)s->perf_opens, (unsigned long long)s->perf_closes,
				(unsigned long long)s->perf_enables, (unsigned long long)s->perf_disables,
				(unsigned long long)s->perf_periods, (unsigned long long)s->perf_reads,
				(unsigned long long)s->kvm_runs, (unsigned long long)s->kvm_runs_intr,
				(unsigned long long)s->probe_opens, (unsigned long long)s->probe_closes);
			fprintf(f, ", \"libvmm\": {\"opens\": %llu, \"closes\": %llu, \"fds_open_at_end\": %llu, \"enables\": %llu, \"disables\": %llu, \"set_periods\": %llu, \"reads\": %llu, \"exits\": %llu, \"ops\": %llu}",
				(unsigned long long)s->st.opens, (unsigned long long)s->st.closes,
				(unsigned long long)s->st.fds_open, (unsigned long long)s->st.enables,
				(unsigned long long)s->st.disables, (unsigned long long)s->st.set_periods,
				(unsigned long long)s->st.reads, (unsigned long long)s->st.exits,
				(unsigned long long)s->ops);
		}
		fprintf(f, "}");
	}
	fprintf(f, "\n}\n");
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

static int write_csv(const struct bench_ctx *b, const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -errno;
	fprintf(f, "kind,workload,model,policy,run,ok,ops,cycles,wall_ms");
	for (int k = 0; k < NR_METRIC; k++)
		fprintf(f, ",%s", metric_names[k]);
#define X(n) fprintf(f, "," #n);
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
#define X(n) fprintf(f, ",%llu", (unsigned long long)r->st.n);
			STAT_FIELDS(X)
#undef X
			fprintf(f, ",\n");
		} else {
			fprintf(f, ",,");
			for (int k = 0; k < NR_METRIC; k++)
				fputc(',', f);
#define X(n) fputc(',', f);
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
				double v = q == 0 ? st->median : q == 1 ? st->min : q == 2 ? st->max
							    : q == 3 ? st->q1 : st->q3;

				fprintf(f, ",%.6g", v);
			}
#define X(n) fputc(',', f);
			STAT_FIELDS(X)
#undef X
			fprintf(f, ",\n");
		}
	}
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

/* cost.dat (one row per workload/model, median/min/max per policy) and
 * cost.gp, which picks pngcairo, png or svg by what this gnuplot has. */
static int write_plot(const struct bench_ctx *b, const char *dat, const char *gp)
{
	FILE *f = fopen(dat, "w");
	double lo = INFINITY, hi = 0;
	int col, npol = 0;

	if (f == NULL)
		return -errno;
	fprintf(f, "# workload/model");
	for (int p = 0; p < NR_POL; p++)
		if (pol_runs(b, -1, p))
			fprintf(f, " %s_median %s_min %s_max", pol_names[p], pol_names[p], pol_names[p]);
	fprintf(f, "\n");
	for (int w = 0; w < NR_WL; w++)
		for (int mo = 0; mo < NR_MODEL; mo++) {
			if (!b->o.wl_on[w] || !b->o.model_on[mo])
				continue;
			fprintf(f, "%s/%s", wl_names[w], model_names[mo]);
			for (int p = 0; p < NR_POL; p++) {
				const struct bench_summary *s = find_sum(b, w, mo, p);

				if (!pol_runs(b, -1, p))
					continue;
				if (s == NULL) {
					fprintf(f, " NaN NaN NaN");
					continue;
				}
				fprintf(f, " %.6g %.6g %.6g", s->s[M_NS].median, s->s[M_NS].min,
					s->s[M_NS].max);
				if (s->s[M_NS].min > 0 && s->s[M_NS].min < lo)
					lo = s->s[M_NS].min;
				if (s->s[M_NS].max > hi)
					hi = s->s[M_NS].max;
			}
			fprintf(f, "\n");
		}
	if (fclose(f) != 0)
		return -errno;

	f = fopen(gp, "w");
	if (f == NULL)
		return -errno;
	fprintf(f, "# gnuplot script written by vmm-bench: guest ns per operation by policy.\n"
		   "# Run in this directory: gnuplot cost.gp\n"
		   "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
		   "  set terminal pngcairo size 1100,600 noenhanced; set output 'cost.png'\n"
		   "} else { if (strstrt(GPVAL_TERMINALS, ' png ') > 0) {\n"
		   "  set terminal png size 1100,600 noenhanced; set output 'cost.png'\n"
		   "} else {\n"
		   "  set terminal svg size 1100,600 noenhanced; set output 'cost.svg'\n"
		   "} }\n");
	fprintf(f, "set title \"vmm-bench: guest cost per operation (median, bars min-max)\\n%s%s%s\"\n",
		b->uname, b->o.note ? ", " : "", b->o.note ? b->o.note : "");
	fprintf(f, "set datafile missing 'NaN'\n"
		   "set style data histogram\n"
		   "set style histogram errorbars gap 2 lw 1\n"
		   "set style fill solid 0.8 border -1\n"
		   "set boxwidth 0.9\n"
		   "set key outside right top\n"
		   "set grid ytics\n"
		   "set ylabel 'guest ns per operation'\n"
		   "set format y '%%.0s%%c'\n"
		   "set xtics rotate by -30\n");
	if (hi > 0 && lo < INFINITY && hi / lo > 8)
		fprintf(f, "set logscale y\nset yrange [%g:*]\n", lo / 2);
	else
		fprintf(f, "set yrange [0:*]\n");
	fprintf(f, "plot 'cost.dat'");
	col = 2;
	for (int p = 0; p < NR_POL; p++) {
		if (!pol_runs(b, -1, p))
			continue;
		fprintf(f, "%s using %d:%d:%d%s title '%s'", npol ? ", ''" : "", col, col + 1,
			col + 2, npol ? "" : ":xtic(1)", pol_names[p]);
		col += 3;
		npol++;
	}
	fprintf(f, "\n");
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

/* Run PROG ARGS in DIR (NULL: here), stdout to out_fd (-1: inherit). Returns
 * its exit status, or -errno when it could not start. */
static int spawn_wait(const char *dir, char *const argv[], int out_fd)
{
	int pfd[2], st, ret, e = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return ret;
	}
	if (pid == 0) {
		if (dir != NULL && chdir(dir) < 0)
			e = errno;
		if (!e && out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0)
			e = errno;
		if (!e)
			execvp(argv[0], argv);
		e = e ? e : errno;
		if (write(pfd[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(pfd[1]);
	if (read(pfd[0], &e, sizeof(e)) != sizeof(e))
		e = 0;
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (e)
		return -e;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- strace cross-check ---- */

struct pending_call {
	long pid;
	char name[24];
	long fd;
	unsigned long req;
};

/* Which fds are perf events (1: opened while running, 2: setup probe). */
struct fd_set_ {
	uint8_t perf[4096];
};

static void sc_account(struct strace_check *s, struct fd_set_ *fds, const char *name, long fd,
		       unsigned long req, long ret)
{
	int kind = fd >= 0 && fd < 4096 ? fds->perf[fd] : 0;
	bool is_perf = kind == 1;

	if (strcmp(name, "perf_event_open") == 0) {
		if (ret >= 0) {
			s->running ? s->perf_opens++ : s->probe_opens++;
			if (ret < 4096)
				fds->perf[ret] = s->running ? 1 : 2;
		}
	} else if (strcmp(name, "close") == 0) {
		if (kind && ret == 0) {
			is_perf ? s->perf_closes++ : s->probe_closes++;
			fds->perf[fd] = 0;
		}
	} else if (strcmp(name, "read") == 0) {
		if (is_perf)
			s->perf_reads++;
	} else if (strcmp(name, "ioctl") == 0) {
		if (req == KVM_RUN_IOCTL) {
			s->running = true;
			ret == 0 ? s->kvm_runs++ : s->kvm_runs_intr++;
		} else if (!is_perf)
			return;
		else if (req == PERF_IOC_ENABLE)
			s->perf_enables++;
		else if (req == PERF_IOC_DISABLE)
			s->perf_disables++;
		else if (req == PERF_IOC_PERIOD)
			s->perf_periods++;
		else
			s->perf_other_ioctls++;
	}
}

/* Parse an `strace -f -C -X raw` output file: the per-call lines (to find the
 * perf fds and what was done to them) and the -c summary table. */
static int sc_parse(struct strace_check *s, const char *path, FILE *summary)
{
	struct pending_call pend[64] = {0};
	struct fd_set_ *fds = calloc(1, sizeof(*fds));
	FILE *f = fopen(path, "r");
	char line[4096];
	bool in_summary = false;

	if (f == NULL || fds == NULL) {
		int e = f == NULL ? errno : ENOMEM;

		free(fds);
		if (f)
			fclose(f);
		return -e;
	}
	while (fgets(line, sizeof(line), f)) {
		char name[24] = "", *p = line, *q, *eq;
		long pid = -1, fd = -1, ret = -1;
		unsigned long req = 0;
		struct pending_call *pc = NULL;

		if (strstr(line, "% time") && strstr(line, "syscall"))
			in_summary = true;
		if (in_summary && summary != NULL)
			fputs(line, summary);
		if (in_summary) {
			char tok[8][64];
			int n = sscanf(line, "%63s %63s %63s %63s %63s %63s", tok[0], tok[1],
				       tok[2], tok[3], tok[4], tok[5]);
			uint64_t calls;

			if (n < 5 || tok[0][0] == '-')
				continue;
			calls = strtoull(tok[3], NULL, 10);
			const char *sys = tok[n - 1];
			if (strcmp(sys, "perf_event_open") == 0)
				s->c_perf_open = calls;
			else if (strcmp(sys, "ioctl") == 0)
				s->c_ioctl = calls;
			else if (strcmp(sys, "close") == 0)
				s->c_close = calls;
			else if (strcmp(sys, "read") == 0)
				s->c_read = calls;
			continue;
		}
		pid = strtol(p, &q, 10);
		if (q == p)
			continue;
		p = q + strspn(q, " ");
		if (strncmp(p, "<... ", 5) == 0) {
			/* "<... ioctl resumed>...) = 0" */
			for (size_t i = 0; i < 64; i++)
				if (pend[i].pid == pid && pend[i].name[0]) {
					pc = &pend[i];
					break;
				}
			if (pc == NULL)
				continue;
			snprintf(name, sizeof(name), "%s", pc->name);
			fd = pc->fd;
			req = pc->req;
			pc->name[0] = '\0';
		} else {
			size_t n = strcspn(p, "(");

			if (p[n] != '(' || n >= sizeof(name))
				continue;
			memcpy(name, p, n);
			name[n] = '\0';
			fd = strtol(p + n + 1, &q, 0);
			if (*q == ',')
				req = strtoul(q + 1, NULL, 0);
			if (strstr(p, "<unfinished ...>")) {
				for (size_t i = 0; i < 64; i++)
					if (!pend[i].name[0]) {
						pend[i] = (struct pending_call){pid, "", fd, req};
						snprintf(pend[i].name, sizeof(pend[i].name), "%s", name);
						break;
					}
				continue;
			}
		}
		eq = strrchr(p, '=');
		if (eq == NULL || strstr(p, "+++") || strstr(p, "---"))
			continue;
		ret = strtol(eq + 1, NULL, 0);
		sc_account(s, fds, name, fd, req, ret);
	}
	fclose(f);
	free(fds);
	return 0;
}

/* Re-execute ourselves under strace for one configuration and compare. */
static int strace_check(struct bench_ctx *b)
{
	struct strace_check *s = &b->sc;
	char spec[64], itbuf[64], kbuf[32], mbuf[32], sbuf[32], tmp[PATH_MAX], line[512];
	char *argv[40];
	int n = 0, ret, fd;
	FILE *f;

	s->wl = 0;
	while (s->wl < NR_WL - 1 && !b->o.wl_on[s->wl])
		s->wl++;
	s->model = b->o.model_on[MODEL_INTEL] ? MODEL_INTEL : MODEL_AMD;
	s->pol = b->o.pol_on[POL_NAIVE] ? POL_NAIVE : POL_LAZY;
	snprintf(spec, sizeof(spec), "%s,%s,%s", wl_names[s->wl], model_names[s->model],
		 pol_names[s->pol]);
	snprintf(s->file, sizeof(s->file), "%s/strace.txt", b->o.out_dir);
	snprintf(tmp, sizeof(tmp), "%s/strace-child.out", b->o.out_dir);
	snprintf(itbuf, sizeof(itbuf), "%s=%llu", wl_names[s->wl],
		 (unsigned long long)(b->o.strace_iters ? b->o.strace_iters : b->o.iters[s->wl]));
	argv[n++] = (char *)(b->o.strace_path ? b->o.strace_path : "strace");
	argv[n++] = "-f";
	argv[n++] = "-C";
	argv[n++] = "-qq";
	argv[n++] = "-X";
	argv[n++] = "raw";
	argv[n++] = "-e";
	argv[n++] = "signal=none";
	argv[n++] = "-e";
	argv[n++] = "trace=perf_event_open,ioctl,close,read";
	argv[n++] = "-o";
	argv[n++] = s->file;
	argv[n++] = b->self_exe;
	argv[n++] = "--child";
	argv[n++] = spec;
	argv[n++] = "--guest";
	argv[n++] = (char *)b->o.guest;
	argv[n++] = "--iters";
	argv[n++] = itbuf;
	if (b->o.k > 0) {
		snprintf(kbuf, sizeof(kbuf), "%ld", b->o.k);
		argv[n++] = "--k";
		argv[n++] = kbuf;
	}
	if (b->o.m > 0) {
		snprintf(mbuf, sizeof(mbuf), "%ld", b->o.m);
		argv[n++] = "--m";
		argv[n++] = mbuf;
	}
	snprintf(sbuf, sizeof(sbuf), "%ld", b->o.slices);
	argv[n++] = "--slices";
	argv[n++] = sbuf;
	argv[n] = NULL;

	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		snprintf(s->error, sizeof(s->error), "%.160s: %.60s", tmp, strerror(-ret));
		return ret;
	}
	fprintf(stderr, "strace check: %s under strace -f -C ...\n", spec);
	ret = spawn_wait(NULL, argv, fd);
	close(fd);
	if (ret < 0) {
		snprintf(s->error, sizeof(s->error), "cannot run %s: %s", argv[0], strerror(-ret));
		return ret;
	}
	if (ret != 0) {
		snprintf(s->error, sizeof(s->error), "child under strace exited with %d (see %.160s)", ret, tmp);
		return -EIO;
	}
	f = fopen(tmp, "r");
	if (f == NULL)
		return -errno;
	ret = -ENODATA;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v[10];

		if (sscanf(line, "CHILD-STATS ops=%llu opens=%llu closes=%llu enables=%llu disables=%llu set_periods=%llu reads=%llu fds_open=%llu exits=%llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) == 9) {
			s->ops = v[0];
			s->st.opens = v[1];
			s->st.closes = v[2];
			s->st.enables = v[3];
			s->st.disables = v[4];
			s->st.set_periods = v[5];
			s->st.reads = v[6];
			s->st.fds_open = v[7];
			s->st.exits = v[8];
			ret = 0;
		}
	}
	fclose(f);
	unlink(tmp);
	if (ret < 0) {
		snprintf(s->error, sizeof(s->error), "the child printed no CHILD-STATS line");
		return ret;
	}
	snprintf(tmp, sizeof(tmp), "%s/strace-c.txt", b->o.out_dir);
	f = fopen(tmp, "w");
	if (f != NULL)
		fprintf(f, "# strace -f -C totals of: vmm-bench --child %s (full log: strace.txt)\n", spec);
	ret = sc_parse(s, s->file, f);
	if (f != NULL)
		fclose(f);
	if (ret < 0) {
		snprintf(s->error, sizeof(s->error), "%.160s: %.60s", s->file, strerror(-ret));
		return ret;
	}
	s->done = true;
	return 0;
}

static int child_main(struct bench_ctx *b)
{
	struct bench_run r = {.wl = b->o.child_wl, .model = b->o.child_model, .pol = b->o.child_pol};
	int ret = bench_run_one(b, &r);

	if (ret < 0) {
		fprintf(stderr, "vmm-bench --child: %s\n", r.error);
		return 1;
	}
	printf("CHILD-STATS ops=%llu opens=%llu closes=%llu enables=%llu disables=%llu set_periods=%llu reads=%llu fds_open=%llu exits=%llu\n",
	       (unsigned long long)r.ops, (unsigned long long)r.st.opens,
	       (unsigned long long)r.st.closes, (unsigned long long)r.st.enables,
	       (unsigned long long)r.st.disables, (unsigned long long)r.st.set_periods,
	       (unsigned long long)r.st.reads, (unsigned long long)r.st.fds_open,
	       (unsigned long long)r.st.exits);
	return 0;
}

/* ---- setup ---- */

static void machine_info(struct bench_ctx *b)
{
	struct utsname u;
	char line[256];
	FILE *f;

	if (uname(&u) == 0)
		snprintf(b->uname, sizeof(b->uname), "%s %s %s", u.sysname, u.release, u.machine);
	snprintf(b->cpu, sizeof(b->cpu), "unknown");
	f = fopen("/proc/cpuinfo", "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && c != NULL) {
			c += 1 + strspn(c + 1, " \t");
			c[strcspn(c, "\n")] = '\0';
			snprintf(b->cpu, sizeof(b->cpu), "%s", c);
			break;
		}
	}
	fclose(f);
}

/* Can KVM run guests here, and does it have an in-kernel PMU? */
static int kvm_probe(struct bench_ctx *b)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), cap;

	if (fd < 0) {
		b->kvm_pmu_cap = -errno;
		snprintf(b->kvm_skip, sizeof(b->kvm_skip), "/dev/kvm: %s", strerror(errno));
		return b->kvm_pmu_cap;
	}
	cap = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_PMU_CAPABILITY);
	close(fd);
	b->kvm_pmu_cap = cap < 0 ? -errno : cap;
	if (cap <= 0)
		snprintf(b->kvm_skip, sizeof(b->kvm_skip),
			 "KVM_CAP_PMU_CAPABILITY = %d: this KVM has no in-kernel PMU", cap);
	return 0;
}

static int parse_list(const char *arg, const char *const *names, int nr, bool *on, const char *what)
{
	char *dup = strdup(arg), *save = NULL, *tok;
	int ret = 0;

	if (dup == NULL)
		return -ENOMEM;
	for (int i = 0; i < nr; i++)
		on[i] = false;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int i;

		for (i = 0; i < nr; i++)
			if (strcmp(tok, names[i]) == 0)
				break;
		if (i == nr) {
			fprintf(stderr, "vmm-bench: unknown %s '%s'\n", what, tok);
			ret = -EINVAL;
			break;
		}
		on[i] = true;
	}
	free(dup);
	return ret;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *v == 0)
		return -EINVAL;
	return 0;
}

/* --iters N (all workloads) or --iters ctxsw=N,pmi=N,... */
static int parse_iters(const char *arg, uint64_t *iters)
{
	char *dup, *save = NULL, *tok;
	uint64_t v;
	int ret = 0;

	if (parse_u64(arg, &v) == 0) {
		for (int w = 0; w < NR_WL; w++)
			iters[w] = v;
		return 0;
	}
	dup = strdup(arg);
	if (dup == NULL)
		return -ENOMEM;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int w;

		if (eq == NULL) {
			ret = -EINVAL;
			break;
		}
		*eq = '\0';
		for (w = 0; w < NR_WL; w++)
			if (strcmp(tok, wl_names[w]) == 0)
				break;
		if (w == NR_WL || parse_u64(eq + 1, &iters[w]) < 0) {
			ret = -EINVAL;
			break;
		}
	}
	free(dup);
	if (ret < 0)
		fprintf(stderr, "vmm-bench: bad --iters '%s' (N, or WORKLOAD=N,...)\n", arg);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vmm-bench --guest bench.bin [options]\n"
		"  --guest PATH          benchmark guest (tests/guests/bench.bin)\n"
		"  --workloads LIST      ctxsw,pmi,multiplex,idle (default: all)\n"
		"  --models LIST         intel,amd (default: both)\n"
		"  --policies LIST       naive,lazy,null,kvm (default: all; null = lazy with the\n"
		"                        null backend, the trap floor; kvm = KVM's in-kernel PMU)\n"
		"  --iters N|W=N,...     operations per run (default ctxsw=%llu,pmi=%llu,\n"
		"                        multiplex=%llu,idle=%llu)\n"
		"  --k K --m M --slices S  pmi period, multiplex configs, idle slices (guest args)\n"
		"  --runs R              interleaved runs per configuration (default 3)\n"
		"  --out DIR             write results.json, results.csv, cost.dat/.gp/.png there\n"
		"  --no-plot             do not run gnuplot (cost.gp is still written)\n"
		"  --dump                also print the written files on stdout between\n"
		"                        @@BENCH-FILE name@@ / @@BENCH-END@@ markers\n"
		"  --strace-check        re-run one configuration under strace -f -C and\n"
		"                        compare syscall counts with libvmm's (--strace PATH)\n"
		"  --strace-iters N      operations of that run (default 50: ptrace is slow)\n"
		"  --run-timeout S       stop a VM run after S seconds (default 300)\n"
		"  --note TEXT           describe the machine (printed and stored)\n"
		"  --mem SIZE            guest RAM (default 32M)\n"
		"  -v, --verbose         show libvmm's log\n",
		(unsigned long long)default_iters[0], (unsigned long long)default_iters[1],
		(unsigned long long)default_iters[2], (unsigned long long)default_iters[3]);
}

static int parse_args(struct bench_ctx *b, int argc, char **argv)
{
	enum { O_GUEST = 256, O_WL, O_MODELS, O_POL, O_ITERS, O_K, O_M, O_SLICES, O_RUNS, O_OUT,
	       O_NOPLOT, O_DUMP, O_STRACE_CHECK, O_STRACE, O_STRACE_ITERS, O_RUN_TIMEOUT, O_NOTE, O_MEM, O_CHILD };
	static const struct option opts[] = {
		{"guest", required_argument, NULL, O_GUEST},
		{"workloads", required_argument, NULL, O_WL},
		{"models", required_argument, NULL, O_MODELS},
		{"policies", required_argument, NULL, O_POL},
		{"iters", required_argument, NULL, O_ITERS},
		{"k", required_argument, NULL, O_K},
		{"m", required_argument, NULL, O_M},
		{"slices", required_argument, NULL, O_SLICES},
		{"runs", required_argument, NULL, O_RUNS},
		{"out", required_argument, NULL, O_OUT},
		{"no-plot", no_argument, NULL, O_NOPLOT},
		{"dump", no_argument, NULL, O_DUMP},
		{"strace-check", no_argument, NULL, O_STRACE_CHECK},
		{"strace", required_argument, NULL, O_STRACE},
		{"strace-iters", required_argument, NULL, O_STRACE_ITERS},
		{"run-timeout", required_argument, NULL, O_RUN_TIMEOUT},
		{"note", required_argument, NULL, O_NOTE},
		{"mem", required_argument, NULL, O_MEM},
		{"child", required_argument, NULL, O_CHILD},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct bench_opts *o = &b->o;
	uint64_t v;
	int c, ret;

	for (int i = 0; i < NR_WL; i++)
		o->wl_on[i] = true, o->iters[i] = default_iters[i];
	for (int i = 0; i < NR_MODEL; i++)
		o->model_on[i] = true;
	for (int i = 0; i < NR_POL; i++)
		o->pol_on[i] = true;
	o->runs = 3;
	o->slices = 5;
	o->strace_iters = 50;
	o->run_timeout = 300;
	o->mem_bytes = 32ULL << 20;
	o->out_dir = "bench-results";

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		ret = 0;
		switch (c) {
		case O_GUEST: o->guest = optarg; break;
		case O_WL: ret = parse_list(optarg, wl_names, NR_WL, o->wl_on, "workload"); break;
		case O_MODELS: ret = parse_list(optarg, model_names, NR_MODEL, o->model_on, "model"); break;
		case O_POL: ret = parse_list(optarg, pol_names, NR_POL, o->pol_on, "policy"); break;
		case O_ITERS: ret = parse_iters(optarg, o->iters); break;
		case O_K: case O_M: case O_SLICES: case O_RUNS: case O_RUN_TIMEOUT:
			ret = parse_u64(optarg, &v);
			if (ret == 0 && v > INT_MAX)
				ret = -ERANGE;
			if (ret < 0) {
				fprintf(stderr, "vmm-bench: bad number '%s'\n", optarg);
				break;
			}
			if (c == O_K) o->k = (long)v;
			else if (c == O_M) o->m = (long)v;
			else if (c == O_SLICES) o->slices = (long)v;
			else if (c == O_RUN_TIMEOUT) o->run_timeout = (unsigned int)v;
			else o->runs = (unsigned int)v;
			break;
		case O_OUT: o->out_dir = optarg; break;
		case O_NOPLOT: o->no_plot = true; break;
		case O_DUMP: o->dump = true; break;
		case O_STRACE_CHECK: o->strace_check = true; break;
		case O_STRACE: o->strace_path = optarg; o->strace_check = true; break;
		case O_STRACE_ITERS:
			ret = parse_u64(optarg, &o->strace_iters);
			if (ret < 0)
				fprintf(stderr, "vmm-bench: bad --strace-iters '%s'\n", optarg);
			break;
		case O_NOTE: o->note = optarg; break;
		case O_MEM:
			ret = vmm_parse_size(optarg, &o->mem_bytes);
			if (ret < 0)
				fprintf(stderr, "vmm-bench: bad --mem '%s'\n", optarg);
			break;
		case O_CHILD: {
			char w[32], m[32], p[32];
			bool on[NR_POL];

			o->child = true;
			ret = -EINVAL;
			if (sscanf(optarg, "%31[^,],%31[^,],%31s", w, m, p) != 3)
				break;
			for (int i = 0; i < NR_WL; i++)
				if (strcmp(w, wl_names[i]) == 0)
					o->child_wl = i, ret = 0;
			if (ret || (ret = parse_list(m, model_names, NR_MODEL, on, "model")) < 0)
				break;
			o->child_model = on[MODEL_AMD] ? MODEL_AMD : MODEL_INTEL;
			ret = parse_list(p, pol_names, NR_POL, on, "policy");
			for (int i = 0; i < NR_POL; i++)
				if (on[i])
					o->child_pol = i;
			break;
		}
		case 'v': o->verbose = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
		if (ret < 0)
			return ret;
	}
	if (optind < argc) {
		fprintf(stderr, "vmm-bench: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (o->guest == NULL) {
		fprintf(stderr, "vmm-bench: --guest PATH (bench.bin) is required\n");
		usage(stderr);
		return -EINVAL;
	}
	if (access(o->guest, R_OK) < 0) {
		fprintf(stderr, "vmm-bench: guest %s: %s\n", o->guest, strerror(errno));
		return -errno;
	}
	return 0;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void dump_file(const char *dir, const char *name)
{
	char path[PATH_MAX], buf[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	printf("@@BENCH-FILE %s@@\n", name);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	printf("@@BENCH-END@@\n");
	fclose(f);
}

static int write_outputs(struct bench_ctx *b)
{
	static const char *const files[] = {"results.json", "results.csv", "table.txt",
					    "cost.dat", "cost.gp", "strace-c.txt"};
	char path[PATH_MAX], dat[PATH_MAX];
	char *gp_argv[] = {"gnuplot", "cost.gp", NULL};
	FILE *f;
	int ret;

	ret = mkdir_p(b->o.out_dir);
	if (ret < 0) {
		fprintf(stderr, "vmm-bench: %s: %s\n", b->o.out_dir, strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "%s/results.json", b->o.out_dir);
	ret = write_json(b, path);
	if (ret == 0) {
		snprintf(path, sizeof(path), "%s/results.csv", b->o.out_dir);
		ret = write_csv(b, path);
	}
	if (ret == 0) {
		snprintf(path, sizeof(path), "%s/table.txt", b->o.out_dir);
		f = fopen(path, "w");
		if (f == NULL) {
			ret = -errno;
		} else {
			print_table(b, f);
			ret = fclose(f) ? -errno : 0;
		}
	}
	if (ret == 0) {
		snprintf(dat, sizeof(dat), "%s/cost.dat", b->o.out_dir);
		snprintf(path, sizeof(path), "%s/cost.gp", b->o.out_dir);
		ret = write_plot(b, dat, path);
	}
	if (ret < 0) {
		fprintf(stderr, "vmm-bench: writing %s: %s\n", path, strerror(-ret));
		return ret;
	}
	if (!b->o.no_plot) {
		ret = spawn_wait(b->o.out_dir, gp_argv, -1);
		if (ret == -ENOENT)
			fprintf(stderr, "vmm-bench: gnuplot not found (apt-get install gnuplot-nox); "
					"plot later with: cd %s && gnuplot cost.gp\n", b->o.out_dir);
		else if (ret != 0)
			fprintf(stderr, "vmm-bench: gnuplot failed (%d)\n", ret);
	}
	fprintf(stderr, "vmm-bench: results in %s/ (results.json, results.csv, table.txt, cost.*)\n",
		b->o.out_dir);
	if (b->o.dump) {
		fflush(stdout);
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
			dump_file(b->o.out_dir, files[i]);
		fflush(stdout);
	}
	return 0;
}

static int bench_all(struct bench_ctx *b)
{
	int total = 0, done = 0, failed = 0, ret;

	for (int w = 0; w < NR_WL; w++)
		for (int mo = 0; mo < NR_MODEL; mo++)
			for (int p = 0; p < NR_POL; p++)
				total += b->o.model_on[mo] && pol_runs(b, w, p);
	total *= (int)b->o.runs;
	/* Interleaved: run r of every configuration before run r + 1 of any. */
	for (unsigned int run = 0; run < b->o.runs; run++)
		for (int w = 0; w < NR_WL; w++)
			for (int mo = 0; mo < NR_MODEL; mo++)
				for (int p = 0; p < NR_POL; p++) {
					struct bench_run r = {.wl = w, .model = mo, .pol = p, .run = (int)run};

					if (!b->o.model_on[mo] || !pol_runs(b, w, p))
						continue;
					ret = bench_run_isolated(b, &r);
					done++;
					if (ret < 0) {
						failed++;
						fprintf(stderr, "[%d/%d] %s/%s/%s run %u FAILED: %s\n", done,
							total, wl_names[w], model_names[mo], pol_names[p],
							run + 1, r.error);
					} else {
						fprintf(stderr, "[%d/%d] %s/%s/%s run %u: %.0f ns/op, %.2f sysc/op, %.2f exits/op, %.0f ms\n",
							done, total, wl_names[w], model_names[mo],
							pol_names[p], run + 1, r.m[M_NS], r.m[M_SYSC],
							r.m[M_EXITS], r.wall_ms);
					}
					ret = add_run(b, &r);
					if (ret < 0)
						return ret;
				}
	return failed;
}

/* The watchdog's last resort: table and files from the runs so far. */
static void finish_partial(struct bench_ctx *b)
{
	if (summarize(b) < 0)
		return;
	print_table(b, stdout);
	write_outputs(b);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct bench_ctx b = {0};
	ssize_t n;
	int ret, failed;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = parse_args(&b, argc, argv);
	if (ret < 0)
		return 2;
	if (b.o.child)
		return child_main(&b);
	machine_info(&b);
	if (kvm_probe(&b) < 0) {
		fprintf(stderr, "vmm-bench: skipped: %s (no usable KVM here; tests/bench/run.sh "
				"runs the benchmark inside the KVM-in-TCG rig)\n", b.kvm_skip);
		return EXIT_SKIP;
	}
	n = readlink("/proc/self/exe", b.self_exe, sizeof(b.self_exe) - 1);
	if (n > 0)
		b.self_exe[n] = '\0';
	fprintf(stderr, "vmm-bench: libvmm %s, guest %s, %u runs per configuration\n",
		vmm_version(), b.o.guest, b.o.runs);
	if (b.o.pol_on[POL_KVM] && b.kvm_skip[0])
		fprintf(stderr, "vmm-bench: policy kvm skipped: %s\n", b.kvm_skip);
	failed = bench_all(&b);
	if (failed < 0) {
		fprintf(stderr, "vmm-bench: %s\n", strerror(-failed));
		return 1;
	}
	ret = mkdir_p(b.o.out_dir);
	if (ret == 0 && b.o.strace_check && strace_check(&b) < 0)
		fprintf(stderr, "vmm-bench: strace check not done: %s\n", b.sc.error);
	ret = summarize(&b);
	if (ret < 0) {
		fprintf(stderr, "vmm-bench: %s\n", strerror(-ret));
		return 1;
	}
	print_table(&b, stdout);
	ret = write_outputs(&b);
	free(b.runs);
	free(b.sum);
	if (ret < 0)
		return 1;
	if (failed)
		fprintf(stderr, "vmm-bench: %d run(s) failed\n", failed);
	return failed ? 1 : 0;
}
