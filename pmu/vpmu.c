/*
 * Core of the virtual PMU: creation, MSR entry points, the slice tick and
 * the bookkeeping that maps a host event's count onto a guest counter.
 * Register layouts live in intel.c/amd.c, reprogramming rules in policy.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmu/vpmu_priv.h"

void pmu_config_defaults(struct pmu_config *cfg, enum pmu_model model)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->model = model;
	cfg->policy = PMU_POLICY_CACHE;
	cfg->nr_gp = model == PMU_MODEL_INTEL ? 4 : PMU_AMD_NR_CORE;
	cfg->full_width_writes = model == PMU_MODEL_INTEL;
	cfg->perfmon_v2 = model == PMU_MODEL_AMD;
	cfg->idle_slice_ns = PMU_DEFAULT_IDLE_SLICE_NS;
	cfg->cache_per_vpmc = PMU_CACHE_DEFAULT_PER_VPMC;
	cfg->cache_per_vcpu = PMU_CACHE_DEFAULT_PER_VCPU;
	cfg->open_rate = PMU_DEFAULT_OPEN_RATE;
	cfg->open_burst = PMU_DEFAULT_OPEN_BURST;
}

static void vpmu_log(struct vpmu *v, int level, const char *msg)
{
	if (v->cfg.log)
		v->cfg.log(v->cfg.log_opaque, level, msg);
}

uint64_t vpmc_global_bit(const struct vpmc *pmc)
{
	if (pmc->fixed)
		return 1ull << (PMU_FIXED_GLOBAL_BIT + pmc->idx -
				PMU_FIXED_IDX);
	return 1ull << pmc->idx;
}

bool vpmc_enabled(const struct vpmu *v, const struct vpmc *pmc)
{
	if (!(v->global_ctrl & vpmc_global_bit(pmc)))
		return false;
	if (pmc->fixed)
		return pmc->ctrl & (FIXED_OS | FIXED_USR);
	return pmc->ctrl & EVTSEL_EN;
}

/* Everything but the enable decides what the host event counts. */
uint64_t vpmc_key(const struct vpmc *pmc)
{
	return pmc->fixed ? pmc->ctrl : pmc->ctrl & ~EVTSEL_EN;
}

bool vpmc_wants_pmi(const struct vpmc *pmc)
{
	return pmc->ctrl & (pmc->fixed ? FIXED_PMI : EVTSEL_INT);
}

bool vpmc_exists(const struct vpmu *v, unsigned int i)
{
	return i >= PMU_FIXED_IDX ? i - PMU_FIXED_IDX < v->nr_fixed : i < v->nr_gp;
}

struct vpmc *vpmu_gp(struct vpmu *v, unsigned int i)
{
	return i < v->nr_gp ? &v->pmc[i] : NULL;
}

struct vpmc *vpmu_fixed(struct vpmu *v, unsigned int i)
{
	return i < v->nr_fixed ? &v->pmc[PMU_FIXED_IDX + i] : NULL;
}

void vpmc_touch(struct vpmu *v, struct vpmc *pmc)
{
	pmc->last_used_ns = v->now_ns;
}

/* Events to the wrap of the guest counter: the host sample period. */
uint64_t vpmc_to_wrap(uint64_t value)
{
	return PMU_COUNTER_MASK + 1 - (value & PMU_COUNTER_MASK);
}

uint64_t vpmc_period(struct vpmu *v, const struct vpmc *pmc)
{
	if (!v->caps.sampling || !vpmc_wants_pmi(pmc))
		return 0;
	return vpmc_to_wrap(pmc->base);
}

static void fds_changed(struct vpmu *v, int by)
{
	v->stats.fds_open += by;
	if (v->stats.fds_open > v->stats.fds_peak)
		v->stats.fds_peak = v->stats.fds_open;
}

/*
 * Read the host count and fold the delta into base. A pinned event the
 * host could not keep on the PMU stops counting silently; say so.
 */
static int bev_read_fold(struct vpmu *v, struct vpmc *pmc, bool *descheduled)
{
	struct pmu_bev_count c = { 0 };
	int ret;

	*descheduled = false;
	v->stats.reads++;
	ret = v->be.ops->read(v->be.ctx, pmc->bev, &c);
	if (ret && ret != -ENODATA)
		return ret;
	if (!ret) {
		vpmc_fold(v, pmc, c.value - pmc->bev_ref);
		vpmc_follow_fire(pmc, c.value);
	}
	pmc->bev_ref = c.value;
	pmc->synced_ns = v->now_ns;
	if (ret == -ENODATA || c.time_running < c.time_enabled) {
		char msg[96];

		*descheduled = true;
		v->stats.descheduled++;
		snprintf(msg, sizeof(msg),
			 "pmu: host descheduled vPMC %d's event; recreating",
			 pmc->idx);
		vpmu_log(v, PMU_LOG_WARN, msg);
	}
	return 0;
}

