/* libguest: serial console, printf subset, test exit, traps (with the #GP
 * recovery safe_rdmsr/safe_wrmsr rely on), LAPIC helpers, key=value
 * arguments and a PRNG for the freestanding C test guests. */
#include "libguest.h"

/* ---- memory and strings: -ffreestanding still lets GCC call these ---- */
void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;

	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;

	if (p < q)
		return memcpy(d, s, n);
	while (n--)
		p[n] = q[n];
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

void busy_loop(uint64_t n)
{
	for (volatile uint64_t i = 0; i < n; i++)
		;
}

/* ---- serial and exit ---- */
void serial_putc(char c)
{
	/* LSR bit 5: the transmit holding register can take a byte. */
	while (!(inb(COM1 + 5) & 0x20))
		cpu_relax();
	outb(COM1, (uint8_t)c);
}

void serial_puts(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

void guest_exit(uint32_t code)
{
	outl(TEST_EXIT_PORT, code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- printf subset ---- */
struct out {
	char *buf; /* NULL: to the serial port */
	size_t len, pos;
};

static void out_c(struct out *o, char c)
{
	if (o->buf == NULL)
		serial_putc(c);
	else if (o->pos + 1 < o->len)
		o->buf[o->pos] = c;
	o->pos++;
}

static void out_num(struct out *o, uint64_t v, unsigned int base, bool neg, unsigned int width,
		    char pad)
{
	char tmp[24];
	unsigned int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg && pad == '0')
		out_c(o, '-');
	for (unsigned int w = n + (neg ? 1 : 0); w < width; w++)
		out_c(o, pad);
	if (neg && pad != '0')
		out_c(o, '-');
	while (n)
		out_c(o, tmp[--n]);
}

static int format(struct out *o, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		unsigned int width = 0, lng = 0;
		char pad = ' ';
		uint64_t u;
		int64_t s;

		if (*fmt != '%') {
			out_c(o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned int)(*fmt++ - '0');
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
			s = lng ? va_arg(ap, long long) : va_arg(ap, int);
			out_num(o, s < 0 ? -(uint64_t)s : (uint64_t)s, 10, s < 0, width, pad);
			break;
		case 'u':
		case 'x':
			u = lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
			out_num(o, u, *fmt == 'x' ? 16 : 10, false, width, pad);
			break;
		case 'c':
			out_c(o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);

			for (str = str ? str : "(null)"; *str; str++)
				out_c(o, *str);
			break;
		}
		case '%':
			out_c(o, '%');
			break;
		case '\0':
			return (int)o->pos;
		default:
			out_c(o, '%');
			out_c(o, *fmt);
			break;
		}
	}
	return (int)o->pos;
}

int vprintf(const char *fmt, va_list ap)
{
	struct out o = {0};

	return format(&o, fmt, ap);
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int snprintf(char *buf, size_t len, const char *fmt, ...)
{
	struct out o = {buf, len, 0};
	va_list ap;

	va_start(ap, fmt);
	format(&o, fmt, ap);
	va_end(ap);
	if (len)
		buf[o.pos < len ? o.pos : len - 1] = '\0';
	return (int)o.pos;
}

/* ---- traps ---- */
struct idt_gate {
	uint16_t off0, sel, flags, off1;
	uint32_t off2, zero;
};

extern char trap_stubs[];
static struct idt_gate idt[256] __attribute__((aligned(16)));
static trap_hook irq_hooks[256];
static trap_hook nmi_hook;
volatile uint64_t nmi_count;

/* safe_*msr arm this; a #GP on RDMSR/WRMSR while armed is recovered from. */
static volatile bool gp_armed;
static volatile bool gp_hit;

void guest_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = {sizeof(idt) - 1, (uint64_t)idt};

	for (unsigned int v = 0; v < 256; v++) {
		uint64_t a = (uint64_t)trap_stubs + 16 * v;

		/* Present 64-bit interrupt gate on the contract's code selector:
		 * interrupts stay off inside handlers. */
		idt[v] = (struct idt_gate){(uint16_t)a, 0x08, 0x8e00, (uint16_t)(a >> 16),
					   (uint32_t)(a >> 32), 0};
	}
	__asm__ volatile("lidt %0" : : "m"(idtr));
	/* KVM's BSP LAPIC routes the 8259 (LINT0 ExtINT) with an unprogrammed
	 * vector base: mask every PIC line so nothing lands on an exception
	 * vector once a guest enables interrupts. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

void set_nmi_handler(trap_hook fn)
{
	nmi_hook = fn;
}

void set_irq_handler(uint8_t vector, trap_hook fn)
{
	irq_hooks[vector] = fn;
}

static bool is_msr_insn(uint64_t rip)
{
	const uint8_t *p = (const uint8_t *)rip;

	return p[0] == 0x0f && (p[1] == 0x30 || p[1] == 0x32);
}

void trap_dispatch(struct trap_frame *f);
void trap_dispatch(struct trap_frame *f)
{
	if (f->vector == 13 && gp_armed && is_msr_insn(f->rip)) {
		gp_hit = true;
		f->rip += 2; /* RDMSR and WRMSR are both 0f 3x */
		return;
	}
	if (f->vector == 2) {
		/* An NMI may land inside a safe_*msr window; its own MSR
		 * accesses must not be mistaken for the probed one. */
		bool armed = gp_armed;

		gp_armed = false;
		nmi_count++;
		if (nmi_hook)
			nmi_hook(f);
		gp_armed = armed;
		return;
	}
	if (f->vector >= 32) {
		if (irq_hooks[f->vector])
			irq_hooks[f->vector](f);
		else if (f->vector != SPURIOUS_VECTOR)
			lapic_eoi();
		return;
	}
	printf("guest: exception %llu error 0x%llx at rip 0x%llx (rcx 0x%llx)\n",
	       (unsigned long long)f->vector, (unsigned long long)f->error,
	       (unsigned long long)f->rip, (unsigned long long)f->rcx);
	guest_exit(GUEST_EXIT_TRAP + (uint32_t)f->vector);
}

