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
	int ret;

	vpmc_touch(v, pmc);
	/* a counter coming on by itself: the held events stop for real first,
	 * as the one host call that stops them would stop it too */
	if (v->nr_held && vpmc_enabled(v, pmc)) {
		ret = vpmu_settle_held(v);
		if (ret)
			return ret;
	}
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

/* Cycles a software fallback's re-arm can lag at most: a ns of task-clock
 * at up to 8 GHz of guest TSC. */
#define SOFTWARE_LAG_PER_REARM 8
/* How late a software fallback's overflow may come after the guest's wrap,
 * as a share of the distance to it (1/256: 0.4 %). */
#define SOFTWARE_LATE_SHIFT 8

/*
 * Does the host overflow next where the guest counter wraps, @left events
 * from now? Exactly, on a hardware PMU. On a software fallback (task-clock
 * in whole ns, its PMIs late by the timer's latency anyway) a little late
 * will do: the tracked fire point may be behind the wrap, and each of the
 * host's own re-arms since we armed it may have lagged up to a ns more.
 */
static bool fire_in_place(const struct vpmu *v, const struct vpmc *pmc, uint64_t left)
{
	uint64_t wrap = pmc->bev_ref + left, late;

	if (!pmc->bev_period)
		return false;
	if (!v->caps.software)
		return pmc->bev_fire == wrap;
	if (pmc->bev_fire < wrap)
		return false;
	late = pmc->bev_fire - wrap + pmc->self_rearms * SOFTWARE_LAG_PER_REARM;
	return late <= left >> SOFTWARE_LATE_SHIFT;
}

int vpmc_rearm(struct vpmu *v, struct vpmc *pmc)
{
	uint64_t period = vpmc_period(v, pmc);
	int ret;

	if (!pmc->bev || !period)
		return 0;
	/* a held event is running: defer, or stop it for real first */
	if (pmc->held) {
		if (vpmc_defer_rearm(v, pmc, period))
			return 0;
		ret = vpmu_settle_held(v);
		if (ret || !pmc->bev)
			return ret;
	}
	vpmc_set_rearm_due(v, pmc, false);
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
	 */
	if (fire_in_place(v, pmc, period))
		return 0;
	/*
	 * On a software fallback, arm with the guest's own period when its
	 * reload tells it and the first overflow comes late by no more than
	 * the above allows: the host's re-arms then keep pace with the
	 * guest's reloads, where arming with the distance to this wrap would
	 * need a call at every PMI after.
	 */
	if (v->caps.software && pmc->reload_cadence > period &&
	    pmc->reload_cadence - period <= period >> SOFTWARE_LATE_SHIFT)
		period = pmc->reload_cadence;
	v->stats.set_periods++;
	ret = v->be.ops->set_period(v->be.ctx, pmc->bev, period);
	if (ret)
		return ret;
	pmc->bev_period = period;
	pmc->bev_fire = pmc->bev_ref + period;
	pmc->self_rearms = 0;
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
	int ret, held;

	v->global_ctrl = ctrl;
	/* counters held across a global off (hold.c): back on in place, or
	 * stopped for real before anything else happens to them */
	held = vpmu_resume_held(v);
	if (held > 0)
		return 0;
	/* naive recreates per counter: the baseline stays as it was */
	if (v->cfg.policy != PMU_POLICY_NAIVE) {
		ret = vpmu_toggle_all(v, changed);
		if (ret)
			return ret < 0 ? ret : held;
	}
	return vpmu_reprogram_mask(v, changed) ?: held;
}
