/* The public API: build a VM from a config, run it, stop it, report how it
 * ended, tear it down. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "boot/linux.h"
#include "vmm/boot_multiboot.h"
#include "vmm/image.h"
#include "vmm/pmu_glue.h"
#include "vmm/sandbox.h"
#include "vmm/vm.h"

#define MIN_MEMORY (2ULL << 20)
#define MAX_FIRMWARE (64ULL << 20)
#define MAX_KERNEL (256ULL << 20)
#define MAX_INITRD (2ULL << 30)

/* The cmdline a Linux guest gets when none is given: serial console, end
 * the VM on panic (reboot through the i8042) and power off through our
 * port (README, "Linux guests"). */
#define DEFAULT_CMDLINE                                                                            \
	"console=ttyS0 panic=-1 reboot=k libvmm.poweroff_port=0x505 tsc=reliable no_timer_check"
/* Appended on software-assisted hosts, whose emulator cannot run these
 * instructions in guest kernel mode; clearcpuid is the only mask the
 * kernel honours before it uses them (README.md, "CPUID"). */
#define EMULATED_HOST_CMDLINE                                                                      \
	" clearcpuid=xsave,popcnt,smap,rdrand,rdseed,rdpid,fsgsbase,rdtscp,pcid,invpcid,"          \
	"3dnowprefetch"

const char *vmm_version(void)
{
	return LIBVMM_VERSION;
}

void vmm_config_init(struct vmm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->memory_bytes = 256ULL << 20;
	cfg->cpus = 1;
	cfg->console_out_fd = -1;
	cfg->log_level = VMM_LOG_INFO;
	cfg->kick_signal = SIGUSR2;
}

/* The PC's devices, placed as vmm/platform.c's table says. */
static int setup_devices(struct vmm *vm, char *err, size_t errlen)
{
	const struct platform_device *table;
	size_t n;

	table = platform_pc(&n);
	return platform_setup(vm, table, n, err, errlen);
}

/* The CPUID pipeline (vmm/cpuid.h) after KVM's supported CPUID: the VM
 * core's identity leaves, each owner's leaves, then the host step. The
 * per-vCPU topology is set when each vCPU is created. */
static int setup_cpuid(struct vmm *vm, char *err, size_t errlen)
{
	int hidden, ret;

	ret = cpuid_set_vm_identity(vm->cpuid, vm->tsc_khz);
	if (ret < 0) {
		snprintf(err, errlen, "CPUID identity leaves: %s", strerror(-ret));
		return ret;
	}
	ret = vm_pmu_patch_cpuid(vm, vm->cpuid);
	if (ret < 0) {
		snprintf(err, errlen, "PMU CPUID leaves: %s", strerror(-ret));
		return ret;
	}
	switch (vm->cfg.cpuid_compat) {
	case VMM_CPUID_COMPAT_NONE:
		vm->host_kind = HOST_KIND_HARDWARE;
		break;
	case VMM_CPUID_COMPAT_EMULATED:
		vm->host_kind = HOST_KIND_EMULATED;
		break;
	default:
		vm->host_kind = cpuid_detect_host("/sys/module");
		break;
	}
	hidden = cpuid_apply_host_compat(vm->cpuid, vm->host_kind);
	if (vm->host_kind == HOST_KIND_EMULATED)
		vm_log(vm, VMM_LOG_INFO,
		       "host: software-assisted KVM; CPUID hides %d features it cannot emulate "
		       "(XSAVE, POPCNT, SMAP, ...; --cpuid-compat=none to keep them)",
		       hidden);
	return 0;
}

static int load_firmware(struct vmm *vm, char *err, size_t errlen)
{
	uint8_t *img = NULL;
	size_t len = 0;
	int ret;

	ret = image_read("firmware", vm->firmware_path, MAX_FIRMWARE, &img, &len, err, errlen);
	if (ret < 0)
		return ret;
	ret = flat_load(img, len, &vm->ram, vm->nr_vcpus, &vm->plan);
	free(img);
	if (ret < 0) {
		snprintf(err, errlen, "firmware %s: %s", vm->firmware_path, vm->plan.err);
		return ret;
	}
	/* Raw guests get --cmdline as their argument string, address in RDX. */
	if (vm->cmdline != NULL) {
		size_t n = strlen(vm->cmdline) + 1;
		char *dst = guest_ram_ptr(&vm->ram, LAYOUT_CMDLINE, n);

		if (n > LAYOUT_CMDLINE_MAX || dst == NULL) {
			snprintf(err, errlen, "command line of %zu bytes is too long (at most %llu)",
				 n - 1, (unsigned long long)LAYOUT_CMDLINE_MAX - 1);
			return -E2BIG;
		}
		memcpy(dst, vm->cmdline, n);
		vm->plan.regs.rdx = LAYOUT_CMDLINE;
	}
	return 0;
}

