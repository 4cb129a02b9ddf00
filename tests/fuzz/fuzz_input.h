/* Reading a fuzzer's input as a stream of small integers and byte runs, so
 * one input drives a whole sequence of operations (shared by the harnesses). */
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct fuzz_in {
	const uint8_t *p;
	size_t len;
};

static inline size_t fuzz_left(const struct fuzz_in *in)
{
	return in->len;
}

/* The next @n bytes (little endian) as a number; zeros past the end. */
static inline uint64_t fuzz_uint(struct fuzz_in *in, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n && in->len > 0; i++, in->p++, in->len--)
		v |= (uint64_t)in->p[0] << (8 * i);
	return v;
}

/* The next up to @n bytes, taken in place. */
static inline const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t n, size_t *got)
{
	const uint8_t *p = in->p;

	*got = n < in->len ? n : in->len;
	in->p += *got;
	in->len -= *got;
	return p;
}

#endif
