/* Test helpers for the boot loaders (see helpers.h). */
#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "helpers.h"

void test_ram_init(struct test_ram *t, uint64_t size)
{
	memset(t, 0, sizeof(*t));
	if (layout_split_ram(size, &t->ram) || t->ram.nr_regions != 1)
		abort();
	/* An anonymous mapping: zeroed, lazily backed, and untouched by
	 * MALLOC_PERTURB_ (which meson sets) on release. */
	t->buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->buf == MAP_FAILED)
		abort();
	t->size = size;
	t->ram.region[0].host = t->buf;
}

void test_ram_free(struct test_ram *t)
{
	munmap(t->buf, t->size);
	t->buf = NULL;
}

uint8_t *gpa(struct test_ram *t, uint64_t addr)
{
	return t->buf + addr;
}

void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)v);
	wr16(p + 2, (uint16_t)(v >> 16));
}

void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)v);
	wr32(p + 4, (uint32_t)(v >> 32));
}

struct bz_spec bz_defaults(void)
{
	return (struct bz_spec){
	    .setup_sects = 27,
	    .version = 0x020f,
	    .loadflags = 0x01,
	    .xloadflags = 0x7f,
	    .relocatable = 1,
	    .kernel_alignment = 0x200000,
	    .pref_address = 0x1000000,
	    .init_size = 0x400000,
	    .cmdline_size = 0x7ff,
	    .initrd_addr_max = 0x7fffffff,
	    .pm_len = 0x2000,
	};
}

uint8_t *make_bzimage(const struct bz_spec *s, size_t *len)
{
	unsigned int sects = s->setup_sects ? s->setup_sects : 4;
	size_t setup = (size_t)(sects + 1) * 512;
	size_t pm = s->pm_len;
	uint8_t *img;

	if (s->payload && BZ_PAYLOAD_OFFSET + s->payload_len > pm)
		pm = (BZ_PAYLOAD_OFFSET + s->payload_len + 15) & ~(size_t)15;
	*len = setup + pm;
	img = calloc(1, *len);
	if (!img)
		abort();
	img[0x1f1] = (uint8_t)s->setup_sects;
	wr32(img + 0x1f4, (uint32_t)(pm / 16));
	wr16(img + 0x1fa, 0xffff);
	wr16(img + 0x1fe, 0xaa55);
	img[0x200] = 0xeb;
	img[0x201] = 0x6a; /* header ends at 0x26c, as in 2.15 */
	memcpy(img + 0x202, "HdrS", 4);
	wr16(img + 0x206, s->version);
	img[0x211] = s->loadflags;
	wr32(img + 0x214, 0x100000);
	wr32(img + 0x22c, s->initrd_addr_max);
	wr32(img + 0x230, s->kernel_alignment);
	img[0x234] = s->relocatable;
	wr16(img + 0x236, s->xloadflags);
	wr32(img + 0x238, s->cmdline_size);
	wr64(img + 0x258, s->pref_address);
	wr32(img + 0x260, s->init_size);
	for (size_t i = 0; i < pm; i++)
		img[setup + i] = (uint8_t)(i * 7);
	if (s->payload) {
		wr32(img + 0x248, BZ_PAYLOAD_OFFSET);
		wr32(img + 0x24c, (uint32_t)s->payload_len);
		memcpy(img + setup + BZ_PAYLOAD_OFFSET, s->payload, s->payload_len);
	}
	return img;
}

uint8_t *make_elf(const struct elf_spec *s, size_t *len)
{
	unsigned int nph = s->nr_segs + (s->pvh_entry ? 1 : 0);
	size_t note_off = ELF_PHOFF + (size_t)nph * ELF_PHDR_SIZE;
	size_t note_len = s->pvh_entry ? 12 + 4 + (s->pvh_desc_size == 4 ? 4 : 8) : 0;
	size_t data_off = (note_off + note_len + 15) & ~(size_t)15;
	size_t total = data_off;
	uint8_t *img, *ph;

	for (unsigned int i = 0; i < s->nr_segs; i++)
		total += s->segs[i].filesz;
	img = calloc(1, total);
	if (!img)
		abort();

	memcpy(img, ELFMAG, SELFMAG);
	img[EI_CLASS] = ELFCLASS64;
	img[EI_DATA] = ELFDATA2LSB;
	img[EI_VERSION] = EV_CURRENT;
	wr16(img + 16, ET_EXEC);
	wr16(img + 18, EM_X86_64);
	wr32(img + 20, EV_CURRENT);
	wr64(img + 24, s->entry);
	wr64(img + 32, ELF_PHOFF);
	wr16(img + 52, ELF_EHDR_SIZE);
	wr16(img + 54, ELF_PHDR_SIZE);
	wr16(img + 56, (uint16_t)nph);

	ph = img + ELF_PHOFF;
	size_t off = data_off;
	for (unsigned int i = 0; i < s->nr_segs; i++, ph += ELF_PHDR_SIZE) {
		const struct elf_seg_spec *g = &s->segs[i];

		wr32(ph, PT_LOAD);
		wr32(ph + 4, PF_R | PF_X);
		wr64(ph + 8, off);
		wr64(ph + 16, g->vaddr ? g->vaddr : g->paddr);
		wr64(ph + 24, g->paddr);
		wr64(ph + 32, g->filesz);
		wr64(ph + 40, g->memsz);
		wr64(ph + 48, 0x1000);
		memset(img + off, g->fill, g->filesz);
		off += g->filesz;
	}
	if (s->pvh_entry) {
		uint8_t *n = img + note_off;

		wr32(ph, PT_NOTE);
		wr32(ph + 4, PF_R);
		wr64(ph + 8, note_off);
		wr64(ph + 32, note_len);
		wr64(ph + 40, note_len);
		wr64(ph + 48, 4);
		wr32(n, 4);
		wr32(n + 4, s->pvh_desc_size == 4 ? 4 : 8);
		wr32(n + 8, 18);
		memcpy(n + 12, "Xen", 4);
		if (s->pvh_desc_size == 4)
			wr32(n + 16, (uint32_t)s->pvh_entry);
		else
			wr64(n + 16, s->pvh_entry);
	}
	*len = total;
	return img;
}
