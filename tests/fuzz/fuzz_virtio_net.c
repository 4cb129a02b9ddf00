/*
 * libFuzzer harness of virtio-net over the virtio-mmio transport: the input
 * is a guest driver that may do anything and a host that sends any
 * datagram. The device's "TAP" is one end of a datagram socketpair (made
 * anew for every input); the harness holds the other end. Guest RAM is
 * 256 KiB between guard pages (fuzz_ram.h), so that any access past it
 * faults.
 *
 * Input: operations, each an opcode byte and its operands (little endian):
 *   0 W32    reg(1) val(4)        32-bit register write at reg * 4
 *   1 R32    reg(1)               32-bit register read at reg * 4
 *   2 ACCESS off(2) how(1) val(8) any size (1/2/4/8) at any offset < 0x400,
 *                                 a write if how & 4
 *   3 RAM    gpa(3) len(1) bytes  raw bytes into guest RAM
 *   4 INJECT len(3) n(2) bytes    a datagram from the host of len % (MAX_FRAME
 *                                 + 17) bytes: n % 2049 from the input, zeros
 *   5 DRAIN                       read what the device sent
 *   6 RX                          virtio_net_rx
 *   7 TX                          virtio_net_tx
 *   8 DESC   fl(1) idx(1) addr(8) len(4) next(2)
 *                                 a descriptor of queue fl >> 7 (fl & 7 its
 *                                 flags; addr modulo RAM unless fl & 0x40)
 *   9 AVAIL  q(1) head(2)         offer a chain (ring entry, then idx + 1)
 *  10 SETUP  feat(1) qsz(1) at(1) Linux's probe and both queues' set-up
 *  11 RXBUF  n(1) size(2) fl(1)   well-formed receive buffers (fl & 1: in
 *                                 indirect tables, fl & 2: one of MAX_FRAME)
 *  12 TXPKT  len(2) nseg(1) fl(1) a well-formed transmit chain (fl & 1:
 *                                 indirect)
 *  13 RING   which(1) val(2)      a queue's avail flags or used_event
 *  14 RESET                       status 0
 *  15 RX and TX
 * Checked: no crash or sanitizer report; every datagram the device sends is
 * a header at least and at most VIRTIO_NET_MAX_FRAME; a device that is not
 * running (no DRIVER_OK, queue not ready, or NEEDS_RESET) completes
 * nothing, writes nothing into guest RAM and sends nothing; NEEDS_RESET is
 * cleared only by a reset and comes with a config interrupt.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/virtio_net.h>

#include "devices/virtio_net.h"
#include "fuzz_input.h"
#include "virtio_fuzz_driver.h"

#define RAM_SIZE (256 * 1024)
#define HDR	 VIRTIO_NET_HDR_LEN

/* Guest RAM areas of the well-formed operations. */
#define TABLES	0x1f000 /* 16 indirect tables of 16 entries */
#define RX_AREA 0x20000 /* receive buffers, 16 slots of 4 KiB */
#define TX_AREA 0x30000 /* transmit frames */
#define TX_ROOM 0x10000

static struct fuzz_driver drv;
static uint8_t *packet; /* a datagram to inject, or one drained */
static struct virtio_net *net;
static int host_fd = -1;
static unsigned int next_rx, next_table;

static void once(void)
{
	fuzz_driver_init(&drv, RAM_SIZE);
	packet = malloc(VIRTIO_NET_MAX_FRAME + 64);
	net = malloc(sizeof(*net));
	if (packet == NULL || net == NULL)
		abort();
}

/* Lay @n buffers (direct, or in an indirect table) out on queue @q and
 * offer them. */
static void add_chain(unsigned int q, const struct virtq_desc *d, unsigned int n, bool indirect)
{
	uint64_t table = 0; /* direct */

	/* A chain that is not laid out (no queue size) takes no table. */
	if (indirect && fuzz_driver_qsize(&drv, q) != 0)
		table = TABLES + 0x100 * (uint64_t)(next_table++ % 16);
	fuzz_driver_add_chain(&drv, q, d, n, table);
}

