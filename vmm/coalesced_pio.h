/* Port writes batched by KVM without exits (coalesced PIO): the console's
 * THR while the UART has nothing but the byte to do with a write (a polling
 * console, as Linux's for every kernel message). KVM appends such writes to
 * a ring; every exit, and the end of the VM, hands them to the bus in order
 * before anything else, so a guest never sees them out of order. */
#ifndef VMM_COALESCED_PIO_H
#define VMM_COALESCED_PIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vmm;
struct kvm_coalesced_mmio_ring;

struct coalesced_pio {
	struct kvm_coalesced_mmio_ring *ring; /* NULL: KVM cannot, or not set up */
	uint32_t ring_max;		      /* entries the ring page holds */
	uint16_t port;			      /* the batched port */
	bool active;			      /* the zone is registered now */
	pthread_mutex_t lock;		      /* drains and zone changes */
};

/* After the vCPUs exist: find KVM's ring and batch writes to @port when
 * @want says so. Without KVM support it stays off and says nothing.
 * Returns 0 or a negative errno. */
int coalesced_pio_init(struct vmm *vm, uint16_t port, bool want);

/* Hand every batched write to the port bus (any thread). */
void coalesced_pio_drain(struct vmm *vm);

/* Start or stop batching (drains first when stopping). */
void coalesced_pio_set(struct vmm *vm, bool want);

void coalesced_pio_destroy(struct vmm *vm);

#endif
