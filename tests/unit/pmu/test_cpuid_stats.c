/*
 * CPUID leaves, MSR ranges, statistics and the backend summary line:
 * the pure setup/reporting functions of the vPMU.
 */
#include <string.h>

#include "test_util.h"

static struct pmu_cpuid_entry *leaf(struct pmu_cpuid_entry *e, int n,
				    uint32_t function)
{
	int i;

	for (i = 0; i < n; i++)
		if (e[i].function == function)
			return &e[i];
	return NULL;
}

static void test_intel_leaf_0xa(void **state)
{
	struct pmu_cpuid_entry e[8] = {
		{ .function = 0, .eax = 0x7 },
		{ .function = 1, .ecx = 0x1 },
	};
	struct pmu_backend_caps caps = { .counts = 0x7f };
	struct pmu_config cfg;
	struct pmu_cpuid_entry *a;
	int n;

	pmu_config_defaults(&cfg, PMU_MODEL_INTEL);
	n = pmu_cpuid_patch(&cfg, &caps, e, 2, 8);
	assert_int_equal(n, 3);
	a = leaf(e, n, 0xa);
	assert_non_null(a);
	assert_int_equal(a->eax, 2 | 4 << 8 | 48 << 16 | 7 << 24);
	assert_int_equal(a->ebx, 0);
	assert_int_equal(a->ecx, 0);
	assert_int_equal(a->edx, 3 | 48 << 5);
	assert_int_equal(leaf(e, n, 0)->eax, 0xa);
	assert_int_equal(leaf(e, n, 1)->ecx, 0x1 | 1u << 15);	/* PDCM */

	/* software fallback: only cycles and ref-cycles available */
	caps.counts = 1u << PMU_EV_CYCLES | 1u << PMU_EV_REF_CYCLES;
	cfg.nr_gp = 8;
	cfg.full_width_writes = false;
	assert_int_equal(pmu_cpuid_patch(&cfg, &caps, e, n, 8), n);
	assert_int_equal(a->ebx, 0x7a);
	assert_int_equal((a->eax >> 8) & 0xff, 8);
	assert_int_equal(leaf(e, n, 1)->ecx, 0x1);

	assert_int_equal(pmu_cpuid_patch(&cfg, &caps, e, 0, 0), -ENOSPC);

	assert_int_equal(pmu_cpuid_hide(e, n), n);
	assert_int_equal(a->eax | a->ebx | a->ecx | a->edx, 0);
}

static void test_amd_leaves(void **state)
{
	struct pmu_cpuid_entry e[8] = {
		{ .function = 0x80000000, .eax = 0x80000008 },
		{ .function = 0x80000001, .ecx = 0x1 },
	};
	struct pmu_config cfg;
	struct pmu_cpuid_entry *ext, *v2;
	int n;

	pmu_config_defaults(&cfg, PMU_MODEL_AMD);
	n = pmu_cpuid_patch(&cfg, NULL, e, 2, 8);
	assert_int_equal(n, 3);
	ext = leaf(e, n, 0x80000001);
	v2 = leaf(e, n, 0x80000022);
	assert_int_equal(ext->ecx, 0x1 | 1u << 23);
	assert_int_equal(v2->eax, 1);
	assert_int_equal(v2->ebx & 0xf, 6);
	assert_int_equal(leaf(e, n, 0x80000000)->eax, 0x80000022);

	cfg.nr_gp = 4;
	cfg.perfmon_v2 = false;
	assert_int_equal(pmu_cpuid_patch(&cfg, NULL, e, n, 8), n);
	assert_int_equal(ext->ecx, 0x1);
	assert_int_equal(v2->eax | v2->ebx, 0);

	pmu_config_defaults(&cfg, PMU_MODEL_AMD);
	n = pmu_cpuid_patch(&cfg, NULL, e, n, 8);
	assert_int_equal(pmu_cpuid_hide(e, n), n);
	assert_int_equal(ext->ecx, 0x1);
	assert_int_equal(v2->eax | v2->ebx, 0);
}

static bool range_has(const struct pmu_msr_range *r, int n, uint32_t msr)
{
	int i;

	for (i = 0; i < n; i++)
		if (msr >= r[i].base && msr < r[i].base + r[i].count)
			return true;
	return false;
}

