/* Unit tests of the CPUID policy: host detection, the compatibility step,
 * the VM identity leaves and per-vCPU identity. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/kvm.h>

#include "vmm/cpuid.h"

static struct kvm_cpuid2 *make_cpuid(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 8 * sizeof(c->entries[0]));

	c->nent = 6;
	c->entries[0] = (struct kvm_cpuid_entry2){.function = 0, .ebx = 0x68747541,
						  .ecx = 0x444d4163, .edx = 0x69746e65};
	c->entries[1] = (struct kvm_cpuid_entry2){.function = 1, .ebx = 0x00000800,
						  .ecx = 0xffffffff, .edx = 0x078bfbff};
	c->entries[2] = (struct kvm_cpuid_entry2){.function = 7, .index = 0,
						  .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
						  .ebx = 0xffffffff, .ecx = 0xffffffff};
	c->entries[3] = (struct kvm_cpuid_entry2){.function = 0xd, .index = 1,
						  .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
						  .eax = 0xf};
	c->entries[4] = (struct kvm_cpuid_entry2){.function = 0x80000001, .ecx = 0xffffffff,
						  .edx = 0xffffffff};
	c->entries[5] = (struct kvm_cpuid_entry2){.function = 0xb, .index = 0,
						  .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX};
	return c;
}

static void test_compat_hardware_is_noop(void **state)
{
	struct kvm_cpuid2 *c = make_cpuid();

	assert_int_equal(cpuid_apply_host_compat(c, HOST_KIND_HARDWARE), 0);
	assert_int_equal(cpuid_find(c, 1, 0)->ecx, 0xffffffff);
	free(c);
}

static void test_compat_emulated(void **state)
{
	struct kvm_cpuid2 *c = make_cpuid();

	assert_true(cpuid_apply_host_compat(c, HOST_KIND_EMULATED) > 10);
	assert_int_equal(cpuid_find(c, 1, 0)->ecx & (1u << 26), 0); /* XSAVE */
	assert_int_equal(cpuid_find(c, 1, 0)->ecx & (1u << 23), 0); /* POPCNT */
	assert_int_equal(cpuid_find(c, 1, 0)->ecx & 1u, 1u);	     /* SSE3 kept */
	assert_int_equal(cpuid_find(c, 7, 0)->ebx & (1u << 20), 0); /* SMAP */
	assert_int_equal(cpuid_find(c, 7, 0)->ebx & (1u << 18), 0); /* RDSEED */
	assert_int_equal(cpuid_find(c, 7, 0)->ecx & (1u << 22), 0); /* RDPID */
	assert_int_equal(cpuid_find(c, 0xd, 1)->eax, 0);	     /* XSAVES */
	assert_int_equal(cpuid_find(c, 0x80000001, 0)->edx & (1u << 27), 0); /* RDTSCP */
	assert_int_equal(cpuid_find(c, 0x80000001, 0)->ecx & (1u << 8), 0); /* 3DNowPrefetch */
	/* Idempotent. */
	assert_int_equal(cpuid_apply_host_compat(c, HOST_KIND_EMULATED), 0);
	free(c);
}

static void test_identity(void **state)
{
	struct kvm_cpuid2 *c = make_cpuid();

	cpuid_set_vcpu_identity(c, 3, 4);
	assert_int_equal(cpuid_find(c, 1, 0)->ebx >> 24, 3);
	assert_int_equal((cpuid_find(c, 1, 0)->ebx >> 16) & 0xff, 4);
	assert_int_equal(cpuid_find(c, 1, 0)->ebx & 0xffff, 0x0800);
	assert_int_equal(cpuid_find(c, 0xb, 0)->edx, 3);
	assert_true(cpuid_is_amd(c));
	assert_null(cpuid_find(c, 0x12345, 0));
	assert_null(cpuid_find(c, 7, 1)); /* index is significant for leaf 7 */
	free(c);
}

