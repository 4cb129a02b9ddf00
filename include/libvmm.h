/* libvmm: the one public header of an embeddable KVM virtual machine monitor
 * whose guest PMU is virtualized in userspace.
 *
 * Typical use:
 *	struct vmm_config cfg;
 *	vmm_config_init(&cfg);
 *	cfg.firmware_path = "hello.bin";
 *	struct vmm *vm;
 *	char err[256];
 *	if (vmm_create(&cfg, &vm, err, sizeof(err)) < 0) { puts(err); return 1; }
 *	vmm_run(vm);
 *	struct vmm_exit ex;
 *	vmm_get_exit(vm, &ex);
 *	vmm_destroy(vm);
 *
 * Rules: no global state (several VMs per process work), the library never
 * calls exit() and never prints; it reports through the log callback. Every
 * function that can fail returns a negative errno.
 */
#ifndef LIBVMM_H
#define LIBVMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Marks the API: the library is built with hidden visibility, so what
 * libvmm.so exports is exactly the functions declared with VMM_API. */
#if defined(__GNUC__)
#define VMM_API __attribute__((visibility("default")))
#else
#define VMM_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the library, "MAJOR.MINOR.PATCH". */
#define LIBVMM_VERSION "0.1.0"

/* A virtual machine; opaque to embedders. */
struct vmm;

/* Returns LIBVMM_VERSION of the library actually linked. */
VMM_API const char *vmm_version(void);

/* Severity of a log message. */
enum vmm_log_level {
	VMM_LOG_ERROR = 0,
	VMM_LOG_WARN,
	VMM_LOG_INFO,
	VMM_LOG_DEBUG,
};

/* Log sink: one message per call, one line, no trailing newline. Called from
 * any thread of the VM; it must be thread-safe. */
typedef void (*vmm_log_fn)(void *opaque, enum vmm_log_level level, const char *msg);

/* Console sink: bytes the guest wrote to its serial port. Called from vCPU
 * threads; it must be thread-safe. */
typedef void (*vmm_console_fn)(void *opaque, const void *buf, size_t len);

/* Whether the guest sees a PMU (see README, "PMU"). */
enum vmm_pmu_mode {
	VMM_PMU_ON = 0, /* expose it only where a Linux guest can use it safely */
	VMM_PMU_OFF,	/* hide it */
	VMM_PMU_FORCE,	/* expose it anyway (guests reading counters by RDMSR) */
	VMM_PMU_RDMSR,	/* expose it to a Linux guest told to read counters by RDMSR:
			 * adds libvmm.pmu_rdmsr=1 to its command line (a switch of
			 * the project's guest kernel patch) */
};

/* How guest PMU writes map to host perf events. */
enum vmm_pmu_policy {
	VMM_PMU_POLICY_DEFAULT = 0, /* cache, the one measured best (README, "PMU") */
	VMM_PMU_LAZY,		    /* Linux 5.5's KVM: keep events, toggle with ioctls,
				       recreate on config change */
	VMM_PMU_NAIVE,		    /* recreate on every control write (pre-5.5 KVM) */
	VMM_PMU_CACHE,		    /* lazy, and park events across config changes */
};

/* Guest PMU event filter, as KVM_SET_PMU_EVENT_FILTER (README, "PMU"): a
 * filtered counter gets no host event and keeps the value the guest wrote,
 * without a fault. Entries: VMM_PMU_EVENT() or VMM_PMU_EVENT_ANY_UMASK(). */
enum vmm_pmu_filter_action {
	VMM_PMU_FILTER_NONE = 0, /* every event counts */
	VMM_PMU_FILTER_ALLOW,	 /* only the listed events and fixed counters */
	VMM_PMU_FILTER_DENY,	 /* all but the listed ones */
};

#define VMM_PMU_FILTER_MAX_EVENTS 32
#define VMM_PMU_EVENT(sel, umask) ((((uint32_t)(umask) & 0xff) << 12) | ((uint32_t)(sel) & 0xfff))
#define VMM_PMU_EVENT_ANY_UMASK(sel) ((1u << 20) | ((uint32_t)(sel) & 0xfff))

struct vmm_pmu_filter {
	enum vmm_pmu_filter_action action;
	unsigned int nr_events;
	uint32_t events[VMM_PMU_FILTER_MAX_EVENTS]; /* event select (12 bits) + unit mask */
	uint32_t fixed_counters;		    /* bit i: Intel fixed counter i is listed */
};

/* What backs each virtual counter on the host. */
enum vmm_pmu_backend {
	VMM_PMU_BACKEND_PERF = 0, /* perf_event_open, software fallback without a PMU */
	VMM_PMU_BACKEND_NULL,	  /* no host events: counters change only by guest writes */
};

