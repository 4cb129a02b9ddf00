/*
 * The bound on host perf_event_open per vCPU (a token bucket, in the GCRA
 * form: one "theoretical arrival time"), and the counters it left without a
 * host event until the budget has room again.
 */
#include <string.h>

#include "pmu/vpmu_priv.h"

void open_budget_init(struct vpmu *v)
{
	uint32_t rate = v->cfg.open_rate ? v->cfg.open_rate : PMU_DEFAULT_OPEN_RATE;
	uint32_t burst = v->cfg.open_burst ? v->cfg.open_burst : PMU_DEFAULT_OPEN_BURST;
	struct pmu_open_budget *b = &v->budget;

	memset(b, 0, sizeof(*b));
	if (rate == PMU_OPEN_RATE_UNBOUNDED)
		return;
	b->interval_ns = 1000000000ull / rate ? 1000000000ull / rate : 1;
	b->window_ns = (uint64_t)(burst - 1) * b->interval_ns;
}

/* Whether the budget has room for one more open now. */
bool open_budget_room(const struct vpmu *v)
{
	const struct pmu_open_budget *b = &v->budget;

	return !b->interval_ns || b->tat_ns <= v->now_ns || b->tat_ns - v->now_ns <= b->window_ns;
}

bool open_budget_take(struct vpmu *v)
{
	struct pmu_open_budget *b = &v->budget;

	if (!b->interval_ns)
		return true;
	if (!open_budget_room(v))
		return false;
	b->tat_ns = (b->tat_ns > v->now_ns ? b->tat_ns : v->now_ns) + b->interval_ns;
	return true;
}

void set_throttled(struct vpmu *v, struct vpmc *pmc, bool on)
{
	if (pmc->throttled == on)
		return;
	pmc->throttled = on;
	if (on) {
		v->nr_throttled++;
		v->stats.throttled++;
	} else {
		v->nr_throttled--;
	}
}

/*
 * Counters the open bound left without a host event get one once the
 * budget has room again; their guest value stood still meanwhile. Called
 * at every tick, so the wait ends at the first exit after the refill.
 */
void retry_throttled(struct vpmu *v)
{
	for (unsigned int i = 0; i < PMU_MAX_PMC && v->nr_throttled; i++) {
		struct vpmc *pmc = &v->pmc[i];

		if (!pmc->throttled)
			continue;
		if (pmc->bev || !vpmc_enabled(v, pmc)) {
			set_throttled(v, pmc, false); /* nothing to open now */
			continue;
		}
		if (!open_budget_room(v))
			return;
		vpmc_reprogram(v, pmc);
	}
}