static bool vpmc_countable(const struct vpmu *v, const struct vpmc *pmc,
			   const struct pmu_event_desc *d)
{
	if (d->exclude_user && d->exclude_kernel)
		return false;
	if (d->generic != PMU_EV_RAW && (v->caps.counts & (1u << d->generic)))
		return true;
	return !d->fixed && v->caps.raw;
}

bool vpmc_never_counts(const struct vpmu *v, const struct vpmc *pmc)
{
	struct pmu_event_desc d;

	memset(&d, 0, sizeof(d));
	v->model->describe(v, pmc, &d);
	return !vpmc_countable(v, pmc, &d) || pmu_filter_blocks(&v->cfg.filter, pmc);
}

/* Opens an enabled host event; leaves none if the host cannot count it. */
int vpmc_bev_open(struct vpmu *v, struct vpmc *pmc)
{
	struct pmu_event_desc d;
	int ret;

	memset(&d, 0, sizeof(d));
	v->model->describe(v, pmc, &d);
	d.index = pmc->idx;
	if (!vpmc_countable(v, pmc, &d)) {
		set_throttled(v, pmc, false);
		return 0;
	}
	if (pmu_filter_blocks(&v->cfg.filter, pmc)) {
		set_throttled(v, pmc, false);
		v->stats.filtered++;
		return 0;
	}
	/* over the bound: no event, as a filtered one, until there is room;
	 * counted once per counter it leaves without an event */
	if (!open_budget_take(v)) {
		set_throttled(v, pmc, true);
		return 0;
	}
	set_throttled(v, pmc, false);
	d.sample_period = vpmc_period(v, pmc);
	/* the cache policy learns of overflows from records, not reads */
	d.records = v->cfg.policy == PMU_POLICY_CACHE && v->be.ops->overflowed;

	v->stats.opens++;
	ret = v->be.ops->open(v->be.ctx, &d, true, &pmc->bev);
	if (ret) {
		v->stats.open_failures++;
		pmc->bev = NULL;
		return ret;
	}
	fds_changed(v, 1);
	pmc->bev_enabled = true;
	pmc->sync = SYNC_LIVE;
	pmc->bev_key = vpmc_key(pmc);
	pmc->bev_ref = 0;
	pmc->synced_ns = v->now_ns;
	pmc->bev_period = d.sample_period;
	pmc->bev_fire = d.sample_period;
	pmc->self_rearms = 0;
	return 0;
}

void vpmu_bev_release(struct vpmu *v, struct pmu_bev *bev)
{
	v->be.ops->close(v->be.ctx, bev);
	v->stats.closes++;
	fds_changed(v, -1);
}

static void bev_drop(struct vpmu *v, struct vpmc *pmc)
{
	vpmc_unhold(v, pmc);
	vpmu_bev_release(v, pmc->bev);
	pmc->bev = NULL;
	pmc->bev_enabled = false;
}

/* Closes the host event, folding what it counted into the guest value. */
int vpmc_bev_close(struct vpmu *v, struct vpmc *pmc)
{
	bool desched;
	int ret = 0;

	if (!pmc->bev)
		return 0;
	if (pmc->sync == SYNC_LIVE || pmc->sync == SYNC_DIRTY)
		ret = bev_read_fold(v, pmc, &desched);
	bev_drop(v, pmc);
	return ret;
}

/*
 * A parked event is stopped, and the count it stopped at is the reference
 * its next user starts from: nothing it counted for one configuration
 * reaches a guest value again. When a guest write left that count unknown,
 * the next user reads it first (SYNC_REBASED). A failing host leaves no
 * event to park.
 */
int vpmc_bev_detach(struct vpmu *v, struct vpmc *pmc, struct pmu_parked *out)
{
	bool desched = false;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (pmc->held) {
		ret = vpmu_settle_held(v);
		if (ret)
			return ret;
	}
	if (!pmc->bev)
		return 0;
	if (pmc->bev_enabled) {
		bool in_place = vpmc_fold_in_place(v, pmc);

		v->stats.disables++;
		ret = v->be.ops->disable(v->be.ctx, pmc->bev);
		if (ret) {
			vpmc_bev_close(v, pmc);
			return ret;
		}
		pmc->bev_enabled = false;
		pmc->sync = in_place ? SYNC_CLEAN : SYNC_DIRTY;
	}
	if (pmc->sync == SYNC_DIRTY) {
		ret = bev_read_fold(v, pmc, &desched);
		if (ret || desched) {
			bev_drop(v, pmc);
			return ret;
		}
		pmc->sync = SYNC_CLEAN;
	}
	out->bev = pmc->bev;
	out->key = pmc->bev_key;
	out->period = pmc->bev_period;
	out->fire = pmc->bev_fire;
	out->frozen = pmc->bev_ref;
	out->known = pmc->sync == SYNC_CLEAN;
	/* a parked sampling event is re-armed at its next use anyway */
	vpmc_set_rearm_due(v, pmc, false);
	pmc->bev = NULL;
	return 0;
}

