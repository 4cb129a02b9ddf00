/* The virtio-blk test fixture (virtio_blk_fixture.h). */
#include "virtio_blk_fixture.h"

static void on_irq(void *opaque)
{
	((struct t *)opaque)->irqs++;
}

static void on_kick(void *opaque, unsigned int q)
{
	struct t *t = opaque;

	t->kicks++;
	t->last_kick = q;
}

struct t *t_new(bool read_only)
{
	struct t *t = calloc(1, sizeof(*t));
	char path[] = "/tmp/test-virtio-XXXXXX";

	assert_non_null(t);
	t->buf = malloc(RAM_SIZE + 2 * GUARD);
	assert_non_null(t->buf);
	memset(t->buf, GUARD_BYTE, GUARD);
	memset(t->buf + GUARD + RAM_SIZE, GUARD_BYTE, GUARD);
	t->mem = t->buf + GUARD;
	memset(t->mem, 0, RAM_SIZE);
	t->ram.region[0] = (struct guest_region){0, RAM_SIZE, t->mem};
	t->ram.nr_regions = 1;
	t->ram.total = RAM_SIZE;

	t->fd = mkstemp(path);
	assert_true(t->fd >= 0);
	unlink(path);
	assert_int_equal(ftruncate(t->fd, DISK_BYTES), 0);
	assert_int_equal(virtio_blk_init(&t->blk, t->fd, DISK_BYTES, read_only, DISK_ID, &t->ram),
			 0);
	t->blk.mmio.interrupt = on_irq;
	t->blk.mmio.kick = on_kick;
	t->blk.mmio.opaque = t;
	return t;
}

/* Nothing was written outside guest RAM, on either side. */
void assert_guards(const struct t *t)
{
	for (size_t i = 0; i < GUARD; i++) {
		assert_int_equal(t->buf[i], GUARD_BYTE);
		assert_int_equal(t->buf[GUARD + RAM_SIZE + i], GUARD_BYTE);
	}
}

void t_free(struct t *t)
{
	struct stat st;

	assert_guards(t);
	/* No request may ever grow or shrink the image. */
	assert_int_equal(fstat(t->fd, &st), 0);
	assert_int_equal(st.st_size, DISK_BYTES);
	virtio_blk_destroy(&t->blk);
	close(t->fd);
	free(t->buf);
	free(t);
}

void w32(struct t *t, uint64_t off, uint32_t val)
{
	uint8_t b[4];

	memcpy(b, &val, 4);
	virtio_mmio_write(&t->blk.mmio, off, b, 4);
}

uint32_t r32(struct t *t, uint64_t off)
{
	uint8_t b[4];
	uint32_t v;

	virtio_mmio_read(&t->blk.mmio, off, b, 4);
	memcpy(&v, b, 4);
	return v;
}

uint16_t ram16(const struct t *t, uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, t->mem + gpa, 2);
	return v;
}

uint32_t ram32(const struct t *t, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, t->mem + gpa, 4);
	return v;
}

void put16(struct t *t, uint64_t gpa, uint16_t v)
{
	memcpy(t->mem + gpa, &v, 2);
}

uint16_t used_idx(const struct t *t)
{
	return ram16(t, USED_GPA + 2);
}

/* The probe and set-up of Linux's virtio_mmio (vm_probe, virtio_dev_probe,
 * vm_finalize_features, vm_setup_vq) with one queue of @qsize. Returns the
 * status read back at the end; stops after FEATURES_OK if the device
 * refused it, as Linux does. */
