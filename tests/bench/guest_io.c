/* guest_io: the disk and network load of the virtio benchmark, one static
 * binary that runs inside a Linux guest (and, for the network's far end, on
 * the host): sequential read/write MB/s and 4 KiB random-read IOPS on a
 * block device with O_DIRECT, and TCP throughput in either direction.
 * Prints one "guest_io: KEY=VALUE ..." line per measurement.
 *
 *   guest_io seqwrite DEV MIB | seqread DEV MIB | randread DEV SECONDS
 *   guest_io sink PORT            accept one connection, count what arrives
 *   guest_io source PORT MIB      accept one connection, send MIB
 *   guest_io send HOST PORT MIB   connect, send MIB
 *   guest_io recv HOST PORT       connect, count what arrives */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#define SEQ_BLOCK  (1 << 20)
#define RAND_BLOCK 4096
#define NET_BUF	   (64 << 10)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what)
{
	fprintf(stderr, "guest_io: %s: %s\n", what, strerror(errno));
	return 1;
}

static void *aligned(size_t n)
{
	void *p = NULL;

	if (posix_memalign(&p, 4096, n) != 0)
		return NULL;
	memset(p, 0x5a, n);
	return p;
}

static int seq(const char *dev, long mib, int write)
{
	int fd = open(dev, (write ? O_WRONLY : O_RDONLY) | O_DIRECT);
	char *buf = aligned(SEQ_BLOCK);
	double t0, t;

	if (fd < 0 || buf == NULL)
		return die(dev);
	t0 = now();
	for (long i = 0; i < mib; i++) {
		ssize_t n = write ? pwrite(fd, buf, SEQ_BLOCK, (off_t)i * SEQ_BLOCK)
				  : pread(fd, buf, SEQ_BLOCK, (off_t)i * SEQ_BLOCK);

		if (n != SEQ_BLOCK)
			return die(write ? "write" : "read");
	}
	if (write && fdatasync(fd) < 0)
		return die("fdatasync");
	t = now() - t0;
	printf("guest_io: %s MiB=%ld seconds=%.3f MBps=%.2f\n", write ? "seqwrite" : "seqread", mib,
	       t, (double)mib * 1.048576 / t);
	close(fd);
	free(buf);
	return 0;
}

static int randread(const char *dev, double seconds)
{
	int fd = open(dev, O_RDONLY | O_DIRECT);
	char *buf = aligned(RAND_BLOCK);
	uint64_t size = 0, blocks, ops = 0, x = 88172645463325252ULL;
	double t0, t;

	if (fd < 0 || buf == NULL || ioctl(fd, BLKGETSIZE64, &size) < 0)
		return die(dev);
	blocks = size / RAND_BLOCK;
	if (blocks == 0)
		return die("device too small");
	t0 = now();
	do {
		for (int i = 0; i < 64; i++, ops++) {
			x ^= x << 13; /* xorshift: no libc state, same sequence each run */
			x ^= x >> 7;
			x ^= x << 17;
			if (pread(fd, buf, RAND_BLOCK, (off_t)((x % blocks) * RAND_BLOCK)) !=
			    RAND_BLOCK)
				return die("read");
		}
		t = now() - t0;
	} while (t < seconds);
	printf("guest_io: randread bs=4096 ops=%llu seconds=%.3f iops=%.0f\n",
	       (unsigned long long)ops, t, (double)ops / t);
	close(fd);
	free(buf);
	return 0;
}

static int listen_one(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0), c;

	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1) < 0)
		return -1;
	printf("guest_io: listening port=%d\n", port);
	fflush(stdout);
	c = accept(s, NULL, NULL);
	close(s);
	return c;
}

static int connect_to(const char *host, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return -1;
	/* The far end may still be starting: retry for a few seconds. */
	for (int i = 0; i < 50; i++) {
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
			return s;
		usleep(100000);
	}
	return -1;
}

static int send_mib(int s, long mib, const char *what)
{
	char *buf = aligned(NET_BUF);
	uint64_t total = (uint64_t)mib << 20, done = 0;
	double t0 = now(), t;

	while (done < total) {
		size_t n = total - done < NET_BUF ? (size_t)(total - done) : NET_BUF;
		ssize_t w = write(s, buf, n);

		if (w <= 0)
			return die("send");
		done += (uint64_t)w;
	}
	shutdown(s, SHUT_WR);
	/* Wait for the far end to close: everything was received. */
	while (read(s, buf, NET_BUF) > 0)
		;
	t = now() - t0;
	printf("guest_io: %s bytes=%llu seconds=%.3f MBps=%.2f\n", what, (unsigned long long)done,
	       t, (double)done / 1e6 / t);
	free(buf);
	close(s);
	return 0;
}

static int count_in(int s, const char *what)
{
	char *buf = aligned(NET_BUF);
	uint64_t done = 0;
	double t0 = 0, t;
	ssize_t n;

	while ((n = read(s, buf, NET_BUF)) > 0) {
		if (done == 0)
			t0 = now();
		done += (uint64_t)n;
	}
	t = now() - t0;
	printf("guest_io: %s bytes=%llu seconds=%.3f MBps=%.2f\n", what, (unsigned long long)done,
	       t, done ? (double)done / 1e6 / t : 0.0);
	free(buf);
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	int s;

	if (!strcmp(m, "seqwrite") && argc == 4)
		return seq(argv[2], atol(argv[3]), 1);
	if (!strcmp(m, "seqread") && argc == 4)
		return seq(argv[2], atol(argv[3]), 0);
	if (!strcmp(m, "randread") && argc == 4)
		return randread(argv[2], atof(argv[3]));
	if (!strcmp(m, "sink") && argc == 3) {
		if ((s = listen_one(atoi(argv[2]))) < 0)
			return die("listen");
		return count_in(s, "sink");
	}
	if (!strcmp(m, "source") && argc == 4) {
		if ((s = listen_one(atoi(argv[2]))) < 0)
			return die("listen");
		return send_mib(s, atol(argv[3]), "source");
	}
	if (!strcmp(m, "send") && argc == 5) {
		if ((s = connect_to(argv[2], atoi(argv[3]))) < 0)
			return die("connect");
		return send_mib(s, atol(argv[4]), "send");
	}
	if (!strcmp(m, "recv") && argc == 4) {
		if ((s = connect_to(argv[2], atoi(argv[3]))) < 0)
			return die("connect");
		return count_in(s, "recv");
	}
	fprintf(stderr,
		"usage: guest_io seqwrite|seqread DEV MIB | randread DEV SECONDS |\n"
		"       sink PORT | source PORT MIB | send HOST PORT MIB | recv HOST PORT\n");
	return 2;
}
