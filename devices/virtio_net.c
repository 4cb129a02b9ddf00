/* virtio-net over a TAP: the receive and transmit paths of the device's I/O
 * thread and the offload negotiation. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "devices/virtio_net.h"

static void config_read(void *dev, uint64_t offset, uint8_t *data, unsigned int size)
{
	struct virtio_net *n = dev;

	if (offset < sizeof(n->config) && size <= sizeof(n->config) - offset)
		memcpy(data, n->config + offset, size);
}

/* What the TAP may hand the guest follows what the driver accepted. */
static int tap_offloads(uint64_t features)
{
	int flags = 0;

	if (features & VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_CSUM)) {
		flags |= TUN_F_CSUM;
		if (features & VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_TSO4))
			flags |= TUN_F_TSO4;
	}
	return flags;
}

static int activate(void *dev, uint64_t features)
{
	struct virtio_net *n = dev;

	n->mrg_rxbuf = features & VIRTIO_FEATURE(VIRTIO_NET_F_MRG_RXBUF);
	if (!n->can_offload)
		return 0; /* not a TAP that takes offloads: none were offered */
	if (ioctl(n->tap_fd, TUNSETOFFLOAD, (unsigned long)tap_offloads(features)) < 0)
		return -errno;
	return 0;
}

static const struct virtio_device_ops net_ops = {
    .device_id = 1,
    .nr_queues = 2,
    .config_read = config_read,
    .activate = activate,
};

int virtio_net_init(struct virtio_net *n, int tap_fd, const uint8_t mac[6],
		    const struct guest_ram *ram)
{
	uint64_t features = VIRTIO_FEATURE(VIRTIO_NET_F_MAC) | VIRTIO_FEATURE(VIRTIO_NET_F_CSUM) |
			    VIRTIO_FEATURE(VIRTIO_NET_F_HOST_TSO4) |
			    VIRTIO_FEATURE(VIRTIO_NET_F_MRG_RXBUF);

	memset(n, 0, sizeof(*n));
	n->tap_fd = tap_fd;
	memcpy(n->config, mac, 6);
	/* Offer receive offloads only if this TAP can do them. */
	if (ioctl(tap_fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)) == 0 &&
	    ioctl(tap_fd, TUNSETOFFLOAD, 0UL) == 0) {
		n->can_offload = true;
		features |= VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_CSUM) |
			    VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_TSO4);
	}
	return virtio_mmio_init(&n->mmio, &net_ops, n, features, ram);
}

void virtio_net_destroy(struct virtio_net *n)
{
	virtio_mmio_destroy(&n->mmio);
}

/* Hand back the receive buffers filled so far (whole packets only). */
static void rx_flush(struct virtio_net *n, uint32_t gen, unsigned int *done)
{
	if (*done)
		virtio_mmio_complete(&n->mmio, VIRTIO_NET_RXQ, gen, n->rx_used, *done);
	*done = 0;
}

/* Spread the pending packet over receive buffers, appending their used
 * entries at rx_used[*done]. Returns 1 if placed (or dropped), 0 if the
 * ring ran out first (the buffers taken are given back). */