uint32_t driver_init(struct t *t, uint64_t features, uint16_t qsize)
{
	uint32_t status;

	assert_int_equal(r32(t, MAGIC), 0x74726976);
	assert_int_equal(r32(t, VERSION), 2);
	assert_int_equal(r32(t, DEVICE_ID), 2);
	assert_int_equal(r32(t, VENDOR_ID), 0x4d4d564c);
	w32(t, STATUS, 0);
	w32(t, STATUS, S_ACK);
	w32(t, STATUS, S_ACK | S_DRIVER);
	w32(t, DEV_FEATURES_SEL, 1);
	(void)r32(t, DEV_FEATURES);
	w32(t, DEV_FEATURES_SEL, 0);
	(void)r32(t, DEV_FEATURES);
	w32(t, DRV_FEATURES_SEL, 1);
	w32(t, DRV_FEATURES, (uint32_t)(features >> 32));
	w32(t, DRV_FEATURES_SEL, 0);
	w32(t, DRV_FEATURES, (uint32_t)features);
	w32(t, STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	status = r32(t, STATUS);
	if (!(status & S_FEATURES_OK))
		return status;

	memset(t->mem + DESC_GPA, 0, USED_GPA + 0x1000 - DESC_GPA);
	t->qsize = qsize;
	t->avail_idx = 0;
	t->next_desc = 0;
	w32(t, QUEUE_SEL, 0);
	assert_int_equal(r32(t, QUEUE_READY), 0);
	assert_int_equal(r32(t, QUEUE_NUM_MAX), VIRTQ_MAX_SIZE);
	w32(t, QUEUE_NUM, qsize);
	w32(t, QUEUE_DESC_LO, (uint32_t)DESC_GPA);
	w32(t, QUEUE_DESC_HI, 0);
	w32(t, QUEUE_DRIVER_LO, (uint32_t)AVAIL_GPA);
	w32(t, QUEUE_DRIVER_HI, 0);
	w32(t, QUEUE_DEVICE_LO, (uint32_t)USED_GPA);
	w32(t, QUEUE_DEVICE_HI, 0);
	w32(t, QUEUE_READY, 1);
	assert_int_equal(r32(t, QUEUE_READY), 1);
	w32(t, STATUS, S_RUNNING);
	return r32(t, STATUS);
}

void put_desc(struct t *t, uint64_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
	      uint16_t next)
{
	struct virtq_desc d = {addr, len, flags, next};

	memcpy(t->mem + table + 16 * (uint64_t)i, &d, sizeof(d));
}

/* Offer chain @head: one avail entry, then the index (what virtqueue_add
 * and virtqueue_kick_prepare do). */
void publish(struct t *t, uint16_t head)
{
	put16(t, AVAIL_GPA + 4 + 2 * (t->avail_idx % t->qsize), head);
	t->avail_idx++;
	__atomic_store_n((uint16_t *)(t->mem + AVAIL_GPA + 2), t->avail_idx, __ATOMIC_RELEASE);
}

/* Lay @n buffers out as a direct chain and offer it; returns its head. */
uint16_t add_chain(struct t *t, const struct seg *segs, unsigned int n)
{
	uint16_t head = t->next_desc;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t d = (uint16_t)((head + i) % t->qsize);

		put_desc(t, DESC_GPA, d, segs[i].gpa, segs[i].len,
			 (segs[i].write ? D_WRITE : 0) | (i + 1 < n ? D_NEXT : 0),
			 (uint16_t)((d + 1) % t->qsize));
	}
	t->next_desc = (uint16_t)((head + n) % t->qsize);
	publish(t, head);
	return head;
}

/* Offer one chain, let the device serve it, and return its used length;
 * the used ring must have grown by exactly that chain. */
uint32_t submit(struct t *t, const struct seg *segs, unsigned int n)
{
	uint16_t before = used_idx(t);
	uint16_t head = add_chain(t, segs, n);
	uint64_t slot;

	virtio_blk_process(&t->blk);
	assert_int_equal(used_idx(t), (uint16_t)(before + 1));
	slot = USED_GPA + 4 + 8 * (uint64_t)(before % t->qsize);
	assert_int_equal(ram32(t, slot), head);
	return ram32(t, slot + 4);
}

bool is_in(uint32_t type)
{
	return type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
}

/* One request as Linux's virtio_blk lays it out: header, data (if any),
 * status byte. Returns the status; *used gets the used length. */
uint8_t blk_req(struct t *t, uint32_t type, uint64_t sector, uint64_t data_gpa, uint32_t len,
		uint32_t *used)
{
	struct virtio_blk_outhdr h = {.type = type, .sector = sector};
	struct seg segs[3];
	unsigned int n = 0;
	uint32_t u;

	memcpy(t->mem + HDR_GPA, &h, sizeof(h));
	t->mem[STATUS_GPA] = 0xff;
	segs[n++] = (struct seg){HDR_GPA, sizeof(h), false};
	if (len)
		segs[n++] = (struct seg){data_gpa, len, is_in(type)};
	segs[n++] = (struct seg){STATUS_GPA, 1, true};
	u = submit(t, segs, n);
	if (used)
		*used = u;
	return t->mem[STATUS_GPA];
}

struct t *t_running(bool read_only, uint64_t features, uint16_t qsize)
{
	struct t *t = t_new(read_only);

	assert_int_equal(driver_init(t, features, qsize), S_RUNNING);
	assert_int_equal(t->irqs, 0);
	return t;
}
