/* Unit tests of the CPUID policy: host detection, the compatibility step
 * and per-vCPU identity. */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compat_hardware_is_noop),
		cmocka_unit_test(test_compat_emulated),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_detect_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