static int rx_place(struct virtio_net *n, uint32_t *gen, unsigned int *done)
{
	unsigned int start = *done, bufs = 0;
	uint32_t off = 0;
	uint16_t nbufs;

	while (off < n->rx_len) {
		struct virtq_chain *c = bufs ? &n->rx_chain : &n->rx_first;
		uint32_t g;
		uint64_t put;

		if (bufs == VIRTIO_NET_MAX_RX_BUFS || (bufs && !n->mrg_rxbuf)) {
			/* Does not fit in what the driver may give: drop it. */
			n->stats.rx_dropped++;
			for (unsigned int i = start; i < *done; i++)
				n->rx_used[i].len = 0;
			return 1;
		}
		if (virtio_mmio_pop(&n->mmio, VIRTIO_NET_RXQ, c, 1, &g) == 0) {
			virtio_mmio_unpop(&n->mmio, VIRTIO_NET_RXQ, *gen, bufs);
			*done = start;
			return 0;
		}
		if (*done && g != *gen) { /* a reset: what was filled is void */
			*done = start = 0;
			bufs = 0;
			off = 0;
			if (c != &n->rx_first)
				n->rx_first = *c;
		}
		*gen = g;
		put = c->nr_out || c->in_len < (bufs ? 1 : VIRTIO_NET_HDR_LEN)
			  ? 0
			  : iov_write(c->in, c->nr_in, 0, n->rx_packet + off, n->rx_len - off);
		if (put == 0 && !bufs) {
			/* Not a receive buffer: give it back empty, try the next. */
			n->rx_used[(*done)++] = (struct virtq_used_elem){c->head, 0};
			start = *done;
			/* A driver may add such chains as fast as they are taken:
			 * hand them back before rx_used lacks room for a packet. */
			if (*done + VIRTIO_NET_MAX_RX_BUFS > VIRTQ_MAX_SIZE) {
				rx_flush(n, *gen, done);
				start = 0;
			}
			continue;
		}
		n->rx_used[(*done)++] = (struct virtq_used_elem){c->head, (uint32_t)put};
		off += (uint32_t)put;
		bufs++;
	}
	/* num_buffers, in the first buffer's header (1 without MRG_RXBUF). */
	nbufs = (uint16_t)bufs;
	iov_write(n->rx_first.in, n->rx_first.nr_in, 10, &nbufs, sizeof(nbufs));
	n->stats.rx_packets++;
	n->stats.rx_bytes += n->rx_len - VIRTIO_NET_HDR_LEN;
	return 1;
}

bool virtio_net_rx(struct virtio_net *n)
{
	unsigned int done = 0;
	uint32_t gen = 0;

	for (;;) {
		if (n->rx_len == 0) {
			ssize_t r = read(n->tap_fd, n->rx_packet, sizeof(n->rx_packet));

			if (r < 0 && errno == EINTR)
				continue;
			if (r < VIRTIO_NET_HDR_LEN) {
				/* EAGAIN: no packet now; anything else is a TAP error. */
				if (r >= 0 || errno != EAGAIN)
					n->stats.rx_dropped++;
				rx_flush(n, gen, &done);
				if (r >= 0)
					continue;
				return false;
			}
			n->rx_len = (uint32_t)r;
		}
		/* Room for the largest packet's buffers before placing one. */
		if (done + VIRTIO_NET_MAX_RX_BUFS > VIRTQ_MAX_SIZE)
			rx_flush(n, gen, &done);
		if (!rx_place(n, &gen, &done)) {
			rx_flush(n, gen, &done);
			if (virtio_mmio_enable_kicks(&n->mmio, VIRTIO_NET_RXQ))
				continue;
			return true;
		}
		n->rx_len = 0;
	}
}

void virtio_net_tx(struct virtio_net *n)
{
	for (;;) {
		uint32_t gen;
		int got =
		    virtio_mmio_pop(&n->mmio, VIRTIO_NET_TXQ, n->chains, VIRTIO_NET_BATCH, &gen);

		if (got == 0) {
			if (virtio_mmio_enable_kicks(&n->mmio, VIRTIO_NET_TXQ))
				continue;
			return;
		}
		for (int i = 0; i < got; i++) {
			const struct virtq_chain *c = &n->chains[i];
			ssize_t w = -1;

			if (c->nr_in == 0 && c->out_len >= VIRTIO_NET_HDR_LEN &&
			    c->out_len <= VIRTIO_NET_MAX_FRAME) {
				do
					w = writev(n->tap_fd, c->out, (int)c->nr_out);
				while (w < 0 && errno == EINTR);
			}
			if (w < 0) {
				n->stats.tx_dropped++;
			} else {
				n->stats.tx_packets++;
				n->stats.tx_bytes += c->out_len - VIRTIO_NET_HDR_LEN;
			}
			n->used[i] = (struct virtq_used_elem){c->head, 0};
		}
		virtio_mmio_complete(&n->mmio, VIRTIO_NET_TXQ, gen, n->used, (unsigned int)got);
	}
}
