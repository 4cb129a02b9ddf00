/* Initial ramdisk placement: as high as the kernel allows in low RAM, page
 * aligned, above everything the kernel occupies while it boots (the kernel
 * decompresses and relocates upward, the initrd stays out of its way). */
#include <errno.h>

#include "boot/linux_internal.h"

int initrd_load(const struct guest_ram *ram, const uint8_t *initrd, uint64_t len,
		uint64_t kernel_end, uint64_t addr_max, uint64_t *gpa, struct boot_plan *plan)
{
	uint64_t low_end = guest_ram_region_end(ram, LAYOUT_KERNEL);
	uint64_t top, start;
	char s1[32], s2[32];

	*gpa = 0;
	if (!initrd || len == 0)
		return 0;
	/* initrd_addr_max is the highest byte address the initrd may use. */
	top = addr_max >= UINT64_MAX - 1 ? UINT64_MAX : addr_max + 1;
	if (low_end && top > low_end)
		top = low_end;
	top = align_down(top, 4096);
	kernel_end = align_up(kernel_end, 4096);
	if (!low_end || len > top || top - len < kernel_end)
		return boot_fail(plan, -ENOMEM,
				 "initrd (%s) does not fit below initrd_addr_max 0x%llx with %s of "
				 "RAM (kernel ends at 0x%llx)",
				 fmt_size(s1, len), (unsigned long long)addr_max,
				 fmt_size(s2, ram->total), (unsigned long long)kernel_end);
	start = align_down(top - len, 4096);
	if (guest_ram_write(ram, start, initrd, len))
		return boot_fail(plan, -EFAULT, "initrd: [0x%llx, +%s) is not guest RAM",
				 (unsigned long long)start, fmt_size(s1, len));
	*gpa = start;
	return 0;
}
