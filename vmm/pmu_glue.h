/* The VM core's side of the virtual PMU: decides what the guest sees
 * (--pmu off|on|force), claims the PMU MSRs, contributes CPUID leaves, and
 * runs one vPMU per vCPU on that vCPU's thread. */
#ifndef VMM_PMU_GLUE_H
#define VMM_PMU_GLUE_H

#include <stdbool.h>
#include <stddef.h>

struct vmm;
struct vcpu;
struct kvm_cpuid2;

/* Decide the PMU mode, log it in one line, claim the MSRs. Needs
 * vm->cpuid (KVM's supported CPUID) for the vendor. */
int vm_pmu_setup(struct vmm *vm, char *err, size_t errlen);
/* Add or hide the PMU leaves in the VM's CPUID. */
int vm_pmu_patch_cpuid(struct vmm *vm, struct kvm_cpuid2 *cpuid);
/* On the vCPU thread, before its first KVM_RUN / after its last. */
int vm_pmu_vcpu_start(struct vcpu *vcpu);
void vm_pmu_vcpu_stop(struct vcpu *vcpu);
/* On the vCPU thread before dispatching every exit (@signalled false) and
 * after every signal that interrupted KVM_RUN (@signalled true). */
void vm_pmu_vcpu_tick(struct vcpu *vcpu, bool signalled);
void vm_pmu_destroy(struct vmm *vm);

#endif
