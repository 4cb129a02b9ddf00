/* virtio-net (virtio 1.x, 5.1) on a host TAP interface opened with
 * IFF_NO_PI | IFF_VNET_HDR and a 12-byte vnet header: the TAP's header is
 * the virtio one. Transmit writes a chain to the TAP in one writev; receive
 * reads a packet into a bounce buffer and spreads it over as many receive
 * buffers as it needs (MRG_RXBUF; one, without it). Checksum and TSO
 * offloads are offered both ways and the TAP is told what the driver
 * accepted. One receive and one transmit queue, no control queue. */
#ifndef DEVICES_VIRTIO_NET_H
#define DEVICES_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/virtio_mmio.h"

#define VIRTIO_NET_RXQ	   0
#define VIRTIO_NET_TXQ	   1
#define VIRTIO_NET_BATCH   32
#define VIRTIO_NET_HDR_LEN 12 /* struct virtio_net_hdr_v1 */
/* Largest frame either way: a 64 KiB TSO packet, its headers, the vnet header. */
#define VIRTIO_NET_MAX_FRAME (VIRTIO_NET_HDR_LEN + 65550)
/* Most receive buffers one packet may take (the rest of the ring waits). */
#define VIRTIO_NET_MAX_RX_BUFS (VIRTQ_MAX_SIZE / 2)

struct virtio_net_stats {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t rx_dropped; /* no room in the guest's buffers, or a TAP error */
	uint64_t tx_dropped; /* malformed chains, TAP errors */
};

struct virtio_net {
	struct virtio_mmio mmio;
	int tap_fd;
	uint8_t config[8];	       /* mac[6], status (unused) */
	bool mrg_rxbuf;		       /* negotiated: a packet may span buffers */
	bool can_offload;	       /* the fd takes TUNSETOFFLOAD (a TAP) */
	struct virtio_net_stats stats; /* I/O thread only */
	/* A packet read from the TAP that waits for guest buffers. */
	uint8_t rx_packet[VIRTIO_NET_MAX_FRAME];
	uint32_t rx_len;
	struct virtq_chain rx_first, rx_chain; /* the packet's first buffer; the others */
	struct virtq_used_elem rx_used[VIRTQ_MAX_SIZE];
	struct virtq_chain chains[VIRTIO_NET_BATCH];
	struct virtq_used_elem used[VIRTIO_NET_BATCH];
};

/* @tap_fd: non-blocking, IFF_VNET_HDR with a 12-byte header (or any
 * datagram fd carrying packets with that header first: tests use a
 * socketpair, and get no receive offloads); stays the caller's. */
int virtio_net_init(struct virtio_net *n, int tap_fd, const uint8_t mac[6],
		    const struct guest_ram *ram);
void virtio_net_destroy(struct virtio_net *n);

/* I/O thread: move packets from the TAP into receive buffers until one
 * runs out. Returns true if it stopped for want of guest buffers (stop
 * polling the TAP until the driver kicks the receive queue). */
bool virtio_net_rx(struct virtio_net *n);

/* I/O thread: send what the driver queued for transmission. */
void virtio_net_tx(struct virtio_net *n);

#endif
