/* Multiboot v1 loader. Hostile input: the header, the ELF program headers
 * and the a.out address fields are all checked against the file and guest
 * RAM, with overflow-free arithmetic, before a byte is written. */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "boot/e820.h"
#include "boot/internal.h"
#include "boot/mptable.h"
#include "boot/multiboot.h"

#define MB_MAX_SEGS    32
#define MB_LOADER_NAME "libvmm"
/* Flags this loader honours; bits 0-15 are requirements a loader must
 * refuse when it does not know them. A video mode (bit 2) is not offered,
 * which the kernel sees from the missing info flag, as with QEMU. */
#define MB_KNOWN_REQUIRED (MULTIBOOT_HDR_PAGE_ALIGN | MULTIBOOT_HDR_MEMINFO | MULTIBOOT_HDR_VIDEO)

struct mb_seg {
	uint64_t offset, filesz, paddr, memsz;
};

struct mb_image {
	struct mb_seg seg[MB_MAX_SEGS];
	unsigned int nr_segs;
	uint64_t entry, end;
	const char *kind;
};

long multiboot_find_header(const uint8_t *img, size_t len)
{
	size_t lim = len < MULTIBOOT_SEARCH ? len : MULTIBOOT_SEARCH;

	for (size_t off = 0; img && off + 12 <= lim; off += 4) {
		uint32_t magic = get_le32(img + off), flags = get_le32(img + off + 4);

		if (magic == MULTIBOOT_HEADER_MAGIC &&
		    (uint32_t)(magic + flags + get_le32(img + off + 8)) == 0)
			return (long)off;
	}
	return -1;
}

bool multiboot_probe(const uint8_t *img, size_t len)
{
	size_t lim = len < MULTIBOOT_SEARCH ? len : MULTIBOOT_SEARCH;

	for (size_t off = 0; img && off + 4 <= lim; off += 4)
		if (get_le32(img + off) == MULTIBOOT_HEADER_MAGIC)
			return true;
	return false;
}

static int add_seg(struct mb_image *im, uint64_t offset, uint64_t filesz, uint64_t paddr,
		   uint64_t memsz, struct boot_plan *plan)
{
	if (memsz == 0)
		return 0;
	if (im->nr_segs >= MB_MAX_SEGS)
		return boot_fail(plan, -EINVAL, "multiboot: more than %d loadable segments",
				 MB_MAX_SEGS);
	im->seg[im->nr_segs++] = (struct mb_seg){offset, filesz, paddr, memsz};
	return 0;
}

/* The a.out kludge: the header's own fields say where the file goes. */
static int parse_aout(const uint8_t *img, size_t len, size_t hoff, struct mb_image *im,
		      struct boot_plan *plan)
{
	uint32_t header_addr, load_addr, load_end, bss_end;
	uint64_t offset, filesz, memsz;

	if (hoff + 32 > len)
		return boot_fail(plan, -EINVAL, "multiboot: header address fields are truncated");
	header_addr = get_le32(img + hoff + 12);
	load_addr = get_le32(img + hoff + 16);
	load_end = get_le32(img + hoff + 20);
	bss_end = get_le32(img + hoff + 24);
	im->entry = get_le32(img + hoff + 28);
	if (load_addr > header_addr || header_addr - load_addr > hoff)
		return boot_fail(plan, -EINVAL,
				 "multiboot: load_addr 0x%x and header_addr 0x%x do not match the "
				 "header's file offset 0x%zx",
				 load_addr, header_addr, hoff);
	offset = hoff - (header_addr - load_addr);
	if (load_end == 0) {
		filesz = len - offset;
	} else {
		if (load_end < load_addr)
			return boot_fail(plan, -EINVAL,
					 "multiboot: load_end_addr 0x%x is below load_addr 0x%x",
					 load_end, load_addr);
		filesz = load_end - load_addr;
		if (filesz > len - offset)
			return boot_fail(
			    plan, -EINVAL,
			    "multiboot: image truncated: [0x%x, 0x%x) needs %llu bytes "
			    "of the file from 0x%llx, it has %llu",
			    load_addr, load_end, (unsigned long long)filesz,
			    (unsigned long long)offset, (unsigned long long)(len - offset));
	}
	memsz = filesz;
	if (bss_end != 0) {
		if (bss_end < load_addr + filesz)
			return boot_fail(
			    plan, -EINVAL,
			    "multiboot: bss_end_addr 0x%x is below the loaded end 0x%llx", bss_end,
			    (unsigned long long)(load_addr + filesz));
		memsz = bss_end - load_addr;
	}
	im->kind = "a.out-kludge";
	return add_seg(im, offset, filesz, load_addr, memsz, plan);
}

