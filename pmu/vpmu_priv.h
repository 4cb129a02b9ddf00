/*
 * Internal state of the virtual PMU, shared by the core (vpmu.c), the
 * register models (intel.c, amd.c), the policies (policy.c, cache.c) and
 * the event filter (filter.c).
 */
#ifndef PMU_VPMU_PRIV_H
#define PMU_VPMU_PRIV_H

#include <errno.h>

#include "pmu/pmu.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#define PMU_MAX_GP		8
#define PMU_MAX_FIXED		3
#define PMU_FIXED_IDX		PMU_MAX_GP	/* pmc[] slot of fixed 0 */
#define PMU_MAX_PMC		(PMU_MAX_GP + PMU_MAX_FIXED)
#define PMU_FIXED_GLOBAL_BIT	32		/* global ctrl/status bit */

#define PMU_COUNTER_MASK	((1ull << PMU_COUNTER_WIDTH) - 1)

/*
 * More events per nanosecond than any host counter can count (8 events a
 * cycle at 8 GHz): what bounds how far a counter can have moved since it
 * was last read, without reading it.
 */
#define PMU_MAX_EVENTS_PER_NS	64

/*
 * How long a host overflow of a counter whose last overflow the guest has
 * not acked yet is left to the guest's handler (which reloads it) before
 * the vPMU re-arms the counter itself: a slow handler takes well under a
 * ms; a guest that never acks gets the re-arm, and no signal storm.
 */
#define PMU_ACK_WAIT_NS 10000000ull

/* EVENTSEL bits common to Intel and AMD. */
#define EVTSEL_EVENT		0x000000ffull
#define EVTSEL_UMASK		0x0000ff00ull
#define EVTSEL_USR		(1ull << 16)
#define EVTSEL_OS		(1ull << 17)
#define EVTSEL_EDGE		(1ull << 18)
#define EVTSEL_PC		(1ull << 19)
#define EVTSEL_INT		(1ull << 20)
#define EVTSEL_EN		(1ull << 22)
#define EVTSEL_INV		(1ull << 23)
#define EVTSEL_CMASK		0xff000000ull

/* One 4-bit field of IA32_FIXED_CTR_CTRL. */
#define FIXED_OS		0x1ull
#define FIXED_USR		0x2ull
#define FIXED_PMI		0x8ull

/*
 * How the host event's count relates to the guest value. Tracking this
 * lets enable/disable/counter writes skip host reads where the answer is
 * already known.
 */
enum bev_sync {
	SYNC_LIVE,	/* enabled: value = base + (count_now - ref) */
	SYNC_DIRTY,	/* disabled since last read: value = base + (c - ref) */
	SYNC_CLEAN,	/* disabled, folded: value = base */
	SYNC_REBASED,	/* disabled, guest wrote base: ref unknown, unneeded */
};

struct vpmc {
	int idx;		/* pmc[] slot */
	bool fixed;
	uint64_t ctrl;		/* EVENTSEL, or the fixed counter's 4 bits */
	uint64_t base;		/* guest value at bev_ref (unmasked) */

	struct pmu_bev *bev;	/* NULL: no host event */
	bool bev_enabled;
	enum bev_sync sync;
	uint64_t bev_key;	/* config the event was opened with */
	uint64_t bev_ref;	/* host count matching base */
	uint64_t bev_period;	/* 0: counting event */
	/*
	 * Sampling event: the host count of its next overflow. The host
	 * re-arms itself with bev_period at each overflow and a stopped
	 * event keeps its distance, so a guest reload that lands here (as
	 * Linux's PMI handler's does) needs no PERF_EVENT_IOC_PERIOD.
	 */
	uint64_t bev_fire;
	uint64_t self_rearms; /* the host's own re-arms since we armed it */
	/* the guest's period as its last reload tells it (the overshoot it
	 * read plus the distance it wrote), 0 if it does not */
	uint64_t reload_cadence;
	uint64_t unacked_ns; /* when its status bit last went on */
	uint64_t last_used_ns;
	uint64_t synced_ns;	/* when base last caught up with the host */
	bool throttled;		/* wants an event; the open bound said later */
	/* the guest turned it off with all the others and the host event
	 * runs on: the vPMU treats it as stopped at bev_ref (hold.c) */
	bool held;
	/* a guest write moved its wrap while held, and both the wrap and the
	 * host's overflow are far: the re-arm waits until the wrap comes near
	 * (hold.c), so a Linux context switch's reload costs no host call */
	bool rearm_due;
};

/*
 * A host event the cache policy stopped and kept when its vPMC changed
 * configuration, for when a vPMC takes that configuration again.
 */
