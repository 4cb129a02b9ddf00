/*
 * Global control flips with no host call at all, where the host lets the
 * vCPU read its own counters in place (perf: rdpmc through each event's
 * mmap page) and its events count guest mode only.
 *
 * When the guest turns every counter off, the host events are left
 * running: each is read in place and folded, and the vPMU treats it as
 * stopped at that count ("held"). When the guest turns the same counters
 * on again, each is read in place once more and what it counted in
 * between, the guest's own instructions while it had its counters off, is
 * dropped by taking the new count as the reference. Between the two, the
 * guest may read and write its counters and rewrite their controls; none
 * of that needs the host. Anything that does (a reload that must re-arm
 * the host now (vpmc_defer_rearm lets far ones wait), another
 * set of counters coming on, a counter enabled by itself) first stops the
 * held events for real ("settles" them), one host call, and then runs as
 * after an ordinary global disable: no other event of the vCPU runs while
 * any is held, so the host call that stops them all stops just those.
 *
 * Counting is exact because a guest-only event does not count while the
 * vCPU thread is in the VMM: the count read in place at an exit is the
 * count the event would stop at. Sampling events near their overflow are
 * never held (an overflow while held would not be the guest's); Linux's
 * counting events sit 2^47 events from theirs.
 */
#include "pmu/vpmu_priv.h"

/* A held sampling event must be this far from its host overflow: more than
 * a guest can count with its counters off between two exits (seconds). */
#define HOLD_MIN_TO_FIRE (1ull << 40)

bool vpmu_can_hold(const struct vpmu *v)
{
	return v->cfg.policy == PMU_POLICY_CACHE && v->be.ops->peek && v->caps.peek &&
	       v->caps.exclude_host;
}

/* The count now, in place if the host allows, else by a read. */
static int count_now(struct vpmu *v, struct vpmc *pmc, uint64_t *count)
{
	struct pmu_bev_count c = {0};
	int ret;

	if (v->be.ops->peek(v->be.ctx, pmc->bev, count) == 0)
		return 0;
	v->stats.reads++;
	ret = v->be.ops->read(v->be.ctx, pmc->bev, &c);
	if (ret)
		return ret;
	*count = c.value;
	return 0;
}

bool vpmc_fold_in_place(struct vpmu *v, struct vpmc *pmc)
{
	uint64_t count;

	if (!vpmu_can_hold(v) || !pmc->bev || !pmc->bev_enabled ||
	    v->be.ops->peek(v->be.ctx, pmc->bev, &count))
		return false;
	vpmc_fold(v, pmc, count - pmc->bev_ref);
	vpmc_follow_fire(pmc, count);
	pmc->bev_ref = count;
	pmc->synced_ns = v->now_ns;
	return true;
}

/* A per-counter flag and the vPMU's count of counters that have it set. */
static void set_counted(bool *flag, unsigned int *nr, bool on)
{
	if (*flag == on)
		return;
	*flag = on;
	*nr = on ? *nr + 1 : *nr - 1;
}

static void set_held(struct vpmu *v, struct vpmc *pmc, bool on)
{
	set_counted(&pmc->held, &v->nr_held, on);
}

void vpmc_unhold(struct vpmu *v, struct vpmc *pmc)
{
	set_held(v, pmc, false);
	vpmc_set_rearm_due(v, pmc, false);
}

void vpmc_set_rearm_due(struct vpmu *v, struct vpmc *pmc, bool on)
{
	set_counted(&pmc->rearm_due, &v->nr_rearm_due, on);
}

/*
 * Linux writes a counter's saved value back at every context switch, with
 * the PMU off: for a counting event 2^47 from the wrap. Re-arming the host
 * then would stop the held events; it can wait while the guest's wrap and
 * the host's overflow are both far away (the host's may now come first:
 * an overflow short of the wrap re-arms then), and the ticks re-arm it
 * when the wrap comes near (vpmu_rearm_due).
 */
bool vpmc_defer_rearm(struct vpmu *v, struct vpmc *pmc, uint64_t to_wrap)
{
	if (!pmc->held || to_wrap < HOLD_MIN_TO_FIRE || pmc->bev_fire < pmc->bev_ref ||
	    pmc->bev_fire - pmc->bev_ref < HOLD_MIN_TO_FIRE)
		return false;
	vpmc_set_rearm_due(v, pmc, true);
	return true;
}

int vpmu_rearm_due(struct vpmu *v)
{
	int ret = 0;

	for (unsigned int i = 0; i < PMU_MAX_PMC && v->nr_rearm_due; i++) {
		struct vpmc *pmc = &v->pmc[i];
		uint64_t count, val;
		int err;

		/* held or stopped: not counting, so not nearer */
		if (!pmc->rearm_due || !pmc->bev || !pmc->bev_enabled)
			continue;
		if (v->be.ops->peek(v->be.ctx, pmc->bev, &count) == 0 && count >= pmc->bev_ref &&
		    vpmc_to_wrap(pmc->base + (count - pmc->bev_ref)) >= HOLD_MIN_TO_FIRE / 2)
			continue;
		/* near (or unknown): bring base up to date, then re-arm */
		err = vpmc_read(v, pmc, &val);
		if (!err && pmc->bev) {
			vpmc_set_rearm_due(v, pmc, false);
			err = vpmc_rearm(v, pmc);
		}
		if (err && !ret)
			ret = err;
	}
	return ret;
}

