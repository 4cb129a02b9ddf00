/* Unit tests of the virtio-mmio transport, the split virtqueue walker and
 * virtio-blk. A fake guest RAM (with guard bytes on both sides) and a small
 * driver that sets the device up through the registers as Linux's
 * virtio_mmio driver does, then lays out rings and chains itself: feature
 * negotiation, block requests over a temporary image, hostile chains (each
 * must leave the device in DEVICE_NEEDS_RESET, touching nothing outside
 * RAM), interrupt suppression, a reset with a request in flight, and the
 * register file's rules. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/virtio_blk.h"

#define RAM_SIZE   (1ULL << 20)
#define GUARD	   4096
#define GUARD_BYTE 0xa5
#define DISK_BYTES (64 * 1024ULL) /* 128 sectors */
#define DISK_ID	   "libvmm-test-disk"

/* Where the test driver puts its rings and buffers in guest RAM. */
#define DESC_GPA      0x1000ULL
#define AVAIL_GPA     0x2000ULL
#define USED_GPA      0x3000ULL
#define HDR_GPA	      0x8000ULL /* request header */
#define STATUS_GPA    0x8100ULL /* status byte */
#define TABLE_GPA     0x9000ULL /* indirect tables */
#define DATA_GPA      0x10000ULL
#define DEFAULT_QSIZE 64

/* virtio-mmio registers (virtio 1.x, 4.2.2). */
enum {
	MAGIC = 0x000,
	VERSION = 0x004,
	DEVICE_ID = 0x008,
	VENDOR_ID = 0x00c,
	DEV_FEATURES = 0x010,
	DEV_FEATURES_SEL = 0x014,
	DRV_FEATURES = 0x020,
	DRV_FEATURES_SEL = 0x024,
	QUEUE_SEL = 0x030,
	QUEUE_NUM_MAX = 0x034,
	QUEUE_NUM = 0x038,
	QUEUE_READY = 0x044,
	QUEUE_NOTIFY = 0x050,
	INT_STATUS = 0x060,
	INT_ACK = 0x064,
	STATUS = 0x070,
	QUEUE_DESC_LO = 0x080,
	QUEUE_DESC_HI = 0x084,
	QUEUE_DRIVER_LO = 0x090,
	QUEUE_DRIVER_HI = 0x094,
	QUEUE_DEVICE_LO = 0x0a0,
	QUEUE_DEVICE_HI = 0x0a4,
	CONFIG = 0x100,
};

#define S_ACK	      1
#define S_DRIVER      2
#define S_DRIVER_OK   4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 0x40
#define S_RUNNING     (S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK)

#define INT_VRING  1
#define INT_CONFIG 2

#define D_NEXT	   1
#define D_WRITE	   2
#define D_INDIRECT 4

#define BIT(n)	(1ULL << (n))
#define F_V1	BIT(32)
#define F_INDIR BIT(28)
#define F_EVIDX BIT(29)
#define F_LINUX (F_V1 | F_INDIR | F_EVIDX | BIT(VIRTIO_BLK_F_FLUSH) | BIT(VIRTIO_BLK_F_BLK_SIZE))

struct t {
	struct guest_ram ram;
	uint8_t *buf; /* guard, RAM, guard */
	uint8_t *mem;
	struct virtio_blk blk;
	int fd;
	unsigned int irqs, kicks, last_kick;
	uint16_t qsize;
	uint16_t avail_idx; /* the driver's copy of avail->idx */
	uint16_t next_desc; /* next free descriptor */
};

struct seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

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

static struct t *t_new(bool read_only)
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
static void assert_guards(const struct t *t)
{
	for (size_t i = 0; i < GUARD; i++) {
		assert_int_equal(t->buf[i], GUARD_BYTE);
		assert_int_equal(t->buf[GUARD + RAM_SIZE + i], GUARD_BYTE);
	}
}

static void t_free(struct t *t)
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

static void w32(struct t *t, uint64_t off, uint32_t val)
{
	uint8_t b[4];

	memcpy(b, &val, 4);
	virtio_mmio_write(&t->blk.mmio, off, b, 4);
}

static uint32_t r32(struct t *t, uint64_t off)
{
	uint8_t b[4];
	uint32_t v;

	virtio_mmio_read(&t->blk.mmio, off, b, 4);
	memcpy(&v, b, 4);
	return v;
}

static uint16_t ram16(const struct t *t, uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, t->mem + gpa, 2);
	return v;
}

static uint32_t ram32(const struct t *t, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, t->mem + gpa, 4);
	return v;
}

static void put16(struct t *t, uint64_t gpa, uint16_t v)
{
	memcpy(t->mem + gpa, &v, 2);
}

static uint16_t used_idx(const struct t *t)
{
	return ram16(t, USED_GPA + 2);
}

/* The probe and set-up of Linux's virtio_mmio (vm_probe, virtio_dev_probe,
 * vm_finalize_features, vm_setup_vq) with one queue of @qsize. Returns the
 * status read back at the end; stops after FEATURES_OK if the device
 * refused it, as Linux does. */
static uint32_t driver_init(struct t *t, uint64_t features, uint16_t qsize)
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

static void put_desc(struct t *t, uint64_t table, uint16_t i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	struct virtq_desc d = {addr, len, flags, next};

	memcpy(t->mem + table + 16 * (uint64_t)i, &d, sizeof(d));
}

/* Offer chain @head: one avail entry, then the index (what virtqueue_add
 * and virtqueue_kick_prepare do). */
static void publish(struct t *t, uint16_t head)
{
	put16(t, AVAIL_GPA + 4 + 2 * (t->avail_idx % t->qsize), head);
	t->avail_idx++;
	__atomic_store_n((uint16_t *)(t->mem + AVAIL_GPA + 2), t->avail_idx, __ATOMIC_RELEASE);
}

/* Lay @n buffers out as a direct chain and offer it; returns its head. */
static uint16_t add_chain(struct t *t, const struct seg *segs, unsigned int n)
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
static uint32_t submit(struct t *t, const struct seg *segs, unsigned int n)
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

static bool is_in(uint32_t type)
{
	return type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
}

/* One request as Linux's virtio_blk lays it out: header, data (if any),
 * status byte. Returns the status; *used gets the used length. */
