/* Hostile guests under real KVM (tests/guests/hostile.c): each must leave
 * the VMM alive and end cleanly, with its host footprint bounded: host perf
 * fds never above the vPMCs plus the cache policy's parked events (it is
 * the default) and none left, no fd leaked, RSS back near
 * where it was, vmm_stop() prompt against a spinning guest, host opens
 * within the vPMU's bound. Prints one "HOSTILE mode=..." line of figures
 * per case (opens per second and the counters the bound throttled). */
#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "kvmtest.h"
#include "pmu/pmu.h"

/* RSS may grow this much across one VM (allocator caches, thread stacks). */
#define RSS_SLACK_KB (16 * 1024)
/* The vPMU's bound on host opens per vCPU (pmu/pmu.h). */
#define OPEN_RATE  10000.0
#define OPEN_BURST 2000.0

static unsigned int count_fds(void)
{
	unsigned int n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own fd */
}

static long rss_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "re");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct figures {
	unsigned int fds_before, fds_after;
	long rss_before, rss_after;
	double stop_ms;
};

struct stopper {
	struct kvmtest_run *r;
	double stop_ms;
	unsigned int after_s;
};

/* Stop the VM after a while, timing how long vmm_run() takes to return. */
static void *stopper_thread(void *arg)
{
	struct stopper *s = arg;

	sleep(s->after_s);
	s->stop_ms = now_ms();
	vmm_stop(s->r->vm);
	return NULL;
}

/* @open_rate: the vPMU's bound on host opens per second (0: its default). */
static void run_hostile(const char *cmdline, enum vmm_pmu_model model, bool stop,
			uint32_t open_rate, struct kvmtest_run *r, struct figures *fig)
{
	struct kvmtest_opts o = {
	    .guest = "hostile",
	    .cmdline = cmdline,
	    .pmu = VMM_PMU_FORCE,
	    .pmu_backend = VMM_PMU_BACKEND_PERF,
	    .pmu_model = model,
	    .memory_bytes = 64ULL << 20,
	    .pmu_open_rate = open_rate,
	};
	double rate = open_rate ? open_rate : OPEN_RATE;
	struct stopper s = {.r = r, .after_s = 2};
	unsigned int vpmcs = model == VMM_PMU_MODEL_AMD ? 6 : 4 + 3;
	pthread_t t;
	char err[256];

	fig->fds_before = count_fds();
	fig->rss_before = rss_kb();
	if (kvmtest_create(&o, r, err, sizeof(err)) < 0)
		fail_msg("vmm_create: %s", err);
	if (stop)
		assert_int_equal(pthread_create(&t, NULL, stopper_thread, &s), 0);
	assert_int_equal(kvmtest_wait(r), 0);
	fig->stop_ms = stop ? now_ms() - s.stop_ms : 0;
	if (stop)
		pthread_join(t, NULL);
	kvmtest_destroy(r);
	fig->fds_after = count_fds();
	fig->rss_after = rss_kb();
	print_message(
	    "HOSTILE %s model=%s open_rate=%.0f: exit %d/%d (%s) wall_ms=%.0f exits=%" PRIu64
	    " opens=%" PRIu64 " opens_per_s=%.0f throttled=%" PRIu64 " fds_peak=%" PRIu64
	    " fds_end=%" PRIu64 " pmis=%" PRIu64
	    " process_fds=%u->%u rss_kb=%ld->%ld stop_ms=%.1f\n",
	    cmdline, model == VMM_PMU_MODEL_AMD ? "amd" : "intel", rate, r->exit.reason,
	    r->exit.code, r->exit.message, r->wall_ms, r->pmu.exits, r->pmu.opens,
	    r->wall_ms > 0 ? (double)r->pmu.opens * 1e3 / r->wall_ms : 0.0, r->pmu.throttled,
	    r->pmu.fds_peak, r->pmu.fds_open, r->pmu.pmis, fig->fds_before, fig->fds_after,
	    fig->rss_before, fig->rss_after, fig->stop_ms);
	assert_false(r->timed_out);
	/* The bound on opens (pmu/pmu.h: 10,000/s per vCPU, bursts of 2,000;
	 * one vCPU here) holds over the whole run. */
	assert_true((double)r->pmu.opens <= OPEN_BURST + rate * r->wall_ms / 1e3 + 1);
	/* the default policy (cache) may hold stopped events besides */
	assert_true(r->pmu.fds_peak <= vpmcs + PMU_CACHE_DEFAULT_PER_VCPU);
	/* fds_end: still held when the vCPU stopped (lazy keeps them until an
	 * idle slice); they are closed with the VM, which fds_after shows. */
	assert_int_equal(fig->fds_after, fig->fds_before);
	assert_true(fig->rss_after <= fig->rss_before + RSS_SLACK_KB);
	if (stop) {
		assert_int_equal(r->exit.reason, VMM_EXIT_STOPPED);
		assert_true(fig->stop_ms < 2000);
	} else {
		assert_int_equal(r->exit.reason, VMM_EXIT_TEST);
		assert_int_equal(r->exit.code, 0);
	}
}

