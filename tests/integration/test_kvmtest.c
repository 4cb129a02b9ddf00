/* Unit tests of kvmtest's result-line parser (no KVM needed): the lines the
 * test guests print, and the malformed ones it must refuse. */
#include <errno.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "kvmtest.h"

static const char console[] =
    "pmu_count: wrote 0x1234, read 0x1234\n"
    "pmu_count: model=amd version=0 gp=6 fixed=0 width=48\r\n"
    "BENCH-ERROR no PMU\n"
    "BENCH workload=ctxsw model=intel ops=100 cycles=123456789\n"
    "PMI count=10 spurious=0 tsc=0x10 big=18446744073709551616 neg=-1 empty= x=12ab\n"
    "pmu_fuzz: seed=1 writes=2000";

static void test_u64(void **state)
{
	uint64_t v = 0;

	assert_int_equal(kvmtest_kv_u64(console, "BENCH", "ops", &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(kvmtest_kv_u64(console, "BENCH", "cycles", &v), 0);
	assert_int_equal(v, 123456789);
	assert_int_equal(kvmtest_kv_u64(console, "PMI", "count", &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(kvmtest_kv_u64(console, "PMI", "tsc", &v), 0);
	assert_int_equal(v, 16);
	/* The last line needs no newline; \r before one is a blank. */
	assert_int_equal(kvmtest_kv_u64(console, "pmu_fuzz:", "writes", &v), 0);
	assert_int_equal(v, 2000);
	assert_int_equal(kvmtest_kv_u64(console, "pmu_count:", "width", &v), 0);
	assert_int_equal(v, 48);
}

static void test_refused(void **state)
{
	uint64_t v = 7;

	assert_int_equal(kvmtest_kv_u64(console, "PMI", "big", &v), -ERANGE);
	assert_int_equal(kvmtest_kv_u64(console, "PMI", "neg", &v), -EINVAL);
	assert_int_equal(kvmtest_kv_u64(console, "PMI", "empty", &v), -EINVAL);
	assert_int_equal(kvmtest_kv_u64(console, "PMI", "x", &v), -EINVAL);
	assert_int_equal(kvmtest_kv_u64(console, "PMI", "nothere", &v), -ENOENT);
	assert_int_equal(kvmtest_kv_u64(console, "NOPE", "count", &v), -ENOENT);
	/* A key only matches a whole word: "spurious" is not "ious". */
	assert_int_equal(kvmtest_kv_u64(console, "PMI", "ious", &v), -ENOENT);
	/* Keys of another line do not leak into the prefix's. */
	assert_int_equal(kvmtest_kv_u64(console, "BENCH", "count", &v), -ENOENT);
	assert_int_equal(v, 7);
}

static void test_str(void **state)
{
	char s[16], tiny[4];

	/* The first pmu_count line has no model=: the second one is taken. */
	assert_int_equal(kvmtest_kv_str(console, "pmu_count:", "model", s, sizeof(s)), 0);
	assert_string_equal(s, "amd");
	/* "BENCH" is a whole word: the BENCH-ERROR line does not match it. */
	assert_int_equal(kvmtest_kv_str(console, "BENCH", "workload", s, sizeof(s)), 0);
	assert_string_equal(s, "ctxsw");
	assert_int_equal(kvmtest_kv_str(console, "BENCH", "workload", tiny, sizeof(tiny)), -ERANGE);
	assert_int_equal(kvmtest_kv_str(console, "BENCH", "model", tiny, sizeof(tiny)), -ERANGE);
	/* An empty prefix matches any line. */
	assert_int_equal(kvmtest_kv_str(console, "", "seed", s, sizeof(s)), 0);
	assert_string_equal(s, "1");
	assert_int_equal(kvmtest_kv_str("", "", "seed", s, sizeof(s)), -ENOENT);
}

/* The lines the guests print (tests/guests/pmu_*.c, bench.c), each key the
 * integration tests read. */
static void test_guest_lines(void **state)
{
	static const char out[] =
	    "pmu_fuzz: seed=3 writes=2000 write_gp=812 reads=2000 read_gp=640 nmis=0\n"
	    "PMI count=10 spurious=0 tsc=1048576000 handler_tsc=2000 period=50000000 "
	    "overshoot=12 model=amd\n"
	    "BENCH workload=multiplex model=amd ops=50 cycles=99\n";
	static const struct {
		const char *prefix, *key;
		uint64_t want;
	} nums[] = {
	    {"pmu_fuzz:", "seed", 3},	    {"pmu_fuzz:", "writes", 2000},
	    {"pmu_fuzz:", "write_gp", 812}, {"pmu_fuzz:", "reads", 2000},
	    {"pmu_fuzz:", "read_gp", 640},  {"PMI", "count", 10},
	    {"PMI", "spurious", 0},	    {"PMI", "tsc", 1048576000},
	    {"PMI", "handler_tsc", 2000},   {"PMI", "period", 50000000},
	    {"PMI", "overshoot", 12},	    {"BENCH", "ops", 50},
	    {"BENCH", "cycles", 99},
	};
	char s[16];

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		uint64_t v = ~0ULL;

		assert_int_equal(kvmtest_kv_u64(out, nums[i].prefix, nums[i].key, &v), 0);
		assert_int_equal(v, nums[i].want);
	}
	assert_int_equal(kvmtest_kv_str(out, "BENCH", "workload", s, sizeof(s)), 0);
	assert_string_equal(s, "multiplex");
	assert_int_equal(kvmtest_kv_str(out, "BENCH", "model", s, sizeof(s)), 0);
	assert_string_equal(s, "amd");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_u64),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_str),
	    cmocka_unit_test(test_guest_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
