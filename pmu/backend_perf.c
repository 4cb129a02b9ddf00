/*
 * The perf backend: one perf_event_open() event per vPMC, on the calling
 * (vCPU) thread, any CPU, pinned so the host never multiplexes it away
 * silently. On a host without a hardware PMU (perf returns ENOENT for
 * hardware events) cycle-type events fall back to the thread's task-clock
 * scaled to guest TSC cycles; the other events are reported as not
 * countable so CPUID can tell the guest.
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pmu/backend.h"

#define CYCLE_TYPE_EVENTS ((1u << PMU_EV_CYCLES) | (1u << PMU_EV_REF_CYCLES))
#define DEFAULT_TSC_KHZ 1000000u	/* 1 GHz if the caller does not know */

struct perf_ctx {
	struct pmu_perf_config cfg;
	bool hardware;
	struct pmu_backend_caps caps;
};

struct pmu_bev {
	int fd;
	bool scaled;	/* task-clock ns standing in for cycles */
	/* overflow records: the metadata page, then RING_DATA_PAGES of
	 * samples; NULL where not asked for or not granted */
	struct perf_event_mmap_page *ring;
	size_t ring_len;
	const unsigned char *data;	/* the samples: data_size bytes */
	uint64_t data_size;
	/* where its count can be read in place (the ring's first page, or a
	 * page of its own); NULL if it cannot */
	const struct perf_event_mmap_page *page;
	void *own_page;
};

/* One data page holds 128 samples of 32 bytes; the vCPU drains them at
 * every signal, so more would only hold the memory-lock budget. */
#define RING_DATA_PAGES 1

static const uint64_t hw_config[PMU_EV_NR_GENERIC] = {
	[PMU_EV_CYCLES] = PERF_COUNT_HW_CPU_CYCLES,
	[PMU_EV_INSTRUCTIONS] = PERF_COUNT_HW_INSTRUCTIONS,
	[PMU_EV_REF_CYCLES] = PERF_COUNT_HW_REF_CPU_CYCLES,
	[PMU_EV_LLC_REFERENCES] = PERF_COUNT_HW_CACHE_REFERENCES,
	[PMU_EV_LLC_MISSES] = PERF_COUNT_HW_CACHE_MISSES,
	[PMU_EV_BRANCHES] = PERF_COUNT_HW_BRANCH_INSTRUCTIONS,
	[PMU_EV_BRANCH_MISSES] = PERF_COUNT_HW_BRANCH_MISSES,
};

static int perf_open_attr(struct perf_event_attr *attr)
{
	long fd;

	attr->size = sizeof(*attr);
	fd = syscall(SYS_perf_event_open, attr, 0, -1, -1,
		     PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : (int)fd;
}

/* Can this thread open (and so count) @attr? */
static bool perf_probe(struct perf_event_attr attr)
{
	int fd;

	attr.disabled = 1;
	attr.exclude_kernel = 1;
	attr.exclude_hv = 1;
	fd = perf_open_attr(&attr);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool host_is(enum pmu_model model)
{
	unsigned int eax, ebx, ecx, edx;

	if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx))
		return false;
	if (model == PMU_MODEL_INTEL)
		return ebx == 0x756e6547;			/* "Genu" */
	return ebx == 0x68747541 || ebx == 0x6f677948;	/* "Auth", "Hygo" */
}

static uint32_t tsc_khz(const struct perf_ctx *ctx)
{
	return ctx->cfg.tsc_khz ? ctx->cfg.tsc_khz : DEFAULT_TSC_KHZ;
}

static uint64_t ns_to_cycles(const struct perf_ctx *ctx, uint64_t ns)
{
	return (unsigned __int128)ns * tsc_khz(ctx) / 1000000;
}

static uint64_t cycles_to_ns(const struct perf_ctx *ctx, uint64_t cycles)
{
	uint64_t ns = ((unsigned __int128)cycles * 1000000 + tsc_khz(ctx) - 1) /
		      tsc_khz(ctx);

	return ns ? ns : 1;
}

/*
 * Shortest host sampling period of the software fallback. perf runs a
 * task-clock sample as an hrtimer of at least 10 us; a guest that programs
 * a counter a few cycles from its wrap would get the vCPU thread signalled
 * that often, which is a host-CPU sink a hostile guest must not have (and,
 * under nested emulation, a livelock of the vCPU thread). Hardware events
 * are throttled by perf itself (perf_event_max_sample_rate). Shorter
 * periods overflow late, as a counter's skid would make them.
 */
