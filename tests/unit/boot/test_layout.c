/* Unit tests of the RAM layout, bounds-checked guest access, GDT, identity
 * map, e820 map and the flat (--firmware) loader. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "boot/e820.h"
#include "boot/plan.h"
#include "helpers.h"

static void split_small_ram(void **state)
{
	struct guest_ram ram;

	assert_int_equal(layout_split_ram(256 * MiB, &ram), 0);
	assert_int_equal(ram.nr_regions, 1);
	assert_int_equal(ram.region[0].gpa, 0);
	assert_int_equal(ram.region[0].size, 256 * MiB);
	assert_null(ram.region[0].host);
	assert_int_equal(ram.total, 256 * MiB);
}

static void split_large_ram_around_hole(void **state)
{
	struct guest_ram ram;

	assert_int_equal(layout_split_ram(8 * GiB, &ram), 0);
	assert_int_equal(ram.nr_regions, 2);
	assert_int_equal(ram.region[0].size, 3 * GiB);
	assert_int_equal(ram.region[1].gpa, 4 * GiB);
	assert_int_equal(ram.region[1].size, 5 * GiB);
	assert_int_equal(ram.total, 8 * GiB);
}

static void split_rejects_bad_sizes(void **state)
{
	struct guest_ram ram;

	assert_int_equal(layout_split_ram(0, &ram), -EINVAL);
	assert_int_equal(layout_split_ram(4097, &ram), -EINVAL);
	assert_int_equal(layout_split_ram(LAYOUT_RAM_MAX + 4096, &ram), -EINVAL);
	assert_int_equal(layout_split_ram(UINT64_MAX & ~4095ULL, &ram), -EINVAL);
}

static void ptr_bounds(void **state)
{
	struct test_ram t;
	uint8_t hi[4096];

	test_ram_init(&t, 2 * MiB);
	assert_ptr_equal(guest_ram_ptr(&t.ram, 0, 1), t.buf);
	assert_ptr_equal(guest_ram_ptr(&t.ram, 2 * MiB - 1, 1), t.buf + 2 * MiB - 1);
	assert_null(guest_ram_ptr(&t.ram, 2 * MiB - 1, 2));
	assert_null(guest_ram_ptr(&t.ram, 2 * MiB, 1));
	assert_non_null(guest_ram_ptr(&t.ram, 2 * MiB, 0));
	assert_null(guest_ram_ptr(&t.ram, 4096, UINT64_MAX));
	assert_null(guest_ram_ptr(&t.ram, UINT64_MAX, 2));
	assert_null(guest_ram_ptr(&t.ram, UINT64_MAX - 1, UINT64_MAX));

	/* A second region above 4 GiB, reachable only through its own range. */
	t.ram.region[1] = (struct guest_region){.gpa = 4 * GiB, .size = sizeof(hi), .host = hi};
	t.ram.nr_regions = 2;
	assert_ptr_equal(guest_ram_ptr(&t.ram, 4 * GiB + 16, 16), hi + 16);
	assert_null(guest_ram_ptr(&t.ram, 4 * GiB - 16, 32));
	assert_null(guest_ram_ptr(&t.ram, 3 * GiB, 1)); /* the PCI hole */
	assert_int_equal(guest_ram_write(&t.ram, 4 * GiB + 4090, "0123456789", 10), -EFAULT);
	assert_int_equal(guest_ram_fill(&t.ram, 4 * GiB, 0xab, 4096), 0);
	assert_int_equal(hi[4095], 0xab);
	assert_int_equal(guest_ram_region_end(&t.ram, 1 * MiB), 2 * MiB);
	assert_int_equal(guest_ram_region_end(&t.ram, 2 * MiB), 0);
	assert_int_equal(guest_ram_region_end(&t.ram, 4 * GiB + 1), 4 * GiB + 4096);
	test_ram_free(&t);
}

static void ptr_unmapped_region(void **state)
{
	struct guest_ram ram;

	assert_int_equal(layout_split_ram(16 * MiB, &ram), 0);
	assert_null(guest_ram_ptr(&ram, 0, 1)); /* host still NULL */
}

/* A zero fill over private anonymous RAM zeroes exactly its range and leaves
 * its whole pages uncommitted; other fills write every byte. */
