/*
 * Guarded guest RAM for the device harnesses (see fuzz_ram.h). The copy
 * and the comparison run on every idle kick, and are most of a harness's
 * time when done with the sanitizers' interceptors (each checks the shadow
 * of both 256 KiB ranges): they are plain word loops here, which the
 * sanitizers leave alone. Making RAM read-only instead costs more on
 * hosts where page-table changes trap to a hypervisor.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_ram.h"

#define NO_SANITIZE __attribute__((no_sanitize("address", "undefined", "coverage")))

void fuzz_ram_init(struct fuzz_ram *r, size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *p;

	if (size == 0 || size % page)
		abort();
	p = mmap(NULL, size + 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p + page, size, PROT_READ | PROT_WRITE))
		abort();
	r->mem = p + page;
	r->saved = malloc(size);
	if (r->saved == NULL)
		abort();
	r->size = size;
	r->saved_valid = false;
	memset(&r->ram, 0, sizeof(r->ram));
	r->ram.region[0] = (struct guest_region){0, size, r->mem};
	r->ram.nr_regions = 1;
	r->ram.total = size;
}

void fuzz_ram_zero(struct fuzz_ram *r)
{
	memset(r->mem, 0, r->size);
	r->saved_valid = false;
}

void fuzz_ram_may_change(struct fuzz_ram *r)
{
	r->saved_valid = false;
}

NO_SANITIZE void fuzz_ram_save(struct fuzz_ram *r)
{
	const uint64_t *restrict from = (const uint64_t *)r->mem;
	uint64_t *restrict to = (uint64_t *)r->saved;
	size_t n = r->size / 8;

	if (r->saved_valid)
		return;
	for (size_t i = 0; i < n; i++)
		to[i] = from[i];
	r->saved_valid = true;
}

NO_SANITIZE bool fuzz_ram_changed(const struct fuzz_ram *r)
{
	const uint64_t *now = (const uint64_t *)r->mem;
	const uint64_t *then = (const uint64_t *)r->saved;
	size_t n = r->size / 8;
	uint64_t diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= now[i] ^ then[i];
	return diff != 0;
}
