/* 32-bit access to a virtio-mmio transport's registers, the only width a
 * driver uses: shared by the test drivers of the unit tests
 * (virtio_driver.h) and of the fuzz harnesses (virtio_fuzz_driver.h). */
#ifndef TESTS_UNIT_VIRTIO_MMIO32_H
#define TESTS_UNIT_VIRTIO_MMIO32_H

#include <stdint.h>
#include <string.h>

#include "devices/virtio_mmio.h"

static inline void mmio_w32(struct virtio_mmio *m, uint64_t off, uint32_t val)
{
	uint8_t b[4];

	memcpy(b, &val, 4);
	virtio_mmio_write(m, off, b, 4);
}

static inline uint32_t mmio_r32(struct virtio_mmio *m, uint64_t off)
{
	uint8_t b[4];
	uint32_t v;

	virtio_mmio_read(m, off, b, 4);
	memcpy(&v, b, 4);
	return v;
}

#endif