/* System-call filter on the VM's threads (README, "Sandbox"). */
enum vmm_seccomp {
	VMM_SECCOMP_OFF = 0, /* no filter */
	VMM_SECCOMP_LOG,     /* allow everything, the kernel logs what the allowlist lacks */
	VMM_SECCOMP_KILL,    /* anything else raises SIGSYS: an embedder's handler can
			      * report it, the default action ends the process */
};

/* Which register model the guest sees. */
enum vmm_pmu_model {
	VMM_PMU_MODEL_HOST = 0, /* follow the host CPU vendor */
	VMM_PMU_MODEL_INTEL,
	VMM_PMU_MODEL_AMD,
};

/* Host-compatibility step of the CPUID policy (README, "CPUID"). */
enum vmm_cpuid_compat {
	VMM_CPUID_COMPAT_AUTO = 0, /* detect the kind of host and hide what it cannot run */
	VMM_CPUID_COMPAT_NONE,	   /* pass KVM's supported CPUID unchanged */
	VMM_CPUID_COMPAT_EMULATED, /* assume a software-assisted host (kvm_pvm) */
};

/* A multiboot module: a file the kernel finds in memory, with a string. */
struct vmm_module {
	const char *path;
	const char *string; /* NULL: the path */
};

/* Most modules a multiboot kernel can get, the initrd included. */
#define VMM_MAX_MODULES 16

/* A disk: a raw image file (or block device) the guest sees as a
 * virtio-blk device, /dev/vda for the first (README, "Disks"). Its size
 * must be a multiple of 512 bytes. */
struct vmm_disk {
	const char *path;
	bool read_only; /* the guest sees a read-only disk; writes fail */
	enum vmm_disk_io {
		VMM_DISK_IO_DEFAULT = 0, /* io_uring where built and allowed, else sync */
		VMM_DISK_IO_SYNC,	 /* one request at a time, preadv/pwritev */
		VMM_DISK_IO_URING,	 /* each batch in flight at once (io_uring) */
	} io;
};

/* Most disks a VM can have. */
#define VMM_MAX_DISKS 8

/* A network interface: virtio-net on an existing host TAP interface
 * (README, "Network"). */
struct vmm_net {
	const char *tap; /* the TAP interface's name, e.g. "tap0" */
	uint8_t mac[6];
	bool mac_set; /* false: a locally administered MAC derived per VM */
};

/* Most network interfaces a VM can have; disks and interfaces together are
 * at most VMM_MAX_DISKS. */
#define VMM_MAX_NETS 4

/* Everything needed to build a VM. Start from vmm_config_init(). Strings are
 * copied by vmm_create(); the caller may free them afterwards. */
struct vmm_config {
	uint64_t memory_bytes; /* guest RAM; default 256 MiB */
	unsigned int cpus;     /* vCPUs, 1..VMM_MAX_CPUS; default 1 */

	/* Boot image: exactly one of firmware_path (flat binary, 64-bit entry at
	 * 1 MiB; README "Raw guests") or kernel_path (bzImage or vmlinux). */
	const char *firmware_path;
	const char *kernel_path;
	const char *initrd_path; /* optional, with kernel_path */
	const char *cmdline;	 /* kernel command line; NULL: the default one */
	bool host_decompress;	 /* bzImage: decompress the payload on the host */
	/* Multiboot kernels (a kernel_path with a multiboot header): modules
	 * after initrd_path (module 0 when given). Read by vmm_create(), not
	 * kept. */
	const struct vmm_module *modules;
	unsigned int nr_modules; /* at most VMM_MAX_MODULES */
	/* QEMU-compatible test devices, for conformance kernels written for
	 * QEMU (README, "Multiboot kernels"); off by default. */
	bool qemu_debug_exit; /* port 0xf4 ends with status (value << 1) | 1 */
	/* The test devices (exit port 0xf4, scratch port 0xf8 and MMIO page
	 * 0xd0000000). AUTO: present for --firmware guests (their contract)
	 * and with qemu_debug_exit, absent from kernels (production VMs). */
	enum vmm_test_devices {
		VMM_TEST_DEVICES_AUTO = 0,
		VMM_TEST_DEVICES_ON,
		VMM_TEST_DEVICES_OFF,
	} test_devices;
	bool fw_cfg;	      /* fw_cfg I/O ports 0x510/0x511: CPU count, RAM size */
	/* virtio-mmio disks, announced to a Linux guest on its command line
	 * (virtio_mmio.device=). Read by vmm_create(), which opens and locks
	 * the images; the array is not kept. */
	const struct vmm_disk *disks;
	unsigned int nr_disks; /* at most VMM_MAX_DISKS */
	const struct vmm_net *nets; /* read by vmm_create() too; eth0, eth1, ... */
	unsigned int nr_nets;	    /* at most VMM_MAX_NETS */