/* The given command line, or the default one, plus what the guest needs for
 * the PMU it is shown (@pmu, unless already there) and to find its virtio
 * devices. malloc'd in *out. */
static int compose_cmdline(const struct vmm *vm, const char *pmu, char **out)
{
	const char *base = vm->cmdline, *init_args;
	char dflt[512], *devices;
	size_t len;
	int ret;

	if (base == NULL) {
		snprintf(dflt, sizeof(dflt), "%s%s", DEFAULT_CMDLINE,
			 vm->host_kind == HOST_KIND_EMULATED ? EMULATED_HOST_CMDLINE : "");
		base = dflt;
	}
	if (*pmu != '\0' && strstr(base, pmu) != NULL)
		pmu = "";
	ret = virtio_cmdline(vm, &devices);
	if (ret < 0)
		return ret;
	/* Kernel parameters go before " -- ", after which all is init's. */
	init_args = strstr(base, " -- ");
	if (init_args == NULL && strncmp(base, "-- ", 3) == 0)
		init_args = base;
	if (init_args == NULL)
		init_args = base + strlen(base);
	len = strlen(base) + strlen(pmu) + strlen(devices) + 2;
	*out = malloc(len);
	if (*out != NULL)
		snprintf(*out, len, "%.*s%s%s%s%s", (int)(init_args - base), base,
			 init_args > base && *pmu ? " " : "", pmu, devices, init_args);
	free(devices);
	return *out == NULL ? -ENOMEM : 0;
}

static int load_linux(struct vmm *vm, char *err, size_t errlen)
{
	struct linux_boot_args a = {
		.nr_cpus = vm->nr_vcpus,
		.host_decompress = vm->cfg.host_decompress,
	};
	const char *pmu_switch = vm_pmu_guest_cmdline(vm);
	uint8_t *kernel = NULL, *initrd = NULL;
	char *cmdline = NULL;
	int ret;

	ret = compose_cmdline(vm, pmu_switch, &cmdline);
	if (ret < 0) {
		snprintf(err, errlen, "kernel command line: %s", strerror(-ret));
		return ret;
	}
	a.cmdline = cmdline;
	if (*pmu_switch != '\0')
		vm_log(vm, VMM_LOG_INFO, "boot: %s added to the kernel command line (--pmu rdmsr)",
		       pmu_switch);
	ret = image_read("kernel", vm->kernel_path, MAX_KERNEL, &kernel, &a.kernel_len, err, errlen);
	if (ret < 0)
		goto out;
	a.kernel = kernel;
	if (vm->initrd_path != NULL) {
		ret = image_read("initrd", vm->initrd_path, MAX_INITRD, &initrd, &a.initrd_len, err,
				 errlen);
		if (ret < 0)
			goto out;
		a.initrd = initrd;
	}
	ret = boot_load_linux(&a, &vm->ram, &vm->plan);
	if (ret < 0)
		snprintf(err, errlen, "kernel %s: %s", vm->kernel_path, vm->plan.err);
	else
		vm_log(vm, VMM_LOG_INFO, "boot: %s", vm->plan.what);
out:
	free(kernel);
	free(initrd);
	free(cmdline);
	return ret;
}

static int load_image(struct vmm *vm, char *err, size_t errlen)
{
	if (vm->kernel_path != NULL && vm_kernel_is_multiboot(vm->kernel_path))
		return vm_load_multiboot(vm, err, errlen);
	if (vm->cfg.nr_modules) {
		snprintf(err, errlen, "kernel %s: modules need a multiboot kernel", vm->kernel_path);
		return -EINVAL;
	}
	if (vm->kernel_path != NULL)
		return load_linux(vm, err, errlen);
	return load_firmware(vm, err, errlen);
}

