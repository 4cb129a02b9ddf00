/* Unit tests of PMI routing through the LVTPC entry: masking, delivery
 * modes, illegal vectors, and Intel's mask-on-delivery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vmm/pmi.h"

static void test_masked_is_held(void **state)
{
	struct pmi_decision d = pmi_decide(LVT_MASKED | LVT_DELIVERY_NMI, true);

	assert_int_equal(d.route, PMI_HOLD);
	assert_false(d.set_mask);
	/* The reset value of every LVT entry is "masked". */
	assert_int_equal(pmi_decide(0x00010000, false).route, PMI_HOLD);
}

static void test_nmi(void **state)
{
	struct pmi_decision d = pmi_decide(LVT_DELIVERY_NMI, true);

	assert_int_equal(d.route, PMI_NMI);
	assert_true(d.set_mask); /* Intel masks LVTPC on delivery */
	assert_int_equal(d.new_lvtpc, LVT_DELIVERY_NMI | LVT_MASKED);
	d = pmi_decide(LVT_DELIVERY_NMI, false);
	assert_int_equal(d.route, PMI_NMI);
	assert_false(d.set_mask); /* AMD leaves it alone */
	assert_int_equal(d.new_lvtpc, LVT_DELIVERY_NMI);
}

static void test_fixed_vector(void **state)
{
	struct pmi_decision d = pmi_decide(0xe0, true);

	assert_int_equal(d.route, PMI_VECTOR);
	assert_int_equal(d.vector, 0xe0);
	assert_int_equal(d.new_lvtpc, 0xe0 | LVT_MASKED);
	d = pmi_decide(0x10, false);
	assert_int_equal(d.route, PMI_VECTOR);
	assert_int_equal(d.vector, 0x10);
}

static void test_refused(void **state)
{
	/* Vectors below 16 are illegal for fixed delivery. */
	assert_int_equal(pmi_decide(0x0f, true).route, PMI_DROP);
	assert_false(pmi_decide(0x0f, true).set_mask);
	/* SMI, INIT and ExtINT are not counter interrupts. */
	assert_int_equal(pmi_decide(2u << 8, true).route, PMI_DROP);
	assert_int_equal(pmi_decide(5u << 8, true).route, PMI_DROP);
	assert_int_equal(pmi_decide(7u << 8, true).route, PMI_DROP);
}

static void test_unmask_after_hold(void **state)
{
	/* A PMI held while masked goes out once the guest unmasks LVTPC. */
	uint32_t lvt = LVT_DELIVERY_NMI | LVT_MASKED;

	assert_int_equal(pmi_decide(lvt, true).route, PMI_HOLD);
	lvt &= ~LVT_MASKED;
	assert_int_equal(pmi_decide(lvt, true).route, PMI_NMI);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_masked_is_held), cmocka_unit_test(test_nmi),
		cmocka_unit_test(test_fixed_vector),   cmocka_unit_test(test_refused),
		cmocka_unit_test(test_unmask_after_hold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