struct pmu_parked {
	struct pmu_bev *bev;
	uint64_t key;		/* config it counts (vpmc_key) */
	int slot;		/* fixed: its pmc[] slot; GP: -1, any GP vPMC */
	int owner;		/* pmc[] slot that parked it, for the bound */
	uint64_t period;	/* sample period it is armed with */
	uint64_t fire;		/* host count of its next overflow */
	uint64_t frozen;	/* count it stopped at, if known */
	bool known;
	uint64_t parked_ns;
};

struct pmu_cache {
	unsigned int per_vpmc, per_vcpu;
	unsigned int nr;
	struct pmu_parked ev[PMU_CACHE_MAX_PER_VCPU];
	uint64_t next_expiry_ns;	/* no parked event idles out before */
};

/*
 * The bound on host opens (PMU_DEFAULT_OPEN_RATE), as a generic cell rate
 * algorithm: one open every interval_ns on average, up to window_ns ahead.
 */
struct pmu_open_budget {
	uint64_t interval_ns; /* 0: unbounded */
	uint64_t window_ns;   /* (burst - 1) * interval_ns */
	uint64_t tat_ns;      /* when the budget is back to full, in effect */
};

struct vpmu;

struct pmu_model_ops {
	int (*rdmsr)(struct vpmu *v, uint32_t msr, uint64_t *val);
	int (*wrmsr)(struct vpmu *v, uint32_t msr, uint64_t val);
	void (*describe)(const struct vpmu *v, const struct vpmc *pmc,
			 struct pmu_event_desc *desc);
	uint32_t (*counter_msr)(const struct vpmu *v, const struct vpmc *pmc);
};

extern const struct pmu_model_ops pmu_intel_ops;
extern const struct pmu_model_ops pmu_amd_ops;
int pmu_intel_msr_ranges(struct pmu_msr_range *out, int max);
int pmu_amd_msr_ranges(struct pmu_msr_range *out, int max);

struct vpmu {
	struct pmu_config cfg;
	struct pmu_backend be;
	struct pmu_backend_caps caps;
	const struct pmu_model_ops *model;

	unsigned int nr_gp;
	unsigned int nr_fixed;
	struct vpmc pmc[PMU_MAX_PMC];

	bool has_global;	/* Intel v2, AMD PerfMonV2 */
	uint64_t global_ctrl;	/* all ones where the model has none */
	uint64_t global_status;
	bool pmi_pending;

	uint64_t now_ns;	/* time of the last tick */
	struct pmu_open_budget budget;
	unsigned int nr_throttled; /* vPMCs with throttled set */
	unsigned int nr_held;	   /* vPMCs with held set */
	unsigned int nr_rearm_due; /* vPMCs with rearm_due set */
	struct pmu_cache cache;
	struct pmu_stats stats;
};

/* vpmu.c: counter values and host event primitives */
uint64_t vpmc_global_bit(const struct vpmc *pmc);
bool vpmc_enabled(const struct vpmu *v, const struct vpmc *pmc);
bool vpmc_exists(const struct vpmu *v, unsigned int slot); /* in this model */
uint64_t vpmc_key(const struct vpmc *pmc);
bool vpmc_wants_pmi(const struct vpmc *pmc);
struct vpmc *vpmu_gp(struct vpmu *v, unsigned int i);
struct vpmc *vpmu_fixed(struct vpmu *v, unsigned int i);
void vpmc_touch(struct vpmu *v, struct vpmc *pmc);
int vpmc_read(struct vpmu *v, struct vpmc *pmc, uint64_t *val);
int vpmc_write(struct vpmu *v, struct vpmc *pmc, uint64_t val);
int vpmc_bev_open(struct vpmu *v, struct vpmc *pmc);
int vpmc_bev_close(struct vpmu *v, struct vpmc *pmc);
int vpmc_bev_enable(struct vpmu *v, struct vpmc *pmc);
int vpmc_bev_disable(struct vpmu *v, struct vpmc *pmc);
/* Events from @value to the wrap of a guest counter. */
uint64_t vpmc_to_wrap(uint64_t value);
/* overflow.c: add @delta host events to base; crossing the wrap sets the
 * status bit and, under INT, a pending PMI. */
void vpmc_fold(struct vpmu *v, struct vpmc *pmc, uint64_t delta);
/* The host re-arms a sampling event with its period at every overflow:
 * move bev_fire past @count as it did. */
void vpmc_follow_fire(struct vpmc *pmc, uint64_t count);
uint64_t vpmc_period(struct vpmu *v, const struct vpmc *pmc);
/* Fold every counting host event, so GLOBAL_STATUS shows each overflow
 * that has happened, as hardware's does the moment it happens. */
