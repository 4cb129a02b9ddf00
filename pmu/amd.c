/*
 * AMD core PMU (APM Vol. 2, "Performance Monitoring Counters"): the legacy
 * K7 MSRs, the PerfCtrExtCore interleaved set of six, and the PerfMonV2
 * global control/status MSRs. Unlike Intel, AMD hardware ignores writes to
 * reserved bits and to read-only PMU MSRs instead of raising #GP; MSRs of
 * counters that do not exist still #GP.
 */
#include "pmu/vpmu_priv.h"
#include "pmu/msr.h"

/* Bits 19, 21 and 36-63 (incl. Host/GuestOnly, which a guest lacks). */
#define AMD_EVTSEL_RESERVED		0xfffffff000280000ull
#define AMD_EVTSEL_EVENT_HI		0x0000000f00000000ull

static bool has_ext_core(const struct vpmu *v)
{
	return v->nr_gp == PMU_AMD_NR_CORE;
}

static uint64_t gp_mask(const struct vpmu *v)
{
	return (1ull << v->nr_gp) - 1;
}

/* Decode an AMD counter MSR; *ctl tells an event select from a counter. */
static struct vpmc *pmc_of(struct vpmu *v, uint32_t msr, bool *ctl)
{
	uint32_t off;

	if (msr >= MSR_K7_EVNTSEL0 && msr < MSR_K7_EVNTSEL0 + 4) {
		*ctl = true;
		return vpmu_gp(v, msr - MSR_K7_EVNTSEL0);
	}
	if (msr >= MSR_K7_PERFCTR0 && msr < MSR_K7_PERFCTR0 + 4) {
		*ctl = false;
		return vpmu_gp(v, msr - MSR_K7_PERFCTR0);
	}
	if (msr >= MSR_F15H_PERF_CTL0 &&
	    msr < MSR_F15H_PERF_CTL0 + 2 * PMU_AMD_NR_CORE && has_ext_core(v)) {
		off = msr - MSR_F15H_PERF_CTL0;
		*ctl = !(off & 1);
		return vpmu_gp(v, off / 2);
	}
	return NULL;
}

static int amd_rdmsr(struct vpmu *v, uint32_t msr, uint64_t *val)
{
	struct vpmc *pmc;
	bool ctl;

	if (msr >= MSR_AMD_GLOBAL_STATUS && msr <= MSR_AMD_GLOBAL_STATUS_SET) {
		if (!v->has_global)
			return -EINVAL;
		if (msr == MSR_AMD_GLOBAL_STATUS) {
			int ret = vpmu_fold_all(v);

			*val = v->global_status;
			return ret;
		}
		if (msr == MSR_AMD_GLOBAL_CTL)
			*val = v->global_ctrl;
		else
			*val = 0;	/* write-only in effect */
		return 0;
	}
	pmc = pmc_of(v, msr, &ctl);
	if (!pmc)
		return -EINVAL;
	if (ctl) {
		vpmc_touch(v, pmc);
		*val = pmc->ctrl;
		return 0;
	}
	v->stats.rdmsr_counter++;
	return vpmc_read(v, pmc, val);
}

static int amd_wrmsr(struct vpmu *v, uint32_t msr, uint64_t val)
{
	struct vpmc *pmc;
	bool ctl;

	if (msr >= MSR_AMD_GLOBAL_STATUS && msr <= MSR_AMD_GLOBAL_STATUS_SET) {
		if (!v->has_global) {
			v->stats.wrmsr_other++;
			return -EINVAL;
		}
		switch (msr) {
		case MSR_AMD_GLOBAL_CTL:
			v->stats.wrmsr_global_ctrl++;
			return vpmu_set_global_ctrl(v, val & gp_mask(v));
		case MSR_AMD_GLOBAL_STATUS_CLR:
			v->global_status &= ~val;
			break;
		case MSR_AMD_GLOBAL_STATUS_SET:
			v->global_status |= val & gp_mask(v);
			break;
		default:
			break;		/* STATUS is read-only: ignored */
		}
		v->stats.wrmsr_global_status++;
		return 0;
	}
	pmc = pmc_of(v, msr, &ctl);
	if (!pmc) {
		v->stats.wrmsr_other++;
		return -EINVAL;
	}
	if (ctl) {
		v->stats.wrmsr_eventsel++;
		return vpmc_set_ctrl(v, pmc, val & ~AMD_EVTSEL_RESERVED);
	}
	v->stats.wrmsr_counter++;
	return vpmc_write(v, pmc, val & PMU_COUNTER_MASK);
}

struct amd_event {
	uint16_t event;
	uint8_t umask;
	enum pmu_generic_event generic;
};

/* Events every AMD core PMU since K7 counts; Linux's generic mapping. */
static const struct amd_event amd_generic_events[] = {
	{ 0x076, 0x00, PMU_EV_CYCLES },
	{ 0x0c0, 0x00, PMU_EV_INSTRUCTIONS },
	{ 0x0c2, 0x00, PMU_EV_BRANCHES },
	{ 0x0c3, 0x00, PMU_EV_BRANCH_MISSES },
};

static void amd_describe(const struct vpmu *v, const struct vpmc *pmc,
			 struct pmu_event_desc *d)
{
	uint64_t plain;
	unsigned int i;

	d->model = PMU_MODEL_AMD;
	d->raw_config = pmc->ctrl & (EVTSEL_EVENT | EVTSEL_UMASK | EVTSEL_EDGE |
				     EVTSEL_INV | EVTSEL_CMASK |
				     AMD_EVTSEL_EVENT_HI);
	d->exclude_kernel = !(pmc->ctrl & EVTSEL_OS);
	d->exclude_user = !(pmc->ctrl & EVTSEL_USR);
	d->generic = PMU_EV_RAW;
	for (i = 0; i < ARRAY_SIZE(amd_generic_events); i++) {
		const struct amd_event *a = &amd_generic_events[i];

		plain = (a->event & 0xff) | ((uint64_t)(a->event >> 8) << 32) |
			(uint64_t)a->umask << 8;
		if (d->raw_config == plain)
			d->generic = a->generic;
	}
}

static uint32_t amd_counter_msr(const struct vpmu *v, const struct vpmc *pmc)
{
	if (has_ext_core(v))
		return MSR_F15H_PERF_CTL0 + 2 * pmc->idx + 1;
	return MSR_K7_PERFCTR0 + pmc->idx;
}

const struct pmu_model_ops pmu_amd_ops = {
	.rdmsr = amd_rdmsr,
	.wrmsr = amd_wrmsr,
	.describe = amd_describe,
	.counter_msr = amd_counter_msr,
};

/* Claimed whatever the shape, so absent counters #GP here, not in KVM. */
int pmu_amd_msr_ranges(struct pmu_msr_range *out, int max)
{
	static const struct pmu_msr_range ranges[] = {
		{ MSR_K7_EVNTSEL0, 8 },
		{ MSR_F15H_PERF_CTL0, 2 * PMU_AMD_NR_CORE },
		{ MSR_AMD_GLOBAL_STATUS, 4 },
	};
	int n = ARRAY_SIZE(ranges), i;

	if (max < n)
		return -ENOSPC;
	for (i = 0; i < n; i++)
		out[i] = ranges[i];
	return n;
}
