/* vmlinux (ELF64 x86_64) loader: PT_LOAD segments at their physical
 * addresses, and the entry points a Linux kernel ELF offers (its 64-bit
 * startup_64 at e_entry, and the 32-bit PVH entry from the Xen note). */
#ifndef BOOT_ELF64_H
#define BOOT_ELF64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/plan.h"

/* Xen ELF note type carrying the 32-bit physical PVH entry point. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

struct elf_kernel {
	bool has_entry64;
	uint64_t entry64; /* e_entry as a physical address */
	bool has_pvh;
	uint64_t pvh_entry; /* from the Xen PHYS32_ENTRY note, < 4 GiB */
	uint64_t start;	    /* lowest p_paddr of the PT_LOAD segments */
	uint64_t end;	    /* end of the highest PT_LOAD segment (BSS included) */
};

/* True if @img starts with the ELF magic. */
bool elf_probe(const uint8_t *img, size_t len);

/* Validate every header, segment and note of @img first, then copy the
 * PT_LOAD segments to their p_paddr and zero their BSS. Segments must lie
 * in guest RAM at or above LAYOUT_KERNEL. -ENOEXEC (not an x86_64 ELF
 * executable), -EINVAL (malformed), -ENOMEM (does not fit in RAM). */
int elf_load(const uint8_t *img, size_t len, const struct guest_ram *ram, struct elf_kernel *k,
	     struct boot_plan *plan);

#endif
