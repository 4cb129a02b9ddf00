/*
 * Shared bits of the vPMU unit tests: architectural MSR numbers (written
 * out here on purpose, so the tests do not trust the code's own tables)
 * and a helper to build a vPMU over the fake backend.
 */
#ifndef PMU_TEST_UTIL_H
#define PMU_TEST_UTIL_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_backend.h"

#define PMC0		0x0c1
#define EVTSEL0		0x186
#define FIXED_CTR0	0x309
#define PERF_CAPS	0x345
#define FIXED_CTRL	0x38d
#define GLOBAL_STATUS	0x38e
#define GLOBAL_CTRL	0x38f
#define GLOBAL_OVF	0x390
#define A_PMC0		0x4c1

#define K7_EVTSEL0	0xc0010000
#define K7_CTR0		0xc0010004
#define F15_CTL(i)	(0xc0010200 + 2 * (i))
#define F15_CTR(i)	(0xc0010201 + 2 * (i))
#define AMD_STATUS	0xc0000300
#define AMD_CTL		0xc0000301
#define AMD_STATUS_CLR	0xc0000302
#define AMD_STATUS_SET	0xc0000303

#define EN		(1ull << 22)
#define INT		(1ull << 20)
#define USR		(1ull << 16)
#define OS		(1ull << 17)
#define CYCLES_SEL	(0x3cull | USR | OS)		/* Intel */
#define INSTR_SEL	(0xc0ull | USR | OS)		/* both vendors */
#define AMD_CYCLES_SEL	(0x76ull | USR | OS)
#define MASK48		((1ull << 48) - 1)
#define SLICE		10000000ull

struct tpmu {
	struct fake_backend fb;
	struct pmu_backend be;
	struct pmu_config cfg;
	struct vpmu *v;
};

static inline void tpmu_init(struct tpmu *t, enum pmu_model model,
			     enum pmu_policy policy)
{
	fake_init(&t->fb, &t->be);
	pmu_config_defaults(&t->cfg, model);
	t->cfg.policy = policy;
}

static inline void tpmu_start(struct tpmu *t)
{
	assert_int_equal(vpmu_create(&t->cfg, &t->be, &t->v), 0);
}

static inline void tpmu_new(struct tpmu *t, enum pmu_model model,
			    enum pmu_policy policy)
{
	tpmu_init(t, model, policy);
	tpmu_start(t);
}

static inline void tpmu_end(struct tpmu *t)
{
	vpmu_destroy(t->v);
	assert_int_equal(t->fb.live, 0);	/* nothing leaked */
}

static inline uint64_t rd(struct tpmu *t, uint32_t msr)
{
	uint64_t val = 0xdeadbeef;

	assert_int_equal(vpmu_rdmsr(t->v, msr, &val), 0);
	return val;
}

static inline void wr(struct tpmu *t, uint32_t msr, uint64_t val)
{
	assert_int_equal(vpmu_wrmsr(t->v, msr, val), 0);
}

static inline void wr_gp(struct tpmu *t, uint32_t msr, uint64_t val)
{
	assert_int_equal(vpmu_wrmsr(t->v, msr, val), -EINVAL);
}

static inline void rd_gp(struct tpmu *t, uint32_t msr)
{
	uint64_t val;

	assert_int_equal(vpmu_rdmsr(t->v, msr, &val), -EINVAL);
}

#define CALLS(t, op) ((t)->fb.calls[FAKE_##op])

#endif
