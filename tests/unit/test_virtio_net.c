/* Unit tests of virtio-net. One end of a datagram socketpair stands in for
 * the TAP (a datagram keeps a packet's boundaries, and the device offers no
 * receive offloads on it); the test holds the other end as "the host". A
 * fake guest RAM with guard bytes on both sides and a small driver that
 * sets both queues up as Linux's virtio_mmio and virtio_net do, then lays
 * out rings and chains itself: negotiation, transmit (byte-exact datagrams,
 * malformed chains dropped but returned), receive with and without
 * MRG_RXBUF, a ring that runs out mid-packet, a reset with a packet
 * pending, and receive buffers a hostile driver hands over. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/virtio_net.h>

#include "devices/virtio_net.h"

#define RAM_SIZE   (1ULL << 20)
#define GUARD	   4096
#define GUARD_BYTE 0xa5
#define FILL	   0x3c /* what receive buffers hold before the device writes */

/* Where the test driver puts rings and buffers in guest RAM. */
#define RXQ_DESC  0x1000ULL
#define RXQ_AVAIL 0x2000ULL
#define RXQ_USED  0x3000ULL
#define TXQ_DESC  0x5000ULL
#define TXQ_AVAIL 0x6000ULL
#define TXQ_USED  0x7000ULL
#define TABLE_GPA 0x8000ULL  /* indirect tables, 0x1000 apart */
#define TX_GPA	  0x10000ULL /* transmit frames (up to 0x40000) */
#define RX_GPA	  0x40000ULL /* receive buffers (up to RAM_SIZE) */

#define RXQ VIRTIO_NET_RXQ
#define TXQ VIRTIO_NET_TXQ
#define HDR VIRTIO_NET_HDR_LEN

/* virtio-mmio registers (virtio 1.x, 4.2.2). */
enum {
	MAGIC = 0x000,
	VERSION = 0x004,
	DEVICE_ID = 0x008,
	DEV_FEATURES = 0x010,
	DEV_FEATURES_SEL = 0x014,
	DRV_FEATURES = 0x020,
	DRV_FEATURES_SEL = 0x024,
	QUEUE_SEL = 0x030,
	QUEUE_NUM_MAX = 0x034,
	QUEUE_NUM = 0x038,
	QUEUE_READY = 0x044,
	INT_STATUS = 0x060,
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
#define S_RUNNING     (S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK)

#define INT_VRING 1

#define D_NEXT	   1
#define D_WRITE	   2
#define D_INDIRECT 4

#define BIT(n)	(1ULL << (n))
#define F_V1	BIT(32)
#define F_INDIR BIT(28)
#define F_EVIDX BIT(29)
#define F_MRG	BIT(VIRTIO_NET_F_MRG_RXBUF)
/* What Linux's virtio_net accepts of the offer on a socketpair. */
#define F_NET                                                                                      \
	(F_V1 | F_INDIR | F_EVIDX | BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_CSUM) |               \
	 BIT(VIRTIO_NET_F_HOST_TSO4) | F_MRG)

static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* The driver's copy of one queue. */
struct dq {
	uint64_t desc, avail, used;
	uint16_t size;
	uint16_t avail_idx; /* its avail->idx */
	uint16_t next_desc; /* next free descriptor */
};

struct t {
	uint8_t *buf; /* guard, RAM, guard */
	uint8_t *mem;
	struct guest_ram ram;
	struct virtio_net *net; /* large: on the heap */
	int host_fd;		/* the other end of the device's "TAP" */
	int dev_fd;
	struct dq q[2];
	unsigned int irqs;
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

static struct t *t_new(void)
{
	struct t *t = calloc(1, sizeof(*t));
	int sv[2];

