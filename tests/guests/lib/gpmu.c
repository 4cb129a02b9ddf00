/* gpmu: PMU model detection, MSR sequences and the PMI handler shared by
 * the PMU test guests and the benchmark guest (see gpmu.h). The sequences
 * follow Linux's arch/x86/events/{core.c,intel/core.c,amd/core.c}, since
 * those are what the vPMU must make cheap. */
#include "gpmu.h"

#define CPUID_80000001_ECX_PERFCTR_CORE (1u << 23)
#define CPUID_80000022_EAX_PERFMON_V2 (1u << 0)

static void detect_intel(struct gpmu *p, uint32_t a, uint32_t b, uint32_t d)
{
	p->kind = GPMU_INTEL;
	p->vendor = "intel";
	p->version = a & 0xff;
	p->nr_gp = (a >> 8) & 0xff;
	if (p->nr_gp > GPMU_MAX_GP)
		p->nr_gp = GPMU_MAX_GP;
	p->width = (a >> 16) & 0xff;
	p->fixed_unavailable = b;
	p->nr_fixed = d & 0x1f;
	p->global = true;
	p->evtsel_base = MSR_IA32_PERFEVTSEL0;
	p->ctr_base = MSR_IA32_PMC0;
	p->stride = 1;
	p->global_ctrl = MSR_IA32_PERF_GLOBAL_CTRL;
	p->global_status = MSR_IA32_PERF_GLOBAL_STATUS;
	p->global_ovf = MSR_IA32_PERF_GLOBAL_OVF_CTRL;
	p->cycles = 0x3c; /* UnHalted Core Cycles, umask 0 */
}

/* Linux's check_hw_exists(): legacy AMD counters have no CPUID bit, so a
 * counter that does not keep a written value means there is no PMU. */
static bool amd_legacy_works(void)
{
	uint64_t v;

	if (safe_rdmsr(MSR_K7_EVNTSEL0, &v))
		return false;
	if (safe_wrmsr(MSR_K7_PERFCTR0, 0xabcd))
		return false;
	if (safe_rdmsr(MSR_K7_PERFCTR0, &v) || v != 0xabcd)
		return false;
	safe_wrmsr(MSR_K7_PERFCTR0, 0);
	return true;
}

enum gpmu_kind gpmu_detect(struct gpmu *p)
{
	uint32_t a, b, c, d, max, max_ext;

	memset(p, 0, sizeof(*p));
	p->vendor = "none";
	cpuid(0, 0, &max, &b, &c, &d);
	if (max >= 0xa) {
		cpuid(0xa, 0, &a, &b, &c, &d);
		if ((a & 0xff) >= 2) {
			detect_intel(p, a, b, d);
			return p->kind;
		}
	}
	cpuid(0x80000000, 0, &max_ext, &b, &c, &d);
	if (max_ext >= 0x80000001) {
		cpuid(0x80000001, 0, &a, &b, &c, &d);
		if (c & CPUID_80000001_ECX_PERFCTR_CORE) {
			p->kind = GPMU_AMD_CORE;
			p->nr_gp = 6;
			p->evtsel_base = MSR_F15H_PERF_CTL0;
			p->ctr_base = MSR_F15H_PERF_CTL0 + 1;
			p->stride = 2;
		}
	}
	if (p->kind == GPMU_NONE) {
		if (!amd_legacy_works())
			return GPMU_NONE;
		p->kind = GPMU_AMD_LEGACY;
		p->nr_gp = 4;
		p->evtsel_base = MSR_K7_EVNTSEL0;
		p->ctr_base = MSR_K7_PERFCTR0;
		p->stride = 1;
	}
	p->vendor = "amd";
	p->version = 1;
	p->width = 48;
	p->cycles = 0x76; /* CPU clocks not halted */
	if (p->kind == GPMU_AMD_CORE && max_ext >= 0x80000022) {
		cpuid(0x80000022, 0, &a, &b, &c, &d);
		if (a & CPUID_80000022_EAX_PERFMON_V2) {
			p->version = 2;
			p->global = true;
			if (b & 0xf)
				p->nr_gp = b & 0xf;
			p->global_ctrl = MSR_AMD_GLOBAL_CTL;
			p->global_status = MSR_AMD_GLOBAL_STATUS;
			p->global_ovf = MSR_AMD_GLOBAL_STATUS_CLR;
		}
	}
	return p->kind;
}

void gpmu_write_evtsel(struct gpmu *p, unsigned int i, uint64_t val)
{
	p->evtsel[i] = val;
	wrmsr(gpmu_evtsel_msr(p, i), val);
}

