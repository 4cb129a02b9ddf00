/* Loads a real distro kernel when one is readable (BOOT_TEST_KERNEL, or
 * /boot/vmlinuz-*): both the bzImage path and host-side decompression must
 * accept what a real kernel build produces. Skipped when there is none. */
#include <errno.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "boot/linux.h"
#include "helpers.h"

#define RAM (256 * MiB)

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		p = malloc((size_t)n);
		if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
			free(p);
			p = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return p;
}

static uint8_t *find_kernel(size_t *len)
{
	const char *env = getenv("BOOT_TEST_KERNEL");
	uint8_t *p = NULL;
	glob_t g;

	if (env)
		return read_file(env, len);
	if (glob("/boot/vmlinuz-*", 0, NULL, &g) != 0)
		return NULL;
	for (size_t i = 0; i < g.gl_pathc && !p; i++)
		p = read_file(g.gl_pathv[i], len);
	globfree(&g);
	return p;
}

static void real_bzimage(void **state)
{
	struct linux_boot_args a = {.cmdline = "console=ttyS0 panic=-1", .nr_cpus = 2};
	struct test_ram t;
	struct boot_plan plan;
	uint8_t initrd[4096] = {0x30, 0x37};
	uint8_t *img = find_kernel(&a.kernel_len);

	if (!img)
		skip();
	a.kernel = img;
	a.initrd = initrd;
	a.initrd_len = sizeof(initrd);
	test_ram_init(&t, RAM);

	assert_int_equal(boot_load_linux(&a, &t.ram, &plan), 0);
	print_message("bzImage: %s, rip 0x%llx, kernel_end 0x%llx, initrd at 0x%llx\n", plan.what,
		      (unsigned long long)plan.regs.rip, (unsigned long long)plan.kernel_end,
		      (unsigned long long)plan.initrd_gpa);
	assert_int_equal(plan.regs.mode, BOOT_MODE_LONG64);
	assert_int_equal(plan.regs.rip & 0xfff, 0x200);
	assert_true(plan.initrd_gpa >= plan.kernel_end);

	a.host_decompress = true;
	assert_int_equal(boot_load_linux(&a, &t.ram, &plan), 0);
	print_message("host-decompressed: %s, rip 0x%llx, kernel_end 0x%llx\n", plan.what,
		      (unsigned long long)plan.regs.rip, (unsigned long long)plan.kernel_end);
	assert_int_equal(plan.regs.mode, BOOT_MODE_LONG64);
	assert_true(plan.regs.rip >= 0x100000 && plan.regs.rip < plan.kernel_end);
	assert_int_equal(plan.regs.rsi, LAYOUT_ZERO_PAGE);

	/* Too little RAM for this kernel: one clear line. */
	test_ram_free(&t);
	test_ram_init(&t, 32 * MiB);
	a.host_decompress = false;
	assert_int_equal(boot_load_linux(&a, &t.ram, &plan), -ENOMEM);
	print_message("32 MiB: %s\n", plan.err);
	test_ram_free(&t);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(real_bzimage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