int vpmu_hold_all(struct vpmu *v)
{
	uint64_t count[PMU_MAX_PMC];
	unsigned int i;

	/* all or nothing: any event the host cannot read in place, or one
	 * that may overflow while held, and the flip goes to the host */
	for (i = 0; i < PMU_MAX_PMC; i++) {
		struct vpmc *pmc = &v->pmc[i];

		if (!pmc->bev || !pmc->bev_enabled)
			continue;
		if (v->be.ops->peek(v->be.ctx, pmc->bev, &count[i]))
			return 0;
		if (pmc->bev_period &&
		    (count[i] >= pmc->bev_fire || pmc->bev_fire - count[i] < HOLD_MIN_TO_FIRE))
			return 0;
	}
	for (i = 0; i < PMU_MAX_PMC; i++) {
		struct vpmc *pmc = &v->pmc[i];

		if (!pmc->bev || !pmc->bev_enabled)
			continue;
		/* as a stop would: status and PMI of a wrap first */
		vpmc_fold(v, pmc, count[i] - pmc->bev_ref);
		pmc->bev_ref = count[i];
		pmc->synced_ns = v->now_ns;
		pmc->bev_enabled = false;
		pmc->sync = SYNC_CLEAN;
		set_held(v, pmc, true);
	}
	v->stats.held_toggles++;
	return 1;
}

int vpmu_settle_held(struct vpmu *v)
{
	unsigned int i;
	int ret = 0;

	if (!v->nr_held)
		return 0;
	/* the count in place now is the one it stops at (guest-only events
	 * do not count in the VMM): it is where the next use starts */
	for (i = 0; i < PMU_MAX_PMC; i++) {
		struct vpmc *pmc = &v->pmc[i];

		if (!pmc->held)
			continue;
		if (count_now(v, pmc, &pmc->bev_ref))
			pmc->sync = SYNC_REBASED; /* the next use reads it */
		pmc->synced_ns = v->now_ns;
	}
	/* nothing else of this vCPU runs while any is held */
	v->stats.group_toggles++;
	ret = v->be.ops->set_all(v->be.ctx, false);
	for (i = 0; i < PMU_MAX_PMC; i++) {
		struct vpmc *pmc = &v->pmc[i];
		int err;

		if (!pmc->held)
			continue;
		set_held(v, pmc, false);
		/* a host that failed to stop it must not count it on */
		if (ret) {
			vpmc_bev_close(v, pmc);
			continue;
		}
		/* stopped for real now: what was deferred can be done */
		if (pmc->rearm_due && pmc->sync == SYNC_CLEAN) {
			vpmc_set_rearm_due(v, pmc, false);
			err = vpmc_rearm(v, pmc);
			if (err && !ret)
				ret = err;
		}
	}
	return ret;
}

enum held_next {
	HELD_STAY,   /* nothing comes on: they stay held */
	HELD_RESUME, /* exactly the held counters come on, as they were */
	HELD_SETTLE, /* anything else: the host must take part */
};

/* Counters that never count (no host event can serve them) do not matter. */
static enum held_next held_next(const struct vpmu *v)
{
	bool any_on = false, all_held = true;

	for (unsigned int i = 0; i < PMU_MAX_PMC; i++) {
		const struct vpmc *pmc = &v->pmc[i];
		bool want = vpmc_exists(v, i) && vpmc_enabled(v, pmc);

		if (pmc->held) {
			any_on |= want;
			if (!want || pmc->bev_key != vpmc_key(pmc) || pmc->sync != SYNC_CLEAN)
				all_held = false;
		} else if (want && (pmc->bev || !vpmc_never_counts(v, pmc))) {
			return HELD_SETTLE;
		}
	}
	if (!any_on)
		return HELD_STAY;
	return all_held ? HELD_RESUME : HELD_SETTLE;
}

int vpmu_resume_held(struct vpmu *v)
{
	unsigned int i;
	int ret = 1;

	if (!v->nr_held)
		return 0;
	switch (held_next(v)) {
	case HELD_STAY:
		return 1;
	case HELD_SETTLE:
		return vpmu_settle_held(v);
	case HELD_RESUME:
		break;
	}
	for (i = 0; i < PMU_MAX_PMC; i++) {
		struct vpmc *pmc = &v->pmc[i];

		if (!pmc->held)
			continue;
		set_held(v, pmc, false);
		/* what it counted while held is not the guest's */
		if (count_now(v, pmc, &pmc->bev_ref)) {
			/* running, unreadable: replaced counter by counter */
			vpmc_bev_close(v, pmc);
			ret = 0;
			continue;
		}
		vpmc_follow_fire(pmc, pmc->bev_ref);
		vpmc_touch(v, pmc);
		pmc->synced_ns = v->now_ns;
		pmc->bev_enabled = true;
		pmc->sync = SYNC_LIVE;
	}
	v->stats.held_toggles++;
	return ret;
}
