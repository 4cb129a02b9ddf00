/* The VM's virtio-mmio devices: where each is placed (an MMIO window and an
 * ISA IRQ), how the guest finds them (virtio_mmio.device= on the kernel
 * command line), their KVM ioeventfds and irqfds, and one I/O thread per
 * device so that a vCPU never waits for disk or network I/O. */
#ifndef VMM_VIRTIO_H
#define VMM_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/virtio_blk.h"
#include "devices/virtio_net.h"

struct vmm;

/* Where the devices go: one page each from here, IRQs from a fixed list of
 * ISA lines a PC leaves free. */
#define VIRTIO_MMIO_BASE   0xd0800000ULL
#define VIRTIO_MMIO_STRIDE 0x1000ULL
#define VIRTIO_MAX_DEVICES 8

struct virtio_slot {
	struct vmm *vm;
	char name[16]; /* "vda", ... */
	struct virtio_mmio *mmio;
	struct virtio_blk *blk; /* one of blk and net */
	struct virtio_net *net;
	uint64_t base;
	int gsi;
	int file_fd;	 /* the disk image or the TAP */
	bool tap_polled; /* net: the TAP is in the epoll set */
	int kick_fd[VIRTIO_MMIO_MAX_QUEUES];
	int irq_fd, stop_fd, epoll_fd;
	pthread_t thread;
	bool thread_started;
};

/* Open the config's disks and TAPs, place their devices on the MMIO bus and wire
 * their notifications; on failure @err says which and why. */
int virtio_setup(struct vmm *vm, char *err, size_t errlen);

/* The kernel command line's share: " virtio_mmio.device=..." per device,
 * malloc'd in *out ("" when there is none). */
int virtio_cmdline(const struct vmm *vm, char **out);

/* Start / stop the I/O threads (vmm_run(), around the vCPUs). */
int virtio_start(struct vmm *vm);
void virtio_stop(struct vmm *vm);

/* Release everything; safe after a partial setup, and twice. */
void virtio_teardown(struct vmm *vm);

#endif
