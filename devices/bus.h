/* An address bus (port I/O or MMIO): devices claim address ranges, an exit
 * for an address goes to the one device that claimed it. */
#ifndef DEVICES_BUS_H
#define DEVICES_BUS_H

#include <stdbool.h>
#include <stdint.h>

/* A device's handlers. @offset is relative to the claimed base; @data holds
 * @size bytes (1, 2, 4 or 8) in guest (little-endian) order. A read handler
 * must fill all @size bytes. Handlers run on vCPU threads concurrently. */
struct bus_device_ops {
	void (*read)(void *opaque, uint64_t offset, uint8_t *data, unsigned int size);
	void (*write)(void *opaque, uint64_t offset, const uint8_t *data, unsigned int size);
};

struct bus_range {
	uint64_t base, len;
	const struct bus_device_ops *ops;
	void *opaque;
	const char *name;
};

#define BUS_MAX_RANGES 32

/* Ranges are kept sorted by base; registration happens before vCPUs run, so
 * dispatch needs no lock. */
struct bus {
	struct bus_range range[BUS_MAX_RANGES];
	unsigned int nr;
};

void bus_init(struct bus *bus);

/* Claim [base, base+len). Returns 0, -EINVAL (empty or wrapping range),
 * -EEXIST (overlaps a claimed range) or -ENOSPC (table full). */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_device_ops *ops,
		 void *opaque, const char *name);

/* Dispatch an access. Returns true if a device took it; false means nothing
 * is there: reads then return all ones, as on a PC, and writes are dropped. */
bool bus_read(const struct bus *bus, uint64_t addr, uint8_t *data, unsigned int size);
bool bus_write(const struct bus *bus, uint64_t addr, const uint8_t *data, unsigned int size);

#endif
