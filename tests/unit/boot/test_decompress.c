/* Unit tests of host-side payload decompression: round trips through each
 * compressor the kernel build uses, a crafted bzImage booted with
 * host_decompress, and bounded handling of hostile streams. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "boot/decompress.h"
#include "boot/linux.h"
#include "helpers.h"

#ifdef HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef HAVE_LZMA
#include <lzma.h>
#endif
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif
#ifdef HAVE_LZ4
#include <lz4.h>
#endif

struct buf {
	uint8_t *p;
	size_t len;
};

static const struct elf_seg_spec segs[] = {
    {.paddr = 0x1000000,
     .vaddr = 0xffffffff81000000ULL,
     .filesz = 0x6000,
     .memsz = 0x6000,
     .fill = 0xc3},
    {.paddr = 0x1008000, .filesz = 0x800, .memsz = 0x3000, .fill = 0x77},
};

static struct buf vmlinux(void)
{
	struct elf_spec s = {.entry = 0x1000000,
			     .segs = segs,
			     .nr_segs = 2,
			     .pvh_entry = 0x1000040,
			     .pvh_desc_size = 8};
	struct buf b;

	b.p = make_elf(&s, &b.len);
	return b;
}

/* What the kernel's build does after every compressor but gzip. */
static __attribute__((unused)) void size_append(struct buf *b, uint32_t size)
{
	b->p = realloc(b->p, b->len + 4);
	wr32(b->p + b->len, size);
	b->len += 4;
}

#ifdef HAVE_ZLIB
static struct buf gzip(const uint8_t *in, size_t n)
{
	z_stream s;
	struct buf b;

	memset(&s, 0, sizeof(s));
	assert_int_equal(deflateInit2(&s, 9, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	b.len = deflateBound(&s, n);
	b.p = malloc(b.len);
	s.next_in = (Bytef *)in;
	s.avail_in = (uInt)n;
	s.next_out = b.p;
	s.avail_out = (uInt)b.len;
	assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
	b.len = s.total_out;
	deflateEnd(&s);
	return b;
}
#endif

#ifdef HAVE_LZMA
static struct buf xz(const uint8_t *in, size_t n)
{
	struct buf b = {.len = 0};
	size_t cap = lzma_stream_buffer_bound(n);

	b.p = malloc(cap);
	assert_int_equal(
	    lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in, n, b.p, &b.len, cap), LZMA_OK);
	size_append(&b, (uint32_t)n);
	return b;
}

static struct buf lzma_alone(const uint8_t *in, size_t n)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_options_lzma opt;
	struct buf b;

	lzma_lzma_preset(&opt, 6);
	assert_int_equal(lzma_alone_encoder(&s, &opt), LZMA_OK);
	b.len = n + n / 2 + 4096;
	b.p = malloc(b.len);
	s.next_in = in;
	s.avail_in = n;
	s.next_out = b.p;
	s.avail_out = b.len;
	assert_int_equal(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
	b.len = s.total_out;
	lzma_end(&s);
	size_append(&b, (uint32_t)n);
	return b;
}
#endif

#ifdef HAVE_ZSTD
static struct buf zstd(const uint8_t *in, size_t n)
{
	struct buf b;

	b.len = ZSTD_compressBound(n);
	b.p = malloc(b.len);
	b.len = ZSTD_compress(b.p, b.len, in, n, 19);
	assert_false(ZSTD_isError(b.len));
	size_append(&b, (uint32_t)n);
	return b;
}
#endif

#ifdef HAVE_LZ4
/* lz4 legacy format, as `lz4 -l`: magic, then { u32 size, block }. */
static struct buf lz4_legacy(const uint8_t *in, size_t n)
{
	struct buf b;
	int bound = LZ4_compressBound((int)n), c;

