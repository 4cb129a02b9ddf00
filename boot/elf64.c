/* ELF64 loader for vmlinux. Hostile input: every offset and size is checked
 * against the file and guest RAM, with overflow-free arithmetic, before a
 * single byte is written to the guest. */
#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "boot/elf64.h"
#include "boot/internal.h"

#define ELF_MAX_PHDRS 128 /* vmlinux has about 5; more is corrupt */

#define EH(field) offsetof(Elf64_Ehdr, field)
#define PH(field) offsetof(Elf64_Phdr, field)

struct elf_seg {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static void elf_seg_read(const uint8_t *ph, struct elf_seg *s)
{
	s->type = get_le32(ph + PH(p_type));
	s->offset = get_le64(ph + PH(p_offset));
	s->vaddr = get_le64(ph + PH(p_vaddr));
	s->paddr = get_le64(ph + PH(p_paddr));
	s->filesz = get_le64(ph + PH(p_filesz));
	s->memsz = get_le64(ph + PH(p_memsz));
	s->align = get_le64(ph + PH(p_align));
}

bool elf_probe(const uint8_t *img, size_t len)
{
	return img && len >= SELFMAG && !memcmp(img, ELFMAG, SELFMAG);
}

static int elf_check_ehdr(const uint8_t *img, size_t len, struct boot_plan *plan)
{
	uint64_t phoff;
	unsigned int phnum;

	if (!elf_probe(img, len))
		return boot_fail(plan, -ENOEXEC, "ELF: bad magic");
	if (len < sizeof(Elf64_Ehdr))
		return boot_fail(plan, -ENOEXEC,
				 "ELF: file too short (%zu bytes) for an ELF header", len);
	if (img[EI_CLASS] != ELFCLASS64 || img[EI_DATA] != ELFDATA2LSB)
		return boot_fail(plan, -ENOEXEC,
				 "ELF: not a little-endian 64-bit ELF (class %u, data %u)",
				 img[EI_CLASS], img[EI_DATA]);
	if (get_le16(img + EH(e_machine)) != EM_X86_64)
		return boot_fail(plan, -ENOEXEC, "ELF: machine %u is not x86_64",
				 get_le16(img + EH(e_machine)));
	if (get_le16(img + EH(e_type)) != ET_EXEC)
		return boot_fail(plan, -ENOEXEC, "ELF: type %u is not an executable",
				 get_le16(img + EH(e_type)));
	if (img[EI_VERSION] != EV_CURRENT || get_le32(img + EH(e_version)) != EV_CURRENT)
		return boot_fail(plan, -EINVAL, "ELF: bad version");

	phoff = get_le64(img + EH(e_phoff));
	phnum = get_le16(img + EH(e_phnum));
	if (get_le16(img + EH(e_phentsize)) != sizeof(Elf64_Phdr))
		return boot_fail(plan, -EINVAL, "ELF: program header size %u (want %zu)",
				 get_le16(img + EH(e_phentsize)), sizeof(Elf64_Phdr));
	if (phnum == 0 || phnum > ELF_MAX_PHDRS)
		return boot_fail(plan, -EINVAL, "ELF: %u program headers (want 1 to %u)", phnum,
				 ELF_MAX_PHDRS);
	if (phoff > len || (uint64_t)phnum * sizeof(Elf64_Phdr) > len - phoff)
		return boot_fail(
		    plan, -EINVAL,
		    "ELF: program headers [0x%llx, +%u x %zu) lie outside the %zu-byte file",
		    (unsigned long long)phoff, phnum, sizeof(Elf64_Phdr), len);
	return 0;
}

static int elf_check_load(const struct elf_seg *s, unsigned int i, size_t len,
			  const struct guest_ram *ram, struct boot_plan *plan)
{
	char s1[32];

	if (s->filesz > s->memsz)
		return boot_fail(plan, -EINVAL,
				 "ELF: segment %u has p_filesz 0x%llx > p_memsz 0x%llx", i,
				 (unsigned long long)s->filesz, (unsigned long long)s->memsz);
	if (s->offset > len || s->filesz > len - s->offset)
		return boot_fail(plan, -EINVAL,
				 "ELF: segment %u [0x%llx, +0x%llx) lies outside the %zu-byte file",
				 i, (unsigned long long)s->offset, (unsigned long long)s->filesz,
				 len);
	if (s->memsz > UINT64_MAX - s->paddr)
		return boot_fail(plan, -EINVAL, "ELF: segment %u address 0x%llx + 0x%llx overflows",
				 i, (unsigned long long)s->paddr, (unsigned long long)s->memsz);
	if (s->paddr < LAYOUT_KERNEL)
		return boot_fail(
		    plan, -EINVAL,
		    "ELF: segment %u at 0x%llx overlaps the VMM's structures below 0x%llx", i,
		    (unsigned long long)s->paddr, (unsigned long long)LAYOUT_KERNEL);
	if (!guest_ram_ptr(ram, s->paddr, s->memsz))
		return boot_fail(
		    plan, -ENOMEM, "ELF: segment %u [0x%llx, 0x%llx) is outside guest RAM (%s)", i,
		    (unsigned long long)s->paddr, (unsigned long long)(s->paddr + s->memsz),
		    fmt_size(s1, ram->total));
	return 0;
}

/* Walk the notes of one PT_NOTE segment looking for Xen's PHYS32_ENTRY. */
static int elf_scan_notes(const uint8_t *img, const struct elf_seg *s, struct elf_kernel *k,
			  struct boot_plan *plan)
{
	uint64_t pad = s->align == 8 ? 8 : 4; /* notes are 4-aligned unless said otherwise */
	uint64_t pos = s->offset, end = s->offset + s->filesz;

