/*
 * What the guest discovers at setup: the CPUID leaves that describe the
 * vPMU (or say there is none) and the MSR ranges the VM core must route
 * to it. Pure functions over plain structs, no KVM types.
 */
#include "pmu/vpmu_priv.h"

#define CPUID_1_ECX_PDCM		(1u << 15)
#define CPUID_80000001_ECX_PERFCTR_CORE	(1u << 23)
#define CPUID_80000022_EAX_PERFMON_V2	(1u << 0)

/* Leaf 1 for PDCM; 0xa Intel's PMU; 0x80000001 PerfCtrExtCore; 0x80000022
 * AMD PerfMonV2. */
const uint32_t pmu_cpuid_leaves[] = { 0x1, 0xa, 0x80000001, 0x80000022 };
const unsigned int pmu_cpuid_nr_leaves = ARRAY_SIZE(pmu_cpuid_leaves);

#define INTEL_PMU_VERSION		2
#define INTEL_ARCH_EVENTS		7

int pmu_msr_ranges(const struct pmu_config *cfg, struct pmu_msr_range *out,
		   int max)
{
	if (!cfg || !out)
		return -EINVAL;
	if (cfg->model == PMU_MODEL_INTEL)
		return pmu_intel_msr_ranges(out, max);
	return pmu_amd_msr_ranges(out, max);
}

static struct pmu_cpuid_entry *find_leaf(struct pmu_cpuid_entry *e, int n,
					 uint32_t function, uint32_t index)
{
	int i;

	for (i = 0; i < n; i++)
		if (e[i].function == function && e[i].index == index)
			return &e[i];
	return NULL;
}

static struct pmu_cpuid_entry *get_leaf(struct pmu_cpuid_entry *e, int *n,
					int max, uint32_t function,
					uint32_t index)
{
	struct pmu_cpuid_entry *leaf = find_leaf(e, *n, function, index);

	if (leaf || *n >= max)
		return leaf;
	leaf = &e[(*n)++];
	*leaf = (struct pmu_cpuid_entry){ .function = function,
					  .index = index };
	return leaf;
}

/* Make sure the maximum-leaf entry lets the guest see @function. */
static void raise_max_leaf(struct pmu_cpuid_entry *e, int n, uint32_t base,
			   uint32_t function)
{
	struct pmu_cpuid_entry *max = find_leaf(e, n, base, 0);

	if (max && max->eax < function)
		max->eax = function;
}

static int patch_intel(const struct pmu_config *cfg,
		       const struct pmu_backend_caps *caps,
		       struct pmu_cpuid_entry *e, int n, int max)
{
	unsigned int nr_gp = cfg->nr_gp ? cfg->nr_gp : 4;
	struct pmu_cpuid_entry *leaf;
	uint32_t counts = caps ? caps->counts : 0;

	leaf = get_leaf(e, &n, max, 0xa, 0);
	if (!leaf)
		return -ENOSPC;
	leaf->eax = INTEL_PMU_VERSION | nr_gp << 8 |
		    PMU_COUNTER_WIDTH << 16 | INTEL_ARCH_EVENTS << 24;
	/* a set bit means the architectural event is NOT available */
	leaf->ebx = ~counts & ((1u << INTEL_ARCH_EVENTS) - 1);
	leaf->ecx = 0;
	leaf->edx = PMU_INTEL_NR_FIXED | PMU_COUNTER_WIDTH << 5;
	raise_max_leaf(e, n, 0, 0xa);

	/* PDCM advertises IA32_PERF_CAPABILITIES, which carries FW_WRITE */
	leaf = find_leaf(e, n, 1, 0);
	if (leaf) {
		if (cfg->full_width_writes)
			leaf->ecx |= CPUID_1_ECX_PDCM;
		else
			leaf->ecx &= ~CPUID_1_ECX_PDCM;
	}
	return n;
}

static int patch_amd(const struct pmu_config *cfg,
		     struct pmu_cpuid_entry *e, int n, int max)
{
	unsigned int nr_gp = cfg->nr_gp ? cfg->nr_gp : PMU_AMD_NR_CORE;
	struct pmu_cpuid_entry *leaf;

	/* On an Intel host the host's architectural PMU leaf must not show
	 * through: guests look for it first. */
	leaf = find_leaf(e, n, 0xa, 0);
	if (leaf)
		leaf->eax = leaf->ebx = leaf->ecx = leaf->edx = 0;
	leaf = get_leaf(e, &n, max, 0x80000001, 0);
	if (!leaf)
		return -ENOSPC;
	if (nr_gp == PMU_AMD_NR_CORE)
		leaf->ecx |= CPUID_80000001_ECX_PERFCTR_CORE;
	else
		leaf->ecx &= ~CPUID_80000001_ECX_PERFCTR_CORE;

	if (!cfg->perfmon_v2) {
		leaf = find_leaf(e, n, 0x80000022, 0);
		if (leaf)
			leaf->eax = leaf->ebx = leaf->ecx = leaf->edx = 0;
		return n;
	}
	leaf = get_leaf(e, &n, max, 0x80000022, 0);
	if (!leaf)
		return -ENOSPC;
	leaf->eax = CPUID_80000022_EAX_PERFMON_V2;
	leaf->ebx = nr_gp & 0xf;
	leaf->ecx = 0;
	leaf->edx = 0;
	raise_max_leaf(e, n, 0x80000000, 0x80000022);
	return n;
}

int pmu_cpuid_patch(const struct pmu_config *cfg,
		    const struct pmu_backend_caps *caps,
		    struct pmu_cpuid_entry *entries, int n, int max)
{
	if (!cfg || !entries || n < 0 || n > max)
		return -EINVAL;
	if (cfg->model == PMU_MODEL_INTEL)
		return patch_intel(cfg, caps, entries, n, max);
	return patch_amd(cfg, entries, n, max);
}

int pmu_cpuid_hide(struct pmu_cpuid_entry *entries, int n)
{
	struct pmu_cpuid_entry *leaf;

	if (!entries || n < 0)
		return -EINVAL;
	leaf = find_leaf(entries, n, 0xa, 0);
	if (leaf)
		leaf->eax = leaf->ebx = leaf->ecx = leaf->edx = 0;
	leaf = find_leaf(entries, n, 1, 0);
	if (leaf)
		leaf->ecx &= ~CPUID_1_ECX_PDCM;
	leaf = find_leaf(entries, n, 0x80000001, 0);
	if (leaf)
		leaf->ecx &= ~CPUID_80000001_ECX_PERFCTR_CORE;
	leaf = find_leaf(entries, n, 0x80000022, 0);
	if (leaf)
		leaf->eax = leaf->ebx = leaf->ecx = leaf->edx = 0;
	return n;
}
