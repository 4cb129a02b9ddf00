/* The steps of the guest CPUID pipeline that the VM core owns (see
 * cpuid.h): KVM's supported CPUID, the identity leaves, the host-
 * compatibility rule (README.md, "CPUID"; --cpuid-compat overrides the
 * detection) and the per-vCPU topology. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "vmm/cpuid.h"

static bool module_loaded(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

enum host_kind cpuid_detect_host(const char *sysfs_module_dir)
{
	if (module_loaded(sysfs_module_dir, "kvm_pvm") &&
	    !module_loaded(sysfs_module_dir, "kvm_intel") &&
	    !module_loaded(sysfs_module_dir, "kvm_amd"))
		return HOST_KIND_EMULATED;
	return HOST_KIND_HARDWARE;
}

int cpuid_get_supported(int kvm_fd, struct kvm_cpuid2 **out)
{
	size_t sz = sizeof(struct kvm_cpuid2) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = calloc(1, sz);

	if (c == NULL)
		return -ENOMEM;
	c->nent = CPUID_MAX_ENTRIES;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		int err = -errno;

		free(c);
		return err;
	}
	*out = c;
	return 0;
}

struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function != function)
			continue;
		if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && e->index != index)
			continue;
		return e;
	}
	return NULL;
}

static uint32_t range_base(uint32_t function)
{
	return function & 0xffff0000u;
}

struct kvm_cpuid_entry2 *cpuid_get(struct kvm_cpuid2 *c, uint32_t function, uint32_t index)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(c, function, index), *max;

	if (e == NULL) {
		if (c->nent >= CPUID_MAX_ENTRIES)
			return NULL;
		e = &c->entries[c->nent++];
		memset(e, 0, sizeof(*e));
		e->function = function;
		e->index = index;
		if (index != 0)
			e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	}
	max = cpuid_find(c, range_base(function), 0);
	if (max != NULL && max != e && max->eax < function)
		max->eax = function;
	return e;
}

#define CPUID_1_ECX_HYPERVISOR (1u << 31)
/* "KVMKVMKVM\0\0\0" as EBX, ECX, EDX. */
#define KVM_SIG_EBX 0x4b4d564bu
#define KVM_SIG_ECX 0x564b4d56u
#define KVM_SIG_EDX 0x0000004du
/* KVM's LAPIC timer runs at 1 GHz whatever the host. */
#define KVM_APIC_BUS_KHZ 1000000u

int cpuid_set_vm_identity(struct kvm_cpuid2 *c, uint32_t tsc_khz)
{
	struct kvm_cpuid_entry2 *e;

	if ((e = cpuid_get(c, 1, 0)) == NULL)
		return -ENOSPC;
	e->ecx |= CPUID_1_ECX_HYPERVISOR;
	/* KVM lists its signature and features itself; a KVM that did not
	 * would still be KVM. */
	if ((e = cpuid_get(c, CPUID_HV_SIGNATURE, 0)) == NULL)
		return -ENOSPC;
	e->ebx = KVM_SIG_EBX;
	e->ecx = KVM_SIG_ECX;
	e->edx = KVM_SIG_EDX;
	if (tsc_khz == 0)
		return 0;
	if ((e = cpuid_get(c, CPUID_HV_TSC_FREQ, 0)) == NULL)
		return -ENOSPC;
	e->eax = tsc_khz;
	e->ebx = KVM_APIC_BUS_KHZ;
	e->ecx = e->edx = 0;
	return 0;
}

/* One feature bit the emulated host cannot run. */
struct compat_bit {
	uint32_t function, index;
	uint8_t reg; /* 0 eax, 1 ebx, 2 ecx, 3 edx */
	uint8_t bit;
};

static const struct compat_bit emulated_host_hidden[] = {
	{1, 0, 2, 26},		/* XSAVE: XRSTORS/XRSTOR not emulated */
	{1, 0, 2, 27},		/* OSXSAVE */
	{1, 0, 2, 28},		/* AVX needs XSAVE */
	{1, 0, 2, 12},		/* FMA (VEX, needs XSAVE) */
	{1, 0, 2, 29},		/* F16C */
	{1, 0, 2, 23},		/* POPCNT */
	{1, 0, 2, 30},		/* RDRAND */
	{1, 0, 2, 17},		/* PCID */
	{7, 0, 1, 0},		/* FSGSBASE */
	{7, 0, 1, 5},		/* AVX2 */
	{7, 0, 1, 10},		/* INVPCID */
	{7, 0, 1, 16},		/* AVX512F */
	{7, 0, 1, 18},		/* RDSEED */
	{7, 0, 1, 20},		/* SMAP: CLAC/STAC */
	{7, 0, 2, 22},		/* RDPID */
	{0xd, 1, 0, 3},		/* XSAVES */
	{0x80000001, 0, 3, 27}, /* RDTSCP */
	{0x80000001, 0, 2, 8},	/* 3DNowPrefetch */
};

static uint32_t *entry_reg(struct kvm_cpuid_entry2 *e, unsigned int reg)
{
	switch (reg) {
	case 0:
		return &e->eax;
	case 1:
		return &e->ebx;
	case 2:
		return &e->ecx;
	default:
		return &e->edx;
	}
}

int cpuid_apply_host_compat(struct kvm_cpuid2 *c, enum host_kind kind)
{
	int cleared = 0;

	if (kind != HOST_KIND_EMULATED)
		return 0;
	for (size_t i = 0; i < sizeof(emulated_host_hidden) / sizeof(emulated_host_hidden[0]); i++) {
		const struct compat_bit *b = &emulated_host_hidden[i];
		struct kvm_cpuid_entry2 *e = cpuid_find(c, b->function, b->index);
		uint32_t *r;

		if (e == NULL)
			continue;
		r = entry_reg(e, b->reg);
		if (*r & (1u << b->bit)) {
			*r &= ~(1u << b->bit);
			cleared++;
		}
	}
	/* Without XSAVE the XSAVE state leaves must not advertise anything. */
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 0xd)
			e->eax = e->ebx = e->ecx = e->edx = 0;
	}
	return cleared;
}

void cpuid_set_vcpu_identity(struct kvm_cpuid2 *c, unsigned int vcpu_id, unsigned int nr_cpus)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 1) {
			e->ebx &= 0x0000ffff;
			e->ebx |= (vcpu_id & 0xff) << 24;
			e->ebx |= (nr_cpus & 0xff) << 16;
			if (nr_cpus > 1)
				e->edx |= 1u << 28; /* HTT: the count above is valid */
		} else if (e->function == 0xb || e->function == 0x1f) {
			e->edx = vcpu_id;
		}
	}
}

bool cpuid_is_amd(struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(c, 0, 0);

	if (e == NULL)
		return false;
	/* "AuthenticAMD": ebx "Auth", edx "enti", ecx "cAMD"; Hygon: "HygonGenuine" */
	return (e->ebx == 0x68747541 && e->ecx == 0x444d4163) ||
	       (e->ebx == 0x6f677948 && e->ecx == 0x656e6975);
}