/* ELF32 or ELF64 by program headers, loaded at their physical addresses. */
static int parse_elf(const uint8_t *img, size_t len, struct mb_image *im, struct boot_plan *plan)
{
	bool is64;
	uint64_t phoff, phentsize, phnum, entry;
	int err;

	if (len < EI_NIDENT || memcmp(img, ELFMAG, SELFMAG))
		return boot_fail(
		    plan, -ENOEXEC,
		    "multiboot: not an ELF file and no a.out address fields (flag 16)");
	is64 = img[EI_CLASS] == ELFCLASS64;
	if ((img[EI_CLASS] != ELFCLASS32 && !is64) || img[EI_DATA] != ELFDATA2LSB)
		return boot_fail(plan, -ENOEXEC, "multiboot: not a little-endian ELF32/ELF64 file");
	if (len < (is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
		return boot_fail(plan, -EINVAL, "multiboot: ELF header truncated");
	if (is64) {
		phoff = get_le64(img + offsetof(Elf64_Ehdr, e_phoff));
		phentsize = get_le16(img + offsetof(Elf64_Ehdr, e_phentsize));
		phnum = get_le16(img + offsetof(Elf64_Ehdr, e_phnum));
		entry = get_le64(img + offsetof(Elf64_Ehdr, e_entry));
	} else {
		phoff = get_le32(img + offsetof(Elf32_Ehdr, e_phoff));
		phentsize = get_le16(img + offsetof(Elf32_Ehdr, e_phentsize));
		phnum = get_le16(img + offsetof(Elf32_Ehdr, e_phnum));
		entry = get_le32(img + offsetof(Elf32_Ehdr, e_entry));
	}
	if (phentsize != (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)) || phnum == 0)
		return boot_fail(plan, -EINVAL, "multiboot: ELF has no usable program headers");
	if (phoff > len || phnum * phentsize > len - phoff)
		return boot_fail(plan, -EINVAL,
				 "multiboot: ELF program headers lie outside the %zu-byte file",
				 len);

	im->entry = 0;
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = img + phoff + i * phentsize;
		uint64_t type, off, vaddr, paddr, filesz, memsz;

		if (is64) {
			type = get_le32(ph + offsetof(Elf64_Phdr, p_type));
			off = get_le64(ph + offsetof(Elf64_Phdr, p_offset));
			vaddr = get_le64(ph + offsetof(Elf64_Phdr, p_vaddr));
			paddr = get_le64(ph + offsetof(Elf64_Phdr, p_paddr));
			filesz = get_le64(ph + offsetof(Elf64_Phdr, p_filesz));
			memsz = get_le64(ph + offsetof(Elf64_Phdr, p_memsz));
		} else {
			type = get_le32(ph + offsetof(Elf32_Phdr, p_type));
			off = get_le32(ph + offsetof(Elf32_Phdr, p_offset));
			vaddr = get_le32(ph + offsetof(Elf32_Phdr, p_vaddr));
			paddr = get_le32(ph + offsetof(Elf32_Phdr, p_paddr));
			filesz = get_le32(ph + offsetof(Elf32_Phdr, p_filesz));
			memsz = get_le32(ph + offsetof(Elf32_Phdr, p_memsz));
		}
		if (type != PT_LOAD)
			continue;
		/* The entry is physical; a virtual one is translated through
		 * the segment that holds it. */
		if (entry >= paddr && entry - paddr < memsz)
			im->entry = entry;
		else if (!im->entry && entry >= vaddr && entry - vaddr < memsz)
			im->entry = paddr + (entry - vaddr);
		if (filesz > memsz)
			return boot_fail(
			    plan, -EINVAL,
			    "multiboot: segment %llu has p_filesz 0x%llx > p_memsz 0x%llx",
			    (unsigned long long)i, (unsigned long long)filesz,
			    (unsigned long long)memsz);
		if (off > len || filesz > len - off)
			return boot_fail(
			    plan, -EINVAL,
			    "multiboot: image truncated: segment %llu [0x%llx, +0x%llx) "
			    "lies outside the %zu-byte file",
			    (unsigned long long)i, (unsigned long long)off,
			    (unsigned long long)filesz, len);
		err = add_seg(im, off, filesz, paddr, memsz, plan);
		if (err)
			return err;
	}
	if (im->nr_segs == 0)
		return boot_fail(plan, -EINVAL, "multiboot: ELF has no loadable segment");
	if (!im->entry)
		return boot_fail(plan, -EINVAL,
				 "multiboot: entry 0x%llx is not inside a loaded segment",
				 (unsigned long long)entry);
	im->kind = is64 ? "ELF64" : "ELF32";
	return 0;
}

