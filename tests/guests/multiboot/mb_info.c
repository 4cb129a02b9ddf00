/* Multiboot test guest: checks what the loader handed over (EAX magic, the
 * information structure's memory sizes, memory map, command line, modules)
 * and prints it on COM1, one fact a line, for the integration test to
 * compare; reads fw_cfg when its command line says "fwcfg"; then writes
 * its verdict (0 = all checks passed) or the code given as "exit=N" to the
 * test-exit port 0xf4. Freestanding 32-bit C, no paging. */
#include <stdint.h>

#define LOADER_MAGIC 0x2BADB002u
#define INFO_NEEDED  ((1u << 0) | (1u << 2) | (1u << 3) | (1u << 6))

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4], mmap_length, mmap_addr, drives_length, drives_addr, config_table;
	uint32_t boot_loader_name;
};

struct mb_module {
	uint32_t start, end, string, reserved;
};

struct mb_mmap {
	uint32_t size;
	uint64_t base, length;
	uint32_t type;
} __attribute__((packed));

static uint8_t zeroed[8192]; /* in bss: the loader must clear it */
static unsigned int failures;

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void putc_(char c)
{
	outb(0x3f8, (uint8_t)c);
}

static void puts_(const char *s)
{
	while (*s)
		putc_(*s++);
}

static void putdec(uint64_t v)
{
	char b[24];
	int n = 0;

	do
		b[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n)
		putc_(b[--n]);
}

static void puthex(uint64_t v)
{
	int shift = 60;

	puts_("0x");
	while (shift > 0 && !(v >> shift))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		putc_("0123456789abcdef"[(v >> shift) & 15]);
}

static void check(int ok, const char *what)
{
	if (ok)
		return;
	failures++;
	puts_("FAIL: ");
	puts_(what);
	putc_('\n');
}

/* Does @word appear in the command line as a whole word? Returns the
 * character after it, or 0. */
static const char *find_word(const char *s, const char *word)
{
	while (s && *s) {
		const char *w = word, *p = s;

		while (*w && *p == *w)
			p++, w++;
		if (!*w && (*p == ' ' || *p == '=' || !*p))
			return p;
		while (*s && *s != ' ')
			s++;
		while (*s == ' ')
			s++;
	}
	return 0;
}

static uint64_t fwcfg_read(uint16_t key, int bytes)
{
	uint64_t v = 0;

	outw(0x510, key);
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)inb(0x511) << (8 * i);
	return v;
}

static void print_fwcfg(void)
{
	char sig[5] = {0};

	outw(0x510, 0);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)inb(0x511);
	puts_("fw_cfg: signature=");
	puts_(sig);
	puts_(" cpus=");
	putdec(fwcfg_read(0x05, 2));
	puts_(" ram=");
	putdec(fwcfg_read(0x03, 8) >> 20);
	puts_("M maxram=");
	puthex(fwcfg_read(0x11, 8));
	putc_('\n');
}

/* The module's first line (at most 40 bytes), as text. */
static void print_data(const struct mb_module *m)
{
	const char *p = (const char *)m->start;

	for (uint32_t i = 0; i < 40 && m->start + i < m->end && p[i] != '\n'; i++)
		putc_(p[i] >= ' ' && p[i] < 127 ? p[i] : '.');
}

static void print_mods(const struct mb_info *mi)
{
	const struct mb_module *m = (const struct mb_module *)mi->mods_addr;

	puts_("mods=");
	putdec(mi->mods_count);
	putc_('\n');
	for (uint32_t i = 0; i < mi->mods_count; i++, m++) {
		puts_("mod");
		putdec(i);
		puts_(": ");
		putdec(m->end - m->start);
		puts_(" bytes, string=<");
		puts_(m->string ? (const char *)m->string : "");
		puts_(">, data=<");
		print_data(m);
		puts_(">\n");
		check(m->start % 4096 == 0, "module not page-aligned");
		check(m->end >= m->start, "module ends before it starts");
	}
}

static void print_mmap(const struct mb_info *mi)
{
	uint32_t p = mi->mmap_addr;
	int upper_ok = 0;

	while (p < mi->mmap_addr + mi->mmap_length) {
		const struct mb_mmap *e = (const struct mb_mmap *)p;

		puts_("mmap: ");
		puthex(e->base);
		puts_(" +");
		puthex(e->length);
		puts_(" type ");
		putdec(e->type);
		putc_('\n');
		if (e->base == 0x100000 && e->type == 1 && e->length == mi->mem_upper * 1024ull)
			upper_ok = 1;
		p += e->size + 4;
	}
	check(upper_ok, "mem_upper disagrees with the memory map");
}

void mb_main(uint32_t magic, const struct mb_info *mi)
{
	const char *cmdline = (const char *)mi->cmdline;
	const char *arg;
	uint32_t code;

	check(magic == LOADER_MAGIC, "EAX is not the multiboot loader magic");
	check((mi->flags & INFO_NEEDED) == INFO_NEEDED, "info flags lack mem/cmdline/mods/mmap");
	for (unsigned int i = 0; i < sizeof(zeroed); i++)
		if (zeroed[i]) {
			check(0, "bss not zeroed");
			break;
		}
	puts_("multiboot: magic ");
	puthex(magic);
	puts_(" flags ");
	puthex(mi->flags);
	puts_("\nmem_lower=");
	putdec(mi->mem_lower);
	puts_(" mem_upper=");
	putdec(mi->mem_upper);
	puts_("\ncmdline=<");
	puts_(cmdline ? cmdline : "");
	puts_(">\n");
	if (mi->flags & (1u << 9)) {
		puts_("loader=");
		puts_((const char *)mi->boot_loader_name);
		putc_('\n');
	}
	check(mi->mem_lower > 0 && mi->mem_lower <= 640, "mem_lower out of range");
	print_mods(mi);
	print_mmap(mi);
	if (find_word(cmdline, "fwcfg"))
		print_fwcfg();

	code = failures ? 1 : 0;
	arg = find_word(cmdline, "exit");
	if (arg && *arg == '=')
		for (code = 0, arg++; *arg >= '0' && *arg <= '9'; arg++)
			code = code * 10 + (uint32_t)(*arg - '0');
	puts_(failures ? "MULTIBOOT-FAIL\n" : "MULTIBOOT-OK\n");
	outl(0xf4, code);
}
