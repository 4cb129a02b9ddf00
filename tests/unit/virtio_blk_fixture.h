/* The virtio-blk test fixture shared by the transport/blk tests and the
 * hostile-chain tests: a fake guest RAM with guard bytes on both sides, a
 * virtio-blk over a temporary image, and a small driver that sets the
 * device up through the registers as Linux's virtio_mmio driver does and
 * lays out rings and chains itself. */
#ifndef TESTS_UNIT_VIRTIO_BLK_FIXTURE_H
#define TESTS_UNIT_VIRTIO_BLK_FIXTURE_H

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

struct t *t_new(bool read_only);

void assert_guards(const struct t *t);

void t_free(struct t *t);

void w32(struct t *t, uint64_t off, uint32_t val);

uint32_t r32(struct t *t, uint64_t off);

uint16_t ram16(const struct t *t, uint64_t gpa);

uint32_t ram32(const struct t *t, uint64_t gpa);

void put16(struct t *t, uint64_t gpa, uint16_t v);

uint16_t used_idx(const struct t *t);

uint32_t driver_init(struct t *t, uint64_t features, uint16_t qsize);

void put_desc(struct t *t, uint64_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
	      uint16_t next);

void publish(struct t *t, uint16_t head);

uint16_t add_chain(struct t *t, const struct seg *segs, unsigned int n);

uint32_t submit(struct t *t, const struct seg *segs, unsigned int n);

bool is_in(uint32_t type);

uint8_t blk_req(struct t *t, uint32_t type, uint64_t sector, uint64_t data_gpa, uint32_t len,
		uint32_t *used);

struct t *t_running(bool read_only, uint64_t features, uint16_t qsize);

#endif
