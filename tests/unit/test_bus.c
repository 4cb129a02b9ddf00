/* Unit tests of bus registration and dispatch. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "devices/bus.h"

struct probe {
	uint64_t last_offset;
	unsigned int reads, writes, last_size;
	uint8_t last[8];
};

static void probe_read(void *opaque, uint64_t offset, uint8_t *data, unsigned int size)
{
	struct probe *p = opaque;

	p->reads++;
	p->last_offset = offset;
	p->last_size = size;
	memset(data, 0xab, size);
}

static void probe_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned int size)
{
	struct probe *p = opaque;

	p->writes++;
	p->last_offset = offset;
	p->last_size = size;
	memcpy(p->last, data, size);
}

static const struct bus_device_ops probe_ops = {probe_read, probe_write};

static void test_register_overlap(void **state)
{
	struct bus bus;
	struct probe p = {0};

	bus_init(&bus);
	assert_int_equal(bus_register(&bus, 0x3f8, 8, &probe_ops, &p, "a"), 0);
	assert_int_equal(bus_register(&bus, 0x3f0, 8, &probe_ops, &p, "b"), 0);
	assert_int_equal(bus_register(&bus, 0x3ff, 1, &probe_ops, &p, "c"), -EEXIST);
	assert_int_equal(bus_register(&bus, 0x3f4, 8, &probe_ops, &p, "d"), -EEXIST);
	assert_int_equal(bus_register(&bus, 0x400, 0, &probe_ops, &p, "e"), -EINVAL);
	assert_int_equal(bus_register(&bus, UINT64_MAX, 2, &probe_ops, &p, "f"), -EINVAL);
	assert_int_equal(bus.nr, 2);
	assert_int_equal(bus.range[0].base, 0x3f0); /* kept sorted */
	for (unsigned int i = 2; i < BUS_MAX_RANGES; i++)
		assert_int_equal(bus_register(&bus, 0x1000 + i * 16, 16, &probe_ops, &p, "x"), 0);
	assert_int_equal(bus_register(&bus, 0x9000, 1, &probe_ops, &p, "full"), -ENOSPC);
}

static void test_dispatch(void **state)
{
	struct bus bus;
	struct probe a = {0}, b = {0};
	uint8_t data[4] = {1, 2, 3, 4};

	bus_init(&bus);
	assert_int_equal(bus_register(&bus, 0x100, 0x10, &probe_ops, &a, "a"), 0);
	assert_int_equal(bus_register(&bus, 0x200, 0x10, &probe_ops, &b, "b"), 0);
	assert_true(bus_write(&bus, 0x204, data, 4));
	assert_int_equal(b.writes, 1);
	assert_int_equal(b.last_offset, 4);
	assert_memory_equal(b.last, data, 4);
	assert_int_equal(a.writes, 0);
	assert_true(bus_read(&bus, 0x10f, data, 1));
	assert_int_equal(a.reads, 1);
	assert_int_equal(a.last_offset, 0xf);
	assert_int_equal(data[0], 0xab);
	/* Unclaimed: reads float high, writes vanish. */
	memset(data, 0, 4);
	assert_false(bus_read(&bus, 0x150, data, 4));
	assert_int_equal(data[0], 0xff);
	assert_int_equal(data[3], 0xff);
	assert_false(bus_write(&bus, 0x150, data, 4));
	/* An access straddling the end of a range belongs to nobody. */
	assert_false(bus_write(&bus, 0x10e, data, 4));
	assert_int_equal(a.writes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_overlap),
		cmocka_unit_test(test_dispatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