	assert_non_null(t);
	t->buf = malloc(RAM_SIZE + 2 * GUARD);
	t->net = malloc(sizeof(*t->net));
	assert_non_null(t->buf);
	assert_non_null(t->net);
	memset(t->buf, GUARD_BYTE, GUARD);
	memset(t->buf + GUARD + RAM_SIZE, GUARD_BYTE, GUARD);
	t->mem = t->buf + GUARD;
	memset(t->mem, 0, RAM_SIZE);
	t->ram.region[0] = (struct guest_region){0, RAM_SIZE, t->mem};
	t->ram.nr_regions = 1;
	t->ram.total = RAM_SIZE;

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	t->dev_fd = sv[0];
	t->host_fd = sv[1];
	assert_int_equal(virtio_net_init(t->net, t->dev_fd, mac, &t->ram), 0);
	t->net->mmio.interrupt = on_irq;
	t->net->mmio.opaque = t;
	t->q[RXQ] = (struct dq){RXQ_DESC, RXQ_AVAIL, RXQ_USED, 0, 0, 0};
	t->q[TXQ] = (struct dq){TXQ_DESC, TXQ_AVAIL, TXQ_USED, 0, 0, 0};
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
	assert_guards(t);
	virtio_net_destroy(t->net);
	close(t->dev_fd);
	close(t->host_fd);
	free(t->net);
	free(t->buf);
	free(t);
}

static void w32(struct t *t, uint64_t off, uint32_t val)
{
	uint8_t b[4];

	memcpy(b, &val, 4);
	virtio_mmio_write(&t->net->mmio, off, b, 4);
}

static uint32_t r32(struct t *t, uint64_t off)
{
	uint8_t b[4];
	uint32_t v;

	virtio_mmio_read(&t->net->mmio, off, b, 4);
	memcpy(&v, b, 4);
	return v;
}

static uint8_t r8(struct t *t, uint64_t off)
{
	uint8_t b;

	virtio_mmio_read(&t->net->mmio, off, &b, 1);
	return b;
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

static uint16_t used_idx(const struct t *t, unsigned int q)
{
	return ram16(t, t->q[q].used + 2);
}

/* Used element @i (ring position, not modulo) of queue @q. */
static void assert_used(const struct t *t, unsigned int q, uint16_t i, uint16_t head, uint32_t len)
{
	uint64_t e = t->q[q].used + 4 + 8 * (uint64_t)(i % t->q[q].size);

	assert_int_equal(ram32(t, e), head);
	assert_int_equal(ram32(t, e + 4), len);
}

/* Linux's vm_probe, virtio_dev_probe, virtnet_probe (MAC read) and
 * vm_setup_vq for both queues of @qsize. Returns the status read back at
 * the end; stops after FEATURES_OK if the device refused it, as Linux does. */
static uint32_t driver_init(struct t *t, uint64_t features, uint16_t qsize)
{
	uint32_t status;

	assert_int_equal(r32(t, MAGIC), 0x74726976);
	assert_int_equal(r32(t, VERSION), 2);
	assert_int_equal(r32(t, DEVICE_ID), 1);
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
	for (unsigned int i = 0; i < 6; i++)
		assert_int_equal(r8(t, CONFIG + i), mac[i]);

	for (unsigned int i = 0; i < 2; i++) {
		struct dq *q = &t->q[i];

		memset(t->mem + q->desc, 0, 0x1000);
		memset(t->mem + q->avail, 0, 0x1000);
		memset(t->mem + q->used, 0, 0x1000);
		q->size = qsize;
		q->avail_idx = 0;
		q->next_desc = 0;
		w32(t, QUEUE_SEL, i);
		assert_int_equal(r32(t, QUEUE_READY), 0);
		assert_int_equal(r32(t, QUEUE_NUM_MAX), VIRTQ_MAX_SIZE);
		w32(t, QUEUE_NUM, qsize);
		w32(t, QUEUE_DESC_LO, (uint32_t)q->desc);
		w32(t, QUEUE_DESC_HI, 0);
		w32(t, QUEUE_DRIVER_LO, (uint32_t)q->avail);
		w32(t, QUEUE_DRIVER_HI, 0);
		w32(t, QUEUE_DEVICE_LO, (uint32_t)q->used);
		w32(t, QUEUE_DEVICE_HI, 0);
		w32(t, QUEUE_READY, 1);
		assert_int_equal(r32(t, QUEUE_READY), 1);
	}
	w32(t, STATUS, S_RUNNING);
	return r32(t, STATUS);
}

static struct t *t_running(uint64_t features, uint16_t qsize)
{
	struct t *t = t_new();

	assert_int_equal(driver_init(t, features, qsize), S_RUNNING);
	assert_int_equal(t->irqs, 0);
	return t;
}

static void put_desc(struct t *t, uint64_t table, uint16_t i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	struct virtq_desc d = {addr, len, flags, next};

	memcpy(t->mem + table + 16 * (uint64_t)i, &d, sizeof(d));
}

/* Offer chain @head on queue @q: the avail entry, then the index. */
static void publish(struct t *t, unsigned int q, uint16_t head)
{
	struct dq *d = &t->q[q];

	put16(t, d->avail + 4 + 2 * (d->avail_idx % d->size), head);
	d->avail_idx++;
	__atomic_store_n((uint16_t *)(t->mem + d->avail + 2), d->avail_idx, __ATOMIC_RELEASE);
}

/* Lay @n buffers out as a direct chain on queue @q, offer it; its head. */
static uint16_t add_chain(struct t *t, unsigned int q, const struct seg *segs, unsigned int n)
{
	struct dq *d = &t->q[q];
	uint16_t head = d->next_desc;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t at = (uint16_t)((head + i) % d->size);

		put_desc(t, d->desc, at, segs[i].gpa, segs[i].len,
			 (segs[i].write ? D_WRITE : 0) | (i + 1 < n ? D_NEXT : 0),
			 (uint16_t)((at + 1) % d->size));
	}
	d->next_desc = (uint16_t)((head + n) % d->size);
	publish(t, q, head);
	return head;
}

/* The same buffers in an indirect table at @table, behind one descriptor. */
static uint16_t add_indirect(struct t *t, unsigned int q, uint64_t table, const struct seg *segs,
			     unsigned int n)
{
	struct dq *d = &t->q[q];
	uint16_t head = d->next_desc;

	for (unsigned int i = 0; i < n; i++)
		put_desc(t, table, (uint16_t)i, segs[i].gpa, segs[i].len,
			 (segs[i].write ? D_WRITE : 0) | (i + 1 < n ? D_NEXT : 0),
			 (uint16_t)(i + 1));
	put_desc(t, d->desc, head, table, 16 * n, D_INDIRECT, 0);
	d->next_desc = (uint16_t)((head + 1) % d->size);
	publish(t, q, head);
	return head;
}

/* @n receive buffers of @size, one writable descriptor each, @stride
 * apart from @gpa and filled with FILL; the first one's head. */
static uint16_t add_rx_bufs(struct t *t, unsigned int n, uint32_t size, uint64_t gpa,
			    uint64_t stride)
{
	uint16_t first = t->q[RXQ].next_desc;

	for (unsigned int i = 0; i < n; i++) {
		struct seg s = {gpa + i * stride, size, true};

		memset(t->mem + s.gpa, FILL, size);
		add_chain(t, RXQ, &s, 1);
	}
	return first;
}

/* A packet as the TAP gives it: a vnet header (no offloads; num_buffers
 * garbage, which the device must overwrite), then a frame from @seed. */
static uint8_t *make_packet(size_t len, unsigned int seed)
{
	uint8_t *p = malloc(len);

	assert_non_null(p);
	memset(p, 0, len < HDR ? len : HDR);
	if (len >= HDR)
		p[10] = p[11] = 0xee;
	for (size_t i = HDR; i < len; i++)
		p[i] = (uint8_t)(i * 13 + seed);
	return p;
}

static void host_send(struct t *t, const void *p, size_t len)
{
	assert_int_equal(send(t->host_fd, p, len, 0), (ssize_t)len);
}

/* The next datagram the device sent (its full length), or -1 if none. */
static ssize_t host_recv(struct t *t, void *p, size_t max)
{
	ssize_t r = recv(t->host_fd, p, max, MSG_TRUNC);

	if (r < 0)
		assert_int_equal(errno, EAGAIN);
	return r;
}

/* What the guest must see of @pkt: num_buffers set in its header. */
static void expect_rx(uint8_t *pkt, uint16_t nbufs)
{
	memcpy(pkt + 10, &nbufs, 2);
}

/* virtio_net_rx, with a watchdog: a call that has not returned within 20 s
 * (the device spins) fails the test instead of hanging the suite. The
 * interrupted device is abandoned (its lock may be held): leaked. */
static sigjmp_buf rx_hung;

static void on_alarm(int sig)
{
	siglongjmp(rx_hung, 1);
}

static bool rx(struct t *t)
{
	struct sigaction sa = {.sa_handler = on_alarm}, old;
	bool ret;

	sigaction(SIGALRM, &sa, &old);
	if (sigsetjmp(rx_hung, 1)) {
		sigaction(SIGALRM, &old, NULL);
		fail_msg("virtio_net_rx still running after 20 s: it spins");
	}
	alarm(20);
	ret = virtio_net_rx(t->net);
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	return ret;
}

static void test_negotiation(void **state)
{
	struct t *t = t_new();
	uint64_t offered = BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_MAC) |
			   BIT(VIRTIO_NET_F_HOST_TSO4) | F_MRG | F_INDIR | F_EVIDX;
	uint32_t v;

