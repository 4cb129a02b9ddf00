/*
 * The null backend: host events that never count. Counters change only
 * by guest writes, so a run measures the trap cost alone, the floor any
 * trap-based vPMU can reach. It claims every event so CPUID and the
 * policies behave exactly as with a real PMU.
 */
#include <errno.h>
#include <stdlib.h>

#include "pmu/backend.h"

/* Handles need only be distinct and non-NULL. */
struct pmu_bev {
	char unused;
};

static int null_open(void *ctx, const struct pmu_event_desc *desc,
		     bool enabled, struct pmu_bev **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void null_close(void *ctx, struct pmu_bev *ev)
{
	free(ev);
}

static int null_toggle(void *ctx, struct pmu_bev *ev)
{
	return 0;
}

static int null_read(void *ctx, struct pmu_bev *ev, struct pmu_bev_count *out)
{
	out->value = out->time_enabled = out->time_running = 0;
	return 0;
}

static int null_set_period(void *ctx, struct pmu_bev *ev, uint64_t period)
{
	return 0;
}

static int null_set_all(void *ctx, bool enable)
{
	return 0;
}

static void null_caps(void *ctx, struct pmu_backend_caps *out)
{
	*out = (struct pmu_backend_caps){
		.name = "null",
		.counts = (1u << PMU_EV_NR_GENERIC) - 1,
		.raw = true,
	};
}

static void null_destroy(void *ctx)
{
}

static const struct pmu_backend_ops null_ops = {
	.open = null_open,
	.close = null_close,
	.enable = null_toggle,
	.disable = null_toggle,
	.read = null_read,
	.set_period = null_set_period,
	.set_all = null_set_all,
	.caps = null_caps,
	.destroy = null_destroy,
};

int pmu_backend_null_create(struct pmu_backend *out)
{
	out->ops = &null_ops;
	out->ctx = NULL;
	return 0;
}