/* What SETUP's feature bits 2 to 7 ask for. */
static const uint64_t net_features[6] = {
    VIRTIO_FEATURE(VIRTIO_NET_F_MRG_RXBUF),  VIRTIO_FEATURE(VIRTIO_NET_F_CSUM),
    VIRTIO_FEATURE(VIRTIO_NET_F_HOST_TSO4),  VIRTIO_FEATURE(VIRTIO_NET_F_MAC),
    VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_CSUM), /* not offered here */
    VIRTIO_FEATURE(VIRTIO_NET_F_CTRL_VQ),    /* never offered */
};

/* @n receive buffers of @size in the 16 slots of RX_AREA (the header split
 * over two buffers when indirect), or one of MAX_FRAME. */
static void rx_bufs(uint8_t n, uint16_t size, uint8_t fl)
{
	if (fl & 2) {
		struct virtq_desc d = {RX_AREA, VIRTIO_NET_MAX_FRAME, 2, 0};

		add_chain(VIRTIO_NET_RXQ, &d, 1, false);
		return;
	}
	size %= 0x1001;
	for (unsigned int i = 0; i < 1u + n % 16; i++) {
		uint64_t gpa = RX_AREA + 0x1000 * (uint64_t)(next_rx++ % 16);
		struct virtq_desc d[2] = {{gpa, size, 2, 0}, {0, 0, 2, 0}};

		if ((fl & 1) && size > 6) {
			d[0].len = 6;
			d[1] = (struct virtq_desc){gpa + 6, size - 6u, 2, 0};
			add_chain(VIRTIO_NET_RXQ, d, 2, true);
		} else {
			add_chain(VIRTIO_NET_RXQ, d, 1, false);
		}
	}
}

/* A frame of @len after a plain header (no offloads), in @nseg pieces. */
static void tx_packet(uint16_t len, uint8_t nseg, uint8_t fl)
{
	struct virtq_desc d[8];
	uint32_t total = HDR + (uint32_t)len, off = 0;
	unsigned int n = 1 + nseg % 8;

	if (total > TX_ROOM)
		total = TX_ROOM;
	memset(drv.fram.mem + TX_AREA, 0, HDR);
	for (unsigned int i = 0; i < n; i++) {
		uint32_t piece = i + 1 < n ? total / n : total - off;

		d[i] = (struct virtq_desc){TX_AREA + off, piece, 0, 0};
		off += piece;
	}
	add_chain(VIRTIO_NET_TXQ, d, n, fl & 1);
}

static void inject(struct fuzz_in *in)
{
	size_t len = (size_t)(fuzz_uint(in, 3) % (VIRTIO_NET_MAX_FRAME + 17));
	size_t want = (size_t)(fuzz_uint(in, 2) % 2049), got;
	const uint8_t *p = fuzz_bytes(in, want < len ? want : len, &got);

	memcpy(packet, p, got);
	memset(packet + got, 0, len - got);
	/* The send buffer may be full: the host drops it, as a TAP would. */
	(void)send(host_fd, packet, len, MSG_DONTWAIT);
}

static void drain(void)
{
	for (;;) {
		ssize_t r =
		    recv(host_fd, packet, VIRTIO_NET_MAX_FRAME + 64, MSG_TRUNC | MSG_DONTWAIT);

		if (r < 0) {
			if (errno == EAGAIN)
				return;
			abort();
		}
		if (r < HDR || r > VIRTIO_NET_MAX_FRAME)
			abort();
	}
}

/* RX or TX. Queue @q not running: nothing used, nothing written into RAM,
 * nothing sent or counted as delivered, no interrupt. */
