/* The device-independent guest driver of the virtio tests
 * (virtio_driver.h). */
#include <stdlib.h>
#include <string.h>

#include "virtio_driver.h"

void driver_ram_init(struct virtio_driver *d)
{
	memset(d, 0, sizeof(*d));
	d->buf = malloc(RAM_SIZE + 2 * GUARD);
	assert_non_null(d->buf);
	memset(d->buf, GUARD_BYTE, GUARD);
	memset(d->buf + GUARD + RAM_SIZE, GUARD_BYTE, GUARD);
	d->mem = d->buf + GUARD;
	memset(d->mem, 0, RAM_SIZE);
	d->ram.region[0] = (struct guest_region){0, RAM_SIZE, d->mem};
	d->ram.nr_regions = 1;
	d->ram.total = RAM_SIZE;
}

void assert_guards(const struct virtio_driver *d)
{
	for (size_t i = 0; i < GUARD; i++) {
		assert_int_equal(d->buf[i], GUARD_BYTE);
		assert_int_equal(d->buf[GUARD + RAM_SIZE + i], GUARD_BYTE);
	}
}

void driver_ram_free(struct virtio_driver *d)
{
	assert_guards(d);
	free(d->buf);
	d->buf = d->mem = NULL;
}

void w32(struct virtio_driver *d, uint64_t off, uint32_t val)
{
	mmio_w32(d->mmio, off, val);
}

uint32_t r32(struct virtio_driver *d, uint64_t off)
{
	return mmio_r32(d->mmio, off);
}

uint8_t r8(struct virtio_driver *d, uint64_t off)
{
	uint8_t b;

	virtio_mmio_read(d->mmio, off, &b, 1);
	return b;
}

uint16_t ram16(const struct virtio_driver *d, uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, d->mem + gpa, 2);
	return v;
}

uint32_t ram32(const struct virtio_driver *d, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, d->mem + gpa, 4);
	return v;
}

void put16(struct virtio_driver *d, uint64_t gpa, uint16_t v)
{
	memcpy(d->mem + gpa, &v, 2);
}

uint16_t used_idx(const struct virtio_driver *d, unsigned int q)
{
	return ram16(d, d->q[q].used + 2);
}

void assert_used(const struct virtio_driver *d, unsigned int q, uint16_t i, uint16_t head,
		 uint32_t len)
{
	uint64_t e = d->q[q].used + 4 + 8 * (uint64_t)(i % d->q[q].size);

	assert_int_equal(ram32(d, e), head);
	assert_int_equal(ram32(d, e + 4), len);
}

void assert_offered(struct virtio_driver *d, uint64_t features)
{
	w32(d, DEV_FEATURES_SEL, 0);
	assert_int_equal(r32(d, DEV_FEATURES), (uint32_t)features);
	w32(d, DEV_FEATURES_SEL, 1);
	assert_int_equal(r32(d, DEV_FEATURES), (uint32_t)(features >> 32));
	w32(d, DEV_FEATURES_SEL, 2);
	assert_int_equal(r32(d, DEV_FEATURES), 0);
}

