/* Unit tests of the i8042 reset path and the test devices. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "devices/i8042.h"
#include "devices/testdev.h"

static void count_reset(void *opaque)
{
	(*(int *)opaque)++;
}

static void test_i8042_reset(void **state)
{
	struct i8042 k;
	int resets = 0;

	assert_int_equal(i8042_init(&k, count_reset, &resets), 0);
	/* Linux waits for the input buffer to drain (status bit 1) first. */
	assert_int_equal(i8042_read(&k, true) & 0x02, 0);
	i8042_write(&k, true, 0xfe);
	assert_int_equal(resets, 1);
	i8042_destroy(&k);
}

static void test_i8042_commands(void **state)
{
	struct i8042 k;
	int resets = 0;

	i8042_init(&k, count_reset, &resets);
	i8042_write(&k, true, 0xaa);
	assert_int_equal(i8042_read(&k, true) & 0x01, 1);
	assert_int_equal(i8042_read(&k, false), 0x55);
	assert_int_equal(i8042_read(&k, true) & 0x01, 0);
	i8042_write(&k, true, 0x60);
	i8042_write(&k, false, 0x31);
	i8042_write(&k, true, 0x20);
	assert_int_equal(i8042_read(&k, false), 0x31);
	i8042_write(&k, true, 0xd1); /* write output port with reset line low */
	i8042_write(&k, false, 0xfe);
	assert_int_equal(resets, 1);
	i8042_write(&k, true, 0xd1);
	i8042_write(&k, false, 0xff);
	assert_int_equal(resets, 1);
	i8042_destroy(&k);
}

static void record_exit(void *opaque, uint32_t code)
{
	*(uint32_t *)opaque = code;
}

static void test_testdev(void **state)
{
	struct testdev t;
	uint32_t code = 0;
	uint8_t d[8] = {0x2a, 0, 0, 0};
	uint8_t r[8];

	assert_int_equal(testdev_init(&t, record_exit, &code), 0);
	testdev_exit_ops.write(&t, 0, d, 1);
	assert_int_equal(code, 42);
	memcpy(d, "\x78\x56\x34\x12", 4);
	testdev_exit_ops.write(&t, 0, d, 4);
	assert_int_equal(code, 0x12345678);

	testdev_port_ops.write(&t, 0, d, 4);
	testdev_port_ops.read(&t, 0, r, 4);
	assert_memory_equal(r, d, 4);
	testdev_port_ops.read(&t, 2, r, 2);
	assert_memory_equal(r, d + 2, 2);

	memcpy(d, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	testdev_mmio_ops.write(&t, 0, d, 8);
	testdev_mmio_ops.read(&t, 0, r, 8);
	assert_memory_equal(r, d, 8);
	testdev_mmio_ops.read(&t, 0x100, r, 4); /* beyond the register reads 0 */
	assert_int_equal(r[0], 0);
	testdev_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_i8042_reset),
		cmocka_unit_test(test_i8042_commands),
		cmocka_unit_test(test_testdev),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
