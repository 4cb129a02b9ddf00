/* The CPU tables every boot path needs before its first instruction: a flat
 * GDT and identity-mapped page tables for the first 4 GiB, and the common
 * long-mode registers that go with them. */
#include <errno.h>
#include <string.h>

#include "boot/internal.h"

/* Descriptors: base 0, limit 4 GiB (G=1), present, DPL 0.
 * 0x9b = code, execute/read, accessed; 0x93 = data, read/write, accessed.
 * Flags nibble 0xa = G|L (64-bit code), 0xc = G|D/B (32-bit). */
static const uint64_t gdt[LAYOUT_GDT_ENTRIES] = {
    [0] = 0,
    [LAYOUT_SEL_CODE64 / 8] = 0x00af9b000000ffffULL,
    [LAYOUT_SEL_CODE32 / 8] = 0x00cf9b000000ffffULL,
    [LAYOUT_SEL_DATA / 8] = 0x00cf93000000ffffULL,
};

int boot_write_gdt(const struct guest_ram *ram)
{
	uint8_t *p = guest_ram_ptr(ram, LAYOUT_GDT, sizeof(gdt));

	if (!p)
		return -EFAULT;
	for (unsigned int i = 0; i < LAYOUT_GDT_ENTRIES; i++)
		put_le64(p + 8 * i, gdt[i]);
	return 0;
}

#define PTE_PRESENT 0x1ULL
#define PTE_WRITE   0x2ULL
#define PTE_LARGE   0x80ULL /* PS: this PD entry maps a 2 MiB page */

/* PML4, one PDPT, then four page directories of 512 2 MiB pages each.
 * 2 MiB pages because the hosts here lack 1 GiB pages in the guest. */
#define PT_PDPT	 (LAYOUT_PML4 + 0x1000)
#define PT_PD(i) (LAYOUT_PML4 + 0x2000 + 0x1000 * (uint64_t)(i))
#define PT_NR_PD 4

_Static_assert(PT_PD(PT_NR_PD) == LAYOUT_PAGETABLE_END, "page tables fill their slot");

int boot_write_identity_map(const struct guest_ram *ram, uint64_t *cr3)
{
	uint8_t *pt = guest_ram_ptr(ram, LAYOUT_PML4, LAYOUT_PAGETABLE_END - LAYOUT_PML4);

	if (!pt)
		return -EFAULT;
	memset(pt, 0, LAYOUT_PAGETABLE_END - LAYOUT_PML4);

	put_le64(pt, PT_PDPT | PTE_PRESENT | PTE_WRITE);
	for (unsigned int i = 0; i < PT_NR_PD; i++) {
		uint8_t *pd = pt + (PT_PD(i) - LAYOUT_PML4);

		put_le64(pt + (PT_PDPT - LAYOUT_PML4) + 8 * i, PT_PD(i) | PTE_PRESENT | PTE_WRITE);
		for (unsigned int j = 0; j < 512; j++) {
			uint64_t addr = (uint64_t)i * GiB + (uint64_t)j * 2 * MiB;

			put_le64(pd + 8 * j, addr | PTE_PRESENT | PTE_WRITE | PTE_LARGE);
		}
	}
	*cr3 = LAYOUT_PML4;
	return 0;
}

/* Prepare the long-mode CPU state shared by every 64-bit entry. */
int boot_setup_long_mode(const struct guest_ram *ram, struct boot_plan *plan)
{
	int err = boot_write_gdt(ram);

	if (!err)
		err = boot_write_identity_map(ram, &plan->regs.cr3);
	if (err)
		return boot_fail(
		    plan, err,
		    "guest RAM (%llu KiB) too small for the GDT and page tables below 64 KiB",
		    (unsigned long long)(ram->total / KiB));
	plan->regs.mode = BOOT_MODE_LONG64;
	plan->regs.rflags = 0x2; /* bit 1 is reserved-as-one; IF stays clear */
	return 0;
}
