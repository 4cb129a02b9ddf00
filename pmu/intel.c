/*
 * Intel architectural PMU, version 2 (SDM Vol. 3B, "Architectural
 * Performance Monitoring"): GP counters with their event selects, three
 * fixed counters, and the global control/status/overflow-control MSRs.
 * Intel raises #GP on reserved bits and on writes to read-only MSRs.
 */
#include "pmu/vpmu_priv.h"
#include "pmu/msr.h"


#define PERF_CAP_FW_WRITE		(1ull << 13)

/* v2 has no AnyThread (bit 21) and nothing above bit 31. */
#define INTEL_EVTSEL_RESERVED		0xffffffff00200000ull
/* per fixed field: OS, USR, PMI; AnyThread (bit 2) is v3 */
#define INTEL_FIXED_FIELD_VALID		0xbull
#define GLOBAL_STATUS_OVF_BUF		(1ull << 62)
#define GLOBAL_STATUS_COND_CHGD		(1ull << 63)

static uint64_t gp_mask(const struct vpmu *v)
{
	return (1ull << v->nr_gp) - 1;
}

static uint64_t global_ctrl_valid(const struct vpmu *v)
{
	return gp_mask(v) |
	       (((1ull << v->nr_fixed) - 1) << PMU_FIXED_GLOBAL_BIT);
}

static uint64_t fixed_ctrl_valid(const struct vpmu *v)
{
	uint64_t valid = 0;
	unsigned int i;

	for (i = 0; i < v->nr_fixed; i++)
		valid |= INTEL_FIXED_FIELD_VALID << (4 * i);
	return valid;
}

static uint64_t fixed_ctrl(const struct vpmu *v)
{
	uint64_t ctrl = 0;
	unsigned int i;

	for (i = 0; i < v->nr_fixed; i++)
		ctrl |= v->pmc[PMU_FIXED_IDX + i].ctrl << (4 * i);
	return ctrl;
}

/* Which counter an MSR names; NULL if it is none of ours or absent. */
static struct vpmc *counter_of(struct vpmu *v, uint32_t msr, bool *full)
{
	*full = false;
	if (msr >= MSR_IA32_PMC0 && msr < MSR_IA32_PMC0 + PMU_MAX_GP)
		return vpmu_gp(v, msr - MSR_IA32_PMC0);
	if (msr >= MSR_IA32_A_PMC0 && msr < MSR_IA32_A_PMC0 + PMU_MAX_GP) {
		*full = true;
		if (!v->cfg.full_width_writes)
			return NULL;
		return vpmu_gp(v, msr - MSR_IA32_A_PMC0);
	}
	if (msr >= MSR_IA32_FIXED_CTR0 &&
	    msr < MSR_IA32_FIXED_CTR0 + PMU_MAX_FIXED) {
		*full = true;
		return vpmu_fixed(v, msr - MSR_IA32_FIXED_CTR0);
	}
	return NULL;
}

static struct vpmc *evtsel_of(struct vpmu *v, uint32_t msr)
{
	if (msr >= MSR_IA32_PERFEVTSEL0 &&
	    msr < MSR_IA32_PERFEVTSEL0 + PMU_MAX_GP)
		return vpmu_gp(v, msr - MSR_IA32_PERFEVTSEL0);
	return NULL;
}

static int intel_rdmsr(struct vpmu *v, uint32_t msr, uint64_t *val)
{
	struct vpmc *pmc;
	bool full;

	switch (msr) {
	case MSR_IA32_PERF_CAPABILITIES:
		*val = v->cfg.full_width_writes ? PERF_CAP_FW_WRITE : 0;
		return 0;
	case MSR_IA32_FIXED_CTR_CTRL:
		*val = fixed_ctrl(v);
		return 0;
	case MSR_IA32_PERF_GLOBAL_STATUS: {
		int ret = vpmu_fold_all(v);

		*val = v->global_status;
		return ret;
	}
	case MSR_IA32_PERF_GLOBAL_CTRL:
		*val = v->global_ctrl;
		return 0;
	case MSR_IA32_PERF_GLOBAL_OVF_CTRL:
		*val = 0;
		return 0;
	}
	pmc = counter_of(v, msr, &full);
	if (pmc) {
		v->stats.rdmsr_counter++;
		return vpmc_read(v, pmc, val);
	}
	pmc = evtsel_of(v, msr);
	if (pmc) {
		vpmc_touch(v, pmc);
		*val = pmc->ctrl;
		return 0;
	}
	return -EINVAL;
}

static int write_fixed_ctrl(struct vpmu *v, uint64_t val)
{
	unsigned int i;
	int ret = 0, err;

	if (val & ~fixed_ctrl_valid(v))
		return -EINVAL;
	for (i = 0; i < v->nr_fixed; i++) {
		err = vpmc_set_ctrl(v, &v->pmc[PMU_FIXED_IDX + i],
				    (val >> (4 * i)) & 0xf);
		if (err && !ret)
			ret = err;
	}
	return ret;
}

