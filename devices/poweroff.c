/* Power-off port: any write ends the VM as a guest power-off. */
#include "devices/poweroff.h"

static void poweroff_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned int size)
{
	struct poweroff *p = opaque;

	if (p->poweroff)
		p->poweroff(p->opaque);
}

const struct bus_device_ops poweroff_ops = {.write = poweroff_write};