void vpmc_bev_attach(struct vpmu *v, struct vpmc *pmc,
		     const struct pmu_parked *p)
{
	pmc->bev = p->bev;
	pmc->bev_enabled = false;
	pmc->bev_key = p->key;
	pmc->bev_period = p->period;
	pmc->bev_fire = p->fire;
	pmc->self_rearms = UINT32_MAX; /* not carried: assume the worst */
	pmc->bev_ref = p->frozen;
	/* a sampling event needs its period re-armed for this base anyway */
	pmc->sync = p->known && !p->period ? SYNC_CLEAN : SYNC_REBASED;
	pmc->synced_ns = v->now_ns;
}

static int vpmc_recreate(struct vpmu *v, struct vpmc *pmc)
{
	bev_drop(v, pmc);
	if (!vpmc_enabled(v, pmc))
		return 0;
	v->stats.recreations++;
	return vpmc_bev_open(v, pmc);
}

int vpmc_learn_ref(struct vpmu *v, struct vpmc *pmc)
{
	struct pmu_bev_count c = { 0 };
	int ret;

	/* base is the guest's; learn the frozen count it starts from */
	v->stats.reads++;
	ret = v->be.ops->read(v->be.ctx, pmc->bev, &c);
	if (ret)
		return ret;
	vpmc_follow_fire(pmc, c.value);
	pmc->bev_ref = c.value;
	pmc->synced_ns = v->now_ns;
	pmc->sync = SYNC_CLEAN;
	return 0;
}

int vpmc_bev_enable(struct vpmu *v, struct vpmc *pmc)
{
	int ret;

	if (pmc->sync == SYNC_REBASED) {
		if (vpmc_learn_ref(v, pmc))
			return vpmc_recreate(v, pmc);
		if (pmc->bev_period) {
			ret = vpmc_rearm(v, pmc);
			if (ret || !pmc->bev || pmc->bev_enabled)
				return ret;
		}
	}
	v->stats.enables++;
	ret = v->be.ops->enable(v->be.ctx, pmc->bev);
	if (ret)
		return ret;
	pmc->bev_enabled = true;
	pmc->sync = SYNC_LIVE;
	return 0;
}

int vpmc_fold_if_wrapped(struct vpmu *v, struct vpmc *pmc)
{
	uint64_t val;

	if (!pmc->bev || (pmc->sync != SYNC_LIVE && pmc->sync != SYNC_DIRTY) ||
	    !vpmc_may_have_wrapped(v, pmc))
		return 0;
	return vpmc_read(v, pmc, &val);
}

/*
 * Whether the host count can have carried the guest counter past its wrap
 * since base last caught up with it, judged from the time alone. Linux's
 * counting events sit 2^47 events from the wrap: they never need a read
 * here; a sampling period of a million events does after ~16 us.
 */
bool vpmc_may_have_wrapped(const struct vpmu *v, const struct vpmc *pmc)
{
	uint64_t elapsed = v->now_ns - pmc->synced_ns;
	uint64_t to_wrap = vpmc_to_wrap(pmc->base);

	return elapsed >= to_wrap / PMU_MAX_EVENTS_PER_NS;
}

int vpmc_bev_disable(struct vpmu *v, struct vpmc *pmc)
{
	bool in_place = vpmc_fold_in_place(v, pmc);
	int ret;

	v->stats.disables++;
	ret = v->be.ops->disable(v->be.ctx, pmc->bev);
	if (ret) {
		/* it may still be counting: never leave that unaccounted */
		vpmc_bev_close(v, pmc);
		return ret;
	}
	pmc->bev_enabled = false;
	pmc->sync = in_place ? SYNC_CLEAN : SYNC_DIRTY;
	/*
	 * Hardware sets the status bit (and raises the PMI, if asked) at the
	 * overflow, before any later disable; the host tells us only when we
	 * look. Look now, so both reach the guest while it still treats the
	 * counter as active (a PMI for a counter it already stopped is one
	 * it cannot account for).
	 */
	return vpmc_fold_if_wrapped(v, pmc);
}

