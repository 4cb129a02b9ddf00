/* A boot plan: what a loader decided (bytes already written into guest RAM,
 * initial registers of the boot vCPU). The VM core applies the registers.
 * Loaders are pure functions over bytes and a struct guest_ram. */
#ifndef BOOT_PLAN_H
#define BOOT_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "boot/layout.h"

enum boot_cpu_mode {
	BOOT_MODE_LONG64 = 0, /* CR0.PE|PG, CR4.PAE, EFER.LME|LMA, CS = 64-bit code */
	BOOT_MODE_PROT32,     /* CR0.PE only, flat 32-bit segments (PVH, multiboot) */
};

/* Initial state of the boot vCPU. Segment details follow from @mode and the
 * GDT that boot_write_gdt() puts at LAYOUT_GDT. */
struct boot_regs {
	enum boot_cpu_mode mode;
	uint64_t rip, rsp, rsi, rdi, rdx, rbx, rbp;
	uint64_t rax; /* multiboot's loader magic */
	uint64_t cr3; /* LONG64 only: root of the page tables in guest RAM */
	uint64_t rflags;
};

/* Error text of a failed load: one line, no newline. */
#define BOOT_ERR_MAX 160

/* Room for plan->what, e.g. "bzImage, payload xz decompressed on the host". */
#define BOOT_WHAT_MAX 64

struct boot_plan {
	struct boot_regs regs;
	uint64_t kernel_end; /* first free byte after the loaded image */
	char err[BOOT_ERR_MAX];
	/* Informational, for the VM core's log; set on success. */
	uint64_t initrd_gpa, initrd_size; /* 0 when there is no initrd */
	char what[BOOT_WHAT_MAX];	  /* how the image is booted, one line */
};

/* Write the flat GDT (null, code64, code32, data) at LAYOUT_GDT. */
int boot_write_gdt(const struct guest_ram *ram);

/* Write identity page tables for the first 4 GiB (2 MiB pages) at LAYOUT_PML4
 * and return the CR3 value through @cr3. */
int boot_write_identity_map(const struct guest_ram *ram, uint64_t *cr3);

/* Raw guest (--firmware): copy @len bytes to LAYOUT_FIRMWARE and prepare
 * 64-bit long mode. Register contract (documented in README):
 *   RIP = LAYOUT_FIRMWARE, RSP = LAYOUT_STACK_TOP, RDI = RAM size in bytes,
 *   RDX = address of the argument string (--cmdline, NUL-terminated) or 0,
 *   RSI = number of vCPUs, interrupts off, paging with the first 4 GiB
 *   identity-mapped, flat segments. */
int flat_load(const uint8_t *img, size_t len, const struct guest_ram *ram,
	      unsigned int nr_cpus, struct boot_plan *plan);

#endif
