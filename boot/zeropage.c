/* The Linux zero page (struct boot_params) for the 64-bit boot protocol.
 * A 64-bit entry, whether the bzImage's own or vmlinux's startup_64 (after a
 * host-side decompression, when no decompressor runs in the guest), reads
 * the same fields: the setup header (version, loadflags), cmd_line_ptr,
 * ramdisk_image/size (+ ext_*), the e820 table and its count. The real-mode
 * fields (vid_mode, heap_end_ptr) are set as boot.rst asks even though no
 * real-mode code runs. */
#include <errno.h>
#include <string.h>

#include "boot/bootparams.h"
#include "boot/linux_internal.h"

/* Fill the header fields a bzImage would have brought, for kernels loaded
 * from an ELF file. */
static void zeropage_synthesize_header(uint8_t *bp, const struct zeropage_args *a)
{
	put_le16(bp + HDR_BOOT_FLAG, HDR_BOOT_FLAG_VALUE);
	memcpy(bp + HDR_MAGIC, HDR_MAGIC_VALUE, 4);
	put_le16(bp + HDR_VERSION, 0x020f);
	bp[HDR_LOADFLAGS] = LOADFLAG_LOADED_HIGH;
	put_le32(bp + HDR_INITRD_ADDR_MAX, (uint32_t)a->initrd_addr_max);
	put_le32(bp + HDR_KERNEL_ALIGNMENT, 0x200000);
	put_le16(bp + HDR_XLOADFLAGS, XLF_KERNEL_64);
	put_le32(bp + HDR_CMDLINE_SIZE, (uint32_t)a->cmdline_max);
}

int zeropage_write(const struct guest_ram *ram, const struct zeropage_args *a,
		   struct boot_plan *plan)
{
	uint8_t *bp = guest_ram_ptr(ram, LAYOUT_ZERO_PAGE, BP_SIZE);

	if (!bp)
		return boot_fail(plan, -ENOMEM, "guest RAM too small for the zero page at 0x%llx",
				 (unsigned long long)LAYOUT_ZERO_PAGE);
	if (a->nr_e820 > BP_E820_MAX)
		return boot_fail(plan, -E2BIG, "e820 map has %u entries, the zero page holds %u",
				 a->nr_e820, BP_E820_MAX);
	if (a->hdr && (a->hdr_len == 0 || a->hdr_len > HDR_MAX_END - HDR_START))
		return boot_fail(plan, -EINVAL,
				 "setup header of %zu bytes does not fit the zero page",
				 a->hdr_len);

	/* Everything not set below must be 0, the sentinel included. */
	memset(bp, 0, BP_SIZE);
	if (a->hdr)
		memcpy(bp + HDR_START, a->hdr, a->hdr_len);
	else
		zeropage_synthesize_header(bp, a);

	/* Fields a loader owns: never trust the file's values for them. */
	put_le32(bp + HDR_HARDWARE_SUBARCH, 0);
	put_le64(bp + HDR_HARDWARE_SUBARCH_DATA, 0);
	put_le64(bp + HDR_SETUP_DATA, 0);
	bp[HDR_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
	/* No KASLR happened: say so, whatever the file had. */
	bp[HDR_LOADFLAGS] =
	    (uint8_t)((bp[HDR_LOADFLAGS] | LOADFLAG_CAN_USE_HEAP) & ~LOADFLAG_KASLR);
	put_le16(bp + HDR_HEAP_END_PTR, HEAP_END_PTR_VALUE);
	put_le16(bp + HDR_VID_MODE, 0xffff); /* "normal": no mode switch */

	put_le32(bp + HDR_CMD_LINE_PTR, (uint32_t)LAYOUT_CMDLINE);
	put_le32(bp + BP_EXT_CMD_LINE_PTR, (uint32_t)(LAYOUT_CMDLINE >> 32));

	put_le32(bp + HDR_RAMDISK_IMAGE, (uint32_t)a->initrd_gpa);
	put_le32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(a->initrd_gpa >> 32));
	put_le32(bp + HDR_RAMDISK_SIZE, (uint32_t)a->initrd_size);
	put_le32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(a->initrd_size >> 32));

	bp[BP_E820_ENTRIES] = (uint8_t)a->nr_e820;
	for (unsigned int i = 0; i < a->nr_e820; i++) {
		uint8_t *e = bp + BP_E820_TABLE + BP_E820_ENTRY_SIZE * i;

		put_le64(e, a->e820[i].addr);
		put_le64(e + 8, a->e820[i].size);
		put_le32(e + 16, a->e820[i].type);
	}
	return 0;
}
