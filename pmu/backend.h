/*
 * Host backend interface of the virtual PMU: how a vPMC gets a host event.
 * The core never talks to perf directly, so the same state machine runs on
 * real perf, on nothing (null), or on a recording fake in unit tests.
 */
#ifndef PMU_BACKEND_H
#define PMU_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pmu_model {
	PMU_MODEL_INTEL,
	PMU_MODEL_AMD,
};

/*
 * Generic events, numbered like the bits of Intel CPUID.0AH:EBX so the
 * availability mask can be built directly from the backend capabilities.
 */
enum pmu_generic_event {
	PMU_EV_CYCLES,
	PMU_EV_INSTRUCTIONS,
	PMU_EV_REF_CYCLES,
	PMU_EV_LLC_REFERENCES,
	PMU_EV_LLC_MISSES,
	PMU_EV_BRANCHES,
	PMU_EV_BRANCH_MISSES,
	PMU_EV_NR_GENERIC,
	PMU_EV_RAW = PMU_EV_NR_GENERIC,	/* no generic equivalent */
};

/* What a vPMC asks the host to count, decoded from the guest registers. */
struct pmu_event_desc {
	enum pmu_model model;		/* vendor the raw encoding belongs to */
	enum pmu_generic_event generic;	/* PMU_EV_RAW if none */
	uint64_t raw_config;		/* event/umask/edge/inv/cmask only */
	bool fixed;			/* Intel fixed counter: generic only */
	bool exclude_user;
	bool exclude_kernel;
	uint64_t sample_period;		/* 0: counting, else overflow after */
	bool records;			/* sampling: keep overflow records */
	int index;			/* vPMC index, for diagnostics */
};

struct pmu_bev_count {
	uint64_t value;		/* events since open, in guest units */
	uint64_t time_enabled;	/* ns */
	uint64_t time_running;	/* ns; < time_enabled: descheduled */
};

struct pmu_backend_caps {
	const char *name;	/* e.g. "perf", "perf (software fallback)" */
	uint32_t counts;	/* bit per pmu_generic_event it can count */
	uint32_t software;	/* subset counted by a software fallback */
	bool raw;		/* arbitrary raw events of the guest model */
	bool exclude_host;	/* events can count guest mode only */
	bool sampling;		/* overflow after a period is delivered */
	bool peek;		/* counts can be read in place (see peek) */
};

/* Opaque host event; each backend defines its own. */
struct pmu_bev;

/*
 * All calls for one vPMU come from its vCPU thread. ctx is not modified by
 * open/close/..., so one backend may serve every vCPU of a VM.
 */
struct pmu_backend_ops {
	int (*open)(void *ctx, const struct pmu_event_desc *desc, bool enabled,
		    struct pmu_bev **out);
	void (*close)(void *ctx, struct pmu_bev *ev);
	int (*enable)(void *ctx, struct pmu_bev *ev);
	int (*disable)(void *ctx, struct pmu_bev *ev);
	/* -ENODATA: the host could not keep the event scheduled */
	int (*read)(void *ctx, struct pmu_bev *ev, struct pmu_bev_count *out);
	int (*set_period)(void *ctx, struct pmu_bev *ev, uint64_t period);
	/*
	 * Optional, for events opened with desc->records: the count at the
	 * last overflow the host recorded since the previous call, found
	 * without a host call (perf: a sample in the event's ring buffer).
	 * Returns 1 with *count set, 0 if no overflow was recorded, or
	 * -ENODATA if the backend cannot tell (no ring, records lost): then
	 * read the event.
	 */
	int (*overflowed)(void *ctx, struct pmu_bev *ev, uint64_t *count);
	/*
	 * Optional: enable or disable every event the calling thread opened,
	 * in one host call (perf: prctl PR_TASK_PERF_EVENTS_ENABLE/DISABLE).
	 * A vCPU thread opens only its own vPMCs' events, so this is "all of
	 * this vCPU's counters".
	 */
	int (*set_all)(void *ctx, bool enable);
	/*
	 * Optional: a running event's count (as read() gives it) without a
	 * host call, read on the calling thread (perf: rdpmc through the
	 * event's mmap page). -EAGAIN where it cannot be had that way now
	 * (the event is stopped or off the PMU, no page): then read.
	 */
	int (*peek)(void *ctx, struct pmu_bev *ev, uint64_t *count);
	void (*caps)(void *ctx, struct pmu_backend_caps *out);
	void (*destroy)(void *ctx);
};

struct pmu_backend {
	const struct pmu_backend_ops *ops;
	void *ctx;
};

struct pmu_perf_config {
	enum pmu_model guest_model;	/* raw events only if host matches */
	uint32_t tsc_khz;		/* scales task-clock ns to cycles */
	int overflow_signal;		/* 0: none, else signal on overflow */
	bool force_software;		/* pretend there is no hardware PMU */
};

int pmu_backend_perf_create(const struct pmu_perf_config *cfg,
			    struct pmu_backend *out);
int pmu_backend_null_create(struct pmu_backend *out);
void pmu_backend_destroy(struct pmu_backend *be);

/* One line saying which backend and which fallbacks are active. */
int pmu_backend_describe(const struct pmu_backend_caps *caps, char *buf,
			 size_t len);

#endif