static void fill_drops_whole_zero_pages(void **state)
{
	const uint64_t size = 1 * MiB, gpa = 100, len = 600 * 1024;
	unsigned char resident[256];
	struct guest_ram ram;
	uint8_t *mem;
	size_t kept = 0;

	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(mem != MAP_FAILED);
	assert_int_equal(layout_split_ram(size, &ram), 0);
	ram.region[0].host = mem;
	ram.private_anon = true;
	memset(mem, 0x5a, size);

	assert_int_equal(guest_ram_fill(&ram, gpa, 0, len), 0);
	/* Before reading: a read maps the zero page and counts as resident. */
	assert_int_equal(mincore(mem, size, resident), 0);
	for (uint64_t p = 0; p < size / 4096; p++)
		kept += resident[p] & 1;
	/* The partial head and tail pages stay; the 149 whole ones between go. */
	assert_int_equal(kept, size / 4096 - (len - (4096 - gpa)) / 4096);
	for (uint64_t i = 0; i < size; i++)
		if (mem[i] != (i >= gpa && i < gpa + len ? 0 : 0x5a))
			fail_msg("byte %llu is 0x%x", (unsigned long long)i, mem[i]);

	assert_int_equal(guest_ram_fill(&ram, 0, 0x11, size), 0);
	assert_int_equal(mem[size / 2], 0x11);
	assert_int_equal(guest_ram_fill(&ram, size - 10, 0, 11), -EFAULT);
	munmap(mem, size);
}

static void gdt_descriptors(void **state)
{
	struct test_ram t;

	test_ram_init(&t, 1 * MiB);
	assert_int_equal(boot_write_gdt(&t.ram), 0);
	assert_int_equal(rd64(gpa(&t, LAYOUT_GDT)), 0);
	assert_int_equal(rd64(gpa(&t, LAYOUT_GDT + LAYOUT_SEL_CODE64)), 0x00af9b000000ffffULL);
	assert_int_equal(rd64(gpa(&t, LAYOUT_GDT + LAYOUT_SEL_CODE32)), 0x00cf9b000000ffffULL);
	assert_int_equal(rd64(gpa(&t, LAYOUT_GDT + LAYOUT_SEL_DATA)), 0x00cf93000000ffffULL);
	test_ram_free(&t);
}

static void identity_map_entries(void **state)
{
	struct test_ram t;
	uint64_t cr3 = 0;

	test_ram_init(&t, 1 * MiB);
	memset(t.buf + LAYOUT_PML4, 0xff, LAYOUT_PAGETABLE_END - LAYOUT_PML4);
	assert_int_equal(boot_write_identity_map(&t.ram, &cr3), 0);
	assert_int_equal(cr3, LAYOUT_PML4);
	assert_int_equal(rd64(gpa(&t, LAYOUT_PML4)), (LAYOUT_PML4 + 0x1000) | 3);
	assert_int_equal(rd64(gpa(&t, LAYOUT_PML4 + 8)), 0); /* only the low 512 GiB */
	for (unsigned int i = 0; i < 4; i++) {
		uint64_t pd = LAYOUT_PML4 + 0x2000 + 0x1000 * i;

		assert_int_equal(rd64(gpa(&t, LAYOUT_PML4 + 0x1000 + 8 * i)), pd | 3);
		/* First and last 2 MiB page of each GiB: present, writable, large. */
		assert_int_equal(rd64(gpa(&t, pd)), (i * GiB) | 0x83);
		assert_int_equal(rd64(gpa(&t, pd + 511 * 8)), (i * GiB + 511 * 2 * MiB) | 0x83);
	}
	assert_int_equal(rd64(gpa(&t, LAYOUT_PML4 + 0x1000 + 32)), 0);
	/* The LAPIC page is mapped identity too (top GiB, entry 503). */
	assert_int_equal(rd64(gpa(&t, LAYOUT_PML4 + 0x5000 + 503 * 8)), 0xfee00000ULL | 0x83);
	test_ram_free(&t);
}

static void identity_map_needs_ram(void **state)
{
	struct test_ram t;
	uint64_t cr3;

	test_ram_init(&t, 0x8000);
	assert_int_equal(boot_write_identity_map(&t.ram, &cr3), -EFAULT);
	test_ram_free(&t);
}

