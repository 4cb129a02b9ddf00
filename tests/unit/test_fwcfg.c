/* Unit tests of the fw_cfg device: selector and data registers, items read
 * byte by byte and past their end, unknown keys, the item table's limits;
 * and the test-exit port's QEMU encoding. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "devices/fwcfg.h"
#include "devices/testdev.h"

static void select_key(struct fwcfg *f, uint16_t key)
{
	uint8_t b[2] = {(uint8_t)key, (uint8_t)(key >> 8)};

	fwcfg_ops.write(f, 0, b, 2);
}

static uint64_t read_bytes(struct fwcfg *f, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++) {
		uint8_t b;

		fwcfg_ops.read(f, 1, &b, 1);
		v |= (uint64_t)b << (8 * i);
	}
	return v;
}

static void test_items(void **state)
{
	struct fwcfg f;

	assert_int_equal(fwcfg_init(&f), 0);
	assert_int_equal(fwcfg_add(&f, FWCFG_SIGNATURE, "QEMU", 4), 0);
	assert_int_equal(fwcfg_add_u16(&f, FWCFG_NB_CPUS, 4), 0);
	assert_int_equal(fwcfg_add_u64(&f, FWCFG_RAM_SIZE, 0x123456789aULL), 0);

	select_key(&f, FWCFG_SIGNATURE);
	assert_int_equal(read_bytes(&f, 4), 0x554d4551); /* "QEMU" */
	select_key(&f, FWCFG_NB_CPUS);
	assert_int_equal(read_bytes(&f, 2), 4);
	assert_int_equal(read_bytes(&f, 2), 0); /* past the end */
	select_key(&f, FWCFG_NB_CPUS);		/* selecting again rewinds */
	assert_int_equal(read_bytes(&f, 1), 4);
	select_key(&f, FWCFG_RAM_SIZE);
	assert_int_equal(read_bytes(&f, 8), 0x123456789aULL);
	select_key(&f, 0x4000 | FWCFG_NB_CPUS); /* channel bits are ignored */
	assert_int_equal(read_bytes(&f, 2), 4);
	select_key(&f, 0x1234);
	assert_int_equal(read_bytes(&f, 4), 0);

	/* A byte write is not a selector write; the selector reads as 0. */
	fwcfg_ops.write(&f, 0, (const uint8_t[]){FWCFG_SIGNATURE}, 1);
	assert_int_equal(read_bytes(&f, 2), 0);
	fwcfg_destroy(&f);
}

static void test_limits(void **state)
{
	struct fwcfg f;
	uint8_t big[FWCFG_MAX_ITEM_LEN + 1] = {0};

	assert_int_equal(fwcfg_init(&f), 0);
	assert_int_equal(fwcfg_add(&f, 1, big, sizeof(big)), -E2BIG);
	for (unsigned int i = 0; i < FWCFG_MAX_ITEMS; i++)
		assert_int_equal(fwcfg_add_u32(&f, (uint16_t)(0x20 + i), i), 0);
	assert_int_equal(fwcfg_add_u32(&f, 0x40, 1), -ENOSPC);
	assert_int_equal(fwcfg_add_u32(&f, 0x20, 99), 0); /* replacing needs no room */
	select_key(&f, 0x20);
	assert_int_equal(read_bytes(&f, 4), 99);
	fwcfg_destroy(&f);
}

static void record_exit(void *opaque, uint32_t code)
{
	*(uint32_t *)opaque = code;
}

static void test_qemu_exit_encoding(void **state)
{
	struct testdev t;
	uint32_t code = 0xdead;
	uint8_t d[4] = {0, 0, 0, 0};

	assert_int_equal(testdev_init(&t, record_exit, &code), 0);
	t.qemu_encoding = true;
	testdev_exit_ops.write(&t, 0, d, 4);
	assert_int_equal(code, 1); /* kvm-unit-tests' "pass" */
	d[0] = 1;
	testdev_exit_ops.write(&t, 0, d, 4);
	assert_int_equal(code, 3);
	t.qemu_encoding = false;
	testdev_exit_ops.write(&t, 0, d, 4);
	assert_int_equal(code, 1);
	testdev_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_items),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_qemu_exit_encoding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
