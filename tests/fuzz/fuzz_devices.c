/*
 * libFuzzer harness of the emulated legacy devices a guest pokes with port
 * I/O: the 16550A UART and the i8042. Input: a sequence of operations (guest
 * register read, guest register write, host console input), each with its
 * offset and value. Checked after every step: the receive ring never holds
 * more than its size, the UART's interrupt line is what its registers say
 * (raised only with an enabled cause).
 */
#include <stdlib.h>

#include "devices/i8042.h"
#include "devices/uart.h"
#include "fuzz_input.h"

struct sink {
	size_t tx, resets;
	bool irq;
};

static void on_tx(void *opaque, uint8_t byte)
{
	((struct sink *)opaque)->tx++;
}

static void on_irq(void *opaque, bool level)
{
	((struct sink *)opaque)->irq = level;
}

static void on_reset(void *opaque)
{
	((struct sink *)opaque)->resets++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct sink s = {0};
	struct uart u;
	struct i8042 k;

	if (uart_init(&u, on_tx, on_irq, &s) < 0)
		return 0;
	if (i8042_init(&k, on_reset, &s) < 0) {
		uart_destroy(&u);
		return 0;
	}
	while (fuzz_left(&in) >= 2) {
		unsigned int op = (unsigned int)fuzz_uint(&in, 1);
		uint8_t val = (uint8_t)fuzz_uint(&in, 1);
		size_t got;
		const uint8_t *bytes;

		switch (op % 5) {
		case 0:
			uart_read_reg(&u, (op >> 3) & 7);
			break;
		case 1:
			uart_write_reg(&u, (op >> 3) & 7, val);
			break;
		case 2:
			bytes = fuzz_bytes(&in, val, &got);
			uart_receive(&u, bytes, got);
			break;
		case 3:
			i8042_read(&k, op & 8);
			break;
		default:
			i8042_write(&k, op & 8, val);
			break;
		}
		if (u.rx_len > UART_RX_RING)
			abort();
		/* No enabled interrupt cause, no interrupt. */
		if (s.irq && (u.ier & 0x0f) == 0)
			abort();
	}
	i8042_destroy(&k);
	uart_destroy(&u);
	return 0;
}