/* Every segment in RAM below 4 GiB, outside the BIOS area, no two
 * overlapping; also sets im->end. */
static int check_segs(struct mb_image *im, const struct guest_ram *ram, struct boot_plan *plan)
{
	char s1[32];

	im->end = 0;
	for (unsigned int i = 0; i < im->nr_segs; i++) {
		const struct mb_seg *s = &im->seg[i];
		uint64_t end = s->paddr + s->memsz;

		if (s->paddr >= 4 * GiB || s->memsz > 4 * GiB - s->paddr ||
		    !guest_ram_ptr(ram, s->paddr, s->memsz))
			return boot_fail(plan, -ENOMEM,
					 "multiboot: segment [0x%llx, 0x%llx) is outside guest RAM "
					 "(%s)",
					 (unsigned long long)s->paddr, (unsigned long long)end,
					 fmt_size(s1, ram->total));
		if (s->paddr < LAYOUT_BIOS_END && end > LAYOUT_EBDA)
			return boot_fail(
			    plan, -EINVAL,
			    "multiboot: segment [0x%llx, 0x%llx) overlaps the BIOS area "
			    "[0x%llx, 0x%llx)",
			    (unsigned long long)s->paddr, (unsigned long long)end,
			    (unsigned long long)LAYOUT_EBDA, (unsigned long long)LAYOUT_BIOS_END);
		for (unsigned int j = 0; j < i; j++) {
			const struct mb_seg *t = &im->seg[j];

			if (s->paddr < t->paddr + t->memsz && t->paddr < end)
				return boot_fail(
				    plan, -EINVAL,
				    "multiboot: segments [0x%llx, 0x%llx) and [0x%llx, "
				    "0x%llx) overlap",
				    (unsigned long long)t->paddr,
				    (unsigned long long)(t->paddr + t->memsz),
				    (unsigned long long)s->paddr, (unsigned long long)end);
		}
		if (end > im->end)
			im->end = end;
	}
	if (im->entry >= 4 * GiB)
		return boot_fail(plan, -EINVAL, "multiboot: entry 0x%llx is above 4 GiB",
				 (unsigned long long)im->entry);
	return 0;
}

/* Place the modules page-aligned from *cursor; record each in @mods
 * (start, end, string filled in later). */
static int place_modules(const struct multiboot_args *a, const struct guest_ram *ram,
			 uint64_t *cursor, uint8_t *mods, struct boot_plan *plan)
{
	char s1[32], s2[32];

	for (unsigned int i = 0; i < a->nr_mods; i++) {
		const struct multiboot_module *m = &a->mods[i];
		uint64_t start = align_up(*cursor, 4096);

		if (!m->data && m->len)
			return boot_fail(plan, -EINVAL, "multiboot: module %u has no data", i);
		if (start + m->len > 4 * GiB || guest_ram_write(ram, start, m->data, m->len))
			return boot_fail(plan, -ENOMEM,
					 "multiboot: module %u (%s) does not fit in guest RAM (%s) "
					 "after 0x%llx",
					 i, fmt_size(s1, m->len), fmt_size(s2, ram->total),
					 (unsigned long long)start);
		put_le32(mods + i * MBI_MOD_SIZE, (uint32_t)start);
		put_le32(mods + i * MBI_MOD_SIZE + 4, (uint32_t)(start + m->len));
		*cursor = start + m->len;
	}
	return 0;
}

