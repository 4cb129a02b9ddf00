/* Unit tests of the multiboot v1 loader: crafted ELF32, ELF64 and a.out-kludge
 * images, the information structure as a kernel reads it, and one-line
 * refusals of bad images (checksum, overlap, outside RAM, truncated). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "boot/multiboot.h"
#include "helpers.h"

#define RAM	   (64 * MiB)
#define IMG_MAX	   0x10000
#define HDR_OFF	   0x200
#define DATA_OFF   0x1000
#define PHOFF	   64
#define ENTRY	   0x400010
#define LOAD_ADDR  0x400000
#define MB_INFO_OK ((1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9))

struct seg {
	uint64_t paddr, filesz, memsz;
};

struct fixture {
	struct test_ram t;
	struct boot_plan plan;
	struct multiboot_args args;
	uint8_t img[IMG_MAX];
	size_t len;
};

static void put_header(uint8_t *img, size_t off, uint32_t flags)
{
	wr32(img + off, MULTIBOOT_HEADER_MAGIC);
	wr32(img + off + 4, flags);
	wr32(img + off + 8, (uint32_t)(0u - MULTIBOOT_HEADER_MAGIC - flags));
}

/* ELF (32 or 64-bit) with the header at HDR_OFF and segment data from
 * DATA_OFF, each segment's bytes filled with 0x40 + its index. */
static void build_elf(struct fixture *f, bool is64, const struct seg *s, unsigned int n,
		      uint64_t entry)
{
	uint8_t *e = f->img;
	uint64_t off = DATA_OFF;

	memset(f->img, 0, sizeof(f->img));
	memcpy(e, "\177ELF", 4);
	e[4] = is64 ? 2 : 1;
	e[5] = 1;
	e[6] = 1;
	wr16(e + 16, 2);
	wr16(e + 18, is64 ? 62 : 3);
	wr32(e + 20, 1);
	if (is64) {
		wr64(e + 24, entry);
		wr64(e + 32, PHOFF);
		wr16(e + 52, 64);
		wr16(e + 54, 56);
		wr16(e + 56, (uint16_t)n);
	} else {
		wr32(e + 24, (uint32_t)entry);
		wr32(e + 28, PHOFF);
		wr16(e + 40, 52);
		wr16(e + 42, 32);
		wr16(e + 44, (uint16_t)n);
	}
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *ph = e + PHOFF + i * (is64 ? 56 : 32);

		wr32(ph, 1); /* PT_LOAD */
		if (is64) {
			wr64(ph + 8, off);
			wr64(ph + 16, s[i].paddr);
			wr64(ph + 24, s[i].paddr);
			wr64(ph + 32, s[i].filesz);
			wr64(ph + 40, s[i].memsz);
		} else {
			wr32(ph + 4, (uint32_t)off);
			wr32(ph + 8, (uint32_t)s[i].paddr);
			wr32(ph + 12, (uint32_t)s[i].paddr);
			wr32(ph + 16, (uint32_t)s[i].filesz);
			wr32(ph + 20, (uint32_t)s[i].memsz);
		}
		if (off + s[i].filesz <= IMG_MAX)
			memset(e + off, 0x40 + (int)i, s[i].filesz);
		off += s[i].filesz;
	}
	put_header(e, HDR_OFF, MULTIBOOT_HDR_PAGE_ALIGN | MULTIBOOT_HDR_MEMINFO);
	f->len = off < IMG_MAX ? off : IMG_MAX;
	f->args.kernel = f->img;
	f->args.kernel_len = f->len;
}

static const struct seg one_seg[] = {{LOAD_ADDR, 0x100, 0x3000}};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	test_ram_init(&f->t, RAM);
	f->args.nr_cpus = 1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	test_ram_free(&f->t);
	free(f);
	return 0;
}

static int load(struct fixture *f)
{
	return boot_load_multiboot(&f->args, &f->t.ram, &f->plan);
}

static void expect_fail(struct fixture *f, int err, const char *needle)
{
	assert_int_equal(load(f), err);
	assert_non_null(strstr(f->plan.err, needle));
	assert_null(strchr(f->plan.err, '\n'));
}

static const char *str_at(struct fixture *f, uint32_t addr)
{
	return (const char *)gpa(&f->t, addr);
}

