/* Shared by the KVM integration tests: run a guest under libvmm with a
 * watchdog and get back how it ended, its console and its PMU statistics;
 * skip (saying why) when /dev/kvm is unusable; read the guests' result
 * lines, "PREFIX key=value key=value ...". */
#ifndef TESTS_KVMTEST_H
#define TESTS_KVMTEST_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libvmm.h"

/* Watchdog default; LIBVMM_TEST_TIMEOUT (seconds) overrides it. */
#define KVMTEST_TIMEOUT_S 120

/* What to run. Zero fields take the defaults noted. */
struct kvmtest_opts {
	/* The image: a test guest's name ($LIBVMM_GUEST_DIR/NAME.bin), a
	 * flat binary's path, or a Linux kernel (with an optional initrd). */
	const char *guest;
	const char *firmware;
	const char *kernel, *initrd;
	bool host_decompress;
	const char *cmdline;   /* NULL: none (firmware) or the default (kernel) */
	unsigned int cpus;     /* 0: 1 */
	uint64_t memory_bytes; /* 0: 64 MiB */
	enum vmm_pmu_mode pmu; /* PMU settings: libvmm's defaults at 0 */
	enum vmm_pmu_policy pmu_policy;
	enum vmm_pmu_backend pmu_backend;
	enum vmm_pmu_model pmu_model;
	uint64_t pmu_idle_slice_ns;
	struct vmm_pmu_filter pmu_events;
	uint32_t pmu_open_rate;
	unsigned int timeout_s; /* 0: LIBVMM_TEST_TIMEOUT or KVMTEST_TIMEOUT_S */
	bool verbose;		/* libvmm's INFO messages too (else WARN and up) */
	/* Sandbox (LIBVMM_TEST_SANDBOX=1 turns both on for every guest). */
	bool drop_privileges;
	enum vmm_seccomp seccomp;
	/* Also called with each console chunk, after it is captured. */
	vmm_console_fn on_console;
	void *on_console_opaque;
	/* Multiboot kernels: modules, and QEMU's test devices. */
	const struct vmm_module *modules;
	unsigned int nr_modules;
	bool qemu_debug_exit, fw_cfg;
	enum vmm_test_devices test_devices;
};

/* The guest's console output, NUL-terminated; what does not fit is dropped. */
struct kvmtest_console {
	pthread_mutex_t lock;
	char buf[65536]; /* a Linux boot log is ~10 KB */
	size_t len;
};

/* One guest run: the VM while it exists, then how it went. */
struct kvmtest_run {
	struct vmm *vm; /* from kvmtest_create() to kvmtest_destroy() */
	struct kvmtest_console console;
	struct vmm_exit exit;	  /* valid after kvmtest_wait() */
	struct vmm_pmu_stats pmu; /* idem */
	double wall_ms;		  /* vmm_run()'s duration */
	bool timed_out;		  /* the watchdog stopped the guest */
	/* Private. */
	char name[256];
	char path[512];
	unsigned int timeout_s;
	vmm_console_fn on_console;
	void *on_console_opaque;
};

/* 0 when /dev/kvm can run VMs; else a negative errno and why in @why. */
int kvmtest_kvm_check(char *why, size_t len);

/* In a cmocka test: skip it, saying why, when /dev/kvm is unusable. */
#define KVMTEST_SKIP_WITHOUT_KVM()                                                                 \
	do {                                                                                       \
		char why_[192];                                                                    \
		if (kvmtest_kvm_check(why_, sizeof(why_)) < 0) {                                   \
			print_message("skipped: %s\n", why_);                                      \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

/* Build the VM of @o into @r (r->vm). Returns vmm_create()'s result, with
 * its message in @err. */
int kvmtest_create(const struct kvmtest_opts *o, struct kvmtest_run *r, char *err, size_t errlen);

/* Run r->vm to its end under the watchdog (vmm_run() on a thread of its
 * own), then read its exit and PMU statistics. Returns vmm_run()'s result,
 * else the statistics'. Safe to call from another thread than
 * kvmtest_create()'s. */
int kvmtest_wait(struct kvmtest_run *r);

/* Release r->vm; the results stay readable. */
void kvmtest_destroy(struct kvmtest_run *r);

/* kvmtest_create() + kvmtest_wait() + kvmtest_destroy(). */
int kvmtest_run_guest(const struct kvmtest_opts *o, struct kvmtest_run *r, char *err,
		      size_t errlen);

/* The console capture and the log sink (to stderr) kvmtest_create() uses,
 * for tests that build a vmm_config themselves. */
void kvmtest_console_init(struct kvmtest_console *c);
void kvmtest_console_sink(void *opaque, const void *data, size_t len);
void kvmtest_log(void *opaque, enum vmm_log_level level, const char *msg);

/* Path of test guest @name: $LIBVMM_GUEST_DIR/NAME.bin. */
const char *kvmtest_guest_path(const char *name, char *buf, size_t len);

/*
 * Result lines. In @text, the first line that starts with @prefix (a whole
 * word: followed by a blank or the line's end; "" matches every line) and
 * holds a word "@key=VALUE" gives VALUE. Return 0, or -ENOENT (no such
 * line or key), -EINVAL (VALUE is not a number), -ERANGE (too large, or
 * too long for @out).
 */
int kvmtest_kv_str(const char *text, const char *prefix, const char *key, char *out, size_t outlen);
/* VALUE as a decimal number, or hexadecimal with 0x. */
int kvmtest_kv_u64(const char *text, const char *prefix, const char *key, uint64_t *out);

#endif
