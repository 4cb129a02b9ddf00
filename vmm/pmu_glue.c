/* Placeholder VM side of the vPMU until pmu/ is wired in: the PMU is hidden
 * from the guest and that is said at start-up. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/kvm.h>

#include "vmm/pmu_glue.h"
#include "vmm/vm.h"

int vm_pmu_setup(struct vmm *vm, char *err, size_t errlen)
{
	vm_log(vm, VMM_LOG_INFO, "pmu: off (this build has no virtual PMU)");
	return 0;
}

int vm_pmu_patch_cpuid(struct vmm *vm, struct kvm_cpuid2 *cpuid)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(cpuid, 0xa, 0);

	if (e != NULL)
		e->eax = e->ebx = e->ecx = e->edx = 0;
	return 0;
}

int vm_pmu_vcpu_start(struct vcpu *vcpu)
{
	return 0;
}

void vm_pmu_vcpu_stop(struct vcpu *vcpu)
{
}

void vm_pmu_vcpu_tick(struct vcpu *vcpu)
{
}

void vm_pmu_destroy(struct vmm *vm)
{
}

int vmm_get_pmu_stats(const struct vmm *vm, struct vmm_pmu_stats *st)
{
	memset(st, 0, sizeof(*st));
	return 0;
}

int vmm_format_pmu_stats(const struct vmm *vm, bool json, char *buf, size_t len)
{
	int n = snprintf(buf, len, json ? "{\"pmu\":\"off\"}\n" : "pmu: off\n");

	return n < (int)len ? n : -ENOSPC;
}
