/* The VM core's side of the virtual PMU, as the rest of the core calls it:
 * setup (what the guest is shown, MSR claims: pmu_setup.c), the CPUID leaves
 * the vPMU owns (pmu_cpuid.c), the per-vCPU runtime (pmu_vcpu.c) and the
 * statistics API (pmu_stats.c). */
#ifndef VMM_PMU_GLUE_H
#define VMM_PMU_GLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmm;
struct vcpu;
struct kvm_cpuid2;

/* Decide the PMU mode, log it in one line, claim the MSRs. Needs
 * vm->cpuid (KVM's supported CPUID) for the vendor and vm->tsc_khz. */
int vm_pmu_setup(struct vmm *vm, char *err, size_t errlen);
/* The kernel command-line switch a Linux guest needs for the PMU it is
 * shown ("" when none). */
const char *vm_pmu_guest_cmdline(const struct vmm *vm);
/* The vPMU's step of the CPUID pipeline: patch (or hide) only the leaves
 * pmu/ declares it owns. */
int vm_pmu_patch_cpuid(struct vmm *vm, struct kvm_cpuid2 *cpuid);
/* On the vCPU thread, before its first KVM_RUN / after its last. */
int vm_pmu_vcpu_start(struct vcpu *vcpu);
void vm_pmu_vcpu_stop(struct vcpu *vcpu);
/* On the vCPU thread before dispatching every exit (@signalled false) and
 * after every signal that interrupted KVM_RUN (@signalled true); @now_ns is
 * the exit's CLOCK_MONOTONIC reading (exit_stats_clock()). */
void vm_pmu_vcpu_tick(struct vcpu *vcpu, bool signalled, uint64_t now_ns);
void vm_pmu_destroy(struct vmm *vm);

#endif
