/*
 * Global control flips in one host call. A Linux guest turns every counter
 * off and on again around each PMI and context switch (PERF_GLOBAL_CTRL on
 * Intel, PerfMonV2's GLOBAL_CTL on AMD); one ioctl per counter is what KVM
 * pays. The host can flip every perf event a thread opened at once (prctl
 * PR_TASK_PERF_EVENTS_DISABLE/ENABLE), and a vCPU thread opens only its own
 * vPMCs' events, so where the flip takes every host event of this vCPU the
 * same way it is one call. A counter that can never have a host event (not
 * countable here, or filtered) does not stand in the way. Where the flip
 * does not take every event (a counter stays on, must be opened or
 * recreated, or a parked event would come on too), the caller
 * reprograms counter by counter as before.
 */
#include <string.h>

#include "pmu/vpmu_priv.h"

/* Every host event goes off; at least two were on. */
static bool all_go_off(const struct vpmu *v)
{
	unsigned int i, on = 0;

	for (i = 0; i < PMU_MAX_PMC; i++) {
		const struct vpmc *pmc = &v->pmc[i];

		if (!vpmc_exists(v, i) || !vpmc_enabled(v, pmc))
			on += vpmc_exists(v, i) && pmc->bev && pmc->bev_enabled;
		else
			return false;
	}
	return on >= 2;
}

/* Every host event comes (or stays) on with the config it has; at least
 * two were off; nothing else of this thread would come on with them. */
static bool all_come_on(const struct vpmu *v)
{
	unsigned int i, off = 0;

	if (v->cache.nr)
		return false;
	for (i = 0; i < PMU_MAX_PMC; i++) {
		const struct vpmc *pmc = &v->pmc[i];
		bool want = vpmc_exists(v, i) && vpmc_enabled(v, pmc);

		if (!pmc->bev) {
			/* e.g. Intel's fixed instructions counter on a host
			 * whose software fallback counts only time */
			if (want && !vpmc_never_counts(v, pmc))
				return false;
			continue;
		}
		if (!want || pmc->bev_key != vpmc_key(pmc))
			return false;
		off += !pmc->bev_enabled;
	}
	return off >= 2;
}

static void touch_changed(struct vpmu *v, uint64_t changed)
{
	for (unsigned int i = 0; i < PMU_MAX_PMC; i++)
		if (changed & vpmc_global_bit(&v->pmc[i]))
			vpmc_touch(v, &v->pmc[i]);
}

static int toggle_off(struct vpmu *v)
{
	bool in_place[PMU_MAX_PMC];
	unsigned int i;
	int ret = 0, err;

	/* folding a running event is exact whether or not the stop works;
	 * one check for the host, not one per counter on every flip */
	memset(in_place, 0, sizeof(in_place));
	if (vpmu_can_hold(v))
		for (i = 0; i < PMU_MAX_PMC; i++)
			in_place[i] = vpmc_fold_in_place(v, &v->pmc[i]);
	if (v->be.ops->set_all(v->be.ctx, false))
		return 0;
	v->stats.group_toggles++;
	for (i = 0; i < PMU_MAX_PMC; i++) {
		struct vpmc *pmc = &v->pmc[i];

		if (!pmc->bev || !pmc->bev_enabled)
			continue;
		pmc->bev_enabled = false;
		pmc->sync = in_place[i] ? SYNC_CLEAN : SYNC_DIRTY;
		/* as a per-counter disable would: status and PMI first */
		err = vpmc_fold_if_wrapped(v, pmc);
		if (err && !ret)
			ret = err;
	}
	return ret ? ret : 1;
}

static int toggle_on(struct vpmu *v)
{
	unsigned int i;

	/* Counters the guest rewrote while off start from their new value:
	 * learn each one's reference and distance to the wrap first. */
	for (i = 0; i < PMU_MAX_PMC; i++) {
		struct vpmc *pmc = &v->pmc[i];

		if (!pmc->bev || pmc->bev_enabled || pmc->sync != SYNC_REBASED)
			continue;
		if (vpmc_learn_ref(v, pmc))
			return 0; /* the per-counter path recreates it */
		if (pmc->bev_period && vpmc_rearm(v, pmc))
			return 0;
	}
	if (v->be.ops->set_all(v->be.ctx, true))
		return 0;
	v->stats.group_toggles++;
	for (i = 0; i < PMU_MAX_PMC; i++) {
		struct vpmc *pmc = &v->pmc[i];

		if (!pmc->bev)
			continue;
		pmc->bev_enabled = true;
		pmc->sync = SYNC_LIVE;
	}
	return 1;
}

int vpmu_toggle_all(struct vpmu *v, uint64_t changed)
{
	if (v->be.ops->set_all == NULL || !changed)
		return 0;
	if (all_go_off(v)) {
		touch_changed(v, changed);
		if (vpmu_can_hold(v) && vpmu_hold_all(v))
			return 1;
		return toggle_off(v);
	}
	if (all_come_on(v)) {
		touch_changed(v, changed);
		return toggle_on(v);
	}
	return 0;
}