	b.p = malloc(8 + (size_t)bound);
	wr32(b.p, 0x184c2102);
	c = LZ4_compress_default((const char *)in, (char *)b.p + 8, (int)n, bound);
	assert_true(c > 0);
	wr32(b.p + 4, (uint32_t)c);
	b.len = 8 + (size_t)c;
	size_append(&b, (uint32_t)n);
	return b;
}
#endif

typedef struct buf (*compress_fn)(const uint8_t *in, size_t n);

static __attribute__((unused)) void round_trip(compress_fn fn, enum payload_format fmt)
{
	struct buf elf = vmlinux(), z = fn(elf.p, elf.len);
	struct boot_plan plan;
	uint8_t *out;
	size_t out_len;

	assert_int_equal(payload_detect(z.p, z.len), fmt);
	assert_int_equal(payload_decompress(z.p, z.len, 64 * MiB, &out, &out_len, &plan), 0);
	assert_int_equal(out_len, elf.len);
	assert_memory_equal(out, elf.p, elf.len);
	free(out);

	/* Truncated stream: an error, never a crash or a short success. */
	memmove(z.p + z.len / 2 - 4, z.p + z.len - 4, 4);
	assert_true(payload_decompress(z.p, z.len / 2, 64 * MiB, &out, &out_len, &plan) < 0);
	assert_null(out);
	assert_true(plan.err[0] != 0);
	free(z.p);
	free(elf.p);
}

/* Wrap the compressed vmlinux in a crafted bzImage and boot it with host
 * decompression. */
static __attribute__((unused)) void boot_compressed(compress_fn fn, const char *name)
{
	struct buf elf = vmlinux(), z = fn(elf.p, elf.len);
	struct bz_spec s = bz_defaults();
	struct test_ram t;
	struct boot_plan plan;
	struct linux_boot_args a = {.cmdline = "quiet", .nr_cpus = 2, .host_decompress = true};
	uint8_t *bp;
	char what[64];

	s.payload = z.p;
	s.payload_len = z.len;
	a.kernel = make_bzimage(&s, &a.kernel_len);
	test_ram_init(&t, 64 * MiB);
	assert_int_equal(boot_load_linux(&a, &t.ram, &plan), 0);

	assert_int_equal(plan.regs.mode,
			 BOOT_MODE_LONG64); /* not PVH: zero page from the bzImage */
	assert_int_equal(plan.regs.rip, 0x1000000);
	assert_int_equal(plan.regs.rsi, LAYOUT_ZERO_PAGE);
	assert_int_equal(plan.kernel_end, 0x100b000);
	assert_int_equal(*gpa(&t, 0x1000000), 0xc3);
	assert_int_equal(*gpa(&t, 0x1008000), 0x77);
	assert_int_equal(*gpa(&t, 0x1008800), 0);
	snprintf(what, sizeof(what), "bzImage, %s payload decompressed on the host", name);
	assert_string_equal(plan.what, what);

	bp = gpa(&t, LAYOUT_ZERO_PAGE);
	assert_int_equal(rd16(bp + 0x206), 0x020f); /* the bzImage's own header */
	assert_int_equal(rd32(bp + 0x260), s.init_size);
	assert_int_equal(bp[0x210], 0xff);
	assert_int_equal(rd32(bp + 0x228), LAYOUT_CMDLINE);

	/* Without host decompression the same image boots its own entry. */
	a.host_decompress = false;
	assert_int_equal(boot_load_linux(&a, &t.ram, &plan), 0);
	assert_int_equal(plan.regs.rip, 0x1000200);

	test_ram_free(&t);
	free((void *)a.kernel);
	free(z.p);
	free(elf.p);
}

#ifdef HAVE_ZLIB
static void gzip_round_trip(void **state)
{
	round_trip(gzip, PAYLOAD_GZIP);
	boot_compressed(gzip, "gzip");
}
#endif

#ifdef HAVE_LZMA
static void xz_round_trip(void **state)
{
	round_trip(xz, PAYLOAD_XZ);
	boot_compressed(xz, "xz");
}

static void lzma_round_trip(void **state)
{
	round_trip(lzma_alone, PAYLOAD_LZMA);
	boot_compressed(lzma_alone, "lzma");
}
#endif

#ifdef HAVE_ZSTD
static void zstd_round_trip(void **state)
{
	round_trip(zstd, PAYLOAD_ZSTD);
	boot_compressed(zstd, "zstd");
}
#endif

#ifdef HAVE_LZ4
static void lz4_round_trip(void **state)
{
	round_trip(lz4_legacy, PAYLOAD_LZ4);
	boot_compressed(lz4_legacy, "lz4");
}
#endif

static void uncompressed_payload(void **state)
{
	struct buf elf = vmlinux();
	struct bz_spec s = bz_defaults();
	struct test_ram t;
	struct boot_plan plan;
	struct linux_boot_args a = {.nr_cpus = 1, .host_decompress = true};

	s.payload = elf.p;
	s.payload_len = elf.len;
	a.kernel = make_bzimage(&s, &a.kernel_len);
	test_ram_init(&t, 64 * MiB);
	assert_int_equal(boot_load_linux(&a, &t.ram, &plan), 0);
	assert_int_equal(plan.regs.rip, 0x1000000);
	test_ram_free(&t);
	free((void *)a.kernel);
	free(elf.p);
}

#ifdef HAVE_ZLIB
/* 16 MiB of zeros: a small stream that inflates a lot. */
static struct buf zero_bomb(void)
{
	uint8_t *zeros = calloc(1, 16 * MiB);
	struct buf b = gzip(zeros, 16 * MiB);

