/* virtio-blk (virtio 1.x, 5.2) over a raw image file: read, write, flush
 * (fdatasync: what the driver saw acknowledged is on stable storage),
 * GET_ID, discard and write-zeroes. Requests are served on the device's I/O
 * thread; a malformed one fails with an error status or, if it has nowhere
 * to put one, comes back with nothing written. */
#ifndef DEVICES_VIRTIO_BLK_H
#define DEVICES_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_blk.h>

#include "devices/virtio_mmio.h"

#define VIRTIO_BLK_BATCH 16 /* chains taken from the ring at once */

struct virtio_blk_stats {
	uint64_t reads, writes, flushes, other;
	uint64_t bytes_read, bytes_written;
	uint64_t errors; /* requests answered IOERR or UNSUPP, or dropped */
};

/* A request parsed: the I/O it needs, if any, and its answer so far. */
struct blk_io {
	enum { BLK_IO_NONE, BLK_IO_DROP, BLK_IO_READ, BLK_IO_WRITE, BLK_IO_FLUSH } kind;
	uint8_t status;	  /* VIRTIO_BLK_S_* */
	uint32_t written; /* bytes put in the chain besides the status */
	uint64_t offset, len;
	int nr;
	struct iovec iov[VIRTQ_MAX_SEGS]; /* the data part of the chain */
};

struct io_uring;

struct virtio_blk {
	struct virtio_mmio mmio;
	int fd;
	bool read_only;
	uint64_t sectors;
	char id[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_config config;
	struct virtio_blk_stats stats; /* I/O thread only */
	struct virtq_chain chains[VIRTIO_BLK_BATCH];
	struct virtq_used_elem used[VIRTIO_BLK_BATCH];
	struct blk_io io[VIRTIO_BLK_BATCH];
	struct io_uring *ring; /* NULL: requests served one by one, synchronously */
};

/* Serve @fd (a raw image of @bytes, a multiple of 512) as a disk; @id is
 * what GET_ID returns (at most 20 bytes kept). The fd stays the caller's. */
int virtio_blk_init(struct virtio_blk *b, int fd, uint64_t bytes, bool read_only, const char *id,
		    const struct guest_ram *ram);
void virtio_blk_destroy(struct virtio_blk *b);

/* Serve each batch of requests with one io_uring submission (all in
 * flight at once) instead of one synchronous call each. Returns 0, or a
 * negative errno (-ENOSYS: built without liburing) and stays synchronous. */
int virtio_blk_use_uring(struct virtio_blk *b);

/* I/O thread: serve the request queue until the driver has nothing more. */
void virtio_blk_process(struct virtio_blk *b);

/* Serve one request; returns the bytes written into the chain (the used
 * length). What virtio_blk_process() does per chain; fuzzable alone. */
uint32_t virtio_blk_request(struct virtio_blk *b, const struct virtq_chain *c);

#endif
