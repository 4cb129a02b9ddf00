/* Multiboot (version 1) kernels: the header a kernel carries in its first
 * 8 KiB, and the loader that places the kernel, its modules and the
 * information structure in guest RAM and enters it in 32-bit protected mode.
 * Pure over bytes and a struct guest_ram; no KVM. */
#ifndef BOOT_MULTIBOOT_H
#define BOOT_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/plan.h"

#define MULTIBOOT_HEADER_MAGIC	 0x1BADB002u
#define MULTIBOOT_LOADER_MAGIC	 0x2BADB002u /* EAX at entry */
#define MULTIBOOT_SEARCH	 8192u	     /* the header lies in the first 8 KiB */
#define MULTIBOOT_MAX_MODULES	 16
#define MULTIBOOT_HDR_PAGE_ALIGN (1u << 0)  /* modules on 4 KiB boundaries */
#define MULTIBOOT_HDR_MEMINFO	 (1u << 1)  /* wants mem_* and the memory map */
#define MULTIBOOT_HDR_VIDEO	 (1u << 2)  /* wants a video mode: not offered */
#define MULTIBOOT_HDR_AOUT	 (1u << 16) /* load by the header's address fields */

/* Flags of the information structure that the loader sets. */
#define MULTIBOOT_INFO_MEMORY  (1u << 0)
#define MULTIBOOT_INFO_CMDLINE (1u << 2)
#define MULTIBOOT_INFO_MODS    (1u << 3)
#define MULTIBOOT_INFO_MMAP    (1u << 6)
#define MULTIBOOT_INFO_LOADER  (1u << 9)

/* Byte offsets in the information structure (the spec's layout). */
#define MBI_FLAGS	0
#define MBI_MEM_LOWER	4
#define MBI_MEM_UPPER	8
#define MBI_CMDLINE	16
#define MBI_MODS_COUNT	20
#define MBI_MODS_ADDR	24
#define MBI_MMAP_LENGTH 44
#define MBI_MMAP_ADDR	48
#define MBI_LOADER_NAME 64
#define MBI_SIZE	88
#define MBI_MOD_SIZE	16 /* start, end, string, reserved */
#define MBI_MMAP_SIZE	24 /* size (20, not counting itself), base, length, type */

struct multiboot_module {
	const uint8_t *data;
	size_t len;
	const char *string; /* NULL: empty */
};

struct multiboot_args {
	const uint8_t *kernel;
	size_t kernel_len;
	/* The command line the kernel sees is "name args", as boot loaders
	 * pass it: the kernel's file name first. Either may be NULL. */
	const char *name;
	const char *cmdline;
	const struct multiboot_module *mods;
	unsigned int nr_mods; /* 0..MULTIBOOT_MAX_MODULES */
	unsigned int nr_cpus; /* for the MP table; 1..MPTABLE_MAX_CPUS */
};

/* Offset of a valid multiboot header (magic and checksum) in the first
 * MULTIBOOT_SEARCH bytes of @img, or -1. */
long multiboot_find_header(const uint8_t *img, size_t len);

/* Does @img look like a multiboot kernel (the header magic at a 4-byte
 * boundary in its first MULTIBOOT_SEARCH bytes, checksum unchecked)? The
 * loader then says what is wrong with it. */
bool multiboot_probe(const uint8_t *img, size_t len);

/* Load a multiboot kernel: ELF32/ELF64 program headers by physical address,
 * or the a.out-kludge address fields when the header says so; then, page
 * aligned above the kernel, the modules, and the information structure
 * (memory sizes, e820 memory map, command line, modules, loader name), and
 * the MP table. Fills @plan: BOOT_MODE_PROT32 with paging off, RIP = entry,
 * RAX = MULTIBOOT_LOADER_MAGIC, RBX = the information structure.
 * Returns 0 or a negative errno with a one-line reason in plan->err. */
int boot_load_multiboot(const struct multiboot_args *a, const struct guest_ram *ram,
			struct boot_plan *plan);

#endif
