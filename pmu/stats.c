/*
 * vPMU statistics: summing per-vCPU counters into per-VM ones and printing
 * them as text or JSON. One table drives both so they cannot drift apart.
 */
#include <stdio.h>

#include "pmu/vpmu_priv.h"

#define STAT(name) { #name, offsetof(struct pmu_stats, name) }

static const struct {
	const char *name;
	size_t offset;
} stat_fields[] = {
	STAT(rdmsr), STAT(rdmsr_counter), STAT(wrmsr), STAT(wrmsr_eventsel),
	STAT(wrmsr_counter), STAT(wrmsr_fixed_ctrl), STAT(wrmsr_global_ctrl),
	STAT(wrmsr_global_status), STAT(wrmsr_other), STAT(gp_faults),
	STAT(opens), STAT(open_failures), STAT(closes), STAT(enables),
	STAT(disables), STAT(reads), STAT(set_periods), STAT(group_toggles), STAT(held_toggles),
	STAT(recreations),
	STAT(idle_releases), STAT(descheduled), STAT(overflows), STAT(pmis),
	STAT(parks), STAT(cache_hits), STAT(cache_misses), STAT(evictions),
	STAT(filtered), STAT(throttled), STAT(fds_open), STAT(fds_peak),
};

#define NR_STAT_FIELDS ARRAY_SIZE(stat_fields)

_Static_assert(NR_STAT_FIELDS * sizeof(uint64_t) == sizeof(struct pmu_stats),
	       "every pmu_stats field must be in stat_fields");

static uint64_t *field(struct pmu_stats *s, size_t i)
{
	return (uint64_t *)((char *)s + stat_fields[i].offset);
}

static uint64_t field_get(const struct pmu_stats *s, size_t i)
{
	return *(const uint64_t *)((const char *)s + stat_fields[i].offset);
}

void pmu_stats_add(struct pmu_stats *sum, const struct pmu_stats *add)
{
	size_t i;

	for (i = 0; i < NR_STAT_FIELDS; i++)
		*field(sum, i) += field_get(add, i);
}

/* Where the next piece goes; NULL with room 0 once buf is full. */
static char *at(char *buf, size_t len, size_t used, size_t *room)
{
	*room = used < len ? len - used : 0;
	return *room ? buf + used : NULL;
}

int pmu_stats_format(const struct pmu_stats *s, bool json, char *buf,
		     size_t len)
{
	size_t used = 0, room, i;
	char *p;
	int ret;

	if (!s || (!buf && len))
		return -EINVAL;
	for (i = 0; i < NR_STAT_FIELDS; i++) {
		const char *sep = i ? ", " : "{";

		p = at(buf, len, used, &room);
		if (json)
			ret = snprintf(p, room, "%s\"%s\": %llu", sep,
				       stat_fields[i].name,
				       (unsigned long long)field_get(s, i));
		else
			ret = snprintf(p, room, "%-20s %llu\n",
				       stat_fields[i].name,
				       (unsigned long long)field_get(s, i));
		if (ret < 0)
			return -EIO;
		used += ret;
	}
	if (json) {
		p = at(buf, len, used, &room);
		ret = snprintf(p, room, "}");
		if (ret < 0)
			return -EIO;
		used += ret;
	}
	return used > (size_t)2147483647 ? -EOVERFLOW : (int)used;
}
