/*
 * The perf backend against the real kernel. On hosts without a hardware
 * PMU (these machines) it must fall back to task-clock for cycle-type
 * events; force_software exercises that path on any host.
 */
#include <dirent.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "test_util.h"

static void burn_cpu_ms(int ms)
{
	struct timespec a, b;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	do {
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	} while ((b.tv_sec - a.tv_sec) * 1000000000ll +
		 (b.tv_nsec - a.tv_nsec) < ms * 1000000ll);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void test_perf_caps(void **state)
{
	struct pmu_perf_config pc = { .guest_model = PMU_MODEL_INTEL };
	struct pmu_backend_caps caps;
	struct pmu_backend be;
	char line[512];

	assert_int_equal(pmu_backend_perf_create(&pc, &be), 0);
	be.ops->caps(be.ctx, &caps);
	assert_true(pmu_backend_describe(&caps, line, sizeof(line)) > 0);
	print_message("%s\n", line);
	if (caps.software) {
		/* no hardware PMU here (ENOENT): the documented fallback */
		assert_string_equal(caps.name, "perf (software fallback)");
		assert_int_equal(caps.counts, 1u << PMU_EV_CYCLES |
					      1u << PMU_EV_REF_CYCLES);
		assert_false(caps.raw);
	} else {
		assert_string_equal(caps.name, "perf");
	}
	pmu_backend_destroy(&be);

	pc.force_software = true;
	assert_int_equal(pmu_backend_perf_create(&pc, &be), 0);
	be.ops->caps(be.ctx, &caps);
	assert_string_equal(caps.name, "perf (software fallback)");
	assert_int_equal(caps.software, caps.counts);
	pmu_backend_destroy(&be);
}

static void test_perf_software_cycles_count(void **state)
{
	struct pmu_perf_config pc = {
		.guest_model = PMU_MODEL_INTEL,
		.tsc_khz = 1000000,	/* 1 cycle per ns */
		.force_software = true,
	};
	uint64_t v1, v2, v3, v4, instr;
	struct pmu_backend be;
	struct pmu_config cfg;
	struct vpmu *v;
	int fds = count_fds();

	assert_int_equal(pmu_backend_perf_create(&pc, &be), 0);
	pmu_config_defaults(&cfg, PMU_MODEL_INTEL);
	assert_int_equal(vpmu_create(&cfg, &be, &v), 0);

	assert_int_equal(vpmu_wrmsr(v, EVTSEL0, CYCLES_SEL | EN), 0);
	assert_int_equal(vpmu_wrmsr(v, EVTSEL0 + 1, INSTR_SEL | EN), 0);
	assert_int_equal(vpmu_stats(v)->fds_open, 1);	/* no instructions */
	assert_int_equal(count_fds(), fds + 1);

	burn_cpu_ms(20);
	assert_int_equal(vpmu_rdmsr(v, PMC0, &v1), 0);
	assert_true(v1 >= 10000000);		/* >= 10 ms of cycles */
	assert_true(v1 < 10000000000ull);

	assert_int_equal(vpmu_wrmsr(v, EVTSEL0, CYCLES_SEL), 0);
	assert_int_equal(vpmu_rdmsr(v, PMC0, &v2), 0);
	burn_cpu_ms(10);
	assert_int_equal(vpmu_rdmsr(v, PMC0, &v3), 0);
	assert_int_equal(v2, v3);		/* stopped while disabled */

	assert_int_equal(vpmu_wrmsr(v, EVTSEL0, CYCLES_SEL | EN), 0);
	burn_cpu_ms(10);
	assert_int_equal(vpmu_rdmsr(v, PMC0, &v4), 0);
	assert_true(v4 >= v3 + 5000000);

	assert_int_equal(vpmu_rdmsr(v, PMC0 + 1, &instr), 0);
	assert_int_equal(instr, 0);		/* unavailable: not counting */
	assert_int_equal(vpmu_stats(v)->opens, 1);
	assert_int_equal(vpmu_stats(v)->descheduled, 0);

	vpmu_destroy(v);
	assert_int_equal(count_fds(), fds);	/* every fd closed */
	pmu_backend_destroy(&be);
}

/*
 * Counts read in place (rdpmc through the event's page) only where the
 * host offers it, for events counting guest mode only; and then they agree
 * with read(). Elsewhere (these machines: task-clock) a peek says so.
 */
static void test_perf_peek(void **state)
{
	struct pmu_perf_config pc = {.guest_model = PMU_MODEL_INTEL, .tsc_khz = 1000000};
	struct pmu_event_desc d = {.model = PMU_MODEL_INTEL, .generic = PMU_EV_CYCLES};
	struct pmu_bev_count c;
	struct pmu_backend_caps caps;
	struct pmu_backend be;
	struct pmu_bev *ev;
	uint64_t peeked = 0;
	int ret;

	assert_int_equal(pmu_backend_perf_create(&pc, &be), 0);
	be.ops->caps(be.ctx, &caps);
	assert_true(!caps.peek || caps.exclude_host);
	assert_int_equal(be.ops->open(be.ctx, &d, true, &ev), 0);
	burn_cpu_ms(2);
	ret = be.ops->peek(be.ctx, ev, &peeked);
	assert_int_equal(be.ops->read(be.ctx, ev, &c), 0);
	if (caps.peek) {
		assert_int_equal(ret, 0);
		assert_true(peeked <= c.value);
	} else {
		assert_int_equal(ret, -EAGAIN);
	}
	print_message("peek: %s (%d), read %llu\n", caps.peek ? "in place" : "not here", ret,
		      (unsigned long long)c.value);
	be.ops->close(be.ctx, ev);
	pmu_backend_destroy(&be);
}

static void test_perf_sampling_signal(void **state)
{
	struct pmu_perf_config pc = {
		.guest_model = PMU_MODEL_INTEL,
		.tsc_khz = 1000000,
		.force_software = true,
		.overflow_signal = SIGRTMIN + 1,
	};
	struct timespec zero = { 0, 0 };
	struct pmu_backend be;
	struct pmu_config cfg;
	sigset_t set, old;
	struct vpmu *v;
	siginfo_t si;
	uint64_t status, reads;

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	assert_int_equal(pthread_sigmask(SIG_BLOCK, &set, &old), 0);

	assert_int_equal(pmu_backend_perf_create(&pc, &be), 0);
	pmu_config_defaults(&cfg, PMU_MODEL_INTEL);
	assert_int_equal(vpmu_create(&cfg, &be, &v), 0);
	/* 2 ms of cycles to the wrap */
	assert_int_equal(vpmu_wrmsr(v, A_PMC0, (-2000000ull) & MASK48), 0);
	assert_int_equal(vpmu_wrmsr(v, EVTSEL0, CYCLES_SEL | INT | EN), 0);
	burn_cpu_ms(20);
	assert_int_equal(sigtimedwait(&set, &si, &zero), SIGRTMIN + 1);
	/* the default policy (cache) finds the overflow in the event's ring
	 * of samples: no read */
	reads = vpmu_stats(v)->reads;
	assert_int_equal(vpmu_overflow(v), 1);
	assert_int_equal(vpmu_stats(v)->reads, reads);
	assert_int_equal(vpmu_rdmsr(v, GLOBAL_STATUS, &status), 0);
	assert_int_equal(status, 1);
	/* a period reload in place, no new fd */
	assert_int_equal(vpmu_wrmsr(v, A_PMC0, (-2000000ull) & MASK48), 0);
	assert_int_equal(vpmu_stats(v)->opens, 1);
	assert_int_equal(vpmu_stats(v)->set_periods, 1);

	vpmu_destroy(v);
	pmu_backend_destroy(&be);
	while (sigtimedwait(&set, &si, &zero) > 0)
		;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_perf_caps),
	    cmocka_unit_test(test_perf_software_cycles_count),
	    cmocka_unit_test(test_perf_sampling_signal),
	    cmocka_unit_test(test_perf_peek),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
