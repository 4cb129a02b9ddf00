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
/* Whether RAM differs from what fuzz_ram_save() copied. */
bool fuzz_ram_changed(const struct fuzz_ram *r);

#endif