void gpmu_write_fixed_ctrl(struct gpmu *p, uint64_t val)
{
	p->fixed_ctrl = val;
	wrmsr(MSR_IA32_FIXED_CTR_CTRL, val);
}

void gpmu_use(struct gpmu *p, unsigned int i)
{
	p->enabled |= 1ull << i;
}

void gpmu_use_fixed(struct gpmu *p, unsigned int i)
{
	p->enabled |= 1ull << (INTEL_FIXED_GLOBAL_BIT + i);
}

void gpmu_disable_all(struct gpmu *p)
{
	if (p->global) {
		wrmsr(p->global_ctrl, 0);
		return;
	}
	for (unsigned int i = 0; i < p->nr_gp; i++) {
		uint64_t v;

		if (!(p->enabled & (1ull << i)))
			continue;
		v = rdmsr(gpmu_evtsel_msr(p, i));
		if (v & EVTSEL_EN)
			wrmsr(gpmu_evtsel_msr(p, i), v & ~EVTSEL_EN);
	}
}

void gpmu_enable_all(struct gpmu *p)
{
	if (p->global) {
		wrmsr(p->global_ctrl, p->enabled);
		return;
	}
	for (unsigned int i = 0; i < p->nr_gp; i++)
		if (p->enabled & (1ull << i))
			wrmsr(gpmu_evtsel_msr(p, i), p->evtsel[i] | EVTSEL_EN);
}

/* ---- PMI ---- */
static struct gpmi *active_pmi;

static uint32_t lvtpc_value(const struct gpmi *g)
{
	return g->vector ? g->vector : LVT_DM_NMI;
}

static void pmi_handler(struct trap_frame *f)
{
	struct gpmi *g = active_pmi;
	struct gpmu *p;
	uint64_t t0 = rdtsc(), status = 0, ctr;
	bool overflowed;

	(void)f;
	if (g == NULL)
		return;
	p = g->pmu;
	if (p->global)
		status = rdmsr(p->global_status);
	gpmu_disable_all(p);
	ctr = rdmsr(gpmu_ctr_msr(p, 0));
	if (p->global) {
		overflowed = status & 1;
	} else {
		/* No status register: started at -period, so a counter whose
		 * top bit went clear has wrapped (Linux's x86_pmu_handle_irq). */
		overflowed = !(ctr & (1ull << (p->width - 1)));
	}
	if (overflowed) {
		/* What counted between the wrap and the disable above is the
		 * PMI's latency (skid). As Linux's x86_perf_event_set_period()
		 * does, the next wrap comes a period after this one: the skid
		 * is taken off the reload (a whole period or more of it starts
		 * afresh), and at least 2 events are left. */
		uint64_t left = ctr < g->period ? g->period - ctr : g->period;

		if (left < 2)
			left = 2;
		g->overshoot += ctr;
		wrmsr(gpmu_ctr_msr(p, 0), -left & gpmu_ctr_mask(p));
		g->count++;
	} else {
		g->spurious++;
	}
	if (p->global && status)
		wrmsr(p->global_ovf, status);
	/* Intel masks LVTPC when it delivers a PMI; Linux unmasks here. */
	lapic_set_lvtpc(lvtpc_value(g));
	gpmu_enable_all(p);
	if (g->vector)
		lapic_eoi();
	g->handler_tsc += rdtsc() - t0;
}

void gpmi_start(struct gpmi *g, struct gpmu *p, uint64_t period, uint8_t vector)
{
	memset(g, 0, sizeof(*g));
	g->pmu = p;
	g->period = period;
	g->vector = vector;
	active_pmi = g;
	if (vector)
		set_irq_handler(vector, pmi_handler);
	else
		set_nmi_handler(pmi_handler);
	lapic_enable();
	lapic_set_lvtpc(lvtpc_value(g));
	gpmu_disable_all(p);
	gpmu_use(p, 0);
	wrmsr(gpmu_ctr_msr(p, 0), -period & gpmu_ctr_mask(p));
	gpmu_write_evtsel(p, 0, p->cycles | EVTSEL_USR | EVTSEL_OS | EVTSEL_INT | EVTSEL_EN);
	if (vector)
		irq_enable();
	gpmu_enable_all(p);
}

void gpmi_stop(struct gpmi *g)
{
	struct gpmu *p = g->pmu;

	gpmu_disable_all(p);
	gpmu_write_evtsel(p, 0, 0);
	p->enabled &= ~1ull;
	irq_disable();
	lapic_set_lvtpc(LVT_MASKED);
}
