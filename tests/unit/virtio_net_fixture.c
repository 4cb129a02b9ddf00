/* The virtio-net unit tests' fixture: a device over a socketpair "TAP",
 * its driver, packets, and a watchdog around the receive path. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/virtio_ids.h>

#include "virtio_net_fixture.h"

const uint8_t net_test_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static void on_irq(void *opaque)
{
	((struct t *)opaque)->irqs++;
}

struct t *t_new(void)
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
	assert_int_equal(virtio_net_init(t->net, t->dev_fd, net_test_mac, &t->drv.ram), 0);
	t->net->mmio.interrupt = on_irq;
	t->net->mmio.opaque = t;
	t->drv.mmio = &t->net->mmio;
	t->drv.nr_queues = 2;
	t->drv.q[RXQ] = (struct driver_queue){RXQ_DESC, RXQ_AVAIL, RXQ_USED, 0, 0, 0};
	t->drv.q[TXQ] = (struct driver_queue){TXQ_DESC, TXQ_AVAIL, TXQ_USED, 0, 0, 0};
	return t;
}

void t_free(struct t *t)
{
	virtio_net_destroy(t->net);
	close(t->dev_fd);
	close(t->host_fd);
	free(t->net);
	driver_ram_free(&t->drv);
	free(t);
}

uint32_t driver_init(struct t *t, uint64_t features, uint16_t qsize)
{
	uint32_t status = driver_negotiate(&t->drv, VIRTIO_ID_NET, features);

	if (!(status & S_FEATURES_OK))
		return status;
	for (unsigned int i = 0; i < 6; i++)
		assert_int_equal(r8(&t->drv, CONFIG + i), net_test_mac[i]);
	return driver_start(&t->drv, qsize);
}

struct t *t_running(uint64_t features, uint16_t qsize)
{
	struct t *t = t_new();

	assert_int_equal(driver_init(t, features, qsize), S_RUNNING);
	assert_int_equal(t->irqs, 0);
	return t;
}

uint16_t add_rx_bufs(struct t *t, unsigned int n, uint32_t size, uint64_t gpa, uint64_t stride)
{
	uint16_t first = t->drv.q[RXQ].next_desc;

	for (unsigned int i = 0; i < n; i++) {
		struct seg s = {gpa + i * stride, size, true};

		memset(t->drv.mem + s.gpa, FILL, size);
		add_chain(&t->drv, RXQ, &s, 1);
	}
	return first;
}

uint8_t *make_packet(size_t len, unsigned int seed)
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

void host_send(struct t *t, const void *p, size_t len)
{
	assert_int_equal(send(t->host_fd, p, len, 0), (ssize_t)len);
}

ssize_t host_recv(struct t *t, void *p, size_t max)
{
	ssize_t r = recv(t->host_fd, p, max, MSG_TRUNC);

	if (r < 0)
		assert_int_equal(errno, EAGAIN);
	return r;
}

void expect_rx(uint8_t *pkt, uint16_t nbufs)
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

bool rx(struct t *t)
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
