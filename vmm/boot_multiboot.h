/* The VM core's side of multiboot kernels: tell them from Linux images,
 * read the kernel and its modules, and hand them to boot/multiboot.c. */
#ifndef VMM_BOOT_MULTIBOOT_H
#define VMM_BOOT_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>

struct vmm;

/* Does the file at @path carry a multiboot header (valid or not: the loader
 * says what is wrong) and no Linux boot protocol header? False when it cannot be read (the Linux
 * loader then reports why). */
bool vm_kernel_is_multiboot(const char *path);

/* Load vm->kernel_path as a multiboot kernel, with vm->initrd_path as module
 * 0 and the config's modules after it. Returns 0 or a negative errno with
 * one line in @err. */
int vm_load_multiboot(struct vmm *vm, char *err, size_t errlen);

#endif