/* Append a NUL-terminated string at *pos inside the info area; returns its
 * guest address. The area was sized for every string up front. */
static uint32_t put_str(uint8_t *area, uint64_t base, uint64_t *pos, const char *a, const char *b)
{
	uint64_t at = *pos;
	size_t la = a ? strlen(a) : 0, lb = b ? strlen(b) : 0;

	memcpy(area + at, a ? a : "", la);
	if (la && lb)
		area[at + la++] = ' ';
	memcpy(area + at + la, b ? b : "", lb);
	area[at + la + lb] = 0;
	*pos = at + la + lb + 1;
	return (uint32_t)(base + at);
}

static int write_info(const struct multiboot_args *a, const struct guest_ram *ram, uint64_t base,
		      struct boot_plan *plan)
{
	struct e820_entry e820[E820_MAX_BUILT];
	uint8_t mods[MULTIBOOT_MAX_MODULES * MBI_MOD_SIZE] = {0};
	uint64_t cursor = base, size, pos, low_end;
	uint8_t *area;
	int n, err;

	err = place_modules(a, ram, &cursor, mods, plan);
	if (err)
		return err;
	n = e820_build(ram, e820, E820_MAX_BUILT);
	if (n < 0)
		return boot_fail(plan, n, "multiboot: memory map: %s", strerror(-n));

	base = align_up(cursor, 4096);
	size = MBI_SIZE + a->nr_mods * MBI_MOD_SIZE + (uint64_t)n * MBI_MMAP_SIZE +
	       sizeof(MB_LOADER_NAME) + (a->name ? strlen(a->name) : 0) + 1 +
	       (a->cmdline ? strlen(a->cmdline) : 0) + 1;
	for (unsigned int i = 0; i < a->nr_mods; i++)
		size += (a->mods[i].string ? strlen(a->mods[i].string) : 0) + 1;
	area = base + size <= 4 * GiB ? guest_ram_ptr(ram, base, size) : NULL;
	if (!area)
		return boot_fail(plan, -ENOMEM,
				 "multiboot: no room for the information structure (%llu bytes) "
				 "at 0x%llx",
				 (unsigned long long)size, (unsigned long long)base);
	memset(area, 0, size);

	put_le32(area + MBI_FLAGS, MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE |
				       MULTIBOOT_INFO_MODS | MULTIBOOT_INFO_MMAP |
				       MULTIBOOT_INFO_LOADER);
	/* Conventional memory ends at the EBDA; upper memory is the RAM
	 * contiguous from 1 MiB. */
	low_end = guest_ram_region_end(ram, LAYOUT_BIOS_END);
	put_le32(area + MBI_MEM_LOWER, (uint32_t)(LAYOUT_EBDA / 1024));
	put_le32(area + MBI_MEM_UPPER,
		 (uint32_t)(low_end > LAYOUT_BIOS_END ? (low_end - LAYOUT_BIOS_END) / 1024 : 0));

	pos = MBI_SIZE;
	put_le32(area + MBI_MODS_COUNT, a->nr_mods);
	put_le32(area + MBI_MODS_ADDR, (uint32_t)(base + pos));
	memcpy(area + pos, mods, a->nr_mods * MBI_MOD_SIZE);
	pos += a->nr_mods * MBI_MOD_SIZE;

	put_le32(area + MBI_MMAP_ADDR, (uint32_t)(base + pos));
	put_le32(area + MBI_MMAP_LENGTH, (uint32_t)n * MBI_MMAP_SIZE);
	for (int i = 0; i < n; i++, pos += MBI_MMAP_SIZE) {
		put_le32(area + pos, MBI_MMAP_SIZE - 4);
		put_le64(area + pos + 4, e820[i].addr);
		put_le64(area + pos + 12, e820[i].size);
		put_le32(area + pos + 20, e820[i].type);
	}