	assert_int_equal(r32(t, DEVICE_ID), 1);
	w32(t, DEV_FEATURES_SEL, 0);
	/* No GUEST_CSUM or GUEST_TSO4: a socketpair takes no TUNSETOFFLOAD. */
	assert_int_equal(r32(t, DEV_FEATURES), (uint32_t)offered);
	w32(t, DEV_FEATURES_SEL, 1);
	assert_int_equal(r32(t, DEV_FEATURES), 1); /* VERSION_1 */
	w32(t, DEV_FEATURES_SEL, 2);
	assert_int_equal(r32(t, DEV_FEATURES), 0);
	assert_false(t->net->can_offload);

	/* MAC in config space: bytewise (virtio_cread_bytes) and 32-bit. */
	for (unsigned int i = 0; i < 6; i++)
		assert_int_equal(r8(t, CONFIG + i), mac[i]);
	memcpy(&v, mac, 4);
	assert_int_equal(r32(t, CONFIG), v);
	assert_int_equal(r32(t, CONFIG + 4), mac[4] | mac[5] << 8);
	/* Past the 8 bytes of config, or straddling their end: zeros. */
	assert_int_equal(r32(t, CONFIG + 8), 0);
	assert_int_equal(r32(t, CONFIG + 0x100 - 4), 0);
	assert_int_equal(r32(t, CONFIG + 6), 0);
	/* No writable config: the MAC stays. */
	w32(t, CONFIG, 0);
	assert_int_equal(r8(t, CONFIG), mac[0]);

	/* Receive offloads were not offered: asking for them fails FEATURES_OK. */
	assert_int_equal(driver_init(t, F_NET | BIT(VIRTIO_NET_F_GUEST_CSUM), 64),
			 S_ACK | S_DRIVER);
	assert_int_equal(driver_init(t, F_NET | BIT(VIRTIO_NET_F_GUEST_TSO4), 64),
			 S_ACK | S_DRIVER);
	assert_int_equal(driver_init(t, F_NET | BIT(VIRTIO_NET_F_CTRL_VQ), 64), S_ACK | S_DRIVER);

	/* Linux's choice: running, mergeable buffers on. */
	assert_int_equal(driver_init(t, F_NET, 64), S_RUNNING);
	assert_true(t->net->mrg_rxbuf);
	assert_int_equal(t->net->mmio.driver_features, F_NET);
	/* ...and off when not negotiated. */
	assert_int_equal(driver_init(t, F_NET & ~F_MRG, 64), S_RUNNING);
	assert_false(t->net->mrg_rxbuf);
	assert_int_equal(driver_init(t, F_V1, 64), S_RUNNING);
	assert_false(t->net->mrg_rxbuf);
	assert_int_equal(t->irqs, 0);
	t_free(t);
}

