/* Integration tests: the project's Linux guest (examples/linux-guest) booted
 * through libvmm to its marker line, with 1 and 2 vCPUs, from a bzImage
 * (host-side and guest-side decompression) and from the vmlinux (PVH), and
 * driven through the serial console; the guest finds KVM's clock. Skips,
 * saying why, without /dev/kvm or without the guest images
 * (LIBVMM_LINUX_DIR). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kvmtest.h"

#define MARKER "LIBVMM-GUEST-READY cpus="
#define BOOT_TIMEOUT_S 600

/* One boot; the interactive one types into the shell once it shows. */
struct linux_boot {
	struct kvmtest_run run;
	bool typed;
};

static const char *linux_dir(void)
{
	return getenv("LIBVMM_LINUX_DIR");
}

#define SKIP_WITHOUT_LINUX()                                                                       \
	do {                                                                                       \
		KVMTEST_SKIP_WITHOUT_KVM();                                                        \
		if (linux_dir() == NULL) {                                                         \
			print_message("skipped: LIBVMM_LINUX_DIR is not set (build the guest "     \
				      "with examples/linux-guest/build.sh)\n");                    \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

/* Console hook: answer the shell prompt in interactive runs. Type only at
 * the prompt: opening the tty resets the UART FIFOs, as on hardware, so
 * earlier input would be lost. */
static void type_at_prompt(void *opaque, const void *data, size_t len)
{
	static const char cmds[] = "echo answer-$((6*7))\npoweroff -f\n";
	struct linux_boot *b = opaque;
	const char *marker;
	bool type_now;

	(void)data;
	(void)len;
	pthread_mutex_lock(&b->run.console.lock);
	marker = strstr(b->run.console.buf, MARKER);
	type_now = !b->typed && marker != NULL && strstr(marker, "# ") != NULL;
	if (type_now)
		b->typed = true;
	pthread_mutex_unlock(&b->run.console.lock);
	if (type_now)
		vmm_console_input(b->run.vm, cmds, sizeof(cmds) - 1);
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

static unsigned int boot_timeout(void)
{
	const char *env = getenv("LIBVMM_BOOT_TIMEOUT");

	return env != NULL && atoi(env) > 0 ? (unsigned int)atoi(env) : BOOT_TIMEOUT_S;
}

static void boot(struct linux_boot *b, const char *kernel, unsigned int cpus,
		 bool host_decompress, bool interactive)
{
	char kpath[512], ipath[512], cmdline[1024], err[256];
	struct kvmtest_opts o = {
		.kernel = kpath,
		.initrd = ipath,
		.cmdline = cmdline,
		.cpus = cpus,
		.memory_bytes = 128ULL << 20,
		.host_decompress = host_decompress,
		.timeout_s = boot_timeout(),
		.on_console = interactive ? type_at_prompt : NULL,
		.on_console_opaque = b,
	};

	memset(b, 0, sizeof(*b));
	snprintf(kpath, sizeof(kpath), "%s/%s", linux_dir(), kernel);
	snprintf(ipath, sizeof(ipath), "%s/initrd.cpio", linux_dir());
	read_cmdline(cmdline, sizeof(cmdline), interactive ? "" : " libvmm.autotest");
	if (kvmtest_run_guest(&o, &b->run, err, sizeof(err)) < 0 && err[0])
		print_message("vmm: %s\n", err);
	if (b->run.exit.reason != VMM_EXIT_POWEROFF)
		print_message("guest console:\n%s\n(end: %s)\n", b->run.console.buf,
			      b->run.exit.message);
}

static void expect_poweroff_marker(const struct linux_boot *b, unsigned int cpus)
{
	char want[64];

	assert_int_equal(b->run.exit.reason, VMM_EXIT_POWEROFF);
	snprintf(want, sizeof(want), MARKER "%u", cpus);
	assert_non_null(strstr(b->run.console.buf, want));
}

static void test_bzimage_host_decompress(void **state)
{
	static struct linux_boot b;

	SKIP_WITHOUT_LINUX();
	boot(&b, "bzImage", 1, true, false);
	expect_poweroff_marker(&b, 1);
	/* The guest knows it runs under KVM (CPUID.1:ECX[31] and KVM's
	 * leaves): kvm-clock, a known TSC frequency, no delay-loop
	 * calibration by hand. */
	assert_non_null(strstr(b.run.console.buf, "Switched to clocksource kvm-clock"));
	assert_null(strstr(b.run.console.buf, "Calibrating delay loop..."));
	assert_null(strstr(b.run.console.buf, "Marking TSC unstable"));
}

static void test_bzimage_two_cpus(void **state)
{
	static struct linux_boot b;

	SKIP_WITHOUT_LINUX();
	boot(&b, "bzImage", 2, true, false);
	expect_poweroff_marker(&b, 2);
}

static void test_bzimage_guest_decompress(void **state)
{
	static struct linux_boot b;

	SKIP_WITHOUT_LINUX();
	boot(&b, "bzImage", 1, false, false);
	expect_poweroff_marker(&b, 1);
}

static void test_vmlinux_pvh(void **state)
{
	static struct linux_boot b;

	SKIP_WITHOUT_LINUX();
	boot(&b, "vmlinux", 1, true, false);
	expect_poweroff_marker(&b, 1);
}

static void test_shell_on_console(void **state)
{
	static struct linux_boot b;

	SKIP_WITHOUT_LINUX();
	/* Typed input reaches the shell through UART RX interrupts. */
	boot(&b, "bzImage", 1, true, true);
	assert_int_equal(b.run.exit.reason, VMM_EXIT_POWEROFF);
	assert_non_null(strstr(b.run.console.buf, "answer-42"));
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