static void test_detect_host(void **state)
{
	char dir[] = "/tmp/test-cpuid-XXXXXX";
	char path[64];

	assert_non_null(mkdtemp(dir));
	assert_int_equal(cpuid_detect_host(dir), HOST_KIND_HARDWARE);
	snprintf(path, sizeof(path), "%s/kvm_pvm", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(cpuid_detect_host(dir), HOST_KIND_EMULATED);
	snprintf(path, sizeof(path), "%s/kvm_amd", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(cpuid_detect_host(dir), HOST_KIND_HARDWARE);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/kvm_pvm", dir);
	rmdir(path);
	rmdir(dir);
}

/* A table with room to grow, as cpuid_get_supported() allocates it. */
static struct kvm_cpuid2 *make_roomy_cpuid(void)
{
	struct kvm_cpuid2 *small = make_cpuid();
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + CPUID_MAX_ENTRIES * sizeof(c->entries[0]));

	memcpy(c, small, sizeof(*small) + small->nent * sizeof(small->entries[0]));
	free(small);
	/* What KVM lists: its signature leaf (max 0x40000001) and features. */
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){.function = 0x40000000,
							  .eax = 0x40000001};
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){.function = 0x40000001, .eax = 0x1};
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){.function = 0x80000000,
							  .eax = 0x80000008};
	return c;
}

static void test_vm_identity(void **state)
{
	struct kvm_cpuid2 *c = make_roomy_cpuid();
	struct kvm_cpuid_entry2 *e;

	cpuid_find(c, 1, 0)->ecx &= ~(1u << 31);
	assert_int_equal(cpuid_set_vm_identity(c, 2100000), 0);
	assert_true(cpuid_find(c, 1, 0)->ecx & (1u << 31));
	e = cpuid_find(c, 0x40000000, 0);
	assert_non_null(e);
	assert_int_equal(e->eax, 0x40000010);	/* raised to the TSC leaf */
	assert_memory_equal(&e->ebx, "KVMK", 4);
	assert_memory_equal(&e->ecx, "VMKV", 4);
	assert_memory_equal(&e->edx, "M\0\0\0", 4);
	assert_int_equal(cpuid_find(c, 0x40000001, 0)->eax, 0x1); /* KVM's, untouched */
	e = cpuid_find(c, 0x40000010, 0);
	assert_non_null(e);
	assert_int_equal(e->eax, 2100000);
	assert_int_equal(e->ebx, 1000000);
	free(c);
}

static void test_vm_identity_unknown_tsc(void **state)
{
	struct kvm_cpuid2 *c = make_roomy_cpuid();

	assert_int_equal(cpuid_set_vm_identity(c, 0), 0);
	assert_null(cpuid_find(c, 0x40000010, 0));
	assert_int_equal(cpuid_find(c, 0x40000000, 0)->eax, 0x40000001);
	free(c);
}

static void test_get_appends_and_raises_max(void **state)
{
	struct kvm_cpuid2 *c = make_roomy_cpuid();
	uint32_t n = c->nent;
	struct kvm_cpuid_entry2 *e;

	e = cpuid_get(c, 0x80000022, 0);
	assert_non_null(e);
	assert_int_equal(c->nent, n + 1);
	assert_int_equal(e->eax | e->ebx | e->ecx | e->edx, 0);
	assert_int_equal(cpuid_find(c, 0x80000000, 0)->eax, 0x80000022);
	assert_ptr_equal(cpuid_get(c, 0x80000022, 0), e); /* found, not appended again */
	assert_int_equal(c->nent, n + 1);
	c->nent = CPUID_MAX_ENTRIES;
	assert_null(cpuid_get(c, 0x80000023, 0)); /* full */
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compat_hardware_is_noop),
		cmocka_unit_test(test_compat_emulated),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_detect_host),
		cmocka_unit_test(test_vm_identity),
		cmocka_unit_test(test_vm_identity_unknown_tsc),
		cmocka_unit_test(test_get_appends_and_raises_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