#define SOFTWARE_MIN_PERIOD_NS 100000ULL

static uint64_t software_period_ns(const struct perf_ctx *ctx, uint64_t cycles)
{
	uint64_t ns = cycles_to_ns(ctx, cycles);

	return ns < SOFTWARE_MIN_PERIOD_NS ? SOFTWARE_MIN_PERIOD_NS : ns;
}

/*
 * Overflow records: a ring the host writes a sample into at each overflow,
 * so a signal can be matched to its counter without reading every one. On
 * failure (the memory-lock budget of perf_event_mlock_kb, say) there is no
 * ring and the caller reads.
 */
static void map_ring(struct pmu_bev *ev)
{
	size_t len = (size_t)(1 + RING_DATA_PAGES) * (size_t)sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, ev->fd, 0);

	if (p == MAP_FAILED)
		return;
	ev->ring = p;
	ev->ring_len = len;
	/* kernels before 4.1 say 0: the data follows the first page */
	ev->data_size = ev->ring->data_size;
	ev->data = (const unsigned char *)p + ev->ring->data_offset;
	if (ev->data_size == 0) {
		ev->data_size = len - len / (1 + RING_DATA_PAGES);
		ev->data = (const unsigned char *)p + len / (1 + RING_DATA_PAGES);
	}
}

/*
 * The event's metadata page alone, for reading its count in place where
 * the host allows (a hardware PMU, user rdpmc). On failure (the same
 * memory-lock budget) the count is read by a host call.
 */
static void map_page(struct pmu_bev *ev)
{
	void *p = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ, MAP_SHARED, ev->fd, 0);

	if (p == MAP_FAILED)
		return;
	ev->own_page = p;
	ev->page = p;
}

/* Overflow of a sampling event interrupts this (vCPU) thread. */
static int arm_signal(const struct perf_ctx *ctx, int fd)
{
	struct f_owner_ex owner = { .type = F_OWNER_TID, .pid = gettid() };
	int flags;

	if (fcntl(fd, F_SETOWN_EX, &owner) ||
	    fcntl(fd, F_SETSIG, ctx->cfg.overflow_signal))
		return -errno;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_ASYNC))
		return -errno;
	return 0;
}

static int perf_fill_attr(const struct perf_ctx *ctx,
			  const struct pmu_event_desc *d,
			  struct perf_event_attr *attr, bool *scaled)
{
	uint32_t bit = d->generic < PMU_EV_NR_GENERIC ? 1u << d->generic : 0;

	*scaled = false;
	if (ctx->hardware) {
		if (!d->fixed && ctx->caps.raw) {
			attr->type = PERF_TYPE_RAW;
			attr->config = d->raw_config;
		} else if (ctx->caps.counts & bit) {
			attr->type = PERF_TYPE_HARDWARE;
			attr->config = hw_config[d->generic];
		} else {
			return -ENOENT;
		}
		attr->exclude_user = d->exclude_user;
		attr->exclude_kernel = d->exclude_kernel;
		attr->exclude_host = ctx->caps.exclude_host;
		return 0;
	}
	if (!(ctx->caps.software & bit))
		return -ENOENT;
	/*
	 * Guest time is host kernel time (inside KVM_RUN), so the privilege
	 * filters cannot be honoured: count the whole thread.
	 */
	attr->type = PERF_TYPE_SOFTWARE;
	attr->config = PERF_COUNT_SW_TASK_CLOCK;
	*scaled = true;
	return 0;
}

static int perf_open(void *opaque, const struct pmu_event_desc *d,
		     bool enabled, struct pmu_bev **out)
{
	struct perf_ctx *ctx = opaque;
	struct perf_event_attr attr;
	struct pmu_bev *ev;
	bool scaled;
	int fd, ret;

	memset(&attr, 0, sizeof(attr));
	ret = perf_fill_attr(ctx, d, &attr, &scaled);
	if (ret)
		return ret;
	attr.disabled = !enabled;
	attr.pinned = 1;
	attr.exclude_hv = 1;
	attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED |
			   PERF_FORMAT_TOTAL_TIME_RUNNING;
	attr.sample_period = d->sample_period;
	if (scaled && d->sample_period)
		attr.sample_period = software_period_ns(ctx, d->sample_period);
	attr.wakeup_events = d->sample_period ? 1 : 0;
	if (d->sample_period && d->records)
		attr.sample_type = PERF_SAMPLE_READ;	/* the count at overflow */

	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	fd = perf_open_attr(&attr);
	if (fd < 0) {
		free(ev);
		return fd;
	}
	if (d->sample_period && ctx->cfg.overflow_signal) {
		ret = arm_signal(ctx, fd);
		if (ret) {
			close(fd);
			free(ev);
			return ret;
		}
	}
	ev->fd = fd;
	ev->scaled = scaled;
	if (d->sample_period && d->records)
		map_ring(ev);
	if (ev->ring)
		ev->page = ev->ring;
	else if (ctx->caps.peek)
		map_page(ev);
	*out = ev;
	return 0;
}

