/* The KVM integration tests' runner (a guest under libvmm with a watchdog,
 * its console captured), the /dev/kvm check, and the result-line parser. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "kvmtest.h"

int kvmtest_kvm_check(char *why, size_t len)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int version, e;

	if (fd < 0) {
		e = errno;
		snprintf(why, len, "/dev/kvm: %s", strerror(e));
		return -e;
	}
	version = ioctl(fd, KVM_GET_API_VERSION, 0);
	e = errno;
	close(fd);
	if (version != KVM_API_VERSION) {
		if (version < 0)
			snprintf(why, len, "/dev/kvm: KVM_GET_API_VERSION: %s", strerror(e));
		else
			snprintf(why, len, "/dev/kvm: KVM API version %d, not %d", version,
				 KVM_API_VERSION);
		return version < 0 ? -e : -ENOTSUP;
	}
	return 0;
}

void kvmtest_console_init(struct kvmtest_console *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
}

void kvmtest_console_sink(void *opaque, const void *data, size_t len)
{
	struct kvmtest_console *c = opaque;

	pthread_mutex_lock(&c->lock);
	if (len > sizeof(c->buf) - 1 - c->len)
		len = sizeof(c->buf) - 1 - c->len;
	memcpy(c->buf + c->len, data, len);
	c->len += len;
	c->buf[c->len] = '\0';
	pthread_mutex_unlock(&c->lock);
}

void kvmtest_log(void *opaque, enum vmm_log_level level, const char *msg)
{
	fprintf(stderr, "[libvmm] %s\n", msg);
}

const char *kvmtest_guest_path(const char *name, char *buf, size_t len)
{
	const char *dir = getenv("LIBVMM_GUEST_DIR");

	snprintf(buf, len, "%s/%s.bin", dir ? dir : ".", name);
	return buf;
}

/* The run's console: captured, then handed to the test's hook if any. */
static void run_console(void *opaque, const void *data, size_t len)
{
	struct kvmtest_run *r = opaque;

	kvmtest_console_sink(&r->console, data, len);
	if (r->on_console != NULL)
		r->on_console(r->on_console_opaque, data, len);
}

static unsigned int timeout_of(const struct kvmtest_opts *o)
{
	const char *env = getenv("LIBVMM_TEST_TIMEOUT");

	if (o->timeout_s)
		return o->timeout_s;
	if (env != NULL && atoi(env) > 0)
		return (unsigned int)atoi(env);
	return KVMTEST_TIMEOUT_S;
}

int kvmtest_create(const struct kvmtest_opts *o, struct kvmtest_run *r, char *err, size_t errlen)
{
	struct vmm_config cfg;
	int ret;

	memset(r, 0, sizeof(*r));
	kvmtest_console_init(&r->console);
	r->timeout_s = timeout_of(o);
	r->on_console = o->on_console;
	r->on_console_opaque = o->on_console_opaque;
	vmm_config_init(&cfg);
	cfg.memory_bytes = o->memory_bytes ? o->memory_bytes : 64ULL << 20;
	cfg.cpus = o->cpus ? o->cpus : 1;
	if (o->guest != NULL)
		cfg.firmware_path = kvmtest_guest_path(o->guest, r->path, sizeof(r->path));
	else
		cfg.firmware_path = o->firmware;
	cfg.kernel_path = o->kernel;
	cfg.initrd_path = o->initrd;
	cfg.host_decompress = o->host_decompress;
	cfg.modules = o->modules;
	cfg.nr_modules = o->nr_modules;
	cfg.qemu_debug_exit = o->qemu_debug_exit;
	cfg.fw_cfg = o->fw_cfg;
	cfg.test_devices = o->test_devices;
	cfg.cmdline = o->cmdline;
	cfg.pmu = o->pmu;
	cfg.pmu_policy = o->pmu_policy;
	cfg.pmu_backend = o->pmu_backend;
	cfg.pmu_model = o->pmu_model;
	cfg.pmu_idle_slice_ns = o->pmu_idle_slice_ns;
	cfg.pmu_open_rate = o->pmu_open_rate;
	cfg.pmu_events = o->pmu_events;
	cfg.console_sink = run_console;
	cfg.console_opaque = r;
	cfg.log = kvmtest_log;
	cfg.log_level = o->verbose ? VMM_LOG_INFO : VMM_LOG_WARN;
	cfg.drop_privileges = o->drop_privileges;
	cfg.seccomp = o->seccomp;
	/* LIBVMM_TEST_SANDBOX=1: every guest runs as confined as under `vmm`. */
	if (getenv("LIBVMM_TEST_SANDBOX") != NULL && strcmp(getenv("LIBVMM_TEST_SANDBOX"), "1") == 0) {
		cfg.drop_privileges = true;
		if (cfg.seccomp == VMM_SECCOMP_OFF)
			cfg.seccomp = VMM_SECCOMP_KILL;
	}
	snprintf(r->name, sizeof(r->name), "%s",
		 o->guest ? o->guest
			  : (cfg.firmware_path ? cfg.firmware_path
					       : (cfg.kernel_path ? cfg.kernel_path : "?")));
	ret = vmm_create(&cfg, &r->vm, err, errlen);
	if (ret < 0)
		r->vm = NULL;
	return ret;
}

