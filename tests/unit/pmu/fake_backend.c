/*
 * The recording fake backend used by the vPMU unit tests (see
 * fake_backend.h).
 */
#include <errno.h>
#include <string.h>

#include "fake_backend.h"

static void record(struct fake_backend *fb, enum fake_op op)
{
	fb->calls[op]++;
	if (fb->ntrace < FAKE_MAX_TRACE)
		fb->trace[fb->ntrace++] = op;
}

static int take_failure(int *fail)
{
	int ret = *fail;

	*fail = 0;
	return ret;
}

static int fake_open(void *ctx, const struct pmu_event_desc *desc,
		     bool enabled, struct pmu_bev **out)
{
	struct fake_backend *fb = ctx;
	int i, ret;

	record(fb, FAKE_OPEN);
	fb->last_open = *desc;
	fb->last_open_enabled = enabled;
	ret = take_failure(&fb->fail_open);
	if (ret)
		return ret;
	for (i = 0; i < FAKE_MAX_EVENTS; i++) {
		struct pmu_bev *ev = &fb->ev[i];

		if (ev->in_use)
			continue;
		memset(ev, 0, sizeof(*ev));
		ev->in_use = true;
		ev->enabled = enabled;
		ev->desc = *desc;
		ev->period = desc->sample_period;
		ev->next_fire = desc->sample_period;
		if (++fb->live > fb->max_live)
			fb->max_live = fb->live;
		*out = ev;
		return 0;
	}
	return -EMFILE;
}

static void fake_close(void *ctx, struct pmu_bev *ev)
{
	struct fake_backend *fb = ctx;

	record(fb, FAKE_CLOSE);
	ev->in_use = false;
	fb->live--;
}

static int fake_enable(void *ctx, struct pmu_bev *ev)
{
	struct fake_backend *fb = ctx;
	int ret;

	record(fb, FAKE_ENABLE);
	ret = take_failure(&fb->fail_enable);
	if (!ret)
		ev->enabled = true;
	return ret;
}

static int fake_disable(void *ctx, struct pmu_bev *ev)
{
	struct fake_backend *fb = ctx;
	int ret;

	record(fb, FAKE_DISABLE);
	ret = take_failure(&fb->fail_disable);
	if (!ret)
		ev->enabled = false;
	return ret;
}

static int fake_read(void *ctx, struct pmu_bev *ev, struct pmu_bev_count *out)
{
	struct fake_backend *fb = ctx;
	int ret;

	record(fb, FAKE_READ);
	ret = take_failure(&fb->fail_read);
	if (ret)
		return ret;
	out->value = ev->count;
	out->time_enabled = 100;
	out->time_running = ev->descheduled ? 50 : 100;
	return 0;
}

/* Like the thread-wide prctl: every live event, parked ones included. */
static int fake_set_all(void *ctx, bool enable)
{
	struct fake_backend *fb = ctx;

	record(fb, FAKE_SET_ALL);
	for (int i = 0; i < FAKE_MAX_EVENTS; i++)
		if (fb->ev[i].in_use)
			fb->ev[i].enabled = enable;
	return 0;
}

static int fake_set_period(void *ctx, struct pmu_bev *ev, uint64_t period)
{
	struct fake_backend *fb = ctx;

	record(fb, FAKE_SET_PERIOD);
	ev->period = period;
	ev->next_fire = ev->count + period;	/* perf restarts the period */
	fb->last_period = period;
	return 0;
}

/* Not a host call: no trace entry. */
static int fake_overflowed(void *ctx, struct pmu_bev *ev, uint64_t *count)
{
	struct fake_backend *fb = ctx;

	if (!fb->records || !ev->desc.records)
		return -ENODATA;
	if (!ev->recorded)
		return 0;
	ev->recorded = false;
	*count = ev->record;
	return 1;
}

/* Not a host call either (rdpmc): only a running event is on the PMU. */
static int fake_peek(void *ctx, struct pmu_bev *ev, uint64_t *count)
{
	struct fake_backend *fb = ctx;

	if (!fb->caps.peek || !ev->enabled || fb->fail_peek)
		return -EAGAIN;
	fb->peeks++;
	*count = ev->count;
	return 0;
}

static void fake_caps(void *ctx, struct pmu_backend_caps *out)
{
	struct fake_backend *fb = ctx;

	*out = fb->caps;
}

static void fake_destroy(void *ctx)
{
}

static const struct pmu_backend_ops fake_ops = {
	.open = fake_open,
	.close = fake_close,
	.enable = fake_enable,
	.disable = fake_disable,
	.read = fake_read,
	.set_period = fake_set_period,
	.overflowed = fake_overflowed,
	.set_all = fake_set_all,
	.peek = fake_peek,
	.caps = fake_caps,
	.destroy = fake_destroy,
};

void fake_init(struct fake_backend *fb, struct pmu_backend *be)
{
	memset(fb, 0, sizeof(*fb));
	fb->caps.name = "fake";
	fb->caps.counts = (1u << PMU_EV_NR_GENERIC) - 1;
	fb->caps.raw = true;
	fb->caps.sampling = true;
	be->ops = &fake_ops;
	be->ctx = fb;
}

void fake_reset_calls(struct fake_backend *fb)
{
	memset(fb->calls, 0, sizeof(fb->calls));
	fb->ntrace = 0;
}

void fake_advance(struct fake_backend *fb, uint64_t n)
{
	int i;

	for (i = 0; i < FAKE_MAX_EVENTS; i++) {
		struct pmu_bev *ev = &fb->ev[i];
		uint64_t k;

		if (!ev->in_use || !ev->enabled)
			continue;
		ev->count += n;
		if (!ev->period || ev->count < ev->next_fire)
			continue;
		/* overflows at next_fire, next_fire + period, ...: the
		 * record of the last one is what is kept */
		k = (ev->count - ev->next_fire) / ev->period;
		ev->recorded = true;
		ev->record = ev->next_fire + k * ev->period;
		ev->next_fire += (k + 1) * ev->period;
	}
}

struct pmu_bev *fake_event_of(struct fake_backend *fb, int index)
{
	int i;

	for (i = 0; i < FAKE_MAX_EVENTS; i++)
		if (fb->ev[i].in_use && fb->ev[i].desc.index == index)
			return &fb->ev[i];
	return NULL;
}
