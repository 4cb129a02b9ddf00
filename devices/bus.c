/* Address bus dispatch: sorted ranges, binary search, one owner per access. */
#include <errno.h>
#include <string.h>

#include "devices/bus.h"

void bus_init(struct bus *bus)
{
	memset(bus, 0, sizeof(*bus));
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_device_ops *ops,
		 void *opaque, const char *name)
{
	unsigned int i, pos;

	if (len == 0 || base + len < base || ops == NULL)
		return -EINVAL;
	if (bus->nr == BUS_MAX_RANGES)
		return -ENOSPC;
	for (i = 0; i < bus->nr; i++) {
		const struct bus_range *r = &bus->range[i];

		if (base < r->base + r->len && r->base < base + len)
			return -EEXIST;
	}
	for (pos = 0; pos < bus->nr && bus->range[pos].base < base; pos++)
		;
	memmove(&bus->range[pos + 1], &bus->range[pos], (bus->nr - pos) * sizeof(bus->range[0]));
	bus->range[pos] = (struct bus_range){base, len, ops, opaque, name};
	bus->nr++;
	return 0;
}

/* The range holding the whole access [addr, addr+size), or NULL. */
static const struct bus_range *bus_find(const struct bus *bus, uint64_t addr, unsigned int size)
{
	unsigned int lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &bus->range[mid];

		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return size <= r->len - (addr - r->base) ? r : NULL;
	}
	return NULL;
}

bool bus_read(const struct bus *bus, uint64_t addr, uint8_t *data, unsigned int size)
{
	const struct bus_range *r = bus_find(bus, addr, size);

	if (r == NULL || r->ops->read == NULL) {
		memset(data, 0xff, size);
		return r != NULL;
	}
	r->ops->read(r->opaque, addr - r->base, data, size);
	return true;
}

bool bus_write(const struct bus *bus, uint64_t addr, const uint8_t *data, unsigned int size)
{
	const struct bus_range *r = bus_find(bus, addr, size);

	if (r == NULL)
		return false;
	if (r->ops->write != NULL)
		r->ops->write(r->opaque, addr - r->base, data, size);
	return true;
}
