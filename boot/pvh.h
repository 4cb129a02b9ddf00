/* PVH boot (Xen's direct-boot ABI, also used by KVM VMMs): the hvm_start_info
 * block a kernel's 32-bit PVH entry receives in EBX. */
#ifndef BOOT_PVH_H
#define BOOT_PVH_H

#include <stdint.h>

#include "boot/e820.h"
#include "boot/plan.h"

#define PVH_START_MAGIC	  0x336ec578U
#define PVH_START_VERSION 1 /* version 1 carries the memory map */

/* Layout inside the page at LAYOUT_ZERO_PAGE. */
#define PVH_START_INFO LAYOUT_ZERO_PAGE
#define PVH_MODLIST    (LAYOUT_ZERO_PAGE + 0x40)
#define PVH_MEMMAP     (LAYOUT_ZERO_PAGE + 0x80)
#define PVH_MEMMAP_MAX ((0x1000 - 0x80) / 24)

/* Offsets in struct hvm_start_info (56 bytes). */
#define PVH_SI_MAGIC	      0x00 /* u32 */
#define PVH_SI_VERSION	      0x04 /* u32 */
#define PVH_SI_FLAGS	      0x08 /* u32 */
#define PVH_SI_NR_MODULES     0x0c /* u32 */
#define PVH_SI_MODLIST_PADDR  0x10 /* u64: array of hvm_modlist_entry */
#define PVH_SI_CMDLINE_PADDR  0x18 /* u64 */
#define PVH_SI_RSDP_PADDR     0x20 /* u64: ACPI RSDP, 0 = none */
#define PVH_SI_MEMMAP_PADDR   0x28 /* u64: array of hvm_memmap_table_entry */
#define PVH_SI_MEMMAP_ENTRIES 0x30 /* u32 */
#define PVH_SI_SIZE	      0x38
/* hvm_modlist_entry (32 bytes): u64 paddr, size, cmdline_paddr, reserved. */
#define PVH_MOD_SIZE 32
/* hvm_memmap_table_entry (24 bytes): u64 addr, size; u32 type, reserved.
 * Types match e820's (1 RAM, 2 reserved). */
#define PVH_MEMMAP_ENTRY_SIZE 24

/* Write start_info, the initrd module (if @initrd_size) and the memory map
 * at LAYOUT_ZERO_PAGE; the cmdline is at LAYOUT_CMDLINE. */
int pvh_write_start_info(const struct guest_ram *ram, uint64_t initrd_gpa, uint64_t initrd_size,
			 const struct e820_entry *e820, unsigned int nr_e820,
			 struct boot_plan *plan);

#endif
