/* vmm-bench --strace-check: re-runs one configuration under strace -f -C
 * (vmm-bench --child) and compares the perf syscalls strace saw on perf fds
 * with libvmm's own counts of the same run. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/perf_event.h>

#include "bench.h"

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
		if (req == KVM_RUN) {
			s->running = true;
			ret == 0 ? s->kvm_runs++ : s->kvm_runs_intr++;
		} else if (!is_perf)
			return;
		else if (req == PERF_EVENT_IOC_ENABLE)
			s->perf_enables++;
		else if (req == PERF_EVENT_IOC_DISABLE)
			s->perf_disables++;
		else if (req == PERF_EVENT_IOC_PERIOD)
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
						snprintf(pend[i].name, sizeof(pend[i].name), "%s",
							 name);
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
int strace_check(struct bench_ctx *b)
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
		snprintf(s->error, sizeof(s->error),
			 "child under strace exited with %d (see %.160s)", ret, tmp);
		return -EIO;
	}
	f = fopen(tmp, "r");
	if (f == NULL)
		return -errno;
	ret = -ENODATA;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v[10];

		if (sscanf(line,
			   "CHILD-STATS ops=%llu opens=%llu closes=%llu enables=%llu disables=%llu "
			   "set_periods=%llu reads=%llu fds_open=%llu exits=%llu",
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
		fprintf(f,
			"# strace -f -C totals of: vmm-bench --child %s (full log: strace.txt)\n",
			spec);
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

int child_main(struct bench_ctx *b)
{
	struct bench_run r = {
	    .wl = b->o.child_wl, .model = b->o.child_model, .pol = b->o.child_pol};
	int ret = bench_run_one(b, &r);

	if (ret < 0) {
		fprintf(stderr, "vmm-bench --child: %s\n", r.error);
		return 1;
	}
	printf("CHILD-STATS ops=%llu opens=%llu closes=%llu enables=%llu disables=%llu "
	       "set_periods=%llu reads=%llu fds_open=%llu exits=%llu\n",
	       (unsigned long long)r.ops, (unsigned long long)r.st.opens,
	       (unsigned long long)r.st.closes, (unsigned long long)r.st.enables,
	       (unsigned long long)r.st.disables, (unsigned long long)r.st.set_periods,
	       (unsigned long long)r.st.reads, (unsigned long long)r.st.fds_open,
	       (unsigned long long)r.st.exits);
	return 0;
}