bool safe_rdmsr(uint32_t msr, uint64_t *val)
{
	uint32_t lo = 0, hi = 0;
	bool hit;

	gp_hit = false;
	gp_armed = true;
	__asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	gp_armed = false;
	hit = gp_hit;
	*val = hit ? 0 : (uint64_t)hi << 32 | lo;
	return hit;
}

bool safe_wrmsr(uint32_t msr, uint64_t v)
{
	gp_hit = false;
	gp_armed = true;
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
	gp_armed = false;
	return gp_hit;
}

/* ---- LAPIC ---- */
void lapic_enable(void)
{
	lapic_write(LAPIC_SVR, 0x100 | SPURIOUS_VECTOR);
}

void lapic_timer_oneshot(uint8_t vector, uint32_t ticks)
{
	lapic_write(LAPIC_TDCR, 0xb); /* divide by 1 */
	lapic_write(LAPIC_LVTT, vector);
	lapic_write(LAPIC_TMICT, ticks);
}

/* ---- arguments ---- */
/* The value of @key in "k1=v1 k2=v2", or NULL; *len gets its length. */
static const char *arg_find(const char *args, const char *key, size_t *len)
{
	size_t klen = strlen(key);
	const char *p = args;

	if (p == NULL)
		return NULL;
	while (*p) {
		const char *tok, *end;

		while (*p == ' ' || *p == '\t')
			p++;
		tok = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		end = p;
		if ((size_t)(end - tok) > klen && memcmp(tok, key, klen) == 0 && tok[klen] == '=') {
			*len = (size_t)(end - tok) - klen - 1;
			return tok + klen + 1;
		}
	}
	return NULL;
}

uint64_t arg_u64(const char *args, const char *key, uint64_t def)
{
	size_t len, i = 0;
	const char *v = arg_find(args, key, &len);
	unsigned int base = 10;
	uint64_t n = 0;

	if (v == NULL || len == 0)
		return def;
	if (len > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		base = 16;
		i = 2;
	}
	for (; i < len; i++) {
		char c = v[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned int)(c - 'A' + 10);
		else
			return def; /* not a number: keep the default */
		n = n * base + d;
	}
	return n;
}

bool arg_str(const char *args, const char *key, char *buf, size_t len)
{
	size_t vlen;
	const char *v = arg_find(args, key, &vlen);

	if (v == NULL || len == 0)
		return false;
	if (vlen >= len)
		vlen = len - 1;
	memcpy(buf, v, vlen);
	buf[vlen] = '\0';
	return true;
}

/* ---- PRNG: xorshift64* (Vigna); fine for fuzzing, never for secrets ---- */
void prng_seed(struct prng *r, uint64_t seed)
{
	r->s = seed ? seed : 0x9e3779b97f4a7c15ull; /* the state must not be 0 */
}

uint64_t prng_next(struct prng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}
