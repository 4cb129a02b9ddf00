/* PMI routing through the guest's LVTPC entry. */
#include "vmm/pmi.h"

struct pmi_decision pmi_decide(uint32_t lvtpc, bool masks_on_delivery)
{
	struct pmi_decision d = {.route = PMI_HOLD, .new_lvtpc = lvtpc};
	uint32_t mode = lvtpc & LVT_DELIVERY_MASK;

	if (lvtpc & LVT_MASKED)
		return d;
	if (mode == LVT_DELIVERY_NMI) {
		d.route = PMI_NMI;
	} else if (mode == LVT_DELIVERY_FIXED && (lvtpc & 0xff) >= 16) {
		d.route = PMI_VECTOR;
		d.vector = lvtpc & 0xff;
	} else {
		/* Vectors 0-15 are illegal for fixed delivery; SMI, INIT and
		 * ExtINT make no sense for a counter: the LAPIC drops them. */
		d.route = PMI_DROP;
		return d;
	}
	if (masks_on_delivery) {
		d.set_mask = true;
		d.new_lvtpc = lvtpc | LVT_MASKED;
	}
	return d;
}
