/* Unit tests of the device table walk: the PC devices land on the PC's
 * addresses, and teardown releases exactly the devices that setup
 * initialised, also when setup fails half way. No KVM needed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/platform.h"
#include "vmm/vm.h"

static struct vmm *fake_vm(void)
{
	struct vmm *vm = calloc(1, sizeof(*vm));

	assert_non_null(vm);
	vm->kvm_fd = vm->vm_fd = vm->event_fd = -1;
	vm->cfg.console_out_fd = -1;
	vm->cfg.test_devices = VMM_TEST_DEVICES_ON;
	pthread_mutex_init(&vm->exit_lock, NULL);
	return vm;
}

static void free_vm(struct vmm *vm)
{
	platform_teardown(vm);
	pthread_mutex_destroy(&vm->exit_lock);
	free(vm);
}

struct want {
	uint64_t base, len;
	const char *name;
};

static void assert_bus(const struct bus *bus, const struct want *want, unsigned int n)
{
	assert_int_equal(bus->nr, n);
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(bus->range[i].base, want[i].base);
		assert_int_equal(bus->range[i].len, want[i].len);
		assert_string_equal(bus->range[i].name, want[i].name);
	}
}

static void test_pc_addresses(void **state)
{
	static const struct want pio[] = {
	    {0x60, 1, "i8042-data"},   {0x64, 1, "i8042-cmd"}, {0xf4, 4, "test-exit"},
	    {0xf8, 4, "test-scratch"}, {0x3f8, 8, "com1"},     {0x505, 1, "poweroff"},
	};
	static const struct want mmio[] = {{0xd0000000, 0x1000, "test-mmio"}};
	const struct platform_device *pc;
	struct vmm *vm = fake_vm();
	uint8_t v[4] = {0x11, 0x22, 0x33, 0x44}, back[4];
	char err[128];
	size_t n;

	pc = platform_pc(&n);
	assert_int_equal(platform_setup(vm, pc, n, err, sizeof(err)), 0);
	assert_int_equal(vm->devices.nr_ready, n);
	assert_bus(&vm->pio, pio, sizeof(pio) / sizeof(pio[0]));
	assert_bus(&vm->mmio, mmio, 1);
	assert_int_equal(vm->devices.com1_irq, 4);
	assert_ptr_equal(platform_console(vm), &vm->devices.com1);

	/* The windows reach their devices' state. */
	assert_true(bus_write(&vm->pio, 0xf8, v, 4));
	assert_true(bus_read(&vm->pio, 0xf8, back, 4));
	assert_memory_equal(v, back, 4);
	assert_true(bus_write(&vm->mmio, 0xd0000000, v, 4));
	assert_true(bus_read(&vm->mmio, 0xd0000000, back, 4));
	assert_memory_equal(v, back, 4);
	v[0] = 42;
	v[1] = v[2] = v[3] = 0;
	assert_true(bus_write(&vm->pio, 0xf4, v, 4));
	assert_int_equal(vm->exit.reason, VMM_EXIT_TEST);
	assert_int_equal(vm->exit.code, 42);
	free_vm(vm);
}

static void test_poweroff_port(void **state)
{
	const struct platform_device *pc;
	struct vmm *vm = fake_vm();
	uint8_t b = 0;
	char err[128];
	size_t n;

	pc = platform_pc(&n);
	assert_int_equal(platform_setup(vm, pc, n, err, sizeof(err)), 0);
	assert_true(bus_write(&vm->pio, 0x505, &b, 1));
	assert_int_equal(vm->exit.reason, VMM_EXIT_POWEROFF);
	free_vm(vm);
}

/* The test devices are for test guests: AUTO leaves them out of a kernel's
 * VM and puts them in a --firmware guest's. */
static void test_test_devices_auto(void **state)
{
	const struct platform_device *pc;
	struct vmm *vm = fake_vm();
	uint8_t b[4] = {1, 0, 0, 0};
	char err[128];
	size_t n;

	pc = platform_pc(&n);
	vm->cfg.test_devices = VMM_TEST_DEVICES_AUTO;
	vm->cfg.kernel_path = "bzImage";
	assert_int_equal(platform_setup(vm, pc, n, err, sizeof(err)), 0);
	assert_false(bus_write(&vm->pio, 0xf4, b, 4));
	assert_int_equal(vm->exit.reason, VMM_EXIT_NONE);
	platform_teardown(vm);
	vm->cfg.kernel_path = NULL;
	vm->cfg.firmware_path = "guest.bin";
	assert_int_equal(platform_setup(vm, pc, n, err, sizeof(err)), 0);
	assert_true(bus_write(&vm->pio, 0xf4, b, 4));
	assert_int_equal(vm->exit.reason, VMM_EXIT_TEST);
	free_vm(vm);
}

/* The opt-in QEMU test devices: fw_cfg answers with the VM's CPUs and RAM,
 * and port 0xf4 ends with QEMU's (value << 1) | 1. */
