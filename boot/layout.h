/* Guest physical memory layout shared by the loaders and the VM core:
 * where RAM lives around the PCI hole, and the fixed addresses of the
 * structures the VMM builds for the guest. Pure; no KVM. */
#ifndef BOOT_LAYOUT_H
#define BOOT_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RAM above this address is moved to 4 GiB so that [3 GiB, 4 GiB) stays free
 * for MMIO (the "PCI hole"), as on a PC. */
#define LAYOUT_LOWMEM_END 0xC0000000ULL
#define LAYOUT_HIGHMEM_START 0x100000000ULL
#define LAYOUT_MMIO_START LAYOUT_LOWMEM_END
#define LAYOUT_MMIO_END LAYOUT_HIGHMEM_START

/* Fixed low-memory structures (below 1 MiB, away from the BIOS areas). */
#define LAYOUT_GDT 0x500ULL		/* 4 descriptors */
#define LAYOUT_GDT_ENTRIES 4
#define LAYOUT_ZERO_PAGE 0x7000ULL	/* Linux boot_params / PVH start_info */
#define LAYOUT_PML4 0x9000ULL		/* 6 pages: PML4, PDPT, 4 PDs (identity map of 4 GiB) */
#define LAYOUT_PAGETABLE_END 0xF000ULL
#define LAYOUT_CMDLINE 0x20000ULL	/* kernel command line, up to LAYOUT_CMDLINE_MAX */
#define LAYOUT_CMDLINE_MAX 0x10000ULL
#define LAYOUT_STACK_TOP 0x80000ULL	/* initial stack of raw guests, grows down */
#define LAYOUT_EBDA 0x9FC00ULL		/* MP floating pointer and table live here */
#define LAYOUT_FIRMWARE 0x100000ULL	/* raw (--firmware) images load and start here */
#define LAYOUT_KERNEL 0x100000ULL	/* protected-mode kernel (bzImage payload) */

/* Legacy BIOS area [EBDA, 1 MiB): never RAM in the e820 map. */
#define LAYOUT_BIOS_END 0x100000ULL

/* Largest RAM size layout_split_ram() accepts (1 TiB): keeps every
 * gpa + size computation far from overflow. */
#define LAYOUT_RAM_MAX (1ULL << 40)

/* GDT selectors used by every 64-bit and 32-bit entry. */
#define LAYOUT_SEL_CODE64 0x08
#define LAYOUT_SEL_CODE32 0x10
#define LAYOUT_SEL_DATA 0x18

/* One slot of guest RAM as the host sees it. */
struct guest_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host; /* NULL until the VM core maps it */
};

/* Guest RAM: at most two regions, below the PCI hole and above 4 GiB. */
struct guest_ram {
	struct guest_region region[2];
	unsigned int nr_regions;
	uint64_t total; /* bytes of RAM in all regions */
	/* The hosts are private anonymous mappings: pages dropped with
	 * MADV_DONTNEED read back as zeros, so zero fills need not touch them. */
	bool private_anon;
};

/* Split @size bytes of RAM into regions around the PCI hole; hosts stay NULL.
 * Returns 0 or -EINVAL for a size of 0, one not a multiple of 4 KiB, or one
 * above LAYOUT_RAM_MAX. */
int layout_split_ram(uint64_t size, struct guest_ram *ram);

/* Host pointer for [gpa, gpa+len) if it lies inside one RAM region, else NULL.
 * Never crosses regions, never overflows. A zero @len is allowed anywhere in
 * [region start, region end]. */
void *guest_ram_ptr(const struct guest_ram *ram, uint64_t gpa, uint64_t len);

/* Copy @len bytes to guest RAM at @gpa; -EFAULT if that range is not RAM. */
int guest_ram_write(const struct guest_ram *ram, uint64_t gpa, const void *src, uint64_t len);

/* Fill [gpa, gpa+len) of guest RAM with byte @c; -EFAULT if not RAM. Over
 * private anonymous RAM the whole pages of a zero fill are dropped rather
 * than written: a loaded image's bss commits no host memory until the guest
 * touches it. */
int guest_ram_fill(const struct guest_ram *ram, uint64_t gpa, int c, uint64_t len);

/* End of the RAM region that contains @gpa (exclusive), or 0 if @gpa is not
 * in RAM. Loaders use it to find the top of low memory. */
uint64_t guest_ram_region_end(const struct guest_ram *ram, uint64_t gpa);

#endif
