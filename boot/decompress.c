/* Bounded decompressors for kernel payloads, over Debian's zlib, liblzma,
 * libzstd and liblz4 (each optional at build time). The output buffer is
 * sized from the declared length (+1 byte to detect overrun), so memory use
 * is capped before any data is decompressed. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "boot/decompress.h"
#include "boot/internal.h"

#ifdef HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef HAVE_LZMA
#include <lzma.h>
#endif
#ifdef HAVE_ZSTD
#include <zstd.h>
#include <zstd_errors.h>
#endif
#ifdef HAVE_LZ4
#include <lz4.h>
#endif

/* liblzma's dictionary memory for the kernel's xz/lzma settings is tens of
 * MiB; more means a hostile header. */
#define LZMA_MEMLIMIT	     (256ULL << 20)
#define LZ4_LEGACY_MAGIC     0x184c2102U
#define LZ4_LEGACY_BLOCK_MAX (8U << 20)

static const struct {
	enum payload_format fmt;
	const char *name;
	uint8_t len;
	uint8_t magic[6];
} magics[] = {
    {PAYLOAD_ELF, "uncompressed ELF", 4, {0x7f, 'E', 'L', 'F'}},
    {PAYLOAD_GZIP, "gzip", 2, {0x1f, 0x8b}},
    {PAYLOAD_BZIP2, "bzip2", 3, {'B', 'Z', 'h'}},
    {PAYLOAD_XZ, "xz", 6, {0xfd, '7', 'z', 'X', 'Z', 0x00}},
    {PAYLOAD_LZMA, "lzma", 3, {0x5d, 0x00, 0x00}},
    {PAYLOAD_LZO, "lzo", 4, {0x89, 'L', 'Z', 'O'}},
    {PAYLOAD_LZ4, "lz4", 4, {0x02, 0x21, 0x4c, 0x18}},
    {PAYLOAD_ZSTD, "zstd", 4, {0x28, 0xb5, 0x2f, 0xfd}},
};

enum payload_format payload_detect(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (len >= magics[i].len && !memcmp(p, magics[i].magic, magics[i].len))
			return magics[i].fmt;
	return PAYLOAD_UNKNOWN;
}

const char *payload_format_name(enum payload_format f)
{
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (magics[i].fmt == f)
			return magics[i].name;
	return "unknown";
}

/* One decompressor: fill out[0..cap), return bytes produced or a negative
 * errno with plan->err set. Producing cap bytes means "too big" to the
 * caller, who passes cap = declared + 1. */
typedef long long (*inflate_fn)(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
				struct boot_plan *plan);

#ifdef HAVE_ZLIB
static long long gzip_inflate(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
			      struct boot_plan *plan)
{
	z_stream s;
	int ret;

	memset(&s, 0, sizeof(s));
	if (len > UINT_MAX || cap > UINT_MAX)
		return boot_fail(plan, -E2BIG, "gzip payload too large");
	if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) /* 16+: gzip wrapper only */
		return boot_fail(plan, -ENOMEM, "gzip: cannot initialize zlib");
	s.next_in = (Bytef *)in;
	s.avail_in = (uInt)len;
	s.next_out = out;
	s.avail_out = (uInt)cap;
	/* Z_FINISH returns Z_BUF_ERROR once no progress is possible, so
	 * this loop ends. */
	do
		ret = inflate(&s, Z_FINISH);
	while (ret == Z_OK);
	inflateEnd(&s);
	if (ret == Z_STREAM_END || (ret == Z_BUF_ERROR && s.avail_out == 0))
		return (long long)(cap - s.avail_out);
	if (ret == Z_BUF_ERROR)
		return boot_fail(plan, -EINVAL, "gzip: payload is truncated");
	return boot_fail(plan, -EINVAL, "gzip: corrupt payload (%s)", s.msg ? s.msg : "zlib error");
}
#endif

#ifdef HAVE_LZMA
static long long lzma_run(lzma_stream *s, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
			  const char *name, struct boot_plan *plan)
{
	lzma_ret ret;

	s->next_in = in;
	s->avail_in = len;
	s->next_out = out;
	s->avail_out = cap;
	do
		ret = lzma_code(s, LZMA_FINISH);
	while (ret == LZMA_OK && s->avail_out > 0);
	lzma_end(s);
	if (ret == LZMA_STREAM_END || s->avail_out == 0)
		return (long long)(cap - s->avail_out);
	if (ret == LZMA_BUF_ERROR)
		return boot_fail(plan, -EINVAL, "%s: payload is truncated", name);
	if (ret == LZMA_MEMLIMIT_ERROR || ret == LZMA_MEM_ERROR)
		return boot_fail(plan, -E2BIG, "%s: payload needs more than %llu MiB to decompress",
				 name, LZMA_MEMLIMIT >> 20);
	return boot_fail(plan, -EINVAL, "%s: corrupt payload (liblzma error %d)", name, (int)ret);
}

static long long xz_inflate(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
			    struct boot_plan *plan)
{
	lzma_stream s = LZMA_STREAM_INIT;

	if (lzma_stream_decoder(&s, LZMA_MEMLIMIT, 0) != LZMA_OK)
		return boot_fail(plan, -ENOMEM, "xz: cannot initialize liblzma");
	return lzma_run(&s, in, len, out, cap, "xz", plan);
}

static long long lzma_inflate(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
			      struct boot_plan *plan)
{
	lzma_stream s = LZMA_STREAM_INIT;

