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
#include "fuzz_ram.h"

#define RAM_SIZE (256 * 1024)
#define WINDOW	 VIRTIO_MMIO_WINDOW
#define HDR	 VIRTIO_NET_HDR_LEN

/* Guest RAM areas of the well-formed operations. */
#define TABLES	0x1f000 /* 16 indirect tables of 16 entries */
#define RX_AREA 0x20000 /* receive buffers, 16 slots of 4 KiB */
#define TX_AREA 0x30000 /* transmit frames */
#define TX_ROOM 0x10000

#define REG_QUEUE_SEL	     0x030
#define REG_QUEUE_NUM	     0x038
#define REG_QUEUE_READY	     0x044
#define REG_STATUS	     0x070
#define REG_DEV_FEATURES     0x010
#define REG_DEV_FEATURES_SEL 0x014
#define REG_DRV_FEATURES     0x020
#define REG_DRV_FEATURES_SEL 0x024
#define REG_QUEUE_DESC	     0x080
#define REG_QUEUE_DRIVER     0x090
#define REG_QUEUE_DEVICE     0x0a0

#define S_DRIVER_OK   4
#define S_NEEDS_RESET 0x40
#define INT_CONFIG    2

static struct fuzz_ram fram;
static uint8_t *mem;
static uint8_t *packet; /* a datagram to inject, or one drained */
static struct virtio_net *net;
static int host_fd = -1;
static unsigned int irqs;
static uint16_t next_desc[2];
static unsigned int next_rx, next_table;

static void on_irq(void *opaque)
{
	irqs++;
}

static void once(void)
{
	fuzz_ram_init(&fram, RAM_SIZE);
	mem = fram.mem;
	packet = malloc(VIRTIO_NET_MAX_FRAME + 64);
	net = malloc(sizeof(*net));
	if (packet == NULL || net == NULL)
		abort();
}

static void w32(uint64_t off, uint32_t val)
{
	uint8_t b[4];

	memcpy(b, &val, 4);
	virtio_mmio_write(&net->mmio, off, b, 4);
}

static uint32_t r32(uint64_t off)
{
	uint8_t b[4];
	uint32_t v;

	virtio_mmio_read(&net->mmio, off, b, 4);
	memcpy(&v, b, 4);
	return v;
}

static uint32_t status(void)
{
	return net->mmio.status;
}

/* Whether queue @q may complete anything at all. */
static bool running(unsigned int q)
{
	return (status() & S_DRIVER_OK) && !(status() & S_NEEDS_RESET) && net->mmio.vq[q].ready;
}

static void *drv_ptr(uint64_t gpa, uint64_t len)
{
	return guest_ram_ptr(&fram.ram, gpa, len);
}

static uint16_t qsize(unsigned int q)
{
	return net->mmio.vq[q].size;
}

/* The driver's view of queue @q: what it programmed, valid or not. */
static void put_desc(unsigned int q, uint16_t idx, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	struct virtq_desc d = {addr, len, flags, next};
	void *p;

	if (qsize(q) == 0)
		return;
	p = drv_ptr(net->mmio.vq[q].desc_gpa + 16 * (uint64_t)(idx % qsize(q)), 16);
	if (p != NULL)
		memcpy(p, &d, sizeof(d));
}

static void offer(unsigned int q, uint16_t head)
{
	uint64_t avail = net->mmio.vq[q].avail_gpa;
	uint8_t *idx = drv_ptr(avail + 2, 2);
	uint16_t i;
	uint8_t *slot;

	if (qsize(q) == 0 || idx == NULL)
		return;
	memcpy(&i, idx, 2);
	slot = drv_ptr(avail + 4 + 2 * (uint64_t)(i % qsize(q)), 2);
	if (slot != NULL)
		memcpy(slot, &head, 2);
	i++;
	memcpy(idx, &i, 2);
}

/* Lay @n buffers (direct, or in an indirect table) out on queue @q and
 * offer them. */
static void add_chain(unsigned int q, const struct virtq_desc *d, unsigned int n, bool indirect)
{
	uint16_t head;

	if (qsize(q) == 0)
		return;
	head = next_desc[q] % qsize(q);
	if (indirect) {
		uint64_t table = TABLES + 0x100 * (uint64_t)(next_table++ % 16);

		for (unsigned int i = 0; i < n; i++) {
			struct virtq_desc e = d[i];

			e.flags |= i + 1 < n ? 1 : 0;
			e.next = (uint16_t)(i + 1);
			memcpy(mem + table + 16 * i, &e, sizeof(e));
		}
		put_desc(q, head, table, 16 * n, 4, 0);
		next_desc[q] = (uint16_t)((head + 1) % qsize(q));
	} else {
		for (unsigned int i = 0; i < n; i++) {
			uint16_t at = (uint16_t)((head + i) % qsize(q));

			put_desc(q, at, d[i].addr, d[i].len, d[i].flags | (i + 1 < n ? 1 : 0),
				 (uint16_t)((at + 1) % qsize(q)));
		}
		next_desc[q] = (uint16_t)((head + n) % qsize(q));
	}
	offer(q, head);
}

