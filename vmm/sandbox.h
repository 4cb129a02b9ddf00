/* The VM's sandbox as its config asks: privileges and syscall filters on
 * each of its threads, at the points of vmm_run() where they belong. */
#ifndef VMM_SANDBOX_H
#define VMM_SANDBOX_H

struct vmm;

/* On vmm_run()'s thread before it starts the vCPUs: drop privileges. */
int sandbox_before_vcpus(struct vmm *vm);

/* First thing on a vCPU thread: its syscall filter. */
int sandbox_vcpu_thread(struct vmm *vm);

/* First thing on a virtio device's I/O thread: its syscall filter. */
int sandbox_device_thread(struct vmm *vm);

/* On vmm_run()'s thread once the vCPUs are started: its syscall filter. */
int sandbox_after_vcpus(struct vmm *vm);

#endif