static void test_msr_ranges(void **state)
{
	static const uint32_t intel[] = { PMC0, PMC0 + 7, EVTSEL0 + 7,
		FIXED_CTR0 + 2, PERF_CAPS, FIXED_CTRL, GLOBAL_STATUS,
		GLOBAL_CTRL, GLOBAL_OVF, A_PMC0 + 7 };
	static const uint32_t amd[] = { K7_EVTSEL0, K7_CTR0 + 3, F15_CTL(0),
		F15_CTR(5), AMD_STATUS, AMD_CTL, AMD_STATUS_CLR,
		AMD_STATUS_SET };
	struct pmu_msr_range r[16];
	struct pmu_config cfg;
	unsigned int i;
	int n;

	pmu_config_defaults(&cfg, PMU_MODEL_INTEL);
	n = pmu_msr_ranges(&cfg, r, 16);
	assert_true(n > 0);
	for (i = 0; i < sizeof(intel) / sizeof(intel[0]); i++)
		assert_true(range_has(r, n, intel[i]));
	assert_false(range_has(r, n, 0x10));
	assert_int_equal(pmu_msr_ranges(&cfg, r, 1), -ENOSPC);

	pmu_config_defaults(&cfg, PMU_MODEL_AMD);
	n = pmu_msr_ranges(&cfg, r, 16);
	for (i = 0; i < sizeof(amd) / sizeof(amd[0]); i++)
		assert_true(range_has(r, n, amd[i]));
	assert_false(range_has(r, n, F15_CTR(5) + 1));
}

static void test_stats_add_and_format(void **state)
{
	struct pmu_stats a = { .opens = 3, .fds_peak = 2, .rdmsr = 10 };
	struct pmu_stats b = { .opens = 4, .fds_peak = 1, .gp_faults = 1 };
	struct pmu_stats sum = { 0 };
	char buf[2048], small[16];
	int len;

	pmu_stats_add(&sum, &a);
	pmu_stats_add(&sum, &b);
	assert_int_equal(sum.opens, 7);
	assert_int_equal(sum.fds_peak, 3);
	assert_int_equal(sum.rdmsr, 10);
	assert_int_equal(sum.gp_faults, 1);

	len = pmu_stats_format(&sum, false, buf, sizeof(buf));
	assert_int_equal(len, (int)strlen(buf));
	assert_non_null(strstr(buf, "opens                7\n"));

	len = pmu_stats_format(&sum, true, buf, sizeof(buf));
	assert_int_equal(len, (int)strlen(buf));
	assert_true(buf[0] == '{');
	assert_non_null(strstr(buf, "\"opens\": 7, "));
	assert_string_equal(strstr(buf, "\"fds_peak\": 3}"), "\"fds_peak\": 3}");

	/* truncation: like snprintf, say how much room it needs */
	assert_int_equal(pmu_stats_format(&sum, true, small, sizeof(small)),
			 len);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(pmu_stats_format(&sum, true, NULL, 0), len);
}

static void test_backend_describe(void **state)
{
	struct pmu_backend_caps caps = {
		.name = "perf (software fallback)",
		.counts = 1u << PMU_EV_CYCLES | 1u << PMU_EV_REF_CYCLES,
		.software = 1u << PMU_EV_CYCLES | 1u << PMU_EV_REF_CYCLES,
		.sampling = true,
	};
	char buf[512];

	assert_true(pmu_backend_describe(&caps, buf, sizeof(buf)) > 0);
	assert_string_equal(buf,
		"pmu backend perf (software fallback):"
		" software fallback (task-clock) for cycles,ref-cycles"
		"; not counted: instructions,llc-references,llc-misses,"
		"branches,branch-misses; exclude_host no, sampling yes");

	caps = (struct pmu_backend_caps){
		.name = "null", .counts = 0x7f, .raw = true,
	};
	pmu_backend_describe(&caps, buf, sizeof(buf));
	assert_string_equal(buf, "pmu backend null: counting cycles,"
		"instructions,ref-cycles,llc-references,llc-misses,branches,"
		"branch-misses + raw events; exclude_host no, sampling no");
	/* truncates safely */
	assert_true(pmu_backend_describe(&caps, buf, 10) > 10);
	assert_int_equal(strlen(buf), 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intel_leaf_0xa),
		cmocka_unit_test(test_amd_leaves),
		cmocka_unit_test(test_msr_ranges),
		cmocka_unit_test(test_stats_add_and_format),
		cmocka_unit_test(test_backend_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
