/* Internal state of a VM and its vCPUs (what struct vmm in libvmm.h is). */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "libvmm.h"
#include "boot/plan.h"
#include "devices/bus.h"
#include "vmm/coalesced_pio.h"
#include "vmm/cpuid.h"
#include "vmm/exit_stats.h"
#include "vmm/msr_router.h"
#include "vmm/platform.h"
#include "vmm/virtio.h"

struct kvm_run;
struct kvm_cpuid2;
struct vm_pmu;

struct vcpu {
	struct vmm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
	atomic_bool alive; /* thread is running its loop */
	uint64_t exits;
	struct exit_stats exit_stats;
};

struct vmm {
	struct vmm_config cfg; /* strings below point at our own copies */
	char *firmware_path, *kernel_path, *initrd_path, *cmdline;

	int kvm_fd, vm_fd;
	int run_size;
	enum host_kind host_kind;
	uint32_t tsc_khz;

	struct guest_ram ram;
	void *mem;	/* one mapping holding every RAM region */
	size_t mem_len;

	struct bus pio, mmio;
	struct msr_router msr;
	struct platform devices; /* placed on pio/mmio by vmm/platform.c */
	bool msr_ready;

	struct coalesced_pio cpio; /* the console's THR, batched by KVM */
	struct virtio_slot virtio[VIRTIO_MAX_DEVICES]; /* vmm/virtio.c */
	unsigned int nr_virtio;
	struct kvm_cpuid2 *cpuid;
	struct boot_plan plan;
	struct vm_pmu *pmu;

	struct vcpu vcpu[VMM_MAX_CPUS];
	unsigned int nr_vcpus;

	int event_fd;		/* wakes the vmm_run() thread */
	atomic_int live_vcpus;
	atomic_bool ending;	/* the VM is over; vCPUs leave their loops */
	atomic_bool stop_requested;
	atomic_bool has_run;
	pthread_mutex_t exit_lock;
	struct vmm_exit exit;
};

/* Log through the embedder's callback (one line, printf format). */
void vm_log(const struct vmm *vm, enum vmm_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* End the VM (first caller wins) and wake the vmm_run() thread to kick the
 * vCPUs. Safe from any vCPU thread. */
void vm_end(struct vmm *vm, enum vmm_exit_reason reason, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Wake the vmm_run() thread (async-signal-safe). */
void vm_wake(struct vmm *vm);

/* vcpu.c */
int vcpu_create(struct vmm *vm, unsigned int id);
int vcpu_setup_boot_regs(struct vcpu *vcpu, const struct boot_regs *regs);
void *vcpu_thread(void *arg);
void vcpu_destroy(struct vcpu *vcpu);

/* memory.c */
int memory_setup(struct vmm *vm, char *err, size_t errlen);
void memory_teardown(struct vmm *vm);

/* kvm.c */
int kvm_open_checked(struct vmm *vm, char *err, size_t errlen);
int kvm_setup_vm(struct vmm *vm, char *err, size_t errlen);
int kvm_set_msr_filter(struct vmm *vm);
int kvm_setup_irq_routing(struct vmm *vm);
/* The guest's TSC frequency in kHz (0 if it cannot be known). */
uint32_t kvm_guest_tsc_khz(const struct vmm *vm);

#endif
