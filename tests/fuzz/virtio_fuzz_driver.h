/* The guest driver side shared by the virtio harnesses (fuzz_virtio.c,
 * fuzz_virtio_net.c), whatever the device: rings and chains written where
 * the driver programmed them, valid or not, Linux's probe and queue
 * set-up, the operations the harnesses encode alike, and the checks of the
 * transport that hold after any operation. */
#ifndef VIRTIO_FUZZ_DRIVER_H
#define VIRTIO_FUZZ_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/virtio_mmio.h"
#include "fuzz_input.h"
#include "fuzz_ram.h"
#include "tests/unit/virtio_mmio32.h"

#define REG_STATUS    0x070
#define S_DRIVER_OK   4
#define S_NEEDS_RESET 0x40
#define INT_CONFIG    2

struct fuzz_driver {
	struct fuzz_ram fram;
	struct virtio_mmio *mmio; /* the transport of the device under test */
	unsigned int irqs;	  /* interrupts it raised for this input */
	/* Where the next well-formed chain of each queue starts. */
	uint16_t next_desc[VIRTIO_MMIO_MAX_QUEUES];
};

/* Once per process: guest RAM of @ram_size bytes. */
void fuzz_driver_init(struct fuzz_driver *d, size_t ram_size);

/* Once per input, after the device's init: drive its transport @mmio from
 * a fresh start. */
void fuzz_driver_start(struct fuzz_driver *d, struct virtio_mmio *mmio);

static inline uint32_t fuzz_driver_status(const struct fuzz_driver *d)
{
	return d->mmio->status;
}

static inline uint16_t fuzz_driver_qsize(const struct fuzz_driver *d, unsigned int q)
{
	return d->mmio->vq[q].size;
}

/* Whether queue @q may do anything at all. */
static inline bool fuzz_driver_running(const struct fuzz_driver *d, unsigned int q)
{
	return (fuzz_driver_status(d) & S_DRIVER_OK) && !(fuzz_driver_status(d) & S_NEEDS_RESET) &&
	       d->mmio->vq[q].ready;
}

/* Descriptor @idx (modulo the size) of queue @q's table; nothing if the
 * queue has no size or the table is not in RAM. */
void fuzz_driver_put_desc(struct fuzz_driver *d, unsigned int q, uint16_t idx, uint64_t addr,
			  uint32_t len, uint16_t flags, uint16_t next);

/* Offer chain @head on queue @q: ring entry, then avail->idx + 1, taking
 * the index from RAM as the driver last left it. */
void fuzz_driver_offer(struct fuzz_driver *d, unsigned int q, uint16_t head);

/* Lay @n buffers out from queue @q's next free descriptor, as a direct
 * chain or (@table not 0) in an indirect table at @table behind one
 * descriptor, and offer them; nothing if the queue has no size. */
void fuzz_driver_add_chain(struct fuzz_driver *d, unsigned int q, const struct virtq_desc *desc,
			   unsigned int n, uint64_t table);

/* A harness's own operation @op (4 to 15), its operands in @in. */
typedef void fuzz_device_op(unsigned int op, struct fuzz_in *in);

/* One operation of @in: an opcode byte (modulo 16), then its operands.
 * Opcodes 0 to 3 are alike in both harnesses (W32, R32, ACCESS, RAM: see
 * their headers) and done here; @device_op does the others, and calls
 * fuzz_ram_may_change() first for any that may write guest RAM. Then
 * aborts if NEEDS_RESET went away without a reset, or came without a
 * config interrupt (an operation that sets it never acknowledges it)
 * unless the driver wrote the bit itself (the transport keeps what it
 * writes), or if an interrupt came with no cause the driver can read. */
void fuzz_driver_step(struct fuzz_driver *d, struct fuzz_in *in, fuzz_device_op *device_op);

/* SETUP feat(1) qsz(1) at(1): Linux's vm_probe ... vm_setup_vq ...
 * DRIVER_OK with VERSION_1 and the features feat asks for (bit 0
 * INDIRECT_DESC, bit 1 EVENT_IDX, bits 2 to 7 @device_features[0 to 5]),
 * every queue of 1 << (qsz % 9) entries, their rings from at * 1 KiB on,
 * 8 KiB apart (they may run past RAM). Stops after FEATURES_OK if the
 * device refused it, as Linux does. */
void fuzz_driver_op_setup(struct fuzz_driver *d, const uint64_t device_features[6],
			  struct fuzz_in *in);

/* Queue @q's avail flags (@which & 1 clear) or used_event (set). */
void fuzz_driver_ring_word(struct fuzz_driver *d, unsigned int q, unsigned int which, uint16_t val);

#endif