/* Stops the guest if it is still running when the timeout expires, so a
 * hung guest fails its test (with its console) instead of hanging the
 * suite. */
struct watchdog {
	struct kvmtest_run *r;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

static void *watchdog_thread(void *arg)
{
	struct watchdog *w = arg;
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += w->r->timeout_s;
	pthread_mutex_lock(&w->lock);
	while (!w->done)
		if (pthread_cond_timedwait(&w->cond, &w->lock, &deadline) == ETIMEDOUT)
			break;
	if (!w->done) {
		w->r->timed_out = true;
		fprintf(stderr, "kvmtest: %s still running after %u s: stopping it\n", w->r->name,
			w->r->timeout_s);
		vmm_stop(w->r->vm);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* vmm_run() on a thread of its own: a sandboxed VM confines the thread
 * that runs it for good, and the test's thread has more VMs to build. */
struct runner {
	struct vmm *vm;
	int ret;
};

static void *runner_thread(void *arg)
{
	struct runner *rn = arg;

	rn->ret = vmm_run(rn->vm);
	return NULL;
}

int kvmtest_wait(struct kvmtest_run *r)
{
	struct runner rn = {.vm = r->vm};
	pthread_t runner;
	struct watchdog w = {.r = r};
	struct timespec t0, t1;
	pthread_condattr_t attr;
	pthread_t dog;
	bool dog_started;
	int ret;

	pthread_mutex_init(&w.lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w.cond, &attr);
	pthread_condattr_destroy(&attr);
	dog_started = pthread_create(&dog, NULL, watchdog_thread, &w) == 0;
	if (!dog_started)
		fprintf(stderr, "kvmtest: %s runs without a watchdog\n", r->name);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = pthread_create(&runner, NULL, runner_thread, &rn);
	if (ret == 0) {
		pthread_join(runner, NULL);
		ret = rn.ret;
	} else {
		ret = -ret;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->wall_ms =
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;

	pthread_mutex_lock(&w.lock);
	w.done = true;
	pthread_cond_signal(&w.cond);
	pthread_mutex_unlock(&w.lock);
	if (dog_started)
		pthread_join(dog, NULL);
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);

	vmm_get_exit(r->vm, &r->exit);
	if (ret == 0)
		ret = vmm_get_pmu_stats(r->vm, &r->pmu);
	return ret;
}

void kvmtest_destroy(struct kvmtest_run *r)
{
	vmm_destroy(r->vm);
	r->vm = NULL;
}

int kvmtest_run_guest(const struct kvmtest_opts *o, struct kvmtest_run *r, char *err, size_t errlen)
{
	int ret = kvmtest_create(o, r, err, errlen);

	if (ret < 0)
		return ret;
	ret = kvmtest_wait(r);
	if (ret < 0)
		snprintf(err, errlen, "%s: vmm_run: %s", r->name, strerror(-ret));
	kvmtest_destroy(r);
	return ret;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool ends_word(char c)
{
	return c == '\0' || c == '\n' || is_blank(c);
}

/* In the line at @p (up to '\n'), the value of word "key=": its start and
 * length, or NULL. */
static const char *find_key(const char *p, const char *key, size_t *vlen)
{
	size_t klen = strlen(key);

	while (*p != '\0' && *p != '\n') {
		const char *word = p;

		while (!ends_word(*p))
			p++;
		if ((size_t)(p - word) > klen && strncmp(word, key, klen) == 0 &&
		    word[klen] == '=') {
			*vlen = (size_t)(p - word) - klen - 1;
			return word + klen + 1;
		}
		while (is_blank(*p))
			p++;
	}
	return NULL;
}

/* The first line of @text starting with the word @prefix that has "key=". */
static const char *find_value(const char *text, const char *prefix, const char *key, size_t *vlen)
{
	size_t plen = strlen(prefix);

	for (const char *line = text; line != NULL && *line != '\0';) {
		const char *nl = strchr(line, '\n');

		if (strncmp(line, prefix, plen) == 0 && (plen == 0 || ends_word(line[plen]))) {
			const char *v = find_key(line + plen, key, vlen);

			if (v != NULL)
				return v;
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	return NULL;
}

int kvmtest_kv_str(const char *text, const char *prefix, const char *key, char *out, size_t outlen)
{
	size_t vlen;
	const char *v = find_value(text, prefix, key, &vlen);

	if (v == NULL)
		return -ENOENT;
	if (vlen >= outlen)
		return -ERANGE;
	memcpy(out, v, vlen);
	out[vlen] = '\0';
	return 0;
}

int kvmtest_kv_u64(const char *text, const char *prefix, const char *key, uint64_t *out)
{
	char buf[64], *end;
	const char *digits = buf;
	unsigned long long v;
	int ret, base = 10;

	ret = kvmtest_kv_str(text, prefix, key, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	if (buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X')) {
		base = 16;
		digits += 2;
	}
	/* strtoull would take a sign or blanks, or nothing at all, as 0. */
	if (!isxdigit((unsigned char)*digits))
		return -EINVAL;
	errno = 0;
	v = strtoull(digits, &end, base);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*out = v;
	return 0;
}
