/* The guest driver side of the virtio device tests, whatever the device: a
 * fake guest RAM with guard bytes on both sides, register access through
 * the virtio-mmio transport, the probe and queue set-up as Linux's
 * virtio_mmio does them, and rings and chains laid out by hand. */
#ifndef TESTS_UNIT_VIRTIO_DRIVER_H
#define TESTS_UNIT_VIRTIO_DRIVER_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/virtio_mmio.h"
#include "virtio_mmio32.h"

#define RAM_SIZE   (1ULL << 20)
#define GUARD	   4096
#define GUARD_BYTE 0xa5

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

/* The driver's copy of one queue: where its rings are, and what it has
 * offered on it. */
struct driver_queue {
	uint64_t desc, avail, used;
	uint16_t size;
	uint16_t avail_idx; /* its avail->idx */
	uint16_t next_desc; /* next free descriptor */
};

struct virtio_driver {
	uint8_t *buf; /* guard, RAM, guard */
	uint8_t *mem;
	struct guest_ram ram;
	struct virtio_mmio *mmio; /* the device's transport */
	unsigned int nr_queues;
	struct driver_queue q[VIRTIO_MMIO_MAX_QUEUES];
};

struct seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

/* Zeroed guest RAM between guards; the caller then attaches the device's
 * transport and places the rings of each of its queues. */
void driver_ram_init(struct virtio_driver *d);

/* Nothing was written outside guest RAM, on either side. */
void assert_guards(const struct virtio_driver *d);

/* Checks the guards, then frees guest RAM. */
void driver_ram_free(struct virtio_driver *d);

void w32(struct virtio_driver *d, uint64_t off, uint32_t val);

uint32_t r32(struct virtio_driver *d, uint64_t off);

uint8_t r8(struct virtio_driver *d, uint64_t off);

uint16_t ram16(const struct virtio_driver *d, uint64_t gpa);

uint32_t ram32(const struct virtio_driver *d, uint64_t gpa);

void put16(struct virtio_driver *d, uint64_t gpa, uint16_t v);

uint16_t used_idx(const struct virtio_driver *d, unsigned int q);

/* Used element @i (ring position, not modulo) of queue @q. */
void assert_used(const struct virtio_driver *d, unsigned int q, uint16_t i, uint16_t head,
		 uint32_t len);

/* The device offers exactly @features: both feature words as they are,
 * and nothing past them. */
void assert_offered(struct virtio_driver *d, uint64_t features);

/* Linux's vm_probe, virtio_dev_probe and vm_finalize_features for a device
 * of @device_id. Returns the status read back after FEATURES_OK, which the
 * device clears if it refuses @features. */
uint32_t driver_negotiate(struct virtio_driver *d, uint32_t device_id, uint64_t features);

/* Writes the size and ring addresses of the selected queue. */
void driver_queue_layout(struct virtio_driver *d, uint32_t num, uint64_t desc, uint64_t avail,
			 uint64_t used);

/* Linux's vm_setup_vq for every queue, with @qsize entries and empty
 * rings, then DRIVER_OK. Returns the status read back at the end. */
uint32_t driver_start(struct virtio_driver *d, uint16_t qsize);

void put_desc(struct virtio_driver *d, uint64_t table, uint16_t i, uint64_t addr, uint32_t len,
	      uint16_t flags, uint16_t next);

/* Offer chain @head on queue @q: the avail entry, then the index (what
 * virtqueue_add and virtqueue_kick_prepare do). */
void publish(struct virtio_driver *d, unsigned int q, uint16_t head);

/* Lay @n buffers out as a direct chain on queue @q and offer it; returns
 * its head. */
uint16_t add_chain(struct virtio_driver *d, unsigned int q, const struct seg *segs, unsigned int n);

/* The same buffers in an indirect table at @table, behind one descriptor. */
uint16_t add_indirect(struct virtio_driver *d, unsigned int q, uint64_t table,
		      const struct seg *segs, unsigned int n);

#endif
