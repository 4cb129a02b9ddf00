/* The guest driver side of the virtio harnesses (virtio_fuzz_driver.h). */
#include <stdlib.h>
#include <string.h>

#include "virtio_fuzz_driver.h"

#define WINDOW VIRTIO_MMIO_WINDOW

#define REG_DEV_FEATURES     0x010
#define REG_DEV_FEATURES_SEL 0x014
#define REG_DRV_FEATURES     0x020
#define REG_DRV_FEATURES_SEL 0x024
#define REG_QUEUE_SEL	     0x030
#define REG_QUEUE_NUM_MAX    0x034
#define REG_QUEUE_NUM	     0x038
#define REG_QUEUE_READY	     0x044
#define REG_QUEUE_DESC	     0x080
#define REG_QUEUE_DRIVER     0x090
#define REG_QUEUE_DEVICE     0x0a0

static void on_irq(void *opaque)
{
	((struct fuzz_driver *)opaque)->irqs++;
}

void fuzz_driver_init(struct fuzz_driver *d, size_t ram_size)
{
	memset(d, 0, sizeof(*d));
	fuzz_ram_init(&d->fram, ram_size);
}

void fuzz_driver_start(struct fuzz_driver *d, struct virtio_mmio *mmio)
{
	d->mmio = mmio;
	mmio->interrupt = on_irq;
	mmio->opaque = d;
	d->irqs = 0;
	memset(d->next_desc, 0, sizeof(d->next_desc));
}

/* The driver's view of guest RAM: what it programmed, valid or not. */
static void *drv_ptr(struct fuzz_driver *d, uint64_t gpa, uint64_t len)
{
	return guest_ram_ptr(&d->fram.ram, gpa, len);
}

void fuzz_driver_put_desc(struct fuzz_driver *d, unsigned int q, uint16_t idx, uint64_t addr,
			  uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc desc = {addr, len, flags, next};
	uint16_t size = fuzz_driver_qsize(d, q);
	void *p;

	if (size == 0)
		return;
	p = drv_ptr(d, d->mmio->vq[q].desc_gpa + 16 * (uint64_t)(idx % size), 16);
	if (p != NULL)
		memcpy(p, &desc, sizeof(desc));
}

void fuzz_driver_offer(struct fuzz_driver *d, unsigned int q, uint16_t head)
{
	uint64_t avail = d->mmio->vq[q].avail_gpa;
	uint16_t size = fuzz_driver_qsize(d, q);
	uint8_t *idx = drv_ptr(d, avail + 2, 2);
	uint16_t i;
	uint8_t *slot;

	if (size == 0 || idx == NULL)
		return;
	memcpy(&i, idx, 2);
	slot = drv_ptr(d, avail + 4 + 2 * (uint64_t)(i % size), 2);
	if (slot != NULL)
		memcpy(slot, &head, 2);
	i++;
	memcpy(idx, &i, 2);
}

void fuzz_driver_add_chain(struct fuzz_driver *d, unsigned int q, const struct virtq_desc *desc,
			   unsigned int n, uint64_t table)
{
	uint16_t size = fuzz_driver_qsize(d, q);
	uint16_t head;

	if (size == 0)
		return;
	head = d->next_desc[q] % size;
	if (table) {
		for (unsigned int i = 0; i < n; i++) {
			struct virtq_desc e = desc[i];

			e.flags |= i + 1 < n ? 1 : 0;
			e.next = (uint16_t)(i + 1);
			memcpy(d->fram.mem + table + 16 * i, &e, sizeof(e));
		}
		fuzz_driver_put_desc(d, q, head, table, 16 * n, 4, 0);
		d->next_desc[q] = (uint16_t)((head + 1) % size);
	} else {
		for (unsigned int i = 0; i < n; i++) {
			uint16_t at = (uint16_t)((head + i) % size);

			fuzz_driver_put_desc(d, q, at, desc[i].addr, desc[i].len,
					     desc[i].flags | (i + 1 < n ? 1 : 0),
					     (uint16_t)((at + 1) % size));
		}
		d->next_desc[q] = (uint16_t)((head + n) % size);
	}
	fuzz_driver_offer(d, q, head);
}

static void setup(struct fuzz_driver *d, uint64_t features, uint8_t qsz, uint8_t at)
{
	uint16_t n = (uint16_t)(1u << (qsz % 9)); /* 1 .. 256 */

	mmio_w32(d->mmio, REG_STATUS, 0);
	mmio_w32(d->mmio, REG_STATUS, 1);
	mmio_w32(d->mmio, REG_STATUS, 3);
	mmio_w32(d->mmio, REG_DEV_FEATURES_SEL, 1);
	mmio_r32(d->mmio, REG_DEV_FEATURES);
	mmio_w32(d->mmio, REG_DEV_FEATURES_SEL, 0);
	mmio_r32(d->mmio, REG_DEV_FEATURES);
	mmio_w32(d->mmio, REG_DRV_FEATURES_SEL, 1);
	mmio_w32(d->mmio, REG_DRV_FEATURES, (uint32_t)(features >> 32));
	mmio_w32(d->mmio, REG_DRV_FEATURES_SEL, 0);
	mmio_w32(d->mmio, REG_DRV_FEATURES, (uint32_t)features);
	mmio_w32(d->mmio, REG_STATUS, 0xb);
	if (!(mmio_r32(d->mmio, REG_STATUS) & 8))
		return;
	for (unsigned int q = 0; q < d->mmio->ops->nr_queues; q++) {
		uint64_t desc = (uint64_t)at * 0x400 + 0x2000 * q;
		uint64_t avail = desc + 16 * (uint64_t)n;
		uint64_t used = (avail + 6 + 2 * (uint64_t)n + 3) & ~3ULL;
		uint64_t end = used + 6 + 8 * (uint64_t)n;

		if (drv_ptr(d, desc, end - desc) != NULL)
			memset(d->fram.mem + desc, 0, end - desc);
		mmio_w32(d->mmio, REG_QUEUE_SEL, q);
		mmio_r32(d->mmio, REG_QUEUE_READY);
		mmio_r32(d->mmio, REG_QUEUE_NUM_MAX);
		mmio_w32(d->mmio, REG_QUEUE_NUM, n);
		mmio_w32(d->mmio, REG_QUEUE_DESC, (uint32_t)desc);
		mmio_w32(d->mmio, REG_QUEUE_DESC + 4, (uint32_t)(desc >> 32));
		mmio_w32(d->mmio, REG_QUEUE_DRIVER, (uint32_t)avail);
		mmio_w32(d->mmio, REG_QUEUE_DRIVER + 4, (uint32_t)(avail >> 32));
		mmio_w32(d->mmio, REG_QUEUE_DEVICE, (uint32_t)used);
		mmio_w32(d->mmio, REG_QUEUE_DEVICE + 4, (uint32_t)(used >> 32));
		mmio_w32(d->mmio, REG_QUEUE_READY, 1);
		d->next_desc[q] = 0;
	}
	mmio_w32(d->mmio, REG_STATUS, 0xf);
}

