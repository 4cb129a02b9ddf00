/* virtio over MMIO (virtio 1.x, 4.2; register layout version 2): the
 * transport every virtio device of the VM sits behind. It owns the
 * register file, feature negotiation, the device status and the queues'
 * set-up; the device (blk, net) owns its config space and the requests.
 *
 * Threads: register accesses come from vCPU threads, queue work from the
 * device's I/O thread; both go through the transport's lock, which is never
 * held across device I/O. The interrupt status is atomic so that the
 * driver's interrupt handler never waits for that lock. */
#ifndef DEVICES_VIRTIO_MMIO_H
#define DEVICES_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/virtqueue.h"

#define VIRTIO_MMIO_WINDOW     0x200 /* registers + config space */
#define VIRTIO_MMIO_MAX_QUEUES 2

/* Feature bits the transport itself knows (virtio 1.x, 6). */
#define VIRTIO_FEATURE(bit)	     (1ULL << (bit))
#define VIRTIO_FEATURE_INDIRECT_DESC VIRTIO_FEATURE(28)
#define VIRTIO_FEATURE_EVENT_IDX     VIRTIO_FEATURE(29)
#define VIRTIO_FEATURE_VERSION_1     VIRTIO_FEATURE(32)

struct virtio_device_ops {
	uint32_t device_id; /* virtio device type: 1 net, 2 block */
	unsigned int nr_queues;
	/* Config space accesses (offset from the config start). */
	void (*config_read)(void *dev, uint64_t offset, uint8_t *data, unsigned int size);
	void (*config_write)(void *dev, uint64_t offset, const uint8_t *data, unsigned int size);
	/* The driver set DRIVER_OK with the features negotiated; 0 or a
	 * negative errno (the device then asks for a reset). Lock held. */
	int (*activate)(void *dev, uint64_t features);
	/* The driver reset the device. Lock held; may be NULL. */
	void (*reset)(void *dev);
};

struct virtio_mmio {
	pthread_mutex_t lock;
	const struct virtio_device_ops *ops;
	void *dev;
	const struct guest_ram *ram;

	uint64_t device_features, driver_features;
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	uint32_t status;
	uint32_t generation; /* bumped by each reset: late completions are dropped */
	atomic_uint interrupt_status;
	struct virtq vq[VIRTIO_MMIO_MAX_QUEUES];

	/* The VM's side: raise the device's interrupt (an edge), and a queue
	 * kick that reached the registers (no ioeventfd caught it). */
	void (*interrupt)(void *opaque);
	void (*kick)(void *opaque, unsigned int queue);
	void *opaque;
};

extern const struct bus_device_ops virtio_mmio_ops;

/* @features: what the device offers (the transport adds VERSION_1,
 * EVENT_IDX and INDIRECT_DESC). */
int virtio_mmio_init(struct virtio_mmio *m, const struct virtio_device_ops *ops, void *dev,
		     uint64_t features, const struct guest_ram *ram);
void virtio_mmio_destroy(struct virtio_mmio *m);

/* Register accesses (what the bus ops call). */
void virtio_mmio_read(struct virtio_mmio *m, uint64_t offset, uint8_t *data, unsigned int size);
void virtio_mmio_write(struct virtio_mmio *m, uint64_t offset, const uint8_t *data,
		       unsigned int size);

/* I/O thread side. Take up to @max chains of queue @q into @chains;
 * returns how many (0 when the device is not running), with *gen the
 * generation to hand to virtio_mmio_complete(). A malformed chain marks
 * the device DEVICE_NEEDS_RESET (and tells the driver) instead. */
int virtio_mmio_pop(struct virtio_mmio *m, unsigned int q, struct virtq_chain *chains,
		    unsigned int max, uint32_t *gen);

/* Return @n chains of queue @q (used lengths in @used) and interrupt the
 * driver if it wants it. Dropped if the device was reset since the pop. */
void virtio_mmio_complete(struct virtio_mmio *m, unsigned int q, uint32_t gen,
			  const struct virtq_used_elem *used, unsigned int n);

/* Give back the last @n chains taken from queue @q, unused (a packet that
 * did not fit waits for more buffers). Dropped after a reset. */
void virtio_mmio_unpop(struct virtio_mmio *m, unsigned int q, uint32_t gen, unsigned int n);

/* The queue is empty: ask the driver to kick for new buffers. Returns true
 * if buffers arrived meanwhile (pop again). */
bool virtio_mmio_enable_kicks(struct virtio_mmio *m, unsigned int q);

/* The device broke (a malformed request it cannot fail alone): set
 * DEVICE_NEEDS_RESET and tell the driver. */
void virtio_mmio_set_broken(struct virtio_mmio *m);

#endif
