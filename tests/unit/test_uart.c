/* Unit tests of the 16550A: the register behaviour Linux's 8250 driver
 * relies on (probe, FIFO detection, THRE and RX interrupts, loopback). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "devices/uart.h"

struct sink {
	char out[64];
	size_t n;
	bool irq;
	unsigned int irq_edges;
};

static void sink_tx(void *opaque, uint8_t b)
{
	struct sink *s = opaque;

	if (s->n < sizeof(s->out))
		s->out[s->n++] = (char)b;
}

static void sink_irq(void *opaque, bool level)
{
	struct sink *s = opaque;

	s->irq = level;
	s->irq_edges++;
}

enum { THR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

static void test_tx_and_lsr(void **state)
{
	struct uart u;
	struct sink s = {0};

	assert_int_equal(uart_init(&u, sink_tx, sink_irq, &s), 0);
	uart_write_reg(&u, THR, 'h');
	uart_write_reg(&u, THR, 'i');
	assert_int_equal(s.n, 2);
	assert_memory_equal(s.out, "hi", 2);
	assert_int_equal(uart_read_reg(&u, LSR) & 0x60, 0x60); /* THRE | TEMT */
	assert_int_equal(uart_read_reg(&u, LSR) & 0x01, 0);	/* no data */
	assert_false(s.irq); /* IER is 0 */
	uart_destroy(&u);
}

static void test_divisor_latch_and_scratch(void **state)
{
	struct uart u;
	struct sink s = {0};

	uart_init(&u, sink_tx, sink_irq, &s);
	uart_write_reg(&u, LCR, 0x83);
	uart_write_reg(&u, THR, 0x0c); /* DLL: 9600 baud */
	uart_write_reg(&u, IER, 0x00); /* DLM */
	assert_int_equal(uart_read_reg(&u, THR), 0x0c);
	assert_int_equal(s.n, 0); /* divisor writes are not output */
	uart_write_reg(&u, LCR, 0x03);
	uart_write_reg(&u, SCR, 0x5a);
	assert_int_equal(uart_read_reg(&u, SCR), 0x5a);
	assert_int_equal(uart_read_reg(&u, LCR), 0x03);
	uart_destroy(&u);
}

static void test_fifo_probe(void **state)
{
	struct uart u;
	struct sink s = {0};

	uart_init(&u, sink_tx, sink_irq, &s);
	assert_int_equal(uart_read_reg(&u, IIR) & 0xc0, 0);
	uart_write_reg(&u, FCR, 0x01);
	/* IIR bits 7:6 == 3 is how 8250 autoconfig recognises a 16550A. */
	assert_int_equal(uart_read_reg(&u, IIR) & 0xc0, 0xc0);
	uart_destroy(&u);
}

static void test_loopback_probe(void **state)
{
	struct uart u;
	struct sink s = {0};

	uart_init(&u, sink_tx, sink_irq, &s);
	uart_write_reg(&u, MCR, 0x1a); /* LOOP | OUT2 | RTS */
	assert_int_equal(uart_read_reg(&u, MSR) & 0xf0, 0x90); /* DCD | CTS */
	uart_write_reg(&u, THR, 'L');
	assert_int_equal(s.n, 0);
	assert_int_equal(uart_read_reg(&u, LSR) & 1, 1);
	assert_int_equal(uart_read_reg(&u, THR), 'L');
	uart_write_reg(&u, MCR, 0x0b);
	assert_int_equal(uart_read_reg(&u, MSR) & 0xb0, 0xb0);
	uart_destroy(&u);
}

static void test_thre_interrupt(void **state)
{
	struct uart u;
	struct sink s = {0};

	uart_init(&u, sink_tx, sink_irq, &s);
	uart_write_reg(&u, IER, 0x02); /* enabling ETBEI with THR empty interrupts */
	assert_true(s.irq);
	assert_int_equal(uart_read_reg(&u, IIR) & 0x0f, 0x02);
	assert_false(s.irq); /* reading IIR acknowledged it */
	assert_int_equal(uart_read_reg(&u, IIR) & 0x0f, 0x01);
	uart_write_reg(&u, THR, 'x');
	assert_true(s.irq);
	uart_write_reg(&u, IER, 0x00);
	assert_false(s.irq);
	uart_destroy(&u);
}

/* THR writes may be batched by the VMM only while they do nothing but send
 * the byte: no interrupt enabled, no loopback. */
static void test_tx_batchable(void **state)
{
	struct uart u;
	struct sink s = {0};

	uart_init(&u, sink_tx, sink_irq, &s);
	assert_true(uart_tx_batchable(&u));
	uart_write_reg(&u, IER, 0x02);
	assert_false(uart_tx_batchable(&u));
	uart_write_reg(&u, IER, 0x01); /* RX interrupts only: still not */
	assert_false(uart_tx_batchable(&u));
	uart_write_reg(&u, IER, 0x00);
	assert_true(uart_tx_batchable(&u));
	uart_write_reg(&u, MCR, 0x10); /* loopback: a THR write feeds RX */
	assert_false(uart_tx_batchable(&u));
	uart_write_reg(&u, MCR, 0x00);
	assert_true(uart_tx_batchable(&u));
	uart_destroy(&u);
}

static void test_rx_interrupt(void **state)
{
	struct uart u;
	struct sink s = {0};
	const uint8_t in[] = "ok";

	uart_init(&u, sink_tx, sink_irq, &s);
	assert_int_equal(uart_receive(&u, in, 2), 2);
	assert_false(s.irq); /* RX interrupt not enabled yet */
	uart_write_reg(&u, IER, 0x01);
	assert_true(s.irq);
	assert_int_equal(uart_read_reg(&u, IIR) & 0x0f, 0x04);
	assert_int_equal(uart_read_reg(&u, LSR) & 1, 1);
	assert_int_equal(uart_read_reg(&u, THR), 'o');
	assert_true(s.irq);
	assert_int_equal(uart_read_reg(&u, THR), 'k');
	assert_false(s.irq);
	assert_int_equal(uart_read_reg(&u, LSR) & 1, 0);
	uart_destroy(&u);
}

static void test_rx_overflow(void **state)
{
	static uint8_t big[UART_RX_RING + 100];
	struct uart u;
	struct sink s = {0};

	uart_init(&u, sink_tx, sink_irq, &s);
	assert_int_equal(uart_receive(&u, big, sizeof(big)), UART_RX_RING);
	assert_int_equal(uart_receive(&u, big, 1), 0);
	uart_write_reg(&u, FCR, 0x03); /* clear RX */
	assert_int_equal(uart_read_reg(&u, LSR) & 1, 0);
	uart_destroy(&u);
}

static void test_bus_ops(void **state)
{
	struct uart u;
	struct sink s = {0};
	uint8_t d[2] = {'a', 0x00};

	uart_init(&u, sink_tx, sink_irq, &s);
	uart_ops.write(&u, 0, d, 2); /* 16-bit OUT: THR then IER */
	assert_int_equal(s.n, 1);
	assert_int_equal(s.out[0], 'a');
	uart_ops.read(&u, 5, d, 1);
	assert_int_equal(d[0] & 0x60, 0x60);
	uart_destroy(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tx_and_lsr),	cmocka_unit_test(test_divisor_latch_and_scratch),
		cmocka_unit_test(test_fifo_probe),	cmocka_unit_test(test_loopback_probe),
		cmocka_unit_test(test_thre_interrupt), cmocka_unit_test(test_rx_interrupt),
		cmocka_unit_test(test_rx_overflow),	cmocka_unit_test(test_bus_ops),
		cmocka_unit_test(test_tx_batchable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
