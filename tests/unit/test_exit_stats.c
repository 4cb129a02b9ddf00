/* Unit tests of the per-vCPU exit accounting: kinds, the port table and its
 * overflow bucket, the VMM's time per exit kind, and the one-line reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/exit_stats.h"

static void test_kinds_and_ports(void **state)
{
	struct exit_stats s;
	char line[512];
	int n;

	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 3; i++) {
		exit_stats_count(&s, EXIT_KIND_IO);
		exit_stats_count_port(&s, 0x3f8);
	}
	exit_stats_count(&s, EXIT_KIND_IO);
	exit_stats_count_port(&s, 0x3fd);
	exit_stats_count(&s, EXIT_KIND_WRMSR);
	exit_stats_count(&s, EXIT_KIND_NR); /* out of range: ignored */
	n = exit_stats_format(&s, line, sizeof(line));
	assert_int_equal(n, (int)strlen(line));
	assert_string_equal(line, "5 exits: io 4 (0x3f8 3, 0x3fd 1), mmio 0, rdmsr 0, wrmsr 1, "
				  "signals 0, other 0");
}

static void test_port_table_full(void **state)
{
	struct exit_stats s;
	char small[8];

	memset(&s, 0, sizeof(s));
	for (unsigned int p = 0; p < EXIT_STATS_PORTS + 3; p++)
		exit_stats_count_port(&s, (uint16_t)p);
	assert_int_equal(s.nr_ports, EXIT_STATS_PORTS);
	assert_int_equal(s.port_other, 3);
	/* Truncation: like snprintf, the length it would need. */
	assert_true(exit_stats_format(&s, small, sizeof(small)) > (int)sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

/* Each exit's time goes to the kind counted for it, signals included. */
static void test_time_per_kind(void **state)
{
	struct exit_stats s;
	char line[256];
	int n;

	memset(&s, 0, sizeof(s));
	exit_stats_count(&s, EXIT_KIND_WRMSR);
	exit_stats_end_at(&s, 1000, 1600);
	exit_stats_count(&s, EXIT_KIND_WRMSR);
	exit_stats_end_at(&s, 2000, 2800);
	exit_stats_count(&s, EXIT_KIND_RDMSR);
	exit_stats_end_at(&s, 3000, 3500);
	exit_stats_count(&s, EXIT_KIND_SIGNAL);
	exit_stats_end_at(&s, 4000, 4100);
	exit_stats_count(&s, EXIT_KIND_NR); /* ignored: the time goes to signals */
	exit_stats_end_at(&s, 5000, 5050);
	exit_stats_end_at(&s, 6000, 5000); /* never negative */
	assert_int_equal(s.ns[EXIT_KIND_WRMSR], 1400);
	assert_int_equal(s.ns[EXIT_KIND_RDMSR], 500);
	assert_int_equal(s.ns[EXIT_KIND_SIGNAL], 150);
	assert_int_equal(s.ns[EXIT_KIND_IO], 0);
	n = exit_stats_format_time(&s, line, sizeof(line));
	assert_int_equal(n, (int)strlen(line));
	assert_string_equal(line, "VMM time per exit: rdmsr 500 ns, wrmsr 700 ns, signals 150 ns, "
				  "total 2 us");
}

/* The clock is monotonic and the measured span covers the work between. */
static void test_clock_measures(void **state)
{
	struct exit_stats s;
	volatile uint64_t sink = 0;
	uint64_t t0;

	memset(&s, 0, sizeof(s));
	exit_stats_count(&s, EXIT_KIND_IO);
	t0 = exit_stats_clock();
	for (int i = 0; i < 100000; i++)
		sink += (uint64_t)i;
	exit_stats_end(&s, t0);
	assert_true(s.ns[EXIT_KIND_IO] > 0);
	assert_true(exit_stats_clock() >= t0 + s.ns[EXIT_KIND_IO]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kinds_and_ports),
	    cmocka_unit_test(test_port_table_full),
	    cmocka_unit_test(test_time_per_kind),
	    cmocka_unit_test(test_clock_measures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
