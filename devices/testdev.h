/* Devices for test guests: the test-exit port (QEMU isa-debug-exit's port,
 * but the code written is the exit code as is) and scratch registers for
 * port-I/O and MMIO round trips. */
#ifndef DEVICES_TESTDEV_H
#define DEVICES_TESTDEV_H

#include <pthread.h>
#include <stdint.h>

#include "devices/bus.h"

#define TESTDEV_EXIT_PORT 0xf4	   /* write: end the VM with this code */
#define TESTDEV_SCRATCH_PORT 0xf8  /* 4 bytes, read back what was written */
#define TESTDEV_MMIO_BASE 0xd0000000ULL /* 8 bytes, read back what was written */
#define TESTDEV_MMIO_SIZE 0x1000

struct testdev {
	pthread_mutex_t lock;
	uint8_t port_scratch[4];
	uint8_t mmio_scratch[8];
	void (*exit)(void *opaque, uint32_t code);
	void *opaque;
};

extern const struct bus_device_ops testdev_exit_ops, testdev_port_ops, testdev_mmio_ops;

int testdev_init(struct testdev *t, void (*exit_fn)(void *, uint32_t), void *opaque);
void testdev_destroy(struct testdev *t);

#endif
