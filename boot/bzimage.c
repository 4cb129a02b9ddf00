/* bzImage loader: every setup-header field is validated before use, since
 * the image is untrusted input. The guest then enters the kernel's own
 * 64-bit entry, which decompresses the payload in the guest. */
#include <errno.h>
#include <string.h>

#include "boot/bootparams.h"
#include "boot/bzimage.h"
#include "boot/linux_internal.h"

#define SECTOR 512
/* The 64-bit entry sits 0x200 bytes into the protected-mode code. */
#define ENTRY64_OFFSET 0x200
/* A kernel asking for more than this to boot is corrupt, not big. */
#define INIT_SIZE_MAX (2 * GiB)

bool bzimage_probe(const uint8_t *img, size_t len)
{
	return img && len >= HDR_MAGIC + 4 && !memcmp(img + HDR_MAGIC, HDR_MAGIC_VALUE, 4);
}

static int bzimage_check_identity(const uint8_t *img, size_t len, struct boot_plan *plan)
{
	if (!img || len < HDR_MAGIC + 4)
		return boot_fail(plan, -ENOEXEC,
				 "bzImage: file too short (%zu bytes) to hold a setup header", len);
	if (memcmp(img + HDR_MAGIC, HDR_MAGIC_VALUE, 4))
		return boot_fail(
		    plan, -ENOEXEC,
		    "bzImage: bad magic (no HdrS at 0x202): neither a bzImage nor an ELF");
	if (get_le16(img + HDR_BOOT_FLAG) != HDR_BOOT_FLAG_VALUE)
		return boot_fail(plan, -ENOEXEC,
				 "bzImage: bad boot flag 0x%04x at 0x1fe (want 0xaa55)",
				 get_le16(img + HDR_BOOT_FLAG));
	if (len < HDR_VERSION + 2)
		return boot_fail(plan, -ENOEXEC, "bzImage: file too short (%zu bytes)", len);
	return 0;
}

static int bzimage_check_sizes(const uint8_t *img, size_t len, struct bzimage_info *bz,
			       struct boot_plan *plan)
{
	unsigned int sects = img[HDR_SETUP_SECTS];
	uint64_t hdr_end;

	if (sects == 0)
		sects = 4; /* historical meaning of 0 */
	if (sects > SETUP_MAX_SECTS)
		return boot_fail(plan, -EINVAL, "bzImage: setup_sects %u is absurd (at most %u)",
				 sects, SETUP_MAX_SECTS);
	bz->setup_size = (uint64_t)(sects + 1) * SECTOR;
	if (bz->setup_size > len)
		return boot_fail(
		    plan, -EINVAL,
		    "bzImage: truncated: %u setup sectors need %llu bytes, file has %zu", sects,
		    (unsigned long long)bz->setup_size, len);

	/* From here on the whole setup area, hence the whole header, is readable. */
	if (img[HDR_JUMP] != 0xeb)
		return boot_fail(plan, -EINVAL, "bzImage: no short jump at 0x200 (0x%02x)",
				 img[HDR_JUMP]);
	/* The jump's signed 8-bit offset lands right after the header. */
	hdr_end = (uint64_t)(HDR_JUMP + 2 + (int8_t)img[HDR_JUMP + 1]);
	if (hdr_end < HDR_MIN_END || hdr_end > HDR_MAX_END)
		return boot_fail(plan, -EINVAL,
				 "bzImage: setup header ends at 0x%llx, outside [0x%x, 0x%x]",
				 (unsigned long long)hdr_end, HDR_MIN_END, HDR_MAX_END);
	bz->hdr_len = (uint32_t)(hdr_end - HDR_START);

	bz->pm_offset = bz->setup_size;
	bz->pm_size = (uint64_t)get_le32(img + HDR_SYSSIZE) * 16;
	if (bz->pm_size == 0)
		return boot_fail(plan, -EINVAL, "bzImage: syssize is 0 (no protected-mode kernel)");
	if (bz->pm_size > len - bz->setup_size)
		return boot_fail(plan, -EINVAL,
				 "bzImage: syssize says %llu bytes of kernel but the file has %llu "
				 "after the setup code",
				 (unsigned long long)bz->pm_size,
				 (unsigned long long)(len - bz->setup_size));
	return 0;
}

static int bzimage_check_placement(const uint8_t *img, struct bzimage_info *bz,
				   struct boot_plan *plan)
{
	bz->initrd_addr_max = get_le32(img + HDR_INITRD_ADDR_MAX);
	if (bz->initrd_addr_max < LAYOUT_BIOS_END)
		return boot_fail(plan, -EINVAL, "bzImage: initrd_addr_max 0x%llx is absurd",
				 (unsigned long long)bz->initrd_addr_max);
	bz->cmdline_size = get_le32(img + HDR_CMDLINE_SIZE);

	bz->relocatable = img[HDR_RELOCATABLE] != 0;
	bz->kernel_alignment = get_le32(img + HDR_KERNEL_ALIGNMENT);
	if (bz->relocatable && (!is_pow2(bz->kernel_alignment) || bz->kernel_alignment < 4096 ||
				bz->kernel_alignment > GiB))
		return boot_fail(plan, -EINVAL, "bzImage: kernel_alignment 0x%x is absurd",
				 bz->kernel_alignment);
	bz->pref_address = get_le64(img + HDR_PREF_ADDRESS);
	if (bz->pref_address >= LAYOUT_RAM_MAX)
		return boot_fail(plan, -EINVAL, "bzImage: pref_address 0x%llx is absurd",
				 (unsigned long long)bz->pref_address);
	bz->init_size = get_le32(img + HDR_INIT_SIZE);
	if (bz->init_size == 0 || bz->init_size > INIT_SIZE_MAX)
		return boot_fail(plan, -EINVAL, "bzImage: init_size 0x%x is absurd", bz->init_size);