int vpmu_fold_all(struct vpmu *v);
bool vpmc_may_have_wrapped(const struct vpmu *v, const struct vpmc *pmc);
/* Whether @pmc's configuration gets no host event however often it is
 * enabled: the host cannot count it, or the event filter denies it. */
bool vpmc_never_counts(const struct vpmu *v, const struct vpmc *pmc);
/* Fold the host count when the counter may have wrapped since it was last
 * synced: an overflow belongs to the control it happened under (its status
 * bit always, a PMI only if that control asked for one). Call before the
 * control changes and at a disable. */
int vpmc_fold_if_wrapped(struct vpmu *v, struct vpmc *pmc);
/* A stopped event whose guest value was rewritten: read the count it
 * stopped at as the new reference (SYNC_REBASED -> SYNC_CLEAN). */
int vpmc_learn_ref(struct vpmu *v, struct vpmc *pmc);
/* toggle.c: a global control flip in one host call where that is exact.
 * 1: done; 0: reprogram counter by counter; negative errno. */
int vpmu_toggle_all(struct vpmu *v, uint64_t changed);
/* hold.c: a global control flip with no host call, where the host's
 * counts can be read in place (see there). */
bool vpmu_can_hold(const struct vpmu *v);
/* All counters go off: 1 if held, 0 if the host must stop them. */
int vpmu_hold_all(struct vpmu *v);
/* After a global control write: 1 if the held counters came back on in
 * place or stay held, 0 if the rest is to be done (any held ones were
 * settled), negative errno. */
int vpmu_resume_held(struct vpmu *v);
/* Stop every held event for real (before anything that needs the host). */
int vpmu_settle_held(struct vpmu *v);
void vpmc_unhold(struct vpmu *v, struct vpmc *pmc); /* its event is gone */
/* A re-arm of a held counter that can wait: true if it was deferred. */
bool vpmc_defer_rearm(struct vpmu *v, struct vpmc *pmc, uint64_t to_wrap);
void vpmc_set_rearm_due(struct vpmu *v, struct vpmc *pmc, bool on);
/* At a tick: deferred re-arms whose wrap has come near, done now. */
int vpmu_rearm_due(struct vpmu *v);
/* Just before a stop, where the host allows: fold the count read in place,
 * which is the count it stops at; then the stopped event is SYNC_CLEAN. */
bool vpmc_fold_in_place(struct vpmu *v, struct vpmc *pmc);
/* Stop @pmc's host event, fold its count and take it off @pmc, open. */
int vpmc_bev_detach(struct vpmu *v, struct vpmc *pmc, struct pmu_parked *out);
/* Give @pmc a stopped host event of its configuration. */
void vpmc_bev_attach(struct vpmu *v, struct vpmc *pmc,
		     const struct pmu_parked *p);
/* Close a host event no vPMC holds. */
void vpmu_bev_release(struct vpmu *v, struct pmu_bev *bev);

/* cache.c: the cache policy's parked events */
void pmu_cache_init(struct vpmu *v);
/* Park @pmc's event, attach a parked one of its new config if any. */
int pmu_cache_switch(struct vpmu *v, struct vpmc *pmc);
/* Attach a parked event of @pmc's configuration; false if none. */
bool pmu_cache_take(struct vpmu *v, struct vpmc *pmc);
/* Close the oldest parked event; false if there is none. */
bool pmu_cache_evict_oldest(struct vpmu *v);
void pmu_cache_tick(struct vpmu *v);
void pmu_cache_release_all(struct vpmu *v);

/* filter.c */
bool pmu_filter_blocks(const struct pmu_event_filter *f,
		       const struct vpmc *pmc);
int pmu_filter_check(const struct pmu_event_filter *f, enum pmu_model model,
		     char *err, size_t len);

/* policy.c: bring host events in line with the guest registers */
int vpmc_reprogram(struct vpmu *v, struct vpmc *pmc);

/* throttle.c: the bound on host opens (see PMU_DEFAULT_OPEN_RATE). */
void open_budget_init(struct vpmu *v);
bool open_budget_room(const struct vpmu *v); /* room for one open now */
bool open_budget_take(struct vpmu *v);	     /* false: over the bound */
void set_throttled(struct vpmu *v, struct vpmc *pmc, bool on);
void retry_throttled(struct vpmu *v); /* open what waited, while there is room */
int vpmu_reprogram_mask(struct vpmu *v, uint64_t changed_global_bits);
/* Sampling @pmc's guest value moved: point the host's overflow at its
 * wrap, with no host call where it already is (naive: recreate). */
int vpmc_rearm(struct vpmu *v, struct vpmc *pmc);
int vpmc_set_ctrl(struct vpmu *v, struct vpmc *pmc, uint64_t ctrl);
int vpmu_set_global_ctrl(struct vpmu *v, uint64_t ctrl);

#endif