	if (lzma_alone_decoder(&s, LZMA_MEMLIMIT) != LZMA_OK)
		return boot_fail(plan, -ENOMEM, "lzma: cannot initialize liblzma");
	return lzma_run(&s, in, len, out, cap, "lzma", plan);
}
#endif

#ifdef HAVE_ZSTD
static long long zstd_inflate(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
			      struct boot_plan *plan)
{
	/* Only the first frame: the size trailer follows it. */
	size_t frame = ZSTD_findFrameCompressedSize(in, len);
	size_t ret;

	if (ZSTD_isError(frame))
		return boot_fail(plan, -EINVAL, "zstd: corrupt payload (%s)",
				 ZSTD_getErrorName(frame));
	ret = ZSTD_decompress(out, cap, in, frame);
	if (ZSTD_getErrorCode(ret) == ZSTD_error_dstSize_tooSmall)
		return (long long)cap;
	if (ZSTD_isError(ret))
		return boot_fail(plan, -EINVAL, "zstd: corrupt payload (%s)",
				 ZSTD_getErrorName(ret));
	return (long long)ret;
}
#endif

#ifdef HAVE_LZ4
/* The kernel uses lz4's legacy format: a magic, then blocks of
 * { u32 compressed size, data } each inflating to at most 8 MiB. */
static long long lz4_inflate(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
			     struct boot_plan *plan)
{
	size_t pos = 4, done = 0;

	/* More than 4 bytes left: another block; exactly 4 is the size trailer. */
	while (len - pos > 4) {
		uint32_t bsize = get_le32(in + pos);
		size_t room = cap - done;
		int n;

		pos += 4;
		if (bsize == LZ4_LEGACY_MAGIC)
			continue; /* concatenated stream */
		if (bsize == 0 || bsize > len - pos || bsize > (uint32_t)INT_MAX)
			return boot_fail(plan, -EINVAL,
					 "lz4: block of %u bytes at %zu is truncated", bsize,
					 pos - 4);
		if (room > LZ4_LEGACY_BLOCK_MAX)
			room = LZ4_LEGACY_BLOCK_MAX;
		if (room == 0)
			return (long long)cap;
		n = LZ4_decompress_safe((const char *)in + pos, (char *)out + done, (int)bsize,
					(int)room);
		if (n < 0) {
			/* lz4 cannot tell "output full" from "corrupt". */
			if (room < LZ4_LEGACY_BLOCK_MAX)
				return (long long)cap;
			return boot_fail(plan, -EINVAL, "lz4: corrupt block at %zu", pos - 4);
		}
		done += (size_t)n;
		pos += bsize;
	}
	return (long long)done;
}
#endif

static inflate_fn inflater(enum payload_format f)
{
	switch (f) {
#ifdef HAVE_ZLIB
	case PAYLOAD_GZIP:
		return gzip_inflate;
#endif
#ifdef HAVE_LZMA
	case PAYLOAD_XZ:
		return xz_inflate;
	case PAYLOAD_LZMA:
		return lzma_inflate;
#endif
#ifdef HAVE_ZSTD
	case PAYLOAD_ZSTD:
		return zstd_inflate;
#endif
#ifdef HAVE_LZ4
	case PAYLOAD_LZ4:
		return lz4_inflate;
#endif
	default:
		return NULL;
	}
}

int payload_decompress(const uint8_t *in, size_t len, uint64_t max_out, uint8_t **out,
		       size_t *out_len, struct boot_plan *plan)
{
	enum payload_format f = payload_detect(in, len);
	inflate_fn fn = inflater(f);
	uint64_t declared;
	uint8_t *buf;
	long long n;
	char s1[32], s2[32];

	*out = NULL;
	*out_len = 0;
	if (f == PAYLOAD_UNKNOWN)
		return boot_fail(plan, -ENOEXEC,
				 "payload: unknown compression (magic %02x %02x %02x %02x)",
				 len > 0 ? in[0] : 0, len > 1 ? in[1] : 0, len > 2 ? in[2] : 0,
				 len > 3 ? in[3] : 0);
	if (!fn)
		return boot_fail(plan, -ENOTSUP,
				 "payload: %s decompression is not built into this VMM; boot "
				 "without host decompression",
				 payload_format_name(f));
	if (len < 8)
		return boot_fail(plan, -EINVAL, "payload: %s stream of %zu bytes is truncated",
				 payload_format_name(f), len);

	declared = get_le32(in + len - 4);
	if (max_out > DECOMPRESS_MAX)
		max_out = DECOMPRESS_MAX;
	if (declared == 0)
		return boot_fail(plan, -EINVAL, "payload: declared decompressed size is 0");
	if (declared > max_out)
		return boot_fail(plan, -E2BIG,
				 "payload: declares %s decompressed, more than the %s allowed (RAM "
				 "size, at most 512 MiB)",
				 fmt_size(s1, declared), fmt_size(s2, max_out));

	buf = malloc(declared + 1);
	if (!buf)
		return boot_fail(plan, -ENOMEM, "payload: cannot allocate %s",
				 fmt_size(s1, declared));
	n = fn(in, len, buf, declared + 1, plan);
	if (n < 0) {
		free(buf);
		return (int)n;
	}
	if ((uint64_t)n > declared) {
		free(buf);
		return boot_fail(
		    plan, -E2BIG,
		    "payload: %s stream inflates beyond its declared %s (decompression bomb?)",
		    payload_format_name(f), fmt_size(s1, declared));
	}
	*out = buf;
	*out_len = (size_t)n;
	return 0;
}
