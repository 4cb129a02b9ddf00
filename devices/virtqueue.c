/* Split virtqueue walker and used-ring writer for virtio devices; see
 * virtqueue.h for the threat model. Ring fields are little-endian in the
 * spec; x86 hosts only, so they are read as they are. */
#include <errno.h>
#include <string.h>

#include "devices/virtqueue.h"

#define DESC_F_NEXT	     1
#define DESC_F_WRITE	     2
#define DESC_F_INDIRECT	     4
#define AVAIL_F_NO_INTERRUPT 1

/* Offsets (in 16-bit words) inside the avail and used rings. */
#define RING_FLAGS 0
#define RING_IDX   1

static uint16_t load_acquire16(volatile uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* One read of each field: the driver may rewrite the descriptor while it
 * is walked, and every check must hold for the value that is used. */
static struct virtq_desc read_desc(const volatile struct virtq_desc *p)
{
	return (struct virtq_desc){p->addr, p->len, p->flags, p->next};
}

int virtq_start(struct virtq *vq, const struct guest_ram *ram)
{
	uint64_t n = vq->size;

	if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)) || vq->desc_gpa % 16 ||
	    vq->avail_gpa % 2 || vq->used_gpa % 4)
		return -EINVAL;
	vq->desc = guest_ram_ptr(ram, vq->desc_gpa, 16 * n);
	vq->avail = guest_ram_ptr(ram, vq->avail_gpa, 6 + 2 * n);
	vq->used = guest_ram_ptr(ram, vq->used_gpa, 6 + 8 * n);
	if (vq->desc == NULL || vq->avail == NULL || vq->used == NULL) {
		vq->desc = NULL;
		vq->avail = vq->used = NULL;
		return -EINVAL;
	}
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->returned = 0;
	return 0;
}

void virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
}

/* Add one buffer of a chain, in its direction; fails on a readable buffer
 * after a writable one (2.7.4.2), on a buffer outside RAM, or on too many. */
static int add_buffer(struct virtq_chain *c, const struct guest_ram *ram, uint64_t addr,
		      uint32_t len, bool write)
{
	void *host;

	if (c->nr_out + c->nr_in >= VIRTQ_MAX_SEGS)
		return -EINVAL;
	if (!write && c->nr_in)
		return -EINVAL;
	host = guest_ram_ptr(ram, addr, len);
	if (host == NULL)
		return -EINVAL;
	if (write) {
		c->in[c->nr_in++] = (struct iovec){host, len};
		c->in_len += len;
	} else {
		c->out[c->nr_out++] = (struct iovec){host, len};
		c->out_len += len;
	}
	return 0;
}

/* Walk an indirect table: its own chain, at most its own length long. */
static int walk_indirect(struct virtq_chain *c, const struct guest_ram *ram,
			 const struct virtq_desc *d)
{
	const struct virtq_desc *table;
	uint32_t n = d->len / 16, i = 0, seen = 0;

	if (d->len == 0 || d->len % 16 || n > VIRTQ_MAX_SEGS)
		return -EINVAL;
	table = guest_ram_ptr(ram, d->addr, d->len);
	if (table == NULL || d->addr % 8)
		return -EINVAL;
	for (;;) {
		struct virtq_desc e = read_desc(&table[i]);
		int ret;

		if (++seen > n || (e.flags & DESC_F_INDIRECT))
			return -EINVAL;
		ret = add_buffer(c, ram, e.addr, e.len, e.flags & DESC_F_WRITE);
		if (ret < 0)
			return ret;
		if (!(e.flags & DESC_F_NEXT))
			return 0;
		i = e.next;
		if (i >= n)
			return -EINVAL;
	}
}

