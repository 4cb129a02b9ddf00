/* Unit tests of the MP table: checksums, CPU entries, IO-APIC and interrupt
 * routing, parsed back the way a guest would. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "boot/mptable.h"
#include "helpers.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

struct parsed {
	unsigned int cpus, bsp, buses, ioapics, intsrc, lint;
	int ioapic_id;
	int irq_pin[16];
	int lint_type[2];
	int apic_ids[MPTABLE_MAX_CPUS];
};

/* Walk the table like Linux's MP parser. */
static void parse(struct test_ram *t, struct parsed *p)
{
	uint8_t *mpf = gpa(t, LAYOUT_EBDA), *mpc, *e, *end;
	unsigned int count;

	memset(p, 0, sizeof(*p));
	memset(p->irq_pin, -1, sizeof(p->irq_pin));
	assert_memory_equal(mpf, "_MP_", 4);
	assert_int_equal(mpf[8], 1);
	assert_int_equal(mpf[9], 4);
	assert_int_equal(sum(mpf, 16), 0);
	assert_int_equal(mpf[11], 0); /* a configuration table follows */

	mpc = gpa(t, rd32(mpf + 4));
	assert_memory_equal(mpc, "PCMP", 4);
	assert_int_equal(mpc[6], 4);
	assert_int_equal(sum(mpc, rd16(mpc + 4)), 0);
	assert_int_equal(rd32(mpc + 36), 0xfee00000);
	count = rd16(mpc + 34);
	e = mpc + 44;
	end = mpc + rd16(mpc + 4);
	for (unsigned int i = 0; i < count; i++) {
		assert_true(e < end);
		switch (e[0]) {
		case 0:
			assert_true(e[3] & 1);
			p->apic_ids[p->cpus++] = e[1];
			if (e[3] & 2)
				p->bsp++, assert_int_equal(e[1], 0);
			e += 20;
			break;
		case 1:
			assert_memory_equal(e + 2, "ISA   ", 6);
			p->buses++;
			e += 8;
			break;
		case 2:
			p->ioapics++;
			p->ioapic_id = e[1];
			assert_int_equal(e[3], 1);
			assert_int_equal(rd32(e + 4), 0xfec00000);
			e += 8;
			break;
		case 3:
			assert_int_equal(e[6], p->ioapic_id);
			p->irq_pin[e[5]] = e[7];
			p->intsrc++;
			e += 8;
			break;
		case 4:
			assert_int_equal(e[6], 0xff);
			p->lint_type[e[7]] = e[1];
			p->lint++;
			e += 8;
			break;
		default:
			fail_msg("unknown entry type %u", e[0]);
		}
	}
	assert_ptr_equal(e, end);
}

static void check_cpus(unsigned int n)
{
	struct test_ram t;
	struct parsed p;

	test_ram_init(&t, 2 * MiB);
	assert_int_equal(mptable_write(&t.ram, n), 0);
	parse(&t, &p);
	assert_int_equal(p.cpus, n);
	assert_int_equal(p.bsp, 1);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(p.apic_ids[i], i);
	assert_int_equal(p.buses, 1);
	assert_int_equal(p.ioapics, 1);
	assert_int_equal(p.ioapic_id, n);
	assert_int_equal(p.intsrc, 15);
	assert_int_equal(p.irq_pin[0], 2);
	assert_int_equal(p.irq_pin[2], -1);
	for (int irq = 3; irq < 16; irq++)
		assert_int_equal(p.irq_pin[irq], irq);
	assert_int_equal(p.irq_pin[1], 1);
	assert_int_equal(p.lint, 2);
	assert_int_equal(p.lint_type[0], 3); /* ExtINT */
	assert_int_equal(p.lint_type[1], 1); /* NMI */
	/* The BIOS data area points at the EBDA. */
	assert_int_equal(rd16(gpa(&t, 0x40e)), 0x9fc0);
	assert_int_equal(rd16(gpa(&t, 0x413)), 639);
	assert_true(LAYOUT_EBDA + mptable_size(n) <= 0x100000);
	test_ram_free(&t);
}

static void one_cpu(void **state)
{
	check_cpus(1);
}

static void two_cpus(void **state)
{
	check_cpus(2);
}

static void many_cpus(void **state)
{
	check_cpus(64);
	check_cpus(MPTABLE_MAX_CPUS);
}

static void bad_cpu_counts(void **state)
{
	struct test_ram t;

	test_ram_init(&t, 2 * MiB);
	assert_int_equal(mptable_write(&t.ram, 0), -EINVAL);
	assert_int_equal(mptable_write(&t.ram, MPTABLE_MAX_CPUS + 1), -EINVAL);
	test_ram_free(&t);

	test_ram_init(&t, 0x9f000); /* the EBDA is not RAM */
	assert_int_equal(mptable_write(&t.ram, 1), -EFAULT);
	test_ram_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(one_cpu),
	    cmocka_unit_test(two_cpus),
	    cmocka_unit_test(many_cpus),
	    cmocka_unit_test(bad_cpu_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
