/* Linux boot orchestration: pick the kernel format, let its loader place
 * the kernel, then lay out what every path shares (cmdline, initrd, e820,
 * zero page or PVH start_info, MP table, CPU tables, registers). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/bootparams.h"
#include "boot/bzimage.h"
#include "boot/decompress.h"
#include "boot/elf64.h"
#include "boot/linux.h"
#include "boot/linux_internal.h"
#include "boot/mptable.h"
#include "boot/pvh.h"

static int linux_from_elf(const uint8_t *img, size_t len, bool no_pvh, const struct guest_ram *ram,
			  struct linux_kernel *k, struct boot_plan *plan)
{
	struct elf_kernel ek;
	int err = elf_load(img, len, ram, &ek, plan);

	if (err)
		return err;
	memset(k, 0, sizeof(*k));
	if (ek.has_pvh && !no_pvh) {
		k->mode = BOOT_MODE_PROT32;
		k->entry = ek.pvh_entry;
		snprintf(plan->what, sizeof(plan->what), "vmlinux ELF, PVH entry");
	} else if (ek.has_entry64) {
		k->mode = BOOT_MODE_LONG64;
		k->entry = ek.entry64;
		snprintf(plan->what, sizeof(plan->what), "vmlinux ELF, 64-bit entry");
	} else {
		return boot_fail(
		    plan, -EINVAL,
		    "ELF: e_entry is not inside a loaded segment and the PVH entry was refused");
	}
	k->end = ek.end;
	k->initrd_addr_max = DEFAULT_INITRD_ADDR_MAX;
	k->cmdline_max = LAYOUT_CMDLINE_MAX - 1;
	return 0;
}

/* bzImage with host decompression: load the vmlinux ELF from the payload
 * at its p_paddr and enter its startup_64 directly, with the bzImage's own
 * setup header in the zero page, as the in-guest decompressor would have
 * passed it along. No decompressor runs, so init_size and the load address
 * no longer matter; the kernel proper still reads from boot_params: the
 * header's version and loadflags (KASLR_FLAG clear: nothing was randomized),
 * cmd_line_ptr, ramdisk_image/size, e820_table/e820_entries, and expects
 * hardware_subarch and setup_data to be 0. */
static int linux_from_payload(const uint8_t *img, const struct bzimage_info *bz,
			      const struct guest_ram *ram, struct linux_kernel *k,
			      struct boot_plan *plan)
{
	const uint8_t *payload;
	size_t plen, vlen;
	uint8_t *vmlinux = NULL;
	enum payload_format fmt;
	struct elf_kernel ek;
	uint64_t cap = ram->total < DECOMPRESS_MAX ? ram->total : DECOMPRESS_MAX;
	int err = bzimage_payload(img, bz, &payload, &plen, plan);

	if (err)
		return err;
	fmt = payload_detect(payload, plen);
	if (fmt == PAYLOAD_ELF) {
		err = elf_load(payload, plen, ram, &ek, plan);
	} else {
		err = payload_decompress(payload, plen, cap, &vmlinux, &vlen, plan);
		if (!err)
			err = elf_load(vmlinux, vlen, ram, &ek, plan);
		free(vmlinux);
	}
	if (err)
		return err;
	if (!ek.has_entry64)
		return boot_fail(plan, -EINVAL,
				 "bzImage: decompressed vmlinux has no usable entry");

	memset(k, 0, sizeof(*k));
	k->mode = BOOT_MODE_LONG64;
	k->entry = ek.entry64;
	k->end = ek.end;
	k->hdr = img + HDR_START;
	k->hdr_len = bz->hdr_len;
	k->initrd_addr_max = bz->initrd_addr_max;
	k->cmdline_max = bz->cmdline_size;
	snprintf(plan->what, sizeof(plan->what), "bzImage, %s payload decompressed on the host",
		 payload_format_name(fmt));
	return 0;
}

