/* Test helpers for the boot loaders: fake guest RAM over a calloc'd buffer
 * and builders of crafted bzImage and ELF images. */
#ifndef TEST_BOOT_HELPERS_H
#define TEST_BOOT_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/layout.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* Guest RAM of @size bytes (below the PCI hole) backed by one buffer. */
struct test_ram {
	struct guest_ram ram;
	uint8_t *buf;
	uint64_t size;
};

void test_ram_init(struct test_ram *t, uint64_t size);
void test_ram_free(struct test_ram *t);
uint8_t *gpa(struct test_ram *t, uint64_t addr);

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static inline uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

void wr16(uint8_t *p, uint16_t v);
void wr32(uint8_t *p, uint32_t v);
void wr64(uint8_t *p, uint64_t v);

/* A plausible modern bzImage, field by field. */
struct bz_spec {
	unsigned int setup_sects; /* as stored in the file */
	uint16_t version;
	uint8_t loadflags;
	uint16_t xloadflags;
	uint8_t relocatable;
	uint32_t kernel_alignment;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t cmdline_size;
	uint32_t initrd_addr_max;
	size_t pm_len;		/* protected-mode code bytes (multiple of 16) */
	const uint8_t *payload; /* placed at payload_offset inside the pm code */
	size_t payload_len;
};

struct bz_spec bz_defaults(void);
/* malloc'd image; the pm code is filled with bytes (i * 7) except the payload. */
uint8_t *make_bzimage(const struct bz_spec *s, size_t *len);
#define BZ_PAYLOAD_OFFSET 0x400

/* A minimal vmlinux-like ELF64. */
struct elf_seg_spec {
	uint64_t paddr, vaddr, filesz, memsz;
	uint8_t fill;
};

struct elf_spec {
	uint64_t entry;
	const struct elf_seg_spec *segs;
	unsigned int nr_segs;
	uint64_t pvh_entry;	    /* 0: no Xen PHYS32_ENTRY note */
	unsigned int pvh_desc_size; /* 4 or 8 */
};

/* malloc'd image: ehdr, phdrs (PT_LOADs then PT_NOTE), notes, segment data.
 * Program headers start at ELF_PHOFF, for tampering. */
uint8_t *make_elf(const struct elf_spec *s, size_t *len);

#define ELF_EHDR_SIZE 64
#define ELF_PHDR_SIZE 56
#define ELF_PHOFF     64

#endif
