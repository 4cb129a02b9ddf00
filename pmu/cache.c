/*
 * The cache policy's parked events: host events stopped when their vPMC
 * changed configuration, kept by configuration so that a vPMC taking that
 * configuration again (perf multiplexing rotates a few of them through each
 * counter) re-enables one instead of opening a new one.
 *
 * Bounds: at most cache_per_vpmc parked events parked by one vPMC and
 * cache_per_vcpu in all (the oldest go first); a parked event unused for a
 * whole idle slice is closed, as any other idle event.
 */
#include <string.h>

#include "pmu/vpmu_priv.h"

void pmu_cache_init(struct vpmu *v)
{
	struct pmu_cache *c = &v->cache;

	memset(c, 0, sizeof(*c));
	c->per_vpmc = v->cfg.cache_per_vpmc ? v->cfg.cache_per_vpmc
					    : PMU_CACHE_DEFAULT_PER_VPMC;
	c->per_vcpu = v->cfg.cache_per_vcpu ? v->cfg.cache_per_vcpu
					    : PMU_CACHE_DEFAULT_PER_VCPU;
	if (c->per_vpmc > c->per_vcpu)
		c->per_vpmc = c->per_vcpu;
}

/* Fixed counters count different events under equal controls. */
static int slot_of(const struct vpmc *pmc)
{
	return pmc->fixed ? pmc->idx : -1;
}

static void forget(struct pmu_cache *c, unsigned int i)
{
	c->ev[i] = c->ev[--c->nr];
}

static void evict(struct vpmu *v, unsigned int i)
{
	vpmu_bev_release(v, v->cache.ev[i].bev);
	forget(&v->cache, i);
	v->stats.evictions++;
}

/* Index of the oldest parked event (of @owner, or any if < 0), or -1. */
static int oldest(const struct pmu_cache *c, int owner)
{
	unsigned int i;
	int best = -1;

	for (i = 0; i < c->nr; i++) {
		if (owner >= 0 && c->ev[i].owner != owner)
			continue;
		if (best < 0 || c->ev[i].parked_ns < c->ev[best].parked_ns)
			best = (int)i;
	}
	return best;
}

bool pmu_cache_evict_oldest(struct vpmu *v)
{
	int i = oldest(&v->cache, -1);

	if (i < 0)
		return false;
	evict(v, (unsigned int)i);
	return true;
}

static void insert(struct vpmu *v, struct vpmc *pmc, struct pmu_parked *p)
{
	struct pmu_cache *c = &v->cache;
	unsigned int mine = 0, i;
	int victim;

	for (i = 0; i < c->nr; i++)
		mine += c->ev[i].owner == pmc->idx;
	victim = mine >= c->per_vpmc ? oldest(c, pmc->idx) : -1;
	if (victim >= 0)
		evict(v, (unsigned int)victim);
	if (c->nr >= c->per_vcpu)
		pmu_cache_evict_oldest(v);
	p->slot = slot_of(pmc);
	p->owner = pmc->idx;
	p->parked_ns = v->now_ns;
	if (!c->nr || p->parked_ns + v->cfg.idle_slice_ns < c->next_expiry_ns)
		c->next_expiry_ns = p->parked_ns + v->cfg.idle_slice_ns;
	c->ev[c->nr++] = *p;
	v->stats.parks++;
}

bool pmu_cache_take(struct vpmu *v, struct vpmc *pmc)
{
	struct pmu_cache *c = &v->cache;
	uint64_t key = vpmc_key(pmc);
	int slot = slot_of(pmc), best = -1;
	unsigned int i;

	/* its own first: that event still carries its index for the host */
	for (i = 0; i < c->nr; i++) {
		if (c->ev[i].key != key || c->ev[i].slot != slot)
			continue;
		best = (int)i;
		if (c->ev[i].owner == pmc->idx)
			break;
	}
	if (best < 0)
		return false;
	vpmc_bev_attach(v, pmc, &c->ev[best]);
	forget(c, (unsigned int)best);
	v->stats.cache_hits++;
	return true;
}

/*
 * @pmc changed configuration: park its event, then attach a parked one of
 * the new configuration if there is one. The new one is taken before the
 * old is parked, so a full cache never evicts the very event wanted.
 */
int pmu_cache_switch(struct vpmu *v, struct vpmc *pmc)
{
	struct pmu_parked old;
	int ret;

	ret = vpmc_bev_detach(v, pmc, &old);
	pmu_cache_take(v, pmc);
	if (old.bev)
		insert(v, pmc, &old);
	return ret;
}

void pmu_cache_tick(struct vpmu *v)
{
	struct pmu_cache *c = &v->cache;
	uint64_t next = UINT64_MAX, slice = v->cfg.idle_slice_ns;
	unsigned int i = 0;

	if (!c->nr || v->now_ns < c->next_expiry_ns)
		return;
	while (i < c->nr) {
		struct pmu_parked *p = &c->ev[i];

		if (v->now_ns - p->parked_ns >= slice) {
			vpmu_bev_release(v, p->bev);
			forget(c, i);
			v->stats.idle_releases++;
			continue;
		}
		if (p->parked_ns + slice < next)
			next = p->parked_ns + slice;
		i++;
	}
	c->next_expiry_ns = next;
}

void pmu_cache_release_all(struct vpmu *v)
{
	struct pmu_cache *c = &v->cache;

	while (c->nr)
		vpmu_bev_release(v, c->ev[--c->nr].bev);
}