int vpmc_read(struct vpmu *v, struct vpmc *pmc, uint64_t *val)
{
	bool desched = false;
	int ret = 0;

	vpmc_touch(v, pmc);
	if (pmc->bev && (pmc->sync == SYNC_LIVE || pmc->sync == SYNC_DIRTY)) {
		ret = bev_read_fold(v, pmc, &desched);
		if (!ret && pmc->sync == SYNC_DIRTY)
			pmc->sync = SYNC_CLEAN;
		if (!ret && desched)
			ret = vpmc_recreate(v, pmc);
	}
	*val = pmc->base & PMU_COUNTER_MASK;
	return ret;
}

/* A reload just past a wrap (Linux's PMI handler writes the period less
 * the overshoot it read) tells the guest's period. */
static void note_cadence(struct vpmc *pmc, uint64_t val)
{
	uint64_t old = pmc->base & PMU_COUNTER_MASK, left = vpmc_to_wrap(val);

	pmc->reload_cadence = old < left ? old + left : 0;
}

/* A guest counter write: a new base, no host call unless it is counting. */
int vpmc_write(struct vpmu *v, struct vpmc *pmc, uint64_t val)
{
	bool desched = false;
	int ret = 0;

	vpmc_touch(v, pmc);
	pmc->reload_cadence = 0;
	if (!pmc->bev) {
		pmc->base = val;
		return 0;
	}
	/*
	 * The cache policy keeps a folded, stopped event clean: its count is
	 * still the reference, so neither enabling it nor parking it needs a
	 * read, and a sampling event's wrap point is known at once (a PMI
	 * handler's reload after reading the counter). Lazy keeps Linux
	 * 5.5's behaviour.
	 */
	if (pmc->sync == SYNC_CLEAN && v->cfg.policy == PMU_POLICY_CACHE) {
		note_cadence(pmc, val);
		pmc->base = val;
		pmc->synced_ns = v->now_ns;
		if (!pmc->bev_period)
			return 0;
		/* a sampling event kept from an older control (this one has
		 * no PMI): it cannot be re-armed for it now, so at its use */
		if (!vpmc_period(v, pmc)) {
			pmc->sync = SYNC_REBASED;
			return 0;
		}
		return vpmc_rearm(v, pmc);
	}
	if (pmc->sync != SYNC_LIVE) {
		if (pmc->sync == SYNC_CLEAN)
			note_cadence(pmc, val);
		pmc->base = val;
		pmc->sync = SYNC_REBASED;
		return 0;
	}
	ret = bev_read_fold(v, pmc, &desched);
	if (!ret)
		note_cadence(pmc, val);
	pmc->base = val;
	if (ret)
		return ret;
	if (desched)
		return vpmc_recreate(v, pmc);
	if (pmc->bev_period)
		return vpmc_rearm(v, pmc);
	return 0;
}

int pmu_config_check(const struct pmu_config *cfg, char *err, size_t len)
{
	switch (cfg->model) {
	case PMU_MODEL_INTEL:
		if (cfg->nr_gp > PMU_INTEL_MAX_GP) {
			snprintf(err, len, "the Intel model has 1 to %d GP counters, not %u",
				 PMU_INTEL_MAX_GP, cfg->nr_gp);
			return -EINVAL;
		}
		break;
	case PMU_MODEL_AMD:
		if (cfg->nr_gp && cfg->nr_gp != PMU_AMD_NR_LEGACY &&
		    cfg->nr_gp != PMU_AMD_NR_CORE) {
			snprintf(err, len, "the AMD model has %d (legacy) or %d counters, not %u",
				 PMU_AMD_NR_LEGACY, PMU_AMD_NR_CORE, cfg->nr_gp);
			return -EINVAL;
		}
		if (cfg->perfmon_v2 && cfg->nr_gp == PMU_AMD_NR_LEGACY) {
			snprintf(err, len, "AMD PerfMonV2 needs %d counters", PMU_AMD_NR_CORE);
			return -EINVAL;
		}
		break;
	default:
		snprintf(err, len, "unknown PMU model %d", (int)cfg->model);
		return -EINVAL;
	}
	if (cfg->policy != PMU_POLICY_LAZY && cfg->policy != PMU_POLICY_NAIVE &&
	    cfg->policy != PMU_POLICY_CACHE) {
		snprintf(err, len, "unknown PMU policy %d", (int)cfg->policy);
		return -EINVAL;
	}
	if (cfg->cache_per_vcpu > PMU_CACHE_MAX_PER_VCPU ||
	    cfg->cache_per_vpmc > PMU_CACHE_MAX_PER_VCPU) {
		snprintf(err, len, "the cache policy parks at most %d events per vCPU",
			 PMU_CACHE_MAX_PER_VCPU);
		return -EINVAL;
	}
	return pmu_filter_check(&cfg->filter, cfg->model, err, len);
}