	/* Console output: to console_out_fd when >= 0, else to console_sink, else
	 * dropped. Input is given with vmm_console_input(). */
	int console_out_fd;
	vmm_console_fn console_sink;
	void *console_opaque;

	vmm_log_fn log; /* NULL: no logging */
	void *log_opaque;
	enum vmm_log_level log_level; /* messages above this level are dropped */

	enum vmm_cpuid_compat cpuid_compat;

	/* Virtual PMU. */
	enum vmm_pmu_mode pmu;
	enum vmm_pmu_policy pmu_policy;
	enum vmm_pmu_backend pmu_backend;
	enum vmm_pmu_model pmu_model;
	unsigned int pmu_gp_counters;  /* 0: the model's default */
	uint64_t pmu_idle_slice_ns;    /* 0: 10 ms */
	struct vmm_pmu_filter pmu_events; /* zero: no filter */
	/* Host perf_event_open per second per vCPU at most (bursts of 2,000):
	 * 0: 10,000; UINT32_MAX: unbounded. See README, "PMU". */
	uint32_t pmu_open_rate;

	/* Signal used to kick vCPU threads out of KVM_RUN (it stays blocked
	 * outside KVM_RUN on those threads). 0: SIGUSR2. */
	int kick_signal;

	/* Sandbox (README, "Sandbox"). drop_privileges: vmm_run() drops every
	 * capability of its calling thread (keeping CAP_PERFMON only where the
	 * host's perf_event_paranoid needs it for the vPMU) and sets
	 * no_new_privs before the vCPU threads, which inherit that, start.
	 * seccomp: each vCPU thread installs its allowlist before its first
	 * KVM_RUN, and the thread calling vmm_run() installs its own once the
	 * vCPUs run; that thread can only tear down afterwards. Both default to
	 * off: the library never confines its host unasked. */
	bool drop_privileges;
	enum vmm_seccomp seccomp;
};

/* Most vCPUs a VM can have. */
#define VMM_MAX_CPUS 64

/* Why a VM stopped running. */
enum vmm_exit_reason {
	VMM_EXIT_NONE = 0,  /* still running, or never ran */
	VMM_EXIT_POWEROFF,  /* guest powered off */
	VMM_EXIT_RESET,	    /* guest asked for a reset (treated as the end) */
	VMM_EXIT_TEST,	    /* guest wrote a code to the test-exit port (0xf4) */
	VMM_EXIT_STOPPED,   /* vmm_stop() was called */
	VMM_EXIT_ERROR,	    /* the VM failed; see message */
};

/* How a VM ended. */
struct vmm_exit {
	enum vmm_exit_reason reason;
	int code;	   /* VMM_EXIT_TEST: the guest's code; VMM_EXIT_ERROR: -errno */
	char message[256]; /* one line describing the end */
};

/* PMU statistics of a VM (sum over its vCPUs). */
struct vmm_pmu_stats {
	uint64_t msr_reads, msr_writes; /* PMU MSR exits */
	uint64_t msr_gp;		/* of which the guest got #GP */
	uint64_t opens, closes;		/* perf_event_open / close */
	uint64_t enables, disables;	/* PERF_EVENT_IOC_ENABLE / DISABLE */
	uint64_t reads;			/* read() of a counter */
	uint64_t set_periods;		/* PERF_EVENT_IOC_PERIOD */
	uint64_t group_toggles;		/* all counters on/off in one call (prctl) */
	uint64_t recreations;		/* events closed and reopened */
	uint64_t idle_releases;		/* events closed after an idle slice */
	uint64_t fds_open, fds_peak;	/* host fds held now / at most */
	uint64_t exits;			/* all KVM exits of the VM */
	uint64_t pmis;			/* PMIs delivered to the guest */
	uint64_t overflows;		/* host overflows folded into counters */
	uint64_t descheduled;		/* host events found descheduled */
	uint64_t parks;			/* cache policy: events stopped and kept */
	uint64_t cache_hits;		/* ... re-enabled instead of opened */
	uint64_t cache_misses;		/* ... opened: no parked event fitted */
	uint64_t evictions;		/* ... closed to stay within the bounds */
	uint64_t filtered;		/* enables the event filter kept off the host */
	uint32_t guest_tsc_khz;		/* to turn guest RDTSC deltas into time */
	bool exposed;			/* the guest was shown a PMU */
	uint64_t throttled;		/* counters left without a host event by the
					 * bound on opens (10,000/s per vCPU) */
	uint64_t held_toggles;		/* all counters off/on with no host call:
					 * counts read in place (rdpmc) */
};

