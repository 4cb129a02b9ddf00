/* The older names of kvmtest.h's helpers (KVM check, console capture, log
 * sink, guest paths), for the tests not yet written against kvmtest.h.
 * Link kvmtest.c with them. */
#ifndef TESTS_KVM_CHECK_H
#define TESTS_KVM_CHECK_H

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmtest.h"
#include "libvmm.h"

#define console_capture kvmtest_console

#define SKIP_WITHOUT_KVM() KVMTEST_SKIP_WITHOUT_KVM()

static inline void capture_console(void *opaque, const void *data, size_t len)
{
	kvmtest_console_sink(opaque, data, len);
}

static inline void capture_log(void *opaque, enum vmm_log_level level, const char *msg)
{
	kvmtest_log(opaque, level, msg);
}

static inline const char *guest_path(const char *name, char *buf, size_t len)
{
	return kvmtest_guest_path(name, buf, len);
}

static inline void config_for_guest(struct vmm_config *cfg, const char *name, char *path,
				    size_t pathlen, struct kvmtest_console *cap)
{
	vmm_config_init(cfg);
	cfg->memory_bytes = 64ULL << 20;
	cfg->firmware_path = kvmtest_guest_path(name, path, pathlen);
	cfg->console_sink = kvmtest_console_sink;
	cfg->console_opaque = cap;
	cfg->log = kvmtest_log;
	cfg->log_level = VMM_LOG_WARN;
	kvmtest_console_init(cap);
}

#endif
