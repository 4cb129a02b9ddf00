/* Test guest hostile mode=M [iters=N] [seed=S]: a guest trying to hurt its
 * host, one way per mode, ending with code 0 if it gets to the end (the
 * host test judges the VMM's figures):
 *   evtsel    a storm of EVTSEL configuration changes on every counter
 *             (cycles, enabled, each write with another of 12 combinations
 *             of privilege, PMI and pin-control (Intel) or guest-only
 *             (AMD; the model treats it as reserved, so 6 there) bits:
 *             every write asks lazy and naive for a new event on any host
 *             (a software fallback counts them all); the cache policy
 *             keeps at most 5 stopped per counter, so on Intel it opens
 *             too, and on AMD it serves the storm from stopped events);
 *   sample    every counter sampling with the smallest period (counter at
 *             -1, INT set), PMIs as NMIs, counters reloaded in the handler;
 *   uart      a flood of bytes to the UART, never waiting for THRE;
 *   io        random port and MMIO accesses (reads and writes, all sizes)
 *             everywhere but the ports that end the VM (0xf4, 0x505, the
 *             i8042's command port) and the LAPIC/IO-APIC pages;
 *   spin      a tight loop with interrupts off, forever: the host stops it. */
#include "lib/gpmu.h"

static void nmi_reload(struct trap_frame *f)
{
}

static int evtsel_storm(struct gpmu *p, uint64_t iters, struct prng *r)
{
	for (unsigned int i = 0; i < p->nr_gp; i++)
		gpmu_use(p, i);
	gpmu_enable_all(p);
	static const uint64_t privs[] = {EVTSEL_USR | EVTSEL_OS, EVTSEL_USR, EVTSEL_OS};
	/* Intel's pin control (bit 19), AMD's guest-only (bit 40): neither
	 * changes what counts, both make another configuration. */
	uint64_t other = p->kind == GPMU_INTEL ? 1ull << 19 : 1ull << 40;

	(void)r;
	for (uint64_t n = 0; n < iters; n++)
		for (unsigned int i = 0; i < p->nr_gp; i++) {
			/* Cycles (countable by any host, even a software one; a
			 * counter mask would make it a raw event, which a software
			 * fallback cannot count), each write another of 12
			 * configurations in turn: one written 12 writes ago is
			 * the closest to come back. */
			uint64_t k = n + i;
			uint64_t ev = p->cycles | privs[k % 3] | (k / 3 % 2 ? EVTSEL_INT : 0) |
				      (k / 6 % 2 ? other : 0);

			wrmsr(gpmu_evtsel_msr(p, i), ev | EVTSEL_EN);
		}
	return 0;
}

static int sample_min(struct gpmu *p, uint64_t iters)
{
	uint64_t mask = gpmu_ctr_mask(p);

	set_nmi_handler(nmi_reload);
	lapic_enable();
	lapic_set_lvtpc(LVT_DM_NMI);
	for (unsigned int i = 0; i < p->nr_gp; i++) {
		wrmsr(gpmu_ctr_msr(p, i), mask); /* one event from the wrap */
		gpmu_use(p, i);
		gpmu_write_evtsel(p, i,
				  p->cycles | EVTSEL_USR | EVTSEL_OS | EVTSEL_INT | EVTSEL_EN);
	}
	gpmu_enable_all(p);
	for (uint64_t n = 0; n < iters; n++) {
		/* Keep every counter at the edge, and unmask LVTPC for the next. */
		for (unsigned int i = 0; i < p->nr_gp; i++)
			wrmsr(gpmu_ctr_msr(p, i), mask);
		lapic_set_lvtpc(LVT_DM_NMI);
		busy_loop(1000);
	}
	gpmu_disable_all(p);
	printf("hostile: sample nmis=%llu\n", (unsigned long long)nmi_count);
	return 0;
}

static int uart_flood(uint64_t bytes)
{
	for (uint64_t n = 0; n < bytes; n++)
		outb(COM1, 'a' + n % 26);
	outb(COM1, '\n');
	return 0;
}

static bool port_allowed(uint16_t port)
{
	return port != TEST_EXIT_PORT && (port & ~3u) != TEST_EXIT_PORT && port != 0x505 &&
	       port != 0x64 && port != 0xcf9 && port != 0x92;
}

static int io_random(uint64_t iters, struct prng *r, uint64_t ram)
{
	for (uint64_t n = 0; n < iters; n++) {
		uint64_t x = prng_next(r);
		uint16_t port = (uint16_t)x;
		unsigned int size = 1u << ((x >> 16) % 3);
		bool write = (x >> 20) & 1;

		if ((x >> 21) & 1) {
			/* MMIO: anywhere in the identity-mapped 4 GiB past RAM. */
			uint64_t a = (x >> 32) & 0xfffffff8u;

			if (a < ram || (a >= 0xfec00000u && a < 0xfee01000u))
				a = 0xd0000000u + ((x >> 32) & 0xff8u);
			if (write)
				*(volatile uint32_t *)a = (uint32_t)x;
			else
				(void)*(volatile uint32_t *)a;
			continue;
		}
		if (!port_allowed(port))
			continue;
		if (write) {
			if (size == 1)
				__asm__ volatile("outb %b0, %w1" : : "a"(x), "Nd"(port));
			else if (size == 2)
				__asm__ volatile("outw %w0, %w1" : : "a"(x), "Nd"(port));
			else
				__asm__ volatile("outl %k0, %w1" : : "a"(x), "Nd"(port));
		} else {
			uint32_t v;

			if (size == 1)
				__asm__ volatile("inb %w1, %b0" : "=a"(v) : "Nd"(port));
			else if (size == 2)
				__asm__ volatile("inw %w1, %w0" : "=a"(v) : "Nd"(port));
			else
				__asm__ volatile("inl %w1, %k0" : "=a"(v) : "Nd"(port));
		}
	}
	return 0;
}

int main(uint64_t ram, uint64_t ncpus, const char *args)
{
	uint64_t iters = arg_u64(args, "iters", 10000);
	char mode[16] = "";
	struct prng r;
	struct gpmu p;

	prng_seed(&r, arg_u64(args, "seed", 1));
	arg_str(args, "mode", mode, sizeof(mode));
	if (strcmp(mode, "uart") == 0)
		return uart_flood(iters);
	if (strcmp(mode, "io") == 0)
		return io_random(iters, &r, ram);
	if (strcmp(mode, "spin") == 0)
		for (;;)
			cpu_relax();
	if (gpmu_detect(&p) == GPMU_NONE) {
		printf("hostile: no PMU\n");
		return 10;
	}
	if (strcmp(mode, "evtsel") == 0)
		return evtsel_storm(&p, iters, &r);
	if (strcmp(mode, "sample") == 0)
		return sample_min(&p, iters);
	printf("hostile: unknown mode '%s'\n", mode);
	return 2;
}