int virtq_pop(struct virtq *vq, const struct guest_ram *ram, struct virtq_chain *c)
{
	uint16_t avail_idx, head, i;
	unsigned int seen = 0;

	if (vq->desc == NULL)
		return -EINVAL;
	avail_idx = load_acquire16(&vq->avail[RING_IDX]);
	if (avail_idx == vq->last_avail)
		return 0;
	/* More outstanding than the ring holds: the index is garbage. */
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size)
		return -EINVAL;
	head = vq->avail[2 + vq->last_avail % vq->size];
	if (head >= vq->size)
		return -EINVAL;
	c->head = head;
	c->nr_out = c->nr_in = 0;
	c->out_len = c->in_len = 0;
	for (i = head;;) {
		struct virtq_desc d = read_desc(&vq->desc[i]);
		int ret;

		if (++seen > vq->size)
			return -EINVAL; /* a loop */
		if (d.flags & DESC_F_INDIRECT) {
			/* 2.7.5.3.1: not with NEXT, and only if negotiated. */
			if (!vq->indirect || (d.flags & DESC_F_NEXT))
				return -EINVAL;
			ret = walk_indirect(c, ram, &d);
		} else {
			ret = add_buffer(c, ram, d.addr, d.len, d.flags & DESC_F_WRITE);
		}
		if (ret < 0)
			return ret;
		if (!(d.flags & DESC_F_NEXT))
			break;
		i = d.next;
		if (i >= vq->size)
			return -EINVAL;
	}
	vq->last_avail++;
	if (vq->returned)
		vq->returned--;
	return 1;
}

bool virtq_enable_kicks(struct virtq *vq)
{
	/* Chains given back were seen: wait for entries past them. */
	uint16_t seen = (uint16_t)(vq->last_avail + vq->returned), pending;

	if (vq->desc == NULL)
		return false;
	if (vq->event_idx) {
		/* avail_event sits after the used elements. */
		__atomic_store_n(&vq->used[2 + 4 * vq->size], seen, __ATOMIC_RELAXED);
		/* The store must be visible before the index is read again, or
		 * a buffer added in between gets neither a kick nor a look. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	/*
	 * More only if the driver added past what was given back. Not "the
	 * index is not where we saw it": a driver that moves its index back
	 * over chains given back would have that true for ever while there
	 * is nothing to pop, and the device's loop spin.
	 */
	pending = (uint16_t)(load_acquire16(&vq->avail[RING_IDX]) - vq->last_avail);
	return pending > vq->returned;
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	volatile struct virtq_used_elem *e;

	if (vq->used == NULL)
		return;
	e = (volatile struct virtq_used_elem *)(vq->used + 2) + vq->used_idx % vq->size;
	e->id = head;
	e->len = len;
	vq->used_idx++;
	/* The element before the index that publishes it. */
	__atomic_store_n(&vq->used[RING_IDX], vq->used_idx, __ATOMIC_RELEASE);
}

bool virtq_needs_interrupt(struct virtq *vq, uint16_t old_used)
{
	uint16_t new_used = vq->used_idx, event;

	if (vq->used == NULL || new_used == old_used)
		return false;
	/* The used index must be visible before the driver's wish is read. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(vq->avail[RING_FLAGS] & AVAIL_F_NO_INTERRUPT);
	event = vq->avail[2 + vq->size]; /* used_event */
	/* Interrupt if used_event lies in (old_used, new_used] (2.7.10). */
	return (uint16_t)(new_used - event - 1) < (uint16_t)(new_used - old_used);
}

/* Copy between @buf and the @iov list from @offset on, either way. */
static uint64_t iov_copy(const struct iovec *iov, unsigned int nr, uint64_t offset, uint8_t *buf,
			 uint64_t len, bool to_iov)
{
	uint64_t done = 0;

	for (unsigned int i = 0; i < nr && done < len; i++) {
		uint8_t *base;
		uint64_t n;

		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		base = (uint8_t *)iov[i].iov_base + offset;
		n = iov[i].iov_len - offset;
		if (n > len - done)
			n = len - done;
		if (to_iov)
			memcpy(base, buf + done, n);
		else
			memcpy(buf + done, base, n);
		done += n;
		offset = 0;
	}
	return done;
}

uint64_t iov_read(const struct iovec *iov, unsigned int nr, uint64_t offset, void *dst,
		  uint64_t len)
{
	return iov_copy(iov, nr, offset, dst, len, false);
}

uint64_t iov_write(const struct iovec *iov, unsigned int nr, uint64_t offset, const void *src,
		   uint64_t len)
{
	return iov_copy(iov, nr, offset, (uint8_t *)src, len, true);
}

int iov_slice(const struct iovec *iov, unsigned int nr, uint64_t offset, uint64_t len,
	      struct iovec *dst, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < nr && len; i++) {
		uint64_t take;

		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		take = iov[i].iov_len - offset;
		if (take > len)
			take = len;
		if (n == max)
			return -E2BIG;
		dst[n++] = (struct iovec){(uint8_t *)iov[i].iov_base + offset, take};
		len -= take;
		offset = 0;
	}
	return len ? -EINVAL : (int)n;
}