/* Linux's vm_probe ... virtnet_probe ... DRIVER_OK, with features and a
 * queue size from the input; the two queues' rings side by side at @at. */
static void setup(uint8_t feat, uint8_t qsz, uint8_t at)
{
	static const uint64_t bits[] = {
	    VIRTIO_FEATURE_INDIRECT_DESC,
	    VIRTIO_FEATURE_EVENT_IDX,
	    VIRTIO_FEATURE(VIRTIO_NET_F_MRG_RXBUF),
	    VIRTIO_FEATURE(VIRTIO_NET_F_CSUM),
	    VIRTIO_FEATURE(VIRTIO_NET_F_HOST_TSO4),
	    VIRTIO_FEATURE(VIRTIO_NET_F_MAC),
	    VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_CSUM), /* not offered here */
	    VIRTIO_FEATURE(VIRTIO_NET_F_CTRL_VQ),    /* never offered */
	};
	uint64_t features = VIRTIO_FEATURE_VERSION_1;
	uint16_t n = (uint16_t)(1u << (qsz % 9)); /* 1 .. 256 */

	for (unsigned int i = 0; i < 8; i++)
		if (feat & (1u << i))
			features |= bits[i];
	w32(REG_STATUS, 0);
	w32(REG_STATUS, 1);
	w32(REG_STATUS, 3);
	w32(REG_DEV_FEATURES_SEL, 1);
	r32(REG_DEV_FEATURES);
	w32(REG_DEV_FEATURES_SEL, 0);
	r32(REG_DEV_FEATURES);
	w32(REG_DRV_FEATURES_SEL, 1);
	w32(REG_DRV_FEATURES, (uint32_t)(features >> 32));
	w32(REG_DRV_FEATURES_SEL, 0);
	w32(REG_DRV_FEATURES, (uint32_t)features);
	w32(REG_STATUS, 0xb);
	if (!(r32(REG_STATUS) & 8))
		return;
	for (unsigned int q = 0; q < 2; q++) {
		uint64_t desc = (uint64_t)at * 0x400 + 0x2000 * q; /* may run past RAM */
		uint64_t avail = desc + 16 * (uint64_t)n;
		uint64_t used = (avail + 6 + 2 * (uint64_t)n + 3) & ~3ULL;

		if (drv_ptr(desc, used + 6 + 8 * (uint64_t)n - desc) != NULL)
			memset(mem + desc, 0, used + 6 + 8 * n - desc);
		w32(REG_QUEUE_SEL, q);
		r32(REG_QUEUE_READY);
		w32(REG_QUEUE_NUM, n);
		w32(REG_QUEUE_DESC, (uint32_t)desc);
		w32(REG_QUEUE_DESC + 4, (uint32_t)(desc >> 32));
		w32(REG_QUEUE_DRIVER, (uint32_t)avail);
		w32(REG_QUEUE_DRIVER + 4, (uint32_t)(avail >> 32));
		w32(REG_QUEUE_DEVICE, (uint32_t)used);
		w32(REG_QUEUE_DEVICE + 4, (uint32_t)(used >> 32));
		w32(REG_QUEUE_READY, 1);
		next_desc[q] = 0;
	}
	w32(REG_STATUS, 0xf);
}

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
	memset(mem + TX_AREA, 0, HDR);
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
	bool idle[2] = {!running(VIRTIO_NET_RXQ), !running(VIRTIO_NET_TXQ)};
	uint16_t used[2] = {net->mmio.vq[0].used_idx, net->mmio.vq[1].used_idx};
	struct virtio_net_stats st = net->stats;
	unsigned int irqs_before = irqs;

	if (idle[0] && idle[1])
		fuzz_ram_save(&fram);
	if (do_rx)
		virtio_net_rx(net);
	if (do_tx)
		virtio_net_tx(net);
	if (!idle[0] || !idle[1])
		fuzz_ram_may_change(&fram);
	if (net->rx_len > VIRTIO_NET_MAX_FRAME)
		abort();
	if (idle[0] &&
	    (used[0] != net->mmio.vq[0].used_idx || st.rx_packets != net->stats.rx_packets))
		abort();
	if (idle[1] &&
	    (used[1] != net->mmio.vq[1].used_idx ||
	     st.tx_packets + st.tx_dropped != net->stats.tx_packets + net->stats.tx_dropped))
		abort();
	if (idle[0] && idle[1] && (irqs != irqs_before || fuzz_ram_changed(&fram)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
	struct fuzz_in in = {data, size};
	int sv[2];

	if (mem == NULL)
		once();
	/* Every input starts from zeroed RAM and an empty socket pair. */
	fuzz_ram_zero(&fram);
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	host_fd = sv[1];
	if (virtio_net_init(net, sv[0], mac, &fram.ram) < 0)
		abort();
	net->mmio.interrupt = on_irq;
	irqs = 0;
	next_desc[0] = next_desc[1] = 0;
	next_rx = next_table = 0;

	while (fuzz_left(&in)) {
		unsigned int op = (unsigned int)fuzz_uint(&in, 1) % 16;
		uint32_t st = status(), gen = net->mmio.generation;
		unsigned int irqs_before = irqs;
		bool self_broken = false; /* the driver wrote NEEDS_RESET itself */

		if (op != 6 && op != 7 && op != 15) /* all but serve() may write RAM */
			fuzz_ram_may_change(&fram);
		switch (op) {
		case 0: {
			uint64_t off = fuzz_uint(&in, 1) * 4 % WINDOW;
			uint32_t val = (uint32_t)fuzz_uint(&in, 4);

			w32(off, val);
			self_broken = off == REG_STATUS && (val & S_NEEDS_RESET);
			break;
		}
		case 1:
			r32(fuzz_uint(&in, 1) * 4 % WINDOW);
			break;
		case 2: {
			uint64_t off = fuzz_uint(&in, 2) % (2 * WINDOW);
			unsigned int how = (unsigned int)fuzz_uint(&in, 1);
			uint64_t val = fuzz_uint(&in, 8);
			unsigned int n = 1u << (how & 3);
			uint8_t b[8];

			memcpy(b, &val, 8);
			if (how & 4) {
				virtio_mmio_write(&net->mmio, off, b, n);
				self_broken = off == REG_STATUS && (val & S_NEEDS_RESET);
			} else {
				virtio_mmio_read(&net->mmio, off, b, n);
			}
			break;
		}
		case 3: {
			uint64_t gpa = fuzz_uint(&in, 3) % RAM_SIZE;
			size_t len = (size_t)fuzz_uint(&in, 1), got;
			const uint8_t *p;

			if (len > RAM_SIZE - gpa)
				len = RAM_SIZE - gpa;
			p = fuzz_bytes(&in, len, &got);
			memcpy(mem + gpa, p, got);
			break;
		}
		case 4:
			inject(&in);
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
			unsigned int fl = (unsigned int)fuzz_uint(&in, 1);
			uint16_t idx = (uint16_t)fuzz_uint(&in, 1);
			uint64_t addr = fuzz_uint(&in, 8);
			uint32_t len = (uint32_t)fuzz_uint(&in, 4);
			uint16_t next = (uint16_t)fuzz_uint(&in, 2);

			if (!(fl & 0x40))
				addr %= RAM_SIZE;
			put_desc(fl >> 7, idx, addr, len, fl & 7, next);
			break;
		}
		case 9: {
			unsigned int q = (unsigned int)fuzz_uint(&in, 1) & 1;

			offer(q, (uint16_t)fuzz_uint(&in, 2));
			break;
		}
		case 10: {
			uint8_t feat = (uint8_t)fuzz_uint(&in, 1), qsz = (uint8_t)fuzz_uint(&in, 1);

			setup(feat, qsz, (uint8_t)fuzz_uint(&in, 1));
			break;
		}
		case 11: {
			uint8_t n = (uint8_t)fuzz_uint(&in, 1);
			uint16_t sz = (uint16_t)fuzz_uint(&in, 2);

			rx_bufs(n, sz, (uint8_t)fuzz_uint(&in, 1));
			break;
		}
		case 12: {
			uint16_t len = (uint16_t)fuzz_uint(&in, 2);
			uint8_t nseg = (uint8_t)fuzz_uint(&in, 1);

			tx_packet(len, nseg, (uint8_t)fuzz_uint(&in, 1));
			break;
		}
		case 13: {
			unsigned int which = (unsigned int)fuzz_uint(&in, 1), q = (which >> 1) & 1;
			uint16_t val = (uint16_t)fuzz_uint(&in, 2);
			uint64_t gpa =
			    net->mmio.vq[q].avail_gpa + ((which & 1) ? 4 + 2 * qsize(q) : 0);
			void *p = drv_ptr(gpa, 2);

			if (p != NULL)
				memcpy(p, &val, 2);
			break;
		}
		case 14:
			w32(REG_STATUS, 0);
			break;
		default:
			serve(true, true);
			break;
		}
		/* NEEDS_RESET: cleared only by a reset, and set with a config
		 * interrupt unless the driver wrote the bit itself. */
		if ((st & S_NEEDS_RESET) && !(status() & S_NEEDS_RESET) &&
		    net->mmio.generation == gen)
			abort();
		if (!(st & S_NEEDS_RESET) && (status() & S_NEEDS_RESET) && !self_broken &&
		    (irqs == irqs_before ||
		     !(atomic_load(&net->mmio.interrupt_status) & INT_CONFIG)))
			abort();
		if (irqs != irqs_before && atomic_load(&net->mmio.interrupt_status) == 0)
			abort();
	}
	drain();
	virtio_net_destroy(net);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