/* A register write; whether it set NEEDS_RESET. */
static bool op_w32(struct fuzz_driver *d, struct fuzz_in *in)
{
	uint64_t off = fuzz_uint(in, 1) * 4 % WINDOW;
	uint32_t val = (uint32_t)fuzz_uint(in, 4);

	mmio_w32(d->mmio, off, val);
	return off == REG_STATUS && (val & S_NEEDS_RESET);
}

/* An access of any size at any offset; whether it wrote NEEDS_RESET. */
static bool op_access(struct fuzz_driver *d, struct fuzz_in *in)
{
	uint64_t off = fuzz_uint(in, 2) % (2 * WINDOW);
	unsigned int how = (unsigned int)fuzz_uint(in, 1);
	uint64_t val = fuzz_uint(in, 8);
	unsigned int n = 1u << (how & 3);
	uint8_t b[8];

	memcpy(b, &val, 8);
	if (!(how & 4)) {
		virtio_mmio_read(d->mmio, off, b, n);
		return false;
	}
	virtio_mmio_write(d->mmio, off, b, n);
	return off == REG_STATUS && (val & S_NEEDS_RESET);
}

static void op_ram(struct fuzz_driver *d, struct fuzz_in *in)
{
	uint64_t gpa = fuzz_uint(in, 3) % d->fram.size;
	size_t len = (size_t)fuzz_uint(in, 1), got;
	const uint8_t *p;

	if (len > d->fram.size - gpa)
		len = d->fram.size - gpa;
	p = fuzz_bytes(in, len, &got);
	memcpy(d->fram.mem + gpa, p, got);
}

/* Opcodes 0 to 3; whether the driver wrote NEEDS_RESET itself. */
static bool driver_op(struct fuzz_driver *d, unsigned int op, struct fuzz_in *in)
{
	switch (op) {
	case 0:
		return op_w32(d, in);
	case 1:
		mmio_r32(d->mmio, fuzz_uint(in, 1) * 4 % WINDOW);
		return false;
	case 2:
		return op_access(d, in);
	default:
		op_ram(d, in);
		return false;
	}
}

void fuzz_driver_op_setup(struct fuzz_driver *d, const uint64_t device_features[6],
			  struct fuzz_in *in)
{
	uint8_t feat = (uint8_t)fuzz_uint(in, 1), qsz = (uint8_t)fuzz_uint(in, 1);
	uint8_t at = (uint8_t)fuzz_uint(in, 1);
	uint64_t features = VIRTIO_FEATURE_VERSION_1;

	if (feat & 1)
		features |= VIRTIO_FEATURE_INDIRECT_DESC;
	if (feat & 2)
		features |= VIRTIO_FEATURE_EVENT_IDX;
	for (unsigned int i = 0; i < 6; i++)
		if (feat & (4u << i))
			features |= device_features[i];
	setup(d, features, qsz, at);
}

void fuzz_driver_ring_word(struct fuzz_driver *d, unsigned int q, unsigned int which, uint16_t val)
{
	uint64_t gpa =
	    d->mmio->vq[q].avail_gpa + ((which & 1) ? 4 + 2 * fuzz_driver_qsize(d, q) : 0);
	void *p = drv_ptr(d, gpa, 2);

	if (p != NULL)
		memcpy(p, &val, 2);
}

void fuzz_driver_step(struct fuzz_driver *d, struct fuzz_in *in, fuzz_device_op *device_op)
{
	unsigned int op = (unsigned int)fuzz_uint(in, 1) % 16;
	uint32_t status = fuzz_driver_status(d), generation = d->mmio->generation;
	unsigned int irqs = d->irqs;
	bool self_broken = false;

	if (op < 4) {
		fuzz_ram_may_change(&d->fram);
		self_broken = driver_op(d, op, in);
	} else {
		device_op(op, in);
	}
	if ((status & S_NEEDS_RESET) && !(fuzz_driver_status(d) & S_NEEDS_RESET) &&
	    d->mmio->generation == generation)
		abort();
	if (!(status & S_NEEDS_RESET) && (fuzz_driver_status(d) & S_NEEDS_RESET) && !self_broken &&
	    (d->irqs == irqs || !(atomic_load(&d->mmio->interrupt_status) & INT_CONFIG)))
		abort();
	if (d->irqs != irqs && atomic_load(&d->mmio->interrupt_status) == 0)
		abort();
}
