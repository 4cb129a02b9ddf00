/* virtio-blk requests over a raw image: parsing (hostile input) and the
 * host I/O that serves them. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/uio.h>
#include <stdlib.h>
#include <unistd.h>
#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

#include "devices/virtio_blk.h"

#define SECTOR 512ULL
/* Per request; the driver learns them from the config space. */
#define MAX_SEGS	    (VIRTQ_MAX_SEGS - 2) /* + header + status */
#define MAX_DISCARD_SECTORS (1U << 22)		 /* 2 GiB */
#define DISCARD_SEG_BYTES   16

struct blk_header {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

struct blk_range {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

#define RANGE_F_UNMAP 1

static void config_read(void *dev, uint64_t offset, uint8_t *data, unsigned int size)
{
	struct virtio_blk *b = dev;

	if (offset < sizeof(b->config) && size <= sizeof(b->config) - offset)
		memcpy(data, (uint8_t *)&b->config + offset, size);
}

static int activate(void *dev, uint64_t features)
{
	(void)dev;
	(void)features;
	return 0;
}

static const struct virtio_device_ops blk_ops = {
    .device_id = 2,
    .nr_queues = 1,
    .config_read = config_read,
    .activate = activate,
};

int virtio_blk_init(struct virtio_blk *b, int fd, uint64_t bytes, bool read_only, const char *id,
		    const struct guest_ram *ram)
{
	uint64_t features = VIRTIO_FEATURE(VIRTIO_BLK_F_SEG_MAX) |
			    VIRTIO_FEATURE(VIRTIO_BLK_F_BLK_SIZE) |
			    VIRTIO_FEATURE(VIRTIO_BLK_F_FLUSH);

	if (bytes % SECTOR)
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->read_only = read_only;
	b->sectors = bytes / SECTOR;
	strncpy(b->id, id ? id : "", sizeof(b->id));
	b->config.capacity = b->sectors;
	b->config.seg_max = MAX_SEGS;
	b->config.blk_size = SECTOR;
	if (read_only) {
		features |= VIRTIO_FEATURE(VIRTIO_BLK_F_RO);
	} else {
		features |= VIRTIO_FEATURE(VIRTIO_BLK_F_DISCARD) |
			    VIRTIO_FEATURE(VIRTIO_BLK_F_WRITE_ZEROES);
		b->config.max_discard_sectors = MAX_DISCARD_SECTORS;
		b->config.max_discard_seg = 1;
		b->config.discard_sector_alignment = 1;
		b->config.max_write_zeroes_sectors = MAX_DISCARD_SECTORS;
		b->config.max_write_zeroes_seg = 1;
		b->config.write_zeroes_may_unmap = 1;
	}
	return virtio_mmio_init(&b->mmio, &blk_ops, b, features, ram);
}

void virtio_blk_destroy(struct virtio_blk *b)
{
#ifdef HAVE_LIBURING
	if (b->ring != NULL) {
		io_uring_queue_exit(b->ring);
		free(b->ring);
		b->ring = NULL;
	}
#endif
	virtio_mmio_destroy(&b->mmio);
}

/* Transfer all of @iov at @offset, resuming after short transfers. */
static int rw_full(int fd, const struct iovec *iov, int nr, uint64_t offset, bool write)
{
	struct iovec local[VIRTQ_MAX_SEGS];
	int i = 0;

	memcpy(local, iov, (size_t)nr * sizeof(*iov));
	while (i < nr) {
		ssize_t n = write ? pwritev(fd, local + i, nr - i, (off_t)offset)
				  : preadv(fd, local + i, nr - i, (off_t)offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO; /* 0: the image shrank under us */
		offset += (uint64_t)n;
		while (i < nr && (size_t)n >= local[i].iov_len)
			n -= (ssize_t)local[i++].iov_len;
		if (i < nr) {
			local[i].iov_base = (uint8_t *)local[i].iov_base + n;
			local[i].iov_len -= (size_t)n;
		}
	}
	return 0;
}

static bool in_range(const struct virtio_blk *b, uint64_t sector, uint64_t bytes)
{
	uint64_t n = bytes / SECTOR;

	return bytes % SECTOR == 0 && sector <= b->sectors && n <= b->sectors - sector;
}

/* Zero [off, off+len) by writing zeroes: where the file cannot. */
static int write_zeroes(int fd, uint64_t off, uint64_t len)
{
	static const uint8_t zero[4096];

	while (len) {
		size_t n = len < sizeof(zero) ? (size_t)len : sizeof(zero);
		ssize_t w = pwrite(fd, zero, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EIO;
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

static uint8_t do_discard(struct virtio_blk *b, const struct virtq_chain *c, bool zeroes)
{
	uint64_t segs = (c->out_len - sizeof(struct blk_header)) / DISCARD_SEG_BYTES;

	if (b->read_only)
		return VIRTIO_BLK_S_IOERR;
	if (segs == 0 || segs > 1 || (c->out_len - sizeof(struct blk_header)) % DISCARD_SEG_BYTES)
		return VIRTIO_BLK_S_UNSUPP; /* more than max_*_seg, or garbage */
	for (uint64_t i = 0; i < segs; i++) {
		struct blk_range r;
		uint64_t off, len;
		int mode;

		iov_read(c->out, c->nr_out, sizeof(struct blk_header) + i * DISCARD_SEG_BYTES, &r,
			 sizeof(r));
		/* 5.2.6.2: unknown flags, and UNMAP on a discard, are UNSUPP. */
		if ((r.flags & ~RANGE_F_UNMAP) || (!zeroes && (r.flags & RANGE_F_UNMAP)))
			return VIRTIO_BLK_S_UNSUPP;
		if (r.num_sectors > MAX_DISCARD_SECTORS ||
		    !in_range(b, r.sector, (uint64_t)r.num_sectors * SECTOR))
			return VIRTIO_BLK_S_IOERR;
		off = r.sector * SECTOR;
		len = (uint64_t)r.num_sectors * SECTOR;
		if (!zeroes) {
			/* Only a hint: a file that cannot punch holes keeps its data. */
			fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
				  (off_t)len);
			continue;
		}
		mode = (r.flags & RANGE_F_UNMAP) ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
						 : FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		if (fallocate(b->fd, mode, (off_t)off, (off_t)len) < 0 &&
		    write_zeroes(b->fd, off, len) < 0)
			return VIRTIO_BLK_S_IOERR;
	}
	b->stats.other++;
	return VIRTIO_BLK_S_OK;
}

/* Parse a request. Reads, writes and flushes come back as an I/O to do
 * (io->kind); everything else, errors included, is answered here. */
static void blk_parse(struct virtio_blk *b, const struct virtq_chain *c, struct blk_io *io)
{
	struct blk_header h;
	uint64_t data_len;
	int n;

	io->kind = BLK_IO_NONE;
	io->status = VIRTIO_BLK_S_OK;
	io->written = 0;
	/* Nowhere to read a header or to put a status: fail it, silently. */
	if (c->out_len < sizeof(h) || c->in_len < 1) {
		io->kind = BLK_IO_DROP;
		return;
	}
	iov_read(c->out, c->nr_out, 0, &h, sizeof(h));
	data_len = c->in_len - 1; /* the last writable byte is the status */
	/* The used length is 32 bits; no real request comes near. */
	if (data_len > UINT32_MAX - 1 || c->out_len > UINT32_MAX) {
		io->status = VIRTIO_BLK_S_IOERR;
		return;
	}
	switch (h.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (h.type == VIRTIO_BLK_T_IN) {
			io->len = data_len;
			n = iov_slice(c->in, c->nr_in, 0, data_len, io->iov, VIRTQ_MAX_SEGS);
		} else {
			io->len = c->out_len - sizeof(h);
			n = iov_slice(c->out, c->nr_out, sizeof(h), io->len, io->iov,
				      VIRTQ_MAX_SEGS);
		}
		if (n < 0 || !in_range(b, h.sector, io->len) ||
		    (h.type == VIRTIO_BLK_T_OUT && b->read_only)) {
			io->status = VIRTIO_BLK_S_IOERR;
			return;
		}
		io->kind = h.type == VIRTIO_BLK_T_IN ? BLK_IO_READ : BLK_IO_WRITE;
		io->nr = n;
		io->offset = h.sector * SECTOR;
		return;
	case VIRTIO_BLK_T_FLUSH:
		b->stats.flushes++;
		if (!b->read_only)
			io->kind = BLK_IO_FLUSH;
		return;
	case VIRTIO_BLK_T_GET_ID: {
		uint64_t len = data_len < sizeof(b->id) ? data_len : sizeof(b->id);

		io->written = (uint32_t)iov_write(c->in, c->nr_in, 0, b->id, len);
		b->stats.other++;
		return;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		io->status = do_discard(b, c, h.type == VIRTIO_BLK_T_WRITE_ZEROES);
		return;
	default:
		io->status = VIRTIO_BLK_S_UNSUPP;
		return;
	}
}

/* Do the I/O of a parsed request here and now; 0 or a negative errno. */
static int blk_io_sync(struct virtio_blk *b, struct blk_io *io)
{
	switch (io->kind) {
	case BLK_IO_READ:
	case BLK_IO_WRITE:
		return rw_full(b->fd, io->iov, io->nr, io->offset, io->kind == BLK_IO_WRITE);
	case BLK_IO_FLUSH:
		return fdatasync(b->fd) < 0 ? -errno : 0;
	default:
		return 0;
	}
}

/* Answer a request whose I/O ended with @res (0 or a negative errno);
 * returns the used length. */
static uint32_t blk_finish(struct virtio_blk *b, const struct virtq_chain *c, struct blk_io *io,
			   int res)
{
	if (io->kind == BLK_IO_DROP) {
		b->stats.errors++;
		return 0;
	}
	if (res < 0)
		io->status = VIRTIO_BLK_S_IOERR;
	if (io->status == VIRTIO_BLK_S_OK) {
		if (io->kind == BLK_IO_READ) {
			io->written = (uint32_t)io->len;
			b->stats.reads++;
			b->stats.bytes_read += io->len;
		} else if (io->kind == BLK_IO_WRITE) {
			b->stats.writes++;
			b->stats.bytes_written += io->len;
		}
	} else {
		io->written = 0;
		b->stats.errors++;
	}
	iov_write(c->in, c->nr_in, c->in_len - 1, &io->status, 1);
	return io->written + 1;
}

uint32_t virtio_blk_request(struct virtio_blk *b, const struct virtq_chain *c)
{
	struct blk_io *io = &b->io[0];

	blk_parse(b, c, io);
	return blk_finish(b, c, io, blk_io_sync(b, io));
}

#ifdef HAVE_LIBURING
int virtio_blk_use_uring(struct virtio_blk *b)
{
	int ret;

	b->ring = calloc(1, sizeof(*b->ring));
	if (b->ring == NULL)
		return -ENOMEM;
	ret = io_uring_queue_init(VIRTIO_BLK_BATCH, b->ring, 0);
	if (ret < 0) {
		free(b->ring);
		b->ring = NULL;
	}
	return ret;
}

/* One submission for the batch's reads, writes and flushes, then their
 * completions. A flush drains what was submitted before it: the driver
 * only counts on writes it saw complete, but draining costs nothing here. */
static void blk_batch_uring(struct virtio_blk *b, int n)
{
	int res[VIRTIO_BLK_BATCH], queued = 0;

	for (int i = 0; i < n; i++) {
		struct blk_io *io = &b->io[i];
		struct io_uring_sqe *sqe;

		res[i] = 0;
		blk_parse(b, &b->chains[i], io);
		if (io->kind != BLK_IO_READ && io->kind != BLK_IO_WRITE && io->kind != BLK_IO_FLUSH)
			continue;
		sqe = io_uring_get_sqe(b->ring);
		if (sqe == NULL) {
			res[i] = blk_io_sync(b, io);
			continue;
		}
		if (io->kind == BLK_IO_READ)
			io_uring_prep_readv(sqe, b->fd, io->iov, (unsigned int)io->nr, io->offset);
		else if (io->kind == BLK_IO_WRITE)
			io_uring_prep_writev(sqe, b->fd, io->iov, (unsigned int)io->nr, io->offset);
		else
			io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
		if (io->kind == BLK_IO_FLUSH)
			sqe->flags |= IOSQE_IO_DRAIN;
		io_uring_sqe_set_data64(sqe, (uint64_t)i);
		queued++;
	}
	if (queued && io_uring_submit_and_wait(b->ring, (unsigned int)queued) < 0)
		queued = 0; /* nothing went: the loop below finds no completion */
	while (queued > 0) {
		struct io_uring_cqe *cqe;
		int i;

		if (io_uring_wait_cqe(b->ring, &cqe) < 0)
			break;
		i = (int)io_uring_cqe_get_data64(cqe);
		if (i >= 0 && i < n) {
			struct blk_io *io = &b->io[i];

			if (cqe->res < 0) {
				res[i] = cqe->res;
			} else if (io->kind != BLK_IO_FLUSH && (uint64_t)cqe->res < io->len) {
				/* Short (the image shrank?): the rest the slow way. */
				struct iovec rest[VIRTQ_MAX_SEGS];
				int m =
				    iov_slice(io->iov, (unsigned int)io->nr, (uint64_t)cqe->res,
					      io->len - (uint64_t)cqe->res, rest, VIRTQ_MAX_SEGS);

				res[i] =
				    m < 0 ? m
					  : rw_full(b->fd, rest, m, io->offset + (uint64_t)cqe->res,
						    io->kind == BLK_IO_WRITE);
			}
		}
		io_uring_cqe_seen(b->ring, cqe);
		queued--;
	}
	for (int i = 0; i < n; i++) {
		b->used[i].id = b->chains[i].head;
		b->used[i].len = blk_finish(b, &b->chains[i], &b->io[i], queued ? -EIO : res[i]);
	}
}
#else
int virtio_blk_use_uring(struct virtio_blk *b)
{
	(void)b;
	return -ENOSYS;
}
#endif

void virtio_blk_process(struct virtio_blk *b)
{
	for (;;) {
		uint32_t gen;
		int n = virtio_mmio_pop(&b->mmio, 0, b->chains, VIRTIO_BLK_BATCH, &gen);

		if (n == 0) {
			if (virtio_mmio_enable_kicks(&b->mmio, 0))
				continue;
			return;
		}
#ifdef HAVE_LIBURING
		if (b->ring != NULL) {
			blk_batch_uring(b, n);
		} else
#endif
		{
			for (int i = 0; i < n; i++) {
				b->used[i].id = b->chains[i].head;
				b->used[i].len = virtio_blk_request(b, &b->chains[i]);
			}
		}
		virtio_mmio_complete(&b->mmio, 0, gen, b->used, (unsigned int)n);
	}
}
