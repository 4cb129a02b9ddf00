/* Unit tests of the vmlinux ELF loader: header and segment validation on
 * hostile images, BSS, PVH note and start_info, the 64-bit entry with a
 * synthesized zero page. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "boot/elf64.h"
#include "boot/linux.h"
#include "boot/pvh.h"
#include "helpers.h"

#define RAM (32 * MiB)

static const struct elf_seg_spec two_segs[] = {
    {.paddr = 0x1000000,
     .vaddr = 0xffffffff81000000ULL,
     .filesz = 0x3000,
     .memsz = 0x3000,
     .fill = 0xc3},
    {.paddr = 0x1004000,
     .vaddr = 0xffffffff81004000ULL,
     .filesz = 0x1000,
     .memsz = 0x5000,
     .fill = 0xd4},
};

struct fixture {
	struct test_ram t;
	struct boot_plan plan;
	struct linux_boot_args args;
	uint8_t *img;
	size_t len;
};

static void build(struct fixture *f, const struct elf_spec *s)
{
	free(f->img);
	f->img = make_elf(s, &f->len);
	f->args.kernel = f->img;
	f->args.kernel_len = f->len;
}

static struct elf_spec spec_plain(void)
{
	return (struct elf_spec){.entry = 0x1000000, .segs = two_segs, .nr_segs = 2};
}

static struct elf_spec spec_pvh(void)
{
	struct elf_spec s = spec_plain();

	s.pvh_entry = 0x1000100;
	s.pvh_desc_size = 8;
	return s;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct elf_spec s = spec_plain();

	test_ram_init(&f->t, RAM);
	f->args = (struct linux_boot_args){.cmdline = "root=/dev/vda", .nr_cpus = 2};
	build(f, &s);
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

static int load(struct fixture *f)
{
	return boot_load_linux(&f->args, &f->t.ram, &f->plan);
}

#define assert_err(f, code, text)                                                                  \
	do {                                                                                       \
		assert_int_equal(load(f), code);                                                   \
		assert_non_null(strstr((f)->plan.err, text));                                      \
	} while (0)

/* Program header @i of the image, for tampering. */
static uint8_t *phdr(struct fixture *f, unsigned int i)
{
	return f->img + ELF_PHOFF + i * ELF_PHDR_SIZE;
}

static void plain_elf_64bit_entry(void **state)
{
	struct fixture *f = *state;
	uint8_t *bp = gpa(&f->t, LAYOUT_ZERO_PAGE);

	memset(gpa(&f->t, 0x1005000), 0xee, 0x4000); /* stale bytes where BSS goes */
	assert_int_equal(load(f), 0);
	assert_int_equal(f->plan.regs.mode, BOOT_MODE_LONG64);
	assert_int_equal(f->plan.regs.rip, 0x1000000);
	assert_int_equal(f->plan.regs.rsi, LAYOUT_ZERO_PAGE);
	assert_int_equal(f->plan.regs.cr3, LAYOUT_PML4);
	assert_int_equal(f->plan.kernel_end, 0x1009000);
	assert_string_equal(f->plan.what, "vmlinux ELF, 64-bit entry");

	/* Segments at p_paddr, BSS zeroed. */
	assert_int_equal(*gpa(&f->t, 0x1000000), 0xc3);
	assert_int_equal(*gpa(&f->t, 0x1002fff), 0xc3);
	assert_int_equal(*gpa(&f->t, 0x1004000), 0xd4);
	assert_int_equal(*gpa(&f->t, 0x1004fff), 0xd4);
	for (uint64_t a = 0x1005000; a < 0x1009000; a += 0x7f)
		assert_int_equal(*gpa(&f->t, a), 0);

	/* Synthesized setup header. */
	assert_int_equal(rd16(bp + 0x1fe), 0xaa55);
	assert_memory_equal(bp + 0x202, "HdrS", 4);
	assert_true(rd16(bp + 0x206) >= 0x020c);
	assert_int_equal(bp[0x210], 0xff);
	assert_int_equal(rd32(bp + 0x228), LAYOUT_CMDLINE);
	assert_int_equal(bp[0x1e8], 3);
	assert_string_equal((char *)gpa(&f->t, LAYOUT_CMDLINE), "root=/dev/vda");
}

static void virtual_entry_translated(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = spec_plain();

	s.entry = 0xffffffff81000010ULL;
	build(f, &s);
	assert_int_equal(load(f), 0);
	assert_int_equal(f->plan.regs.rip, 0x1000010);
}

