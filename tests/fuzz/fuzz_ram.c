/*
 * Guarded guest RAM for the device harnesses (see fuzz_ram.h). The copy
 * and the comparison are most of a harness's time: they are plain word
 * loops here, which the sanitizers leave alone (their interceptors would
 * check the shadow of both 256 KiB ranges), and a comparison waits until
 * RAM may change, so that consecutive idle kicks share one. Making RAM
 * read-only instead costs more on hosts where page-table changes trap to
 * a hypervisor.
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
	r->check_due = false;
	memset(&r->ram, 0, sizeof(r->ram));
	r->ram.region[0] = (struct guest_region){0, size, r->mem};
	r->ram.nr_regions = 1;
	r->ram.total = size;
}

void fuzz_ram_zero(struct fuzz_ram *r)
{
	memset(r->mem, 0, r->size);
	r->saved_valid = false;
	r->check_due = false;
}

NO_SANITIZE static bool fuzz_ram_changed(const struct fuzz_ram *r)
{
	const uint64_t *now = (const uint64_t *)r->mem;
	const uint64_t *then = (const uint64_t *)r->saved;
	size_t n = r->size / 8;
	uint64_t diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= now[i] ^ then[i];
	return diff != 0;
}

void fuzz_ram_check(struct fuzz_ram *r)
{
	if (r->check_due && fuzz_ram_changed(r))
		abort();
	r->check_due = false;
}

void fuzz_ram_may_change(struct fuzz_ram *r)
{
	fuzz_ram_check(r);
	r->saved_valid = false;
}

void fuzz_ram_expect_unchanged(struct fuzz_ram *r)
{
	if (!r->saved_valid)
		abort(); /* the harness did not save before the device ran */
	r->check_due = true;
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
