/* Raw guests (--firmware): a flat binary copied to LAYOUT_FIRMWARE and
 * entered in 64-bit long mode. The register contract is in plan.h. */
#include <errno.h>
#include <string.h>

#include "boot/internal.h"

int flat_load(const uint8_t *img, size_t len, const struct guest_ram *ram, unsigned int nr_cpus,
	      struct boot_plan *plan)
{
	int err;

	memset(plan, 0, sizeof(*plan));
	if (!img || len == 0)
		return boot_fail(plan, -EINVAL, "firmware: empty image");
	if (nr_cpus == 0)
		return boot_fail(plan, -EINVAL, "firmware: need at least one vCPU");
	if (guest_ram_write(ram, LAYOUT_FIRMWARE, img, len))
		return boot_fail(
		    plan, -ENOMEM,
		    "firmware (%zu bytes) does not fit in guest RAM (%llu KiB) at 0x%llx", len,
		    (unsigned long long)(ram->total / KiB), (unsigned long long)LAYOUT_FIRMWARE);
	err = boot_setup_long_mode(ram, plan);
	if (err)
		return err;
	plan->regs.rip = LAYOUT_FIRMWARE;
	plan->regs.rsp = LAYOUT_STACK_TOP;
	plan->regs.rdi = ram->total;
	plan->regs.rsi = nr_cpus;
	plan->kernel_end = LAYOUT_FIRMWARE + len;
	return 0;
}
