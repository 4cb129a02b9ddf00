/*
 * libFuzzer harness of the virtual PMU: random PMU MSR sequences per model
 * (Intel or AMD, counter count, full-width writes) run on four vPMUs over
 * fake host backends: lazy, naive, cache over a host that keeps overflow
 * records (perf's ring), and cache over one that also lets its counts be
 * read in place (rdpmc: global flips held), in the VM core's order (a clock tick
 * before each exit, then the MSR access; an overflow check after a host
 * signal). Host counts advance with time, never faster than
 * PMU_MAX_EVENTS_PER_NS, as on a real host. Checked after every step: no
 * crash, host events <= vPMCs (plus the cache's stopped ones), counter
 * reads masked to the counter width, and the guest sees the same thing
 * under every policy (result, #GP, value read, PMI raised). A difference
 * aborts with the step that shows it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_backend.h"
#include "fuzz_input.h"
#include "pmu/msr.h"
#include "pmu/pmu.h"

#define NR_POLICIES 4
#define MAX_RANGES  16
/* Kept in step with pmu/vpmu_priv.h: the fastest a host counter counts. */
#define MAX_EVENTS_PER_NS 64

struct side {
	struct fake_backend fb;
	struct pmu_backend be;
	struct pmu_config cfg;
	struct vpmu *v;
};

static bool is_counter(const struct pmu_config *cfg, uint32_t msr)
{
	if (cfg->model == PMU_MODEL_INTEL)
		return (msr >= MSR_IA32_PMC0 && msr < MSR_IA32_PMC0 + 8) ||
		       (msr >= MSR_IA32_A_PMC0 && msr < MSR_IA32_A_PMC0 + 8) ||
		       (msr >= MSR_IA32_FIXED_CTR0 && msr < MSR_IA32_FIXED_CTR0 + 4);
	return (msr >= MSR_K7_PERFCTR0 && msr < MSR_K7_PERFCTR0 + 4) ||
	       (msr >= MSR_F15H_PERF_CTL0 && msr < MSR_F15H_PERF_CTL0 + 12 && (msr & 1));
}

/* Plausible values most of the time: control bits, near-wrap counts. */
static uint64_t pick_value(struct fuzz_in *in)
{
	unsigned int shape = (unsigned int)fuzz_uint(in, 1);
	uint64_t raw = fuzz_uint(in, 8);

	switch (shape % 6) {
	case 0:
		return raw;
	case 1: /* an event select: event, umask, USR/OS/INT/EN */
		return (raw & 0xffff) |
		       (raw & ((1ull << 16) | (1ull << 17) | (1ull << 20) | (1ull << 22)));
	case 2: /* a counter a few events from its wrap */
		return ((1ull << PMU_COUNTER_WIDTH) - 1 - (raw & 0xfff)) |
		       (shape & 0x80 ? ~((1ull << PMU_COUNTER_WIDTH) - 1) : 0);
	case 3: /* global enables and fixed-counter fields */
		return raw & 0x70000003full;
	case 4:
		return raw & 0xbbb;
	default:
		return raw & 0xff;
	}
}

static uint32_t pick_msr(struct fuzz_in *in, const struct pmu_msr_range *r, int n)
{
	unsigned int a = (unsigned int)fuzz_uint(in, 1), b = (unsigned int)fuzz_uint(in, 1);
	const struct pmu_msr_range *p;

	if (n <= 0 || a == 0xff)
		return (uint32_t)fuzz_uint(in, 4); /* anything at all */
	p = &r[a % n];
	return p->base + b % (p->count + 1); /* one past the end too */
}

static const char *const side_names[NR_POLICIES] = {"lazy", "naive", "cache", "cache+peek"};

static void fail(const char *what, unsigned int step, uint32_t msr, int side, uint64_t a,
		 uint64_t b)
{
	fprintf(stderr, "fuzz-vpmu: step %u, MSR 0x%x: %s: lazy 0x%llx, %s 0x%llx\n", step, msr,
		what, (unsigned long long)a, side_names[side], (unsigned long long)b);
	abort();
}

