/* The PC keyboard controller, only as far as Linux needs it to reboot
 * (`reboot=k` pulses the CPU reset line with command 0xFE). */
#ifndef DEVICES_I8042_H
#define DEVICES_I8042_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"

struct i8042 {
	pthread_mutex_t lock;
	uint8_t cmd_byte;
	uint8_t out;	    /* byte waiting in the output buffer */
	bool out_full;
	uint8_t pending;    /* command awaiting its data byte, or 0 */
	void (*reset)(void *opaque); /* CPU reset requested by the guest */
	void *opaque;
};

extern const struct bus_device_ops i8042_data_ops, i8042_cmd_ops;

int i8042_init(struct i8042 *k, void (*reset)(void *), void *opaque);
void i8042_destroy(struct i8042 *k);
uint8_t i8042_read(struct i8042 *k, bool cmd_port);
void i8042_write(struct i8042 *k, bool cmd_port, uint8_t val);

#endif