static void test_elf32_info(void **state)
{
	struct fixture *f = *state;
	static const char env[] = "NR_CPUS=2\nMEMSIZE=64\n";
	struct multiboot_module mods[] = {{(const uint8_t *)env, sizeof(env) - 1, "env"},
					  {(const uint8_t *)"xyz", 3, NULL}};
	uint8_t *mbi, *mod, *mm;
	uint32_t n;

	build_elf(f, false, one_seg, 1, ENTRY);
	memset(gpa(&f->t, LOAD_ADDR), 0xaa, 0x3000); /* the bss must be cleared */
	f->args.name = "pmu.flat";
	f->args.cmdline = "-v arg";
	f->args.mods = mods;
	f->args.nr_mods = 2;
	assert_int_equal(load(f), 0);

	assert_int_equal(f->plan.regs.mode, BOOT_MODE_PROT32);
	assert_int_equal(f->plan.regs.rip, ENTRY);
	assert_int_equal(f->plan.regs.rax, MULTIBOOT_LOADER_MAGIC);
	assert_int_equal(gpa(&f->t, LOAD_ADDR)[0], 0x40);
	assert_int_equal(gpa(&f->t, LOAD_ADDR)[0xff], 0x40);
	assert_int_equal(gpa(&f->t, LOAD_ADDR)[0x100], 0);
	assert_int_equal(gpa(&f->t, LOAD_ADDR)[0x2fff], 0);

	assert_true(f->plan.regs.rbx >= LOAD_ADDR + 0x3000 && f->plan.regs.rbx < 4 * GiB);
	mbi = gpa(&f->t, f->plan.regs.rbx);
	assert_int_equal(rd32(mbi + MBI_FLAGS), MB_INFO_OK);
	assert_int_equal(rd32(mbi + MBI_MEM_LOWER), 639);
	assert_int_equal(rd32(mbi + MBI_MEM_UPPER), (RAM - MiB) / 1024);
	assert_string_equal(str_at(f, rd32(mbi + MBI_CMDLINE)), "pmu.flat -v arg");
	assert_string_equal(str_at(f, rd32(mbi + MBI_LOADER_NAME)), "libvmm");

	assert_int_equal(rd32(mbi + MBI_MODS_COUNT), 2);
	mod = gpa(&f->t, rd32(mbi + MBI_MODS_ADDR));
	assert_int_equal(rd32(mod) % 4096, 0);
	assert_true(rd32(mod) >= LOAD_ADDR + 0x3000);
	assert_int_equal(rd32(mod + 4) - rd32(mod), sizeof(env) - 1);
	assert_memory_equal(gpa(&f->t, rd32(mod)), env, sizeof(env) - 1);
	assert_string_equal(str_at(f, rd32(mod + 8)), "env");
	assert_int_equal(rd32(mod + 16) % 4096, 0);
	assert_true(rd32(mod + 16) >= rd32(mod + 4));
	assert_memory_equal(gpa(&f->t, rd32(mod + 16)), "xyz", 3);
	assert_string_equal(str_at(f, rd32(mod + 24)), "");
	assert_int_equal(f->plan.initrd_gpa, rd32(mod));

	/* e820 layout: low RAM, the BIOS area, RAM from 1 MiB. */
	n = rd32(mbi + MBI_MMAP_LENGTH) / MBI_MMAP_SIZE;
	assert_int_equal(n, 3);
	mm = gpa(&f->t, rd32(mbi + MBI_MMAP_ADDR));
	assert_int_equal(rd32(mm), 20);
	assert_int_equal(rd64(mm + 4), 0);
	assert_int_equal(rd64(mm + 12), LAYOUT_EBDA);
	assert_int_equal(rd32(mm + 20), 1);
	assert_int_equal(rd32(mm + 24 + 20), 2);
	assert_int_equal(rd64(mm + 48 + 4), MiB);
	assert_int_equal(rd64(mm + 48 + 12), RAM - MiB);
	assert_int_equal(rd32(mm + 48 + 20), 1);
}

