/* vmm-bench: running the VMs. One run of one configuration is a VM in a
 * child process with the guest's console captured and parsed, watched by a
 * timeout; bench_all() runs every configuration, interleaved. spawn_wait()
 * runs the other programs the harness needs (strace, gnuplot). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

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
			c->log_len = c->log_len + (size_t)n < sizeof(c->log)
					 ? c->log_len + (size_t)n
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
			snprintf(r->error, sizeof(r->error), "guest: %s",
				 line + 11 + (line[11] == ' '));
			return -EIO;
		}
		if (strncmp(line, "BENCH ", 6) != 0) {
			p += n;
			continue;
		}
		if (field_str(line, "workload", wl, sizeof(wl)) ||
		    field_str(line, "model", model, sizeof(model)) ||
		    field_u64(line, "ops", &r->ops) || field_u64(line, "cycles", &r->cycles)) {
			snprintf(r->error, sizeof(r->error), "malformed BENCH line: %.200s", line);
			return -EINVAL;
		}
		/* optional: only the pmi workload times its handler */
		if (field_u64(line, "handler_cycles", &r->handler_cycles))
			r->handler_cycles = 0;
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
	snprintf(r->error, sizeof(r->error), "no BENCH line; console: %.*s",
		 (int)(n < 120 ? n : 120), err);
	return -ENODATA;
}

void guest_args(const struct bench_ctx *b, int wl, char *buf, size_t len)
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
	uint64_t calls =
	    s->opens + s->closes + s->enables + s->disables + s->reads + s->set_periods +
	    s->group_toggles; /* one prctl each */
	/* The null backend counts its calls like the others but makes no
	 * syscalls and holds no fds: its host figures are zero. */
	bool host = r->pol != POL_NULL;

	r->m[M_NS] = s->guest_tsc_khz ? (double)r->cycles * 1e6 / s->guest_tsc_khz / ops : NAN;
	r->m[M_BCALLS] = (double)calls / ops;
	r->m[M_HANDLER_NS] = r->wl == WL_PMI && s->guest_tsc_khz
				 ? (double)r->handler_cycles * 1e6 / s->guest_tsc_khz / ops
				 : NAN;
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
		fprintf(stderr,
			"vmm-bench: %s/%s/%s: the VM did not end %d s after vmm_stop(); "
			"writing partial results and exiting\n",
			wl_names[w->r->wl], model_names[w->r->model], pol_names[w->r->pol],
			STOP_GRACE_S);
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
int bench_run_one(struct bench_ctx *b, struct bench_run *r)
{
	struct capture cap = {.lock = PTHREAD_MUTEX_INITIALIZER, .verbose = b->o.verbose};
	struct watchdog wd = {.lock = PTHREAD_MUTEX_INITIALIZER,
			      .cond = PTHREAD_COND_INITIALIZER,
			      .seconds = b->o.run_timeout,
			      .b = b->o.child ? NULL : b,
			      .r = r};
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
	cfg.pmu_policy = r->pol == POL_NAIVE   ? VMM_PMU_NAIVE
			 : r->pol == POL_CACHE ? VMM_PMU_CACHE
					       : VMM_PMU_LAZY;
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
		snprintf(r->error, sizeof(r->error),
			 "timed out after %u s (--run-timeout); console: %.120s", wd.seconds,
			 cap.con);
		ret = -ETIMEDOUT;
		goto out;
	}
	if (ret < 0) {
		snprintf(r->error, sizeof(r->error), "vmm_run: %s", strerror(-ret));
		goto out;
	}
	vmm_get_exit(vm, &ex);
	vmm_get_pmu_stats(vm, &r->st);
	vmm_get_exit_times(vm, &r->et);
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

/* Run PROG ARGS in DIR (NULL: here), stdout to out_fd (-1: inherit). Returns
 * its exit status, or -errno when it could not start. */
int spawn_wait(const char *dir, char *const argv[], int out_fd)
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

int bench_all(struct bench_ctx *b)
{
	int total = 0, done = 0, failed = 0, ret;

	for (int w = 0; w < NR_WL; w++)
		for (int mo = 0; mo < NR_MODEL; mo++)
			for (int p = 0; p < NR_POL; p++)
				total += b->o.model_on[mo] && pol_runs(b, w, p);
	total *= (int)b->o.runs;
	/*
	 * Interleaved: run r of every configuration before run r + 1 of any,
	 * and the policies' order rotated by one each round, so that no
	 * policy always runs first, or right after the same one (the rig's
	 * speed drifts within a round too).
	 */
	for (unsigned int run = 0; run < b->o.runs; run++)
		for (int w = 0; w < NR_WL; w++)
			for (int mo = 0; mo < NR_MODEL; mo++)
				for (int k = 0; k < NR_POL; k++) {
					int p = (k + (int)run) % NR_POL;
					struct bench_run r = {
					    .wl = w, .model = mo, .pol = p, .run = (int)run};

					if (!b->o.model_on[mo] || !pol_runs(b, w, p))
						continue;
					ret = bench_run_isolated(b, &r);
					done++;
					if (ret < 0) {
						failed++;
						fprintf(stderr,
							"[%d/%d] %s/%s/%s run %u FAILED: %s\n",
							done, total, wl_names[w], model_names[mo],
							pol_names[p], run + 1, r.error);
					} else {
						fprintf(stderr,
							"[%d/%d] %s/%s/%s run %u: %.0f ns/op, %.2f "
							"sysc/op, %.2f exits/op, %.0f ms\n",
							done, total, wl_names[w], model_names[mo],
							pol_names[p], run + 1, r.m[M_NS],
							r.m[M_SYSC], r.m[M_EXITS], r.wall_ms);
					}
					ret = add_run(b, &r);
					if (ret < 0)
						return ret;
				}
	return failed;
}