	while (end - pos >= 12) {
		uint64_t namesz = get_le32(img + pos), descsz = get_le32(img + pos + 4);
		uint32_t type = get_le32(img + pos + 8);
		uint64_t name = pos + 12, desc;

		if (align_up(namesz, pad) > end - name)
			return boot_fail(plan, -EINVAL, "ELF: note at 0x%llx overruns its segment",
					 (unsigned long long)pos);
		desc = name + align_up(namesz, pad);
		if (align_up(descsz, pad) > end - desc)
			return boot_fail(plan, -EINVAL, "ELF: note at 0x%llx overruns its segment",
					 (unsigned long long)pos);
		pos = desc + align_up(descsz, pad);

		if (namesz != 4 || memcmp(img + name, "Xen", 4) || type != XEN_ELFNOTE_PHYS32_ENTRY)
			continue;
		if (descsz == 4)
			k->pvh_entry = get_le32(img + desc);
		else if (descsz == 8)
			k->pvh_entry = get_le64(img + desc);
		else
			return boot_fail(plan, -EINVAL, "ELF: PVH entry note has %llu-byte value",
					 (unsigned long long)descsz);
		k->has_pvh = true;
	}
	return 0;
}

/* Is [addr, addr+1) inside the file-backed part of a PT_LOAD, by physical
 * (or, with @virt, virtual) address? Returns the physical address or 0. */
static uint64_t elf_find_code(const uint8_t *img, unsigned int phnum, uint64_t phoff, uint64_t addr,
			      bool virt)
{
	for (unsigned int i = 0; i < phnum; i++) {
		struct elf_seg s;
		uint64_t base;

		elf_seg_read(img + phoff + i * sizeof(Elf64_Phdr), &s);
		base = virt ? s.vaddr : s.paddr;
		if (s.type == PT_LOAD && s.memsz && addr >= base && addr - base < s.filesz)
			return s.paddr + (addr - base);
	}
	return 0;
}

int elf_load(const uint8_t *img, size_t len, const struct guest_ram *ram, struct elf_kernel *k,
	     struct boot_plan *plan)
{
	uint64_t phoff, entry;
	unsigned int phnum, nr_load = 0;
	int err;

	memset(k, 0, sizeof(*k));
	err = elf_check_ehdr(img, len, plan);
	if (err)
		return err;
	phoff = get_le64(img + EH(e_phoff));
	phnum = get_le16(img + EH(e_phnum));

	/* Pass 1: validate everything, write nothing. */
	k->start = UINT64_MAX;
	for (unsigned int i = 0; i < phnum; i++) {
		struct elf_seg s;

		elf_seg_read(img + phoff + i * sizeof(Elf64_Phdr), &s);
		if (s.type == PT_NOTE) {
			if (s.offset > len || s.filesz > len - s.offset)
				return boot_fail(plan, -EINVAL,
						 "ELF: note segment %u lies outside the file", i);
			err = elf_scan_notes(img, &s, k, plan);
			if (err)
				return err;
		}
		if (s.type != PT_LOAD || s.memsz == 0)
			continue;
		err = elf_check_load(&s, i, len, ram, plan);
		if (err)
			return err;
		nr_load++;
		if (s.paddr < k->start)
			k->start = s.paddr;
		if (s.paddr + s.memsz > k->end)
			k->end = s.paddr + s.memsz;
	}
	if (nr_load == 0)
		return boot_fail(plan, -EINVAL, "ELF: no loadable segment");

	/* vmlinux links e_entry physical (phys_startup_64); accept a virtual
	 * one too, translated through its segment. */
	entry = get_le64(img + EH(e_entry));
	k->entry64 = elf_find_code(img, phnum, phoff, entry, false);
	if (!k->entry64)
		k->entry64 = elf_find_code(img, phnum, phoff, entry, true);
	k->has_entry64 = k->entry64 != 0;
	if (k->has_pvh &&
	    (k->pvh_entry >= 4 * GiB || !elf_find_code(img, phnum, phoff, k->pvh_entry, false)))
		return boot_fail(plan, -EINVAL,
				 "ELF: PVH entry 0x%llx is not inside a loaded segment below 4 GiB",
				 (unsigned long long)k->pvh_entry);
	if (!k->has_entry64 && !k->has_pvh)
		return boot_fail(plan, -EINVAL, "ELF: entry 0x%llx is not inside a loaded segment",
				 (unsigned long long)entry);

	/* Pass 2: copy; every range was checked above. */
	for (unsigned int i = 0; i < phnum; i++) {
		struct elf_seg s;

		elf_seg_read(img + phoff + i * sizeof(Elf64_Phdr), &s);
		if (s.type != PT_LOAD || s.memsz == 0)
			continue;
		if (guest_ram_write(ram, s.paddr, img + s.offset, s.filesz) ||
		    guest_ram_fill(ram, s.paddr + s.filesz, 0, s.memsz - s.filesz))
			return boot_fail(plan, -EFAULT, "ELF: segment %u: copy failed", i);
	}
	return 0;
}
