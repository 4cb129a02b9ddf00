/* fw_cfg's selector/data registers over a small table of items. */
#include <errno.h>
#include <string.h>

#include "devices/fwcfg.h"

/* Bit 14 of a key selects the write channel, bit 15 the arch-local items;
 * the item number is what is left. */
#define FWCFG_KEY_MASK 0x3fffu

int fwcfg_init(struct fwcfg *f)
{
	memset(f, 0, sizeof(*f));
	return -pthread_mutex_init(&f->lock, NULL);
}

void fwcfg_destroy(struct fwcfg *f)
{
	pthread_mutex_destroy(&f->lock);
}

int fwcfg_add(struct fwcfg *f, uint16_t key, const void *data, size_t len)
{
	struct fwcfg_item *it = NULL;

	if (len > FWCFG_MAX_ITEM_LEN)
		return -E2BIG;
	for (unsigned int i = 0; i < f->nr_items && !it; i++)
		if (f->item[i].key == key)
			it = &f->item[i];
	if (!it) {
		if (f->nr_items >= FWCFG_MAX_ITEMS)
			return -ENOSPC;
		it = &f->item[f->nr_items++];
	}
	it->key = key;
	it->len = (uint8_t)len;
	memset(it->data, 0, sizeof(it->data));
	memcpy(it->data, data, len);
	return 0;
}

int fwcfg_add_u16(struct fwcfg *f, uint16_t key, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	return fwcfg_add(f, key, b, sizeof(b));
}

int fwcfg_add_u32(struct fwcfg *f, uint16_t key, uint32_t v)
{
	uint8_t b[4];

	for (unsigned int i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return fwcfg_add(f, key, b, sizeof(b));
}

int fwcfg_add_u64(struct fwcfg *f, uint16_t key, uint64_t v)
{
	uint8_t b[8];

	for (unsigned int i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return fwcfg_add(f, key, b, sizeof(b));
}

/* One data byte of the selected item; 0 past its end or for a key nobody
 * set, as QEMU reads. */
static uint8_t next_byte(struct fwcfg *f)
{
	for (unsigned int i = 0; i < f->nr_items; i++) {
		const struct fwcfg_item *it = &f->item[i];

		if (it->key == (f->selector & FWCFG_KEY_MASK))
			return f->offset < it->len ? it->data[f->offset++] : 0;
	}
	return 0;
}

static void fwcfg_read(void *opaque, uint64_t offset, uint8_t *data, unsigned int size)
{
	struct fwcfg *f = opaque;

	memset(data, 0, size);
	if (offset != 1)
		return;
	pthread_mutex_lock(&f->lock);
	/* Each byte of a wider read of the data register is the next one. */
	for (unsigned int i = 0; i < size; i++)
		data[i] = next_byte(f);
	pthread_mutex_unlock(&f->lock);
}

static void fwcfg_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned int size)
{
	struct fwcfg *f = opaque;

	/* Only the selector is writable; the data register's write channel
	 * is gone from QEMU too. */
	if (offset != 0 || size < 2)
		return;
	pthread_mutex_lock(&f->lock);
	f->selector = (uint16_t)(data[0] | data[1] << 8);
	f->offset = 0;
	pthread_mutex_unlock(&f->lock);
}

const struct bus_device_ops fwcfg_ops = {.read = fwcfg_read, .write = fwcfg_write};
