/* Test guest cpuid_check: prints, as one key=value line, what the guest
 * sees of the CPUID pipeline (the hypervisor bit, the hypervisor signature
 * and its max leaf, the TSC frequency leaf, the PMU leaves and, where PDCM
 * says it exists, IA32_PERF_CAPABILITIES), then exits 0. The host-side test
 * judges the values; the guest only reports them. */
#include "lib/libguest.h"

#define MSR_IA32_PERF_CAPABILITIES 0x345

int main(uint64_t ram, uint64_t ncpus, const char *args)
{
	uint32_t a, b, c, d, ecx1, hv_max, tsc_khz = 0, pmu_ver, ext_ecx = 0, v2 = 0;
	uint64_t perf_caps = 0;
	char sig[13];

	cpuid(1, 0, &a, &b, &ecx1, &d);
	cpuid(0x40000000, 0, &hv_max, &b, &c, &d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = '\0';
	for (int i = 0; i < 12; i++)
		if (sig[i] < 0x21 || sig[i] > 0x7e)
			sig[i] = '_';
	if (hv_max >= 0x40000010) {
		cpuid(0x40000010, 0, &a, &b, &c, &d);
		tsc_khz = a;
	}
	cpuid(0xa, 0, &pmu_ver, &b, &c, &d);
	cpuid(0x80000000, 0, &a, &b, &c, &d);
	if (a >= 0x80000001) {
		cpuid(0x80000001, 0, &a, &b, &ext_ecx, &d);
	}
	cpuid(0x80000000, 0, &a, &b, &c, &d);
	if (a >= 0x80000022)
		cpuid(0x80000022, 0, &v2, &b, &c, &d);
	if (ecx1 & (1u << 15))
		safe_rdmsr(MSR_IA32_PERF_CAPABILITIES, &perf_caps);
	printf("CPUID hypervisor=%u sig=%s hv_max=0x%x tsc_khz=%u pdcm=%u perf_caps=0x%llx "
	       "pmu_version=%u perfctr_core=%u perfmon_v2=%u\n",
	       (ecx1 >> 31) & 1, sig, hv_max, tsc_khz, (ecx1 >> 15) & 1,
	       (unsigned long long)perf_caps, pmu_ver & 0xff, (ext_ecx >> 23) & 1, v2 & 1);
	return 0;
}