static int copy_str(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

static int check_config(const struct vmm_config *cfg, char *err, size_t errlen)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	uint64_t host = (pages > 0 && psize > 0) ? (uint64_t)pages * (uint64_t)psize : 0;

	if (cfg->memory_bytes < MIN_MEMORY) {
		snprintf(err, errlen, "memory size %llu bytes is too small (at least 2 MiB)",
			 (unsigned long long)cfg->memory_bytes);
		return -EINVAL;
	}
	if (cfg->memory_bytes % 4096) {
		snprintf(err, errlen, "memory size %llu bytes is not a multiple of 4 KiB",
			 (unsigned long long)cfg->memory_bytes);
		return -EINVAL;
	}
	if (host && cfg->memory_bytes > host) {
		snprintf(err, errlen, "memory size %llu MiB exceeds the host's %llu MiB",
			 (unsigned long long)(cfg->memory_bytes >> 20),
			 (unsigned long long)(host >> 20));
		return -E2BIG;
	}
	if (cfg->cpus < 1 || cfg->cpus > VMM_MAX_CPUS) {
		snprintf(err, errlen, "vCPU count %u is out of range (1-%d)", cfg->cpus,
			 VMM_MAX_CPUS);
		return -EINVAL;
	}
	if ((cfg->firmware_path == NULL) == (cfg->kernel_path == NULL)) {
		snprintf(err, errlen, "give exactly one boot image: a firmware or a kernel");
		return -EINVAL;
	}
	if (cfg->initrd_path != NULL && cfg->kernel_path == NULL) {
		snprintf(err, errlen, "an initrd needs a kernel");
		return -EINVAL;
	}
	if (cfg->nr_disks > VMM_MAX_DISKS) {
		snprintf(err, errlen, "%u disks: at most %d", cfg->nr_disks, VMM_MAX_DISKS);
		return -EINVAL;
	}
	if (cfg->nr_nets > VMM_MAX_NETS || cfg->nr_disks + cfg->nr_nets > VMM_MAX_DISKS) {
		snprintf(err, errlen, "%u disks and %u network interfaces: at most %d in all, %d "
			 "interfaces", cfg->nr_disks, cfg->nr_nets, VMM_MAX_DISKS, VMM_MAX_NETS);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < cfg->nr_nets; i++) {
		if (cfg->nets == NULL || cfg->nets[i].tap == NULL || !*cfg->nets[i].tap) {
			snprintf(err, errlen, "network interface %u has no TAP name", i);
			return -EINVAL;
		}
	}
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		if (cfg->disks == NULL || cfg->disks[i].path == NULL) {
			snprintf(err, errlen, "disk %u has no path", i);
			return -EINVAL;
		}
	}
	if ((unsigned int)cfg->pmu_policy > VMM_PMU_CACHE) {
		snprintf(err, errlen, "PMU policy %d is not one (default, lazy, naive, cache)",
			 (int)cfg->pmu_policy);
		return -EINVAL;
	}
	if (cfg->kick_signal <= 0 || cfg->kick_signal >= NSIG || cfg->kick_signal == SIGKILL ||
	    cfg->kick_signal == SIGSTOP) {
		snprintf(err, errlen, "kick signal %d is not usable", cfg->kick_signal);
		return -EINVAL;
	}
	return 0;
}

static int check_readable(const char *what, const char *path, char *err, size_t errlen)
{
	int e;

	if (path == NULL || access(path, R_OK) == 0)
		return 0;
	e = errno;
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
	return -e;
}

static struct vmm *vm_alloc(const struct vmm_config *cfg)
{
	struct vmm *vm = calloc(1, sizeof(*vm));

	if (vm == NULL)
		return NULL;
	vm->cfg = *cfg;
	vm->kvm_fd = vm->vm_fd = vm->event_fd = -1;
	for (unsigned int i = 0; i < VMM_MAX_CPUS; i++)
		vm->vcpu[i].fd = -1;
	pthread_mutex_init(&vm->exit_lock, NULL);
	if (copy_str(&vm->firmware_path, cfg->firmware_path) < 0 ||
	    copy_str(&vm->kernel_path, cfg->kernel_path) < 0 ||
	    copy_str(&vm->initrd_path, cfg->initrd_path) < 0 ||
	    copy_str(&vm->cmdline, cfg->cmdline) < 0) {
		vmm_destroy(vm);
		return NULL;
	}
	vm->cfg.firmware_path = vm->firmware_path;
	vm->cfg.kernel_path = vm->kernel_path;
	vm->cfg.initrd_path = vm->initrd_path;
	vm->cfg.cmdline = vm->cmdline;
	for (unsigned int i = 0; i < VIRTIO_MAX_DEVICES; i++)
		vm->virtio[i].file_fd = -1;
	return vm;
}