static int linux_finish(const struct linux_boot_args *a, const struct guest_ram *ram,
			const struct linux_kernel *k, struct boot_plan *plan)
{
	struct e820_entry e820[E820_MAX_BUILT];
	uint64_t initrd_gpa;
	int n, err;

	err = cmdline_write(ram, a->cmdline, k->cmdline_max, plan);
	if (!err)
		err = initrd_load(ram, a->initrd, a->initrd_len, k->end, k->initrd_addr_max,
				  &initrd_gpa, plan);
	if (err)
		return err;

	n = e820_build(ram, e820, E820_MAX_BUILT);
	if (n < 0)
		return boot_fail(plan, n, "cannot build the e820 map of this RAM layout");

	if (k->mode == BOOT_MODE_PROT32) {
		err = pvh_write_start_info(ram, initrd_gpa, a->initrd_len, e820, (unsigned int)n,
					   plan);
		if (!err && boot_write_gdt(ram))
			err = boot_fail(plan, -ENOMEM, "guest RAM too small for the GDT");
		plan->regs.mode = BOOT_MODE_PROT32;
		plan->regs.rflags = 0x2;
		plan->regs.rbx = PVH_START_INFO;
	} else {
		struct zeropage_args zp = {
		    .hdr = k->hdr,
		    .hdr_len = k->hdr_len,
		    .initrd_gpa = initrd_gpa,
		    .initrd_size = a->initrd_len,
		    .initrd_addr_max = k->initrd_addr_max,
		    .cmdline_max = k->cmdline_max,
		    .e820 = e820,
		    .nr_e820 = (unsigned int)n,
		};

		err = zeropage_write(ram, &zp, plan);
		if (!err)
			err = boot_setup_long_mode(ram, plan);
		plan->regs.rsi = LAYOUT_ZERO_PAGE;
		plan->regs.rsp = LAYOUT_STACK_TOP;
	}
	if (err)
		return err;

	err = mptable_write(ram, a->nr_cpus);
	if (err)
		return boot_fail(plan, err, "cannot write the MP table for %u vCPUs at 0x%llx",
				 a->nr_cpus, (unsigned long long)LAYOUT_EBDA);

	plan->regs.rip = k->entry;
	plan->kernel_end = k->end;
	plan->initrd_gpa = initrd_gpa;
	plan->initrd_size = initrd_gpa ? a->initrd_len : 0;
	return 0;
}

int boot_load_linux(const struct linux_boot_args *a, const struct guest_ram *ram,
		    struct boot_plan *plan)
{
	struct linux_kernel k;
	struct bzimage_info bz;
	char s1[32];
	int err;

	memset(plan, 0, sizeof(*plan));
	if (!a || !ram)
		return boot_fail(plan, -EINVAL, "boot: missing arguments");
	if (!a->kernel || a->kernel_len == 0)
		return boot_fail(plan, -EINVAL, "kernel: empty image");
	if (!a->initrd && a->initrd_len)
		return boot_fail(plan, -EINVAL, "initrd: length without data");
	if (a->nr_cpus == 0 || a->nr_cpus > MPTABLE_MAX_CPUS)
		return boot_fail(plan, -EINVAL, "%u vCPUs: the MP table describes 1 to %u",
				 a->nr_cpus, MPTABLE_MAX_CPUS);
	if (guest_ram_region_end(ram, 0) < LAYOUT_KERNEL + 1)
		return boot_fail(plan, -ENOMEM, "guest RAM (%s) is too small for Linux",
				 fmt_size(s1, ram->total));

	if (elf_probe(a->kernel, a->kernel_len)) {
		err = linux_from_elf(a->kernel, a->kernel_len, a->no_pvh, ram, &k, plan);
	} else {
		err = bzimage_parse(a->kernel, a->kernel_len, &bz, plan);
		if (!err && a->host_decompress) {
			err = linux_from_payload(a->kernel, &bz, ram, &k, plan);
		} else if (!err) {
			err = bzimage_load(a->kernel, &bz, ram, &k, plan);
			snprintf(plan->what, sizeof(plan->what), "bzImage, 64-bit entry");
		}
	}
	if (err)
		return err;
	return linux_finish(a, ram, &k, plan);
}
