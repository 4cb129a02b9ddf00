/* Unit tests of the per-vCPU exit accounting: kinds, the port table and its
 * overflow bucket, and the one-line report. */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds_and_ports),
		cmocka_unit_test(test_port_table_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
