/* The guest's physical memory map in e820 form, derived from the RAM layout;
 * the Linux zero page and the PVH start_info both carry it. */
#ifndef BOOT_E820_H
#define BOOT_E820_H

#include <stdint.h>

#include "boot/layout.h"

#define E820_TYPE_RAM	   1
#define E820_TYPE_RESERVED 2

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/* Most entries e820_build() can produce: low RAM, the BIOS area, RAM from
 * 1 MiB, high RAM. */
#define E820_MAX_BUILT 4

/* Fill @out (room for @max entries) with the map of @ram, sorted by address:
 * RAM below the EBDA, [LAYOUT_EBDA, 1 MiB) reserved (EBDA with the MP table,
 * VGA, BIOS), RAM from 1 MiB, RAM above 4 GiB. The PCI hole is left out.
 * Returns the number of entries or -E2BIG / -EINVAL. */
int e820_build(const struct guest_ram *ram, struct e820_entry *out, unsigned int max);

#endif