static uint8_t blk_req(struct t *t, uint32_t type, uint64_t sector, uint64_t data_gpa, uint32_t len,
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

static struct t *t_running(bool read_only, uint64_t features, uint16_t qsize)
{
	struct t *t = t_new(read_only);

	assert_int_equal(driver_init(t, features, qsize), S_RUNNING);
	assert_int_equal(t->irqs, 0);
	return t;
}

static void test_negotiation(void **state)
{
	struct t *t = t_new(false);
	uint64_t offered = BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_BLK_SIZE) |
			   BIT(VIRTIO_BLK_F_FLUSH) | BIT(VIRTIO_BLK_F_DISCARD) |
			   BIT(VIRTIO_BLK_F_WRITE_ZEROES) | F_INDIR | F_EVIDX;

	w32(t, DEV_FEATURES_SEL, 0);
	assert_int_equal(r32(t, DEV_FEATURES), (uint32_t)offered);
	w32(t, DEV_FEATURES_SEL, 1);
	assert_int_equal(r32(t, DEV_FEATURES), 1); /* VERSION_1 */
	w32(t, DEV_FEATURES_SEL, 2);
	assert_int_equal(r32(t, DEV_FEATURES), 0);

	/* A legacy driver (no VERSION_1) is refused FEATURES_OK. */
	assert_int_equal(driver_init(t, BIT(VIRTIO_BLK_F_FLUSH), DEFAULT_QSIZE), S_ACK | S_DRIVER);
	/* DRIVER_OK without FEATURES_OK: the device asks for a reset. */
	w32(t, STATUS, S_ACK | S_DRIVER | S_DRIVER_OK);
	assert_int_equal(r32(t, STATUS) & (S_NEEDS_RESET | S_DRIVER_OK), S_NEEDS_RESET);
	assert_int_equal(r32(t, INT_STATUS), INT_CONFIG);
	assert_int_equal(t->irqs, 1);
	/* The driver cannot clear NEEDS_RESET but by a reset. */
	w32(t, STATUS, S_ACK);
	assert_int_equal(r32(t, STATUS), S_ACK | S_NEEDS_RESET);
	w32(t, STATUS, 0);
	assert_int_equal(r32(t, STATUS), 0);
	assert_int_equal(r32(t, INT_STATUS), 0);

	/* Bits the device did not offer, low or high. */
	assert_int_equal(driver_init(t, F_V1 | BIT(VIRTIO_BLK_F_SIZE_MAX), DEFAULT_QSIZE),
			 S_ACK | S_DRIVER);
	assert_int_equal(driver_init(t, F_V1 | BIT(33), DEFAULT_QSIZE), S_ACK | S_DRIVER);
	assert_int_equal(driver_init(t, F_V1 | BIT(VIRTIO_BLK_F_RO), DEFAULT_QSIZE),
			 S_ACK | S_DRIVER);

	/* Offered bits only: accepted, and fixed from FEATURES_OK on. */
	assert_int_equal(driver_init(t, F_LINUX, DEFAULT_QSIZE), S_RUNNING);
	assert_int_equal(t->blk.mmio.driver_features, F_LINUX);
	w32(t, DRV_FEATURES_SEL, 0);
	w32(t, DRV_FEATURES, 0);
	w32(t, DRV_FEATURES_SEL, 1);
	w32(t, DRV_FEATURES, 0);
	assert_int_equal(t->blk.mmio.driver_features, F_LINUX);
	assert_int_equal(t->irqs, 1);

	/* Config space as Linux's virtio_cread reads it (64-bit as 2 x 32). */
	assert_int_equal(r32(t, CONFIG), DISK_BYTES / 512);
	assert_int_equal(r32(t, CONFIG + 4), 0);
	assert_int_equal(r32(t, CONFIG + offsetof(struct virtio_blk_config, seg_max)),
			 VIRTQ_MAX_SEGS - 2);
	assert_int_equal(r32(t, CONFIG + offsetof(struct virtio_blk_config, blk_size)), 512);
	assert_int_equal(r32(t, CONFIG + offsetof(struct virtio_blk_config, max_discard_seg)), 1);
	/* Past the config structure: zeros, no overread. */
	assert_int_equal(r32(t, CONFIG + sizeof(struct virtio_blk_config)), 0);
	assert_int_equal(r32(t, CONFIG + sizeof(struct virtio_blk_config) - 2), 0);
	t_free(t);
}

static void test_blk_read_write(void **state)
{
	struct t *t = t_running(false, F_LINUX, DEFAULT_QSIZE);
	uint8_t pattern[1024], back[1024];
	uint32_t used = 0;

	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	memcpy(t->mem + DATA_GPA, pattern, sizeof(pattern));
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_OUT, 3, DATA_GPA, 1024, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	assert_int_equal(pread(t->fd, back, sizeof(back), 3 * 512), sizeof(back));
	assert_memory_equal(back, pattern, sizeof(pattern));
	/* used_event is 0: the driver wants an interrupt for the first. */
	assert_int_equal(t->irqs, 1);
	assert_int_equal(r32(t, INT_STATUS), INT_VRING);
	w32(t, INT_ACK, INT_VRING);
	assert_int_equal(r32(t, INT_STATUS), 0);

	memset(t->mem + DATA_GPA + 0x1000, 0, sizeof(back));
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 3, DATA_GPA + 0x1000, 1024, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1024 + 1);
	assert_memory_equal(t->mem + DATA_GPA + 0x1000, pattern, sizeof(pattern));

	/* The same read split over three buffers at odd places. */
	{
		struct virtio_blk_outhdr h = {.type = VIRTIO_BLK_T_IN, .sector = 3};
		struct seg segs[] = {{HDR_GPA, sizeof(h), false},
				     {DATA_GPA + 0x3001, 100, true},
				     {DATA_GPA + 0x5003, 900, true},
				     {DATA_GPA + 0x7005, 24, true},
				     {STATUS_GPA, 1, true}};

		memcpy(t->mem + HDR_GPA, &h, sizeof(h));
		t->mem[STATUS_GPA] = 0xff;
		assert_int_equal(submit(t, segs, 5), 1024 + 1);
		assert_int_equal(t->mem[STATUS_GPA], VIRTIO_BLK_S_OK);
		assert_memory_equal(t->mem + DATA_GPA + 0x3001, pattern, 100);
		assert_memory_equal(t->mem + DATA_GPA + 0x5003, pattern + 100, 900);
		assert_memory_equal(t->mem + DATA_GPA + 0x7005, pattern + 1000, 24);
	}

	assert_int_equal(blk_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);

	memset(t->mem + DATA_GPA, 0x77, 32);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_GET_ID, 0, DATA_GPA, VIRTIO_BLK_ID_BYTES, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, VIRTIO_BLK_ID_BYTES + 1);
	assert_memory_equal(t->mem + DATA_GPA, DISK_ID, sizeof(DISK_ID)); /* NUL padded */
	assert_int_equal(t->mem[DATA_GPA + VIRTIO_BLK_ID_BYTES - 1], 0);
	assert_int_equal(t->mem[DATA_GPA + VIRTIO_BLK_ID_BYTES], 0x77); /* not past the id */

	assert_int_equal(t->blk.stats.reads, 2);
	assert_int_equal(t->blk.stats.writes, 1);
	assert_int_equal(t->blk.stats.bytes_read, 2048);
	assert_int_equal(t->blk.stats.bytes_written, 1024);
	assert_int_equal(t->blk.stats.flushes, 1);
	assert_int_equal(t->blk.stats.errors, 0);
	assert_int_equal(used_idx(t), 5);
	t_free(t);
}

/* A whole request of VIRTQ_MAX_SEGS buffers (header, seg_max data
 * buffers, status) is the largest accepted. */