int vmm_create(const struct vmm_config *cfg, struct vmm **out, char *err, size_t errlen)
{
	char scratch[256];
	struct vmm *vm;
	int ret;

	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof(scratch);
	}
	err[0] = '\0';
	*out = NULL;
	ret = check_config(cfg, err, errlen);
	if (ret < 0)
		return ret;
	vm = vm_alloc(cfg);
	if (vm == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	vm->nr_vcpus = cfg->cpus;
	vm->event_fd = eventfd(0, EFD_CLOEXEC);
	if (vm->event_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	/* A missing image is the likelier mistake: say so before KVM's state. */
	if ((ret = check_readable("firmware", vm->firmware_path, err, errlen)) < 0 ||
	    (ret = check_readable("kernel", vm->kernel_path, err, errlen)) < 0 ||
	    (ret = check_readable("initrd", vm->initrd_path, err, errlen)) < 0)
		goto fail;
	if ((ret = kvm_open_checked(vm, err, errlen)) < 0 ||
	    (ret = kvm_setup_vm(vm, err, errlen)) < 0 ||
	    (ret = memory_setup(vm, err, errlen)) < 0 ||
	    (ret = setup_devices(vm, err, errlen)) < 0 ||
	    (ret = virtio_setup(vm, err, errlen)) < 0)
		goto fail;
	/* Read once: the caller's array need not outlive this call. */
	vm->cfg.disks = NULL;
	vm->cfg.nets = NULL;
	ret = msr_router_init(&vm->msr);
	if (ret < 0)
		goto fail;
	vm->msr_ready = true;
	vm->tsc_khz = kvm_guest_tsc_khz(vm);
	ret = cpuid_get_supported(vm->kvm_fd, &vm->cpuid);
	if (ret < 0) {
		snprintf(err, errlen, "KVM_GET_SUPPORTED_CPUID: %s", strerror(-ret));
		goto fail;
	}
	if ((ret = vm_pmu_setup(vm, err, errlen)) < 0 || (ret = setup_cpuid(vm, err, errlen)) < 0)
		goto fail;
	ret = kvm_set_msr_filter(vm);
	if (ret < 0) {
		snprintf(err, errlen, "KVM_X86_SET_MSR_FILTER: %s", strerror(-ret));
		goto fail;
	}
	ret = kvm_setup_irq_routing(vm);
	if (ret < 0) {
		snprintf(err, errlen, "KVM_SET_GSI_ROUTING: %s", strerror(-ret));
		goto fail;
	}
	ret = load_image(vm, err, errlen);
	if (ret < 0)
		goto fail;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu_create(vm, i);
		if (ret < 0) {
			snprintf(err, errlen, "vCPU %u: %s", i, strerror(-ret));
			goto fail;
		}
	}
	ret = vcpu_setup_boot_regs(&vm->vcpu[0], &vm->plan.regs);
	if (ret < 0) {
		snprintf(err, errlen, "vCPU 0 registers: %s", strerror(-ret));
		goto fail;
	}
	if (platform_console(vm) != NULL) {
		ret = coalesced_pio_init(vm, vm->devices.com1_port,
					 uart_tx_batchable(platform_console(vm)));
		if (ret < 0) {
			snprintf(err, errlen, "coalesced console port: %s", strerror(-ret));
			goto fail;
		}
	}
	*out = vm;
	return 0;
fail:
	vmm_destroy(vm);
	return ret;
}

static void kick_live_vcpus(struct vmm *vm)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];

		if (v->thread_started && atomic_load(&v->alive))
			pthread_kill(v->thread, vm->cfg.kick_signal);
	}
}

/* Where the guest's exits went, per vCPU (vmm run -v). */
static void log_exit_stats(const struct vmm *vm)
{
	char line[768];

	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		if (exit_stats_format(&vm->vcpu[i].exit_stats, line, sizeof(line)) >= 0)
			vm_log(vm, VMM_LOG_DEBUG, "vCPU %u: %s", i, line);
		if (exit_stats_format_time(&vm->vcpu[i].exit_stats, line, sizeof(line)) >= 0)
			vm_log(vm, VMM_LOG_DEBUG, "vCPU %u: %s", i, line);
	}
}

