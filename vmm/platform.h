/* The VM's devices as one table: each row names a device, its state, how to
 * init and destroy it, and the bus windows and IRQ where the VM places it.
 * Devices know nothing of their addresses; the VM core walks the table. */
#ifndef VMM_PLATFORM_H
#define VMM_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/fwcfg.h"
#include "devices/i8042.h"
#include "devices/poweroff.h"
#include "devices/testdev.h"
#include "devices/uart.h"

struct vmm;

enum platform_bus {
	PLATFORM_PIO,
	PLATFORM_MMIO,
};

/* One address range a device claims. len 0 ends a row's window list. */
struct platform_window {
	enum platform_bus bus;
	uint64_t base, len;
	const struct bus_device_ops *ops;
	const char *name;
};

#define PLATFORM_MAX_WINDOWS 3
#define PLATFORM_NO_IRQ	     (-1)

struct platform_device {
	const char *name;
	size_t state; /* offset of the device's state in struct platform */
	int irq;      /* ISA IRQ (GSI) the device raises, or PLATFORM_NO_IRQ */
	/* Returns 0 or a negative errno, having released what it took. */
	int (*init)(struct vmm *vm, void *state, const struct platform_device *dev);
	void (*destroy)(void *state); /* NULL: nothing to release */
	/* Opt-in devices: present only when this says so. NULL: always. */
	bool (*wanted)(const struct vmm *vm);
	struct platform_window win[PLATFORM_MAX_WINDOWS];
};

/* The devices' state, embedded in struct vmm. */
struct platform {
	struct uart com1;
	struct i8042 kbd;
	struct testdev testdev;
	struct poweroff poweroff;
	struct fwcfg fwcfg;
	int com1_irq;
	uint16_t com1_port; /* COM1's base port, where the VM placed it */
	/* What teardown releases: the first nr_ready rows of table. */
	const struct platform_device *table;
	size_t nr_ready;
};

/* The PC devices (COM1, i8042, test devices, power-off, and the opt-in
 * rows that platform_setup() skips unless wanted); sets *n to the number
 * of rows. */
const struct platform_device *platform_pc(size_t *n);

/* Reset vm's buses, then init each row of @table in order and claim its
 * windows. On failure, @err says which device and the rows initialised so
 * far stay recorded for platform_teardown(). */
int platform_setup(struct vmm *vm, const struct platform_device *table, size_t n, char *err,
		   size_t errlen);

/* Destroy the initialised rows, last first. Safe to call twice. */
void platform_teardown(struct vmm *vm);

/* COM1 if it was initialised, else NULL. */
struct uart *platform_console(struct vmm *vm);

#endif
