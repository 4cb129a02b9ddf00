/* The power-off port: a write powers the VM off. Linux guests reach it
 * through the project's guest-kernel patch (libvmm.poweroff_port=, the port
 * vmm/platform.c places it at), since x86 without ACPI has no other way to
 * power off. */
#ifndef DEVICES_POWEROFF_H
#define DEVICES_POWEROFF_H

#include "devices/bus.h"

/* opaque of the bus registration is passed to @poweroff. */
struct poweroff {
	void (*poweroff)(void *opaque);
	void *opaque;
};

extern const struct bus_device_ops poweroff_ops;

#endif
