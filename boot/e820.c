/* e820 map of the guest: RAM regions with the legacy BIOS area carved out. */
#include <errno.h>

#include "boot/e820.h"

static int e820_add(struct e820_entry *out, unsigned int max, unsigned int *n, uint64_t addr,
		    uint64_t end, uint32_t type)
{
	if (end <= addr)
		return 0;
	if (*n >= max)
		return -E2BIG;
	/* Keep the table sorted: shift later entries up. */
	unsigned int i = *n;
	while (i > 0 && out[i - 1].addr > addr) {
		out[i] = out[i - 1];
		i--;
	}
	out[i] = (struct e820_entry){.addr = addr, .size = end - addr, .type = type};
	(*n)++;
	return 0;
}

int e820_build(const struct guest_ram *ram, struct e820_entry *out, unsigned int max)
{
	unsigned int n = 0;
	int err;

	if (ram->nr_regions == 0 || ram->nr_regions > 2)
		return -EINVAL;
	for (unsigned int i = 0; i < ram->nr_regions; i++) {
		const struct guest_region *r = &ram->region[i];
		uint64_t start = r->gpa, end = r->gpa + r->size;

		if (r->size == 0 || end < start || end > LAYOUT_HIGHMEM_START + LAYOUT_RAM_MAX)
			return -EINVAL;
		/* The legacy area is never RAM, even though the memory slot
		 * covers it: that is where the MP table lives. */
		err = e820_add(out, max, &n, start, end < LAYOUT_EBDA ? end : LAYOUT_EBDA,
			       E820_TYPE_RAM);
		if (!err)
			err = e820_add(out, max, &n,
				       start > LAYOUT_BIOS_END ? start : LAYOUT_BIOS_END, end,
				       E820_TYPE_RAM);
		if (err)
			return err;
	}
	err = e820_add(out, max, &n, LAYOUT_EBDA, LAYOUT_BIOS_END, E820_TYPE_RESERVED);
	return err ? err : (int)n;
}
