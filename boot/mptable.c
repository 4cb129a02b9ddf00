/* MP table writer (Intel MP spec 1.4). Linux looks for the floating pointer
 * in the last KiB of base memory (639 KiB = LAYOUT_EBDA) and in the EBDA the
 * BIOS data area points at; both lead here. The whole [EBDA, 1 MiB) range is
 * reserved in the e820 map. */
#include <errno.h>
#include <string.h>

#include "boot/internal.h"
#include "boot/mptable.h"

#define MP_PROC_SIZE   20
#define MP_ENTRY_SIZE  8
#define MP_NR_ISA_IRQS 16
#define MP_ISA_BUS     0

/* BIOS data area: EBDA segment (u16) and base memory size in KiB (u16). */
#define BDA_EBDA_SEGMENT 0x40e
#define BDA_BASE_MEM_KB	 0x413

/* CPU signature family 6, and features FPU | APIC, for the processor
 * entries: Linux only reads them for display. */
#define MP_CPU_SIGNATURE  0x600
#define MP_CPU_FEATURES	  0x201
#define MP_APIC_VERSION	  0x14 /* integrated local APIC */
#define MP_IOAPIC_VERSION 0x11 /* KVM's in-kernel IO-APIC */

static uint64_t mp_nr_intsrc(void)
{
	return MP_NR_ISA_IRQS - 1; /* IRQ 2 is the cascade: not routed */
}

uint64_t mptable_size(unsigned int nr_cpus)
{
	return MPF_SIZE + MPC_HDR_SIZE + (uint64_t)nr_cpus * MP_PROC_SIZE +
	       MP_ENTRY_SIZE * (1 /* bus */ + 1 /* ioapic */ + mp_nr_intsrc() + 2 /* lint */);
}

static uint8_t mp_checksum(const uint8_t *p, uint64_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *p++);
	return (uint8_t)-sum;
}

static uint8_t *mp_intsrc(uint8_t *e, uint8_t type, uint8_t irq, uint8_t ioapic, uint8_t pin)
{
	e[0] = MP_INTSRC;
	e[1] = type;
	put_le16(e + 2, 0); /* polarity and trigger conform to the ISA bus */
	e[4] = MP_ISA_BUS;
	e[5] = irq;
	e[6] = ioapic;
	e[7] = pin;
	return e + MP_ENTRY_SIZE;
}

static uint8_t *mp_lintsrc(uint8_t *e, uint8_t type, uint8_t lint)
{
	e[0] = MP_LINTSRC;
	e[1] = type;
	put_le16(e + 2, 0);
	e[4] = MP_ISA_BUS;
	e[5] = 0;
	e[6] = 0xff; /* every local APIC */
	e[7] = lint;
	return e + MP_ENTRY_SIZE;
}

int mptable_write(const struct guest_ram *ram, unsigned int nr_cpus)
{
	uint64_t size = mptable_size(nr_cpus);
	uint8_t *mpf, *mpc, *e, *bda;
	uint8_t ioapic_id = (uint8_t)nr_cpus;

	if (nr_cpus == 0 || nr_cpus > MPTABLE_MAX_CPUS)
		return -EINVAL;
	if (LAYOUT_EBDA + size > LAYOUT_BIOS_END)
		return -E2BIG;
	mpf = guest_ram_ptr(ram, LAYOUT_EBDA, size);
	bda = guest_ram_ptr(ram, BDA_EBDA_SEGMENT, BDA_BASE_MEM_KB + 2 - BDA_EBDA_SEGMENT);
	if (!mpf || !bda)
		return -EFAULT;
	memset(mpf, 0, size);
	mpc = mpf + MPF_SIZE;

	memcpy(mpf, MPF_SIGNATURE, 4);
	put_le32(mpf + MPF_PHYSPTR, (uint32_t)(LAYOUT_EBDA + MPF_SIZE));
	mpf[MPF_LENGTH] = 1;
	mpf[MPF_SPEC_REV] = 4;
	/* Feature bytes stay 0: a configuration table is present, and no IMCR
	 * (virtual wire mode). */
	mpf[MPF_CHECKSUM] = mp_checksum(mpf, MPF_SIZE);

	memcpy(mpc, MPC_SIGNATURE, 4);
	put_le16(mpc + MPC_LENGTH, (uint16_t)(size - MPF_SIZE));
	mpc[MPC_SPEC_REV] = 4;
	memcpy(mpc + MPC_OEM_ID, "LIBVMM  ", 8);
	memcpy(mpc + MPC_PRODUCT_ID, "KVM GUEST   ", 12);
	put_le16(mpc + MPC_ENTRY_COUNT, (uint16_t)(nr_cpus + 2 + mp_nr_intsrc() + 2));
	put_le32(mpc + MPC_LAPIC_ADDR, MPTABLE_LAPIC_ADDR);

	e = mpc + MPC_HDR_SIZE;
	for (unsigned int i = 0; i < nr_cpus; i++) {
		e[0] = MP_PROCESSOR;
		e[1] = (uint8_t)i; /* LAPIC ID: KVM gives vCPU i APIC ID i */
		e[2] = MP_APIC_VERSION;
		e[3] = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BSP : 0);
		put_le32(e + 4, MP_CPU_SIGNATURE);
		put_le32(e + 8, MP_CPU_FEATURES);
		e += MP_PROC_SIZE;
	}

	e[0] = MP_BUS;
	e[1] = MP_ISA_BUS;
	memcpy(e + 2, "ISA   ", 6);
	e += MP_ENTRY_SIZE;

	e[0] = MP_IOAPIC;
	e[1] = ioapic_id;
	e[2] = MP_IOAPIC_VERSION;
	e[3] = 0x01; /* enabled */
	put_le32(e + 4, MPTABLE_IOAPIC_ADDR);
	e += MP_ENTRY_SIZE;

	/* ISA IRQ n on IO-APIC pin n, except the PIT's IRQ 0 which a PC wires
	 * to pin 2 (the VM core's GSI routing must match: GSI 0 -> pin 2, as
	 * QEMU does); IRQ 2 is the 8259 cascade and is not routed. */
	for (uint8_t irq = 0; irq < MP_NR_ISA_IRQS; irq++) {
		if (irq == 2)
			continue;
		e = mp_intsrc(e, MP_INT_INT, irq, ioapic_id, irq == 0 ? MPTABLE_IRQ0_PIN : irq);
	}

	e = mp_lintsrc(e, MP_INT_EXTINT, 0);
	e = mp_lintsrc(e, MP_INT_NMI, 1);

	mpc[MPC_CHECKSUM] = mp_checksum(mpc, size - MPF_SIZE);

	put_le16(bda + 0, (uint16_t)(LAYOUT_EBDA >> 4));
	put_le16(bda + (BDA_BASE_MEM_KB - BDA_EBDA_SEGMENT), (uint16_t)(LAYOUT_EBDA / KiB));
	return 0;
}