static void test_no_cmdline_no_modules(void **state)
{
	struct fixture *f = *state;
	uint8_t *mbi;

	build_elf(f, false, one_seg, 1, ENTRY);
	assert_int_equal(load(f), 0);
	mbi = gpa(&f->t, f->plan.regs.rbx);
	assert_int_equal(rd32(mbi + MBI_FLAGS), MB_INFO_OK);
	assert_string_equal(str_at(f, rd32(mbi + MBI_CMDLINE)), "");
	assert_int_equal(rd32(mbi + MBI_MODS_COUNT), 0);
	assert_int_equal(f->plan.initrd_gpa, 0);
}

static void test_elf64(void **state)
{
	struct fixture *f = *state;
	static const struct seg segs[] = {{0x200000, 0x80, 0x80}, {0x300000, 0x40, 0x1000}};

	build_elf(f, true, segs, 2, 0x300020);
	assert_int_equal(load(f), 0);
	assert_int_equal(f->plan.regs.rip, 0x300020);
	assert_int_equal(gpa(&f->t, 0x200000)[0x7f], 0x40);
	assert_int_equal(gpa(&f->t, 0x300000)[0x3f], 0x41);
	assert_non_null(strstr(f->plan.what, "ELF64"));
}

/* A flat file whose header's address fields place it at 2 MiB. */
static void build_aout(struct fixture *f, uint32_t load_end, uint32_t bss_end)
{
	uint32_t flags = MULTIBOOT_HDR_AOUT | MULTIBOOT_HDR_MEMINFO;

	memset(f->img, 0x90, sizeof(f->img));
	f->len = 0x3000;
	put_header(f->img, 0x40, flags);
	wr32(f->img + 0x40 + 12, 0x200040); /* header_addr */
	wr32(f->img + 0x40 + 16, 0x200000); /* load_addr */
	wr32(f->img + 0x40 + 20, load_end);
	wr32(f->img + 0x40 + 24, bss_end);
	wr32(f->img + 0x40 + 28, 0x200060); /* entry */
	f->args.kernel = f->img;
	f->args.kernel_len = f->len;
}

/* A kernel below the BIOS area: its modules and info still go above 1 MiB. */
static void test_low_kernel(void **state)
{
	struct fixture *f = *state;
	static const struct seg low[] = {{0x8000, 0x100, 0x100}};
	struct multiboot_module m = {(const uint8_t *)"abc", 3, "m"};

	build_elf(f, false, low, 1, 0x8000);
	f->args.mods = &m;
	f->args.nr_mods = 1;
	assert_int_equal(load(f), 0);
	assert_int_equal(f->plan.regs.rip, 0x8000);
	assert_int_equal(f->plan.initrd_gpa, LAYOUT_BIOS_END);
	assert_true(f->plan.regs.rbx > LAYOUT_BIOS_END);
}

static void test_aout_kludge(void **state)
{
	struct fixture *f = *state;

	build_aout(f, 0x202000, 0x205000);
	memset(gpa(&f->t, 0x200000), 0xaa, 0x6000);
	assert_int_equal(load(f), 0);
	assert_int_equal(f->plan.regs.rip, 0x200060);
	assert_int_equal(gpa(&f->t, 0x200000)[0], 0x90);
	assert_int_equal(rd32(gpa(&f->t, 0x200040)), MULTIBOOT_HEADER_MAGIC);
	assert_int_equal(gpa(&f->t, 0x201fff)[0], 0x90);
	assert_int_equal(gpa(&f->t, 0x202000)[0], 0); /* bss */
	assert_int_equal(gpa(&f->t, 0x204fff)[0], 0); /* bss */
	assert_int_equal(f->plan.regs.rbx, 0x205000); /* the info follows the bss */

	/* load_end_addr 0: the whole file; bss_end_addr 0: no bss. */
	build_aout(f, 0, 0);
	assert_int_equal(load(f), 0);
	assert_int_equal(gpa(&f->t, 0x202fff)[0], 0x90);
}

static void test_aout_bad(void **state)
{
	struct fixture *f = *state;

	build_aout(f, 0x204000, 0); /* 16 KiB from a 12 KiB file */
	expect_fail(f, -EINVAL, "truncated");
	build_aout(f, 0x202000, 0x201000);
	expect_fail(f, -EINVAL, "bss_end_addr");
	build_aout(f, 0x202000, 0);
	wr32(f->img + 0x40 + 12, 0x300000); /* header_addr far past the file start */
	expect_fail(f, -EINVAL, "header_addr");
}

