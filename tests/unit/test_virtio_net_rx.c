/* Unit tests of virtio-net's receive path over the fixture of
 * virtio_net_fixture.h: with and without MRG_RXBUF, a ring that runs out
 * mid-packet, a reset with a packet pending, and receive buffers a hostile
 * driver hands over, some between two of the device's pops. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/virtio_ids.h>

#include "virtio_net_fixture.h"

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
	    cmocka_unit_test(test_rx_single),
	    cmocka_unit_test(test_rx_mergeable),
	    cmocka_unit_test(test_rx_too_many_buffers),
	    cmocka_unit_test(test_rx_starved),
	    cmocka_unit_test(test_rx_starved_index_moved_back),
	    cmocka_unit_test(test_rx_idle),
	    cmocka_unit_test(test_reset_mid_packet),
	    cmocka_unit_test(test_rx_hostile_buffers),
	    cmocka_unit_test(test_rx_hostile_flood),
	    cmocka_unit_test(test_rx_reset_between_pops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