static void e820_small_ram(void **state)
{
	struct guest_ram ram;
	struct e820_entry e[E820_MAX_BUILT];

	assert_int_equal(layout_split_ram(128 * MiB, &ram), 0);
	assert_int_equal(e820_build(&ram, e, E820_MAX_BUILT), 3);
	assert_int_equal(e[0].addr, 0);
	assert_int_equal(e[0].size, 0x9fc00);
	assert_int_equal(e[0].type, E820_TYPE_RAM);
	assert_int_equal(e[1].addr, 0x9fc00);
	assert_int_equal(e[1].size, 0x100000 - 0x9fc00);
	assert_int_equal(e[1].type, E820_TYPE_RESERVED);
	assert_int_equal(e[2].addr, 0x100000);
	assert_int_equal(e[2].size, 127 * MiB);
	assert_int_equal(e[2].type, E820_TYPE_RAM);
}

static void e820_large_ram(void **state)
{
	struct guest_ram ram;
	struct e820_entry e[E820_MAX_BUILT];

	assert_int_equal(layout_split_ram(6 * GiB, &ram), 0);
	assert_int_equal(e820_build(&ram, e, E820_MAX_BUILT), 4);
	assert_int_equal(e[2].addr, 0x100000);
	assert_int_equal(e[2].size, 3 * GiB - 0x100000); /* stops at the PCI hole */
	assert_int_equal(e[3].addr, 4 * GiB);
	assert_int_equal(e[3].size, 3 * GiB);
	assert_int_equal(e[3].type, E820_TYPE_RAM);
	/* Sum of RAM = total minus the legacy area. */
	assert_int_equal(e[0].size + e[2].size + e[3].size, 6 * GiB - (0x100000 - 0x9fc00));
	assert_int_equal(e820_build(&ram, e, 3), -E2BIG);
}

static void e820_tiny_ram(void **state)
{
	struct guest_ram ram;
	struct e820_entry e[E820_MAX_BUILT];

	assert_int_equal(layout_split_ram(512 * 1024, &ram), 0);
	assert_int_equal(e820_build(&ram, e, E820_MAX_BUILT), 2);
	assert_int_equal(e[0].size, 512 * 1024);
	assert_int_equal(e[1].type, E820_TYPE_RESERVED);
}

static void flat_contract(void **state)
{
	struct test_ram t;
	struct boot_plan plan;
	const uint8_t code[] = {0xf4, 0xeb, 0xfd};

	test_ram_init(&t, 4 * MiB);
	assert_int_equal(flat_load(code, sizeof(code), &t.ram, 2, &plan), 0);
	assert_memory_equal(gpa(&t, LAYOUT_FIRMWARE), code, sizeof(code));
	assert_int_equal(plan.regs.mode, BOOT_MODE_LONG64);
	assert_int_equal(plan.regs.rip, LAYOUT_FIRMWARE);
	assert_int_equal(plan.regs.rsp, LAYOUT_STACK_TOP);
	assert_int_equal(plan.regs.rdi, 4 * MiB);
	assert_int_equal(plan.regs.rsi, 2);
	assert_int_equal(plan.regs.cr3, LAYOUT_PML4);
	assert_int_equal(plan.regs.rflags, 2);
	assert_int_equal(plan.kernel_end, LAYOUT_FIRMWARE + sizeof(code));
	assert_int_equal(rd64(gpa(&t, LAYOUT_GDT + 8)), 0x00af9b000000ffffULL);
	test_ram_free(&t);
}

static void flat_too_big(void **state)
{
	struct test_ram t;
	struct boot_plan plan;
	static uint8_t img[2 * 1024 * 1024];

	test_ram_init(&t, 2 * MiB);
	assert_int_equal(flat_load(img, sizeof(img), &t.ram, 1, &plan), -ENOMEM);
	assert_non_null(strstr(plan.err, "does not fit"));
	assert_int_equal(flat_load(img, 0, &t.ram, 1, &plan), -EINVAL);
	assert_int_equal(flat_load(img, 16, &t.ram, 0, &plan), -EINVAL);
	test_ram_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(split_small_ram),
	    cmocka_unit_test(split_large_ram_around_hole),
	    cmocka_unit_test(split_rejects_bad_sizes),
	    cmocka_unit_test(ptr_bounds),
	    cmocka_unit_test(ptr_unmapped_region),
	    cmocka_unit_test(fill_drops_whole_zero_pages),
	    cmocka_unit_test(gdt_descriptors),
	    cmocka_unit_test(identity_map_entries),
	    cmocka_unit_test(identity_map_needs_ram),
	    cmocka_unit_test(e820_small_ram),
	    cmocka_unit_test(e820_large_ram),
	    cmocka_unit_test(e820_tiny_ram),
	    cmocka_unit_test(flat_contract),
	    cmocka_unit_test(flat_too_big),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
