/* Test-exit port and scratch registers used by the test guests. */
#include <string.h>

#include "devices/testdev.h"

int testdev_init(struct testdev *t, void (*exit_fn)(void *, uint32_t), void *opaque)
{
	memset(t, 0, sizeof(*t));
	t->exit = exit_fn;
	t->opaque = opaque;
	return -pthread_mutex_init(&t->lock, NULL);
}

void testdev_destroy(struct testdev *t)
{
	pthread_mutex_destroy(&t->lock);
}

static void testdev_exit_write(void *opaque, uint64_t offset, const uint8_t *data,
			       unsigned int size)
{
	struct testdev *t = opaque;
	uint32_t code = 0;

	memcpy(&code, data, size < sizeof(code) ? size : sizeof(code));
	if (t->qemu_encoding)
		code = code << 1 | 1;
	if (t->exit)
		t->exit(t->opaque, code);
}

/* Scratch storage: @len bytes in @reg; accesses are clipped to it. */
static void scratch_read(struct testdev *t, uint8_t *reg, size_t len, uint64_t offset,
			 uint8_t *data, unsigned int size)
{
	memset(data, 0, size);
	pthread_mutex_lock(&t->lock);
	for (unsigned int i = 0; i < size && offset + i < len; i++)
		data[i] = reg[offset + i];
	pthread_mutex_unlock(&t->lock);
}

static void scratch_write(struct testdev *t, uint8_t *reg, size_t len, uint64_t offset,
			  const uint8_t *data, unsigned int size)
{
	pthread_mutex_lock(&t->lock);
	for (unsigned int i = 0; i < size && offset + i < len; i++)
		reg[offset + i] = data[i];
	pthread_mutex_unlock(&t->lock);
}

static void port_read(void *opaque, uint64_t offset, uint8_t *data, unsigned int size)
{
	struct testdev *t = opaque;

	scratch_read(t, t->port_scratch, sizeof(t->port_scratch), offset, data, size);
}

static void port_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned int size)
{
	struct testdev *t = opaque;

	scratch_write(t, t->port_scratch, sizeof(t->port_scratch), offset, data, size);
}

static void mmio_read(void *opaque, uint64_t offset, uint8_t *data, unsigned int size)
{
	struct testdev *t = opaque;

	scratch_read(t, t->mmio_scratch, sizeof(t->mmio_scratch), offset, data, size);
}

static void mmio_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned int size)
{
	struct testdev *t = opaque;

	scratch_write(t, t->mmio_scratch, sizeof(t->mmio_scratch), offset, data, size);
}

const struct bus_device_ops testdev_exit_ops = {.write = testdev_exit_write};
const struct bus_device_ops testdev_port_ops = {.read = port_read, .write = port_write};
const struct bus_device_ops testdev_mmio_ops = {.read = mmio_read, .write = mmio_write};
