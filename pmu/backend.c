/*
 * Helpers common to every host backend: teardown and the one start-up
 * line that tells the user what the vPMU can really count on this host.
 */
#include <errno.h>
#include <stdio.h>

#include "pmu/backend.h"

static const char *const generic_names[PMU_EV_NR_GENERIC] = {
	"cycles", "instructions", "ref-cycles", "llc-references",
	"llc-misses", "branches", "branch-misses",
};

void pmu_backend_destroy(struct pmu_backend *be)
{
	if (be && be->ops && be->ops->destroy)
		be->ops->destroy(be->ctx);
	if (be) {
		be->ops = NULL;
		be->ctx = NULL;
	}
}

/* Appends the names of the events in @mask; returns the new length. */
static size_t list_events(char *buf, size_t len, size_t used, uint32_t mask)
{
	const char *sep = "";
	int i, ret;

	for (i = 0; i < PMU_EV_NR_GENERIC; i++) {
		if (!(mask & (1u << i)))
			continue;
		ret = snprintf(used < len ? buf + used : NULL,
			       used < len ? len - used : 0, "%s%s", sep,
			       generic_names[i]);
		if (ret > 0)
			used += ret;
		sep = ",";
	}
	return used;
}

int pmu_backend_describe(const struct pmu_backend_caps *caps, char *buf,
			 size_t len)
{
	uint32_t all = (1u << PMU_EV_NR_GENERIC) - 1, hw;
	const char *sep = " ";
	size_t used;
	int ret;

	if (!caps || !buf || !len)
		return -EINVAL;
	hw = caps->counts & ~caps->software;
	ret = snprintf(buf, len, "pmu backend %s:", caps->name);
	if (ret < 0)
		return -EIO;
	used = ret;
#define APPEND(...) do {						\
		ret = snprintf(used < len ? buf + used : NULL,		\
			       used < len ? len - used : 0, __VA_ARGS__); \
		if (ret > 0)						\
			used += ret;					\
	} while (0)
	if (hw || caps->raw) {
		APPEND("%scounting ", sep);
		used = list_events(buf, len, used, hw);
		if (caps->raw)
			APPEND("%sraw events", hw ? " + " : "");
		sep = "; ";
	}
	if (caps->software) {
		APPEND("%ssoftware fallback (task-clock) for ", sep);
		used = list_events(buf, len, used, caps->software);
		sep = "; ";
	}
	if (~caps->counts & all) {
		APPEND("%snot counted: ", sep);
		used = list_events(buf, len, used, ~caps->counts & all);
		sep = "; ";
	}
	APPEND("%sexclude_host %s, sampling %s", sep,
	       caps->exclude_host ? "yes" : "no",
	       caps->sampling ? "yes" : "no");
#undef APPEND
	return used;
}