	free(zeros);
	return b;
}

static void bomb_over_ram_cap(void **state)
{
	struct buf b = zero_bomb();
	struct bz_spec s = bz_defaults();
	struct test_ram t;
	struct boot_plan plan;
	struct linux_boot_args a = {.nr_cpus = 1, .host_decompress = true};
	uint8_t *out;
	size_t n;

	/* Declared 16 MiB, RAM 8 MiB: refused before allocating. */
	s.payload = b.p;
	s.payload_len = b.len;
	a.kernel = make_bzimage(&s, &a.kernel_len);
	test_ram_init(&t, 8 * MiB);
	assert_int_equal(boot_load_linux(&a, &t.ram, &plan), -E2BIG);
	assert_non_null(strstr(plan.err, "declares 16 MiB decompressed, more than the 8 MiB"));
	test_ram_free(&t);
	free((void *)a.kernel);

	/* A lying size field: declared 4 KiB, inflation stops at 4 KiB + 1. */
	wr32(b.p + b.len - 4, 4096);
	assert_int_equal(payload_decompress(b.p, b.len, 64 * MiB, &out, &n, &plan), -E2BIG);
	assert_non_null(strstr(plan.err, "beyond its declared 4 KiB"));
	assert_null(out);

	/* Declared 4 GiB - 1: over the absolute cap whatever the RAM. */
	wr32(b.p + b.len - 4, 0xffffffff);
	assert_int_equal(payload_decompress(b.p, b.len, UINT64_MAX, &out, &n, &plan), -E2BIG);
	assert_non_null(strstr(plan.err, "512 MiB"));
	free(b.p);
}
#endif

#ifdef HAVE_LZMA
static void xz_bomb_lying_size(void **state)
{
	uint8_t *zeros = calloc(1, 16 * MiB);
	struct buf b = xz(zeros, 16 * MiB);
	struct boot_plan plan;
	uint8_t *out;
	size_t n;

	free(zeros);
	wr32(b.p + b.len - 4, 1 * MiB);
	assert_int_equal(payload_decompress(b.p, b.len, 64 * MiB, &out, &n, &plan), -E2BIG);
	assert_non_null(strstr(plan.err, "xz stream inflates beyond its declared 1 MiB"));
	free(b.p);
}
#endif

static void unknown_and_unsupported(void **state)
{
	struct boot_plan plan;
	uint8_t *out;
	size_t n;
	uint8_t junk[64] = {0x12, 0x34, 0x56, 0x78};
	uint8_t bz2[64] = {'B', 'Z', 'h', '9'};
	uint8_t lzo[64] = {0x89, 'L', 'Z', 'O'};

	assert_int_equal(payload_decompress(junk, sizeof(junk), MiB, &out, &n, &plan), -ENOEXEC);
	assert_non_null(strstr(plan.err, "unknown compression (magic 12 34 56 78)"));
	assert_int_equal(payload_decompress(bz2, sizeof(bz2), MiB, &out, &n, &plan), -ENOTSUP);
	assert_non_null(strstr(plan.err, "bzip2 decompression is not built"));
	assert_int_equal(payload_decompress(lzo, sizeof(lzo), MiB, &out, &n, &plan), -ENOTSUP);
	assert_int_equal(payload_decompress(lzo, 3, MiB, &out, &n, &plan), -ENOEXEC);
}

static void corrupt_streams(void **state)
{
	struct buf elf = vmlinux();
	struct boot_plan plan;
	uint8_t *out;
	size_t n;
	compress_fn fns[] = {
#ifdef HAVE_ZLIB
	    gzip,
#endif
#ifdef HAVE_LZMA
	    xz,		lzma_alone,
#endif
#ifdef HAVE_ZSTD
	    zstd,
#endif
#ifdef HAVE_LZ4
	    lz4_legacy,
#endif
	    NULL,
	};

	for (size_t i = 0; fns[i]; i++) {
		struct buf z = fns[i](elf.p, elf.len);
		unsigned int seed = 3;

		for (int round = 0; round < 300; round++) {
			struct buf c = {.p = malloc(z.len), .len = z.len};

			memcpy(c.p, z.p, z.len);
			/* Keep the magic, damage the body. */
			for (int k = 0; k < 4; k++) {
				seed = seed * 1103515245 + 12345;
				c.p[6 + (seed >> 8) % (c.len - 10)] ^=
				    (uint8_t)(1 + (seed >> 20) % 255);
			}
			if (payload_decompress(c.p, c.len, 64 * MiB, &out, &n, &plan) == 0) {
				assert_true(n <= elf.len + 64);
				free(out);
			} else {
				assert_null(out);
				assert_true(plan.err[0] != 0);
			}
			free(c.p);
		}
		free(z.p);
	}
	free(elf.p);
}

static void payload_fields_checked(void **state)
{
	struct buf elf = vmlinux();
	struct bz_spec s = bz_defaults();
	struct test_ram t;
	struct boot_plan plan;
	struct linux_boot_args a = {.nr_cpus = 1, .host_decompress = true};
	uint8_t *img;

	test_ram_init(&t, 64 * MiB);

	/* No payload fields at all. */
	img = make_bzimage(&s, &a.kernel_len);
	a.kernel = img;
	assert_int_equal(boot_load_linux(&a, &t.ram, &plan), -ENOEXEC);
	assert_non_null(strstr(plan.err, "cannot decompress on the host"));
	free(img);

	/* Payload running past the protected-mode code. */
	s.payload = elf.p;
	s.payload_len = elf.len;
	img = make_bzimage(&s, &a.kernel_len);
	a.kernel = img;
	wr32(img + 0x24c, 0x7fffffff);
	assert_int_equal(boot_load_linux(&a, &t.ram, &plan), -EINVAL);
	assert_non_null(strstr(plan.err, "lies outside"));
	free(img);

	test_ram_free(&t);
	free(elf.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#ifdef HAVE_ZLIB
	    cmocka_unit_test(gzip_round_trip),	    cmocka_unit_test(bomb_over_ram_cap),
#endif
#ifdef HAVE_LZMA
	    cmocka_unit_test(xz_round_trip),	    cmocka_unit_test(lzma_round_trip),
	    cmocka_unit_test(xz_bomb_lying_size),
#endif
#ifdef HAVE_ZSTD
	    cmocka_unit_test(zstd_round_trip),
#endif
#ifdef HAVE_LZ4
	    cmocka_unit_test(lz4_round_trip),
#endif
	    cmocka_unit_test(uncompressed_payload), cmocka_unit_test(unknown_and_unsupported),
	    cmocka_unit_test(corrupt_streams),	    cmocka_unit_test(payload_fields_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
