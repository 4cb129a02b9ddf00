/* The virtio-net unit tests' fixture: a device whose "TAP" is one end of a
 * datagram socketpair (a datagram keeps a packet's boundaries, and the device
 * offers no receive offloads on it), the other end held by the test as "the
 * host", and a test driver (virtio_driver.h) that sets both queues up as
 * Linux's virtio_mmio and virtio_net do. */
#ifndef TESTS_UNIT_VIRTIO_NET_FIXTURE_H
#define TESTS_UNIT_VIRTIO_NET_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
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

extern const uint8_t net_test_mac[6];

struct t {
	struct virtio_driver drv;
	struct virtio_net *net; /* large: on the heap */
	int host_fd;		/* the other end of the device's "TAP" */
	int dev_fd;
	unsigned int irqs;
};

/* A device and its driver, not yet negotiated. */
struct t *t_new(void);
void t_free(struct t *t);

/* Linux's vm_probe, virtio_dev_probe, virtnet_probe (MAC read) and
 * vm_setup_vq for both queues of @qsize. Returns the status read back at
 * the end; stops after FEATURES_OK if the device refused it, as Linux does. */
uint32_t driver_init(struct t *t, uint64_t features, uint16_t qsize);

/* A device running with @features, both queues of @qsize. */
struct t *t_running(uint64_t features, uint16_t qsize);

/* @n receive buffers of @size, one writable descriptor each, @stride
 * apart from @gpa and filled with FILL; the first one's head. */
uint16_t add_rx_bufs(struct t *t, unsigned int n, uint32_t size, uint64_t gpa, uint64_t stride);

/* A packet as the TAP gives it: a vnet header (no offloads; num_buffers
 * garbage, which the device must overwrite), then a frame from @seed. */
uint8_t *make_packet(size_t len, unsigned int seed);

void host_send(struct t *t, const void *p, size_t len);

/* The next datagram the device sent (its full length), or -1 if none. */
ssize_t host_recv(struct t *t, void *p, size_t max);

/* What the guest must see of @pkt: num_buffers set in its header. */
void expect_rx(uint8_t *pkt, uint16_t nbufs);

/* virtio_net_rx, failing the test if it has not returned within 20 s (the
 * device spins) instead of hanging the suite. */
bool rx(struct t *t);

#endif
