/* bzImage (Linux x86 boot protocol): setup-header parsing and loading of the
 * protected-mode kernel for the 64-bit entry. */
#ifndef BOOT_BZIMAGE_H
#define BOOT_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/plan.h"

struct linux_kernel;

/* The validated facts of a bzImage's setup header. */
struct bzimage_info {
	uint16_t version;    /* boot protocol, e.g. 0x020f */
	uint64_t setup_size; /* boot sector + real-mode setup code, bytes */
	uint64_t pm_offset;  /* protected-mode code in the file: offset ... */
	uint64_t pm_size;    /* ... and size (syssize * 16) */
	uint32_t hdr_len;    /* setup header bytes from 0x1f1, copied to the zero page */
	uint8_t loadflags;
	uint16_t xloadflags;
	uint64_t initrd_addr_max; /* highest byte the initrd may occupy */
	uint32_t cmdline_size;	  /* longest cmdline, without the NUL */
	uint32_t kernel_alignment;
	bool relocatable;
	uint64_t pref_address;
	uint32_t init_size;	 /* memory the kernel needs from its run address */
	uint32_t payload_offset; /* compressed vmlinux, relative to pm_offset */
	uint32_t payload_length; /* 0: unknown (protocol < 2.08) */
};

/* True if @img starts like a bzImage ("HdrS" at 0x202). */
bool bzimage_probe(const uint8_t *img, size_t len);

/* Validate the setup header of @img. 0, or -ENOEXEC (not a usable bzImage:
 * bad magic, old protocol, no 64-bit entry) / -EINVAL (inconsistent or absurd
 * fields, truncated file) with the reason in @plan->err. */
int bzimage_parse(const uint8_t *img, size_t len, struct bzimage_info *bz, struct boot_plan *plan);

/* Choose the load address (pref_address when relocatable and it fits, else
 * LAYOUT_KERNEL), check that the kernel's boot footprint (init_size from its
 * run address) fits in low RAM, copy the protected-mode code and describe
 * the 64-bit entry (load address + 0x200) in @k. */
int bzimage_load(const uint8_t *img, const struct bzimage_info *bz, const struct guest_ram *ram,
		 struct linux_kernel *k, struct boot_plan *plan);

/* The compressed payload (a vmlinux ELF) inside @img, checked to lie within
 * the protected-mode code. */
int bzimage_payload(const uint8_t *img, const struct bzimage_info *bz, const uint8_t **payload,
		    size_t *len, struct boot_plan *plan);

#endif