static void test_find_header(void **state)
{
	struct fixture *f = *state;

	memset(f->img, 0, sizeof(f->img));
	assert_int_equal(multiboot_find_header(f->img, sizeof(f->img)), -1);
	put_header(f->img, 0x1ff4, 0);
	assert_int_equal(multiboot_find_header(f->img, sizeof(f->img)), 0x1ff4);
	assert_int_equal(multiboot_find_header(f->img, 0x1ffc), -1); /* cut short */
	memset(f->img, 0, sizeof(f->img));
	put_header(f->img, 0x2000, 0); /* past the first 8 KiB */
	assert_int_equal(multiboot_find_header(f->img, sizeof(f->img)), -1);
	memset(f->img, 0, sizeof(f->img));
	put_header(f->img, 0x102, 0); /* not 4-byte aligned */
	assert_int_equal(multiboot_find_header(f->img, sizeof(f->img)), -1);
}

static void test_bad_checksum(void **state)
{
	struct fixture *f = *state;

	build_elf(f, false, one_seg, 1, ENTRY);
	wr32(f->img + HDR_OFF + 8, 0);
	expect_fail(f, -ENOEXEC, "checksum");
}

static void test_no_header(void **state)
{
	struct fixture *f = *state;

	build_elf(f, false, one_seg, 1, ENTRY);
	memset(f->img + HDR_OFF, 0, 12);
	expect_fail(f, -ENOEXEC, "no multiboot header");
}

static void test_unknown_required_flag(void **state)
{
	struct fixture *f = *state;

	build_elf(f, false, one_seg, 1, ENTRY);
	put_header(f->img, HDR_OFF, 1u << 3);
	expect_fail(f, -ENOTSUP, "flags 0x8");
	/* Bits 16 and up are optional: an unknown one is ignored. */
	put_header(f->img, HDR_OFF, 1u << 20);
	assert_int_equal(load(f), 0);
}

static void test_overlap(void **state)
{
	struct fixture *f = *state;
	static const struct seg segs[] = {{0x400000, 0x100, 0x2000}, {0x401000, 0x100, 0x100}};

	build_elf(f, false, segs, 2, ENTRY);
	expect_fail(f, -EINVAL, "overlap");
}

static void test_outside_ram(void **state)
{
	struct fixture *f = *state;
	static const struct seg beyond[] = {{RAM - 0x1000, 0x100, 0x2000}};
	static const struct seg bios[] = {{0xf0000, 0x100, 0x100}};

	build_elf(f, false, beyond, 1, RAM - 0x1000);
	expect_fail(f, -ENOMEM, "outside guest RAM");
	build_elf(f, false, bios, 1, 0xf0000);
	expect_fail(f, -EINVAL, "BIOS area");
}

static void test_truncated(void **state)
{
	struct fixture *f = *state;

	build_elf(f, false, one_seg, 1, ENTRY);
	f->args.kernel_len = DATA_OFF + 0x80; /* the segment has 0x100 bytes */
	expect_fail(f, -EINVAL, "truncated");
	f->args.kernel_len = 40; /* not even the ELF header */
	expect_fail(f, -ENOEXEC, "no multiboot header");
}

static void test_bad_entry(void **state)
{
	struct fixture *f = *state;

	build_elf(f, false, one_seg, 1, 0x500000);
	expect_fail(f, -EINVAL, "entry 0x500000");
}

static void test_module_too_big(void **state)
{
	struct fixture *f = *state;
	struct multiboot_module m = {gpa(&f->t, 0), RAM, "big"};

	build_elf(f, false, one_seg, 1, ENTRY);
	f->args.mods = &m;
	f->args.nr_mods = 1;
	expect_fail(f, -ENOMEM, "module 0");
}

static void test_not_elf(void **state)
{
	struct fixture *f = *state;

	memset(f->img, 0, sizeof(f->img));
	put_header(f->img, 0, 0);
	f->args.kernel = f->img;
	f->args.kernel_len = 0x1000;
	expect_fail(f, -ENOEXEC, "not an ELF");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_elf32_info, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_cmdline_no_modules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_elf64, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_low_kernel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_aout_kludge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_aout_bad, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_find_header, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_checksum, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_header, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_required_flag, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overlap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_outside_ram, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_module_too_big, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_elf, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