static void test_tx(void **state)
{
	struct t *t = t_running(F_NET, 64);
	uint8_t *a = make_packet(HDR + 1000, 1), *b = make_packet(HDR + 1000, 2);
	uint8_t *c = make_packet(HDR + 1000, 3), *big = make_packet(VIRTIO_NET_MAX_FRAME + 1, 4);
	uint8_t *got = malloc(VIRTIO_NET_MAX_FRAME + 64);
	uint16_t heads[10];
	unsigned int n = 0;

	assert_non_null(got);
	/* 0: [hdr][frame]. */
	memcpy(t->mem + TX_GPA, a, HDR + 1000);
	heads[n++] =
	    add_chain(t, TXQ, (struct seg[]){{TX_GPA, HDR, false}, {TX_GPA + HDR, 1000, false}}, 2);
	/* 1: split everywhere, the header too, at odd places. */
	memcpy(t->mem + TX_GPA + 0x1001, b, 5);
	memcpy(t->mem + TX_GPA + 0x2003, b + 5, 7);
	memcpy(t->mem + TX_GPA + 0x3005, b + 12, 300);
	memcpy(t->mem + TX_GPA + 0x4007, b + 312, 1);
	memcpy(t->mem + TX_GPA + 0x5009, b + 313, 699);
	heads[n++] = add_chain(t, TXQ,
			       (struct seg[]){{TX_GPA + 0x1001, 5, false},
					      {TX_GPA + 0x2003, 7, false},
					      {TX_GPA + 0x3005, 300, false},
					      {TX_GPA + 0x4007, 1, false},
					      {TX_GPA + 0x5009, 699, false}},
			       5);
	/* 2: indirect. */
	memcpy(t->mem + TX_GPA + 0x6000, c, HDR + 1000);
	heads[n++] = add_indirect(
	    t, TXQ, TABLE_GPA,
	    (struct seg[]){{TX_GPA + 0x6000, HDR, false}, {TX_GPA + 0x6000 + HDR, 1000, false}}, 2);
	/* 3: a writable buffer after the frame: dropped. */
	heads[n++] = add_chain(t, TXQ,
			       (struct seg[]){{TX_GPA, HDR, false},
					      {TX_GPA + HDR, 1000, false},
					      {TX_GPA + 0x7000, 64, true}},
			       3);
	/* 4, 5: shorter than a header, in one buffer or two: dropped. */
	heads[n++] = add_chain(t, TXQ, (struct seg[]){{TX_GPA, HDR - 1, false}}, 1);
	heads[n++] = add_chain(
	    t, TXQ, (struct seg[]){{TX_GPA, 6, false}, {TX_GPA + 0x100, HDR - 7, false}}, 2);
	/* 6: one byte over VIRTIO_NET_MAX_FRAME: dropped. */
	memcpy(t->mem + TX_GPA + 0x10000, big, VIRTIO_NET_MAX_FRAME + 1);
	heads[n++] = add_chain(
	    t, TXQ,
	    (struct seg[]){{TX_GPA + 0x10000, HDR, false},
			   {TX_GPA + 0x10000 + HDR, VIRTIO_NET_MAX_FRAME + 1 - HDR, false}},
	    2);
	/* 7: exactly VIRTIO_NET_MAX_FRAME: sent. */
	heads[n++] =
	    add_chain(t, TXQ,
		      (struct seg[]){{TX_GPA + 0x10000, HDR, false},
				     {TX_GPA + 0x10000 + HDR, VIRTIO_NET_MAX_FRAME - HDR, false}},
		      2);
	/* 8: only a writable buffer: dropped. */
	heads[n++] = add_chain(t, TXQ, (struct seg[]){{TX_GPA + 0x7000, 1000, true}}, 1);
	/* 9: a header and no frame: sent as it is (the TAP judges it). */
	heads[n++] = add_chain(t, TXQ, (struct seg[]){{TX_GPA, HDR, false}}, 1);

	memset(t->mem + TX_GPA + 0x7000, FILL, 1000);
	virtio_net_tx(t->net);

	assert_int_equal(used_idx(t, TXQ), n);
	for (uint16_t i = 0; i < n; i++)
		assert_used(t, TXQ, i, heads[i], 0);
	assert_int_equal(host_recv(t, got, VIRTIO_NET_MAX_FRAME + 64), HDR + 1000);
	assert_memory_equal(got, a, HDR + 1000);
	assert_int_equal(host_recv(t, got, VIRTIO_NET_MAX_FRAME + 64), HDR + 1000);
	assert_memory_equal(got, b, HDR + 1000);
	assert_int_equal(host_recv(t, got, VIRTIO_NET_MAX_FRAME + 64), HDR + 1000);
	assert_memory_equal(got, c, HDR + 1000);
	assert_int_equal(host_recv(t, got, VIRTIO_NET_MAX_FRAME + 64), VIRTIO_NET_MAX_FRAME);
	assert_memory_equal(got, big, VIRTIO_NET_MAX_FRAME);
	assert_int_equal(host_recv(t, got, VIRTIO_NET_MAX_FRAME + 64), HDR);
	assert_memory_equal(got, a, HDR);
	assert_int_equal(host_recv(t, got, 64), -1);
	/* The device never writes into a transmit chain's writable buffer. */
	for (unsigned int i = 0; i < 1000; i++)
		assert_int_equal(t->mem[TX_GPA + 0x7000 + i], FILL);

	assert_int_equal(t->net->stats.tx_packets, 5);
	assert_int_equal(t->net->stats.tx_bytes, 3 * 1000 + VIRTIO_NET_MAX_FRAME - HDR);
	assert_int_equal(t->net->stats.tx_dropped, 5);
	assert_int_equal(t->net->stats.rx_packets + t->net->stats.rx_dropped, 0);
	/* Dropping is not breaking; used_event 0: one interrupt. */
	assert_int_equal(r32(t, STATUS), S_RUNNING);
	assert_int_equal(t->irqs, 1);
	assert_int_equal(r32(t, INT_STATUS), INT_VRING);
	/* The device asks for a kick for the next chain (EVENT_IDX). */
	assert_int_equal(ram16(t, TXQ_USED + 4 + 8 * 64), n);

	/* Nothing new: nothing sent, nothing used. */
	virtio_net_tx(t->net);
	assert_int_equal(used_idx(t, TXQ), n);
	assert_int_equal(host_recv(t, got, 64), -1);
	free(a);
	free(b);
	free(c);
	free(big);
	free(got);
	t_free(t);
}

/* More chains than one batch of VIRTIO_NET_BATCH in one kick: all sent,
 * in order, and all returned. (A socketpair has no datagram queue limit
 * between its two ends, only the send buffer.) */
static void test_tx_batches(void **state)
{
	struct t *t = t_running(F_NET, 128);
	unsigned int n = 2 * VIRTIO_NET_BATCH + 5;
	uint8_t got[256];

	for (unsigned int i = 0; i < n; i++) {
		uint64_t gpa = TX_GPA + 0x100 * i;

		memset(t->mem + gpa, 0, HDR);
		t->mem[gpa + HDR] = (uint8_t)i;
		add_chain(t, TXQ, (struct seg[]){{gpa, HDR + 1, false}}, 1);
	}
	virtio_net_tx(t->net);
	assert_int_equal(used_idx(t, TXQ), n);
	for (uint16_t i = 0; i < n; i++) {
		assert_used(t, TXQ, i, i, 0);
		assert_int_equal(host_recv(t, got, sizeof(got)), HDR + 1);
		assert_int_equal(got[HDR], (uint8_t)i);
	}
	assert_int_equal(host_recv(t, got, sizeof(got)), -1);
	assert_int_equal(t->net->stats.tx_packets, n);
	assert_int_equal(t->net->stats.tx_bytes, n);
	assert_int_equal(t->net->stats.tx_dropped, 0);
	t_free(t);
}

