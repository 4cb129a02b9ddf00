/* gpmu: the guest's view of a PMU for the test and benchmark guests. Finds
 * the model from CPUID the way Linux does (Intel architectural PMU v2+ in
 * leaf 0xA; else AMD: PerfCtrExtCore, PerfMonV2, or the legacy K7 MSRs if
 * they hold a value), gives the MSR numbers, issues the disable-all /
 * enable-all sequences of Linux's x86 perf drivers, and runs a Linux-style
 * PMI handler for counter 0. */
#ifndef GPMU_H
#define GPMU_H

#include "libguest.h"

/* MSR numbers: the same header the VMM's register models use. */
#include "pmu/msr.h"

/* Event select bits common to both vendors. */
#define EVTSEL_USR (1ull << 16)
#define EVTSEL_OS (1ull << 17)
#define EVTSEL_INT (1ull << 20)
#define EVTSEL_EN (1ull << 22)

/* Intel FIXED_CTR_CTRL: 4 bits per counter. */
#define FIXED_OS 0x1ull
#define FIXED_USR 0x2ull
#define FIXED_PMI 0x8ull
#define INTEL_FIXED_GLOBAL_BIT 32

#define GPMU_MAX_GP 8

enum gpmu_kind {
	GPMU_NONE = 0,
	GPMU_INTEL,	 /* architectural PMU v2 or later */
	GPMU_AMD_LEGACY, /* K7 MSRs, 4 counters */
	GPMU_AMD_CORE,	 /* PerfCtrExtCore: 6 counters, maybe PerfMonV2 */
};

struct gpmu {
	enum gpmu_kind kind;
	const char *vendor; /* "intel" or "amd": the model's name in output */
	unsigned int version; /* Intel PMU version; AMD: 2 with PerfMonV2 */
	unsigned int nr_gp, nr_fixed, width;
	uint32_t fixed_unavailable; /* Intel leaf 0xA EBX: events not counted */
	bool global;		    /* GLOBAL_CTRL exists (Intel, AMD PerfMonV2) */
	uint32_t evtsel_base, ctr_base, stride;
	uint32_t global_ctrl, global_status, global_ovf; /* 0 if !global */
	uint64_t cycles;  /* event select encoding of core cycles, no flags */
	uint64_t enabled; /* GLOBAL_CTRL bits of the counters in use */
	uint64_t evtsel[GPMU_MAX_GP]; /* what was written (Linux's config) */
	uint64_t fixed_ctrl;
};

/* Fills @p from CPUID (and, for the legacy AMD case, a probe); returns
 * p->kind. GPMU_NONE when the guest was shown no usable PMU. */
enum gpmu_kind gpmu_detect(struct gpmu *p);

static inline uint32_t gpmu_evtsel_msr(const struct gpmu *p, unsigned int i)
{
	return p->evtsel_base + i * p->stride;
}

static inline uint32_t gpmu_ctr_msr(const struct gpmu *p, unsigned int i)
{
	return p->ctr_base + i * p->stride;
}

static inline uint64_t gpmu_ctr_mask(const struct gpmu *p)
{
	return p->width >= 64 ? ~0ull : (1ull << p->width) - 1;
}

/* EVTSEL write, remembered so the AMD legacy disable/enable-all can use it. */
void gpmu_write_evtsel(struct gpmu *p, unsigned int i, uint64_t val);
void gpmu_write_fixed_ctrl(struct gpmu *p, uint64_t val);

/* Counter @i takes part in enable-all / disable-all. */
void gpmu_use(struct gpmu *p, unsigned int i);
void gpmu_use_fixed(struct gpmu *p, unsigned int i);

/* Linux's x86_pmu_disable_all / enable_all for the model: GLOBAL_CTRL on
 * Intel and PerfMonV2; on legacy AMD the EN bit of every counter in use
 * (disable reads the EVTSEL first, as x86_pmu_disable_all does). */
void gpmu_disable_all(struct gpmu *p);
void gpmu_enable_all(struct gpmu *p);

/* Sampling on GP counter 0: cycles with INT, reloaded with -period at each
 * PMI by a handler doing Linux's sequence (read status, disable all, read
 * and reload the counter, clear status, unmask LVTPC, enable all). */
struct gpmi {
	struct gpmu *pmu;
	uint64_t period;
	uint8_t vector;		 /* 0: NMI delivery, else this fixed vector */
	volatile uint64_t count; /* PMIs that found counter 0 overflowed */
	volatile uint64_t spurious;	/* PMIs (or NMIs) that found nothing */
	volatile uint64_t handler_tsc;	/* TSC cycles spent in the handler */
	volatile uint64_t overshoot;	/* events counted past the wraps */
};

/* Enables the LAPIC, sets LVTPC, installs the handler and starts counting. */
void gpmi_start(struct gpmi *g, struct gpmu *p, uint64_t period, uint8_t vector);
/* Stops counter 0 and disables the PMU. */
void gpmi_stop(struct gpmi *g);

#endif