	bz->payload_offset = get_le32(img + HDR_PAYLOAD_OFFSET);
	bz->payload_length = get_le32(img + HDR_PAYLOAD_LENGTH);
	return 0;
}

int bzimage_parse(const uint8_t *img, size_t len, struct bzimage_info *bz, struct boot_plan *plan)
{
	int err;

	memset(bz, 0, sizeof(*bz));
	err = bzimage_check_identity(img, len, plan);
	if (err)
		return err;

	bz->version = get_le16(img + HDR_VERSION);
	if (bz->version < 0x0206)
		return boot_fail(plan, -ENOEXEC,
				 "bzImage: boot protocol %u.%02u is too old (need 2.06 or later)",
				 bz->version >> 8, bz->version & 0xff);

	err = bzimage_check_sizes(img, len, bz, plan);
	if (err)
		return err;

	bz->loadflags = img[HDR_LOADFLAGS];
	if (!(bz->loadflags & LOADFLAG_LOADED_HIGH))
		return boot_fail(plan, -ENOEXEC,
				 "bzImage: a zImage (not loaded high) is not supported");
	/* xloadflags exist from 2.12 on; without XLF_KERNEL_64 there is no
	 * 64-bit entry to jump to. */
	bz->xloadflags = bz->version >= 0x020c ? get_le16(img + HDR_XLOADFLAGS) : 0;
	if (!(bz->xloadflags & XLF_KERNEL_64))
		return boot_fail(plan, -ENOEXEC,
				 "bzImage: no 64-bit entry (protocol %u.%02u, XLF_KERNEL_64 "
				 "clear): not an x86_64 kernel",
				 bz->version >> 8, bz->version & 0xff);

	return bzimage_check_placement(img, bz, plan);
}

int bzimage_load(const uint8_t *img, const struct bzimage_info *bz, const struct guest_ram *ram,
		 struct linux_kernel *k, struct boot_plan *plan)
{
	uint64_t low_end = guest_ram_region_end(ram, LAYOUT_KERNEL);
	uint64_t align = bz->relocatable ? bz->kernel_alignment : 1;
	uint64_t need = bz->init_size > bz->pm_size ? bz->init_size : bz->pm_size;
	uint64_t load = LAYOUT_KERNEL, run, end;
	char s1[32], s2[32];

	/* At pref_address a relocatable kernel decompresses in place instead of
	 * first moving itself there. */
	if (bz->relocatable && bz->pref_address >= LAYOUT_KERNEL && bz->pref_address % align == 0 &&
	    low_end >= bz->pref_address && low_end - bz->pref_address >= need)
		load = bz->pref_address;

	/* Where the kernel will run: a relocatable kernel rounds its load address
	 * up to kernel_alignment, and every kernel stays at or above its
	 * LOAD_PHYSICAL_ADDR (= pref_address). It needs init_size from there. */
	run = align_up(load, align);
	if (run < bz->pref_address)
		run = bz->pref_address;
	end = run + bz->init_size;
	if (end < load + bz->pm_size)
		end = load + bz->pm_size;
	if (!low_end || end > low_end)
		return boot_fail(plan, -ENOMEM,
				 "bzImage: kernel needs RAM up to 0x%llx (init_size %s at 0x%llx) "
				 "but guest RAM is %s",
				 (unsigned long long)end, fmt_size(s1, bz->init_size),
				 (unsigned long long)run, fmt_size(s2, ram->total));

	if (guest_ram_write(ram, load, img + bz->pm_offset, bz->pm_size))
		return boot_fail(plan, -EFAULT, "bzImage: cannot copy the kernel to 0x%llx",
				 (unsigned long long)load);

	memset(k, 0, sizeof(*k));
	k->mode = BOOT_MODE_LONG64;
	k->entry = load + ENTRY64_OFFSET;
	k->end = end;
	k->hdr = img + HDR_START;
	k->hdr_len = bz->hdr_len;
	k->initrd_addr_max = bz->initrd_addr_max;
	k->cmdline_max = bz->cmdline_size;
	return 0;
}

int bzimage_payload(const uint8_t *img, const struct bzimage_info *bz, const uint8_t **payload,
		    size_t *len, struct boot_plan *plan)
{
	if (bz->version < 0x0208 || bz->payload_length == 0)
		return boot_fail(
		    plan, -ENOEXEC,
		    "bzImage: no payload fields (protocol %u.%02u): cannot decompress on the host",
		    bz->version >> 8, bz->version & 0xff);
	if ((uint64_t)bz->payload_offset + bz->payload_length > bz->pm_size)
		return boot_fail(plan, -EINVAL,
				 "bzImage: payload [0x%x, +0x%x) lies outside the %llu-byte kernel",
				 bz->payload_offset, bz->payload_length,
				 (unsigned long long)bz->pm_size);
	*payload = img + bz->pm_offset + bz->payload_offset;
	*len = bz->payload_length;
	return 0;
}