/* Without MRG_RXBUF: one packet, one buffer. */
static void test_rx_single(void **state)
{
	struct t *t = t_running(F_NET & ~F_MRG, 16);
	uint8_t *p = make_packet(HDR + 1500, 7), *q = make_packet(HDR + 100, 8);
	uint8_t *s = make_packet(HDR + 488, 9);
	uint16_t h;

	/* The one big buffer Linux gives without mergeable buffers. */
	h = add_rx_bufs(t, 1, VIRTIO_NET_MAX_FRAME, RX_GPA, 0);
	host_send(t, p, HDR + 1500);
	assert_false(rx(t));
	assert_int_equal(used_idx(t, RXQ), 1);
	assert_used(t, RXQ, 0, h, HDR + 1500);
	expect_rx(p, 1);
	assert_memory_equal(t->mem + RX_GPA, p, HDR + 1500);
	assert_int_equal(t->mem[RX_GPA + HDR + 1500], FILL);
	assert_int_equal(t->irqs, 1);

	/* Bigger than the one buffer: dropped, the buffer back empty. */
	h = add_rx_bufs(t, 1, 1024, RX_GPA, 0);
	host_send(t, p, HDR + 1500);
	assert_false(rx(t));
	assert_int_equal(used_idx(t, RXQ), 2);
	assert_used(t, RXQ, 1, h, 0);
	assert_int_equal(t->net->stats.rx_dropped, 1);

	/* The next packet fits the next buffer. */
	h = add_rx_bufs(t, 1, 2048, RX_GPA + 0x10000, 0);
	host_send(t, q, HDR + 100);
	assert_false(rx(t));
	assert_int_equal(used_idx(t, RXQ), 3);
	assert_used(t, RXQ, 2, h, HDR + 100);
	expect_rx(q, 1);
	assert_memory_equal(t->mem + RX_GPA + 0x10000, q, HDR + 100);

	/* A buffer of two descriptors, num_buffers split between them. */
	memset(t->mem + RX_GPA + 0x20000, FILL, 0x3000);
	h = add_chain(t, RXQ,
		      (struct seg[]){{RX_GPA + 0x20000, 11, true}, {RX_GPA + 0x21000, 2000, true}},
		      2);
	host_send(t, s, HDR + 488);
	assert_false(rx(t));
	assert_int_equal(used_idx(t, RXQ), 4);
	assert_used(t, RXQ, 3, h, HDR + 488);
	expect_rx(s, 1);
	assert_memory_equal(t->mem + RX_GPA + 0x20000, s, 11);
	assert_memory_equal(t->mem + RX_GPA + 0x21000, s + 11, HDR + 488 - 11);
	assert_int_equal(t->mem[RX_GPA + 0x20000 + 11], FILL);

	assert_int_equal(t->net->stats.rx_packets, 3);
	assert_int_equal(t->net->stats.rx_bytes, 1500 + 100 + 488);
	assert_int_equal(t->net->stats.rx_dropped, 1);
	assert_int_equal(r32(t, STATUS), S_RUNNING);
	free(p);
	free(q);
	free(s);
	t_free(t);
}

/* Check that buffers @first.. (@stride apart from @gpa) hold @pkt in
 * order, used entries from ring position @at on. */
static void assert_spread(struct t *t, uint16_t at, uint16_t first, const uint8_t *pkt,
			  uint32_t len, uint32_t bufsize, uint64_t gpa, uint64_t stride)
{
	uint32_t off = 0;

	for (uint16_t i = 0; off < len; i++) {
		uint32_t n = len - off < bufsize ? len - off : bufsize;

		assert_used(t, RXQ, (uint16_t)(at + i), (uint16_t)(first + i), n);
		assert_memory_equal(t->mem + gpa + i * stride, pkt + off, n);
		off += n;
	}
}

/* With MRG_RXBUF: a 9000-byte frame over 1536-byte buffers. */
static void test_rx_mergeable(void **state)
{
	struct t *t = t_running(F_NET, 64);
	uint32_t len = HDR + 9000, small = HDR + 100;
	uint8_t *p = make_packet(len, 11), *q = make_packet(small, 12);
	uint16_t first = add_rx_bufs(t, 8, 1536, RX_GPA, 0x800);

	host_send(t, p, len);
	host_send(t, q, small);
	assert_false(rx(t));
	/* ceil(9012 / 1536) = 6 buffers, then one for the small packet. */
	assert_int_equal(used_idx(t, RXQ), 7);
	expect_rx(p, 6);
	assert_spread(t, 0, first, p, len, 1536, RX_GPA, 0x800);
	assert_used(t, RXQ, 5, first + 5, len - 5 * 1536);
	assert_int_equal(t->mem[RX_GPA + 5 * 0x800 + len - 5 * 1536], FILL);
	expect_rx(q, 1);
	assert_used(t, RXQ, 6, first + 6, small);
	assert_memory_equal(t->mem + RX_GPA + 6 * 0x800, q, small);
	assert_int_equal(t->mem[RX_GPA + 7 * 0x800], FILL); /* untouched */
	assert_int_equal(t->net->stats.rx_packets, 2);
	assert_int_equal(t->net->stats.rx_bytes, 9100);
	assert_int_equal(t->net->stats.rx_dropped, 0);
	/* Both packets' buffers in one completion: one interrupt. */
	assert_int_equal(t->irqs, 1);
	free(p);
	free(q);
	t_free(t);
}

