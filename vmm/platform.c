/* The PC platform's device table (where each device sits and which IRQ it
 * raises) and the walk that inits, places and destroys the devices. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "vmm/platform.h"
#include "vmm/vm.h"

#define STATE(vm, dev) ((char *)&(vm)->devices + (dev)->state)

static void console_tx(void *opaque, uint8_t byte)
{
	struct vmm *vm = opaque;

	if (vm->cfg.console_out_fd >= 0) {
		/* A console that went away must not stop the guest. */
		ssize_t n = write(vm->cfg.console_out_fd, &byte, 1);
		(void)n;
	} else if (vm->cfg.console_sink != NULL) {
		vm->cfg.console_sink(vm->cfg.console_opaque, &byte, 1);
	}
}

static void com1_irq(void *opaque, bool level)
{
	struct vmm *vm = opaque;
	struct kvm_irq_level irq = {.irq = (uint32_t)vm->devices.com1_irq, .level = level};

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		vm_log(vm, VMM_LOG_WARN, "KVM_IRQ_LINE %d: %s", vm->devices.com1_irq,
		       strerror(errno));
}

static int com1_init(struct vmm *vm, void *state, const struct platform_device *dev)
{
	vm->devices.com1_irq = dev->irq;
	vm->devices.com1_port = (uint16_t)dev->win[0].base;
	return uart_init(state, console_tx, com1_irq, vm);
}

static void com1_destroy(void *state)
{
	uart_destroy(state);
}

static void kbd_reset(void *opaque)
{
	vm_end(opaque, VMM_EXIT_RESET, 0, "guest reset (i8042)");
}

static int kbd_init(struct vmm *vm, void *state, const struct platform_device *dev)
{
	return i8042_init(state, kbd_reset, vm);
}

static void kbd_destroy(void *state)
{
	i8042_destroy(state);
}

static void test_exit(void *opaque, uint32_t code)
{
	vm_end(opaque, VMM_EXIT_TEST, (int)code, "guest exited with code %u", code);
}

static int testdev_init_vm(struct vmm *vm, void *state, const struct platform_device *dev)
{
	int ret = testdev_init(state, test_exit, vm);

	((struct testdev *)state)->qemu_encoding = vm->cfg.qemu_debug_exit;
	return ret;
}

static void testdev_destroy_vm(void *state)
{
	testdev_destroy(state);
}

static void guest_poweroff(void *opaque)
{
	vm_end(opaque, VMM_EXIT_POWEROFF, 0, "guest powered off");
}

static int poweroff_init(struct vmm *vm, void *state, const struct platform_device *dev)
{
	*(struct poweroff *)state = (struct poweroff){guest_poweroff, vm};
	return 0;
}

/* fw_cfg items as QEMU stores them for a PC: what kernels written for
 * QEMU read instead of firmware tables. */
static int fwcfg_init_vm(struct vmm *vm, void *state, const struct platform_device *dev)
{
	struct fwcfg *f = state;
	uint64_t mem = vm->cfg.memory_bytes;
	/* RAM past the PCI hole is moved above 4 GiB (boot/layout.h). */
	uint64_t top = mem <= LAYOUT_LOWMEM_END ? mem : mem + LAYOUT_MMIO_END - LAYOUT_MMIO_START;
	int ret = fwcfg_init(f);

	if (ret < 0)
		return ret;
	if ((ret = fwcfg_add(f, FWCFG_SIGNATURE, "QEMU", 4)) < 0 ||
	    (ret = fwcfg_add_u32(f, FWCFG_ID, 1)) < 0 || /* traditional interface only */
	    (ret = fwcfg_add_u64(f, FWCFG_RAM_SIZE, mem)) < 0 ||
	    (ret = fwcfg_add_u16(f, FWCFG_NB_CPUS, (uint16_t)vm->cfg.cpus)) < 0 ||
	    (ret = fwcfg_add_u16(f, FWCFG_MAX_CPUS, (uint16_t)vm->cfg.cpus)) < 0 ||
	    (ret = fwcfg_add_u64(f, FWCFG_MAX_RAM, top)) < 0) {
		fwcfg_destroy(f);
		return ret;
	}
	return 0;
}

static void fwcfg_destroy_vm(void *state)
{
	fwcfg_destroy(state);
}

static bool testdev_wanted(const struct vmm *vm)
{
	switch (vm->cfg.test_devices) {
	case VMM_TEST_DEVICES_ON:
		return true;
	case VMM_TEST_DEVICES_OFF:
		return false;
	default:
		return vm->cfg.firmware_path != NULL || vm->cfg.qemu_debug_exit;
	}
}

static bool fwcfg_wanted(const struct vmm *vm)
{
	return vm->cfg.fw_cfg;
}

