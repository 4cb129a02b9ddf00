/* The entry point the VM core calls to boot a Linux kernel image: detects a
 * bzImage or a vmlinux ELF and writes everything the guest needs into RAM. */
#ifndef BOOT_LINUX_H
#define BOOT_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/plan.h"

struct linux_boot_args {
	const uint8_t *kernel; /* bzImage or vmlinux ELF bytes */
	size_t kernel_len;
	const uint8_t *initrd; /* NULL (with initrd_len 0) for none */
	size_t initrd_len;
	const char *cmdline;  /* NULL means empty */
	unsigned int nr_cpus; /* 1..MPTABLE_MAX_CPUS */
	/* bzImage: decompress the payload on the host and enter the vmlinux
	 * inside at its 64-bit entry, so the guest skips its decompressor. */
	bool host_decompress;
	/* ELF: enter at the 64-bit entry with a zero page even when the image
	 * has a PVH note (default: PVH when available). */
	bool no_pvh;
};

/* Load a Linux kernel (and initrd, cmdline, MP table for nr_cpus) into the
 * mapped guest RAM and fill @plan with the boot vCPU's registers:
 *   bzImage: BOOT_MODE_LONG64, RIP = load address + 0x200, RSI = zero page;
 *   bzImage + host_decompress, ELF without PVH note (or no_pvh):
 *            BOOT_MODE_LONG64, RIP = vmlinux e_entry, RSI = zero page;
 *   ELF with PVH note: BOOT_MODE_PROT32, RIP = PVH entry, RBX = start_info.
 * Long-mode entries use the identity map (CR3 set) and the GDT at
 * LAYOUT_GDT; 32-bit entries use the GDT's CODE32/DATA selectors.
 * Returns 0 or a negative errno with a one-line reason in plan->err:
 * -ENOEXEC (not a kernel this loader knows), -EINVAL (malformed image or
 * arguments), -E2BIG (cmdline too long, payload over the cap), -ENOMEM (RAM
 * too small for kernel or initrd), -ENOTSUP (decompressor not built). */
int boot_load_linux(const struct linux_boot_args *a, const struct guest_ram *ram,
		    struct boot_plan *plan);

#endif
