/*
 * seccomp-bpf allowlists (libseccomp) for each kind of VM thread. ioctl() is
 * allowed by request number only, perf_event_open() only for the calling
 * thread, fcntl() only for the commands arming overflow signals, clone()
 * nowhere: the threads that need it are created before the filters.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/if_tun.h>
#include <linux/perf_event.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

#include "vmm/seccomp_filter.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* What glibc does under any thread: memory, locks, signals, the clock,
 * thread exit, and writing log lines and console bytes. */
static const int common_calls[] = {
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(close),
    SCMP_SYS(futex),
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mprotect),
    SCMP_SYS(madvise),
    SCMP_SYS(mremap),
    SCMP_SYS(brk),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(rt_sigtimedwait),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    SCMP_SYS(gettid),
    SCMP_SYS(getpid),
    SCMP_SYS(tgkill),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(sched_yield),
    SCMP_SYS(getrandom),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(newfstatat),
    SCMP_SYS(fstat),
};

/* AddressSanitizer's runtime: its alternate signal stacks, the leak check
 * at exit (a tracer thread reading /proc) and its reports. Only in
 * sanitizer builds, which are test builds. On x86-64 the runtime's own
 * syscall wrappers use the legacy open(), lseek() and getdents() (not
 * openat()/getdents64()): without them the leak check's tracer, a clone
 * that inherits the run thread's filter and blocks every signal, dies of
 * SIGSYS at its first open() and the exiting thread waits for it forever
 * (`vmm run` under ASan hung after the guest's last byte). fcntl() is
 * the report's symbolizer's, on each file it opens: without it a leak
 * report became a one-line seccomp refusal. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif
#ifdef SANITIZER_BUILD
static const int sanitizer_calls[] = {
    SCMP_SYS(sigaltstack),  SCMP_SYS(prctl),
    SCMP_SYS(openat),	    SCMP_SYS(readlink),
    SCMP_SYS(getdents64),   SCMP_SYS(clone),
    SCMP_SYS(wait4),	    SCMP_SYS(ptrace),
    SCMP_SYS(rt_sigaction), SCMP_SYS(sched_getaffinity),
    SCMP_SYS(uname),	    SCMP_SYS(getppid),
    SCMP_SYS(pipe2),	    SCMP_SYS(waitid),
    SCMP_SYS(fcntl),
#ifdef __x86_64__
    SCMP_SYS(open),	    SCMP_SYS(lseek),
    SCMP_SYS(getdents),
#endif
};
#endif

/* The vPMU on its vCPU thread: host events and the idle-slice timer. */
static const int vcpu_calls[] = {
    SCMP_SYS(timer_create),
    SCMP_SYS(timer_settime),
    SCMP_SYS(timer_gettime),
    SCMP_SYS(timer_delete),
};

static const int run_calls[] = {SCMP_SYS(timer_delete)};

static const int io_calls[] = {SCMP_SYS(poll), SCMP_SYS(ppoll)};

/* A virtio device's I/O thread: waits on its eventfds, serves disk
 * requests on the image fd and packets on the TAP fd. */
static const int device_calls[] = {
    SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
    SCMP_SYS(pread64),	  SCMP_SYS(pwrite64),	 SCMP_SYS(preadv),
    SCMP_SYS(pwritev),	  SCMP_SYS(readv),	 SCMP_SYS(writev),
    SCMP_SYS(fdatasync),  SCMP_SYS(fallocate),	 SCMP_SYS(io_uring_enter),
};

/* Requests used by vmm/vcpu.c, vmm/pmu_vcpu.c, devices' interrupts and
 * pmu/backend_perf.c at run time. */
static const unsigned long vcpu_ioctls[] = {
    KVM_RUN,
    KVM_GET_REGS,
    KVM_GET_SREGS,
    KVM_TRANSLATE,
    KVM_GET_LAPIC,
    KVM_SET_LAPIC,
    KVM_NMI,
    KVM_SIGNAL_MSI,
    KVM_SET_MSRS,
    KVM_IRQ_LINE,
    KVM_SET_SIGNAL_MASK,
    KVM_REGISTER_COALESCED_MMIO, /* the console's THR batched or not */
    KVM_UNREGISTER_COALESCED_MMIO,
    PERF_EVENT_IOC_ENABLE,
    PERF_EVENT_IOC_DISABLE,
    PERF_EVENT_IOC_PERIOD,
    TUNSETOFFLOAD, /* virtio-net's DRIVER_OK: what the TAP may hand the guest */
};

