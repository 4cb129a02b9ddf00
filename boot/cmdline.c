/* The kernel command line: checked against the kernel's limit and copied to
 * LAYOUT_CMDLINE, NUL-terminated. */
#include <errno.h>
#include <string.h>

#include "boot/linux_internal.h"

int cmdline_write(const struct guest_ram *ram, const char *cmdline, uint64_t max_len,
		  struct boot_plan *plan)
{
	size_t len;

	if (!cmdline)
		cmdline = "";
	if (max_len > LAYOUT_CMDLINE_MAX - 1)
		max_len = LAYOUT_CMDLINE_MAX - 1;
	/* strnlen: never scan past what we could accept anyway. */
	len = strnlen(cmdline, (size_t)max_len + 1);
	if (len > max_len)
		return boot_fail(
		    plan, -E2BIG,
		    "cmdline too long (%zu bytes or more; the kernel accepts at most %llu)", len,
		    (unsigned long long)max_len);
	if (guest_ram_write(ram, LAYOUT_CMDLINE, cmdline, len) ||
	    guest_ram_fill(ram, LAYOUT_CMDLINE + len, 0, 1))
		return boot_fail(plan, -ENOMEM, "guest RAM too small for the cmdline at 0x%llx",
				 (unsigned long long)LAYOUT_CMDLINE);
	return 0;
}
