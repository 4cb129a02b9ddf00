/* Shared by the KVM integration tests: skip (with the reason) when
 * /dev/kvm cannot be used, and run a guest into a captured console. */
#ifndef TESTS_KVM_CHECK_H
#define TESTS_KVM_CHECK_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libvmm.h"

/* Why KVM cannot be used here, or NULL when it can. */
static inline const char *kvm_unusable_reason(void)
{
	static char why[128];
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return NULL;
	}
	snprintf(why, sizeof(why), "/dev/kvm: %s", strerror(errno));
	return why;
}

#define SKIP_WITHOUT_KVM()                                                                         \
	do {                                                                                       \
		const char *why_ = kvm_unusable_reason();                                          \
		if (why_ != NULL) {                                                                \
			print_message("skipped: %s\n", why_);                                      \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

struct console_capture {
	pthread_mutex_t lock;
	char buf[8192];
	size_t len;
};

static inline void capture_console(void *opaque, const void *data, size_t len)
{
	struct console_capture *c = opaque;

	pthread_mutex_lock(&c->lock);
	if (len > sizeof(c->buf) - 1 - c->len)
		len = sizeof(c->buf) - 1 - c->len;
	memcpy(c->buf + c->len, data, len);
	c->len += len;
	c->buf[c->len] = '\0';
	pthread_mutex_unlock(&c->lock);
}

static inline void capture_log(void *opaque, enum vmm_log_level level, const char *msg)
{
	fprintf(stderr, "[libvmm] %s\n", msg);
}

/* Path of a test guest binary, from LIBVMM_GUEST_DIR set by meson. */
static inline const char *guest_path(const char *name, char *buf, size_t len)
{
	const char *dir = getenv("LIBVMM_GUEST_DIR");

	snprintf(buf, len, "%s/%s.bin", dir ? dir : ".", name);
	return buf;
}

static inline void config_for_guest(struct vmm_config *cfg, const char *name, char *path,
				    size_t pathlen, struct console_capture *cap)
{
	vmm_config_init(cfg);
	cfg->memory_bytes = 64ULL << 20;
	cfg->firmware_path = guest_path(name, path, pathlen);
	cfg->console_sink = capture_console;
	cfg->console_opaque = cap;
	cfg->log = capture_log;
	cfg->log_level = VMM_LOG_WARN;
	memset(cap, 0, sizeof(*cap));
	pthread_mutex_init(&cap->lock, NULL);
}

#endif
