/*
 * Reprogramming policies: when a guest control write must touch the host.
 *
 * lazy  - keep one host event per vPMC; enable toggles become enable/
 *         disable, only a changed configuration recreates the event, and
 *         counter writes to a sampling event re-arm its period in place.
 * naive - the pre-5.5 KVM behaviour kept as a baseline: a changed control
 *         register closes the event and opens a new one if still enabled.
 * cache - lazy, but a changed configuration parks the old event (stopped)
 *         instead of closing it, and a vPMC taking a parked configuration
 *         again re-enables that event instead of opening one (cache.c).
 */
#include "pmu/vpmu_priv.h"

static int reprogram_lazy(struct vpmu *v, struct vpmc *pmc)
{
	bool replaced = false;
	int ret = 0, err;

	if (!vpmc_enabled(v, pmc)) {
		if (!pmc->bev || !pmc->bev_enabled)
			return 0;
		/*
		 * A GP counter reconfigured as it stops: its next enable (or
		 * the idle release) would close it, so close it now, folding
		 * its count, without a DISABLE first. The old control already
		 * judged any wrap (vpmc_set_ctrl). A fixed counter's control
		 * is its enable: it stops by a change of key.
		 */
		if (!pmc->fixed && pmc->bev_key != vpmc_key(pmc))
			return vpmc_bev_close(v, pmc);
		return vpmc_bev_disable(v, pmc);
	}
	/* a disabled event may still carry an older config: check on use */
	if (pmc->bev && pmc->bev_key != vpmc_key(pmc)) {
		ret = vpmc_bev_close(v, pmc);
		replaced = true;
	}
	if (!pmc->bev) {
		err = vpmc_bev_open(v, pmc);
		if (replaced && pmc->bev)
			v->stats.recreations++;
		return ret ? ret : err;
	}
	if (!pmc->bev_enabled)
		return vpmc_bev_enable(v, pmc);
	return 0;
}

static int reprogram_naive(struct vpmu *v, struct vpmc *pmc)
{
	bool replaced = false;
	int ret = 0, err = 0;

	if (pmc->bev) {
		ret = vpmc_bev_close(v, pmc);
		replaced = true;
	}
	if (vpmc_enabled(v, pmc)) {
		err = vpmc_bev_open(v, pmc);
		if (replaced && pmc->bev)
			v->stats.recreations++;
	}
	return ret ? ret : err;
}

/* Open for @pmc; parked events holding the fds the host lacks go first. */
static int open_miss(struct vpmu *v, struct vpmc *pmc)
{
	uint64_t opens = v->stats.opens;
	int ret;

	ret = vpmc_bev_open(v, pmc);
	if ((ret == -EMFILE || ret == -ENFILE) && pmu_cache_evict_oldest(v))
		ret = vpmc_bev_open(v, pmc);
	if (v->stats.opens != opens)
		v->stats.cache_misses++;
	return ret;
}

static int reprogram_cache(struct vpmu *v, struct vpmc *pmc)
{
	int ret = 0, err = 0;

	if (!vpmc_enabled(v, pmc)) {
		if (pmc->bev && pmc->bev_enabled)
			return vpmc_bev_disable(v, pmc);
		return 0;
	}
	/* as lazy, a disabled event may carry an older config until used */
	if (pmc->bev && pmc->bev_key != vpmc_key(pmc))
		ret = pmu_cache_switch(v, pmc);
	else if (!pmc->bev)
		pmu_cache_take(v, pmc);
	if (!pmc->bev)
		err = open_miss(v, pmc);
	else if (!pmc->bev_enabled)
		err = vpmc_bev_enable(v, pmc);
	return ret ? ret : err;
}

int vpmc_reprogram(struct vpmu *v, struct vpmc *pmc)
{
	vpmc_touch(v, pmc);
	if (v->cfg.policy == PMU_POLICY_NAIVE)
		return reprogram_naive(v, pmc);
	if (v->cfg.policy == PMU_POLICY_CACHE)
		return reprogram_cache(v, pmc);
	return reprogram_lazy(v, pmc);
}

/* Reprogram every vPMC whose global control/enable bit is in @bits. */
int vpmu_reprogram_mask(struct vpmu *v, uint64_t bits)
{
	unsigned int i;
	int ret = 0, err;

	for (i = 0; i < PMU_MAX_PMC; i++) {
		struct vpmc *pmc = &v->pmc[i];

		if (!(bits & vpmc_global_bit(pmc)))
			continue;
		if (pmc->fixed ? i - PMU_FIXED_IDX >= v->nr_fixed
			       : i >= v->nr_gp)
			continue;
		err = vpmc_reprogram(v, pmc);
		if (err && !ret)
			ret = err;
	}
	return ret;
}

int vpmc_rearm(struct vpmu *v, struct vpmc *pmc)
{
	uint64_t period = vpmc_period(v, pmc);
	int ret;

	if (!pmc->bev || !period)
		return 0;
	if (v->cfg.policy == PMU_POLICY_NAIVE) {
		ret = vpmc_bev_close(v, pmc);
		if (!vpmc_enabled(v, pmc))
			return ret;
		v->stats.recreations++;
		return vpmc_bev_open(v, pmc);
	}
	/*
	 * A reload that lands where the host overflows next anyway (Linux's
	 * PMI handler writes the period less the overshoot; a context switch
	 * writes back the value the counter stopped at) needs no host call.
	 * A software fallback's periods are whole ns of task-clock, up to a
	 * ns longer than asked: its own re-arms drift behind the tracked fire
	 * point, so there only a counter the host has not re-armed since our
	 * call (one that did not move) is left as it is.
	 */
	if (pmc->bev_period && vpmc_fire_matches(pmc) && (!v->caps.software || !pmc->fire_reloaded))
		return 0;
	v->stats.set_periods++;
	ret = v->be.ops->set_period(v->be.ctx, pmc->bev, period);
	if (ret)
		return ret;
	pmc->bev_period = period;
	pmc->bev_fire = pmc->bev_ref + period;
	pmc->fire_reloaded = false;
	return 0;
}

/* Identical control writes change nothing on the host (as in KVM). */
int vpmc_set_ctrl(struct vpmu *v, struct vpmc *pmc, uint64_t ctrl)
{
	int ret;

	vpmc_touch(v, pmc);
	if (pmc->ctrl == ctrl)
		return 0;
	/* What the old control counted is judged by the old control. */
	ret = vpmc_fold_if_wrapped(v, pmc);
	pmc->ctrl = ctrl;
	return vpmc_reprogram(v, pmc) ?: ret;
}

int vpmu_set_global_ctrl(struct vpmu *v, uint64_t ctrl)
{
	uint64_t changed = v->global_ctrl ^ ctrl;
	int ret;

	v->global_ctrl = ctrl;
	/* naive recreates per counter: the baseline stays as it was */
	if (v->cfg.policy != PMU_POLICY_NAIVE) {
		ret = vpmu_toggle_all(v, changed);
		if (ret)
			return ret < 0 ? ret : 0;
	}
	return vpmu_reprogram_mask(v, changed);
}