static void entry_outside_segments(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = spec_plain();

	s.entry = 0x1006000; /* in BSS, not code */
	build(f, &s);
	assert_err(f, -EINVAL, "entry 0x1006000 is not inside a loaded segment");
}

static void pvh_note_found(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = spec_pvh();
	uint8_t initrd[5000];
	uint8_t *si = gpa(&f->t, PVH_START_INFO);
	uint64_t mod;

	memset(initrd, 0x42, sizeof(initrd));
	build(f, &s);
	f->args.initrd = initrd;
	f->args.initrd_len = sizeof(initrd);
	assert_int_equal(load(f), 0);
	assert_int_equal(f->plan.regs.mode, BOOT_MODE_PROT32);
	assert_int_equal(f->plan.regs.rip, 0x1000100);
	assert_int_equal(f->plan.regs.rbx, PVH_START_INFO);
	assert_string_equal(f->plan.what, "vmlinux ELF, PVH entry");

	assert_int_equal(rd32(si + 0), 0x336ec578);
	assert_int_equal(rd32(si + 4), 1);
	assert_int_equal(rd64(si + 0x18), LAYOUT_CMDLINE);
	assert_int_equal(rd64(si + 0x20), 0);
	assert_int_equal(rd32(si + 0x0c), 1);
	mod = rd64(si + 0x10);
	assert_int_equal(rd64(gpa(&f->t, mod + 8)), sizeof(initrd));
	assert_int_equal(rd64(gpa(&f->t, mod)), f->plan.initrd_gpa);
	assert_memory_equal(gpa(&f->t, f->plan.initrd_gpa), initrd, sizeof(initrd));
	assert_true(f->plan.initrd_gpa >= 0x1009000);

	/* Memory map: 3 entries, e820 style. */
	assert_int_equal(rd32(si + 0x30), 3);
	uint8_t *mm = gpa(&f->t, rd64(si + 0x28));
	assert_int_equal(rd64(mm + 0), 0);
	assert_int_equal(rd64(mm + 8), 0x9fc00);
	assert_int_equal(rd32(mm + 16), 1);
	assert_int_equal(rd32(mm + 24 + 16), 2);
	assert_int_equal(rd64(mm + 48), 0x100000);
	assert_int_equal(rd64(mm + 48 + 8), RAM - 0x100000);

	/* The 32-bit entry needs the GDT's CODE32 and DATA descriptors. */
	assert_int_equal(rd64(gpa(&f->t, LAYOUT_GDT + 0x10)), 0x00cf9b000000ffffULL);
}

static void pvh_note_4byte_and_no_pvh_flag(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = spec_pvh();

	s.pvh_desc_size = 4;
	build(f, &s);
	assert_int_equal(load(f), 0);
	assert_int_equal(f->plan.regs.rip, 0x1000100);

	f->args.no_pvh = true;
	assert_int_equal(load(f), 0);
	assert_int_equal(f->plan.regs.mode, BOOT_MODE_LONG64);
	assert_int_equal(f->plan.regs.rip, 0x1000000);
}

static void pvh_entry_outside_image(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = spec_pvh();

	s.pvh_entry = 0x1f00000;
	build(f, &s);
	assert_err(f, -EINVAL, "PVH entry 0x1f00000");
}

static void malformed_note(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = spec_pvh();
	uint64_t note;

	build(f, &s);
	note = rd64(phdr(f, 2) + 8);
	wr32(f->img + note, 0xfffffff0); /* namesz runs off the segment */
	assert_err(f, -EINVAL, "overruns its segment");
	wr32(f->img + note, 4);
	wr32(f->img + note + 4, 0xffffffff);
	assert_err(f, -EINVAL, "overruns its segment");
	wr32(f->img + note + 4, 8);
	wr64(phdr(f, 2) + 32, 0xffffffffffffff00ULL); /* note filesz */
	assert_err(f, -EINVAL, "note segment 2 lies outside the file");
}

static void segment_outside_ram(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = spec_plain();
	struct elf_seg_spec segs[2] = {two_segs[0], two_segs[1]};

	segs[1].paddr = RAM - 0x1000; /* memsz 0x5000 runs past the end */
	s.segs = segs;
	build(f, &s);
	assert_err(f, -ENOMEM, "segment 1 [0x1fff000, 0x2004000) is outside guest RAM (32 MiB)");

	segs[1].paddr = 0x80000; /* low memory belongs to the VMM */
	build(f, &s);
	assert_err(f, -EINVAL, "below 0x100000");

	segs[1].paddr = 0xc0000000; /* the PCI hole */
	build(f, &s);
	assert_err(f, -ENOMEM, "outside guest RAM");
}

