/*
 * libFuzzer harness of the Linux loader as the VM core calls it: a kernel
 * image (bzImage, vmlinux ELF with or without a PVH note; the bzImage
 * payload decompressed on the host or not), an initrd, a command line and
 * a vCPU count, into guest RAM of a chosen size. So one target covers the
 * bzImage and ELF parsers, the decompressors, initrd and cmdline placement,
 * the zero page, e820 and the MP table. Input: 1 byte of flags, 1 byte of
 * vCPUs, 1 byte of RAM size, 2 bytes of cmdline length, 4 of initrd length,
 * then cmdline, initrd and the kernel (the rest). Any return is fine; a
 * crash, a sanitizer report or a write outside RAM is the finding.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "boot/linux.h"
#include "fuzz_input.h"

/* Guest RAM sizes to load into: small ones make "does not fit" paths run. */
static const uint64_t ram_sizes[] = {2ULL << 20, 16ULL << 20, 64ULL << 20, 128ULL << 20};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct linux_boot_args a;
	struct guest_ram ram;
	struct boot_plan plan;
	uint64_t ram_size;
	size_t cmd_len, initrd_len, got;
	const uint8_t *p;
	char *cmdline;
	void *mem;
	unsigned int flags;

	flags = (unsigned int)fuzz_uint(&in, 1);
	memset(&a, 0, sizeof(a));
	a.nr_cpus = 1 + (unsigned int)(fuzz_uint(&in, 1) % 64);
	ram_size = ram_sizes[fuzz_uint(&in, 1) % 4];
	cmd_len = fuzz_uint(&in, 2) % 8192;
	initrd_len = fuzz_uint(&in, 4) % (1u << 20);
	a.host_decompress = flags & 1;
	a.no_pvh = flags & 2;
	p = fuzz_bytes(&in, cmd_len, &got);
	cmdline = malloc(got + 1);
	if (cmdline == NULL)
		return 0;
	memcpy(cmdline, p, got);
	cmdline[got] = '\0';
	a.cmdline = (flags & 4) ? NULL : cmdline;
	a.initrd = fuzz_bytes(&in, initrd_len, &a.initrd_len);
	if (a.initrd_len == 0)
		a.initrd = NULL;
	a.kernel = fuzz_bytes(&in, fuzz_left(&in), &a.kernel_len);

	if (layout_split_ram(ram_size, &ram) < 0 || ram.nr_regions != 1) {
		free(cmdline);
		return 0;
	}
	/* Lazily backed: only what the loader touches costs memory. */
	mem = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		free(cmdline);
		return 0;
	}
	ram.region[0].host = mem;
	ram.private_anon = true; /* as the VM core maps it */
	memset(&plan, 0, sizeof(plan));
	boot_load_linux(&a, &ram, &plan);
	munmap(mem, ram_size);
	free(cmdline);
	return 0;
}
