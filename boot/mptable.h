/* Intel MultiProcessor Specification 1.4 tables: how a guest without ACPI
 * learns its CPUs, its IO-APIC and the ISA interrupt routing. */
#ifndef BOOT_MPTABLE_H
#define BOOT_MPTABLE_H

#include <stdint.h>

#include "boot/layout.h"

/* LAPIC IDs 0..N-1 plus the IO-APIC at ID N must fit the 8-bit IDs, with
 * 0xff left for "all". */
#define MPTABLE_MAX_CPUS 254

#define MPTABLE_LAPIC_ADDR  0xfee00000U
#define MPTABLE_IOAPIC_ADDR 0xfec00000U
/* IO-APIC pin of ISA IRQ 0 (the PIT), as on a PC; the VM core's KVM GSI
 * routing must send GSI 0 there. Other ISA IRQs n use pin n. */
#define MPTABLE_IRQ0_PIN 2

/* Floating pointer structure (16 bytes). */
#define MPF_SIGNATURE "_MP_"
#define MPF_SIZE      16
#define MPF_PHYSPTR   4 /* u32: configuration table address */
#define MPF_LENGTH    8 /* u8: length in 16-byte units (1) */
#define MPF_SPEC_REV  9 /* u8: 4 for spec 1.4 */
#define MPF_CHECKSUM  10

/* Configuration table header (44 bytes). */
#define MPC_SIGNATURE	"PCMP"
#define MPC_HDR_SIZE	44
#define MPC_LENGTH	4  /* u16: base table length, header included */
#define MPC_SPEC_REV	6  /* u8 */
#define MPC_CHECKSUM	7  /* u8 */
#define MPC_OEM_ID	8  /* 8 chars */
#define MPC_PRODUCT_ID	16 /* 12 chars */
#define MPC_ENTRY_COUNT 34 /* u16 */
#define MPC_LAPIC_ADDR	36 /* u32 */

/* Entry types and sizes. */
#define MP_PROCESSOR 0 /* 20 bytes */
#define MP_BUS	     1 /* 8 bytes */
#define MP_IOAPIC    2 /* 8 bytes */
#define MP_INTSRC    3 /* 8 bytes: IO interrupt assignment */
#define MP_LINTSRC   4 /* 8 bytes: local interrupt assignment */

#define MP_CPU_ENABLED 0x01
#define MP_CPU_BSP     0x02
#define MP_INT_INT     0
#define MP_INT_NMI     1
#define MP_INT_EXTINT  3

/* Bytes mptable_write() uses for @nr_cpus. */
uint64_t mptable_size(unsigned int nr_cpus);

/* Write the floating pointer at LAYOUT_EBDA followed by the configuration
 * table: @nr_cpus processors (LAPIC IDs 0..N-1, 0 is the BSP), one ISA bus,
 * the IO-APIC (ID N) at MPTABLE_IOAPIC_ADDR, ISA IRQs routed to IO-APIC pins
 * (IRQ 0 on pin 2), LINT0 ExtINT and LINT1 NMI. Also points the BIOS data
 * area's EBDA segment at it. 0, -EINVAL (nr_cpus) or -EFAULT (not RAM). */
int mptable_write(const struct guest_ram *ram, unsigned int nr_cpus);

#endif