static void test_evtsel_storm(void **state)
{
	struct kvmtest_run r;
	struct figures f;

	KVMTEST_SKIP_WITHOUT_KVM();
	run_hostile("mode=evtsel iters=2000", VMM_PMU_MODEL_INTEL, false, 0, &r, &f);
	run_hostile("mode=evtsel iters=2000", VMM_PMU_MODEL_AMD, false, 0, &r, &f);
}

/*
 * The storm again under a bound it must exceed however slow the host: its
 * 4,004 opens fit in the 2,000-open burst plus 50 a second only if the run
 * took 40 s (about 1 s in the rig, 4 s under ASan on a loaded machine), so
 * counters go without host events for a while; the guest still ends well.
 */
static void test_evtsel_storm_throttled(void **state)
{
	struct kvmtest_run r;
	struct figures f;

	KVMTEST_SKIP_WITHOUT_KVM();
	run_hostile("mode=evtsel iters=2000", VMM_PMU_MODEL_INTEL, false, 50, &r, &f);
	assert_true(r.pmu.throttled > 0);
}

static void test_sample_min_period(void **state)
{
	struct kvmtest_run r;
	struct figures f;

	KVMTEST_SKIP_WITHOUT_KVM();
	if (getenv("LIBVMM_SKIP_SAMPLING") != NULL) {
		print_message("skipped: LIBVMM_SKIP_SAMPLING is set (run separately)\n");
		skip();
	}
	run_hostile("mode=sample iters=2000", VMM_PMU_MODEL_INTEL, false, 0, &r, &f);
	run_hostile("mode=sample iters=2000", VMM_PMU_MODEL_AMD, false, 0, &r, &f);
}

static void test_uart_flood(void **state)
{
	struct kvmtest_run r;
	struct figures f;

	KVMTEST_SKIP_WITHOUT_KVM();
	run_hostile("mode=uart iters=50000", VMM_PMU_MODEL_HOST, false, 0, &r, &f);
}

static void test_random_io(void **state)
{
	struct kvmtest_run r;
	struct figures f;

	KVMTEST_SKIP_WITHOUT_KVM();
	run_hostile("mode=io iters=50000 seed=7", VMM_PMU_MODEL_HOST, false, 0, &r, &f);
}

static void test_spin_then_stop(void **state)
{
	struct kvmtest_run r;
	struct figures f;

	KVMTEST_SKIP_WITHOUT_KVM();
	run_hostile("mode=spin", VMM_PMU_MODEL_HOST, true, 0, &r, &f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_evtsel_storm),      cmocka_unit_test(test_evtsel_storm_throttled),
	    cmocka_unit_test(test_sample_min_period), cmocka_unit_test(test_uart_flood),
	    cmocka_unit_test(test_random_io),	      cmocka_unit_test(test_spin_then_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
