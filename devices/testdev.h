/* Devices for test guests: the test-exit port (QEMU isa-debug-exit's
 * interface; the code written is the exit code as is, or encoded as QEMU
 * does with qemu_encoding) and scratch
 * registers for port-I/O (4 bytes) and MMIO (8 bytes) round trips. Their
 * addresses are vmm/platform.c's. */
#ifndef DEVICES_TESTDEV_H
#define DEVICES_TESTDEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"

struct testdev {
	pthread_mutex_t lock;
	uint8_t port_scratch[4];
	uint8_t mmio_scratch[8];
	void (*exit)(void *opaque, uint32_t code);
	void *opaque;
	/* QEMU isa-debug-exit's encoding: a write of V ends with status
	 * (V << 1) | 1, so that no guest write can mean success (0). */
	bool qemu_encoding;
};

extern const struct bus_device_ops testdev_exit_ops, testdev_port_ops, testdev_mmio_ops;

int testdev_init(struct testdev *t, void (*exit_fn)(void *, uint32_t), void *opaque);
void testdev_destroy(struct testdev *t);

#endif
