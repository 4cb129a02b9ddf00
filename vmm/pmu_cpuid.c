/* The vPMU's step of the CPUID pipeline: copy the leaves pmu/ declares it
 * owns out of KVM's structure, let pmu/ patch (or hide) them, copy them
 * back. No other leaf is touched here, so each leaf keeps one owner. */
#include <errno.h>
#include <string.h>
#include <linux/kvm.h>

#include "vmm/cpuid.h"
#include "vmm/pmu_glue.h"
#include "vmm/pmu_state.h"
#include "vmm/vm.h"

#define PMU_MAX_CPUID 16

int vm_pmu_patch_cpuid(struct vmm *vm, struct kvm_cpuid2 *cpuid)
{
	struct pmu_cpuid_entry e[PMU_MAX_CPUID];
	struct vm_pmu *p = vm->pmu;
	int n = 0, ret;

	for (unsigned int i = 0; i < pmu_cpuid_nr_leaves && n < PMU_MAX_CPUID; i++) {
		struct kvm_cpuid_entry2 *k = cpuid_find(cpuid, pmu_cpuid_leaves[i], 0);

		if (k != NULL)
			e[n++] = (struct pmu_cpuid_entry){k->function, k->index, k->eax,
							  k->ebx,      k->ecx,	 k->edx};
	}
	if (p != NULL && p->exposed)
		ret = pmu_cpuid_patch(&p->cfg, &p->caps, e, n, PMU_MAX_CPUID);
	else
		ret = pmu_cpuid_hide(e, n);
	if (ret < 0)
		return ret;
	for (int i = 0; i < ret; i++) {
		struct kvm_cpuid_entry2 *k = cpuid_get(cpuid, e[i].function, e[i].index);

		if (k == NULL)
			return -ENOSPC;
		k->eax = e[i].eax;
		k->ebx = e[i].ebx;
		k->ecx = e[i].ecx;
		k->edx = e[i].edx;
	}
	return 0;
}