/* The PC's addresses for what a Linux guest and the test guests expect:
 * COM1, the i8042's data and command ports, QEMU's isa-debug-exit port,
 * scratch registers above it and in MMIO space, and the power-off port
 * the project's guest kernel is told about on its command line; and, when
 * the config asks for them, QEMU's test devices (fw_cfg). */
static const struct platform_device pc_devices[] = {
    {
	.name = "com1",
	.state = offsetof(struct platform, com1),
	.irq = 4,
	.init = com1_init,
	.destroy = com1_destroy,
	.win = {{PLATFORM_PIO, 0x3f8, 8, &uart_ops, "com1"}},
    },
    {
	.name = "i8042",
	.state = offsetof(struct platform, kbd),
	.irq = PLATFORM_NO_IRQ,
	.init = kbd_init,
	.destroy = kbd_destroy,
	.win = {{PLATFORM_PIO, 0x60, 1, &i8042_data_ops, "i8042-data"},
		{PLATFORM_PIO, 0x64, 1, &i8042_cmd_ops, "i8042-cmd"}},
    },
    {
	.name = "testdev",
	.state = offsetof(struct platform, testdev),
	.irq = PLATFORM_NO_IRQ,
	.init = testdev_init_vm,
	.destroy = testdev_destroy_vm,
	.wanted = testdev_wanted,
	.win = {{PLATFORM_PIO, 0xf4, 4, &testdev_exit_ops, "test-exit"},
		{PLATFORM_PIO, 0xf8, 4, &testdev_port_ops, "test-scratch"},
		{PLATFORM_MMIO, 0xd0000000, 0x1000, &testdev_mmio_ops, "test-mmio"}},
    },
    {
	.name = "poweroff",
	.state = offsetof(struct platform, poweroff),
	.irq = PLATFORM_NO_IRQ,
	.init = poweroff_init,
	.destroy = NULL,
	.win = {{PLATFORM_PIO, 0x505, 1, &poweroff_ops, "poweroff"}},
    },
    {
	/* QEMU's fw_cfg I/O ports (selector, data); opt-in. */
	.name = "fw_cfg",
	.state = offsetof(struct platform, fwcfg),
	.irq = PLATFORM_NO_IRQ,
	.init = fwcfg_init_vm,
	.destroy = fwcfg_destroy_vm,
	.wanted = fwcfg_wanted,
	.win = {{PLATFORM_PIO, 0x510, 2, &fwcfg_ops, "fw_cfg"}},
    },
};

const struct platform_device *platform_pc(size_t *n)
{
	*n = sizeof(pc_devices) / sizeof(pc_devices[0]);
	return pc_devices;
}

static int place(struct vmm *vm, const struct platform_device *dev, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < PLATFORM_MAX_WINDOWS && dev->win[i].len; i++) {
		const struct platform_window *w = &dev->win[i];
		struct bus *bus = w->bus == PLATFORM_MMIO ? &vm->mmio : &vm->pio;
		int ret = bus_register(bus, w->base, w->len, w->ops, STATE(vm, dev), w->name);

		if (ret < 0) {
			snprintf(err, errlen, "device %s: %s at %#llx: %s", dev->name, w->name,
				 (unsigned long long)w->base, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int platform_setup(struct vmm *vm, const struct platform_device *table, size_t n, char *err,
		   size_t errlen)
{
	bus_init(&vm->pio);
	bus_init(&vm->mmio);
	vm->devices.table = table;
	vm->devices.nr_ready = 0;
	for (size_t i = 0; i < n; i++) {
		const struct platform_device *dev = &table[i];
		int ret;

		if (dev->wanted != NULL && !dev->wanted(vm)) {
			vm->devices.nr_ready = i + 1; /* skipped: teardown skips it too */
			continue;
		}
		ret = dev->init(vm, STATE(vm, dev), dev);
		if (ret < 0) {
			snprintf(err, errlen, "device %s: %s", dev->name, strerror(-ret));
			return ret;
		}
		/* Initialised: teardown destroys it even if placing it fails. */
		vm->devices.nr_ready = i + 1;
		ret = place(vm, dev, err, errlen);
		if (ret < 0)
			return ret;
	}
	return 0;
}

void platform_teardown(struct vmm *vm)
{
	struct platform *p = &vm->devices;

	while (p->nr_ready > 0) {
		const struct platform_device *dev = &p->table[--p->nr_ready];

		if (dev->wanted != NULL && !dev->wanted(vm))
			continue;
		if (dev->destroy != NULL)
			dev->destroy(STATE(vm, dev));
	}
}

struct uart *platform_console(struct vmm *vm)
{
	for (size_t i = 0; i < vm->devices.nr_ready; i++)
		if (vm->devices.table[i].init == com1_init)
			return &vm->devices.com1;
	return NULL;
}
