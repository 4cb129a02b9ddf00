/* CPUID policy: KVM's supported CPUID, leaves contributed by owners (the
 * vPMU), then a host-compatibility step hiding what this host cannot run. */
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