int vpmu_create(const struct pmu_config *cfg, const struct pmu_backend *be,
		struct vpmu **out)
{
	struct vpmu *v;
	unsigned int i;
	int ret;

	if (!cfg || !be || !be->ops || !out)
		return -EINVAL;
	char why[96];

	ret = pmu_config_check(cfg, why, sizeof(why));
	if (ret)
		return ret;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->cfg = *cfg;
	v->be = *be;
	be->ops->caps(be->ctx, &v->caps);
	if (!v->cfg.idle_slice_ns)
		v->cfg.idle_slice_ns = PMU_DEFAULT_IDLE_SLICE_NS;

	if (cfg->model == PMU_MODEL_INTEL) {
		v->model = &pmu_intel_ops;
		v->nr_gp = cfg->nr_gp ? cfg->nr_gp : 4;
		v->nr_fixed = PMU_INTEL_NR_FIXED;
		v->has_global = true;
	} else {
		v->model = &pmu_amd_ops;
		v->nr_gp = cfg->nr_gp ? cfg->nr_gp : PMU_AMD_NR_CORE;
		v->has_global = cfg->perfmon_v2;
		v->cfg.full_width_writes = false;
	}
	v->cfg.nr_gp = v->nr_gp;
	pmu_cache_init(v);
	open_budget_init(v);
	for (i = 0; i < PMU_MAX_PMC; i++) {
		v->pmc[i].idx = i;
		v->pmc[i].fixed = i >= PMU_FIXED_IDX;
	}
	/*
	 * At reset both vendors set the GP enables in the global control so
	 * that v1-style software works; where there is no global control,
	 * gate nothing.
	 */
	v->global_ctrl = v->has_global ? (1ull << v->nr_gp) - 1 : ~0ull;
	*out = v;
	return 0;
}

void vpmu_destroy(struct vpmu *v)
{
	unsigned int i;

	if (!v)
		return;
	for (i = 0; i < PMU_MAX_PMC; i++)
		if (v->pmc[i].bev)
			bev_drop(v, &v->pmc[i]);
	pmu_cache_release_all(v);
	free(v);
}

int vpmu_rdmsr(struct vpmu *v, uint32_t msr, uint64_t *val)
{
	int ret;

	*val = 0;
	v->stats.rdmsr++;
	ret = v->model->rdmsr(v, msr, val);
	if (ret == -EINVAL)
		v->stats.gp_faults++;
	return ret;
}

int vpmu_wrmsr(struct vpmu *v, uint32_t msr, uint64_t val)
{
	int ret;

	v->stats.wrmsr++;
	ret = v->model->wrmsr(v, msr, val);
	if (ret == -EINVAL)
		v->stats.gp_faults++;
	return ret;
}

/* Release host events of disabled counters untouched for a whole slice. */
void vpmu_tick(struct vpmu *v, uint64_t now_ns)
{
	unsigned int i;

	v->now_ns = now_ns;
	for (i = 0; i < PMU_MAX_PMC; i++) {
		struct vpmc *pmc = &v->pmc[i];

		if (!pmc->bev || pmc->bev_enabled)
			continue;
		if (now_ns - pmc->last_used_ns < v->cfg.idle_slice_ns)
			continue;
		vpmc_bev_close(v, pmc);
		v->stats.idle_releases++;
	}
	pmu_cache_tick(v);
	if (v->nr_throttled)
		retry_throttled(v);
	if (v->nr_rearm_due)
		vpmu_rearm_due(v);
}

int vpmu_shadow_values(struct vpmu *v, struct pmu_msr_value *out, int max)
{
	unsigned int i;
	int n = 0, ret = 0;

	for (i = 0; i < PMU_MAX_PMC; i++) {
		struct vpmc *pmc = &v->pmc[i];
		int err;

		if (pmc->fixed ? i - PMU_FIXED_IDX >= v->nr_fixed
			       : i >= v->nr_gp)
			continue;
		if (n >= max)
			return -ENOSPC;
		out[n].msr = v->model->counter_msr(v, pmc);
		err = vpmc_read(v, pmc, &out[n].value);
		if (err && !ret)
			ret = err;
		n++;
	}
	return ret ? ret : n;
}

const struct pmu_stats *vpmu_stats(const struct vpmu *v)
{
	return &v->stats;
}
