/* Unit tests of `vmm` argument, size and duration parsing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/cli.h"
#include "vmm/term.h"

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)))
#define PARSE(o, ...) cli_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o), err, sizeof(err))

static void test_sizes(void **state)
{
	uint64_t b;

	assert_int_equal(vmm_parse_size("256M", &b), 0);
	assert_int_equal(b, 256ULL << 20);
	assert_int_equal(vmm_parse_size("1G", &b), 0);
	assert_int_equal(b, 1ULL << 30);
	assert_int_equal(vmm_parse_size("64k", &b), 0);
	assert_int_equal(b, 64ULL << 10);
	assert_int_equal(vmm_parse_size("512MiB", &b), 0);
	assert_int_equal(b, 512ULL << 20);
	assert_int_equal(vmm_parse_size("4096", &b), 0);
	assert_int_equal(b, 4096);
	assert_int_equal(vmm_parse_size("", &b), -EINVAL);
	assert_int_equal(vmm_parse_size("M", &b), -EINVAL);
	assert_int_equal(vmm_parse_size("-1G", &b), -EINVAL);
	assert_int_equal(vmm_parse_size("12X", &b), -EINVAL);
	assert_int_equal(vmm_parse_size("1G5", &b), -EINVAL);
	assert_int_equal(vmm_parse_size("99999999999999999999", &b), -ERANGE);
	assert_int_equal(vmm_parse_size("99999999999T", &b), -ERANGE);
}

static void test_durations(void **state)
{
	uint64_t ns;

	assert_int_equal(cli_parse_duration("10ms", &ns), 0);
	assert_int_equal(ns, 10000000);
	assert_int_equal(cli_parse_duration("500us", &ns), 0);
	assert_int_equal(ns, 500000);
	assert_int_equal(cli_parse_duration("2s", &ns), 0);
	assert_int_equal(ns, 2000000000ULL);
	assert_int_equal(cli_parse_duration("7", &ns), 0);
	assert_int_equal(ns, 7000000);
	assert_int_equal(cli_parse_duration("ms", &ns), -EINVAL);
	assert_int_equal(cli_parse_duration("5min", &ns), -EINVAL);
}

static void test_run_options(void **state)
{
	struct cli_opts o;
	char err[256];

	assert_int_equal(PARSE(&o, "vmm", "run", "--memory", "512M", "--cpus", "2", "--firmware",
			       "x.bin", "--pmu", "force", "--pmu-policy", "naive", "--pmu-stats=json",
			       "--pmu-idle-slice", "5ms"),
			 0);
	assert_int_equal(o.action, CLI_RUN);
	assert_int_equal(o.cfg.memory_bytes, 512ULL << 20);
	assert_int_equal(o.cfg.cpus, 2);
	assert_string_equal(o.cfg.firmware_path, "x.bin");
	assert_int_equal(o.cfg.pmu, VMM_PMU_FORCE);
	assert_int_equal(o.cfg.pmu_policy, VMM_PMU_NAIVE);
	assert_int_equal(o.pmu_stats, CLI_STATS_JSON);
	assert_int_equal(o.cfg.pmu_idle_slice_ns, 5000000);

	assert_int_equal(PARSE(&o, "vmm", "run", "-k", "bz", "-i", "rd", "--append", "console=ttyS0"),
			 0);
	assert_string_equal(o.cfg.kernel_path, "bz");
	assert_string_equal(o.cfg.initrd_path, "rd");
	assert_string_equal(o.cfg.cmdline, "console=ttyS0");
	assert_true(o.cfg.host_decompress);
	assert_int_equal(o.cfg.memory_bytes, 256ULL << 20);
	assert_int_equal(o.cfg.cpus, 1);
}

/* Multiboot modules ("FILE[,STRING]", repeatable) and the opt-in QEMU
 * test devices. */
static void test_multiboot_options(void **state)
{
	struct cli_opts o;
	char err[256];

	assert_int_equal(PARSE(&o, "vmm", "run", "--kernel", "k.elf", "--initrd", "env",
			       "--module", "a.bin,the string, with commas", "--module", "b.bin",
			       "--qemu-debug-exit", "--fw-cfg"),
			 0);
	assert_int_equal(o.cfg.nr_modules, 2);
	assert_ptr_equal(o.cfg.modules, o.modules);
	assert_string_equal(o.modules[0].path, "a.bin");
	assert_string_equal(o.modules[0].string, "the string, with commas");
	assert_string_equal(o.modules[1].path, "b.bin");
	assert_null(o.modules[1].string);
	assert_true(o.cfg.qemu_debug_exit);
	assert_true(o.cfg.fw_cfg);

	assert_int_equal(PARSE(&o, "vmm", "run", "--kernel", "k.elf"), 0);
	assert_false(o.cfg.qemu_debug_exit);
	assert_false(o.cfg.fw_cfg);
	assert_int_equal(o.cfg.nr_modules, 0);

	assert_int_equal(PARSE(&o, "vmm", "run", "--kernel", "k", "--module", ",x"), -EINVAL);
	assert_non_null(strstr(err, "expected FILE"));
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "f", "--module", "m"), -EINVAL);
	assert_non_null(strstr(err, "needs --kernel"));
}

static void test_help_version(void **state)
{
	struct cli_opts o;
	char err[256];

	assert_int_equal(PARSE(&o, "vmm", "--help"), 0);
	assert_int_equal(o.action, CLI_HELP);
	assert_int_equal(PARSE(&o, "vmm", "--version"), 0);
	assert_int_equal(o.action, CLI_VERSION);
	assert_int_equal(PARSE(&o, "vmm", "help"), 0);
	assert_int_equal(o.action, CLI_HELP);
	assert_int_equal(PARSE(&o, "vmm", "run", "-h"), 0);
	assert_int_equal(o.action, CLI_HELP);
}