/* Fill @cfg with defaults. */
VMM_API void vmm_config_init(struct vmm_config *cfg);

/* Build a VM from @cfg: open /dev/kvm, map memory, load the image, create the
 * vCPUs. On failure returns a negative errno and, when @err is not NULL,
 * writes one line saying why into @err (at most @errlen bytes). */
VMM_API int vmm_create(const struct vmm_config *cfg, struct vmm **vm, char *err, size_t errlen);

/* Run the VM until it ends: one thread per vCPU, this call waits for all of
 * them. Returns 0 when the VM ended (see vmm_get_exit()), -EBUSY if it is
 * already running or has run. */
VMM_API int vmm_run(struct vmm *vm);

/* Ask a running VM to stop; returns at once. Safe from any thread and from a
 * signal handler. */
VMM_API void vmm_stop(struct vmm *vm);

/* Queue bytes for the guest's serial port (as typed at a console). Safe from
 * any thread. Returns the number of bytes taken (the rest did not fit). */
VMM_API int vmm_console_input(struct vmm *vm, const void *buf, size_t len);

/* Confine the calling thread, one of the embedder's that serve the VM while
 * it runs (console input, vmm_stop()), as the config's drop_privileges and
 * seccomp ask: afterwards it may read, write, poll, call vmm_console_input()
 * and vmm_stop(), and exit. Call it before vmm_run(). Returns 0 or a
 * negative errno. */
VMM_API int vmm_sandbox_thread(struct vmm *vm);

/* Read how the VM ended. */
VMM_API int vmm_get_exit(const struct vmm *vm, struct vmm_exit *ex);

/* PMU statistics, summed over the vCPUs; valid after vmm_run() returns. */
VMM_API int vmm_get_pmu_stats(const struct vmm *vm, struct vmm_pmu_stats *st);

/* PMU statistics of one vCPU (0 .. cpus-1); -EINVAL for another index. */
VMM_API int vmm_get_vcpu_pmu_stats(const struct vmm *vm, unsigned int cpu,
				   struct vmm_pmu_stats *st);

/* Exits by kind, and the VMM's own time on them: CLOCK_MONOTONIC from
 * KVM_RUN returning to the next KVM_RUN on the vCPU thread. */
enum vmm_exit_kind {
	VMM_EXIT_KIND_IO,
	VMM_EXIT_KIND_MMIO,
	VMM_EXIT_KIND_RDMSR,
	VMM_EXIT_KIND_WRMSR,
	VMM_EXIT_KIND_SIGNAL, /* KVM_RUN interrupted: a kick or a host overflow */
	VMM_EXIT_KIND_OTHER,
	VMM_EXIT_KIND_NR,
};

struct vmm_exit_times {
	uint64_t exits[VMM_EXIT_KIND_NR];
	uint64_t ns[VMM_EXIT_KIND_NR]; /* sum; ns[k] / exits[k] per exit */
};

/* Exit times of the VM, summed over its vCPUs (read them after vmm_run()). */
VMM_API int vmm_get_exit_times(const struct vmm *vm, struct vmm_exit_times *t);

/* Write the PMU statistics as text (json false) or one JSON object into buf.
 * Returns the length written or a negative errno (-ENOSPC if too small). */
VMM_API int vmm_format_pmu_stats(const struct vmm *vm, bool json, char *buf, size_t len);

/* Release everything the VM holds. Call after vmm_run() returned (or instead
 * of it). NULL is ignored. */
VMM_API void vmm_destroy(struct vmm *vm);

/* Parse an event filter, "allow:LIST" or "deny:LIST" with LIST items EVENT,
 * EVENT:UMASK or fixedN (README, "PMU"), into @f. Returns 0, or -EINVAL and,
 * when @err is not NULL, one line saying why. */
VMM_API int vmm_parse_pmu_events(const char *spec, struct vmm_pmu_filter *f, char *err,
				 size_t errlen);

/* Parse a size such as "256M", "1G", "4096", "64K" (binary units). Returns 0
 * and the size in @bytes, or -EINVAL (syntax) / -ERANGE (overflow). */
VMM_API int vmm_parse_size(const char *s, uint64_t *bytes);

#ifdef __cplusplus
}
#endif

#endif
