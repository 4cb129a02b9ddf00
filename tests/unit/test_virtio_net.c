/* Unit tests of virtio-net. One end of a datagram socketpair stands in for
 * the TAP (a datagram keeps a packet's boundaries, and the device offers no
 * receive offloads on it); the test holds the other end as "the host". The
 * test driver (virtio_driver.h) sets both queues up as Linux's virtio_mmio
 * and virtio_net do, then lays out rings and chains itself: negotiation,
 * transmit (byte-exact datagrams, malformed chains dropped but returned),
 * receive with and without MRG_RXBUF, a ring that runs out mid-packet, a
 * reset with a packet pending, and receive buffers a hostile driver hands
 * over. */
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
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "devices/virtio_net.h"
#include "virtio_driver.h"

#define FILL 0x3c /* what receive buffers hold before the device writes */

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

#define F_MRG BIT(VIRTIO_NET_F_MRG_RXBUF)
/* What Linux's virtio_net accepts of the offer on a socketpair. */
#define F_NET                                                                                      \
	(F_V1 | F_INDIR | F_EVIDX | BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_CSUM) |               \
	 BIT(VIRTIO_NET_F_HOST_TSO4) | F_MRG)

static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

struct t {
	struct virtio_driver drv;
	struct virtio_net *net; /* large: on the heap */
	int host_fd;		/* the other end of the device's "TAP" */
	int dev_fd;
	unsigned int irqs;
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
	driver_ram_init(&t->drv);
	t->net = malloc(sizeof(*t->net));
	assert_non_null(t->net);

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	t->dev_fd = sv[0];
	t->host_fd = sv[1];
	assert_int_equal(virtio_net_init(t->net, t->dev_fd, mac, &t->drv.ram), 0);
	t->net->mmio.interrupt = on_irq;
	t->net->mmio.opaque = t;
	t->drv.mmio = &t->net->mmio;
	t->drv.nr_queues = 2;
	t->drv.q[RXQ] = (struct driver_queue){RXQ_DESC, RXQ_AVAIL, RXQ_USED, 0, 0, 0};
	t->drv.q[TXQ] = (struct driver_queue){TXQ_DESC, TXQ_AVAIL, TXQ_USED, 0, 0, 0};
	return t;
}

static void t_free(struct t *t)
{
	virtio_net_destroy(t->net);
	close(t->dev_fd);
	close(t->host_fd);
	free(t->net);
	driver_ram_free(&t->drv);
	free(t);
}

/* Linux's vm_probe, virtio_dev_probe, virtnet_probe (MAC read) and
 * vm_setup_vq for both queues of @qsize. Returns the status read back at
 * the end; stops after FEATURES_OK if the device refused it, as Linux does. */
static uint32_t driver_init(struct t *t, uint64_t features, uint16_t qsize)
{
	uint32_t status = driver_negotiate(&t->drv, VIRTIO_ID_NET, features);

	if (!(status & S_FEATURES_OK))
		return status;
	for (unsigned int i = 0; i < 6; i++)
		assert_int_equal(r8(&t->drv, CONFIG + i), mac[i]);
	return driver_start(&t->drv, qsize);
}

static struct t *t_running(uint64_t features, uint16_t qsize)
{
	struct t *t = t_new();

	assert_int_equal(driver_init(t, features, qsize), S_RUNNING);
	assert_int_equal(t->irqs, 0);
	return t;
}

/* @n receive buffers of @size, one writable descriptor each, @stride
 * apart from @gpa and filled with FILL; the first one's head. */