static void test_bad_arguments(void **state)
{
	struct cli_opts o;
	char err[256];

	assert_int_equal(PARSE(&o, "vmm"), -EINVAL);
	assert_int_equal(PARSE(&o, "vmm", "frobnicate"), -EINVAL);
	assert_int_equal(PARSE(&o, "vmm", "run"), -EINVAL);
	assert_non_null(strstr(err, "no boot image"));
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "a", "--memory", "lots"), -EINVAL);
	assert_non_null(strstr(err, "--memory lots"));
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "a", "--memory", "64"), -EINVAL);
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "a", "--cpus", "0"), -EINVAL);
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "a", "--cpus", "65"), -EINVAL);
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "a", "--pmu", "maybe"), -EINVAL);
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "a", "--kernel", "b"), -EINVAL);
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "a", "--initrd", "b"), -EINVAL);
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "a", "--bogus"), -EINVAL);
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware"), -EINVAL);
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "a", "extra"), -EINVAL);
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "a", "--pmu-idle-slice", "1ns"),
			 -EINVAL);
	assert_null(strchr(err, '\n'));
}

/* The cache policy and the guest event filter. */
static void test_pmu_cache_and_events(void **state)
{
	struct cli_opts o;
	char err[256];

	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "a", "--pmu-policy", "cache",
			       "--pmu-events", "deny:0x3c:0,0xc0,fixed1"),
			 0);
	assert_int_equal(o.cfg.pmu_policy, VMM_PMU_CACHE);
	assert_int_equal(o.cfg.pmu_events.action, VMM_PMU_FILTER_DENY);
	assert_int_equal(o.cfg.pmu_events.nr_events, 2);
	assert_int_equal(o.cfg.pmu_events.events[0], VMM_PMU_EVENT(0x3c, 0));
	assert_int_equal(o.cfg.pmu_events.events[1], VMM_PMU_EVENT_ANY_UMASK(0xc0));
	assert_int_equal(o.cfg.pmu_events.fixed_counters, 2);
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "a", "--pmu-events", "allow:"), 0);
	assert_int_equal(o.cfg.pmu_events.action, VMM_PMU_FILTER_ALLOW);
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "a", "--pmu-events", "0x3c"),
			 -EINVAL);
	assert_non_null(strstr(err, "--pmu-events 0x3c"));
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "a", "--pmu-events", "deny:fixed9"),
			 -EINVAL);
	assert_null(strchr(err, '\n'));
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "a", "--pmu-policy", "park"),
			 -EINVAL);
	assert_non_null(strstr(err, "cache"));
	/* no --pmu-policy: the default (cache); each name its own policy */
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "a"), 0);
	assert_int_equal(o.cfg.pmu_policy, VMM_PMU_POLICY_DEFAULT);
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "a", "--pmu-policy", "lazy"), 0);
	assert_int_equal(o.cfg.pmu_policy, VMM_PMU_LAZY);
}

/* The command line confines by default; the library does not. */
static void test_sandbox_options(void **state)
{
	struct cli_opts o;
	struct vmm_config lib;
	char err[256];

	vmm_config_init(&lib);
	assert_false(lib.drop_privileges);
	assert_int_equal(lib.seccomp, VMM_SECCOMP_OFF);
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "x"), 0);
	assert_true(o.cfg.drop_privileges);
	assert_int_equal(o.cfg.seccomp, VMM_SECCOMP_KILL);
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "x", "--seccomp=log",
			       "--keep-privileges"),
			 0);
	assert_false(o.cfg.drop_privileges);
	assert_int_equal(o.cfg.seccomp, VMM_SECCOMP_LOG);
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "x", "--seccomp", "off"), 0);
	assert_int_equal(o.cfg.seccomp, VMM_SECCOMP_OFF);
	assert_int_equal(PARSE(&o, "vmm", "run", "--firmware", "x", "--seccomp=strict"), -EINVAL);
	assert_string_equal(err, "--seccomp strict: expected off, log or kill");
}

static void test_escape(void **state)
{
	struct escape e = {false};

	assert_int_equal(escape_feed(&e, 'a'), ESCAPE_PASS);
	assert_int_equal(escape_feed(&e, 0x01), ESCAPE_SWALLOW);
	assert_int_equal(escape_feed(&e, 0x01), ESCAPE_PASS);
	assert_int_equal(escape_feed(&e, 'x'), ESCAPE_PASS);
	assert_int_equal(escape_feed(&e, 0x01), ESCAPE_SWALLOW);
	assert_int_equal(escape_feed(&e, 'x'), ESCAPE_QUIT);
	assert_int_equal(escape_feed(&e, 0x01), ESCAPE_SWALLOW);
	assert_int_equal(escape_feed(&e, 'q'), ESCAPE_SWALLOW);
	assert_int_equal(escape_feed(&e, 'q'), ESCAPE_PASS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),	     cmocka_unit_test(test_durations),
		cmocka_unit_test(test_run_options),  cmocka_unit_test(test_help_version),
		cmocka_unit_test(test_bad_arguments), cmocka_unit_test(test_escape),
		cmocka_unit_test(test_pmu_cache_and_events),
		cmocka_unit_test(test_multiboot_options),
		cmocka_unit_test(test_sandbox_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
