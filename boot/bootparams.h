/* Byte offsets of the Linux x86 boot protocol structures this project uses:
 * the zero page ("boot_params", 4 KiB) and the setup header inside it, which
 * sits at the same offsets in a bzImage file. Facts from the kernel's
 * Documentation/arch/x86/boot.rst; fields are accessed with get/put_le*. */
#ifndef BOOT_BOOTPARAMS_H
#define BOOT_BOOTPARAMS_H

#define BP_SIZE 0x1000

/* Zero-page fields outside the setup header. */
#define BP_EXT_RAMDISK_IMAGE 0x0c0 /* u32: bits 32-63 of ramdisk_image */
#define BP_EXT_RAMDISK_SIZE  0x0c4 /* u32 */
#define BP_EXT_CMD_LINE_PTR  0x0c8 /* u32 */
#define BP_E820_ENTRIES	     0x1e8 /* u8 */
#define BP_SENTINEL	     0x1ef /* u8: must stay 0, else the kernel scrubs fields */
#define BP_E820_TABLE	     0x2d0 /* 128 x { u64 addr, u64 size, u32 type } */
#define BP_E820_ENTRY_SIZE   20
#define BP_E820_MAX	     128

/* Setup header (offsets from the start of the file / zero page). */
#define HDR_START		  0x1f1
#define HDR_SETUP_SECTS		  0x1f1 /* u8: 512-byte sectors of setup code; 0 means 4 */
#define HDR_SYSSIZE		  0x1f4 /* u32: protected-mode code size in 16-byte units */
#define HDR_VID_MODE		  0x1fa /* u16 */
#define HDR_BOOT_FLAG		  0x1fe /* u16: 0xAA55 */
#define HDR_JUMP		  0x200 /* 2 bytes: short jmp; its offset gives the header end */
#define HDR_MAGIC		  0x202 /* "HdrS" */
#define HDR_VERSION		  0x206 /* u16: protocol version, e.g. 0x020f */
#define HDR_TYPE_OF_LOADER	  0x210 /* u8 */
#define HDR_LOADFLAGS		  0x211 /* u8 */
#define HDR_CODE32_START	  0x214 /* u32 */
#define HDR_RAMDISK_IMAGE	  0x218 /* u32 */
#define HDR_RAMDISK_SIZE	  0x21c /* u32 */
#define HDR_HEAP_END_PTR	  0x224 /* u16 */
#define HDR_CMD_LINE_PTR	  0x228 /* u32 */
#define HDR_INITRD_ADDR_MAX	  0x22c /* u32: highest address the initrd may occupy */
#define HDR_KERNEL_ALIGNMENT	  0x230 /* u32 */
#define HDR_RELOCATABLE		  0x234 /* u8 */
#define HDR_XLOADFLAGS		  0x236 /* u16 */
#define HDR_CMDLINE_SIZE	  0x238 /* u32: max cmdline length without the NUL */
#define HDR_HARDWARE_SUBARCH	  0x23c /* u32: 0 = normal PC */
#define HDR_HARDWARE_SUBARCH_DATA 0x240 /* u64 */
#define HDR_PAYLOAD_OFFSET	  0x248 /* u32: from the start of the protected-mode code */
#define HDR_PAYLOAD_LENGTH	  0x24c /* u32 */
#define HDR_SETUP_DATA		  0x250 /* u64: linked list of extra data, 0 = none */
#define HDR_PREF_ADDRESS	  0x258 /* u64 */
#define HDR_INIT_SIZE		  0x260 /* u32: linear memory the kernel needs to boot */
#define HDR_MIN_END		  0x264 /* a 2.12+ header reaches at least past init_size */
#define HDR_MAX_END		  0x290 /* the header area of the zero page ends here */

#define HDR_BOOT_FLAG_VALUE 0xaa55
#define HDR_MAGIC_VALUE	    "HdrS"

#define LOADFLAG_LOADED_HIGH  0x01 /* protected-mode code at 1 MiB: a bzImage */
#define LOADFLAG_KASLR	      0x02 /* set by the decompressor when it randomized */
#define LOADFLAG_CAN_USE_HEAP 0x80 /* heap_end_ptr is valid */

#define XLF_KERNEL_64		   0x01 /* has the 64-bit entry at load address + 0x200 */
#define XLF_CAN_BE_LOADED_ABOVE_4G 0x02

#define LOADER_TYPE_UNDEFINED 0xff /* type_of_loader for a loader without an ID */

/* Real-mode setup code plus heap live in one 64 KiB segment whose first
 * 32 KiB hold the code, so more setup sectors than this is corrupt. */
#define SETUP_MAX_SECTS 63

/* heap_end_ptr: end of the setup heap, relative to the start of the setup
 * code (0x200 below the real-mode base), as boot.rst recommends. */
#define HEAP_END_PTR_VALUE 0xfe00

#endif