/* A packet that needs more than VIRTIO_NET_MAX_RX_BUFS buffers is dropped;
 * the buffers it took come back empty. The largest packet that fits
 * VIRTIO_NET_MAX_RX_BUFS buffers is delivered. */
static void test_rx_too_many_buffers(void **state)
{
	struct t *t = t_running(F_NET, 256);
	uint32_t len = VIRTIO_NET_MAX_FRAME, bufsize = 500;
	uint8_t *p = make_packet(len, 13), *q = make_packet(HDR + 100, 14);
	uint16_t first = add_rx_bufs(t, 200, bufsize, RX_GPA, 0x200);

	assert_true((len + bufsize - 1) / bufsize > VIRTIO_NET_MAX_RX_BUFS);
	host_send(t, p, len);
	host_send(t, q, HDR + 100);
	assert_false(rx(t));
	assert_int_equal(used_idx(t, RXQ), VIRTIO_NET_MAX_RX_BUFS + 1);
	for (uint16_t i = 0; i < VIRTIO_NET_MAX_RX_BUFS; i++)
		assert_used(t, RXQ, i, first + i, 0);
	expect_rx(q, 1);
	assert_used(t, RXQ, VIRTIO_NET_MAX_RX_BUFS, first + VIRTIO_NET_MAX_RX_BUFS, HDR + 100);
	assert_memory_equal(t->mem + RX_GPA + 0x200 * VIRTIO_NET_MAX_RX_BUFS, q, HDR + 100);
	assert_int_equal(t->net->stats.rx_dropped, 1);
	assert_int_equal(t->net->stats.rx_packets, 1);
	free(p);
	free(q);
	t_free(t);

	/* 65562 bytes over 128 buffers of 513 (65664): delivered. */
	t = t_running(F_NET, 256);
	p = make_packet(len, 15);
	first = add_rx_bufs(t, 200, 513, RX_GPA, 0x210);
	host_send(t, p, len);
	assert_false(rx(t));
	assert_int_equal(used_idx(t, RXQ), VIRTIO_NET_MAX_RX_BUFS);
	expect_rx(p, VIRTIO_NET_MAX_RX_BUFS);
	assert_spread(t, 0, first, p, len, 513, RX_GPA, 0x210);
	assert_int_equal(t->net->stats.rx_packets, 1);
	assert_int_equal(t->net->stats.rx_bytes, len - HDR);
	free(p);
	t_free(t);
}

/* The ring runs out mid-packet: nothing completed, the buffers given
 * back; the whole packet once the driver adds more. */
static void test_rx_starved(void **state)
{
	struct t *t = t_running(F_NET, 16);
	uint32_t len = HDR + 9000;
	uint8_t *p = make_packet(len, 21), *q = make_packet(HDR + 60, 22);
	uint64_t avail_event = RXQ_USED + 4 + 8 * 16;

	add_rx_bufs(t, 3, 1536, RX_GPA, 0x800);
	host_send(t, p, len);
	assert_true(rx(t));
	assert_int_equal(used_idx(t, RXQ), 0);
	assert_int_equal(t->net->mmio.vq[RXQ].last_avail, 0);
	/* Kick me when you add past the three it has seen (and gave back):
	 * avail_event = 3, or the driver's next add (avail idx 3 -> 4)
	 * sends no kick (vring_need_event). */
	assert_int_equal(ram16(t, avail_event), 3);
	assert_int_equal(t->irqs, 0);
	assert_int_equal(t->net->stats.rx_packets + t->net->stats.rx_dropped, 0);
	/* Again without new buffers: still waiting, still nothing. */
	assert_true(rx(t));
	assert_int_equal(used_idx(t, RXQ), 0);
	assert_int_equal(t->net->mmio.vq[RXQ].last_avail, 0);

	add_rx_bufs(t, 3, 1536, RX_GPA + 3 * 0x800, 0x800);
	assert_false(rx(t));
	assert_int_equal(used_idx(t, RXQ), 6);
	expect_rx(p, 6);
	assert_spread(t, 0, 0, p, len, 1536, RX_GPA, 0x800);
	assert_int_equal(t->net->stats.rx_packets, 1);
	assert_int_equal(t->net->stats.rx_dropped, 0);
	assert_int_equal(t->irqs, 1);
	free(p);

	/* A whole packet before the one that starves is completed; the
	 * starving one's buffers are not. */
	p = make_packet(len, 23);
	add_rx_bufs(t, 4, 1536, RX_GPA, 0x800); /* heads 6..9 */
	host_send(t, q, HDR + 60);
	host_send(t, p, len);
	assert_true(rx(t));
	assert_int_equal(used_idx(t, RXQ), 7);
	assert_used(t, RXQ, 6, 6, HDR + 60);
	assert_int_equal(t->net->mmio.vq[RXQ].last_avail, 7);
	assert_int_equal(ram16(t, avail_event), 10);
	add_rx_bufs(t, 3, 1536, RX_GPA + 4 * 0x800, 0x800); /* heads 10..12 */
	assert_false(rx(t));
	assert_int_equal(used_idx(t, RXQ), 13);
	expect_rx(p, 6);
	assert_spread(t, 7, 7, p, len, 1536, RX_GPA + 0x800, 0x800);
	assert_int_equal(t->net->stats.rx_packets, 3);
	assert_int_equal(r32(t, STATUS), S_RUNNING);
	free(p);
	free(q);
	t_free(t);
}

/* An empty socket with buffers left: not starved. Short datagrams are
 * dropped, not delivered. A device not yet running reads nothing into
 * guest RAM. */
