/* What the VM core keeps of the virtual PMU: the mode decided at setup, the
 * host backend, and per vCPU its vPMU, slice timer and held PMI. Shared by
 * the pmu_*.c files of the VM core only; pmu/ itself knows nothing of KVM. */
#ifndef VMM_PMU_STATE_H
#define VMM_PMU_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "libvmm.h"
#include "pmu/pmu.h"
#include "vmm/msr_router.h"

struct vm_pmu {
	bool exposed;	  /* the guest sees a PMU */
	bool kvm_has_pmu; /* KVM's own PMU could serve RDPMC (the shadow) */
	bool guest_rdmsr; /* the guest was told to read counters by RDMSR */
	struct pmu_config cfg;
	struct pmu_backend be;
	bool be_ready;
	struct pmu_backend_caps caps;
	struct vpmu *vpmu[VMM_MAX_CPUS];
	timer_t timer[VMM_MAX_CPUS];
	bool timer_ready[VMM_MAX_CPUS];
	bool pmi_held[VMM_MAX_CPUS]; /* PMI waiting for LVTPC to be unmasked */
	bool shadow_warned;
	struct pmu_stats final[VMM_MAX_CPUS];
};

/* The PMU MSR handlers (pmu_vcpu.c), claimed at setup. */
extern const struct msr_owner_ops pmu_msr_ops;

/* The policy's name as the CLI spells it. */
const char *vm_pmu_policy_name(enum pmu_policy policy);

#endif
