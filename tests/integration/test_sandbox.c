/* The sandbox under real KVM: while a guest runs confined, every VM thread
 * has its seccomp filter (Seccomp: 2), no_new_privs and no capabilities; a
 * call outside a vCPU thread's allowlist ends the VMM with SIGSYS. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "kvmtest.h"

/* The guest's first console byte holds its vCPU thread until the test
 * has looked at every thread. */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool guest_spoke, checked;
	pid_t run_tid;
	struct kvmtest_run r;
	int run_ret;
};

static void hold_console(void *opaque, const void *buf, size_t len)
{
	struct gate *g = opaque;

	pthread_mutex_lock(&g->lock);
	g->guest_spoke = true;
	pthread_cond_broadcast(&g->cond);
	while (!g->checked)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

static void *run_thread(void *arg)
{
	struct gate *g = arg;

	pthread_mutex_lock(&g->lock);
	g->run_tid = gettid();
	pthread_mutex_unlock(&g->lock);
	/* vmm_run() itself on this thread (kvmtest_wait() would start one
	 * more): the thread to find confined. */
	g->run_ret = vmm_run(g->r.vm);
	vmm_get_exit(g->r.vm, &g->r.exit);
	return NULL;
}

static void copy(char *out, size_t len, const char *s)
{
	size_t n = strlen(s);

	if (n >= len)
		n = len - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

/* "@key:" of /proc/self/task/@tid/status into @out. */
static int task_field(const char *tid, const char *key, char *out, size_t len)
{
	char path[128], line[256];
	size_t klen = strlen(key);
	FILE *f;
	int ret = -ENOENT;

	snprintf(path, sizeof(path), "/proc/self/task/%s/%s", tid,
		 strcmp(key, "comm") == 0 ? "comm" : "status");
	f = fopen(path, "re");
	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strcmp(key, "comm") == 0) {
			copy(out, len, line);
			ret = 0;
		} else if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			copy(out, len, line + klen + 1 + strspn(line + klen + 1, " \t"));
			ret = 0;
		}
		if (ret == 0)
			break;
	}
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
	return ret;
}

/* Whether thread @tid is confined: filter, no_new_privs, no capabilities. */
static bool confined(const char *tid)
{
	char seccomp[16] = "", nnp[16] = "", capeff[32] = "";

	task_field(tid, "Seccomp", seccomp, sizeof(seccomp));
	task_field(tid, "NoNewPrivs", nnp, sizeof(nnp));
	task_field(tid, "CapEff", capeff, sizeof(capeff));
	print_message("thread %s: Seccomp %s, NoNewPrivs %s, CapEff %s\n", tid, seccomp, nnp,
		      capeff);
	return strcmp(seccomp, "2") == 0 && strcmp(nnp, "1") == 0 &&
	       strcmp(capeff, "0000000000000000") == 0;
}

/* vCPU threads (named vcpuN) and the run thread found confined. */
static unsigned int count_confined(pid_t run_tid, unsigned int *vcpus)
{
	char comm[32], run[16];
	unsigned int n = 0;
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");

	assert_non_null(d);
	snprintf(run, sizeof(run), "%d", (int)run_tid);
	*vcpus = 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (task_field(e->d_name, "comm", comm, sizeof(comm)) < 0)
			continue;
		if (strncmp(comm, "vcpu", 4) == 0) {
			(*vcpus)++;
			n += confined(e->d_name);
		} else if (strcmp(e->d_name, run) == 0) {
			n += confined(e->d_name);
		}
	}
	closedir(d);
	return n;
}

static void test_every_thread_confined(void **state)
{
	struct gate g = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
	struct kvmtest_opts o = {
	    .guest = "hello",
	    .cpus = 2,
	    .pmu = VMM_PMU_OFF, /* nothing for CAP_PERFMON to be kept for */
	    .drop_privileges = true,
	    .seccomp = VMM_SECCOMP_KILL,
	    .on_console = hold_console,
	    .on_console_opaque = &g,
	};
	unsigned int n = 0, vcpus = 0;
	char err[256];
	pthread_t t;

	KVMTEST_SKIP_WITHOUT_KVM();
	if (kvmtest_create(&o, &g.r, err, sizeof(err)) < 0)
		fail_msg("vmm_create: %s", err);
	assert_int_equal(pthread_create(&t, NULL, run_thread, &g), 0);
	pthread_mutex_lock(&g.lock);
	while (!g.guest_spoke)
		pthread_cond_wait(&g.cond, &g.lock);
	pthread_mutex_unlock(&g.lock);
	/* The run thread installs its filter just after starting the vCPUs. */
	for (int i = 0; i < 50; i++) {
		n = count_confined(g.run_tid, &vcpus);
		if (n == 3)
			break;
		nanosleep(&(struct timespec){0, 100000000}, NULL);
	}
	pthread_mutex_lock(&g.lock);
	g.checked = true;
	pthread_cond_broadcast(&g.cond);
	pthread_mutex_unlock(&g.lock);
	pthread_join(t, NULL);
	kvmtest_destroy(&g.r);
	assert_int_equal(vcpus, 2);
	assert_int_equal(n, 3); /* 2 vCPU threads + the run thread */
	assert_int_equal(g.run_ret, 0);
	assert_int_equal(g.r.exit.reason, VMM_EXIT_TEST);
	assert_int_equal(g.r.exit.code, 0);
	assert_string_equal(g.r.console.buf, "Hello from a libvmm guest\n");
}

/* A console sink runs on the vCPU thread: a way to make that thread call
 * something outside its allowlist. */
static void forbidden_call(void *opaque, const void *buf, size_t len)
{
	char cwd[256];

	syscall(SYS_getcwd, cwd, sizeof(cwd));
}

/* In a child: run hello with @mode and a sink making a forbidden call. */
static int child_run(enum vmm_seccomp mode)
{
	struct kvmtest_opts o = {
	    .guest = "hello",
	    .seccomp = mode,
	    .on_console = forbidden_call,
	};
	struct kvmtest_run r;
	char err[256];
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGSYS, SIG_DFL); /* cmocka catches it otherwise */
		if (kvmtest_run_guest(&o, &r, err, sizeof(err)) < 0)
			_exit(100);
		_exit(r.exit.reason == VMM_EXIT_TEST ? r.exit.code : 101);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_vcpu_forbidden_call(void **state)
{
	int status;

	KVMTEST_SKIP_WITHOUT_KVM();
	/* kill: the process ends by SIGSYS. */
	status = child_run(VMM_SECCOMP_KILL);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
	/* log: the same call goes through and the guest ends as usual. */
	status = child_run(VMM_SECCOMP_LOG);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_thread_confined),
	    cmocka_unit_test(test_vcpu_forbidden_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
