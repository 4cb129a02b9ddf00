/* Guest RAM for the device harnesses: one region between two inaccessible
 * guard pages, so an access past either end faults at once, and a copy of
 * it to tell whether a device that must not write to it did. */
#ifndef FUZZ_RAM_H
#define FUZZ_RAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/layout.h"

struct fuzz_ram {
	uint8_t *mem;
	uint8_t *saved;
	bool saved_valid; /* saved is what RAM holds */
	bool check_due;	  /* RAM must still be what saved holds */
	size_t size;
	struct guest_ram ram; /* one region at guest address 0 */
};

/* Maps @size bytes (a multiple of the page size) of zeroed RAM; aborts if
 * it cannot, as a harness without its RAM has nothing to test. */
void fuzz_ram_init(struct fuzz_ram *r, size_t size);
void fuzz_ram_zero(struct fuzz_ram *r);
/* Copies RAM, unless the copy is still what RAM holds: anything that may
 * write RAM (the harness's own operations, a device allowed to) must call
 * fuzz_ram_may_change() first. */
void fuzz_ram_save(struct fuzz_ram *r);
void fuzz_ram_may_change(struct fuzz_ram *r);
/* A device that must not write RAM has run since fuzz_ram_save(). The
 * comparison is deferred to the next fuzz_ram_may_change() or
 * fuzz_ram_check(), so that a run of such steps costs one pass over RAM;
 * either aborts if RAM changed meanwhile. */
void fuzz_ram_expect_unchanged(struct fuzz_ram *r);
void fuzz_ram_check(struct fuzz_ram *r);

#endif