static int intel_wrmsr(struct vpmu *v, uint32_t msr, uint64_t val)
{
	uint64_t ovf_valid;
	struct vpmc *pmc;
	bool full;

	switch (msr) {
	case MSR_IA32_PERF_CAPABILITIES:	/* read-only */
		v->stats.wrmsr_other++;
		return -EINVAL;
	case MSR_IA32_PERF_GLOBAL_STATUS:	/* read-only */
		v->stats.wrmsr_global_status++;
		return -EINVAL;
	case MSR_IA32_FIXED_CTR_CTRL:
		v->stats.wrmsr_fixed_ctrl++;
		return write_fixed_ctrl(v, val);
	case MSR_IA32_PERF_GLOBAL_CTRL:
		v->stats.wrmsr_global_ctrl++;
		if (val & ~global_ctrl_valid(v))
			return -EINVAL;
		return vpmu_set_global_ctrl(v, val);
	case MSR_IA32_PERF_GLOBAL_OVF_CTRL:
		v->stats.wrmsr_global_status++;
		ovf_valid = global_ctrl_valid(v) | GLOBAL_STATUS_OVF_BUF |
			    GLOBAL_STATUS_COND_CHGD;
		if (val & ~ovf_valid)
			return -EINVAL;
		v->global_status &= ~val;
		return 0;
	}
	pmc = counter_of(v, msr, &full);
	if (pmc) {
		v->stats.wrmsr_counter++;
		if (full) {
			if (val & ~PMU_COUNTER_MASK)
				return -EINVAL;
		} else {
			/* legacy IA32_PMCx: bits 31:0, sign-extended */
			val = (uint64_t)(int64_t)(int32_t)val;
		}
		return vpmc_write(v, pmc, val & PMU_COUNTER_MASK);
	}
	pmc = evtsel_of(v, msr);
	if (pmc) {
		v->stats.wrmsr_eventsel++;
		if (val & INTEL_EVTSEL_RESERVED)
			return -EINVAL;
		return vpmc_set_ctrl(v, pmc, val);
	}
	v->stats.wrmsr_other++;
	return -EINVAL;
}

struct arch_event {
	uint8_t event;
	uint8_t umask;
	enum pmu_generic_event generic;
};

/* SDM Table "UMask and Event Select Encodings for Pre-Defined Events". */
static const struct arch_event intel_arch_events[] = {
	{ 0x3c, 0x00, PMU_EV_CYCLES },
	{ 0xc0, 0x00, PMU_EV_INSTRUCTIONS },
	{ 0x3c, 0x01, PMU_EV_REF_CYCLES },
	{ 0x2e, 0x4f, PMU_EV_LLC_REFERENCES },
	{ 0x2e, 0x41, PMU_EV_LLC_MISSES },
	{ 0xc4, 0x00, PMU_EV_BRANCHES },
	{ 0xc5, 0x00, PMU_EV_BRANCH_MISSES },
};

static const enum pmu_generic_event intel_fixed_events[PMU_MAX_FIXED] = {
	PMU_EV_INSTRUCTIONS, PMU_EV_CYCLES, PMU_EV_REF_CYCLES,
};

static void intel_describe(const struct vpmu *v, const struct vpmc *pmc,
			   struct pmu_event_desc *d)
{
	unsigned int i;

	d->model = PMU_MODEL_INTEL;
	if (pmc->fixed) {
		d->fixed = true;
		d->generic = intel_fixed_events[pmc->idx - PMU_FIXED_IDX];
		d->exclude_kernel = !(pmc->ctrl & FIXED_OS);
		d->exclude_user = !(pmc->ctrl & FIXED_USR);
		return;
	}
	d->raw_config = pmc->ctrl & (EVTSEL_EVENT | EVTSEL_UMASK | EVTSEL_EDGE |
				     EVTSEL_INV | EVTSEL_CMASK);
	d->exclude_kernel = !(pmc->ctrl & EVTSEL_OS);
	d->exclude_user = !(pmc->ctrl & EVTSEL_USR);
	d->generic = PMU_EV_RAW;
	for (i = 0; i < ARRAY_SIZE(intel_arch_events); i++) {
		const struct arch_event *a = &intel_arch_events[i];

		if (d->raw_config == (a->event | (uint64_t)a->umask << 8))
			d->generic = a->generic;
	}
}

static uint32_t intel_counter_msr(const struct vpmu *v, const struct vpmc *pmc)
{
	if (pmc->fixed)
		return MSR_IA32_FIXED_CTR0 + pmc->idx - PMU_FIXED_IDX;
	return MSR_IA32_PMC0 + pmc->idx;
}

const struct pmu_model_ops pmu_intel_ops = {
	.rdmsr = intel_rdmsr,
	.wrmsr = intel_wrmsr,
	.describe = intel_describe,
	.counter_msr = intel_counter_msr,
};

int pmu_intel_msr_ranges(struct pmu_msr_range *out, int max)
{
	static const struct pmu_msr_range ranges[] = {
		{ MSR_IA32_PMC0, PMU_MAX_GP },
		{ MSR_IA32_PERFEVTSEL0, PMU_MAX_GP },
		{ MSR_IA32_FIXED_CTR0, PMU_MAX_FIXED },
		{ MSR_IA32_PERF_CAPABILITIES, 1 },
		{ MSR_IA32_FIXED_CTR_CTRL, 4 },	/* 0x38d-0x390 */
		{ MSR_IA32_A_PMC0, PMU_MAX_GP },
	};
	int n = ARRAY_SIZE(ranges), i;

	if (max < n)
		return -ENOSPC;
	for (i = 0; i < n; i++)
		out[i] = ranges[i];
	return n;
}
