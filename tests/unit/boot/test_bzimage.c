/* Unit tests of the bzImage loader on crafted images: header validation
 * with clear errors, the zero page, cmdline, initrd placement, registers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "boot/linux.h"
#include "boot/mptable.h"
#include "helpers.h"

#define RAM (64 * MiB)

struct fixture {
	struct test_ram t;
	struct boot_plan plan;
	struct linux_boot_args args;
	uint8_t *img;
	size_t len;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct bz_spec s = bz_defaults();

	test_ram_init(&f->t, RAM);
	f->img = make_bzimage(&s, &f->len);
	f->args = (struct linux_boot_args){
	    .kernel = f->img,
	    .kernel_len = f->len,
	    .cmdline = "console=ttyS0",
	    .nr_cpus = 1,
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	test_ram_free(&f->t);
	free(f->img);
	free(f);
	return 0;
}

/* Rebuild the image from a modified spec. */
static void rebuild(struct fixture *f, const struct bz_spec *s)
{
	free(f->img);
	f->img = make_bzimage(s, &f->len);
	f->args.kernel = f->img;
	f->args.kernel_len = f->len;
}

static int load(struct fixture *f)
{
	return boot_load_linux(&f->args, &f->t.ram, &f->plan);
}

#define assert_err(f, code, text)                                                                  \
	do {                                                                                       \
		assert_int_equal(load(f), code);                                                   \
		assert_non_null(strstr((f)->plan.err, text));                                      \
		assert_null(strchr((f)->plan.err, '\n'));                                          \
	} while (0)

static void good_image_boots_64bit(void **state)
{
	struct fixture *f = *state;
	uint8_t *bp = gpa(&f->t, LAYOUT_ZERO_PAGE);
	size_t setup_len = (27 + 1) * 512;

	assert_int_equal(load(f), 0);
	/* Relocatable with pref_address 16 MiB that fits: loaded there. */
	assert_int_equal(f->plan.regs.mode, BOOT_MODE_LONG64);
	assert_int_equal(f->plan.regs.rip, 0x1000000 + 0x200);
	assert_int_equal(f->plan.regs.rsi, LAYOUT_ZERO_PAGE);
	assert_int_equal(f->plan.regs.cr3, LAYOUT_PML4);
	assert_memory_equal(gpa(&f->t, 0x1000000), f->img + setup_len, f->len - setup_len);
	assert_int_equal(f->plan.kernel_end, 0x1000000 + 0x400000);

	/* Setup header copied, loader fields set. */
	assert_memory_equal(bp + 0x202, "HdrS", 4);
	assert_int_equal(rd16(bp + 0x1fe), 0xaa55);
	assert_int_equal(rd16(bp + 0x206), 0x020f);
	assert_int_equal(bp[0x210], 0xff);
	assert_int_equal(bp[0x211], 0x81); /* LOADED_HIGH | CAN_USE_HEAP */
	assert_int_equal(rd16(bp + 0x224), 0xfe00);
	assert_int_equal(rd16(bp + 0x1fa), 0xffff);
	assert_int_equal(bp[0x1ef], 0); /* sentinel */
	assert_int_equal(rd32(bp + 0x228), LAYOUT_CMDLINE);
	assert_string_equal((char *)gpa(&f->t, LAYOUT_CMDLINE), "console=ttyS0");
	assert_int_equal(rd32(bp + 0x218), 0); /* no initrd */
	assert_int_equal(rd32(bp + 0x21c), 0);
	assert_string_equal(f->plan.what, "bzImage, 64-bit entry");

	/* e820 in the zero page. */
	assert_int_equal(bp[0x1e8], 3);
	assert_int_equal(rd64(bp + 0x2d0 + 2 * 20), 0x100000);
	assert_int_equal(rd64(bp + 0x2d0 + 2 * 20 + 8), RAM - 0x100000);
	assert_int_equal(rd32(bp + 0x2d0 + 2 * 20 + 16), 1);
	assert_int_equal(rd32(bp + 0x2d0 + 1 * 20 + 16), 2);

	/* MP table and GDT are there too. */
	assert_memory_equal(gpa(&f->t, LAYOUT_EBDA), "_MP_", 4);
	assert_int_equal(rd64(gpa(&f->t, LAYOUT_GDT + 8)), 0x00af9b000000ffffULL);
}

static void loads_at_1mib_when_pref_does_not_fit(void **state)
{
	struct fixture *f = *state;
	struct bz_spec s = bz_defaults();

	/* Not relocatable: load at 1 MiB; it runs from pref_address. */
	s.relocatable = 0;
	rebuild(f, &s);
	assert_int_equal(load(f), 0);
	assert_int_equal(f->plan.regs.rip, 0x100000 + 0x200);
	assert_int_equal(f->plan.kernel_end, 0x1000000 + 0x400000);

	/* Misaligned pref_address: also 1 MiB, running at the aligned address. */
	s = bz_defaults();
	s.pref_address = 0x1001000;
	rebuild(f, &s);
	assert_int_equal(load(f), 0);
	assert_int_equal(f->plan.regs.rip, 0x100200);
}