static void perf_close(void *opaque, struct pmu_bev *ev)
{
	if (ev->ring)
		munmap(ev->ring, ev->ring_len);
	if (ev->own_page)
		munmap(ev->own_page, (size_t)sysconf(_SC_PAGESIZE));
	close(ev->fd);
	free(ev);
}

static int perf_enable(void *opaque, struct pmu_bev *ev)
{
	return ioctl(ev->fd, PERF_EVENT_IOC_ENABLE, 0) ? -errno : 0;
}

static int perf_disable(void *opaque, struct pmu_bev *ev)
{
	return ioctl(ev->fd, PERF_EVENT_IOC_DISABLE, 0) ? -errno : 0;
}

static int perf_read(void *opaque, struct pmu_bev *ev,
		     struct pmu_bev_count *out)
{
	struct perf_ctx *ctx = opaque;
	uint64_t buf[3];
	ssize_t n;

	n = read(ev->fd, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ENODATA;	/* pinned event in error state */
	if (n != sizeof(buf))
		return -EIO;
	out->value = ev->scaled ? ns_to_cycles(ctx, buf[0]) : buf[0];
	out->time_enabled = buf[1];
	out->time_running = buf[2];
	return 0;
}

/* Copy @len bytes at ring offset @off (wrapping) out of the data area. */
static void ring_copy(const struct pmu_bev *ev, uint64_t off, void *dst, size_t len)
{
	unsigned char *out = dst;

	for (size_t i = 0; i < len; i++)
		out[i] = ev->data[(off + i) % ev->data_size];
}

/*
 * The samples the host wrote since the last call, consumed. Each holds
 * the event's count at that overflow (PERF_SAMPLE_READ with this read
 * format: value, time enabled, time running).
 */
static int perf_overflowed(void *opaque, struct pmu_bev *ev, uint64_t *count)
{
	struct perf_ctx *ctx = opaque;
	struct perf_event_mmap_page *m = ev->ring;
	uint64_t head, tail, value = 0;
	int ret = 0;

	if (m == NULL)
		return -ENODATA;
	head = __atomic_load_n(&m->data_head, __ATOMIC_ACQUIRE);
	for (tail = m->data_tail; head - tail >= sizeof(struct perf_event_header);) {
		struct perf_event_header h;

		ring_copy(ev, tail, &h, sizeof(h));
		if (h.size < sizeof(h) || h.size > head - tail) {
			ret = -ENODATA;		/* torn: cannot tell */
			break;
		}
		if (h.type == PERF_RECORD_SAMPLE && h.size >= sizeof(h) + 3 * sizeof(uint64_t)) {
			ring_copy(ev, tail + sizeof(h), &value, sizeof(value));
			if (ret == 0)
				ret = 1;
		} else if (h.type == PERF_RECORD_LOST) {
			ret = -ENODATA;		/* samples dropped: read instead */
		}
		tail += h.size;
	}
	__atomic_store_n(&m->data_tail, head, __ATOMIC_RELEASE);
	if (ret == 1)
		*count = ev->scaled ? ns_to_cycles(ctx, value) : value;
	return ret;
}

static uint64_t rdpmc(uint32_t counter)
{
	uint32_t lo, hi;

	__asm__ volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"(counter));
	return (uint64_t)hi << 32 | lo;
}

/*
 * The count read in place, by the protocol of the metadata page: the
 * kernel's offset plus the hardware counter (sign-extended from its
 * width), retried while the kernel rewrites the page. Only while the
 * event is on this thread's PMU (index != 0), which a pinned event of
 * this thread is whenever the thread runs.
 */
static int perf_peek(void *opaque, struct pmu_bev *ev, uint64_t *count)
{
	const struct perf_event_mmap_page *pc = ev->page;
	uint32_t seq, index;
	uint64_t offset, pmc;
	unsigned int width;

	(void)opaque;
	if (pc == NULL || ev->scaled)
		return -EAGAIN;
	do {
		seq = __atomic_load_n(&pc->lock, __ATOMIC_ACQUIRE);
		index = pc->index;
		offset = (uint64_t)pc->offset;
		width = pc->pmc_width;
		if (!pc->cap_user_rdpmc || index == 0 || width == 0 || width > 64)
			return -EAGAIN;
		pmc = rdpmc(index - 1);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while (__atomic_load_n(&pc->lock, __ATOMIC_RELAXED) != seq);
	if (width < 64)
		pmc = (uint64_t)((int64_t)(pmc << (64 - width)) >> (64 - width));
	*count = offset + pmc;
	return 0;
}

static int perf_set_period(void *opaque, struct pmu_bev *ev, uint64_t period)
{
	struct perf_ctx *ctx = opaque;

	if (ev->scaled)
		period = software_period_ns(ctx, period);
	return ioctl(ev->fd, PERF_EVENT_IOC_PERIOD, &period) ? -errno : 0;
}

/* Every event this thread opened: the calling vCPU's counters. */
static int perf_set_all(void *opaque, bool enable)
{
	(void)opaque;
	return prctl(enable ? PR_TASK_PERF_EVENTS_ENABLE : PR_TASK_PERF_EVENTS_DISABLE, 0, 0, 0,
		     0) ? -errno : 0;
}

static void perf_caps(void *opaque, struct pmu_backend_caps *out)
{
	struct perf_ctx *ctx = opaque;

	*out = ctx->caps;
}

static void perf_destroy(void *opaque)
{
	free(opaque);
}

static const struct pmu_backend_ops perf_ops = {
	.open = perf_open,
	.close = perf_close,
	.enable = perf_enable,
	.disable = perf_disable,
	.read = perf_read,
	.set_period = perf_set_period,
	.overflowed = perf_overflowed,
	.set_all = perf_set_all,
	.peek = perf_peek,
	.caps = perf_caps,
	.destroy = perf_destroy,
};

/* Does the host let this thread read @attr's count in place (user rdpmc:
 * /sys/bus/event_source/devices/cpu/rdpmc)? */
static bool probe_user_read(struct perf_event_attr attr)
{
	size_t len = (size_t)sysconf(_SC_PAGESIZE);
	bool ok = false;
	void *p;
	int fd;

	attr.exclude_kernel = 1;
	attr.exclude_hv = 1;
	fd = perf_open_attr(&attr);
	if (fd < 0)
		return false;
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED) {
		ok = ((const struct perf_event_mmap_page *)p)->cap_user_rdpmc;
		munmap(p, len);
	}
	close(fd);
	return ok;
}

static void probe_hardware(struct perf_ctx *ctx)
{
	struct perf_event_attr attr;
	int i;

	memset(&attr, 0, sizeof(attr));
	attr.type = PERF_TYPE_HARDWARE;
	for (i = 0; i < PMU_EV_NR_GENERIC; i++) {
		attr.config = hw_config[i];
		if (perf_probe(attr))
			ctx->caps.counts |= 1u << i;
	}
	if (!ctx->caps.counts)
		return;
	ctx->hardware = true;
	ctx->caps.name = "perf";
	ctx->caps.sampling = true;
	/* raw encodings only mean the same thing on the same vendor */
	ctx->caps.raw = host_is(ctx->cfg.guest_model);
	attr.config = PERF_COUNT_HW_CPU_CYCLES;
	attr.exclude_host = 1;
	ctx->caps.exclude_host = perf_probe(attr);
	ctx->caps.peek = ctx->caps.exclude_host && probe_user_read(attr);
}

static void probe_software(struct perf_ctx *ctx)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_TASK_CLOCK;
	if (!perf_probe(attr)) {
		ctx->caps.name = "perf (no usable events)";
		return;
	}
	ctx->caps.name = "perf (software fallback)";
	ctx->caps.counts = CYCLE_TYPE_EVENTS;
	ctx->caps.software = CYCLE_TYPE_EVENTS;
	ctx->caps.sampling = true;
}

int pmu_backend_perf_create(const struct pmu_perf_config *cfg,
			    struct pmu_backend *out)
{
	struct perf_ctx *ctx;

	if (!cfg || !out)
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->cfg = *cfg;
	if (!cfg->force_software)
		probe_hardware(ctx);
	if (!ctx->hardware)
		probe_software(ctx);
	out->ops = &perf_ops;
	out->ctx = ctx;
	return 0;
}