	put_le32(area + MBI_LOADER_NAME, put_str(area, base, &pos, MB_LOADER_NAME, NULL));
	put_le32(area + MBI_CMDLINE, put_str(area, base, &pos, a->name, a->cmdline));
	for (unsigned int i = 0; i < a->nr_mods; i++)
		put_le32(area + MBI_SIZE + i * MBI_MOD_SIZE + 8,
			 put_str(area, base, &pos, a->mods[i].string, NULL));

	plan->regs.rbx = base;
	plan->kernel_end = base + size;
	if (a->nr_mods) {
		plan->initrd_gpa = get_le32(mods);
		plan->initrd_size = a->mods[0].len;
	}
	return 0;
}

int boot_load_multiboot(const struct multiboot_args *a, const struct guest_ram *ram,
			struct boot_plan *plan)
{
	struct mb_image im = {0};
	uint32_t flags;
	long hoff;
	int err;

	memset(plan, 0, sizeof(*plan));
	if (!a || !ram || !a->kernel || a->kernel_len == 0)
		return boot_fail(plan, -EINVAL, "multiboot: empty image");
	if (a->nr_mods > MULTIBOOT_MAX_MODULES || (a->nr_mods && !a->mods))
		return boot_fail(plan, -EINVAL, "multiboot: %u modules (at most %d)", a->nr_mods,
				 MULTIBOOT_MAX_MODULES);
	if (a->nr_cpus == 0 || a->nr_cpus > MPTABLE_MAX_CPUS)
		return boot_fail(plan, -EINVAL, "%u vCPUs: the MP table describes 1 to %u",
				 a->nr_cpus, MPTABLE_MAX_CPUS);
	hoff = multiboot_find_header(a->kernel, a->kernel_len);
	if (hoff < 0)
		return boot_fail(plan, -ENOEXEC,
				 multiboot_probe(a->kernel, a->kernel_len)
				     ? "multiboot: header checksum is wrong"
				     : "multiboot: no multiboot header in the first 8 KiB");
	flags = get_le32(a->kernel + hoff + 4);
	if (flags & 0xffffu & ~MB_KNOWN_REQUIRED)
		return boot_fail(plan, -ENOTSUP,
				 "multiboot: header asks for features this loader lacks (flags "
				 "0x%x)",
				 flags);

	err = flags & MULTIBOOT_HDR_AOUT
		  ? parse_aout(a->kernel, a->kernel_len, (size_t)hoff, &im, plan)
		  : parse_elf(a->kernel, a->kernel_len, &im, plan);
	if (!err)
		err = check_segs(&im, ram, plan);
	if (err)
		return err;

	err = boot_write_gdt(ram);
	if (err)
		return boot_fail(plan, err, "guest RAM too small for the GDT");
	for (unsigned int i = 0; i < im.nr_segs; i++) {
		const struct mb_seg *s = &im.seg[i];

		if (guest_ram_write(ram, s->paddr, a->kernel + s->offset, s->filesz) ||
		    guest_ram_fill(ram, s->paddr + s->filesz, 0, s->memsz - s->filesz))
			return boot_fail(plan, -EFAULT, "multiboot: segment %u: copy failed", i);
	}
	/* Modules and the information structure go above the kernel and
	 * never into the BIOS area, whatever the kernel's own address. */
	err = write_info(a, ram, im.end > LAYOUT_BIOS_END ? im.end : LAYOUT_BIOS_END, plan);
	if (err)
		return err;
	err = mptable_write(ram, a->nr_cpus);
	if (err)
		return boot_fail(plan, err, "MP table: %s", strerror(-err));

	plan->regs.mode = BOOT_MODE_PROT32;
	plan->regs.rip = im.entry;
	plan->regs.rax = MULTIBOOT_LOADER_MAGIC;
	plan->regs.rsp = LAYOUT_STACK_TOP;
	snprintf(plan->what, sizeof(plan->what), "multiboot %s, entry 0x%llx, %u module%s", im.kind,
		 (unsigned long long)im.entry, a->nr_mods, a->nr_mods == 1 ? "" : "s");
	return 0;
}