static void truncated_file(void **state)
{
	struct fixture *f = *state;

	f->args.kernel_len = 0x100;
	assert_err(f, -ENOEXEC, "too short");
	f->args.kernel_len = 0x300;
	assert_err(f, -EINVAL, "truncated");
}

static void wrong_magic(void **state)
{
	struct fixture *f = *state;

	memcpy(f->img + 0x202, "HdrX", 4);
	assert_err(f, -ENOEXEC, "bad magic (no HdrS at 0x202)");
}

static void wrong_boot_flag(void **state)
{
	struct fixture *f = *state;

	wr16(f->img + 0x1fe, 0x1234);
	assert_err(f, -ENOEXEC, "boot flag 0x1234");
}

static void old_protocol(void **state)
{
	struct fixture *f = *state;
	struct bz_spec s = bz_defaults();

	s.version = 0x0204;
	rebuild(f, &s);
	assert_err(f, -ENOEXEC, "boot protocol 2.04 is too old");

	s.version = 0x020a; /* no xloadflags yet: no 64-bit entry */
	rebuild(f, &s);
	assert_err(f, -ENOEXEC, "no 64-bit entry");

	s = bz_defaults();
	s.xloadflags = 0;
	rebuild(f, &s);
	assert_err(f, -ENOEXEC, "XLF_KERNEL_64");
}

static void zimage_rejected(void **state)
{
	struct fixture *f = *state;
	struct bz_spec s = bz_defaults();

	s.loadflags = 0;
	rebuild(f, &s);
	assert_err(f, -ENOEXEC, "zImage");
}

static void oversize_setup_sects(void **state)
{
	struct fixture *f = *state;
	struct bz_spec s = bz_defaults();

	s.setup_sects = 200;
	rebuild(f, &s);
	assert_err(f, -EINVAL, "setup_sects 200 is absurd");

	/* Plausible count but the file ends inside the setup code. */
	s = bz_defaults();
	rebuild(f, &s);
	f->img[0x1f1] = 60;
	f->args.kernel_len = 40 * 512;
	assert_err(f, -EINVAL, "truncated");
}

static void setup_sects_zero_means_four(void **state)
{
	struct fixture *f = *state;
	struct bz_spec s = bz_defaults();

	s.setup_sects = 0;
	rebuild(f, &s);
	assert_int_equal(load(f), 0);
	assert_memory_equal(gpa(&f->t, 0x1000000), f->img + 5 * 512, 64);
}

static void syssize_beyond_file(void **state)
{
	struct fixture *f = *state;

	wr32(f->img + 0x1f4, (uint32_t)(f->len / 16 + 1));
	assert_err(f, -EINVAL, "syssize says");
	wr32(f->img + 0x1f4, 0xffffffff);
	assert_err(f, -EINVAL, "syssize says");
	wr32(f->img + 0x1f4, 0);
	assert_err(f, -EINVAL, "syssize is 0");
}

static void bad_header_end(void **state)
{
	struct fixture *f = *state;

	f->img[0x201] = 0x10;
	assert_err(f, -EINVAL, "setup header ends at");
	f->img[0x201] = 0xf0; /* backwards jump */
	assert_err(f, -EINVAL, "setup header ends at");
	f->img[0x201] = 0x6a;
	f->img[0x200] = 0x90;
	assert_err(f, -EINVAL, "no short jump");
}

static void absurd_fields(void **state)
{
	struct fixture *f = *state;
	struct bz_spec s = bz_defaults();

	s.kernel_alignment = 0x3000;
	rebuild(f, &s);
	assert_err(f, -EINVAL, "kernel_alignment");

	s = bz_defaults();
	s.init_size = 0;
	rebuild(f, &s);
	assert_err(f, -EINVAL, "init_size");

	s = bz_defaults();
	s.pref_address = 1ULL << 62;
	rebuild(f, &s);
	assert_err(f, -EINVAL, "pref_address");

	s = bz_defaults();
	s.initrd_addr_max = 0x1000;
	rebuild(f, &s);
	assert_err(f, -EINVAL, "initrd_addr_max");
}

static void init_size_larger_than_ram(void **state)
{
	struct fixture *f = *state;
	struct bz_spec s = bz_defaults();

	s.init_size = 0x7000000; /* 112 MiB from 16 MiB, with 64 MiB of RAM */
	rebuild(f, &s);
	assert_err(f, -ENOMEM, "kernel needs RAM up to 0x8000000");
	assert_non_null(strstr(f->plan.err, "64 MiB"));
}

static void cmdline_too_long(void **state)
{
	struct fixture *f = *state;
	char *cmd = malloc(0x1000);

	memset(cmd, 'a', 0x7ff);
	cmd[0x7ff] = 0;
	f->args.cmdline = cmd;
	assert_int_equal(load(f), 0); /* exactly cmdline_size */
	cmd[0x7ff] = 'b';
	cmd[0x800] = 0;
	assert_err(f, -E2BIG, "cmdline too long");
	assert_non_null(strstr(f->plan.err, "at most 2047"));
	free(cmd);
}