static uint16_t add_rx_bufs(struct t *t, unsigned int n, uint32_t size, uint64_t gpa,
			    uint64_t stride)
{
	uint16_t first = t->drv.q[RXQ].next_desc;

	for (unsigned int i = 0; i < n; i++) {
		struct seg s = {gpa + i * stride, size, true};

		memset(t->drv.mem + s.gpa, FILL, size);
		add_chain(&t->drv, RXQ, &s, 1);
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
			   BIT(VIRTIO_NET_F_HOST_TSO4) | F_MRG | F_INDIR | F_EVIDX | F_V1;
	uint32_t v;

	assert_int_equal(r32(&t->drv, DEVICE_ID), 1);
	/* No GUEST_CSUM or GUEST_TSO4: a socketpair takes no TUNSETOFFLOAD. */
	assert_offered(&t->drv, offered);
	assert_false(t->net->can_offload);

	/* MAC in config space: bytewise (virtio_cread_bytes) and 32-bit. */
	for (unsigned int i = 0; i < 6; i++)
		assert_int_equal(r8(&t->drv, CONFIG + i), mac[i]);
	memcpy(&v, mac, 4);
	assert_int_equal(r32(&t->drv, CONFIG), v);
	assert_int_equal(r32(&t->drv, CONFIG + 4), mac[4] | mac[5] << 8);
	/* Past the 8 bytes of config, or straddling their end: zeros. */
	assert_int_equal(r32(&t->drv, CONFIG + 8), 0);
	assert_int_equal(r32(&t->drv, CONFIG + 0x100 - 4), 0);
	assert_int_equal(r32(&t->drv, CONFIG + 6), 0);
	/* No writable config: the MAC stays. */
	w32(&t->drv, CONFIG, 0);
	assert_int_equal(r8(&t->drv, CONFIG), mac[0]);

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
	memcpy(t->drv.mem + TX_GPA, a, HDR + 1000);
	heads[n++] = add_chain(
	    &t->drv, TXQ, (struct seg[]){{TX_GPA, HDR, false}, {TX_GPA + HDR, 1000, false}}, 2);
	/* 1: split everywhere, the header too, at odd places. */
	memcpy(t->drv.mem + TX_GPA + 0x1001, b, 5);
	memcpy(t->drv.mem + TX_GPA + 0x2003, b + 5, 7);
	memcpy(t->drv.mem + TX_GPA + 0x3005, b + 12, 300);
	memcpy(t->drv.mem + TX_GPA + 0x4007, b + 312, 1);
	memcpy(t->drv.mem + TX_GPA + 0x5009, b + 313, 699);
	heads[n++] = add_chain(&t->drv, TXQ,
			       (struct seg[]){{TX_GPA + 0x1001, 5, false},
					      {TX_GPA + 0x2003, 7, false},
					      {TX_GPA + 0x3005, 300, false},
					      {TX_GPA + 0x4007, 1, false},
					      {TX_GPA + 0x5009, 699, false}},
			       5);
	/* 2: indirect. */
	memcpy(t->drv.mem + TX_GPA + 0x6000, c, HDR + 1000);
	heads[n++] = add_indirect(
	    &t->drv, TXQ, TABLE_GPA,
	    (struct seg[]){{TX_GPA + 0x6000, HDR, false}, {TX_GPA + 0x6000 + HDR, 1000, false}}, 2);
	/* 3: a writable buffer after the frame: dropped. */
	heads[n++] = add_chain(&t->drv, TXQ,
			       (struct seg[]){{TX_GPA, HDR, false},
					      {TX_GPA + HDR, 1000, false},
					      {TX_GPA + 0x7000, 64, true}},
			       3);
	/* 4, 5: shorter than a header, in one buffer or two: dropped. */
	heads[n++] = add_chain(&t->drv, TXQ, (struct seg[]){{TX_GPA, HDR - 1, false}}, 1);
	heads[n++] = add_chain(
	    &t->drv, TXQ, (struct seg[]){{TX_GPA, 6, false}, {TX_GPA + 0x100, HDR - 7, false}}, 2);
	/* 6: one byte over VIRTIO_NET_MAX_FRAME: dropped. */
	memcpy(t->drv.mem + TX_GPA + 0x10000, big, VIRTIO_NET_MAX_FRAME + 1);
	heads[n++] = add_chain(
	    &t->drv, TXQ,
	    (struct seg[]){{TX_GPA + 0x10000, HDR, false},
			   {TX_GPA + 0x10000 + HDR, VIRTIO_NET_MAX_FRAME + 1 - HDR, false}},
	    2);
	/* 7: exactly VIRTIO_NET_MAX_FRAME: sent. */
	heads[n++] =
	    add_chain(&t->drv, TXQ,
		      (struct seg[]){{TX_GPA + 0x10000, HDR, false},
				     {TX_GPA + 0x10000 + HDR, VIRTIO_NET_MAX_FRAME - HDR, false}},
		      2);
	/* 8: only a writable buffer: dropped. */
	heads[n++] = add_chain(&t->drv, TXQ, (struct seg[]){{TX_GPA + 0x7000, 1000, true}}, 1);
	/* 9: a header and no frame: sent as it is (the TAP judges it). */
	heads[n++] = add_chain(&t->drv, TXQ, (struct seg[]){{TX_GPA, HDR, false}}, 1);

	memset(t->drv.mem + TX_GPA + 0x7000, FILL, 1000);
	virtio_net_tx(t->net);

	assert_int_equal(used_idx(&t->drv, TXQ), n);
	for (uint16_t i = 0; i < n; i++)
		assert_used(&t->drv, TXQ, i, heads[i], 0);
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
		assert_int_equal(t->drv.mem[TX_GPA + 0x7000 + i], FILL);

	assert_int_equal(t->net->stats.tx_packets, 5);
	assert_int_equal(t->net->stats.tx_bytes, 3 * 1000 + VIRTIO_NET_MAX_FRAME - HDR);
	assert_int_equal(t->net->stats.tx_dropped, 5);
	assert_int_equal(t->net->stats.rx_packets + t->net->stats.rx_dropped, 0);
	/* Dropping is not breaking; used_event 0: one interrupt. */
	assert_int_equal(r32(&t->drv, STATUS), S_RUNNING);
	assert_int_equal(t->irqs, 1);
	assert_int_equal(r32(&t->drv, INT_STATUS), INT_VRING);
	/* The device asks for a kick for the next chain (EVENT_IDX). */
	assert_int_equal(ram16(&t->drv, TXQ_USED + 4 + 8 * 64), n);

	/* Nothing new: nothing sent, nothing used. */
	virtio_net_tx(t->net);
	assert_int_equal(used_idx(&t->drv, TXQ), n);
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

		memset(t->drv.mem + gpa, 0, HDR);
		t->drv.mem[gpa + HDR] = (uint8_t)i;
		add_chain(&t->drv, TXQ, (struct seg[]){{gpa, HDR + 1, false}}, 1);
	}
	virtio_net_tx(t->net);
	assert_int_equal(used_idx(&t->drv, TXQ), n);
	for (uint16_t i = 0; i < n; i++) {
		assert_used(&t->drv, TXQ, i, i, 0);
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
	assert_int_equal(used_idx(&t->drv, RXQ), 1);
	assert_used(&t->drv, RXQ, 0, h, HDR + 1500);
	expect_rx(p, 1);
	assert_memory_equal(t->drv.mem + RX_GPA, p, HDR + 1500);
	assert_int_equal(t->drv.mem[RX_GPA + HDR + 1500], FILL);
	assert_int_equal(t->irqs, 1);

	/* Bigger than the one buffer: dropped, the buffer back empty. */
	h = add_rx_bufs(t, 1, 1024, RX_GPA, 0);
	host_send(t, p, HDR + 1500);
	assert_false(rx(t));
	assert_int_equal(used_idx(&t->drv, RXQ), 2);
	assert_used(&t->drv, RXQ, 1, h, 0);
	assert_int_equal(t->net->stats.rx_dropped, 1);

	/* The next packet fits the next buffer. */
	h = add_rx_bufs(t, 1, 2048, RX_GPA + 0x10000, 0);
	host_send(t, q, HDR + 100);
	assert_false(rx(t));
	assert_int_equal(used_idx(&t->drv, RXQ), 3);
	assert_used(&t->drv, RXQ, 2, h, HDR + 100);
	expect_rx(q, 1);
	assert_memory_equal(t->drv.mem + RX_GPA + 0x10000, q, HDR + 100);

	/* A buffer of two descriptors, num_buffers split between them. */
	memset(t->drv.mem + RX_GPA + 0x20000, FILL, 0x3000);
	h = add_chain(&t->drv, RXQ,
		      (struct seg[]){{RX_GPA + 0x20000, 11, true}, {RX_GPA + 0x21000, 2000, true}},
		      2);
	host_send(t, s, HDR + 488);
	assert_false(rx(t));
	assert_int_equal(used_idx(&t->drv, RXQ), 4);
	assert_used(&t->drv, RXQ, 3, h, HDR + 488);
	expect_rx(s, 1);
	assert_memory_equal(t->drv.mem + RX_GPA + 0x20000, s, 11);
	assert_memory_equal(t->drv.mem + RX_GPA + 0x21000, s + 11, HDR + 488 - 11);
	assert_int_equal(t->drv.mem[RX_GPA + 0x20000 + 11], FILL);

	assert_int_equal(t->net->stats.rx_packets, 3);
	assert_int_equal(t->net->stats.rx_bytes, 1500 + 100 + 488);
	assert_int_equal(t->net->stats.rx_dropped, 1);
	assert_int_equal(r32(&t->drv, STATUS), S_RUNNING);
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

		assert_used(&t->drv, RXQ, (uint16_t)(at + i), (uint16_t)(first + i), n);
		assert_memory_equal(t->drv.mem + gpa + i * stride, pkt + off, n);
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
	assert_int_equal(used_idx(&t->drv, RXQ), 7);
	expect_rx(p, 6);
	assert_spread(t, 0, first, p, len, 1536, RX_GPA, 0x800);
	assert_used(&t->drv, RXQ, 5, first + 5, len - 5 * 1536);
	assert_int_equal(t->drv.mem[RX_GPA + 5 * 0x800 + len - 5 * 1536], FILL);
	expect_rx(q, 1);
	assert_used(&t->drv, RXQ, 6, first + 6, small);
	assert_memory_equal(t->drv.mem + RX_GPA + 6 * 0x800, q, small);
	assert_int_equal(t->drv.mem[RX_GPA + 7 * 0x800], FILL); /* untouched */
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
	assert_int_equal(used_idx(&t->drv, RXQ), VIRTIO_NET_MAX_RX_BUFS + 1);
	for (uint16_t i = 0; i < VIRTIO_NET_MAX_RX_BUFS; i++)
		assert_used(&t->drv, RXQ, i, first + i, 0);
	expect_rx(q, 1);
	assert_used(&t->drv, RXQ, VIRTIO_NET_MAX_RX_BUFS, first + VIRTIO_NET_MAX_RX_BUFS,
		    HDR + 100);
	assert_memory_equal(t->drv.mem + RX_GPA + 0x200 * VIRTIO_NET_MAX_RX_BUFS, q, HDR + 100);
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
	assert_int_equal(used_idx(&t->drv, RXQ), VIRTIO_NET_MAX_RX_BUFS);
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
	assert_int_equal(used_idx(&t->drv, RXQ), 0);
	assert_int_equal(t->net->mmio.vq[RXQ].last_avail, 0);
	/* Kick me when you add past the three it has seen (and gave back):
	 * avail_event = 3, or the driver's next add (avail idx 3 -> 4)
	 * sends no kick (vring_need_event). */
	assert_int_equal(ram16(&t->drv, avail_event), 3);
	assert_int_equal(t->irqs, 0);
	assert_int_equal(t->net->stats.rx_packets + t->net->stats.rx_dropped, 0);
	/* Again without new buffers: still waiting, still nothing. */
	assert_true(rx(t));
	assert_int_equal(used_idx(&t->drv, RXQ), 0);
	assert_int_equal(t->net->mmio.vq[RXQ].last_avail, 0);

	add_rx_bufs(t, 3, 1536, RX_GPA + 3 * 0x800, 0x800);
	assert_false(rx(t));
	assert_int_equal(used_idx(&t->drv, RXQ), 6);
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
	assert_int_equal(used_idx(&t->drv, RXQ), 7);
	assert_used(&t->drv, RXQ, 6, 6, HDR + 60);
	assert_int_equal(t->net->mmio.vq[RXQ].last_avail, 7);
	assert_int_equal(ram16(&t->drv, avail_event), 10);
	add_rx_bufs(t, 3, 1536, RX_GPA + 4 * 0x800, 0x800); /* heads 10..12 */
	assert_false(rx(t));
	assert_int_equal(used_idx(&t->drv, RXQ), 13);
	expect_rx(p, 6);
	assert_spread(t, 7, 7, p, len, 1536, RX_GPA + 0x800, 0x800);
	assert_int_equal(t->net->stats.rx_packets, 3);
	assert_int_equal(r32(&t->drv, STATUS), S_RUNNING);
	free(p);
	free(q);
	t_free(t);
}

/* A hostile driver moves its avail index back over the buffers a starved
 * packet gave back: nothing to pop, nothing more to wait for; the device
 * must not spin. Buffers added past them again get the packet. */
static void test_rx_starved_index_moved_back(void **state)
{
	struct t *t = t_running(F_NET, 16);
	uint32_t len = HDR + 9000;
	uint8_t *p = make_packet(len, 24);

	add_rx_bufs(t, 3, 1536, RX_GPA, 0x800);
	host_send(t, p, len);
	assert_true(rx(t));
	assert_int_equal(t->net->mmio.vq[RXQ].returned, 3);
	t->drv.q[RXQ].avail_idx = 1;
	put16(&t->drv, RXQ_AVAIL + 2, 1);
	assert_true(rx(t));
	assert_int_equal(used_idx(&t->drv, RXQ), 0);
	t->drv.q[RXQ].avail_idx = 3;
	put16(&t->drv, RXQ_AVAIL + 2, 3);
	add_rx_bufs(t, 3, 1536, RX_GPA + 3 * 0x800, 0x800);
	assert_false(rx(t));
	assert_int_equal(used_idx(&t->drv, RXQ), 6);
	assert_int_equal(t->net->stats.rx_packets, 1);
	free(p);
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
		if (t->drv.mem[i])
			fail_msg("RAM written at 0x%zx before DRIVER_OK", i);
	assert_int_equal(driver_init(t, F_NET, 16), S_RUNNING);
	add_rx_bufs(t, 4, 1536, RX_GPA, 0x800);
	assert_false(rx(t));
	assert_int_equal(used_idx(&t->drv, RXQ), 1);
	expect_rx(p, 1);
	assert_memory_equal(t->drv.mem + RX_GPA, p, HDR + 200);

	/* Nothing to read: false, nothing used, nothing dropped. */
	assert_false(rx(t));
	assert_false(rx(t));
	assert_int_equal(used_idx(&t->drv, RXQ), 1);
	assert_int_equal(t->net->stats.rx_dropped, 0);

	/* A runt and an empty datagram are dropped; the packet after them
	 * lands in the next buffer. */
	memset(runt, 0x11, sizeof(runt));
	host_send(t, runt, sizeof(runt));
	host_send(t, runt, 0);
	host_send(t, p, HDR + 200);
	assert_false(rx(t));
	assert_int_equal(t->net->stats.rx_dropped, 2);
	assert_int_equal(used_idx(&t->drv, RXQ), 2);
	assert_used(&t->drv, RXQ, 1, 1, HDR + 200);
	assert_memory_equal(t->drv.mem + RX_GPA + 0x800, p, HDR + 200);
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
		assert_int_equal(used_idx(&t->drv, RXQ), 0);

		w32(&t->drv, STATUS, 0);
		assert_int_equal(r32(&t->drv, STATUS), 0);
		/* Nothing may move while the device is reset. */
		assert_true(rx(t));
		assert_int_equal(used_idx(&t->drv, RXQ), 0);
		assert_int_equal(t->net->stats.rx_packets, 0);

		assert_int_equal(driver_init(t, features, 16), S_RUNNING);
		t->drv.q[RXQ].next_desc = 8;
		add_rx_bufs(t, 8, 1536, RX_GPA + 0x10000, 0x800);
		host_send(t, qe, HDR + 200);
		assert_false(rx(t));
		if (mrg) {
			assert_int_equal(used_idx(&t->drv, RXQ), 7);
			expect_rx(pe, 6);
			assert_spread(t, 0, 8, pe, len, 1536, RX_GPA + 0x10000, 0x800);
			assert_used(&t->drv, RXQ, 6, 14, HDR + 200);
			assert_int_equal(t->net->stats.rx_packets, 2);
			assert_int_equal(t->net->stats.rx_dropped, 0);
		} else {
			assert_int_equal(used_idx(&t->drv, RXQ), 2);
			assert_used(&t->drv, RXQ, 0, 8, 0);
			assert_used(&t->drv, RXQ, 1, 9, HDR + 200);
			assert_int_equal(t->net->stats.rx_packets, 1);
			assert_int_equal(t->net->stats.rx_dropped, 1);
		}
		expect_rx(qe, 1);
		assert_memory_equal(t->drv.mem + RX_GPA + 0x10000 + (mrg ? 6 : 1) * 0x800, qe,
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

	memset(t->drv.mem + RX_GPA, FILL, 0x8000);
	/* Readable only. */
	h[0] = add_chain(&t->drv, RXQ, (struct seg[]){{RX_GPA, 1536, false}}, 1);
	/* Writable but shorter than the header. */
	h[1] = add_chain(&t->drv, RXQ, (struct seg[]){{RX_GPA + 0x1000, HDR - 1, true}}, 1);
	/* Readable then writable. */
	h[2] = add_chain(
	    &t->drv, RXQ,
	    (struct seg[]){{RX_GPA + 0x2000, 16, false}, {RX_GPA + 0x3000, 1536, true}}, 2);
	/* A real one. */
	h[3] = add_chain(&t->drv, RXQ, (struct seg[]){{RX_GPA + 0x4000, 1536, true}}, 1);
	/* A real one in an indirect table, the header split over two. */
	h[4] = add_indirect(
	    &t->drv, RXQ, TABLE_GPA,
	    (struct seg[]){{RX_GPA + 0x5000, 6, true}, {RX_GPA + 0x6000, 1530, true}}, 2);

	host_send(t, p, HDR + 300);
	host_send(t, q, HDR + 40);
	assert_false(rx(t));
	assert_int_equal(used_idx(&t->drv, RXQ), 5);
	assert_used(&t->drv, RXQ, 0, h[0], 0);
	assert_used(&t->drv, RXQ, 1, h[1], 0);
	assert_used(&t->drv, RXQ, 2, h[2], 0);
	assert_used(&t->drv, RXQ, 3, h[3], HDR + 300);
	assert_used(&t->drv, RXQ, 4, h[4], HDR + 40);
	expect_rx(p, 1);
	assert_memory_equal(t->drv.mem + RX_GPA + 0x4000, p, HDR + 300);
	expect_rx(q, 1);
	assert_memory_equal(t->drv.mem + RX_GPA + 0x5000, q, 6);
	assert_memory_equal(t->drv.mem + RX_GPA + 0x6000, q + 6, HDR + 40 - 6);
	/* The chains that were refused were not written. */
	for (unsigned int i = 0; i < 0x4000; i++)
		assert_int_equal(t->drv.mem[RX_GPA + i], FILL);
	assert_int_equal(t->net->stats.rx_packets, 2);
	assert_int_equal(t->net->stats.rx_dropped, 0);
	assert_int_equal(r32(&t->drv, STATUS), S_RUNNING);
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
	put_desc(&t->drv, RXQ_DESC, 0, RX_GPA, 64, 0, 0);
	publish(&t->drv, RXQ, 0);
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
	assert_int_equal(used_idx(&t->drv, RXQ), HOSTILE_CHAINS);
	for (uint16_t i = 0; i < 16; i++)
		assert_used(&t->drv, RXQ, i, 0, 0);
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
	w32(&t->drv, STATUS, 0);
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
	assert_int_equal(used_idx(&t->drv, RXQ), 0);

	add_rx_bufs(t, 8, 1536, RX_GPA + 0x10000, 0x800);
	assert_false(rx(t));
	assert_int_equal(used_idx(&t->drv, RXQ), 6);
	expect_rx(p, 6);
	assert_spread(t, 0, 0, p, len, 1536, RX_GPA + 0x10000, 0x800);
	assert_int_equal(r32(&t->drv, STATUS), S_RUNNING);
	free(p);
	t_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_negotiation),	     cmocka_unit_test(test_tx),
	    cmocka_unit_test(test_tx_batches),	     cmocka_unit_test(test_rx_single),
	    cmocka_unit_test(test_rx_mergeable),     cmocka_unit_test(test_rx_too_many_buffers),
	    cmocka_unit_test(test_rx_starved),
	    cmocka_unit_test(test_rx_starved_index_moved_back),	     cmocka_unit_test(test_rx_idle),
	    cmocka_unit_test(test_reset_mid_packet), cmocka_unit_test(test_rx_hostile_buffers),
	    cmocka_unit_test(test_rx_hostile_flood), cmocka_unit_test(test_rx_reset_between_pops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
