/* Multiboot kernels under real KVM: the test guests (ELF32 at 4 MiB and an
 * a.out-kludge image) check the information structure from inside and
 * print it; modules, command line, memory sizes and map are compared here.
 * Also the QEMU-compatible devices: isa-debug-exit's encoding and fw_cfg. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "kvmtest.h"

/* $LIBVMM_GUEST_DIR/@file (the multiboot guests are not .bin files). */
static const char *guest_file(const char *file, char *buf, size_t len)
{
	const char *dir = getenv("LIBVMM_GUEST_DIR");

	snprintf(buf, len, "%s/%s", dir ? dir : ".", file);
	return buf;
}

/* A module file with @text in it, under a fresh temporary name. */
static void write_module(char *path, const char *text)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void assert_line(const char *console, const char *line)
{
	if (strstr(console, line) == NULL)
		fail_msg("console lacks \"%s\":\n%s", line, console);
}

static void run(struct kvmtest_opts *o, struct kvmtest_run *r)
{
	char err[256];

	if (kvmtest_run_guest(o, r, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_false(r->timed_out);
}

static void test_elf32_modules(void **state)
{
	char kernel[512], env[] = "/tmp/libvmm-mb-envXXXXXX", mod[] = "/tmp/libvmm-mb-modXXXXXX";
	char line[700];
	struct vmm_module mods[] = {{mod, "second one"}};
	struct kvmtest_opts o = {.cmdline = "-v fast",
				 .modules = mods,
				 .nr_modules = 1,
				 .test_devices = VMM_TEST_DEVICES_ON};
	struct kvmtest_run r;

	KVMTEST_SKIP_WITHOUT_KVM();
	write_module(env, "NR_CPUS=1\nMEMSIZE=64\n");
	write_module(mod, "payload of module one\n");
	o.kernel = guest_file("multiboot_elf32.elf", kernel, sizeof(kernel));
	o.initrd = env;
	run(&o, &r);
	unlink(env);
	unlink(mod);
	assert_int_equal(r.exit.reason, VMM_EXIT_TEST);
	assert_line(r.console.buf, "MULTIBOOT-OK\n");
	assert_int_equal(r.exit.code, 0);
	assert_line(r.console.buf, "multiboot: magic 0x2badb002 flags 0x24d\n");
	assert_line(r.console.buf, "mem_lower=639 mem_upper=64512\n");
	snprintf(line, sizeof(line), "cmdline=<%s -v fast>\n", kernel);
	assert_line(r.console.buf, line);
	assert_line(r.console.buf, "loader=libvmm\n");
	assert_line(r.console.buf, "mods=2\n");
	snprintf(line, sizeof(line), "mod0: 21 bytes, string=<%s>, data=<NR_CPUS=1>\n", env);
	assert_line(r.console.buf, line);
	assert_line(r.console.buf,
		    "mod1: 22 bytes, string=<second one>, data=<payload of module one>\n");
	assert_line(r.console.buf, "mmap: 0x0 +0x9fc00 type 1\n");
	assert_line(r.console.buf, "mmap: 0x9fc00 +0x60400 type 2\n");
	assert_line(r.console.buf, "mmap: 0x100000 +0x3f00000 type 1\n");
}

static void test_aout_kludge(void **state)
{
	char kernel[512];
	struct kvmtest_opts o = {.memory_bytes = 32ULL << 20, .test_devices = VMM_TEST_DEVICES_ON};
	struct kvmtest_run r;

	KVMTEST_SKIP_WITHOUT_KVM();
	o.kernel = guest_file("multiboot_aout.bin", kernel, sizeof(kernel));
	run(&o, &r);
	assert_int_equal(r.exit.reason, VMM_EXIT_TEST);
	assert_int_equal(r.exit.code, 0);
	assert_line(r.console.buf, "MULTIBOOT-OK\n");
	assert_line(r.console.buf, "mem_upper=31744\n");
	assert_line(r.console.buf, "mods=0\n");
}

/* QEMU's devices: fw_cfg gives the CPU count and RAM size; port 0xf4
 * ends with (value << 1) | 1, so a guest's 0 is status 1 and 5 is 11. */
static void test_qemu_devices(void **state)
{
	char kernel[512];
	struct kvmtest_opts o = {
	    .cmdline = "fwcfg exit=5", .cpus = 2, .qemu_debug_exit = true, .fw_cfg = true};
	struct kvmtest_run r;

	KVMTEST_SKIP_WITHOUT_KVM();
	o.kernel = guest_file("multiboot_elf32.elf", kernel, sizeof(kernel));
	run(&o, &r);
	assert_line(r.console.buf, "fw_cfg: signature=QEMU cpus=2 ram=64M maxram=0x4000000\n");
	assert_int_equal(r.exit.reason, VMM_EXIT_TEST);
	assert_int_equal(r.exit.code, 11);

	/* Off by default: no fw_cfg (the port reads as nothing); the test
	 * devices asked for by themselves exit with the plain code. */
	o.qemu_debug_exit = o.fw_cfg = false;
	o.test_devices = VMM_TEST_DEVICES_ON;
	run(&o, &r);
	assert_null(strstr(r.console.buf, "signature=QEMU"));
	assert_int_equal(r.exit.code, 5);
}

static void test_bad_image(void **state)
{
	char path[] = "/tmp/libvmm-mb-badXXXXXX", err[256];
	/* A header whose checksum is off by one. */
	static const char img[] = "\x02\xb0\xad\x1b\x00\x00\x00\x00\xfd\x4f\x52\xe4 rest";
	struct kvmtest_opts o = {.kernel = path};
	struct kvmtest_run r;
	int fd;

	KVMTEST_SKIP_WITHOUT_KVM();
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, sizeof(img)), (ssize_t)sizeof(img));
	close(fd);
	assert_true(kvmtest_create(&o, &r, err, sizeof(err)) < 0);
	kvmtest_destroy(&r);
	unlink(path);
	assert_null(strchr(err, '\n'));
	assert_non_null(strstr(err, path));
	if (strstr(err, "multiboot: header checksum is wrong") == NULL)
		fail_msg("unexpected error: %s", err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_elf32_modules),
	    cmocka_unit_test(test_aout_kludge),
	    cmocka_unit_test(test_qemu_devices),
	    cmocka_unit_test(test_bad_image),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