static void null_cmdline_is_empty(void **state)
{
	struct fixture *f = *state;

	f->args.cmdline = NULL;
	assert_int_equal(load(f), 0);
	assert_int_equal(*gpa(&f->t, LAYOUT_CMDLINE), 0);
}

static void initrd_placed_high(void **state)
{
	struct fixture *f = *state;
	size_t n = 3 * MiB + 123;
	uint8_t *initrd = malloc(n);
	uint8_t *bp = gpa(&f->t, LAYOUT_ZERO_PAGE);
	uint64_t at;

	memset(initrd, 0x5a, n);
	f->args.initrd = initrd;
	f->args.initrd_len = n;
	assert_int_equal(load(f), 0);
	at = rd32(bp + 0x218);
	assert_int_equal(rd32(bp + 0x21c), n);
	assert_int_equal(at % 4096, 0);
	assert_true(at + n <= RAM);
	assert_true(at + n > RAM - 4096); /* as high as possible */
	assert_true(at >= f->plan.kernel_end);
	assert_memory_equal(gpa(&f->t, at), initrd, n);
	assert_int_equal(f->plan.initrd_gpa, at);
	assert_int_equal(f->plan.initrd_size, n);
	free(initrd);
}

static void initrd_respects_addr_max(void **state)
{
	struct fixture *f = *state;
	struct bz_spec s = bz_defaults();
	uint8_t initrd[8192] = {1};
	uint8_t *bp = gpa(&f->t, LAYOUT_ZERO_PAGE);

	s.initrd_addr_max = 0x1ffffff; /* 32 MiB - 1 */
	rebuild(f, &s);
	f->args.initrd = initrd;
	f->args.initrd_len = sizeof(initrd);
	assert_int_equal(load(f), 0);
	assert_int_equal(rd32(bp + 0x218), 0x2000000 - 8192);
}

static void initrd_larger_than_memory(void **state)
{
	struct fixture *f = *state;
	static uint8_t dummy;

	/* The loader must reject it from the length alone, before reading. */
	f->args.initrd = &dummy;
	f->args.initrd_len = 300 * MiB;
	assert_err(f, -ENOMEM, "initrd (300 MiB) does not fit below initrd_addr_max 0x7fffffff");
	assert_non_null(strstr(f->plan.err, "64 MiB of RAM"));

	/* Fits in RAM but not above the kernel's boot footprint. */
	f->args.initrd_len = 50 * MiB;
	assert_err(f, -ENOMEM, "does not fit");
}

static void smp_mptable(void **state)
{
	struct fixture *f = *state;

	f->args.nr_cpus = 4;
	assert_int_equal(load(f), 0);
	assert_int_equal(rd16(gpa(&f->t, LAYOUT_EBDA + 16 + 34)), 4 + 2 + 15 + 2);
	f->args.nr_cpus = 0;
	assert_err(f, -EINVAL, "vCPUs");
	f->args.nr_cpus = MPTABLE_MAX_CPUS + 1;
	assert_err(f, -EINVAL, "vCPUs");
}

static void ram_too_small(void **state)
{
	struct test_ram t;
	struct boot_plan plan;
	struct fixture *f = *state;

	test_ram_init(&t, 512 * 1024);
	assert_int_equal(boot_load_linux(&f->args, &t.ram, &plan), -ENOMEM);
	assert_non_null(strstr(plan.err, "too small"));
	test_ram_free(&t);

	/* 8 MiB: the header parses, the 16 MiB run address does not fit. */
	test_ram_init(&t, 8 * MiB);
	assert_int_equal(boot_load_linux(&f->args, &t.ram, &plan), -ENOMEM);
	assert_non_null(strstr(plan.err, "kernel needs RAM"));
	test_ram_free(&t);
}

static void random_garbage_never_crashes(void **state)
{
	struct fixture *f = *state;
	unsigned int seed = 1;

	/* Flip random header bytes: every outcome is fine except a crash. */
	for (int round = 0; round < 2000; round++) {
		struct bz_spec s = bz_defaults();

		rebuild(f, &s);
		for (int k = 0; k < 8; k++) {
			seed = seed * 1103515245 + 12345;
			f->img[0x1f1 + (seed >> 8) % (0x270 - 0x1f1)] = (uint8_t)(seed >> 20);
		}
		if (load(f))
			assert_true(f->plan.err[0] != 0);
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(good_image_boots_64bit),
	    T(loads_at_1mib_when_pref_does_not_fit),
	    T(truncated_file),
	    T(wrong_magic),
	    T(wrong_boot_flag),
	    T(old_protocol),
	    T(zimage_rejected),
	    T(oversize_setup_sects),
	    T(setup_sects_zero_means_four),
	    T(syssize_beyond_file),
	    T(bad_header_end),
	    T(absurd_fields),
	    T(init_size_larger_than_ram),
	    T(cmdline_too_long),
	    T(null_cmdline_is_empty),
	    T(initrd_placed_high),
	    T(initrd_respects_addr_max),
	    T(initrd_larger_than_memory),
	    T(smp_mptable),
	    T(ram_too_small),
	    T(random_garbage_never_crashes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
