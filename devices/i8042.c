/* Minimal i8042: enough for Linux to find no keyboard quickly and to reboot
 * through it. Nothing is ever connected to either PS/2 port. */
#include <string.h>

#include "devices/i8042.h"

#define STATUS_OBF 0x01
#define STATUS_SYS 0x04
#define STATUS_CMD 0x08

enum {
	CMD_READ_CB = 0x20,
	CMD_WRITE_CB = 0x60,
	CMD_SELF_TEST = 0xaa,
	CMD_KBD_TEST = 0xab,
	CMD_AUX_TEST = 0xa9,
	CMD_WRITE_OUTPORT = 0xd1,
	CMD_PULSE_RESET = 0xfe,
};

int i8042_init(struct i8042 *k, void (*reset)(void *), void *opaque)
{
	memset(k, 0, sizeof(*k));
	k->cmd_byte = 0x45; /* translation, system flag, keyboard interrupt */
	k->reset = reset;
	k->opaque = opaque;
	return -pthread_mutex_init(&k->lock, NULL);
}

void i8042_destroy(struct i8042 *k)
{
	pthread_mutex_destroy(&k->lock);
}

static void i8042_reply(struct i8042 *k, uint8_t byte)
{
	k->out = byte;
	k->out_full = true;
}

uint8_t i8042_read(struct i8042 *k, bool cmd_port)
{
	uint8_t v;

	pthread_mutex_lock(&k->lock);
	if (cmd_port) {
		v = STATUS_SYS | (k->out_full ? STATUS_OBF : 0) | (k->pending ? STATUS_CMD : 0);
	} else {
		v = k->out;
		k->out_full = false;
	}
	pthread_mutex_unlock(&k->lock);
	return v;
}

void i8042_write(struct i8042 *k, bool cmd_port, uint8_t val)
{
	bool reset = false;

	pthread_mutex_lock(&k->lock);
	if (!cmd_port) {
		if (k->pending == CMD_WRITE_CB)
			k->cmd_byte = val;
		else if (k->pending == CMD_WRITE_OUTPORT && !(val & 1))
			reset = true; /* bit 0 of the output port is the reset line */
		k->pending = 0;
	} else {
		k->pending = 0;
		switch (val) {
		case CMD_READ_CB:
			i8042_reply(k, k->cmd_byte);
			break;
		case CMD_WRITE_CB:
		case CMD_WRITE_OUTPORT:
			k->pending = val;
			break;
		case CMD_SELF_TEST:
			i8042_reply(k, 0x55);
			break;
		case CMD_KBD_TEST:
		case CMD_AUX_TEST:
			i8042_reply(k, 0x00);
			break;
		case CMD_PULSE_RESET:
			reset = true;
			break;
		default:
			break;
		}
	}
	pthread_mutex_unlock(&k->lock);
	if (reset && k->reset)
		k->reset(k->opaque);
}

static void i8042_bus_read_data(void *opaque, uint64_t offset, uint8_t *data, unsigned int size)
{
	memset(data, 0, size);
	data[0] = i8042_read(opaque, false);
}

static void i8042_bus_write_data(void *opaque, uint64_t offset, const uint8_t *data,
				 unsigned int size)
{
	i8042_write(opaque, false, data[0]);
}

static void i8042_bus_read_cmd(void *opaque, uint64_t offset, uint8_t *data, unsigned int size)
{
	memset(data, 0, size);
	data[0] = i8042_read(opaque, true);
}

static void i8042_bus_write_cmd(void *opaque, uint64_t offset, const uint8_t *data,
				unsigned int size)
{
	i8042_write(opaque, true, data[0]);
}

const struct bus_device_ops i8042_data_ops = {
	.read = i8042_bus_read_data,
	.write = i8042_bus_write_data,
};

const struct bus_device_ops i8042_cmd_ops = {
	.read = i8042_bus_read_cmd,
	.write = i8042_bus_write_cmd,
};
