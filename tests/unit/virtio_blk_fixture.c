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
	driver_ram_init(&t->drv);
	t->fd = mkstemp(path);
	assert_true(t->fd >= 0);
	unlink(path);
	assert_int_equal(ftruncate(t->fd, DISK_BYTES), 0);
	assert_int_equal(
	    virtio_blk_init(&t->blk, t->fd, DISK_BYTES, read_only, DISK_ID, &t->drv.ram), 0);
	t->blk.mmio.interrupt = on_irq;
	t->blk.mmio.kick = on_kick;
	t->blk.mmio.opaque = t;
	t->drv.mmio = &t->blk.mmio;
	t->drv.nr_queues = 1;
	t->drv.q[0] = (struct driver_queue){DESC_GPA, AVAIL_GPA, USED_GPA, 0, 0, 0};
	return t;
}

void t_free(struct t *t)
{
	struct stat st;

	/* No request may ever grow or shrink the image. */
	assert_int_equal(fstat(t->fd, &st), 0);
	assert_int_equal(st.st_size, DISK_BYTES);
	virtio_blk_destroy(&t->blk);
	close(t->fd);
	driver_ram_free(&t->drv);
	free(t);
}

/* The probe and set-up of Linux's virtio_mmio (vm_probe, virtio_dev_probe,
 * vm_finalize_features, vm_setup_vq) with one queue of @qsize. Returns the
 * status read back at the end; stops after FEATURES_OK if the device
 * refused it, as Linux does. */
uint32_t driver_init(struct t *t, uint64_t features, uint16_t qsize)
{
	uint32_t status = driver_negotiate(&t->drv, VIRTIO_ID_BLOCK, features);

	if (!(status & S_FEATURES_OK))
		return status;
	return driver_start(&t->drv, qsize);
}

/* Offer one chain, let the device serve it, and return its used length;
 * the used ring must have grown by exactly that chain. */
uint32_t submit(struct t *t, const struct seg *segs, unsigned int n)
{
	uint16_t before = used_idx(&t->drv, 0);
	uint16_t head = add_chain(&t->drv, 0, segs, n);
	uint64_t slot;

	virtio_blk_process(&t->blk);
	assert_int_equal(used_idx(&t->drv, 0), (uint16_t)(before + 1));
	slot = USED_GPA + 4 + 8 * (uint64_t)(before % t->drv.q[0].size);
	assert_int_equal(ram32(&t->drv, slot), head);
	return ram32(&t->drv, slot + 4);
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

	memcpy(t->drv.mem + HDR_GPA, &h, sizeof(h));
	t->drv.mem[STATUS_GPA] = 0xff;
	segs[n++] = (struct seg){HDR_GPA, sizeof(h), false};
	if (len)
		segs[n++] = (struct seg){data_gpa, len, is_in(type)};
	segs[n++] = (struct seg){STATUS_GPA, 1, true};
	u = submit(t, segs, n);
	if (used)
		*used = u;
	return t->drv.mem[STATUS_GPA];
}

struct t *t_running(bool read_only, uint64_t features, uint16_t qsize)
{
	struct t *t = t_new(read_only);

	assert_int_equal(driver_init(t, features, qsize), S_RUNNING);
	assert_int_equal(t->irqs, 0);
	return t;
}
