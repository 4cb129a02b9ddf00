/* Coalesced PIO for the console port (see coalesced_pio.h). */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "vmm/coalesced_pio.h"
#include "vmm/vm.h"

static int zone_ioctl(struct vmm *vm, unsigned long req)
{
	struct kvm_coalesced_mmio_zone zone = {
		.addr = vm->cpio.port,
		.size = 1,
		.pio = 1,
	};

	return ioctl(vm->vm_fd, req, &zone) < 0 ? -errno : 0;
}

int coalesced_pio_init(struct vmm *vm, uint16_t port, bool want)
{
	struct coalesced_pio *c = &vm->cpio;
	long page = sysconf(_SC_PAGESIZE);
	int offset;

	c->ring = NULL;
	c->port = port;
	c->active = false;
	if (pthread_mutex_init(&c->lock, NULL) != 0)
		return -ENOMEM;
	offset = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
	if (offset <= 0 || ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) <= 0 ||
	    page <= 0 || (long)(offset + 1) * page > vm->run_size || vm->nr_vcpus == 0)
		return 0;
	/* The ring is one page of the VM, mapped in every vCPU's kvm_run area. */
	c->ring = (struct kvm_coalesced_mmio_ring *)((char *)vm->vcpu[0].run + offset * page);
	c->ring_max = (uint32_t)(((size_t)page - sizeof(*c->ring)) / sizeof(c->ring->coalesced_mmio[0]));
	if (want)
		coalesced_pio_set(vm, true);
	return 0;
}

/* With c->lock held. */
static void drain_locked(struct vmm *vm, struct coalesced_pio *c)
{
	struct kvm_coalesced_mmio_ring *r = c->ring;

	while (r->first != r->last) {
		uint32_t i = r->first;
		struct kvm_coalesced_mmio *m;

		if (i >= c->ring_max) { /* KVM never does this; never trust it blindly */
			r->first = r->last;
			break;
		}
		m = &r->coalesced_mmio[i];
		if (m->len >= 1 && m->len <= sizeof(m->data))
			bus_write(m->pio ? &vm->pio : &vm->mmio, m->phys_addr, m->data, m->len);
		__atomic_store_n(&r->first, (i + 1) % c->ring_max, __ATOMIC_RELEASE);
	}
}

void coalesced_pio_drain(struct vmm *vm)
{
	struct coalesced_pio *c = &vm->cpio;

	/* Cheap when empty: most exits find nothing batched. */
	if (c->ring == NULL ||
	    __atomic_load_n(&c->ring->first, __ATOMIC_ACQUIRE) ==
		    __atomic_load_n(&c->ring->last, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&c->lock);
	drain_locked(vm, c);
	pthread_mutex_unlock(&c->lock);
}

void coalesced_pio_set(struct vmm *vm, bool want)
{
	struct coalesced_pio *c = &vm->cpio;

	if (c->ring == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	if (want != c->active) {
		if (!want)
			drain_locked(vm, c);
		if (zone_ioctl(vm, want ? KVM_REGISTER_COALESCED_MMIO
					: KVM_UNREGISTER_COALESCED_MMIO) == 0)
			c->active = want;
		/* Writes batched until the zone went away. */
		drain_locked(vm, c);
	}
	pthread_mutex_unlock(&c->lock);
}

void coalesced_pio_destroy(struct vmm *vm)
{
	if (vm->cpio.ring == NULL)
		return;
	coalesced_pio_drain(vm);
	pthread_mutex_destroy(&vm->cpio.lock);
	vm->cpio.ring = NULL;
}