int vmm_run(struct vmm *vm)
{
	sigset_t kick, old;
	uint64_t count;
	bool kicked = false;
	int ret;

	if (atomic_exchange(&vm->has_run, true))
		return -EBUSY;
	/* The vCPU threads inherit the privileges of this one. */
	ret = sandbox_before_vcpus(vm);
	if (ret < 0) {
		vm_end(vm, VMM_EXIT_ERROR, ret, "sandbox: dropping privileges: %s", strerror(-ret));
		return 0;
	}
	/* Threads inherit the mask: they start with the kick signal blocked. */
	sigemptyset(&kick);
	sigaddset(&kick, vm->cfg.kick_signal);
	pthread_sigmask(SIG_BLOCK, &kick, &old);
	/* Devices first: a vCPU's first kick finds its I/O thread there. */
	ret = virtio_start(vm);
	if (ret < 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		vm_end(vm, VMM_EXIT_ERROR, ret, "virtio: I/O thread: %s", strerror(-ret));
		virtio_stop(vm);
		return 0;
	}
	atomic_store(&vm->live_vcpus, (int)vm->nr_vcpus);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];

		atomic_store(&v->alive, true);
		ret = pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (ret != 0) {
			atomic_store(&v->alive, false);
			atomic_fetch_sub(&vm->live_vcpus, 1);
			vm_end(vm, VMM_EXIT_ERROR, -ret, "vCPU %u: thread: %s", i, strerror(ret));
			continue;
		}
		v->thread_started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* After the vCPUs started: they must not inherit this thread's filter. */
	ret = sandbox_after_vcpus(vm);
	if (ret < 0)
		vm_end(vm, VMM_EXIT_ERROR, ret, "sandbox: seccomp filter of the run thread: %s",
		       strerror(-ret));

	/* Only this thread kicks and joins vCPU threads, so a kick never
	 * targets a thread that is already joined. One kick per thread is
	 * enough: it stays pending until the thread leaves KVM_RUN, and the
	 * thread checks vm->ending after consuming it. */
	while (atomic_load(&vm->live_vcpus) > 0) {
		if (atomic_load(&vm->stop_requested) && !atomic_load(&vm->ending))
			vm_end(vm, VMM_EXIT_STOPPED, 0, "stopped by the host");
		if (atomic_load(&vm->ending) && !kicked) {
			kick_live_vcpus(vm);
			kicked = true;
		}
		if (atomic_load(&vm->live_vcpus) == 0)
			break;
		if (read(vm->event_fd, &count, sizeof(count)) < 0 && errno != EINTR)
			break;
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		if (vm->vcpu[i].thread_started) {
			pthread_join(vm->vcpu[i].thread, NULL);
			vm->vcpu[i].thread_started = false;
		}
	}
	virtio_stop(vm);
	/* What the guest wrote last may still wait in KVM's batch. */
	coalesced_pio_drain(vm);
	log_exit_stats(vm);
	return 0;
}

void vmm_stop(struct vmm *vm)
{
	atomic_store(&vm->stop_requested, true);
	vm_wake(vm);
}

int vmm_console_input(struct vmm *vm, const void *buf, size_t len)
{
	struct uart *com1 = platform_console(vm);

	if (com1 == NULL)
		return -ENODEV;
	return (int)uart_receive(com1, buf, len > INT32_MAX ? INT32_MAX : len);
}

_Static_assert((int)VMM_EXIT_KIND_NR == (int)EXIT_KIND_NR &&
		   (int)VMM_EXIT_KIND_SIGNAL == (int)EXIT_KIND_SIGNAL,
	       "vmm_exit_kind mirrors exit_kind");

int vmm_get_exit_times(const struct vmm *vm, struct vmm_exit_times *t)
{
	if (vm == NULL || t == NULL)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		const struct exit_stats *s = &vm->vcpu[i].exit_stats;

		for (unsigned int k = 0; k < EXIT_KIND_NR; k++) {
			t->exits[k] += s->kind[k];
			t->ns[k] += s->ns[k];
		}
	}
	return 0;
}

int vmm_get_exit(const struct vmm *vm, struct vmm_exit *ex)
{
	struct vmm *m = (struct vmm *)vm; /* the lock is not part of the value */

	pthread_mutex_lock(&m->exit_lock);
	*ex = vm->exit;
	pthread_mutex_unlock(&m->exit_lock);
	return 0;
}

void vmm_destroy(struct vmm *vm)
{
	if (vm == NULL)
		return;
	coalesced_pio_destroy(vm);
	virtio_teardown(vm);
	for (unsigned int i = 0; i < VMM_MAX_CPUS; i++)
		if (vm->vcpu[i].vm != NULL)
			vcpu_destroy(&vm->vcpu[i]);
	vm_pmu_destroy(vm);
	memory_teardown(vm);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->event_fd >= 0)
		close(vm->event_fd);
	platform_teardown(vm);
	if (vm->msr_ready)
		msr_router_destroy(&vm->msr);
	free(vm->cpuid);
	free(vm->firmware_path);
	free(vm->kernel_path);
	free(vm->initrd_path);
	free(vm->cmdline);
	pthread_mutex_destroy(&vm->exit_lock);
	free(vm);
}
