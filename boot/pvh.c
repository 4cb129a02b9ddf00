/* PVH start_info: what a kernel entered through its Xen PHYS32_ENTRY note
 * gets instead of a zero page (the kernel builds its own boot_params from
 * it). Field layout from Xen's public/arch-x86/hvm/start_info.h. */
#include <errno.h>
#include <string.h>

#include "boot/internal.h"
#include "boot/pvh.h"

int pvh_write_start_info(const struct guest_ram *ram, uint64_t initrd_gpa, uint64_t initrd_size,
			 const struct e820_entry *e820, unsigned int nr_e820,
			 struct boot_plan *plan)
{
	uint8_t *si = guest_ram_ptr(ram, PVH_START_INFO, 0x1000);

	if (!si)
		return boot_fail(plan, -ENOMEM,
				 "guest RAM too small for the PVH start_info at 0x%llx",
				 (unsigned long long)PVH_START_INFO);
	if (nr_e820 > PVH_MEMMAP_MAX)
		return boot_fail(plan, -E2BIG, "PVH: %u memory map entries, room for %u", nr_e820,
				 (unsigned int)PVH_MEMMAP_MAX);
	memset(si, 0, 0x1000);

	put_le32(si + PVH_SI_MAGIC, PVH_START_MAGIC);
	put_le32(si + PVH_SI_VERSION, PVH_START_VERSION);
	put_le64(si + PVH_SI_CMDLINE_PADDR, LAYOUT_CMDLINE);
	/* No ACPI: the kernel finds the MP table by its BIOS-area scan. */
	put_le64(si + PVH_SI_RSDP_PADDR, 0);

	if (initrd_size) {
		uint8_t *mod = si + (PVH_MODLIST - PVH_START_INFO);

		put_le64(mod, initrd_gpa);
		put_le64(mod + 8, initrd_size);
		put_le32(si + PVH_SI_NR_MODULES, 1);
		put_le64(si + PVH_SI_MODLIST_PADDR, PVH_MODLIST);
	}

	put_le64(si + PVH_SI_MEMMAP_PADDR, PVH_MEMMAP);
	put_le32(si + PVH_SI_MEMMAP_ENTRIES, nr_e820);
	for (unsigned int i = 0; i < nr_e820; i++) {
		uint8_t *e = si + (PVH_MEMMAP - PVH_START_INFO) + PVH_MEMMAP_ENTRY_SIZE * i;

		put_le64(e, e820[i].addr);
		put_le64(e + 8, e820[i].size);
		put_le32(e + 16, e820[i].type);
	}
	return 0;
}
