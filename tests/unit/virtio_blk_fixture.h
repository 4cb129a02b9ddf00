/* The virtio-blk test fixture shared by the transport/blk tests and the
 * hostile-chain tests: a virtio-blk over a temporary image, driven by the
 * test driver (virtio_driver.h) with its one queue's rings at fixed places. */
#ifndef TESTS_UNIT_VIRTIO_BLK_FIXTURE_H
#define TESTS_UNIT_VIRTIO_BLK_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/virtio_ids.h>

#include "devices/virtio_blk.h"
#include "virtio_driver.h"

#define DISK_BYTES (64 * 1024ULL) /* 128 sectors */
#define DISK_ID	   "libvmm-test-disk"

/* Where the test driver puts its rings and buffers in guest RAM. */
#define DESC_GPA      0x1000ULL
#define AVAIL_GPA     0x2000ULL
#define USED_GPA      0x3000ULL
#define HDR_GPA	      0x8000ULL /* request header */
#define STATUS_GPA    0x8100ULL /* status byte */
#define TABLE_GPA     0x9000ULL /* indirect tables */
#define DATA_GPA      0x10000ULL
#define DEFAULT_QSIZE 64

#define F_LINUX (F_V1 | F_INDIR | F_EVIDX | BIT(VIRTIO_BLK_F_FLUSH) | BIT(VIRTIO_BLK_F_BLK_SIZE))

struct t {
	struct virtio_driver drv;
	struct virtio_blk blk;
	int fd;
	unsigned int irqs, kicks, last_kick;
};

struct t *t_new(bool read_only);

void t_free(struct t *t);

uint32_t driver_init(struct t *t, uint64_t features, uint16_t qsize);

uint32_t submit(struct t *t, const struct seg *segs, unsigned int n);

bool is_in(uint32_t type);

uint8_t blk_req(struct t *t, uint32_t type, uint64_t sector, uint64_t data_gpa, uint32_t len,
		uint32_t *used);

struct t *t_running(bool read_only, uint64_t features, uint16_t qsize);

#endif
