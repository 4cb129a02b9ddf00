/* Integration tests: the project's Linux guest (examples/linux-guest) booted
 * through libvmm to its marker line, with 1 and 2 vCPUs, from a bzImage
 * (host-side and guest-side decompression) and from the vmlinux (PVH), and
 * driven through the serial console; the guest finds KVM's clock. Skips, saying why, without /dev/kvm
 * or without the guest images (LIBVMM_LINUX_DIR). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "kvm_check.h"

#define MARKER "LIBVMM-GUEST-READY cpus="

struct linux_run {
	struct console_capture cap;
	struct vmm *vm;
	bool interactive; /* type into the shell once its prompt shows */
	bool typed;
	/* Watchdog: a guest that hangs is stopped and the test fails with its
	 * console, instead of hanging the suite. */
	pthread_mutex_t lock;
	pthread_cond_t done_cond;
	bool done;
};

#define BOOT_TIMEOUT_S 600

static void *watchdog(void *arg)
{
	struct linux_run *r = arg;
	struct timespec deadline;

	const char *env = getenv("LIBVMM_BOOT_TIMEOUT");

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += env != NULL ? atoi(env) : BOOT_TIMEOUT_S;
	pthread_mutex_lock(&r->lock);
	while (!r->done)
		if (pthread_cond_timedwait(&r->done_cond, &r->lock, &deadline) == ETIMEDOUT)
			break;
	if (!r->done)
		vmm_stop(r->vm);
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static const char *linux_dir(void)
{
	return getenv("LIBVMM_LINUX_DIR");
}

#define SKIP_WITHOUT_LINUX()                                                                       \
	do {                                                                                       \
		SKIP_WITHOUT_KVM();                                                                \
		if (linux_dir() == NULL) {                                                         \
			print_message("skipped: LIBVMM_LINUX_DIR is not set (build the guest "     \
				      "with examples/linux-guest/build.sh)\n");                    \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

/* Console sink that also answers the shell prompt in interactive runs. */
static void linux_console(void *opaque, const void *data, size_t len)
{
	struct linux_run *r = opaque;
	bool type_now;

	const char *marker;

	capture_console(&r->cap, data, len);
	pthread_mutex_lock(&r->cap.lock);
	/* Type only at the prompt: opening the tty resets the UART FIFOs, as
	 * on hardware, so earlier input would be lost. */
	marker = strstr(r->cap.buf, MARKER);
	type_now = r->interactive && !r->typed && marker != NULL && strstr(marker, "# ") != NULL;
	if (type_now)
		r->typed = true;
	pthread_mutex_unlock(&r->cap.lock);
	if (type_now) {
		static const char cmds[] = "echo answer-$((6*7))\npoweroff -f\n";

		vmm_console_input(r->vm, cmds, sizeof(cmds) - 1);
	}
}

static void read_cmdline(char *buf, size_t len, const char *extra)
{
	char path[512];
	FILE *f;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/cmdline", linux_dir());
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	snprintf(buf + n, len - n, "%s", extra);
}

static struct vmm_exit boot(struct linux_run *r, const char *kernel, unsigned int cpus,
			    bool host_decompress, bool interactive)
{
	struct vmm_config cfg;
	struct vmm_exit ex;
	char kpath[512], ipath[512], cmdline[1024], err[256];

	pthread_t dog;

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->cap.lock, NULL);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->done_cond, NULL);
	r->interactive = interactive;
	snprintf(kpath, sizeof(kpath), "%s/%s", linux_dir(), kernel);
	snprintf(ipath, sizeof(ipath), "%s/initrd.cpio", linux_dir());
	read_cmdline(cmdline, sizeof(cmdline), interactive ? "" : " libvmm.autotest");
	vmm_config_init(&cfg);
	cfg.memory_bytes = 128ULL << 20;
	cfg.cpus = cpus;
	cfg.kernel_path = kpath;
	cfg.initrd_path = ipath;
	cfg.cmdline = cmdline;
	cfg.host_decompress = host_decompress;
	cfg.console_sink = linux_console;
	cfg.console_opaque = r;
	cfg.log = capture_log;
	cfg.log_level = VMM_LOG_INFO;
	assert_int_equal(vmm_create(&cfg, &r->vm, err, sizeof(err)), 0);
	assert_int_equal(pthread_create(&dog, NULL, watchdog, r), 0);
	assert_int_equal(vmm_run(r->vm), 0);
	pthread_mutex_lock(&r->lock);
	r->done = true;
	pthread_cond_signal(&r->done_cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(dog, NULL);
	vmm_get_exit(r->vm, &ex);
	vmm_destroy(r->vm);
	if (ex.reason != VMM_EXIT_POWEROFF)
		print_message("guest console:\n%s\n(end: %s)\n", r->cap.buf, ex.message);
	return ex;
}

static void expect_marker(const struct linux_run *r, unsigned int cpus)
{
	char want[64];

	snprintf(want, sizeof(want), MARKER "%u", cpus);
	assert_non_null(strstr(r->cap.buf, want));
}

static void test_bzimage_host_decompress(void **state)
{
	static struct linux_run r;
	struct vmm_exit ex;

	SKIP_WITHOUT_LINUX();
	ex = boot(&r, "bzImage", 1, true, false);
	assert_int_equal(ex.reason, VMM_EXIT_POWEROFF);
	expect_marker(&r, 1);
	/* The guest knows it runs under KVM (CPUID.1:ECX[31] and KVM's
	 * leaves): kvm-clock, a known TSC frequency, no delay-loop
	 * calibration by hand. */
	assert_non_null(strstr(r.cap.buf, "Switched to clocksource kvm-clock"));
	assert_null(strstr(r.cap.buf, "Calibrating delay loop..."));
	assert_null(strstr(r.cap.buf, "Marking TSC unstable"));
}

static void test_bzimage_two_cpus(void **state)
{
	static struct linux_run r;
	struct vmm_exit ex;

	SKIP_WITHOUT_LINUX();
	ex = boot(&r, "bzImage", 2, true, false);
	assert_int_equal(ex.reason, VMM_EXIT_POWEROFF);
	expect_marker(&r, 2);
}

static void test_bzimage_guest_decompress(void **state)
{
	static struct linux_run r;
	struct vmm_exit ex;

	SKIP_WITHOUT_LINUX();
	ex = boot(&r, "bzImage", 1, false, false);
	assert_int_equal(ex.reason, VMM_EXIT_POWEROFF);
	expect_marker(&r, 1);
}

static void test_vmlinux_pvh(void **state)
{
	static struct linux_run r;
	struct vmm_exit ex;

	SKIP_WITHOUT_LINUX();
	ex = boot(&r, "vmlinux", 1, true, false);
	assert_int_equal(ex.reason, VMM_EXIT_POWEROFF);
	expect_marker(&r, 1);
}

static void test_shell_on_console(void **state)
{
	static struct linux_run r;
	struct vmm_exit ex;

	SKIP_WITHOUT_LINUX();
	/* Typed input reaches the shell through UART RX interrupts. */
	ex = boot(&r, "bzImage", 1, true, true);
	assert_int_equal(ex.reason, VMM_EXIT_POWEROFF);
	assert_non_null(strstr(r.cap.buf, "answer-42"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bzimage_host_decompress),
		cmocka_unit_test(test_bzimage_two_cpus),
		cmocka_unit_test(test_vmlinux_pvh),
		cmocka_unit_test(test_bzimage_guest_decompress),
		cmocka_unit_test(test_shell_on_console),
	};

	if (getenv("LIBVMM_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("LIBVMM_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
