/*
 * The virtual PMU as the VM core sees it: one vpmu per vCPU, driven only
 * from that vCPU's thread by MSR exits, CPUID setup and a slice tick.
 * Nothing here knows KVM; the VM core adapts these calls to its exits.
 */
#ifndef PMU_PMU_H
#define PMU_PMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmu/backend.h"

#define PMU_INTEL_MAX_GP	8
#define PMU_INTEL_NR_FIXED	3
#define PMU_AMD_NR_LEGACY	4
#define PMU_AMD_NR_CORE		6
#define PMU_COUNTER_WIDTH	48
#define PMU_DEFAULT_IDLE_SLICE_NS	10000000ull

/*
 * The cache policy's bounds: stopped host events kept per vPMC and per
 * vCPU. Five per vPMC let a counter rotate through six configurations (a
 * multiplexing perf) without opening anything; host fds per vCPU stay at
 * most vPMCs + the per-vCPU bound.
 */
#define PMU_CACHE_DEFAULT_PER_VPMC	5
#define PMU_CACHE_DEFAULT_PER_VCPU	24
#define PMU_CACHE_MAX_PER_VCPU		64

/*
 * The bound on host perf_event_open per vCPU, a token bucket: a guest that
 * changes event configurations in a storm cannot make the host open events
 * without limit. 10,000 opens/s with a burst of 2,000 is ~50x what perf in
 * the project's Linux guest needs (naive perf stat around context switches
 * in the rig: ~5,000/s at most; lazy and cache open a handful). A counter
 * over the budget keeps its guest value and does not count, as a filtered
 * one, until the budget allows its open again (at the next exit's tick or
 * its next enable). Statistics: `throttled`.
 */
#define PMU_DEFAULT_OPEN_RATE	10000
#define PMU_DEFAULT_OPEN_BURST	2000
#define PMU_OPEN_RATE_UNBOUNDED UINT32_MAX

enum pmu_policy {
	PMU_POLICY_LAZY,	/* reuse host events, release idle ones */
	PMU_POLICY_NAIVE,	/* recreate on control writes (pre-5.5 KVM) */
	PMU_POLICY_CACHE,	/* lazy, and park events across config changes */
};

/*
 * Which guest events may count, as KVM_SET_PMU_EVENT_FILTER: an allow or
 * deny list of event selects (with or without a unit mask) and of Intel
 * fixed counters by index. A filtered counter never gets a host event and
 * keeps the value the guest wrote; the guest sees no fault.
 */
#define PMU_FILTER_MAX_EVENTS	32
#define PMU_FILTER_ANY_UMASK	(1u << 20)
/* Entry of a filter list: a 12-bit event select, a unit mask or any. */
#define PMU_FILTER_EVENT(sel, umask) \
	((((uint32_t)(umask) & 0xff) << 12) | ((uint32_t)(sel) & 0xfff))
#define PMU_FILTER_EVENT_ANY(sel) \
	(PMU_FILTER_ANY_UMASK | ((uint32_t)(sel) & 0xfff))

enum pmu_filter_action {
	PMU_FILTER_NONE,	/* every event counts */
	PMU_FILTER_ALLOW,	/* only the listed ones */
	PMU_FILTER_DENY,	/* all but the listed ones */
};

struct pmu_event_filter {
	enum pmu_filter_action action;
	unsigned int nr_events;
	uint32_t events[PMU_FILTER_MAX_EVENTS];
	uint32_t fixed;		/* bit i: Intel fixed counter i is listed */
};

enum pmu_log_level {
	PMU_LOG_ERR,
	PMU_LOG_WARN,
	PMU_LOG_INFO,
};

struct pmu_config {
	enum pmu_model model;
	enum pmu_policy policy;
	/* 0: default (Intel 4, AMD 6); Intel 1..8, AMD 4 (legacy) or 6 */
	unsigned int nr_gp;
	bool full_width_writes;	/* Intel: IA32_A_PMCx + PERF_CAPABILITIES[13] */
	bool perfmon_v2;	/* AMD: global ctl/status, needs 6 counters */
	uint64_t idle_slice_ns;	/* 0: default 10 ms */
	uint32_t tsc_khz;	/* guest TSC, for the software fallback */
	/* cache policy: parked events per vPMC and per vCPU (0: default) */
	unsigned int cache_per_vpmc;
	unsigned int cache_per_vcpu;
	struct pmu_event_filter filter;
	/* host opens per second per vCPU (0: default; UNBOUNDED: no bound)
	 * and how many may come at once (0: default) */
	uint32_t open_rate;
	uint32_t open_burst;
	void (*log)(void *opaque, int level, const char *msg);
	void *log_opaque;
};

/* Fill *cfg with the defaults of a model (cache policy, all features on). */
void pmu_config_defaults(struct pmu_config *cfg, enum pmu_model model);
/* 0 if the model can have this shape; else -EINVAL and one line in @err. */
int pmu_config_check(const struct pmu_config *cfg, char *err, size_t len);
/*
 * "allow:LIST" or "deny:LIST", LIST comma-separated items: EVENT (any unit
 * mask), EVENT:UMASK (numbers in C syntax) or fixedN. 0, or -EINVAL with
 * one line in @err. Whether the model has those events is checked later,
 * by pmu_config_check().
 */