static void test_rx_idle(void **state)
{
	struct t *t = t_new();
	uint8_t *p = make_packet(HDR + 200, 31);
	uint8_t runt[HDR - 1];

	/* Not running: the packet waits (starved: no queue), RAM untouched. */
	host_send(t, p, HDR + 200);
	assert_true(rx(t));
	for (size_t i = 0; i < RAM_SIZE; i++)
		if (t->mem[i])
			fail_msg("RAM written at 0x%zx before DRIVER_OK", i);
	assert_int_equal(driver_init(t, F_NET, 16), S_RUNNING);
	add_rx_bufs(t, 4, 1536, RX_GPA, 0x800);
	assert_false(rx(t));
	assert_int_equal(used_idx(t, RXQ), 1);
	expect_rx(p, 1);
	assert_memory_equal(t->mem + RX_GPA, p, HDR + 200);

	/* Nothing to read: false, nothing used, nothing dropped. */
	assert_false(rx(t));
	assert_false(rx(t));
	assert_int_equal(used_idx(t, RXQ), 1);
	assert_int_equal(t->net->stats.rx_dropped, 0);

	/* A runt and an empty datagram are dropped; the packet after them
	 * lands in the next buffer. */
	memset(runt, 0x11, sizeof(runt));
	host_send(t, runt, sizeof(runt));
	host_send(t, runt, 0);
	host_send(t, p, HDR + 200);
	assert_false(rx(t));
	assert_int_equal(t->net->stats.rx_dropped, 2);
	assert_int_equal(used_idx(t, RXQ), 2);
	assert_used(t, RXQ, 1, 1, HDR + 200);
	assert_memory_equal(t->mem + RX_GPA + 0x800, p, HDR + 200);
	assert_int_equal(t->net->stats.rx_packets, 2);
	free(p);
	t_free(t);
}

/* A reset with a packet waiting for buffers: nothing reaches the old ring,
 * and the new ring holds only entries for its own buffers (heads from 8 on
 * here, so an old head would show). The waiting packet came from the host,
 * not from the old driver: it is delivered whole into the new buffers (or
 * dropped if the new negotiation leaves them too small). */
static void test_reset_mid_packet(void **state)
{
	uint32_t len = HDR + 9000;
	uint8_t *p = make_packet(len, 41), *q = make_packet(HDR + 200, 42);

	for (int mrg = 1; mrg >= 0; mrg--) {
		struct t *t = t_running(F_NET, 16);
		uint64_t features = mrg ? F_NET : F_NET & ~F_MRG;
		uint8_t *pe = malloc(len), *qe = malloc(HDR + 200);

		memcpy(pe, p, len);
		memcpy(qe, q, HDR + 200);
		add_rx_bufs(t, 3, 1536, RX_GPA, 0x800);
		host_send(t, pe, len);
		assert_true(rx(t));
		assert_int_equal(used_idx(t, RXQ), 0);

		w32(t, STATUS, 0);
		assert_int_equal(r32(t, STATUS), 0);
		/* Nothing may move while the device is reset. */
		assert_true(rx(t));
		assert_int_equal(used_idx(t, RXQ), 0);
		assert_int_equal(t->net->stats.rx_packets, 0);

		assert_int_equal(driver_init(t, features, 16), S_RUNNING);
		t->q[RXQ].next_desc = 8;
		add_rx_bufs(t, 8, 1536, RX_GPA + 0x10000, 0x800);
		host_send(t, qe, HDR + 200);
		assert_false(rx(t));
		if (mrg) {
			assert_int_equal(used_idx(t, RXQ), 7);
			expect_rx(pe, 6);
			assert_spread(t, 0, 8, pe, len, 1536, RX_GPA + 0x10000, 0x800);
			assert_used(t, RXQ, 6, 14, HDR + 200);
			assert_int_equal(t->net->stats.rx_packets, 2);
			assert_int_equal(t->net->stats.rx_dropped, 0);
		} else {
			assert_int_equal(used_idx(t, RXQ), 2);
			assert_used(t, RXQ, 0, 8, 0);
			assert_used(t, RXQ, 1, 9, HDR + 200);
			assert_int_equal(t->net->stats.rx_packets, 1);
			assert_int_equal(t->net->stats.rx_dropped, 1);
		}
		expect_rx(qe, 1);
		assert_memory_equal(t->mem + RX_GPA + 0x10000 + (mrg ? 6 : 1) * 0x800, qe,
				    HDR + 200);
		assert_int_equal(t->net->mmio.vq[RXQ].last_avail, mrg ? 7 : 2);
		free(pe);
		free(qe);
		t_free(t);
	}
	free(p);
	free(q);
}

/* Receive chains that are no receive buffers come back empty; the packet
 * goes to the next real one. */
static void test_rx_hostile_buffers(void **state)
{
	struct t *t = t_running(F_NET, 16);
	uint8_t *p = make_packet(HDR + 300, 51), *q = make_packet(HDR + 40, 52);
	uint16_t h[5];

	memset(t->mem + RX_GPA, FILL, 0x8000);
	/* Readable only. */
	h[0] = add_chain(t, RXQ, (struct seg[]){{RX_GPA, 1536, false}}, 1);
	/* Writable but shorter than the header. */
	h[1] = add_chain(t, RXQ, (struct seg[]){{RX_GPA + 0x1000, HDR - 1, true}}, 1);
	/* Readable then writable. */
	h[2] = add_chain(
	    t, RXQ, (struct seg[]){{RX_GPA + 0x2000, 16, false}, {RX_GPA + 0x3000, 1536, true}}, 2);
	/* A real one. */
	h[3] = add_chain(t, RXQ, (struct seg[]){{RX_GPA + 0x4000, 1536, true}}, 1);
	/* A real one in an indirect table, the header split over two. */
	h[4] = add_indirect(
	    t, RXQ, TABLE_GPA,
	    (struct seg[]){{RX_GPA + 0x5000, 6, true}, {RX_GPA + 0x6000, 1530, true}}, 2);

	host_send(t, p, HDR + 300);
	host_send(t, q, HDR + 40);
	assert_false(rx(t));
	assert_int_equal(used_idx(t, RXQ), 5);
	assert_used(t, RXQ, 0, h[0], 0);
	assert_used(t, RXQ, 1, h[1], 0);
	assert_used(t, RXQ, 2, h[2], 0);
	assert_used(t, RXQ, 3, h[3], HDR + 300);
	assert_used(t, RXQ, 4, h[4], HDR + 40);
	expect_rx(p, 1);
	assert_memory_equal(t->mem + RX_GPA + 0x4000, p, HDR + 300);
	expect_rx(q, 1);
	assert_memory_equal(t->mem + RX_GPA + 0x5000, q, 6);
	assert_memory_equal(t->mem + RX_GPA + 0x6000, q + 6, HDR + 40 - 6);
	/* The chains that were refused were not written. */
	for (unsigned int i = 0; i < 0x4000; i++)
		assert_int_equal(t->mem[RX_GPA + i], FILL);
	assert_int_equal(t->net->stats.rx_packets, 2);
	assert_int_equal(t->net->stats.rx_dropped, 0);
	assert_int_equal(r32(t, STATUS), S_RUNNING);
	free(p);
	free(q);
	t_free(t);
}