/* Each other policy against lazy. */
static void same(const char *what, unsigned int step, uint32_t msr, const uint64_t *v)
{
	for (int i = 1; i < NR_POLICIES; i++)
		if (v[i] != v[0])
			fail(what, step, msr, i, v[0], v[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct side s[NR_POLICIES];
	struct pmu_msr_range ranges[MAX_RANGES];
	unsigned int shape = (unsigned int)fuzz_uint(&in, 1), max_events, step = 0;
	enum pmu_model model = shape & 1 ? PMU_MODEL_AMD : PMU_MODEL_INTEL;

	uint64_t now = 1000000;
	int n, created = 0;
	/* FUZZ_VPMU_TRACE=1: print every step (to read a finding). */
	bool trace = getenv("FUZZ_VPMU_TRACE") != NULL;

	for (int i = 0; i < NR_POLICIES; i++) {
		fake_init(&s[i].fb, &s[i].be);
		pmu_config_defaults(&s[i].cfg, model);
		s[i].cfg.policy = i == 0 ? PMU_POLICY_LAZY : i == 1 ? PMU_POLICY_NAIVE : PMU_POLICY_CACHE;
		s[i].fb.records = i >= 2;
		s[i].fb.caps.peek = s[i].fb.caps.exclude_host = i == 3;
		/* naive opens at every control write, lazy rarely: under the
		 * bound on opens they would differ by design (test_throttle.c) */
		s[i].cfg.open_rate = PMU_OPEN_RATE_UNBOUNDED;
		if (model == PMU_MODEL_INTEL) {
			s[i].cfg.nr_gp = 1 + (shape >> 1) % 8;
			s[i].cfg.full_width_writes = shape & 0x10;
		} else if (shape & 2) {
			s[i].cfg.nr_gp = 4;
			s[i].cfg.perfmon_v2 = false;
		}
		if (pmu_config_check(&s[i].cfg, NULL, 0) < 0 ||
		    vpmu_create(&s[i].cfg, &s[i].be, &s[i].v) < 0)
			goto out;
		created++;
	}
	max_events = s[0].cfg.nr_gp ? s[0].cfg.nr_gp : (model == PMU_MODEL_INTEL ? 4 : 6);
	if (model == PMU_MODEL_INTEL)
		max_events += 3;
	n = pmu_msr_ranges(&s[0].cfg, ranges, MAX_RANGES);

	while (fuzz_left(&in) > 0) {
		unsigned int op = (unsigned int)fuzz_uint(&in, 1);
		uint32_t msr = 0;
		uint64_t val = 0, got[NR_POLICIES] = {0};
		uint64_t ret[NR_POLICIES], pmi[NR_POLICIES];

		step++;
		if (op % 4 == 0) {
			/* Time passes, and the host counts with it. */
			uint64_t events = fuzz_uint(&in, 3);
			uint64_t idle = fuzz_uint(&in, 1) * 200000ull; /* up to ~5 idle slices */

			for (int i = 0; i < NR_POLICIES; i++)
				fake_advance(&s[i].fb, events);
			now += (events + MAX_EVENTS_PER_NS - 1) / MAX_EVENTS_PER_NS + idle;
			if (trace)
				fprintf(stderr, "%u: advance %llu events, now %llu ns\n", step,
					(unsigned long long)events, (unsigned long long)now);
			continue;
		}
		if (op % 4 == 1) {
			/* A host signal: the exit that looks for overflows. */
			for (int i = 0; i < NR_POLICIES; i++) {
				vpmu_tick(s[i].v, now);
				ret[i] = (uint64_t)vpmu_overflow(s[i].v);
				pmi[i] = vpmu_take_pmi(s[i].v);
			}
			if (trace)
				fprintf(stderr,
					"%u: signal: overflow %d/%d/%d/%d pmi %d/%d/%d/%d\n", step,
					(int)ret[0], (int)ret[1], (int)ret[2], (int)ret[3],
					(int)pmi[0], (int)pmi[1], (int)pmi[2], (int)pmi[3]);
			same("overflow check", step, 0, ret);
			same("PMI after a signal", step, 0, pmi);
			continue;
		}
		msr = pick_msr(&in, ranges, n);
		if (op % 4 == 2)
			val = pick_value(&in);
		for (int i = 0; i < NR_POLICIES; i++) {
			vpmu_tick(s[i].v, now);
			if (op % 4 == 2)
				ret[i] = (uint64_t)vpmu_wrmsr(s[i].v, msr, val);
			else
				ret[i] = (uint64_t)vpmu_rdmsr(s[i].v, msr, &got[i]);
			pmi[i] = vpmu_take_pmi(s[i].v);
			/* the cache policy holds stopped events besides */
			if ((unsigned int)s[i].fb.live >
			    max_events + (s[i].cfg.policy == PMU_POLICY_CACHE
					      ? PMU_CACHE_DEFAULT_PER_VCPU
					      : 0))
				fail("host events over the vPMCs", step, msr, i, s[0].fb.live,
				     s[i].fb.live);
		}
		if (trace)
			fprintf(stderr,
				"%u: %s 0x%x %llx -> ret %d/%d/%d/%d val %llx/%llx/%llx/%llx pmi "
				"%d/%d/%d/%d\n",
				step, op % 4 == 2 ? "WRMSR" : "RDMSR", msr, (unsigned long long)val,
				(int)ret[0], (int)ret[1], (int)ret[2], (int)ret[3],
				(unsigned long long)got[0], (unsigned long long)got[1],
				(unsigned long long)got[2], (unsigned long long)got[3], (int)pmi[0],
				(int)pmi[1], (int)pmi[2], (int)pmi[3]);
		same(op % 4 == 2 ? "WRMSR result" : "RDMSR result", step, msr, ret);
		if (op % 4 == 3 && ret[0] == 0) {
			same("value read", step, msr, got);
			if (is_counter(&s[0].cfg, msr) && got[0] > (1ull << PMU_COUNTER_WIDTH) - 1)
				fail("counter wider than its width", step, msr, 0, got[0], got[0]);
		}
		same("PMI", step, msr, pmi);
	}
out:
	for (int i = 0; i < created; i++) {
		vpmu_destroy(s[i].v);
		if (s[i].fb.live != 0)
			abort(); /* an event leaked */
	}
	return 0;
}