/* The terminal put back after the run (tcsetattr, isatty). */
static const unsigned long run_ioctls[] = {TCGETS, TCSETS, TCSETSW, TCSETSF};

/* Console input raises the UART's interrupt line. */
static const unsigned long io_ioctls[] = {KVM_IRQ_LINE, TCGETS};

/* fcntl() commands arming a perf event's overflow signal. */
static const int vcpu_fcntls[] = {F_SETOWN_EX, F_SETSIG, F_GETFL, F_SETFL};

/* prctl() options: every counter of the vCPU on or off in one call. */
static const int vcpu_prctls[] = {PR_TASK_PERF_EVENTS_DISABLE, PR_TASK_PERF_EVENTS_ENABLE};

static int allow_calls(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);

		if (ret < 0)
			return ret;
	}
	return 0;
}

static int allow_ioctls(scmp_filter_ctx ctx, const unsigned long *reqs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* The kernel reads the request as 32 bits. */
		int ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					   SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, reqs[i]));

		if (ret < 0)
			return ret;
	}
	return 0;
}

static int allow_vcpu(scmp_filter_ctx ctx)
{
	int ret;

	if ((ret = allow_calls(ctx, vcpu_calls, N(vcpu_calls))) < 0 ||
	    (ret = allow_ioctls(ctx, vcpu_ioctls, N(vcpu_ioctls))) < 0)
		return ret;
	for (size_t i = 0; i < N(vcpu_fcntls); i++) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				       SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)vcpu_fcntls[i]));
		if (ret < 0)
			return ret;
	}
	for (size_t i = 0; i < N(vcpu_prctls); i++) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)vcpu_prctls[i]));
		if (ret < 0)
			return ret;
	}
	/* Events of this thread only (pid 0), on any CPU (-1), in no group
	 * (-1): the ints are compared as the kernel reads them, 32 bits. */
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(perf_event_open), 3,
				SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, 0),
				SCMP_A2(SCMP_CMP_MASKED_EQ, 0xffffffffULL, 0xffffffffULL),
				SCMP_A3(SCMP_CMP_MASKED_EQ, 0xffffffffULL, 0xffffffffULL));
}

static int build(scmp_filter_ctx ctx, enum sandbox_thread kind)
{
	int ret = allow_calls(ctx, common_calls, N(common_calls));

	if (ret < 0)
		return ret;
#ifdef SANITIZER_BUILD
	if ((ret = allow_calls(ctx, sanitizer_calls, N(sanitizer_calls))) < 0)
		return ret;
#endif
	switch (kind) {
	case SANDBOX_VCPU:
		return allow_vcpu(ctx);
	case SANDBOX_RUN:
		if ((ret = allow_calls(ctx, run_calls, N(run_calls))) < 0)
			return ret;
		return allow_ioctls(ctx, run_ioctls, N(run_ioctls));
	case SANDBOX_IO:
		if ((ret = allow_calls(ctx, io_calls, N(io_calls))) < 0)
			return ret;
		return allow_ioctls(ctx, io_ioctls, N(io_ioctls));
	case SANDBOX_DEVICE:
		return allow_calls(ctx, device_calls, N(device_calls));
	}
	return -EINVAL;
}

int sandbox_seccomp_install(enum sandbox_thread kind, enum vmm_seccomp mode)
{
	scmp_filter_ctx ctx;
	int ret;

	if (mode == VMM_SECCOMP_OFF)
		return 0;
	/* TRAP rather than KILL_PROCESS: an embedder's SIGSYS handler can say
	 * which call it was; without one, SIGSYS's default action still ends
	 * the process (the kernel unblocks it for a seccomp trap). */
	ctx = seccomp_init(mode == VMM_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
	if (ctx == NULL)
		return -ENOMEM;
	ret = build(ctx, kind);
	if (ret == 0)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	return ret;
}
