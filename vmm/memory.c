/* Guest RAM: one anonymous mapping split into KVM slots around the PCI hole. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "vmm/vm.h"

int memory_setup(struct vmm *vm, char *err, size_t errlen)
{
	uint64_t off = 0;
	int ret;

	ret = layout_split_ram(vm->cfg.memory_bytes, &vm->ram);
	if (ret < 0) {
		snprintf(err, errlen, "memory size %llu is not usable (must be a non-zero multiple of 4 KiB)",
			 (unsigned long long)vm->cfg.memory_bytes);
		return ret;
	}
	/* NORESERVE: untouched guest pages cost the host nothing. */
	vm->mem = mmap(NULL, vm->ram.total, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		snprintf(err, errlen, "cannot map %llu MiB of guest memory: %s",
			 (unsigned long long)(vm->ram.total >> 20), strerror(errno));
		return -ENOMEM;
	}
	vm->mem_len = vm->ram.total;
	vm->ram.private_anon = true;
	for (unsigned int i = 0; i < vm->ram.nr_regions; i++) {
		struct guest_region *r = &vm->ram.region[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uint64_t)(uintptr_t)vm->mem + off,
		};

		r->host = (uint8_t *)vm->mem + off;
		off += r->size;
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
			snprintf(err, errlen, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
			return -errno;
		}
	}
	return 0;
}

void memory_teardown(struct vmm *vm)
{
	if (vm->mem != NULL)
		munmap(vm->mem, vm->mem_len);
	vm->mem = NULL;
}
