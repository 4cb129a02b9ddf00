/* Architectural PMU MSR numbers, shared by the register models and by the
 * test guests (plain defines, so freestanding guest code can include it). */
#ifndef PMU_MSR_H
#define PMU_MSR_H

/* Intel SDM Vol. 3B, "Architectural Performance Monitoring". */
#define MSR_IA32_PMC0			0x0c1
#define MSR_IA32_PERFEVTSEL0		0x186
#define MSR_IA32_FIXED_CTR0		0x309
#define MSR_IA32_PERF_CAPABILITIES	0x345
#define MSR_IA32_FIXED_CTR_CTRL		0x38d
#define MSR_IA32_PERF_GLOBAL_STATUS	0x38e
#define MSR_IA32_PERF_GLOBAL_CTRL	0x38f
#define MSR_IA32_PERF_GLOBAL_OVF_CTRL	0x390
#define MSR_IA32_A_PMC0			0x4c1

/* AMD APM Vol. 2, "Performance Monitoring Counters". */
#define MSR_K7_EVNTSEL0			0xc0010000
#define MSR_K7_PERFCTR0			0xc0010004
#define MSR_F15H_PERF_CTL0		0xc0010200 /* CTLn at +2n, CTRn at +2n+1 */
#define MSR_AMD_GLOBAL_STATUS		0xc0000300
#define MSR_AMD_GLOBAL_CTL		0xc0000301
#define MSR_AMD_GLOBAL_STATUS_CLR	0xc0000302
#define MSR_AMD_GLOBAL_STATUS_SET	0xc0000303

#endif