static void test_blk_max_segments(void **state)
{
	struct t *t = t_running(false, F_LINUX, 256);
	struct virtio_blk_outhdr h = {.type = VIRTIO_BLK_T_OUT, .sector = 1};
	struct seg segs[VIRTQ_MAX_SEGS];
	unsigned int n = 0, data = VIRTQ_MAX_SEGS - 2;
	uint8_t back[512];

	memcpy(t->mem + HDR_GPA, &h, sizeof(h));
	segs[n++] = (struct seg){HDR_GPA, sizeof(h), false};
	for (unsigned int i = 0; i < data; i++) {
		memset(t->mem + DATA_GPA + 512 * i, (int)i + 1, 512);
		segs[n++] = (struct seg){DATA_GPA + 512 * i, 512, false};
	}
	segs[n++] = (struct seg){STATUS_GPA, 1, true};
	t->mem[STATUS_GPA] = 0xff;
	assert_int_equal(submit(t, segs, n), 1);
	assert_int_equal(t->mem[STATUS_GPA], VIRTIO_BLK_S_OK);
	assert_int_equal(pread(t->fd, back, 512, (1 + data - 1) * 512), 512);
	assert_int_equal(back[0], data);
	assert_int_equal(back[511], data);
	assert_int_equal(r32(t, STATUS), S_RUNNING);
	t_free(t);
}

static void test_blk_errors(void **state)
{
	struct t *t = t_running(false, F_LINUX, DEFAULT_QSIZE);
	uint64_t cap = DISK_BYTES / 512;
	uint8_t zero[512] = {0}, back[512];
	uint32_t used = 0;

	memset(t->mem + DATA_GPA, 0xee, 2048);
	/* Past the end, ending past the end, and a sector that overflows. */
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, cap, DATA_GPA, 512, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, cap - 1, DATA_GPA, 1024, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 1ULL << 55, DATA_GPA, 512, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_OUT, cap - 1, DATA_GPA, 1024, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_OUT, UINT64_MAX, DATA_GPA, 512, &used),
			 VIRTIO_BLK_S_IOERR);
	/* Not whole sectors. */
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 0, DATA_GPA, 100, &used), VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_OUT, 0, DATA_GPA, 513, &used), VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	/* An unknown type, and SCSI passthrough (not offered). */
	assert_int_equal(blk_req(t, 0x55, 0, 0, 0, &used), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(used, 1);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_SCSI_CMD, 0, 0, 0, &used), VIRTIO_BLK_S_UNSUPP);
	/* None of that touched the image (it was all zeros). */
	for (uint64_t s = 0; s < cap; s++) {
		assert_int_equal(pread(t->fd, back, 512, (off_t)(s * 512)), 512);
		assert_memory_equal(back, zero, 512);
	}
	assert_int_equal(t->blk.stats.errors, 9);
	assert_int_equal(t->blk.stats.reads + t->blk.stats.writes, 0);
	/* Errors are answers, not breakage: the device keeps running. */
	assert_int_equal(r32(t, STATUS), S_RUNNING);
	t_free(t);
}

/* A request with no room for a status, or no header, comes back with
 * nothing written and used length 0. */
static void test_blk_no_status(void **state)
{
	struct t *t = t_running(false, F_LINUX, DEFAULT_QSIZE);
	struct virtio_blk_outhdr h = {.type = VIRTIO_BLK_T_IN, .sector = 0};
	struct seg only_out[] = {{HDR_GPA, sizeof(h), false}};
	struct seg short_hdr[] = {{HDR_GPA, 8, false}, {STATUS_GPA, 1, true}};

	memcpy(t->mem + HDR_GPA, &h, sizeof(h));
	t->mem[STATUS_GPA] = 0xff;
	assert_int_equal(submit(t, only_out, 1), 0);
	assert_int_equal(submit(t, short_hdr, 2), 0);
	assert_int_equal(t->mem[STATUS_GPA], 0xff);
	assert_int_equal(t->blk.stats.errors, 2);
	assert_int_equal(r32(t, STATUS), S_RUNNING);
	t_free(t);
}

static bool can_punch_holes(int fd)
{
	return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 512) == 0;
}

static void test_blk_discard_write_zeroes(void **state)
{
	struct t *t =
	    t_running(false, F_LINUX | BIT(VIRTIO_BLK_F_DISCARD) | BIT(VIRTIO_BLK_F_WRITE_ZEROES),
		      DEFAULT_QSIZE);
	uint8_t ones[8 * 512], back[8 * 512];
	struct virtio_blk_discard_write_zeroes r = {.sector = 10, .num_sectors = 2};
	struct virtio_blk_discard_write_zeroes two[2] = {{.sector = 0, .num_sectors = 1},
							 {.sector = 4, .num_sectors = 1}};
	uint32_t used = 0;
	bool punch = can_punch_holes(t->fd);

	memset(ones, 0xff, sizeof(ones));
	assert_int_equal(pwrite(t->fd, ones, sizeof(ones), 8 * 512), sizeof(ones));

	/* WRITE_ZEROES of sectors 10-11 (no unmap: FALLOC_FL_ZERO_RANGE). */
	memcpy(t->mem + DATA_GPA, &r, sizeof(r));
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA_GPA, sizeof(r), &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	assert_int_equal(pread(t->fd, back, sizeof(back), 8 * 512), sizeof(back));
	assert_memory_equal(back, ones, 2 * 512);
	for (size_t i = 2 * 512; i < 4 * 512; i++)
		assert_int_equal(back[i], 0);
	assert_memory_equal(back + 4 * 512, ones, 4 * 512);

	/* WRITE_ZEROES with unmap allowed, of sector 8. */
	r = (struct virtio_blk_discard_write_zeroes){.sector = 8, .num_sectors = 1, .flags = 1};
	memcpy(t->mem + DATA_GPA, &r, sizeof(r));
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA_GPA, sizeof(r), &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(pread(t->fd, back, 512, 8 * 512), 512);
	for (size_t i = 0; i < 512; i++)
		assert_int_equal(back[i], 0);

	/* DISCARD of sectors 12-13: a hint, so zeroed only where the file
	 * can punch holes (tmpfs and ext4 can). */
	r = (struct virtio_blk_discard_write_zeroes){.sector = 12, .num_sectors = 2};
	memcpy(t->mem + DATA_GPA, &r, sizeof(r));
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_DISCARD, 0, DATA_GPA, sizeof(r), &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(pread(t->fd, back, sizeof(back), 8 * 512), sizeof(back));
	if (punch)
		for (size_t i = 4 * 512; i < 6 * 512; i++)
			assert_int_equal(back[i], 0);
	assert_int_equal(back[9 * 512 - 8 * 512], 0xff); /* sector 9 kept */
	assert_memory_equal(back + 6 * 512, ones, 2 * 512);

	/* Out of range; more segments than max_discard_seg; not a whole
	 * segment. */
	r = (struct virtio_blk_discard_write_zeroes){.sector = DISK_BYTES / 512 - 1,
						     .num_sectors = 2};
	memcpy(t->mem + DATA_GPA, &r, sizeof(r));
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA_GPA, sizeof(r), &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_DISCARD, 0, DATA_GPA, sizeof(r), &used),
			 VIRTIO_BLK_S_IOERR);
	memcpy(t->mem + DATA_GPA, two, sizeof(two));
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_DISCARD, 0, DATA_GPA, sizeof(two), &used),
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA_GPA, 8, &used),
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, 0, 0, &used),
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(t->blk.stats.errors, 5);
	t_free(t);
}

