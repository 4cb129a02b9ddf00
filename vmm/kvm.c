/* /dev/kvm: open with API and capability checks, create the VM with its
 * in-kernel irqchip and PIT, route MSR exits to userspace. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "boot/mptable.h"
#include "vmm/vm.h"

#define KVM_DEVICE "/dev/kvm"
#define TSS_ADDR 0xfffbd000UL
#define IDENTITY_MAP_ADDR 0xfffbc000ULL

struct required_cap {
	int cap;
	const char *name;
};

static const struct required_cap required_caps[] = {
	{KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
	{KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
	{KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
	{KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
	{KVM_CAP_PIT2, "KVM_CAP_PIT2"},
	{KVM_CAP_X86_USER_SPACE_MSR, "KVM_CAP_X86_USER_SPACE_MSR"},
	{KVM_CAP_X86_MSR_FILTER, "KVM_CAP_X86_MSR_FILTER"},
};

int kvm_open_checked(struct vmm *vm, char *err, size_t errlen)
{
	int fd = open(KVM_DEVICE, O_RDWR | O_CLOEXEC);
	int version;

	if (fd < 0) {
		int e = errno;

		if (e == ENOENT || e == ENODEV || e == ENXIO)
			snprintf(err, errlen, "%s: not present (is the kvm module loaded?)",
				 KVM_DEVICE);
		else if (e == EACCES || e == EPERM)
			snprintf(err, errlen,
				 "%s: permission denied (add your user to the kvm group)",
				 KVM_DEVICE);
		else
			snprintf(err, errlen, "%s: %s", KVM_DEVICE, strerror(e));
		return -e;
	}
	version = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		snprintf(err, errlen, "%s: API version %d, need %d", KVM_DEVICE, version,
			 KVM_API_VERSION);
		close(fd);
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (ioctl(fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			snprintf(err, errlen, "%s: missing capability %s", KVM_DEVICE,
				 required_caps[i].name);
			close(fd);
			return -ENOTSUP;
		}
	}
	vm->kvm_fd = fd;
	vm->run_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct kvm_run)) {
		snprintf(err, errlen, "%s: bad vCPU mmap size %d", KVM_DEVICE, vm->run_size);
		return -EINVAL;
	}
	return 0;
}

int kvm_setup_vm(struct vmm *vm, char *err, size_t errlen)
{
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
	struct kvm_enable_cap msr_cap = {
		.cap = KVM_CAP_X86_USER_SPACE_MSR,
		.args = {KVM_MSR_EXIT_REASON_FILTER | KVM_MSR_EXIT_REASON_UNKNOWN},
	};
	uint64_t ident = IDENTITY_MAP_ADDR;
	const char *what;

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		what = "KVM_CREATE_VM";
		goto fail;
	}
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, TSS_ADDR) < 0) {
		what = "KVM_SET_TSS_ADDR";
		goto fail;
	}
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0) {
		what = "KVM_SET_IDENTITY_MAP_ADDR";
		goto fail;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		what = "KVM_CREATE_IRQCHIP";
		goto fail;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		what = "KVM_CREATE_PIT2";
		goto fail;
	}
	if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &msr_cap) < 0) {
		what = "KVM_ENABLE_CAP(X86_USER_SPACE_MSR)";
		goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", what, strerror(errno));
	return -errno;
}

int kvm_set_msr_filter(struct vmm *vm)
{
	struct kvm_msr_filter filter;
	size_t len = msr_router_bitmaps_len(&vm->msr);
	uint8_t *bitmaps;
	int ret = 0;

	if (vm->msr.nr == 0)
		return 0;
	bitmaps = calloc(1, len);
	if (bitmaps == NULL)
		return -ENOMEM;
	ret = msr_router_build_filter(&vm->msr, &filter, bitmaps, len);
	/* KVM copies the bitmaps, so they can go right after the ioctl. */
	if (ret == 0 && ioctl(vm->vm_fd, KVM_X86_SET_MSR_FILTER, &filter) < 0)
		ret = -errno;
	free(bitmaps);
	return ret;
}

/* Route GSIs as a PC does: ISA IRQs to the 8259 pair, and to the IO-APIC
 * with IRQ0 (the PIT) on pin MPTABLE_IRQ0_PIN, matching the MP table the
 * loader wrote. KVM's default sends GSI 0 to pin 0, which makes Linux
 * fall back through slow timer checks. */
int kvm_setup_irq_routing(struct vmm *vm)
{
	enum { IOAPIC_PINS = 24, MAX_ROUTES = 16 + IOAPIC_PINS };
	struct kvm_irq_routing *r;
	unsigned int n = 0;
	int ret = 0;

	r = calloc(1, sizeof(*r) + MAX_ROUTES * sizeof(r->entries[0]));
	if (r == NULL)
		return -ENOMEM;
	for (unsigned int gsi = 0; gsi < 16; gsi++) {
		if (gsi == 2)
			continue; /* the cascade */
		r->entries[n].gsi = gsi;
		r->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		r->entries[n].u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
							  : KVM_IRQCHIP_PIC_SLAVE;
		r->entries[n].u.irqchip.pin = gsi % 8;
		n++;
	}
	for (unsigned int gsi = 0; gsi < IOAPIC_PINS; gsi++) {
		if (gsi == MPTABLE_IRQ0_PIN)
			continue; /* taken by IRQ0 */
		r->entries[n].gsi = gsi;
		r->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		r->entries[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		r->entries[n].u.irqchip.pin = gsi == 0 ? MPTABLE_IRQ0_PIN : gsi;
		n++;
	}
	r->nr = n;
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, r) < 0)
		ret = -errno;
	free(r);
	return ret;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint32_t kvm_guest_tsc_khz(const struct vmm *vm)
{
	int khz = ioctl(vm->vm_fd, KVM_GET_TSC_KHZ, 0);
	struct timespec pause = {0, 5000000};
	uint64_t t0, t1, c0, c1;

	if (khz > 0)
		return (uint32_t)khz;
	/* Older KVM has the ioctl on vCPUs only: measure against the clock. */
	t0 = monotonic_ns();
	c0 = __builtin_ia32_rdtsc();
	nanosleep(&pause, NULL);
	c1 = __builtin_ia32_rdtsc();
	t1 = monotonic_ns();
	return t1 > t0 ? (uint32_t)((c1 - c0) * 1000000ULL / (t1 - t0)) : 0;
}
