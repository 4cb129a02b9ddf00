/*
 * Overflows of the guest counters: folding host counts across the wrap
 * (status bit, PMI), following where the host overflows next, and the look
 * at the counters a host signal asks for, from overflow records where the
 * host keeps them, else by reading.
 */
#include <errno.h>

#include "pmu/vpmu_priv.h"

void vpmc_fold(struct vpmu *v, struct vpmc *pmc, uint64_t delta)
{
	uint64_t before = pmc->base & PMU_COUNTER_MASK;

	pmc->base += delta;
	if (delta > PMU_COUNTER_MASK - before) {
		if (!(v->global_status & vpmc_global_bit(pmc)))
			pmc->unacked_ns = v->now_ns;
		v->global_status |= vpmc_global_bit(pmc);
		v->stats.overflows++;
		if (vpmc_wants_pmi(pmc))
			v->pmi_pending = true;
	}
}

/* The host re-arms a sampling event with its period at every overflow. */
void vpmc_follow_fire(struct vpmc *pmc, uint64_t count)
{
	uint64_t rearms;

	if (!pmc->bev_period || count < pmc->bev_fire)
		return;
	rearms = (count - pmc->bev_fire) / pmc->bev_period + 1;
	pmc->self_rearms += rearms;
	pmc->bev_fire += rearms * pmc->bev_period;
}

/*
 * The host's overflow record of a sampling counter, if it keeps them:
 * folded as a read at that overflow would have been, with no host call.
 * Returns 1 if the counter overflowed, 0 if not (a kick, or another
 * counter's signal), or -ENODATA if only a read can tell.
 */
static int vpmc_take_record(struct vpmu *v, struct vpmc *pmc)
{
	uint64_t count;
	int ret;

	if (!v->be.ops->overflowed)
		return -ENODATA;
	ret = v->be.ops->overflowed(v->be.ctx, pmc->bev, &count);
	if (ret != 1)
		return ret;
	vpmc_touch(v, pmc);
	/* a record older than the last read is in base already */
	if (count > pmc->bev_ref) {
		vpmc_fold(v, pmc, count - pmc->bev_ref);
		pmc->bev_ref = count;
	}
	vpmc_follow_fire(pmc, count);
	return 1;
}

int vpmu_overflow(struct vpmu *v)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < PMU_MAX_PMC; i++) {
		struct vpmc *pmc = &v->pmc[i];
		uint64_t val = 0, overflows = v->stats.overflows;
		uint64_t fire = pmc->bev_fire;
		bool fired;
		int err;

		if (!pmc->bev || pmc->sync != SYNC_LIVE || !pmc->bev_period)
			continue;
		/*
		 * A record that shows the wrap is all a PMI needs. One that
		 * does not (the host overflowed before the guest's wrap: a
		 * period left as it was) is older than now, and re-arming
		 * from it would arm the host from the wrong count: read.
		 */
		err = vpmc_take_record(v, pmc);
		if (err == 0)
			continue;
		if (err == 1 && overflows != v->stats.overflows)
			err = 0;
		else
			err = vpmc_read(v, pmc, &val);
		/*
		 * The host re-armed with the old period. A guest PMI handler
		 * usually reloads the counter, which re-arms where needed; so
		 * fix the period only where the host overflowed and the guest
		 * counter did not wrap (a counter left unreloaded): a slice
		 * kick or a late signal changes nothing, nor does a host
		 * overflow while the guest has not acked the last one yet (its
		 * handler is still to reload the counter) for PMU_ACK_WAIT_NS;
		 * no ack where the model has no global status. Naive keeps
		 * its test.
		 */
		if (v->cfg.policy == PMU_POLICY_NAIVE) {
			fired = pmc->bev_period != vpmc_to_wrap(val);
		} else {
			fired = pmc->bev_fire != fire && overflows == v->stats.overflows;
			if (fired && v->has_global && (v->global_status & vpmc_global_bit(pmc)) &&
			    v->now_ns - pmc->unacked_ns < PMU_ACK_WAIT_NS)
				fired = false;
		}
		if (!err && pmc->bev && overflows == v->stats.overflows && fired)
			err = vpmc_rearm(v, pmc);
		if (err && !ret)
			ret = err;
	}
	if (ret)
		return ret;
	return vpmu_take_pmi(v);
}

bool vpmu_take_pmi(struct vpmu *v)
{
	if (!v->pmi_pending)
		return false;
	v->pmi_pending = false;
	v->stats.pmis++;
	return true;
}

int vpmu_fold_all(struct vpmu *v)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < PMU_MAX_PMC; i++) {
		int err = vpmc_fold_if_wrapped(v, &v->pmc[i]);

		if (err && !ret)
			ret = err;
	}
	return ret;
}
