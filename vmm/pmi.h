/* How a PMI reaches the guest, decided from its LAPIC LVT performance
 * counter entry (LVTPC) alone: pure, so the rules are unit-tested. */
#ifndef VMM_PMI_H
#define VMM_PMI_H

#include <stdbool.h>
#include <stdint.h>

#define APIC_LVTPC 0x340
#define LVT_MASKED (1u << 16)
#define LVT_DELIVERY_MASK (7u << 8)
#define LVT_DELIVERY_FIXED (0u << 8)
#define LVT_DELIVERY_NMI (4u << 8)

enum pmi_route {
	PMI_HOLD = 0, /* LVTPC masked: keep it pending until unmasked */
	PMI_NMI,      /* delivery mode NMI */
	PMI_VECTOR,   /* delivery mode fixed, to @vector */
	PMI_DROP,     /* a mode or vector the LAPIC would refuse: nothing arrives */
};

struct pmi_decision {
	enum pmi_route route;
	uint8_t vector;
	bool set_mask;	  /* write @new_lvtpc before delivering */
	uint32_t new_lvtpc;
};

/* @masks_on_delivery: Intel sets LVTPC.mask when it delivers a PMI (SDM
 * Vol. 3B, "Generating an Interrupt on Overflow"); AMD does not. */
struct pmi_decision pmi_decide(uint32_t lvtpc, bool masks_on_delivery);

#endif
