/* Unit tests of virtio-net's negotiation and transmit path (byte-exact
 * datagrams, malformed chains dropped but returned), over the fixture of
 * virtio_net_fixture.h. */
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
		assert_int_equal(r8(&t->drv, CONFIG + i), net_test_mac[i]);
	memcpy(&v, net_test_mac, 4);
	assert_int_equal(r32(&t->drv, CONFIG), v);
	assert_int_equal(r32(&t->drv, CONFIG + 4), net_test_mac[4] | net_test_mac[5] << 8);
	/* Past the 8 bytes of config, or straddling their end: zeros. */
	assert_int_equal(r32(&t->drv, CONFIG + 8), 0);
	assert_int_equal(r32(&t->drv, CONFIG + 0x100 - 4), 0);
	assert_int_equal(r32(&t->drv, CONFIG + 6), 0);
	/* No writable config: the MAC stays. */
	w32(&t->drv, CONFIG, 0);
	assert_int_equal(r8(&t->drv, CONFIG), net_test_mac[0]);

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_negotiation),
	    cmocka_unit_test(test_tx),
	    cmocka_unit_test(test_tx_batches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
