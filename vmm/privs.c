/* Capability dropping with libcap, per thread (the kernel keeps capability
 * sets per thread; libcap without libpsx changes the caller's only). */
#include <errno.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmm/privs.h"

static bool has_cap(cap_t caps, cap_value_t cap, cap_flag_t set)
{
	cap_flag_value_t v = CAP_CLEAR;

	return cap_get_flag(caps, cap, set, &v) == 0 && v == CAP_SET;
}

int privs_drop(uint64_t keep, uint64_t *kept)
{
	cap_value_t list[64];
	int n = 0, ret = 0;
	cap_t now, next;
	bool setpcap;

	*kept = 0;
	now = cap_get_proc();
	if (now == NULL)
		return -errno;
	setpcap = has_cap(now, CAP_SETPCAP, CAP_EFFECTIVE);
	for (cap_value_t c = 0; c < 64; c++)
		if ((keep & PRIVS_CAP(c)) && has_cap(now, c, CAP_PERMITTED))
			list[n++] = c;
	cap_free(now);
	/* The bounding set can only shrink with CAP_SETPCAP, which an
	 * unprivileged process lacks; no_new_privs below stops execve() from
	 * gaining anything in that case too. */
	if (setpcap) {
		cap_value_t max = cap_max_bits();

		for (cap_value_t c = 0; c < max; c++)
			if (cap_drop_bound(c) < 0 && errno != EINVAL)
				return -errno;
	}
	if (cap_reset_ambient() < 0 && errno != EINVAL)
		return -errno;
	next = cap_init();
	if (next == NULL)
		return -errno;
	if (n > 0 && (cap_set_flag(next, CAP_EFFECTIVE, n, list, CAP_SET) < 0 ||
		      cap_set_flag(next, CAP_PERMITTED, n, list, CAP_SET) < 0))
		ret = -errno;
	if (ret == 0 && cap_set_proc(next) < 0)
		ret = -errno;
	cap_free(next);
	if (ret < 0)
		return ret;
	for (int i = 0; i < n; i++)
		*kept |= PRIVS_CAP(list[i]);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

struct probe {
	uint64_t keep;
	bool opened;
};

/* On its own thread: drop to probe->keep, then open what a vCPU opens. */
static void *probe_thread(void *arg)
{
	struct probe *p = arg;
	struct perf_event_attr attr;
	uint64_t kept;
	long fd;

	if (privs_drop(p->keep, &kept) < 0 || kept != p->keep)
		return NULL;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_TASK_CLOCK;
	attr.disabled = 1;
	fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd >= 0) {
		p->opened = true;
		close((int)fd);
	}
	return NULL;
}

static bool probe(uint64_t keep)
{
	struct probe p = {.keep = keep};
	pthread_t t;

	if (pthread_create(&t, NULL, probe_thread, &p) != 0)
		return false;
	pthread_join(t, NULL);
	return p.opened;
}

int64_t privs_perf_needs(void)
{
	static const uint64_t tries[] = {0, PRIVS_CAP_PERFMON,
					 PRIVS_CAP_PERFMON | PRIVS_CAP_SYS_ADMIN};

	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
		if (probe(tries[i]))
			return (int64_t)tries[i];
	return -ENOENT;
}