/* A vCPU acting between two of the I/O thread's pops: the test is linked
 * with --wrap=virtio_mmio_pop, and the wrapper runs pop_hook (if set)
 * before each pop. */
int __real_virtio_mmio_pop(struct virtio_mmio *m, unsigned int q, struct virtq_chain *chains,
			   unsigned int max, uint32_t *gen);
static void (*pop_hook)(struct t *t, unsigned int q);
static struct t *hook_t;
static unsigned int pops;

int __wrap_virtio_mmio_pop(struct virtio_mmio *m, unsigned int q, struct virtq_chain *chains,
			   unsigned int max, uint32_t *gen)
{
	pops++;
	if (pop_hook != NULL && hook_t != NULL && m == &hook_t->net->mmio)
		pop_hook(hook_t, q);
	return __real_virtio_mmio_pop(m, q, chains, max, gen);
}

#define HOSTILE_CHAINS 600

/* The driver offers a readable-only chain (descriptor 0, again and
 * again) just before each pop, HOSTILE_CHAINS of them. */
static void offer_hostile(struct t *t, unsigned int q)
{
	if (q != RXQ || pops > HOSTILE_CHAINS)
		return;
	put_desc(t, RXQ_DESC, 0, RX_GPA, 64, 0, 0);
	publish(t, RXQ, 0);
}

/* Chains that are no receive buffers, offered as fast as the device takes
 * them: each comes back empty, and the used entries the device keeps for
 * them stay inside rx_used (it has VIRTQ_MAX_SIZE). The chains[] scratch
 * right after rx_used in struct virtio_net is the canary. */
static void test_rx_hostile_flood(void **state)
{
	struct t *t = t_running(F_NET, 16);
	uint8_t *p = make_packet(HDR + 100, 61);
	uint8_t *canary = malloc(sizeof(t->net->chains));

	assert_non_null(canary);
	memset(t->net->chains, 0x5e, sizeof(t->net->chains));
	memcpy(canary, t->net->chains, sizeof(t->net->chains));
	host_send(t, p, HDR + 100);
	hook_t = t;
	pop_hook = offer_hostile;
	pops = 0;
	assert_true(rx(t)); /* starved once the flood stops */
	pop_hook = NULL;
	if (memcmp(canary, t->net->chains, sizeof(t->net->chains)) != 0)
		fail_msg("rx_used overflowed into chains[] (%u pops)", pops);
	/* Every chain came back, empty. */
	assert_int_equal(used_idx(t, RXQ), HOSTILE_CHAINS);
	for (uint16_t i = 0; i < 16; i++)
		assert_used(t, RXQ, i, 0, 0);
	assert_int_equal(t->net->stats.rx_packets, 0);
	free(canary);
	free(p);
	t_free(t);
}

/* A reset and a new set-up between the device's pops of one packet's
 * buffers (the ring then runs out): the buffers it took from the old ring
 * must not be "given back" to the new one. */
static void reset_on_third_pop(struct t *t, unsigned int q)
{
	if (q != RXQ || pops != 3)
		return;
	w32(t, STATUS, 0);
	assert_int_equal(driver_init(t, F_NET, 16), S_RUNNING);
}

static void test_rx_reset_between_pops(void **state)
{
	struct t *t = t_running(F_NET, 16);
	uint32_t len = HDR + 9000;
	uint8_t *p = make_packet(len, 62);

	add_rx_bufs(t, 2, 1536, RX_GPA, 0x800);
	host_send(t, p, len);
	hook_t = t;
	pop_hook = reset_on_third_pop;
	pops = 0;
	assert_true(rx(t));
	pop_hook = NULL;
	assert_true(pops >= 3);
	/* The new ring is empty and untouched. */
	assert_int_equal(t->net->mmio.vq[RXQ].last_avail, 0);
	assert_int_equal(used_idx(t, RXQ), 0);

	add_rx_bufs(t, 8, 1536, RX_GPA + 0x10000, 0x800);
	assert_false(rx(t));
	assert_int_equal(used_idx(t, RXQ), 6);
	expect_rx(p, 6);
	assert_spread(t, 0, 0, p, len, 1536, RX_GPA + 0x10000, 0x800);
	assert_int_equal(r32(t, STATUS), S_RUNNING);
	free(p);
	t_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_negotiation),	     cmocka_unit_test(test_tx),
	    cmocka_unit_test(test_tx_batches),	     cmocka_unit_test(test_rx_single),
	    cmocka_unit_test(test_rx_mergeable),     cmocka_unit_test(test_rx_too_many_buffers),
	    cmocka_unit_test(test_rx_starved),	     cmocka_unit_test(test_rx_idle),
	    cmocka_unit_test(test_reset_mid_packet), cmocka_unit_test(test_rx_hostile_buffers),
	    cmocka_unit_test(test_rx_hostile_flood), cmocka_unit_test(test_rx_reset_between_pops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