/* virtio 1.1+ 5.2.6.2: "The device MUST set the status byte to
 * VIRTIO_BLK_S_UNSUPP for discard and write zeroes commands if any unknown
 * flag is set. Furthermore, the device MUST set the status byte to
 * VIRTIO_BLK_S_UNSUPP for discard commands if the unmap flag is set." */
static void test_blk_discard_flags(void **state)
{
	struct t *t =
	    t_running(false, F_LINUX | BIT(VIRTIO_BLK_F_DISCARD) | BIT(VIRTIO_BLK_F_WRITE_ZEROES),
		      DEFAULT_QSIZE);
	static const struct {
		uint32_t type, flags;
	} bad[] = {
	    {VIRTIO_BLK_T_DISCARD, 1},		{VIRTIO_BLK_T_DISCARD, 2},
	    {VIRTIO_BLK_T_DISCARD, 0x80000000}, {VIRTIO_BLK_T_WRITE_ZEROES, 2},
	    {VIRTIO_BLK_T_WRITE_ZEROES, 3},	{VIRTIO_BLK_T_WRITE_ZEROES, 0x80000001},
	};
	uint8_t ones[512], back[512];
	uint32_t used = 0;

	memset(ones, 0xff, sizeof(ones));
	assert_int_equal(pwrite(t->fd, ones, sizeof(ones), 0), sizeof(ones));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct virtio_blk_discard_write_zeroes r = {.num_sectors = 1,
							    .flags = bad[i].flags};

		memcpy(t->mem + DATA_GPA, &r, sizeof(r));
		assert_int_equal(blk_req(t, bad[i].type, 0, DATA_GPA, sizeof(r), &used),
				 VIRTIO_BLK_S_UNSUPP);
		assert_int_equal(used, 1);
	}
	/* Refused, so the sector kept its data. */
	assert_int_equal(pread(t->fd, back, sizeof(back), 0), sizeof(back));
	assert_memory_equal(back, ones, sizeof(ones));
	t_free(t);
}

static void test_blk_read_only(void **state)
{
	struct t *t = t_new(true);
	struct virtio_blk_discard_write_zeroes r = {.sector = 0, .num_sectors = 1};
	uint8_t data[512], back[512];
	uint32_t used = 0;

	/* RO offered, DISCARD and WRITE_ZEROES not. */
	w32(t, DEV_FEATURES_SEL, 0);
	assert_int_equal(r32(t, DEV_FEATURES) & (BIT(VIRTIO_BLK_F_RO) | BIT(VIRTIO_BLK_F_DISCARD) |
						 BIT(VIRTIO_BLK_F_WRITE_ZEROES)),
			 BIT(VIRTIO_BLK_F_RO));
	assert_int_equal(driver_init(t, F_LINUX | BIT(VIRTIO_BLK_F_RO), DEFAULT_QSIZE), S_RUNNING);

	memset(data, 0x5a, sizeof(data));
	assert_int_equal(pwrite(t->fd, data, sizeof(data), 0), sizeof(data));
	memset(t->mem + DATA_GPA, 0x11, 512);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_OUT, 0, DATA_GPA, 512, &used), VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	memcpy(t->mem + DATA_GPA + 0x1000, &r, sizeof(r));
	assert_int_equal(
	    blk_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA_GPA + 0x1000, sizeof(r), &used),
	    VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_DISCARD, 0, DATA_GPA + 0x1000, sizeof(r), &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(pread(t->fd, back, sizeof(back), 0), sizeof(back));
	assert_memory_equal(back, data, sizeof(data));

	/* Reads and flushes still work. */
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 513);
	assert_memory_equal(t->mem + DATA_GPA, data, sizeof(data));
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(t->blk.stats.writes, 0);
	t_free(t);
}

/* Hostile chains. Each case writes its descriptors and offers head 0 (or
 * breaks the avail ring itself); the device must then be broken. */
struct hostile {
	const char *name;
	uint64_t features;
	uint16_t qsize;
	void (*make)(struct t *t);
	/* Valid chains taken before the broken one (served, never used). */
	unsigned int served;
};

/* A valid request's header and status, for chains built around them. */
static void valid_header(struct t *t)
{
	struct virtio_blk_outhdr h = {.type = VIRTIO_BLK_T_IN, .sector = 0};

	memcpy(t->mem + HDR_GPA, &h, sizeof(h));
}