static void serve(bool do_rx, bool do_tx)
{
	bool idle[2] = {!fuzz_driver_running(&drv, VIRTIO_NET_RXQ),
			!fuzz_driver_running(&drv, VIRTIO_NET_TXQ)};
	uint16_t used[2] = {net->mmio.vq[0].used_idx, net->mmio.vq[1].used_idx};
	struct virtio_net_stats st = net->stats;
	unsigned int irqs_before = drv.irqs;

	if (idle[0] && idle[1])
		fuzz_ram_save(&drv.fram);
	else
		fuzz_ram_may_change(&drv.fram);
	if (do_rx)
		virtio_net_rx(net);
	if (do_tx)
		virtio_net_tx(net);
	if (net->rx_len > VIRTIO_NET_MAX_FRAME)
		abort();
	if (idle[0] &&
	    (used[0] != net->mmio.vq[0].used_idx || st.rx_packets != net->stats.rx_packets))
		abort();
	if (idle[1] &&
	    (used[1] != net->mmio.vq[1].used_idx ||
	     st.tx_packets + st.tx_dropped != net->stats.tx_packets + net->stats.tx_dropped))
		abort();
	if (idle[0] && idle[1]) {
		if (drv.irqs != irqs_before)
			abort();
		fuzz_ram_expect_unchanged(&drv.fram);
	}
}

/* Opcodes 4 to 15. */
static void net_op(unsigned int op, struct fuzz_in *in)
{
	if (op != 6 && op != 7 && op != 15) /* all but serve() may write RAM */
		fuzz_ram_may_change(&drv.fram);
	switch (op) {
	case 4:
		inject(in);
		break;
	case 5:
		drain();
		break;
	case 6:
		serve(true, false);
		break;
	case 7:
		serve(false, true);
		break;
	case 8: {
		unsigned int fl = (unsigned int)fuzz_uint(in, 1);
		uint16_t idx = (uint16_t)fuzz_uint(in, 1);
		uint64_t addr = fuzz_uint(in, 8);
		uint32_t len = (uint32_t)fuzz_uint(in, 4);
		uint16_t next = (uint16_t)fuzz_uint(in, 2);

		if (!(fl & 0x40))
			addr %= RAM_SIZE;
		fuzz_driver_put_desc(&drv, fl >> 7, idx, addr, len, fl & 7, next);
		break;
	}
	case 9: {
		unsigned int q = (unsigned int)fuzz_uint(in, 1) & 1;

		fuzz_driver_offer(&drv, q, (uint16_t)fuzz_uint(in, 2));
		break;
	}
	case 10:
		fuzz_driver_op_setup(&drv, net_features, in);
		break;
	case 11: {
		uint8_t n = (uint8_t)fuzz_uint(in, 1);
		uint16_t sz = (uint16_t)fuzz_uint(in, 2);

		rx_bufs(n, sz, (uint8_t)fuzz_uint(in, 1));
		break;
	}
	case 12: {
		uint16_t len = (uint16_t)fuzz_uint(in, 2);
		uint8_t nseg = (uint8_t)fuzz_uint(in, 1);

		tx_packet(len, nseg, (uint8_t)fuzz_uint(in, 1));
		break;
	}
	case 13: {
		unsigned int which = (unsigned int)fuzz_uint(in, 1);

		fuzz_driver_ring_word(&drv, (which >> 1) & 1, which, (uint16_t)fuzz_uint(in, 2));
		break;
	}
	case 14:
		mmio_w32(&net->mmio, REG_STATUS, 0);
		break;
	default:
		serve(true, true);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
	struct fuzz_in in = {data, size};
	int sv[2];

	if (net == NULL)
		once();
	/* Every input starts from zeroed RAM and an empty socket pair. */
	fuzz_ram_zero(&drv.fram);
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	host_fd = sv[1];
	if (virtio_net_init(net, sv[0], mac, &drv.fram.ram) < 0)
		abort();
	fuzz_driver_start(&drv, &net->mmio);
	next_rx = next_table = 0;

	while (fuzz_left(&in))
		fuzz_driver_step(&drv, &in, net_op);
	drain();
	fuzz_ram_check(&drv.fram);
	virtio_net_destroy(net);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
