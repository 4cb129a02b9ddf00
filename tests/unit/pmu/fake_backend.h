/*
 * A recording fake host backend for the vPMU unit tests: counts every
 * call, lets a test advance the host counts, and injects failures.
 */
#ifndef PMU_TEST_FAKE_BACKEND_H
#define PMU_TEST_FAKE_BACKEND_H

#include "pmu/pmu.h"

#define FAKE_MAX_EVENTS 32
#define FAKE_MAX_TRACE 64

enum fake_op { FAKE_OPEN, FAKE_CLOSE, FAKE_ENABLE, FAKE_DISABLE, FAKE_READ,
	       FAKE_SET_PERIOD, FAKE_SET_ALL };

struct pmu_bev {
	bool in_use;
	bool enabled;
	bool descheduled;	/* next read says the host dropped it */
	uint64_t count;
	uint64_t period;
	uint64_t next_fire;	/* count of the next overflow (sampling) */
	bool recorded;		/* an overflow record not taken yet */
	uint64_t record;	/* its count */
	struct pmu_event_desc desc;
};

struct fake_backend {
	struct pmu_backend_caps caps;
	struct pmu_bev ev[FAKE_MAX_EVENTS];
	int calls[FAKE_SET_ALL + 1];
	int live, max_live;
	/* -errno for the next call only */
	int fail_open, fail_read, fail_enable, fail_disable;
	struct pmu_event_desc last_open;
	bool last_open_enabled;
	uint64_t last_period;
	enum fake_op trace[FAKE_MAX_TRACE];	/* the last calls, in order */
	int ntrace;
	/* keep overflow records for events opened asking for them (as perf's
	 * ring); otherwise overflowed() says a read must tell */
	bool records;
	/* with caps.peek: running events are read in place (counted in
	 * peeks); fail_peek makes every such read fail */
	int peeks;
	bool fail_peek;
};

/* caps: every generic event, raw events, sampling. */
void fake_init(struct fake_backend *fb, struct pmu_backend *be);
void fake_reset_calls(struct fake_backend *fb);
/* Let every enabled host event count @n more (and record overflows). */
void fake_advance(struct fake_backend *fb, uint64_t n);
/* The live event of vPMC slot @index, or NULL. */
struct pmu_bev *fake_event_of(struct fake_backend *fb, int index);

#endif
