/* The guest's CPUID, built as one pipeline with one owner per leaf:
 *   KVM's supported CPUID (cpuid_get_supported)
 *   -> the VM core's identity: hypervisor bit, KVM's paravirt leaves, TSC
 *      frequency (cpuid_set_vm_identity)
 *   -> each owner patches only the leaves it declares (the vPMU: leaf 1's
 *      PDCM, 0xa, 0x80000001, 0x80000022)
 *   -> the host-compatibility step hides what this host cannot run
 *   -> a per-vCPU copy with its topology (cpuid_set_vcpu_identity). */
#ifndef VMM_CPUID_H
#define VMM_CPUID_H

#include <stdbool.h>
#include <stdint.h>

struct kvm_cpuid2;

/* The kinds of host the compatibility step knows. */
enum host_kind {
	HOST_KIND_HARDWARE = 0, /* hardware-assisted KVM (kvm_intel, kvm_amd) */
	HOST_KIND_EMULATED,	/* software-assisted KVM (kvm_pvm): CPL0 code is emulated */
};

/* Which KVM module serves /dev/kvm, from the loaded modules under @sysfs
 * (normally "/sys/module"): kvm_pvm without kvm_intel/kvm_amd means an
 * emulated host. */
enum host_kind cpuid_detect_host(const char *sysfs_module_dir);

/* Room for leaves in the struct cpuid_get_supported() allocates. */
#define CPUID_MAX_ENTRIES 256

/* KVM_GET_SUPPORTED_CPUID into a malloc'd struct of CPUID_MAX_ENTRIES
 * entries (free() it). */
int cpuid_get_supported(int kvm_fd, struct kvm_cpuid2 **out);

/* Find leaf @function/@index, or NULL. */
struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t function, uint32_t index);

/* Find leaf @function/@index, or append it zeroed (NULL when full); the
 * maximum leaf of its range (0, 0x40000000, 0x80000000) is raised to it. */
struct kvm_cpuid_entry2 *cpuid_get(struct kvm_cpuid2 *c, uint32_t function, uint32_t index);

/* The hypervisor's signature leaf and the TSC frequency leaf. */
#define CPUID_HV_SIGNATURE 0x40000000u
#define CPUID_HV_TSC_FREQ 0x40000010u

/* The VM core's identity leaves: CPUID.1:ECX[31] (running under a
 * hypervisor, which is how a guest finds KVM's paravirt leaves and
 * kvm-clock), KVM's signature at 0x40000000 with its features at
 * 0x40000001, and where @tsc_khz is known the TSC and LAPIC bus frequencies
 * at 0x40000010 (kHz). Returns 0 or -ENOSPC. */
int cpuid_set_vm_identity(struct kvm_cpuid2 *c, uint32_t tsc_khz);

/* Hide what an emulated host cannot execute in guest kernel mode: XSAVE and
 * its family (XRSTORS fails to emulate), POPCNT, SMAP (CLAC), RDRAND,
 * RDSEED, RDPID, FSGSBASE, RDTSCP, PCID, INVPCID, 3DNowPrefetch, AVX*.
 * Pure; a no-op for HOST_KIND_HARDWARE. Returns the number of bits cleared. */
int cpuid_apply_host_compat(struct kvm_cpuid2 *c, enum host_kind kind);

/* Per-vCPU identity: initial APIC ID in leaf 1, x2APIC ID in leaves 0xB/0x1F,
 * logical processor count in leaf 1 EBX[23:16]. Pure. */
void cpuid_set_vcpu_identity(struct kvm_cpuid2 *c, unsigned int vcpu_id, unsigned int nr_cpus);

/* Host CPU vendor from leaf 0: true for AuthenticAMD/HygonGenuine. */
bool cpuid_is_amd(struct kvm_cpuid2 *c);

#endif
