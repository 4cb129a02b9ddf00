/*
 * libFuzzer harness of the bzImage payload decompressors (gzip, xz, lzma,
 * zstd, lz4: whichever were built), with the output cap the loader uses
 * scaled down: a bomb must stop at the cap or at the size the payload
 * declares, never allocate or write past it. The first input byte picks
 * the format's magic to prepend (so each decompressor gets inputs), the
 * second the cap.
 */
#include <stdlib.h>
#include <string.h>

#include "boot/decompress.h"
#include "fuzz_input.h"

static const struct {
	const uint8_t *magic;
	size_t len;
} magics[] = {
    {(const uint8_t *)"", 0},
    {(const uint8_t *)"\x1f\x8b\x08", 3}, /* gzip, deflate */
    {(const uint8_t *)"\xfd"
		      "7zXZ\x00",
     6},				      /* xz */
    {(const uint8_t *)"\x5d\x00\x00", 3},     /* lzma */
    {(const uint8_t *)"\x28\xb5\x2f\xfd", 4}, /* zstd */
    {(const uint8_t *)"\x02\x21\x4c\x18", 4}, /* lz4 legacy */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct boot_plan plan;
	unsigned int pick = (unsigned int)fuzz_uint(&in, 1) % (sizeof(magics) / sizeof(magics[0]));
	uint64_t cap = 4096ULL << (fuzz_uint(&in, 1) % 12); /* 4 KiB .. 8 MiB */
	size_t n, len;
	const uint8_t *rest = fuzz_bytes(&in, fuzz_left(&in), &n);
	uint8_t *buf, *out = NULL;
	size_t out_len = 0;

	len = magics[pick].len + n;
	buf = malloc(len ? len : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, magics[pick].magic, magics[pick].len);
	memcpy(buf + magics[pick].len, rest, n);
	memset(&plan, 0, sizeof(plan));
	if (payload_decompress(buf, len, cap, &out, &out_len, &plan) == 0) {
		if (out_len > cap)
			abort(); /* the bound is the point */
		free(out);
	}
	free(buf);
	return 0;
}
