/* A 16550A UART (the PC's COM1): what Linux's 8250 driver expects, with TX
 * going to a console callback and RX fed from the host. */
#ifndef DEVICES_UART_H
#define DEVICES_UART_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/bus.h"

#define UART_RX_RING 4096

struct uart {
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thre_pending; /* THR-empty interrupt not yet acknowledged */
	bool overrun;
	bool irq_level;
	uint8_t rx[UART_RX_RING];
	size_t rx_head, rx_len;
	/* Guest TX bytes (called without the lock, so it may call
	 * uart_receive), and the interrupt line (called with the lock held). */
	void (*tx)(void *opaque, uint8_t byte);
	void (*set_irq)(void *opaque, bool level);
	void *opaque;
};

extern const struct bus_device_ops uart_ops;

int uart_init(struct uart *u, void (*tx)(void *, uint8_t), void (*set_irq)(void *, bool),
	      void *opaque);
void uart_destroy(struct uart *u);

/* Host side: bytes typed at the console. Returns how many were taken. */
size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len);

/* True while a THR write has no effect but the byte it sends: no interrupt
 * enabled, no loopback. Then the VMM may batch THR writes without exits
 * (a later exit delivers them, in order), which is what a polling console
 * does for every character. */
bool uart_tx_batchable(struct uart *u);

/* Register accesses at offset 0..7 (what the bus ops call). */
uint8_t uart_read_reg(struct uart *u, unsigned int offset);
void uart_write_reg(struct uart *u, unsigned int offset, uint8_t val);

#endif
