/* Unit tests of MSR claims, dispatch, the logged-once rule and the filter. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <linux/kvm.h>

#include "vmm/msr_router.h"

struct owner {
	uint64_t value;
	unsigned int last_vcpu;
};

static int owner_rd(void *opaque, unsigned int vcpu, uint32_t msr, uint64_t *val)
{
	struct owner *o = opaque;

	o->last_vcpu = vcpu;
	if (msr == 0x390)
		return -EINVAL;
	*val = o->value + msr;
	return 0;
}

static int owner_wr(void *opaque, unsigned int vcpu, uint32_t msr, uint64_t val)
{
	struct owner *o = opaque;

	o->last_vcpu = vcpu;
	o->value = val;
	return 0;
}

static const struct msr_owner_ops owner_ops = {owner_rd, owner_wr};

static void test_claims(void **state)
{
	struct msr_router r;
	struct owner o = {0};

	assert_int_equal(msr_router_init(&r), 0);
	assert_int_equal(msr_router_claim(&r, 0x186, 8, &owner_ops, &o, "evtsel"), 0);
	assert_int_equal(msr_router_claim(&r, 0x38d, 4, &owner_ops, &o, "global"), 0);
	assert_int_equal(msr_router_claim(&r, 0x18d, 1, &owner_ops, &o, "dup"), -EEXIST);
	assert_int_equal(msr_router_claim(&r, 0x100, 0, &owner_ops, &o, "empty"), -EINVAL);
	assert_int_equal(msr_router_claim(&r, 0xffffffff, 2, &owner_ops, &o, "wrap"), -EINVAL);
	for (unsigned int i = 2; i < MSR_MAX_CLAIMS; i++)
		assert_int_equal(msr_router_claim(&r, 0x1000 + i * 8, 8, &owner_ops, &o, "x"), 0);
	assert_int_equal(msr_router_claim(&r, 0x5000, 1, &owner_ops, &o, "full"), -ENOSPC);
	assert_non_null(msr_router_find(&r, 0x18d));
	assert_null(msr_router_find(&r, 0x18e));
	assert_null(msr_router_find(&r, 0x185));
	msr_router_destroy(&r);
}

static void test_dispatch(void **state)
{
	struct msr_router r;
	struct owner o = {0};
	uint64_t v;

	msr_router_init(&r);
	msr_router_claim(&r, 0x38d, 4, &owner_ops, &o, "global");
	assert_int_equal(msr_router_wrmsr(&r, 3, 0x38f, 0x70000000fULL), 0);
	assert_int_equal(o.value, 0x70000000fULL);
	assert_int_equal(o.last_vcpu, 3);
	assert_int_equal(msr_router_rdmsr(&r, 1, 0x38d, &v), 0);
	assert_int_equal(v, 0x70000000fULL + 0x38d);
	assert_int_equal(msr_router_rdmsr(&r, 1, 0x390, &v), -EINVAL);
	assert_int_equal(msr_router_rdmsr(&r, 1, 0x1234, &v), -ENOENT);
	assert_int_equal(v, 0);
	assert_int_equal(msr_router_wrmsr(&r, 1, 0x1234, 1), -ENOENT);
	msr_router_destroy(&r);
}

static void test_logged_once(void **state)
{
	struct msr_router r;
	unsigned int logged = 0;

	msr_router_init(&r);
	assert_true(msr_router_first_unknown(&r, 0xdead));
	assert_false(msr_router_first_unknown(&r, 0xdead));
	for (uint32_t m = 0; m < 1000; m++)
		logged += msr_router_first_unknown(&r, 0x10000 + m);
	/* MSR_LOGGED_MAX - 1 more distinct ones, then one "and more" line. */
	assert_int_equal(logged, MSR_LOGGED_MAX);
	msr_router_destroy(&r);
}

static void test_filter(void **state)
{
	struct msr_router r;
	struct owner o = {0};
	struct kvm_msr_filter f;
	uint8_t bitmaps[64];

	memset(bitmaps, 0xff, sizeof(bitmaps));
	msr_router_init(&r);
	msr_router_claim(&r, 0xc1, 8, &owner_ops, &o, "pmc");
	msr_router_claim(&r, 0x309, 3, &owner_ops, &o, "fixed");
	msr_router_claim(&r, 0xc0010200, 12, &owner_ops, &o, "amd");
	assert_int_equal(msr_router_bitmaps_len(&r), 1 + 1 + 2);
	assert_int_equal(msr_router_build_filter(&r, &f, bitmaps, 2), -ENOSPC);
	assert_int_equal(msr_router_build_filter(&r, &f, bitmaps, sizeof(bitmaps)), 0);
	assert_int_equal(f.flags, KVM_MSR_FILTER_DEFAULT_ALLOW);
	assert_int_equal(f.ranges[0].base, 0xc1);
	assert_int_equal(f.ranges[0].nmsrs, 8);
	assert_int_equal(f.ranges[0].flags, KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE);
	assert_int_equal(f.ranges[2].base, 0xc0010200);
	assert_int_equal(f.ranges[2].nmsrs, 12);
	/* Denied (bit clear) means: exit to userspace. */
	assert_int_equal(f.ranges[2].bitmap[0], 0);
	assert_int_equal(f.ranges[2].bitmap[1], 0);
	assert_int_equal(f.ranges[3].nmsrs, 0);
	msr_router_destroy(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_logged_once),
		cmocka_unit_test(test_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
