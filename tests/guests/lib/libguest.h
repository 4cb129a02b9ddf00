/* libguest: the freestanding runtime of the C test guests. Serial output,
 * the test-exit port, traps (with #GP recovery for probing MSRs), the local
 * APIC, argument parsing and a PRNG. Entered per the raw-guest contract
 * (README "Raw guests"); start.S calls guest_init() and then main(). */
#ifndef LIBGUEST_H
#define LIBGUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COM1 0x3f8
#define TEST_EXIT_PORT 0xf4

/* Exit code used when the guest dies of an unexpected trap: base + vector. */
#define GUEST_EXIT_TRAP 0x100

/* The guest's entry point, called by start.S; its return value ends the VM. */
int main(uint64_t ram, uint64_t ncpus, const char *args);

/* ---- port I/O, CPU instructions ---- */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c,
			 uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	/* lfence: do not let the read drift ahead of the work it times. */
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}

/* Plain MSR accesses: a #GP here is a bug and kills the guest (trap exit). */
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
}

/* MSR accesses that may fault: true when the access raised #GP (the trap
 * handler then skipped the 2-byte instruction). A faulting read gives 0. */
bool safe_rdmsr(uint32_t msr, uint64_t *val);
bool safe_wrmsr(uint32_t msr, uint64_t val);

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* Burn roughly n loop iterations the compiler cannot remove. */
void busy_loop(uint64_t n);

/* ---- output and exit ---- */
void serial_putc(char c);
void serial_puts(const char *s);
/* Subset: %d %u %x %c %s %% with l/ll, '0' flag and a field width. */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
__attribute__((noreturn)) void guest_exit(uint32_t code);

/* ---- traps ---- */
/* What the trap stubs in start.S save, lowest address first. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

typedef void (*trap_hook)(struct trap_frame *f);

void guest_init(void); /* IDT, PIC masked; called by start.S */
void set_nmi_handler(trap_hook fn);
void set_irq_handler(uint8_t vector, trap_hook fn); /* vectors 32..255 */
extern volatile uint64_t nmi_count;		    /* NMIs taken */

static inline void irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}

static inline void irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

/* Halt until an interrupt; STI's one-instruction shadow makes sti;hlt safe
 * against an interrupt arriving in between. Returns with interrupts off. */
static inline void halt_once(void)
{
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

/* ---- local APIC (xAPIC MMIO) ---- */
#define LAPIC_BASE 0xfee00000ul
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_LVTT 0x320
#define LAPIC_LVTPC 0x340
#define LAPIC_TMICT 0x380
#define LAPIC_TMCCT 0x390
#define LAPIC_TDCR 0x3e0
#define LVT_DM_NMI (4u << 8)
#define LVT_MASKED (1u << 16)
#define SPURIOUS_VECTOR 0xff

static inline uint32_t lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(LAPIC_BASE + reg);
}

static inline void lapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(LAPIC_BASE + reg) = v;
}

/* Software-enable the LAPIC: until then every LVT write is forced masked. */
void lapic_enable(void);
static inline void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}
static inline void lapic_set_lvtpc(uint32_t v)
{
	lapic_write(LAPIC_LVTPC, v);
}
/* One-shot timer on @vector after @ticks bus cycles (divide by 1; KVM's
 * emulated APIC bus runs at 1 GHz, so ticks are nanoseconds there). */
void lapic_timer_oneshot(uint8_t vector, uint32_t ticks);

/* ---- arguments: "key=value key2=value2", from --cmdline ---- */
uint64_t arg_u64(const char *args, const char *key, uint64_t def);
/* Copies the value into buf (NUL-terminated); false if the key is absent. */
bool arg_str(const char *args, const char *key, char *buf, size_t len);

/* ---- xorshift64* PRNG ---- */
struct prng {
	uint64_t s;
};
void prng_seed(struct prng *r, uint64_t seed);
uint64_t prng_next(struct prng *r);

/* ---- string helpers (the compiler may emit calls to the mem* ones) ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