static void test_qemu_devices(void **state)
{
	const struct platform_device *pc;
	struct vmm *vm = fake_vm();
	uint8_t sel[2] = {0x05, 0x00}, b[8] = {0}, v[4] = {3, 0, 0, 0};
	char err[128];
	size_t n;

	vm->cfg.fw_cfg = true;
	vm->cfg.qemu_debug_exit = true;
	vm->cfg.cpus = 3;
	vm->cfg.memory_bytes = 4ULL << 30;
	pc = platform_pc(&n);
	assert_int_equal(platform_setup(vm, pc, n, err, sizeof(err)), 0);
	assert_true(bus_write(&vm->pio, 0x510, sel, 2));
	assert_true(bus_read(&vm->pio, 0x511, b, 1));
	assert_true(bus_read(&vm->pio, 0x511, b + 1, 1));
	assert_int_equal(b[0] | b[1] << 8, 3);
	sel[0] = 0x11; /* highest RAM address: 1 GiB moved above 4 GiB */
	assert_true(bus_write(&vm->pio, 0x510, sel, 2));
	for (int i = 0; i < 8; i++)
		assert_true(bus_read(&vm->pio, 0x511, b + i, 1));
	assert_int_equal(b[4], 1);
	assert_int_equal(b[3], 0x40);
	assert_true(bus_write(&vm->pio, 0xf4, v, 4));
	assert_int_equal(vm->exit.reason, VMM_EXIT_TEST);
	assert_int_equal(vm->exit.code, 7);
	free_vm(vm);
}

/* A fake device whose state records its life. */
struct fake {
	int inits, destroys;
};

static int fake_init(struct vmm *vm, void *state, const struct platform_device *dev)
{
	struct fake *f = state;

	memset(f, 0, sizeof(*f));
	f->inits++;
	return 0;
}

static int fake_init_fails(struct vmm *vm, void *state, const struct platform_device *dev)
{
	struct fake *f = state;

	memset(f, 0, sizeof(*f));
	return -ENOMEM;
}

static void fake_destroy(void *state)
{
	((struct fake *)state)->destroys++;
}

static const struct bus_device_ops no_ops;

static struct fake *fake_at(struct vmm *vm, size_t off)
{
	return (struct fake *)((char *)&vm->devices + off);
}

#define ROW(nm, member, initfn, base)                                                              \
	{                                                                                          \
		.name = nm, .state = offsetof(struct platform, member), .irq = PLATFORM_NO_IRQ,    \
		.init = initfn, .destroy = fake_destroy,                                           \
		.win = {{PLATFORM_PIO, base, 1, &no_ops, nm}},                                     \
	}

static void test_window_clash_releases_initialised(void **state)
{
	/* b's window overlaps a's: a and b were initialised, c never was. */
	static const struct platform_device table[] = {
	    ROW("a", com1, fake_init, 0x10),
	    ROW("b", kbd, fake_init, 0x10),
	    ROW("c", testdev, fake_init, 0x20),
	};
	struct vmm *vm = fake_vm();
	char err[128];

	memset(&vm->devices, 0xa5, offsetof(struct platform, com1_irq));
	assert_int_equal(platform_setup(vm, table, 3, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "device b"));
	assert_int_equal(vm->devices.nr_ready, 2);
	assert_null(platform_console(vm)); /* no COM1 in this table */
	platform_teardown(vm);
	assert_int_equal(fake_at(vm, offsetof(struct platform, com1))->destroys, 1);
	assert_int_equal(fake_at(vm, offsetof(struct platform, kbd))->destroys, 1);
	/* c's state was never touched: still the fill pattern. */
	assert_int_equal(fake_at(vm, offsetof(struct platform, testdev))->inits, (int)0xa5a5a5a5);
	platform_teardown(vm); /* a second teardown releases nothing more */
	assert_int_equal(fake_at(vm, offsetof(struct platform, com1))->destroys, 1);
	free_vm(vm);
}

static void test_init_failure_releases_earlier(void **state)
{
	static const struct platform_device table[] = {
	    ROW("a", com1, fake_init, 0x10),
	    ROW("b", kbd, fake_init_fails, 0x11),
	    ROW("c", testdev, fake_init, 0x12),
	};
	struct vmm *vm = fake_vm();
	char err[128];

	assert_int_equal(platform_setup(vm, table, 3, err, sizeof(err)), -ENOMEM);
	assert_non_null(strstr(err, "device b"));
	assert_int_equal(vm->devices.nr_ready, 1);
	platform_teardown(vm);
	assert_int_equal(fake_at(vm, offsetof(struct platform, com1))->destroys, 1);
	/* b released what it took itself: teardown does not destroy it. */
	assert_int_equal(fake_at(vm, offsetof(struct platform, kbd))->destroys, 0);
	free_vm(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pc_addresses),
	    cmocka_unit_test(test_poweroff_port),
		cmocka_unit_test(test_test_devices_auto),
	    cmocka_unit_test(test_qemu_devices),
	    cmocka_unit_test(test_window_clash_releases_initialised),
	    cmocka_unit_test(test_init_failure_releases_earlier),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