static void h_loop(struct t *t)
{
	valid_header(t);
	put_desc(t, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(t, DESC_GPA, 1, DATA_GPA, 512, D_NEXT, 0);
	publish(t, 0);
}

static void h_self_loop(struct t *t)
{
	put_desc(t, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 0);
	publish(t, 0);
}

static void h_next_too_big(struct t *t)
{
	valid_header(t);
	put_desc(t, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, t->qsize);
	put_desc(t, DESC_GPA, 1, STATUS_GPA, 1, D_WRITE, 0);
	publish(t, 0);
}

static void h_beyond_ram(struct t *t)
{
	valid_header(t);
	put_desc(t, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(t, DESC_GPA, 1, RAM_SIZE - 256, 512, D_WRITE | D_NEXT, 2);
	put_desc(t, DESC_GPA, 2, STATUS_GPA, 1, D_WRITE, 0);
	publish(t, 0);
}

static void h_at_ram_end(struct t *t)
{
	valid_header(t);
	put_desc(t, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(t, DESC_GPA, 1, RAM_SIZE, 1, D_WRITE, 0);
	publish(t, 0);
}

static void h_high_gpa(struct t *t)
{
	valid_header(t);
	put_desc(t, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(t, DESC_GPA, 1, 1ULL << 32, 1, D_WRITE, 0);
	publish(t, 0);
}

static void h_wrap(struct t *t)
{
	valid_header(t);
	put_desc(t, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(t, DESC_GPA, 1, UINT64_MAX - 0xf, 0x20, D_WRITE, 0);
	publish(t, 0);
}

static void h_wrap_to_ram(struct t *t)
{
	/* addr + len wraps to a small gpa that is RAM. */
	valid_header(t);
	put_desc(t, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(t, DESC_GPA, 1, UINT64_MAX - 0xfff, 0x2000, D_WRITE, 0);
	publish(t, 0);
}

static void h_avail_jump(struct t *t)
{
	valid_header(t);
	put_desc(t, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(t, DESC_GPA, 1, STATUS_GPA, 1, D_WRITE, 0);
	/* All entries name a valid chain; only the index is wrong. */
	t->avail_idx = t->qsize;
	publish(t, 0);
}

static void h_head_too_big(struct t *t)
{
	publish(t, t->qsize);
}

static void h_head_max(struct t *t)
{
	publish(t, 0xffff);
}

static void h_read_after_write(struct t *t)
{
	valid_header(t);
	put_desc(t, DESC_GPA, 0, DATA_GPA, 512, D_WRITE | D_NEXT, 1);
	put_desc(t, DESC_GPA, 1, HDR_GPA, 16, D_NEXT, 2);
	put_desc(t, DESC_GPA, 2, STATUS_GPA, 1, D_WRITE, 0);
	publish(t, 0);
}

/* A valid indirect table of header, data, status at TABLE_GPA. */
static void valid_table(struct t *t)
{
	valid_header(t);
	put_desc(t, TABLE_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(t, TABLE_GPA, 1, DATA_GPA, 512, D_WRITE | D_NEXT, 2);
	put_desc(t, TABLE_GPA, 2, STATUS_GPA, 1, D_WRITE, 0);
}

static void h_indirect_next(struct t *t)
{
	valid_table(t);
	put_desc(t, DESC_GPA, 0, TABLE_GPA, 48, D_INDIRECT | D_NEXT, 1);
	put_desc(t, DESC_GPA, 1, STATUS_GPA, 1, D_WRITE, 0);
	publish(t, 0);
}

static void h_indirect_nested(struct t *t)
{
	valid_table(t);
	put_desc(t, TABLE_GPA + 0x100, 0, TABLE_GPA, 48, D_INDIRECT, 0);
	put_desc(t, DESC_GPA, 0, TABLE_GPA + 0x100, 16, D_INDIRECT, 0);
	publish(t, 0);
}

static void h_indirect_nested_second(struct t *t)
{
	/* The nested table comes after a valid entry. */
	valid_table(t);
	put_desc(t, TABLE_GPA + 0x100, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(t, TABLE_GPA + 0x100, 1, TABLE_GPA, 48, D_INDIRECT, 0);
	put_desc(t, DESC_GPA, 0, TABLE_GPA + 0x100, 32, D_INDIRECT, 0);
	publish(t, 0);
}

static void h_indirect_len(struct t *t)
{
	valid_table(t);
	put_desc(t, DESC_GPA, 0, TABLE_GPA, 40, D_INDIRECT, 0);
	publish(t, 0);
}

static void h_indirect_empty(struct t *t)
{
	put_desc(t, DESC_GPA, 0, TABLE_GPA, 0, D_INDIRECT, 0);
	publish(t, 0);
}

static void h_indirect_outside(struct t *t)
{
	/* Starts in RAM, ends past it. */
	put_desc(t, DESC_GPA, 0, RAM_SIZE - 16, 48, D_INDIRECT, 0);
	publish(t, 0);
}

static void h_indirect_far(struct t *t)
{
	put_desc(t, DESC_GPA, 0, UINT64_MAX - 15, 48, D_INDIRECT, 0);
	publish(t, 0);
}

static void h_indirect_next_too_big(struct t *t)
{
	valid_table(t);
	put_desc(t, TABLE_GPA, 2, STATUS_GPA, 1, D_WRITE | D_NEXT, 3);
	put_desc(t, DESC_GPA, 0, TABLE_GPA, 48, D_INDIRECT, 0);
	publish(t, 0);
}

static void h_indirect_loop(struct t *t)
{
	valid_table(t);
	put_desc(t, TABLE_GPA, 1, DATA_GPA, 512, D_WRITE | D_NEXT, 0);
	put_desc(t, DESC_GPA, 0, TABLE_GPA, 48, D_INDIRECT, 0);
	publish(t, 0);
}

static void h_indirect_buffer_outside(struct t *t)
{
	valid_table(t);
	put_desc(t, TABLE_GPA, 1, RAM_SIZE - 1, 2, D_WRITE | D_NEXT, 2);
	put_desc(t, DESC_GPA, 0, TABLE_GPA, 48, D_INDIRECT, 0);
	publish(t, 0);
}

/* Valid in every other way, but the feature was not negotiated. */
static void h_indirect_not_negotiated(struct t *t)
{
	valid_table(t);
	put_desc(t, DESC_GPA, 0, TABLE_GPA, 48, D_INDIRECT, 0);
	publish(t, 0);
}

/* VIRTQ_MAX_SEGS + 1 buffers in a direct chain (queue of 256). */
static void h_too_many_direct(struct t *t)
{
	valid_header(t);
	put_desc(t, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	for (uint16_t i = 1; i < VIRTQ_MAX_SEGS; i++)
		put_desc(t, DESC_GPA, i, DATA_GPA, 512, D_WRITE | D_NEXT, i + 1);
	put_desc(t, DESC_GPA, VIRTQ_MAX_SEGS, STATUS_GPA, 1, D_WRITE, 0);
	publish(t, 0);
}

/* A direct buffer, then a full indirect table of VIRTQ_MAX_SEGS. */
static void h_too_many_mixed(struct t *t)
{
	valid_header(t);
	for (uint16_t i = 0; i < VIRTQ_MAX_SEGS; i++)
		put_desc(t, TABLE_GPA, i, DATA_GPA, 512,
			 D_WRITE | (i + 1 < VIRTQ_MAX_SEGS ? D_NEXT : 0), i + 1);
	put_desc(t, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(t, DESC_GPA, 1, TABLE_GPA, 16 * VIRTQ_MAX_SEGS, D_INDIRECT, 0);
	publish(t, 0);
}

/* An indirect table longer than VIRTQ_MAX_SEGS entries. */
static void h_table_too_long(struct t *t)
{
	valid_table(t);
	put_desc(t, DESC_GPA, 0, TABLE_GPA, 16 * (VIRTQ_MAX_SEGS + 1), D_INDIRECT, 0);
	publish(t, 0);
}

/* After a valid chain, a broken one in the same batch. */
static void h_second_chain(struct t *t)
{
	valid_header(t);
	put_desc(t, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(t, DESC_GPA, 1, STATUS_GPA, 1, D_WRITE, 0);
	publish(t, 0);
	put_desc(t, DESC_GPA, 2, HDR_GPA, 16, D_NEXT, 2);
	publish(t, 2);
}

#define F_NOINDIR (F_LINUX & ~F_INDIR)

static const struct hostile hostile_cases[] = {
    {"loop", F_LINUX, DEFAULT_QSIZE, h_loop, 0},
    {"self loop", F_LINUX, DEFAULT_QSIZE, h_self_loop, 0},
    {"next >= size", F_LINUX, DEFAULT_QSIZE, h_next_too_big, 0},
    {"buffer crosses RAM end", F_LINUX, DEFAULT_QSIZE, h_beyond_ram, 0},
    {"buffer at RAM end", F_LINUX, DEFAULT_QSIZE, h_at_ram_end, 0},
    {"buffer above RAM", F_LINUX, DEFAULT_QSIZE, h_high_gpa, 0},
    {"addr+len wraps", F_LINUX, DEFAULT_QSIZE, h_wrap, 0},
    {"addr+len wraps into RAM", F_LINUX, DEFAULT_QSIZE, h_wrap_to_ram, 0},
    {"avail idx jump", F_LINUX, DEFAULT_QSIZE, h_avail_jump, 0},
    {"head >= size", F_LINUX, DEFAULT_QSIZE, h_head_too_big, 0},
    {"head 0xffff", F_LINUX, DEFAULT_QSIZE, h_head_max, 0},
    {"readable after writable", F_LINUX, DEFAULT_QSIZE, h_read_after_write, 0},
    {"INDIRECT with NEXT", F_LINUX, DEFAULT_QSIZE, h_indirect_next, 0},
    {"nested INDIRECT", F_LINUX, DEFAULT_QSIZE, h_indirect_nested, 0},
    {"nested INDIRECT, second entry", F_LINUX, DEFAULT_QSIZE, h_indirect_nested_second, 0},
    {"indirect len % 16", F_LINUX, DEFAULT_QSIZE, h_indirect_len, 0},
    {"indirect len 0", F_LINUX, DEFAULT_QSIZE, h_indirect_empty, 0},
    {"indirect table crosses RAM end", F_LINUX, DEFAULT_QSIZE, h_indirect_outside, 0},
    {"indirect table wraps", F_LINUX, DEFAULT_QSIZE, h_indirect_far, 0},
    {"indirect next >= table", F_LINUX, DEFAULT_QSIZE, h_indirect_next_too_big, 0},
    {"indirect loop", F_LINUX, DEFAULT_QSIZE, h_indirect_loop, 0},
    {"indirect buffer outside RAM", F_LINUX, DEFAULT_QSIZE, h_indirect_buffer_outside, 0},
    {"INDIRECT not negotiated", F_NOINDIR, DEFAULT_QSIZE, h_indirect_not_negotiated, 0},
    {"> VIRTQ_MAX_SEGS direct", F_LINUX, 256, h_too_many_direct, 0},
    {"> VIRTQ_MAX_SEGS direct + indirect", F_LINUX, 256, h_too_many_mixed, 0},
    {"indirect table > VIRTQ_MAX_SEGS", F_LINUX, 256, h_table_too_long, 0},
    {"broken second chain", F_LINUX, DEFAULT_QSIZE, h_second_chain, 1},
};

static void run_hostile(const struct hostile *h)
{
	struct t *t = t_running(false, h->features, h->qsize);
	uint32_t used = 0;

	print_message("hostile: %s\n", h->name);
	memset(t->mem + DATA_GPA, 0x3c, 4096);
	t->mem[STATUS_GPA] = 0xff;
	h->make(t);
	virtio_blk_process(&t->blk);

	assert_int_equal(r32(t, STATUS), S_RUNNING | S_NEEDS_RESET);
	assert_int_equal(r32(t, INT_STATUS), INT_CONFIG);
	assert_int_equal(t->irqs, 1);
	/* Nothing given back, nothing written but by the valid chains. */
	assert_int_equal(used_idx(t), 0);
	assert_int_equal(t->blk.stats.reads + t->blk.stats.writes + t->blk.stats.errors, h->served);
	if (!h->served)
		assert_int_equal(t->mem[STATUS_GPA], 0xff);
	assert_int_equal(t->mem[DATA_GPA], 0x3c);
	assert_guards(t);

	/* Broken stays broken: a valid chain offered now is not taken. */
	{
		struct virtio_blk_outhdr hdr = {.type = VIRTIO_BLK_T_FLUSH};
		uint16_t last = t->blk.mmio.vq[0].last_avail;

		memcpy(t->mem + HDR_GPA + 0x40, &hdr, sizeof(hdr));
		put_desc(t, DESC_GPA, 20, HDR_GPA + 0x40, 16, D_NEXT, 21);
		put_desc(t, DESC_GPA, 21, STATUS_GPA + 0x40, 1, D_WRITE, 0);
		t->avail_idx = t->blk.mmio.vq[0].last_avail;
		publish(t, 20);
		virtio_blk_process(&t->blk);
		assert_int_equal(t->blk.mmio.vq[0].last_avail, last);
		assert_int_equal(used_idx(t), 0);
		assert_int_equal(t->irqs, 1);
	}

	/* A reset and a new set-up bring it back. */
	w32(t, STATUS, 0);
	assert_int_equal(r32(t, STATUS), 0);
	assert_int_equal(r32(t, INT_STATUS), 0);
	assert_int_equal(driver_init(t, h->features, h->qsize), S_RUNNING);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 513);
	assert_int_equal(r32(t, STATUS), S_RUNNING);
	t_free(t);
}

static void test_hostile_chains(void **state)
{
	for (size_t i = 0; i < sizeof(hostile_cases) / sizeof(hostile_cases[0]); i++)
		run_hostile(&hostile_cases[i]);
}

/* Queue set-ups the device must refuse at QUEUE_READY: broken too. */
static void test_hostile_queue_setup(void **state)
{
	static const struct {
		uint32_t num;
		uint64_t desc, avail, used;
	} bad[] = {
	    {0, DESC_GPA, AVAIL_GPA, USED_GPA},	       /* size 0 */
	    {48, DESC_GPA, AVAIL_GPA, USED_GPA},       /* not a power of two */
	    {512, DESC_GPA, AVAIL_GPA, USED_GPA},      /* above QueueNumMax */
	    {0x10040, DESC_GPA, AVAIL_GPA, USED_GPA},  /* not cut to 16 bits */
	    {64, DESC_GPA + 8, AVAIL_GPA, USED_GPA},   /* desc misaligned */
	    {64, DESC_GPA, AVAIL_GPA + 1, USED_GPA},   /* avail misaligned */
	    {64, DESC_GPA, AVAIL_GPA, USED_GPA + 2},   /* used misaligned */
	    {64, RAM_SIZE - 512, AVAIL_GPA, USED_GPA}, /* desc past RAM */
	    {64, DESC_GPA, RAM_SIZE - 128, USED_GPA},  /* avail past RAM */
	    {64, DESC_GPA, AVAIL_GPA, RAM_SIZE - 512}, /* used past RAM */
	    {64, DESC_GPA, AVAIL_GPA, UINT64_MAX - 3}, /* wraps */
	    {64, 1ULL << 40, AVAIL_GPA, USED_GPA},     /* far above RAM */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct t *t = t_new(false);

		w32(t, STATUS, S_ACK | S_DRIVER);
		w32(t, DRV_FEATURES_SEL, 1);
		w32(t, DRV_FEATURES, 1);
		w32(t, STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
		w32(t, QUEUE_SEL, 0);
		w32(t, QUEUE_NUM, bad[i].num);
		w32(t, QUEUE_DESC_LO, (uint32_t)bad[i].desc);
		w32(t, QUEUE_DESC_HI, (uint32_t)(bad[i].desc >> 32));
		w32(t, QUEUE_DRIVER_LO, (uint32_t)bad[i].avail);
		w32(t, QUEUE_DRIVER_HI, (uint32_t)(bad[i].avail >> 32));
		w32(t, QUEUE_DEVICE_LO, (uint32_t)bad[i].used);
		w32(t, QUEUE_DEVICE_HI, (uint32_t)(bad[i].used >> 32));
		w32(t, QUEUE_READY, 1);
		assert_int_equal(r32(t, QUEUE_READY), 0);
		assert_int_equal(r32(t, STATUS), S_ACK | S_DRIVER | S_FEATURES_OK | S_NEEDS_RESET);
		assert_int_equal(r32(t, INT_STATUS), INT_CONFIG);
		assert_int_equal(t->irqs, 1);
		virtio_blk_process(&t->blk);
		t_free(t);
	}
}

/* virtq_needs_interrupt() on its own: used_event with EVENT_IDX,
 * NO_INTERRUPT without. */
static void test_needs_interrupt(void **state)
{
	struct t *t = t_new(false);
	struct virtq vq = {
	    .size = 8, .desc_gpa = DESC_GPA, .avail_gpa = AVAIL_GPA, .used_gpa = USED_GPA};
	uint64_t used_event = AVAIL_GPA + 4 + 2 * 8;

	assert_int_equal(virtq_start(&vq, &t->ram), 0);
	/* Nothing new: never. */
	assert_false(virtq_needs_interrupt(&vq, 0));

	vq.event_idx = true;
	put16(t, AVAIL_GPA, 1); /* NO_INTERRUPT: ignored with EVENT_IDX */
	put16(t, used_event, 2);
	vq.used_idx = 2;
	assert_false(virtq_needs_interrupt(&vq, 0)); /* (0, 2]: wants after 3 */
	vq.used_idx = 3;
	assert_true(virtq_needs_interrupt(&vq, 2)); /* 3 is used_event + 1 */
	assert_true(virtq_needs_interrupt(&vq, 0));
	vq.used_idx = 5;
	assert_false(virtq_needs_interrupt(&vq, 3)); /* already past it */
	/* Across the 16-bit wrap. */
	put16(t, used_event, 0xffff);
	vq.used_idx = 1;
	assert_true(virtq_needs_interrupt(&vq, 0xfffe));
	assert_true(virtq_needs_interrupt(&vq, 0xffff));
	assert_false(virtq_needs_interrupt(&vq, 0));
	vq.used_idx = 0xffff;
	assert_false(virtq_needs_interrupt(&vq, 0xfffe));

	vq.event_idx = false;
	put16(t, AVAIL_GPA, 0);
	vq.used_idx = 1;
	assert_true(virtq_needs_interrupt(&vq, 0));
	put16(t, AVAIL_GPA, 1);
	assert_false(virtq_needs_interrupt(&vq, 0));
	put16(t, used_event, 0); /* used_event means nothing now */
	assert_false(virtq_needs_interrupt(&vq, 0));

	/* virtq_enable_kicks publishes avail_event after the used ring. */
	vq.event_idx = true;
	vq.last_avail = 7;
	put16(t, AVAIL_GPA + 2, 7);
	assert_false(virtq_enable_kicks(&vq));
	assert_int_equal(ram16(t, USED_GPA + 4 + 8 * 8), 7);
	put16(t, AVAIL_GPA + 2, 8);
	assert_true(virtq_enable_kicks(&vq));
	t_free(t);
}

/* The same through the device: interrupts only where the driver wants. */
static void test_event_idx_device(void **state)
{
	struct t *t = t_running(false, F_LINUX, DEFAULT_QSIZE);
	uint64_t used_event = AVAIL_GPA + 4 + 2 * DEFAULT_QSIZE;
	uint64_t avail_event = USED_GPA + 4 + 8 * DEFAULT_QSIZE;
	uint32_t used = 0;

	put16(t, used_event, 3); /* interrupt once used idx passes 3 */
	for (unsigned int i = 0; i < 3; i++) {
		assert_int_equal(blk_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &used), VIRTIO_BLK_S_OK);
		assert_int_equal(t->irqs, 0);
		/* The device asks for a kick for the next buffer. */
		assert_int_equal(ram16(t, avail_event), i + 1);
	}
	assert_int_equal(r32(t, INT_STATUS), 0);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(t->irqs, 1);
	assert_int_equal(r32(t, INT_STATUS), INT_VRING);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(t->irqs, 1);
	t_free(t);

	/* Without EVENT_IDX: the NO_INTERRUPT flag. */
	t = t_running(false, F_LINUX & ~F_EVIDX, DEFAULT_QSIZE);
	put16(t, AVAIL_GPA, 1);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(t->irqs, 0);
	assert_int_equal(r32(t, INT_STATUS), 0);
	put16(t, AVAIL_GPA, 0);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(t->irqs, 1);
	assert_int_equal(r32(t, INT_STATUS), INT_VRING);
	/* No avail_event written without EVENT_IDX. */
	assert_int_equal(ram16(t, USED_GPA + 4 + 8 * DEFAULT_QSIZE), 0);
	t_free(t);
}

/* A request taken before a reset and completed after it: dropped, even
 * once the driver has set the queue up again at the same place. */
static void test_reset_in_flight(void **state)
{
	struct t *t = t_running(false, F_LINUX, DEFAULT_QSIZE);
	struct virtio_blk_outhdr h = {.type = VIRTIO_BLK_T_FLUSH};
	struct seg segs[] = {{HDR_GPA, sizeof(h), false}, {STATUS_GPA, 1, true}};
	struct virtq_chain *c = calloc(1, sizeof(*c));
	struct virtq_used_elem e;
	uint32_t gen, gen2;

	assert_non_null(c);
	memcpy(t->mem + HDR_GPA, &h, sizeof(h));
	add_chain(t, segs, 2);
	assert_int_equal(virtio_mmio_pop(&t->blk.mmio, 0, c, 1, &gen), 1);
	e = (struct virtq_used_elem){c->head, virtio_blk_request(&t->blk, c)};

	/* Reset alone: no queue to complete into. */
	w32(t, STATUS, 0);
	virtio_mmio_complete(&t->blk.mmio, 0, gen, &e, 1);
	assert_int_equal(used_idx(t), 0);
	assert_int_equal(t->irqs, 0);

	/* Set up again: the old generation is still refused... */
	assert_int_equal(driver_init(t, F_LINUX, DEFAULT_QSIZE), S_RUNNING);
	virtio_mmio_complete(&t->blk.mmio, 0, gen, &e, 1);
	assert_int_equal(used_idx(t), 0);
	assert_int_equal(t->irqs, 0);
	assert_int_equal(r32(t, INT_STATUS), 0);

	/* ...and the new one completes (the check can fail). */
	add_chain(t, segs, 2);
	assert_int_equal(virtio_mmio_pop(&t->blk.mmio, 0, c, 1, &gen2), 1);
	assert_int_not_equal(gen2, gen);
	e = (struct virtq_used_elem){c->head, virtio_blk_request(&t->blk, c)};
	virtio_mmio_complete(&t->blk.mmio, 0, gen2, &e, 1);
	assert_int_equal(used_idx(t), 1);
	assert_int_equal(ram32(t, USED_GPA + 8), 1); /* used len: the status */
	assert_int_equal(t->irqs, 1);
	free(c);
	t_free(t);
}

static void test_transport_rules(void **state)
{
	struct t *t = t_running(false, F_LINUX, DEFAULT_QSIZE);
	struct virtq *vq = &t->blk.mmio.vq[0];
	uint8_t b[16];
	uint32_t gen;

	/* Queue layout is fixed while the queue is ready. */
	w32(t, QUEUE_SEL, 0);
	w32(t, QUEUE_NUM, 16);
	w32(t, QUEUE_DESC_LO, 0x40000);
	w32(t, QUEUE_DESC_HI, 1);
	w32(t, QUEUE_DRIVER_LO, 0x41000);
	w32(t, QUEUE_DEVICE_LO, 0x42000);
	w32(t, QUEUE_DEVICE_HI, 2);
	assert_int_equal(vq->size, DEFAULT_QSIZE);
	assert_int_equal(vq->desc_gpa, DESC_GPA);
	assert_int_equal(vq->avail_gpa, AVAIL_GPA);
	assert_int_equal(vq->used_gpa, USED_GPA);
	assert_int_equal(r32(t, STATUS), S_RUNNING);
	/* ...and writable again once it is not (Linux's vm_del_vq). */
	w32(t, QUEUE_READY, 0);
	assert_int_equal(r32(t, QUEUE_READY), 0);
	w32(t, QUEUE_DESC_LO, 0x40000);
	assert_int_equal(vq->desc_gpa, 0x40000);

	/* Only queue 0 exists. */
	assert_int_equal(r32(t, QUEUE_NUM_MAX), VIRTQ_MAX_SIZE);
	for (uint32_t q = 1; q != 0; q = q < 8 ? q + 1 : (q == 8 ? 0x80000000u : 0)) {
		w32(t, QUEUE_SEL, q);
		assert_int_equal(r32(t, QUEUE_NUM_MAX), 0);
		assert_int_equal(r32(t, QUEUE_READY), 0);
		w32(t, QUEUE_NUM, 64);
		w32(t, QUEUE_READY, 1);
		assert_int_equal(r32(t, QUEUE_READY), 0);
	}
	assert_int_equal(t->blk.mmio.vq[1].size, 0);
	assert_int_equal(t->blk.mmio.vq[1].ready, false);
	assert_int_equal(r32(t, STATUS), S_RUNNING);
	w32(t, QUEUE_SEL, 0);

	/* Kicks: only for queues that exist. */
	w32(t, QUEUE_NOTIFY, 0);
	assert_int_equal(t->kicks, 1);
	assert_int_equal(t->last_kick, 0);
	w32(t, QUEUE_NOTIFY, 1);
	w32(t, QUEUE_NOTIFY, 0xffffffff);
	assert_int_equal(t->kicks, 1);

	/* Registers are 32 bits wide: other sizes and unaligned offsets are
	 * ignored and read as zeros. */
	memset(b, 0, sizeof(b));
	gen = t->blk.mmio.generation;
	virtio_mmio_write(&t->blk.mmio, STATUS, b, 1);
	virtio_mmio_write(&t->blk.mmio, STATUS, b, 2);
	virtio_mmio_write(&t->blk.mmio, STATUS, b, 8);
	virtio_mmio_write(&t->blk.mmio, STATUS + 1, b, 4);
	virtio_mmio_write(&t->blk.mmio, STATUS - 2, b, 4);
	assert_int_equal(r32(t, STATUS), S_RUNNING);
	assert_int_equal(t->blk.mmio.generation, gen); /* no reset happened */
	for (unsigned int size = 1; size <= 8; size *= 2) {
		if (size == 4)
			continue;
		memset(b, 0xcc, sizeof(b));
		virtio_mmio_read(&t->blk.mmio, MAGIC, b, size);
		for (unsigned int i = 0; i < size; i++)
			assert_int_equal(b[i], 0);
		assert_int_equal(b[size], 0xcc);
	}
	memset(b, 0xcc, sizeof(b));
	virtio_mmio_read(&t->blk.mmio, MAGIC + 2, b, 4);
	assert_int_equal(b[0] | b[1] | b[2] | b[3], 0);

	/* InterruptACK clears only the bits written. */
	atomic_store(&t->blk.mmio.interrupt_status, INT_VRING | INT_CONFIG);
	w32(t, INT_ACK, INT_VRING);
	assert_int_equal(r32(t, INT_STATUS), INT_CONFIG);
	b[0] = INT_CONFIG;
	virtio_mmio_write(&t->blk.mmio, INT_ACK, b, 1); /* ignored: 8 bits */
	assert_int_equal(r32(t, INT_STATUS), INT_CONFIG);
	w32(t, INT_ACK, INT_CONFIG);
	assert_int_equal(r32(t, INT_STATUS), 0);

	/* Read-only registers ignore writes. */
	w32(t, MAGIC, 0);
	w32(t, DEVICE_ID, 1);
	w32(t, QUEUE_NUM_MAX, 4);
	w32(t, INT_STATUS, 0);
	assert_int_equal(r32(t, MAGIC), 0x74726976);
	assert_int_equal(r32(t, DEVICE_ID), 2);
	assert_int_equal(r32(t, QUEUE_NUM_MAX), VIRTQ_MAX_SIZE);
	/* blk has no writable config: writes change nothing. */
	w32(t, CONFIG, 0);
	assert_int_equal(r32(t, CONFIG), DISK_BYTES / 512);
	t_free(t);
}

/* A ring wrapped past 65535 avail entries keeps working. */
static void test_index_wrap(void **state)
{
	struct t *t = t_running(false, F_LINUX, 4);
	struct virtq *vq = &t->blk.mmio.vq[0];
	uint32_t used = 0;

	/* Pretend 65534 chains went by: both sides' indexes agree. */
	vq->last_avail = vq->used_idx = 0xfffe;
	t->avail_idx = 0xfffe;
	put16(t, AVAIL_GPA + 2, 0xfffe);
	put16(t, USED_GPA + 2, 0xfffe);
	for (unsigned int i = 0; i < 4; i++) {
		assert_int_equal(blk_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &used), VIRTIO_BLK_S_OK);
		assert_int_equal(used, 1);
	}
	assert_int_equal(used_idx(t), 2);
	assert_int_equal(r32(t, STATUS), S_RUNNING);
	t_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_negotiation),
	    cmocka_unit_test(test_blk_read_write),
	    cmocka_unit_test(test_blk_max_segments),
	    cmocka_unit_test(test_blk_errors),
	    cmocka_unit_test(test_blk_no_status),
	    cmocka_unit_test(test_blk_discard_write_zeroes),
	    cmocka_unit_test(test_blk_discard_flags),
	    cmocka_unit_test(test_blk_read_only),
	    cmocka_unit_test(test_hostile_chains),
	    cmocka_unit_test(test_hostile_queue_setup),
	    cmocka_unit_test(test_needs_interrupt),
	    cmocka_unit_test(test_event_idx_device),
	    cmocka_unit_test(test_reset_in_flight),
	    cmocka_unit_test(test_transport_rules),
	    cmocka_unit_test(test_index_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
