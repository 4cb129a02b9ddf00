/* Pieces shared by the Linux boot paths (bzImage, vmlinux ELF, PVH) and the
 * orchestration in linux.c. Not part of the VM core's interface. */
#ifndef BOOT_LINUX_INTERNAL_H
#define BOOT_LINUX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/e820.h"
#include "boot/internal.h"

/* Without a setup header (plain ELF, PVH), keep the initrd below 2 GiB: the
 * conservative initrd_addr_max every 64-bit kernel accepts. */
#define DEFAULT_INITRD_ADDR_MAX 0x7fffffffULL

/* What a kernel-format loader decided; linux.c finishes the boot from it. */
struct linux_kernel {
	enum boot_cpu_mode mode; /* LONG64: zero page in RSI; PROT32: PVH */
	uint64_t entry;		 /* guest-physical entry point */
	uint64_t end;		 /* end of the RAM the kernel needs while booting */
	const uint8_t *hdr;	 /* setup header bytes [HDR_START, ...) of a bzImage, or NULL */
	size_t hdr_len;
	uint64_t initrd_addr_max;
	uint64_t cmdline_max; /* longest cmdline (without the NUL) the kernel takes */
};

int cmdline_write(const struct guest_ram *ram, const char *cmdline, uint64_t max_len,
		  struct boot_plan *plan);

/* Copy @len bytes of @initrd (none if NULL/0: *gpa = 0) to the highest page
 * aligned address at or above @kernel_end whose end stays within both
 * @addr_max (inclusive) and the low RAM region. */
int initrd_load(const struct guest_ram *ram, const uint8_t *initrd, uint64_t len,
		uint64_t kernel_end, uint64_t addr_max, uint64_t *gpa, struct boot_plan *plan);

struct zeropage_args {
	const uint8_t *hdr; /* setup header from the bzImage, or NULL to synthesize one */
	size_t hdr_len;
	uint64_t initrd_gpa, initrd_size;
	uint64_t initrd_addr_max; /* for a synthesized header */
	uint64_t cmdline_max;	  /* for a synthesized header */
	const struct e820_entry *e820;
	unsigned int nr_e820;
};

/* Build boot_params at LAYOUT_ZERO_PAGE, cmdline assumed at LAYOUT_CMDLINE. */
int zeropage_write(const struct guest_ram *ram, const struct zeropage_args *a,
		   struct boot_plan *plan);

#endif
