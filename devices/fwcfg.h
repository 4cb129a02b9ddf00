/* QEMU's fw_cfg, traditional I/O interface only: the guest writes a 16-bit
 * key to the selector register and reads the item's bytes one at a time
 * from the data register. Items are small values set by the VMM (CPU count,
 * RAM size, ...), as test kernels written for QEMU read them. Offsets: 0 =
 * selector, 1 = data; the address is vmm/platform.c's. */
#ifndef DEVICES_FWCFG_H
#define DEVICES_FWCFG_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/bus.h"

/* Keys from QEMU's fw_cfg interface. */
#define FWCFG_SIGNATURE 0x00
#define FWCFG_ID	0x01
#define FWCFG_RAM_SIZE	0x03
#define FWCFG_NB_CPUS	0x05
#define FWCFG_MAX_CPUS	0x0f
/* QEMU files kernel data under 0x11; kvm-unit-tests reads it as the
 * highest RAM address it may use, which is what this VMM stores there. */
#define FWCFG_MAX_RAM 0x11

#define FWCFG_MAX_ITEMS	   8
#define FWCFG_MAX_ITEM_LEN 8

struct fwcfg_item {
	uint16_t key;
	uint8_t len;
	uint8_t data[FWCFG_MAX_ITEM_LEN];
};

struct fwcfg {
	pthread_mutex_t lock;
	uint16_t selector;
	uint32_t offset; /* next data byte of the selected item */
	struct fwcfg_item item[FWCFG_MAX_ITEMS];
	unsigned int nr_items;
};

extern const struct bus_device_ops fwcfg_ops;

int fwcfg_init(struct fwcfg *f);
void fwcfg_destroy(struct fwcfg *f);

/* Add (or replace) item @key with @len bytes (at most FWCFG_MAX_ITEM_LEN).
 * Returns 0, -E2BIG or -ENOSPC. */
int fwcfg_add(struct fwcfg *f, uint16_t key, const void *data, size_t len);

/* Little-endian integer items, as QEMU stores them. */
int fwcfg_add_u16(struct fwcfg *f, uint16_t key, uint16_t v);
int fwcfg_add_u32(struct fwcfg *f, uint16_t key, uint32_t v);
int fwcfg_add_u64(struct fwcfg *f, uint16_t key, uint64_t v);

#endif
