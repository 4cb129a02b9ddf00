/*
 * The guest event filter, as KVM_SET_PMU_EVENT_FILTER offers it: an allow
 * or deny list of event selects (with or without a unit mask) and of Intel
 * fixed counters by index. A counter whose event is filtered never opens a
 * host event: it keeps the value the guest wrote, without a fault.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmu/vpmu_priv.h"

#define FILTER_SEL_MASK 0xfffu
#define FILTER_UMASK_SHIFT 12

static bool listed_event(const struct pmu_event_filter *f, uint64_t ctrl)
{
	/* AMD's event select bits 11:8 live in EVTSEL[35:32] */
	uint32_t sel =
	    (uint32_t)((ctrl & EVTSEL_EVENT) | ((ctrl >> 24) & 0xf00));
	uint32_t umask = (uint32_t)((ctrl & EVTSEL_UMASK) >> 8);
	unsigned int i;

	for (i = 0; i < f->nr_events; i++) {
		uint32_t e = f->events[i];

		if ((e & FILTER_SEL_MASK) != sel)
			continue;
		if ((e & PMU_FILTER_ANY_UMASK) ||
		    ((e >> FILTER_UMASK_SHIFT) & 0xff) == umask)
			return true;
	}
	return false;
}

bool pmu_filter_blocks(const struct pmu_event_filter *f, const struct vpmc *pmc)
{
	bool listed;

	if (f->action == PMU_FILTER_NONE)
		return false;
	if (pmc->fixed)
		listed = f->fixed & (1u << (pmc->idx - PMU_FIXED_IDX));
	else
		listed = listed_event(f, pmc->ctrl);
	return f->action == PMU_FILTER_ALLOW ? !listed : listed;
}

int pmu_filter_check(const struct pmu_event_filter *f, enum pmu_model model,
		     char *err, size_t len)
{
	uint32_t max_sel = model == PMU_MODEL_INTEL ? 0xff : FILTER_SEL_MASK;
	unsigned int i;

	if (f->action == PMU_FILTER_NONE) {
		if (f->nr_events || f->fixed) {
			snprintf(err, len,
				 "a PMU event list needs allow or deny");
			return -EINVAL;
		}
		return 0;
	}
	if (f->action != PMU_FILTER_ALLOW && f->action != PMU_FILTER_DENY) {
		snprintf(err, len, "unknown PMU filter action %d",
			 (int)f->action);
		return -EINVAL;
	}
	if (f->nr_events > PMU_FILTER_MAX_EVENTS) {
		snprintf(err, len, "a PMU event list has at most %d events",
			 PMU_FILTER_MAX_EVENTS);
		return -EINVAL;
	}
	for (i = 0; i < f->nr_events; i++) {
		uint32_t e = f->events[i];

		if ((e & FILTER_SEL_MASK) > max_sel ||
		    (e & ~(PMU_FILTER_ANY_UMASK | 0xfffffu))) {
			snprintf(err, len,
				 "PMU event filter entry 0x%x: not an event of "
				 "the %s model",
				 e, model == PMU_MODEL_INTEL ? "Intel" : "AMD");
			return -EINVAL;
		}
	}
	if (model == PMU_MODEL_AMD && f->fixed) {
		snprintf(err, len,
			 "the AMD model has no fixed counters to filter");
		return -EINVAL;
	}
	if (f->fixed >> PMU_INTEL_NR_FIXED) {
		snprintf(err, len, "the Intel model has fixed counters 0 to %d",
			 PMU_INTEL_NR_FIXED - 1);
		return -EINVAL;
	}
	return 0;
}

/* One number in C syntax (0x.., 0.., decimal), the whole of [s, end). */
static int parse_num(const char *s, const char *end, unsigned long max,
		     unsigned long *out)
{
	char buf[24], *stop;
	size_t n = (size_t)(end - s);

	if (!n || n >= sizeof(buf) || *s < '0' || *s > '9')
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*out = strtoul(buf, &stop, 0);
	return *stop || *out > max ? -EINVAL : 0;
}

static int parse_item(const char *s, const char *end,
		      struct pmu_event_filter *f, char *err, size_t len)
{
	const char *colon = memchr(s, ':', (size_t)(end - s));
	unsigned long sel, umask;
	int n = (int)(end - s);

	if (n > 5 && !strncmp(s, "fixed", 5)) {
		if (parse_num(s + 5, end, PMU_MAX_FIXED - 1, &sel) < 0)
			goto bad;
		f->fixed |= 1u << sel;
		return 0;
	}
	if (f->nr_events >= PMU_FILTER_MAX_EVENTS) {
		snprintf(err, len, "at most %d events in a PMU event list",
			 PMU_FILTER_MAX_EVENTS);
		return -EINVAL;
	}
	if (parse_num(s, colon ? colon : end, FILTER_SEL_MASK, &sel) < 0)
		goto bad;
	if (!colon) {
		f->events[f->nr_events++] = PMU_FILTER_EVENT_ANY(sel);
		return 0;
	}
	if (parse_num(colon + 1, end, 0xff, &umask) < 0)
		goto bad;
	f->events[f->nr_events++] = PMU_FILTER_EVENT(sel, umask);
	return 0;
bad:
	snprintf(err, len,
		 "'%.*s': expected EVENT, EVENT:UMASK (event select up to "
		 "0xfff, unit mask up to 0xff) or fixedN",
		 n, s);
	return -EINVAL;
}

int pmu_filter_parse(const char *spec, struct pmu_event_filter *f, char *err,
		     size_t len)
{
	const char *p, *end;
	int ret;

	memset(f, 0, sizeof(*f));
	if (!strncmp(spec, "allow:", 6)) {
		f->action = PMU_FILTER_ALLOW;
	} else if (!strncmp(spec, "deny:", 5)) {
		f->action = PMU_FILTER_DENY;
	} else {
		snprintf(err, len, "expected allow:LIST or deny:LIST");
		return -EINVAL;
	}
	p = strchr(spec, ':') + 1;
	/* "allow:" alone allows nothing, as an empty list does in KVM */
	while (*p) {
		end = p + strcspn(p, ",");
		ret = parse_item(p, end, f, err, len);
		if (ret < 0)
			return ret;
		p = *end ? end + 1 : end;
		if (*end && !*p) {
			snprintf(err, len,
				 "a trailing comma in the event list");
			return -EINVAL;
		}
	}
	return 0;
}
