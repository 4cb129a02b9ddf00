/* 16550A UART model. Transmission is instantaneous, so THR is always empty;
 * the THR-empty interrupt follows the 16550 rules Linux's 8250 driver probes
 * (raised on THR write and on enabling ETBEI, cleared by reading IIR). */
#include <errno.h>
#include <string.h>

#include "devices/uart.h"

enum {
	REG_RBR_THR = 0, REG_IER, REG_IIR_FCR, REG_LCR, REG_MCR, REG_LSR, REG_MSR, REG_SCR,
};

#define IER_RDA 0x01
#define IER_THRE 0x02
#define IER_RLS 0x04
#define IER_MS 0x08
#define IIR_NONE 0x01
#define IIR_RLS 0x06
#define IIR_RDA 0x04
#define IIR_THRE 0x02
#define IIR_FIFO 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

/* Highest-priority pending interrupt, as IIR reports it. */
static uint8_t uart_pending(const struct uart *u)
{
	if ((u->ier & IER_RLS) && u->overrun)
		return IIR_RLS;
	if ((u->ier & IER_RDA) && u->rx_len > 0)
		return IIR_RDA;
	if ((u->ier & IER_THRE) && u->thre_pending)
		return IIR_THRE;
	return IIR_NONE;
}

static void uart_update_irq(struct uart *u)
{
	bool level = uart_pending(u) != IIR_NONE;

	if (level != u->irq_level) {
		u->irq_level = level;
		if (u->set_irq)
			u->set_irq(u->opaque, level);
	}
}

static void uart_rx_push(struct uart *u, uint8_t byte)
{
	if (u->rx_len == UART_RX_RING) {
		u->overrun = true;
		return;
	}
	u->rx[(u->rx_head + u->rx_len) % UART_RX_RING] = byte;
	u->rx_len++;
}

int uart_init(struct uart *u, void (*tx)(void *, uint8_t), void (*set_irq)(void *, bool),
	      void *opaque)
{
	memset(u, 0, sizeof(*u));
	u->tx = tx;
	u->set_irq = set_irq;
	u->opaque = opaque;
	u->lcr = 0x03; /* 8N1, as firmware leaves it */
	u->dll = 1;    /* 115200 baud */
	return -pthread_mutex_init(&u->lock, NULL);
}

void uart_destroy(struct uart *u)
{
	pthread_mutex_destroy(&u->lock);
}

size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len)
{
	size_t n;

	pthread_mutex_lock(&u->lock);
	n = UART_RX_RING - u->rx_len;
	if (n > len)
		n = len;
	for (size_t i = 0; i < n; i++)
		uart_rx_push(u, buf[i]);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

static uint8_t uart_read_locked(struct uart *u, unsigned int offset)
{
	bool dlab = u->lcr & LCR_DLAB;
	uint8_t v;

	switch (offset) {
	case REG_RBR_THR:
		if (dlab)
			return u->dll;
		if (u->rx_len == 0)
			return 0;
		v = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % UART_RX_RING;
		u->rx_len--;
		return v;
	case REG_IER:
		return dlab ? u->dlm : u->ier;
	case REG_IIR_FCR:
		v = uart_pending(u);
		if (v == IIR_THRE)
			u->thre_pending = false; /* reading IIR acknowledges THRE */
		return v | ((u->fcr & FCR_ENABLE) ? IIR_FIFO : 0);
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		v = LSR_THRE | LSR_TEMT | (u->rx_len ? LSR_DR : 0) | (u->overrun ? LSR_OE : 0);
		u->overrun = false;
		return v;
	case REG_MSR:
		if (u->mcr & MCR_LOOP) /* DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
			return ((u->mcr & 0x01) ? MSR_DSR : 0) | ((u->mcr & 0x02) ? MSR_CTS : 0) |
			       ((u->mcr & 0x04) ? MSR_RI : 0) | ((u->mcr & 0x08) ? MSR_DCD : 0);
		return MSR_DCD | MSR_DSR | MSR_CTS;
	default:
		return u->scr;
	}
}

/* Returns true when @val is to be transmitted (after the lock is dropped). */
static bool uart_write_locked(struct uart *u, unsigned int offset, uint8_t val)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (offset) {
	case REG_RBR_THR:
		if (dlab) {
			u->dll = val;
			return false;
		}
		u->thre_pending = true;
		if (u->mcr & MCR_LOOP) {
			uart_rx_push(u, val);
			return false;
		}
		return true;
	case REG_IER:
		if (dlab) {
			u->dlm = val;
			return false;
		}
		if (!(u->ier & IER_THRE) && (val & IER_THRE))
			u->thre_pending = true;
		u->ier = val & 0x0f;
		return false;
	case REG_IIR_FCR:
		if (val & FCR_CLEAR_RX)
			u->rx_len = 0;
		u->fcr = val & 0xc9; /* keep enable, DMA mode and trigger level */
		return false;
	case REG_LCR:
		u->lcr = val;
		return false;
	case REG_MCR:
		u->mcr = val & 0x1f;
		return false;
	case REG_LSR:
	case REG_MSR:
		return false; /* read-only (factory test writes are ignored) */
	default:
		u->scr = val;
		return false;
	}
}

uint8_t uart_read_reg(struct uart *u, unsigned int offset)
{
	uint8_t v;

	pthread_mutex_lock(&u->lock);
	v = uart_read_locked(u, offset & 7);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return v;
}

void uart_write_reg(struct uart *u, unsigned int offset, uint8_t val)
{
	bool transmit;

	pthread_mutex_lock(&u->lock);
	transmit = uart_write_locked(u, offset & 7, val);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	/* Outside the lock: the console sink may feed input back right away. */
	if (transmit && u->tx)
		u->tx(u->opaque, val);
}

/* Wider accesses touch consecutive registers, as byte lanes on the ISA bus. */
static void uart_bus_read(void *opaque, uint64_t offset, uint8_t *data, unsigned int size)
{
	for (unsigned int i = 0; i < size; i++)
		data[i] = uart_read_reg(opaque, (unsigned int)offset + i);
}

static void uart_bus_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned int size)
{
	for (unsigned int i = 0; i < size; i++)
		uart_write_reg(opaque, (unsigned int)offset + i, data[i]);
}

const struct bus_device_ops uart_ops = {
	.read = uart_bus_read,
	.write = uart_bus_write,
};

bool uart_tx_batchable(struct uart *u)
{
	bool ok;

	pthread_mutex_lock(&u->lock);
	ok = u->ier == 0 && !(u->mcr & MCR_LOOP);
	pthread_mutex_unlock(&u->lock);
	return ok;
}
