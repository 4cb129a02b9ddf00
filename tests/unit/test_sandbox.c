/* Unit tests of the sandbox: capability dropping and each thread kind's
 * syscall allowlist, each in a forked child (a filter cannot be undone). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/perf_event.h>
#include <cmocka.h>

#include "vmm/privs.h"
#include "vmm/seccomp_filter.h"

/* Run @fn in a child; its wait status. */
static int in_child(int (*fn)(void))
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		/* cmocka catches SIGSYS; a refused call must end the child. */
		signal(SIGSYS, SIG_DFL);
		_exit(fn());
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_exit0(int status)
{
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void assert_sigsys(int status)
{
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

/* The value of "@key:" in /proc/thread-self/status, as a string. */
static int status_field(const char *key, char *out, size_t len)
{
	char line[256];
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/thread-self/status", "re");
	int ret = -ENOENT;

	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			snprintf(out, len, "%s", line + klen + 1 + strspn(line + klen + 1, " \t"));
			out[strcspn(out, "\n")] = '\0';
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

static int drop_all(void)
{
	uint64_t kept;
	char v[64];

	if (privs_drop(0, &kept) < 0 || kept != 0)
		return 10;
	if (status_field("CapEff", v, sizeof(v)) < 0 || strcmp(v, "0000000000000000") != 0)
		return 11;
	if (status_field("CapPrm", v, sizeof(v)) < 0 || strcmp(v, "0000000000000000") != 0)
		return 12;
	if (status_field("CapAmb", v, sizeof(v)) < 0 || strcmp(v, "0000000000000000") != 0)
		return 13;
	if (status_field("NoNewPrivs", v, sizeof(v)) < 0 || strcmp(v, "1") != 0)
		return 14;
	/* Root loses the bounding set too (it holds CAP_SETPCAP). */
	if (geteuid() == 0 &&
	    (status_field("CapBnd", v, sizeof(v)) < 0 || strcmp(v, "0000000000000000") != 0))
		return 15;
	return 0;
}

static void test_drop_all(void **state)
{
	assert_exit0(in_child(drop_all));
}

static int keep_perfmon(void)
{
	uint64_t kept;
	char v[64];

	if (privs_drop(PRIVS_CAP_PERFMON, &kept) < 0)
		return 10;
	/* Kept only when held (root holds it). */
	if (kept != (geteuid() == 0 ? PRIVS_CAP_PERFMON : 0))
		return 11;
	if (status_field("CapEff", v, sizeof(v)) < 0 ||
	    strcmp(v, kept ? "0000004000000000" : "0000000000000000") != 0)
		return 12;
	return 0;
}

static void test_keep_perfmon(void **state)
{
	assert_exit0(in_child(keep_perfmon));
}

/* The probe answers one of its three sets, and leaves this thread alone. */
static void test_perf_needs(void **state)
{
	int64_t needs = privs_perf_needs();
	char v[64];

	print_message("perf needs: %lld\n", (long long)needs);
	assert_true(needs == -ENOENT || needs == 0 || needs == (int64_t)PRIVS_CAP_PERFMON ||
		    needs == (int64_t)(PRIVS_CAP_PERFMON | PRIVS_CAP_SYS_ADMIN));
	assert_int_equal(status_field("NoNewPrivs", v, sizeof(v)), 0);
	assert_string_equal(v, "0");
}

/* vCPU threads: their ioctls and perf calls pass (failing on bad fds)... */
static int vcpu_allowed(void)
{
	struct perf_event_attr attr;

	if (sandbox_seccomp_install(SANDBOX_VCPU, VMM_SECCOMP_KILL) < 0)
		return 10;
	if (ioctl(-1, KVM_RUN, 0) != -1 || errno != EBADF)
		return 11;
	if (ioctl(-1, PERF_EVENT_IOC_DISABLE, 0) != -1 || errno != EBADF)
		return 12;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_TASK_CLOCK;
	attr.exclude_kernel = 1;
	long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
	if (fd >= 0)
		close((int)fd);
	if (fcntl(-1, F_SETSIG, SIGUSR2) != -1 || errno != EBADF)
		return 13;
	return 0;
}

static void test_vcpu_allowed(void **state)
{
	assert_exit0(in_child(vcpu_allowed));
}

/* ... anything else ends the process with SIGSYS. */
static int vcpu_getcwd(void)
{
	char buf[64];

	sandbox_seccomp_install(SANDBOX_VCPU, VMM_SECCOMP_KILL);
	return syscall(SYS_getcwd, buf, sizeof(buf)) >= 0 ? 0 : 1;
}

/* (Not open() or fork(): sanitizer builds let their runtime do those.) */
static int vcpu_socket(void)
{
	sandbox_seccomp_install(SANDBOX_VCPU, VMM_SECCOMP_KILL);
	return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : 1;
}

static int vcpu_other_ioctl(void)
{
	sandbox_seccomp_install(SANDBOX_VCPU, VMM_SECCOMP_KILL);
	return ioctl(-1, KVM_CREATE_VM, 0) == -1 ? 0 : 1;
}

static int vcpu_foreign_perf(void)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	sandbox_seccomp_install(SANDBOX_VCPU, VMM_SECCOMP_KILL);
	/* Another task's events (pid 1). */
	return syscall(SYS_perf_event_open, &attr, 1, -1, -1, 0) >= 0 ? 0 : 1;
}

static int vcpu_exec(void)
{
	char *argv[] = {"true", NULL};

	sandbox_seccomp_install(SANDBOX_VCPU, VMM_SECCOMP_KILL);
	execv("/bin/true", argv);
	return 1;
}

static int run_perf(void)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	sandbox_seccomp_install(SANDBOX_RUN, VMM_SECCOMP_KILL);
	return syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0) >= 0 ? 0 : 1;
}

static int io_kvm_run(void)
{
	sandbox_seccomp_install(SANDBOX_IO, VMM_SECCOMP_KILL);
	return ioctl(-1, KVM_RUN, 0) == -1 ? 0 : 1;
}

static void test_refused(void **state)
{
	assert_sigsys(in_child(vcpu_getcwd));
	assert_sigsys(in_child(vcpu_socket));
	assert_sigsys(in_child(vcpu_other_ioctl));
	assert_sigsys(in_child(vcpu_foreign_perf));
	assert_sigsys(in_child(vcpu_exec));
	assert_sigsys(in_child(run_perf));
	assert_sigsys(in_child(io_kvm_run));
}

/* log: the call goes through (the kernel logs it). */
static int vcpu_log(void)
{
	char buf[256];

	if (sandbox_seccomp_install(SANDBOX_VCPU, VMM_SECCOMP_LOG) < 0)
		return 10;
	return syscall(SYS_getcwd, buf, sizeof(buf)) >= 0 ? 0 : 11;
}

static int off_installs_nothing(void)
{
	char v[16];

	if (sandbox_seccomp_install(SANDBOX_VCPU, VMM_SECCOMP_OFF) < 0)
		return 10;
	return status_field("Seccomp", v, sizeof(v)) == 0 && strcmp(v, "0") == 0 ? 0 : 11;
}

static void test_log_and_off(void **state)
{
	assert_exit0(in_child(vcpu_log));
	assert_exit0(in_child(off_installs_nothing));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_drop_all),   cmocka_unit_test(test_keep_perfmon),
	    cmocka_unit_test(test_perf_needs), cmocka_unit_test(test_vcpu_allowed),
	    cmocka_unit_test(test_refused),    cmocka_unit_test(test_log_and_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