int pmu_filter_parse(const char *spec, struct pmu_event_filter *f, char *err,
		     size_t len);

struct pmu_stats {
	/* guest MSR exits */
	uint64_t rdmsr;
	uint64_t rdmsr_counter;
	uint64_t wrmsr;
	uint64_t wrmsr_eventsel;
	uint64_t wrmsr_counter;
	uint64_t wrmsr_fixed_ctrl;
	uint64_t wrmsr_global_ctrl;
	uint64_t wrmsr_global_status;	/* OVF_CTRL, STATUS_CLR/SET, STATUS */
	uint64_t wrmsr_other;
	uint64_t gp_faults;
	/* host backend calls */
	uint64_t opens;
	uint64_t open_failures;
	uint64_t closes;
	uint64_t enables;
	uint64_t disables;
	uint64_t reads;
	uint64_t set_periods;
	uint64_t group_toggles;	/* every counter on/off in one host call */
	uint64_t held_toggles;	/* ... and in none: counts read in place */
	/* policy outcomes */
	uint64_t recreations;
	uint64_t idle_releases;
	uint64_t descheduled;
	uint64_t overflows;
	uint64_t pmis;
	/* cache policy: events stopped and kept, re-used, opened anyway,
	 * closed to stay within the bounds */
	uint64_t parks;
	uint64_t cache_hits;
	uint64_t cache_misses;
	uint64_t evictions;
	/* enables of counters whose event the filter keeps off the host */
	uint64_t filtered;
	/* counters left without a host event by the bound on opens, until the
	 * budget allowed their open again */
	uint64_t throttled;
	/* host events held */
	uint64_t fds_open;
	uint64_t fds_peak;	/* summed: an upper bound of the VM's peak */
};

struct vpmu;

int vpmu_create(const struct pmu_config *cfg, const struct pmu_backend *be,
		struct vpmu **out);
void vpmu_destroy(struct vpmu *v);

/*
 * 0: handled. -EINVAL: the guest gets #GP. Other negative errno: host
 * failure; the register state is still updated and *val still set.
 */
int vpmu_rdmsr(struct vpmu *v, uint32_t msr, uint64_t *val);
int vpmu_wrmsr(struct vpmu *v, uint32_t msr, uint64_t val);

/* Slice bookkeeping; call at every exit and from a periodic kick. */
void vpmu_tick(struct vpmu *v, uint64_t now_ns);

/*
 * Host overflow signal arrived (or a periodic check): fold the counts of
 * sampling counters, set global status bits, re-arm periods. Returns 1 if
 * the guest should get a PMI now, 0 if not, negative errno on host failure.
 */
int vpmu_overflow(struct vpmu *v);

/*
 * A guest MSR access (a counter read, a disable, a status read) may find
 * an overflow that wants a PMI. Call after each access and deliver at the
 * end of that exit when this returns true: hardware would have raised it
 * already, and a guest that waits for it polls the counter meanwhile.
 */
bool vpmu_take_pmi(struct vpmu *v);

/* Values for an in-kernel shadow PMU so guest RDPMC sees coherent counts. */
struct pmu_msr_value {
	uint32_t msr;
	uint64_t value;
};
int vpmu_shadow_values(struct vpmu *v, struct pmu_msr_value *out, int max);

const struct pmu_stats *vpmu_stats(const struct vpmu *v);
void pmu_stats_add(struct pmu_stats *sum, const struct pmu_stats *add);
/* Text: one "name value" line per field. JSON: one object, no newline.
 * Returns the length snprintf would write, or negative errno. */
int pmu_stats_format(const struct pmu_stats *s, bool json, char *buf,
		     size_t len);

/* MSRs the vPMU owns, for the VM core's MSR filter. */
struct pmu_msr_range {
	uint32_t base;
	uint32_t count;
};
int pmu_msr_ranges(const struct pmu_config *cfg, struct pmu_msr_range *out,
		   int max);

/* The CPUID leaves the vPMU owns (patches or hides); nothing else. */
extern const uint32_t pmu_cpuid_leaves[];
extern const unsigned int pmu_cpuid_nr_leaves;

/* A CPUID leaf, independent of KVM's structure. */
struct pmu_cpuid_entry {
	uint32_t function;
	uint32_t index;
	uint32_t eax, ebx, ecx, edx;
};
/* Add/patch the PMU leaves; returns the new entry count or -errno. */
int pmu_cpuid_patch(const struct pmu_config *cfg,
		    const struct pmu_backend_caps *caps,
		    struct pmu_cpuid_entry *entries, int n, int max);
/* --pmu off: make every PMU leaf say "no PMU"; returns n. */
int pmu_cpuid_hide(struct pmu_cpuid_entry *entries, int n);

#endif