static void overflowing_offsets(void **state)
{
	struct fixture *f = *state;

	wr64(phdr(f, 0) + 8, 0xfffffffffffff000ULL); /* p_offset */
	assert_err(f, -EINVAL, "segment 0");
	assert_non_null(strstr(f->plan.err, "outside the"));

	wr64(phdr(f, 0) + 8, 0x100);
	wr64(phdr(f, 0) + 32, 0xffffffffffffffffULL); /* p_filesz */
	wr64(phdr(f, 0) + 40, 0xffffffffffffffffULL); /* p_memsz */
	assert_err(f, -EINVAL, "outside the");

	wr64(phdr(f, 0) + 32, 0x10);
	wr64(phdr(f, 0) + 24, 0xfffffffffffff000ULL); /* p_paddr + memsz wraps */
	assert_err(f, -EINVAL, "overflows");
}

static void filesz_above_memsz(void **state)
{
	struct fixture *f = *state;

	wr64(phdr(f, 1) + 32, 0x6000);
	assert_err(f, -EINVAL, "p_filesz 0x6000 > p_memsz 0x5000");
}

static void bad_headers(void **state)
{
	struct fixture *f = *state;

	f->args.kernel_len = 40;
	assert_err(f, -ENOEXEC, "too short");
	f->args.kernel_len = f->len;

	f->img[4] = 1; /* ELFCLASS32 */
	assert_err(f, -ENOEXEC, "64-bit");
	f->img[4] = 2;

	wr16(f->img + 18, 3); /* EM_386 */
	assert_err(f, -ENOEXEC, "machine 3 is not x86_64");
	wr16(f->img + 18, 62);

	wr16(f->img + 16, 3); /* ET_DYN */
	assert_err(f, -ENOEXEC, "not an executable");
	wr16(f->img + 16, 2);

	wr64(f->img + 32, 0xfffffffffffffff0ULL); /* e_phoff */
	assert_err(f, -EINVAL, "program headers");
	wr64(f->img + 32, ELF_PHOFF);

	wr16(f->img + 56, 0xffff); /* e_phnum */
	assert_err(f, -EINVAL, "program headers");
	wr16(f->img + 56, 0);
	assert_err(f, -EINVAL, "program headers");
	wr16(f->img + 56, 2);

	wr16(f->img + 54, 32); /* e_phentsize */
	assert_err(f, -EINVAL, "program header size");
	wr16(f->img + 54, ELF_PHDR_SIZE);

	wr32(phdr(f, 0), 6);
	wr32(phdr(f, 1), 6); /* no PT_LOAD left */
	assert_err(f, -EINVAL, "no loadable segment");
}

static void elf_load_writes_nothing_on_error(void **state)
{
	struct fixture *f = *state;
	struct elf_kernel k;

	/* Segment 0 is fine, segment 1 is not: segment 0 must not be copied. */
	wr64(phdr(f, 1) + 24, 0x80000);
	assert_int_equal(elf_load(f->img, f->len, &f->t.ram, &k, &f->plan), -EINVAL);
	assert_int_equal(*gpa(&f->t, 0x1000000), 0);
}

static void random_garbage_never_crashes(void **state)
{
	struct fixture *f = *state;
	unsigned int seed = 7;

	for (int round = 0; round < 3000; round++) {
		struct elf_spec s = spec_pvh();
		size_t hdr_bytes;

		build(f, &s);
		hdr_bytes = ELF_PHOFF + 3 * ELF_PHDR_SIZE + 28;
		for (int k = 0; k < 6; k++) {
			seed = seed * 1103515245 + 12345;
			f->img[(seed >> 8) % hdr_bytes] = (uint8_t)(seed >> 20);
		}
		if (load(f))
			assert_true(f->plan.err[0] != 0);
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(plain_elf_64bit_entry),
	    T(virtual_entry_translated),
	    T(entry_outside_segments),
	    T(pvh_note_found),
	    T(pvh_note_4byte_and_no_pvh_flag),
	    T(pvh_entry_outside_image),
	    T(malformed_note),
	    T(segment_outside_ram),
	    T(overflowing_offsets),
	    T(filesz_above_memsz),
	    T(bad_headers),
	    T(elf_load_writes_nothing_on_error),
	    T(random_garbage_never_crashes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
