/* Host-side decompression of a bzImage payload (the compressed vmlinux), so
 * the guest skips its own decompressor. Output is bounded: a hostile image
 * cannot make the host allocate or write more than the caller's cap. */
#ifndef BOOT_DECOMPRESS_H
#define BOOT_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "boot/plan.h"

/* Upper bound of any decompressed kernel, whatever the RAM size. */
#define DECOMPRESS_MAX (512ULL << 20)

enum payload_format {
	PAYLOAD_UNKNOWN = 0,
	PAYLOAD_ELF, /* CONFIG_KERNEL_UNCOMPRESSED: the payload is the ELF itself */
	PAYLOAD_GZIP,
	PAYLOAD_BZIP2,
	PAYLOAD_LZMA,
	PAYLOAD_XZ,
	PAYLOAD_LZO,
	PAYLOAD_LZ4,
	PAYLOAD_ZSTD,
};

/* Recognize the payload's format by its magic bytes. */
enum payload_format payload_detect(const uint8_t *p, size_t len);

/* "gzip", "xz", ... for error lines. */
const char *payload_format_name(enum payload_format f);

/* Decompress a kernel payload. The kernel build appends the decompressed
 * size as a little-endian u32 to every compressed payload; that size must
 * not exceed @max_out, and the stream must not produce more than it.
 * On success *out is a malloc'd buffer of *out_len bytes the caller frees.
 * Errors: -ENOEXEC (unknown format), -ENOTSUP (decompressor not built),
 * -E2BIG (over the cap or over the declared size), -EINVAL (corrupt or
 * truncated stream), -ENOMEM. */
int payload_decompress(const uint8_t *in, size_t len, uint64_t max_out, uint8_t **out,
		       size_t *out_len, struct boot_plan *plan);

#endif
