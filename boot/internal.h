/* Helpers shared by the boot loaders only (not part of the interface the VM
 * core sees): error reporting into a boot plan and little-endian field
 * access on untrusted byte buffers. */
#ifndef BOOT_INTERNAL_H
#define BOOT_INTERNAL_H

#include <stdint.h>

#include "boot/plan.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* Write a one-line reason into @plan->err and return @err (a negative errno),
 * so that failure paths read "return boot_fail(plan, -EINVAL, ...)". */
int boot_fail(struct boot_plan *plan, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Human-readable size for error lines: "300 MiB", "1.5 GiB", "17 bytes".
 * Returns @buf. */
const char *fmt_size(char buf[32], uint64_t bytes);

/* GDT, identity map and the common long-mode registers (mode, CR3, RFLAGS)
 * of every 64-bit entry. */
int boot_setup_long_mode(const struct guest_ram *ram, struct boot_plan *plan);

/* Image fields are little-endian and may sit at any alignment: read and
 * write them byte by byte rather than through casted pointers. */
static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static inline uint64_t align_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}

static inline int is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

#endif