uint32_t driver_negotiate(struct virtio_driver *d, uint32_t device_id, uint64_t features)
{
	assert_int_equal(r32(d, MAGIC), 0x74726976);
	assert_int_equal(r32(d, VERSION), 2);
	assert_int_equal(r32(d, DEVICE_ID), device_id);
	assert_int_equal(r32(d, VENDOR_ID), 0x4d4d564c);
	w32(d, STATUS, 0);
	w32(d, STATUS, S_ACK);
	w32(d, STATUS, S_ACK | S_DRIVER);
	w32(d, DEV_FEATURES_SEL, 1);
	(void)r32(d, DEV_FEATURES);
	w32(d, DEV_FEATURES_SEL, 0);
	(void)r32(d, DEV_FEATURES);
	w32(d, DRV_FEATURES_SEL, 1);
	w32(d, DRV_FEATURES, (uint32_t)(features >> 32));
	w32(d, DRV_FEATURES_SEL, 0);
	w32(d, DRV_FEATURES, (uint32_t)features);
	w32(d, STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	return r32(d, STATUS);
}

void driver_queue_layout(struct virtio_driver *d, uint32_t num, uint64_t desc, uint64_t avail,
			 uint64_t used)
{
	w32(d, QUEUE_NUM, num);
	w32(d, QUEUE_DESC_LO, (uint32_t)desc);
	w32(d, QUEUE_DESC_HI, (uint32_t)(desc >> 32));
	w32(d, QUEUE_DRIVER_LO, (uint32_t)avail);
	w32(d, QUEUE_DRIVER_HI, (uint32_t)(avail >> 32));
	w32(d, QUEUE_DEVICE_LO, (uint32_t)used);
	w32(d, QUEUE_DEVICE_HI, (uint32_t)(used >> 32));
}

uint32_t driver_start(struct virtio_driver *d, uint16_t qsize)
{
	for (unsigned int i = 0; i < d->nr_queues; i++) {
		struct driver_queue *q = &d->q[i];

		memset(d->mem + q->desc, 0, 0x1000);
		memset(d->mem + q->avail, 0, 0x1000);
		memset(d->mem + q->used, 0, 0x1000);
		q->size = qsize;
		q->avail_idx = 0;
		q->next_desc = 0;
		w32(d, QUEUE_SEL, i);
		assert_int_equal(r32(d, QUEUE_READY), 0);
		assert_int_equal(r32(d, QUEUE_NUM_MAX), VIRTQ_MAX_SIZE);
		driver_queue_layout(d, qsize, q->desc, q->avail, q->used);
		w32(d, QUEUE_READY, 1);
		assert_int_equal(r32(d, QUEUE_READY), 1);
	}
	w32(d, STATUS, S_RUNNING);
	return r32(d, STATUS);
}

void put_desc(struct virtio_driver *d, uint64_t table, uint16_t i, uint64_t addr, uint32_t len,
	      uint16_t flags, uint16_t next)
{
	struct virtq_desc desc = {addr, len, flags, next};

	memcpy(d->mem + table + 16 * (uint64_t)i, &desc, sizeof(desc));
}

void publish(struct virtio_driver *d, unsigned int q, uint16_t head)
{
	struct driver_queue *dq = &d->q[q];

	put16(d, dq->avail + 4 + 2 * (dq->avail_idx % dq->size), head);
	dq->avail_idx++;
	__atomic_store_n((uint16_t *)(d->mem + dq->avail + 2), dq->avail_idx, __ATOMIC_RELEASE);
}

/* A buffer's flags as an entry of a chain of @n, at position @i. */
static uint16_t seg_flags(const struct seg *s, unsigned int i, unsigned int n)
{
	return (uint16_t)((s->write ? D_WRITE : 0) | (i + 1 < n ? D_NEXT : 0));
}

uint16_t add_chain(struct virtio_driver *d, unsigned int q, const struct seg *segs, unsigned int n)
{
	struct driver_queue *dq = &d->q[q];
	uint16_t head = dq->next_desc;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t at = (uint16_t)((head + i) % dq->size);

		put_desc(d, dq->desc, at, segs[i].gpa, segs[i].len, seg_flags(&segs[i], i, n),
			 (uint16_t)((at + 1) % dq->size));
	}
	dq->next_desc = (uint16_t)((head + n) % dq->size);
	publish(d, q, head);
	return head;
}

uint16_t add_indirect(struct virtio_driver *d, unsigned int q, uint64_t table,
		      const struct seg *segs, unsigned int n)
{
	struct driver_queue *dq = &d->q[q];
	uint16_t head = dq->next_desc;

	for (unsigned int i = 0; i < n; i++)
		put_desc(d, table, (uint16_t)i, segs[i].gpa, segs[i].len, seg_flags(&segs[i], i, n),
			 (uint16_t)(i + 1));
	put_desc(d, dq->desc, head, table, 16 * n, D_INDIRECT, 0);
	dq->next_desc = (uint16_t)((head + 1) % dq->size);
	publish(d, q, head);
	return head;
}
