/* Multiboot kernels from files: the kernel, the initrd as module 0 and the
 * --module files after it, read whole and loaded by boot/multiboot.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/bzimage.h"
#include "boot/multiboot.h"
#include "vmm/boot_multiboot.h"
#include "vmm/image.h"
#include "vmm/vm.h"

#define MAX_MB_KERNEL (256ULL << 20)
#define MAX_MB_MODULE (1ULL << 30)

bool vm_kernel_is_multiboot(const char *path)
{
	uint8_t head[MULTIBOOT_SEARCH];
	ssize_t n = 0, r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	while (n < (ssize_t)sizeof(head) && (r = read(fd, head + n, sizeof(head) - (size_t)n)) > 0)
		n += r;
	close(fd);
	/* A bzImage may carry a multiboot header too; Linux's own protocol
	 * wins, as it does in QEMU. */
	return n > 0 && !bzimage_probe(head, (size_t)n) && multiboot_probe(head, (size_t)n);
}

int vm_load_multiboot(struct vmm *vm, char *err, size_t errlen)
{
	struct multiboot_module mods[MULTIBOOT_MAX_MODULES] = {0};
	struct multiboot_args a = {
	    .name = vm->kernel_path,
	    .cmdline = vm->cmdline,
	    .mods = mods,
	    .nr_cpus = vm->nr_vcpus,
	};
	const struct vmm_module *cm = vm->cfg.modules;
	unsigned int nr_cfg = vm->cfg.nr_modules;
	uint8_t *kernel = NULL;
	int ret;

	if (nr_cfg > VMM_MAX_MODULES || (nr_cfg && cm == NULL) ||
	    nr_cfg + (vm->initrd_path != NULL) > MULTIBOOT_MAX_MODULES) {
		snprintf(err, errlen, "%u multiboot modules: at most %d, the initrd included",
			 nr_cfg + (vm->initrd_path != NULL), MULTIBOOT_MAX_MODULES);
		return -E2BIG;
	}
	ret = image_read("kernel", vm->kernel_path, MAX_MB_KERNEL, &kernel, &a.kernel_len, err,
			 errlen);
	if (ret < 0)
		return ret;
	a.kernel = kernel;
	if (vm->initrd_path != NULL) {
		ret = image_read("initrd", vm->initrd_path, MAX_MB_MODULE,
				 (uint8_t **)&mods[0].data, &mods[0].len, err, errlen);
		if (ret < 0)
			goto out;
		mods[0].string = vm->initrd_path;
		a.nr_mods = 1;
	}
	for (unsigned int i = 0; i < nr_cfg; i++) {
		struct multiboot_module *m = &mods[a.nr_mods];

		ret = image_read("module", cm[i].path, MAX_MB_MODULE, (uint8_t **)&m->data, &m->len,
				 err, errlen);
		if (ret < 0)
			goto out;
		m->string = cm[i].string ? cm[i].string : cm[i].path;
		a.nr_mods++;
	}
	ret = boot_load_multiboot(&a, &vm->ram, &vm->plan);
	if (ret < 0)
		snprintf(err, errlen, "kernel %s: %s", vm->kernel_path, vm->plan.err);
	else
		vm_log(vm, VMM_LOG_INFO, "boot: %s", vm->plan.what);
out:
	for (unsigned int i = 0; i < MULTIBOOT_MAX_MODULES; i++)
		free((void *)mods[i].data);
	free(kernel);
	/* The caller's module array is not kept past vmm_create(). */
	vm->cfg.modules = NULL;
	vm->cfg.nr_modules = 0;
	return ret;
}
