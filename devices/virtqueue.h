/* Split virtqueues (virtio 1.x, 2.7): the device side. Walks the driver's
 * descriptor chains into host iovecs and hands used buffers back, deciding
 * when the driver wants an interrupt (EVENT_IDX or NO_INTERRUPT).
 *
 * The driver is hostile: every ring and buffer address is checked against
 * guest RAM, chains that loop, nest indirect tables, put a readable buffer
 * after a writable one or hold more than VIRTQ_MAX_SEGS buffers make the
 * walk fail, and nothing is ever read or written outside guest RAM. */
#ifndef DEVICES_VIRTQUEUE_H
#define DEVICES_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "boot/layout.h"

/* Largest queue a device offers (QueueNumMax). */
#define VIRTQ_MAX_SIZE 256
/* Most buffers one chain may hold (direct and indirect together). */
#define VIRTQ_MAX_SEGS 128

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq {
	/* Written by the driver through the transport while not ready. */
	uint16_t size;
	bool ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* Negotiated features that change the ring's layout or walk. */
	bool event_idx, indirect;

	/* Set by virtq_start(): host views of the three rings. */
	struct virtq_desc *desc;
	volatile uint16_t *avail; /* flags, idx, ring[size], used_event */
	volatile uint16_t *used;  /* flags, idx, then elements; avail_event */
	uint16_t last_avail;	  /* next avail entry to take */
	uint16_t used_idx;	  /* next used entry to fill */
	uint16_t returned;	  /* given back unused, not taken again yet */
};

/* One chain: what the driver gave to read (out) and to write (in). */
struct virtq_chain {
	uint16_t head;
	unsigned int nr_out, nr_in;
	uint64_t out_len, in_len;
	struct iovec out[VIRTQ_MAX_SEGS];
	struct iovec in[VIRTQ_MAX_SEGS];
};

/* Check the driver's queue set-up (size a power of two up to
 * VIRTQ_MAX_SIZE, rings aligned and inside RAM) and map its rings. Returns
 * 0 or -EINVAL. */
int virtq_start(struct virtq *vq, const struct guest_ram *ram);

/* Forget the queue (device reset). */
void virtq_reset(struct virtq *vq);

/* Take the next available chain. Returns 1 with *chain filled, 0 if the
 * driver offered nothing new, or -EINVAL if what it offered is malformed
 * (the queue is then unusable until a reset). */
int virtq_pop(struct virtq *vq, const struct guest_ram *ram, struct virtq_chain *chain);

/* With EVENT_IDX: tell the driver to kick again once it adds past what the
 * device has taken. Returns true if more became available meanwhile (the
 * caller pops again). Without EVENT_IDX: whether anything is available. */
bool virtq_enable_kicks(struct virtq *vq);

/* Return chain @head to the driver with @len bytes written into it. */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t len);

/* After pushes that moved the used index from @old_used: does the driver
 * want an interrupt for them? */
bool virtq_needs_interrupt(struct virtq *vq, uint16_t old_used);

/* Copy up to @len bytes at @offset of the chain's @iov list into @dst;
 * returns the bytes copied. */
uint64_t iov_read(const struct iovec *iov, unsigned int nr, uint64_t offset, void *dst,
		  uint64_t len);

/* Copy @len bytes of @src into the @iov list at @offset; returns the bytes
 * copied (fewer when the list is shorter). */
uint64_t iov_write(const struct iovec *iov, unsigned int nr, uint64_t offset, const void *src,
		   uint64_t len);

/* Make @dst (room for @max entries) the part of @iov in [offset,
 * offset+len); returns the number of entries, or -E2BIG if @max is too
 * small, -EINVAL if the list is shorter than offset+len. */
int iov_slice(const struct iovec *iov, unsigned int nr, uint64_t offset, uint64_t len,
	      struct iovec *dst, unsigned int max);

#endif
