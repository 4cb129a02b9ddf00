/* vCPUs: creation, initial registers, and the thread running KVM_RUN that
 * hands every exit to exactly one owner. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "vmm/pmu_glue.h"
#include "vmm/sandbox.h"
#include "vmm/vm.h"

#define CR0_PE 0x1ULL
#define CR0_MP 0x2ULL
#define CR0_ET 0x10ULL
#define CR0_NE 0x20ULL
#define CR0_PG 0x80000000ULL
#define CR4_PAE 0x20ULL
#define CR4_OSFXSR 0x200ULL
#define CR4_OSXMMEXCPT 0x400ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL

int vcpu_create(struct vmm *vm, unsigned int id)
{
	struct vcpu *v = &vm->vcpu[id];
	struct kvm_cpuid2 *c;
	size_t csz;
	int ret;

	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0) {
		v->fd = -1;
		return -errno;
	}
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return -errno;
	}
	csz = sizeof(*c) + vm->cpuid->nent * sizeof(c->entries[0]);
	c = malloc(csz);
	if (c == NULL)
		return -ENOMEM;
	memcpy(c, vm->cpuid, csz);
	cpuid_set_vcpu_identity(c, id, vm->nr_vcpus);
	ret = ioctl(v->fd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
	free(c);
	return ret;
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run != NULL)
		munmap(v->run, v->vm->run_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

static void segment_flat(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code64)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code64;
	s->db = !code64;
}

int vcpu_setup_boot_regs(struct vcpu *v, const struct boot_regs *b)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	bool lm = b->mode == BOOT_MODE_LONG64;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	segment_flat(&sregs.cs, lm ? LAYOUT_SEL_CODE64 : LAYOUT_SEL_CODE32, 0xb, lm);
	segment_flat(&sregs.ds, LAYOUT_SEL_DATA, 0x3, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = LAYOUT_GDT;
	sregs.gdt.limit = 4 * 8 - 1;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE;
	sregs.cr4 = CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs.efer = 0;
	if (lm) {
		sregs.cr0 |= CR0_PG;
		sregs.cr4 |= CR4_PAE;
		sregs.cr3 = b->cr3;
		sregs.efer = EFER_LME | EFER_LMA;
	}
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	memset(&regs, 0, sizeof(regs));
	regs.rip = b->rip;
	regs.rsp = b->rsp;
	regs.rsi = b->rsi;
	regs.rdi = b->rdi;
	regs.rdx = b->rdx;
	regs.rbx = b->rbx;
	regs.rbp = b->rbp;
	regs.rax = b->rax;
	regs.rflags = b->rflags | 0x2; /* bit 1 is always set */
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

/* The instruction bytes at the vCPU's RIP, as hex, for error messages. */
static void vcpu_describe_rip(struct vcpu *v, char *buf, size_t len)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_translation tr;
	const uint8_t *code;
	size_t n;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0 || ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0) {
		snprintf(buf, len, "RIP unknown");
		return;
	}
	n = (size_t)snprintf(buf, len, "RIP 0x%llx", (unsigned long long)regs.rip);
	memset(&tr, 0, sizeof(tr));
	tr.linear_address = sregs.cs.base + regs.rip;
	if (ioctl(v->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
		return;
	code = guest_ram_ptr(&v->vm->ram, tr.physical_address, 15);
	if (code == NULL || n >= len)
		return;
	n += (size_t)snprintf(buf + n, len - n, ", code");
	for (int i = 0; i < 15 && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, " %02x", code[i]);
}

static void vcpu_handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned int size = run->io.size;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	struct vmm *vm = v->vm;

	if (run->io.data_offset + (uint64_t)size * run->io.count > (uint64_t)vm->run_size)
		return; /* never trust offsets blindly, even from the kernel */
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			bus_write(&vm->pio, run->io.port, data, size);
		else
			bus_read(&vm->pio, run->io.port, data, size);
	}
	/* A write to the console UART may have changed whether its THR can
	 * be batched (interrupts or loopback on or off). */
	if (run->io.direction == KVM_EXIT_IO_OUT && vm->cpio.ring != NULL &&
	    (uint16_t)(run->io.port - vm->devices.com1_port) < 8u)
		coalesced_pio_set(vm, uart_tx_batchable(&vm->devices.com1));
}

static void vcpu_handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned int len = run->mmio.len;

	if (len == 0 || len > sizeof(run->mmio.data))
		return;
	if (run->mmio.is_write)
		bus_write(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
	else
		bus_read(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
}

static void vcpu_handle_msr(struct vcpu *v, bool write)
{
	struct kvm_run *run = v->run;
	struct vmm *vm = v->vm;
	uint32_t msr = run->msr.index;
	uint64_t val = run->msr.data;
	int ret;

	if (write)
		ret = msr_router_wrmsr(&vm->msr, v->id, msr, val);
	else
		ret = msr_router_rdmsr(&vm->msr, v->id, msr, &val);
	run->msr.error = ret != 0;
	if (ret == 0) {
		if (!write)
			run->msr.data = val;
	} else if (ret == -ENOENT) {
		if (msr_router_first_unknown(&vm->msr, msr))
			vm_log(vm, VMM_LOG_WARN,
			       "vCPU %u: %s of unhandled MSR 0x%x: #GP (logged once per MSR)",
			       v->id, write ? "WRMSR" : "RDMSR", msr);
	} else if (ret != -EINVAL) {
		vm_log(vm, VMM_LOG_ERROR, "vCPU %u: %s 0x%x failed on the host: %s; #GP",
		       v->id, write ? "WRMSR" : "RDMSR", msr, strerror(-ret));
	}
}

static void vcpu_handle_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_end(v->vm, VMM_EXIT_POWEROFF, 0, "guest powered off");
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_end(v->vm, VMM_EXIT_RESET, 0, "guest reset");
		break;
	default:
		vm_end(v->vm, VMM_EXIT_ERROR, -EIO, "vCPU %u: guest system event %u (crash)", v->id,
		       v->run->system_event.type);
		break;
	}
}

static enum exit_kind exit_kind_of(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_IO:
		return EXIT_KIND_IO;
	case KVM_EXIT_MMIO:
		return EXIT_KIND_MMIO;
	case KVM_EXIT_X86_RDMSR:
		return EXIT_KIND_RDMSR;
	case KVM_EXIT_X86_WRMSR:
		return EXIT_KIND_WRMSR;
	case KVM_EXIT_INTR:
		return EXIT_KIND_SIGNAL;
	default:
		return EXIT_KIND_OTHER;
	}
}

/* One exit, one owner. */
static void vcpu_dispatch(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	char where[160];

	/* Port writes KVM batched come first: they happened before this exit. */
	coalesced_pio_drain(v->vm);
	exit_stats_count(&v->exit_stats, exit_kind_of(run->exit_reason));

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		exit_stats_count_port(&v->exit_stats, run->io.port);
		vcpu_handle_io(v);
		break;
	case KVM_EXIT_MMIO:
		vcpu_handle_mmio(v);
		break;
	case KVM_EXIT_X86_RDMSR:
		vcpu_handle_msr(v, false);
		break;
	case KVM_EXIT_X86_WRMSR:
		vcpu_handle_msr(v, true);
		break;
	case KVM_EXIT_INTR:
		break;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC, which we always have. */
		vm_end(v->vm, VMM_EXIT_POWEROFF, 0, "vCPU %u halted", v->id);
		break;
	case KVM_EXIT_SHUTDOWN:
		vcpu_describe_rip(v, where, sizeof(where));
		vm_end(v->vm, VMM_EXIT_ERROR, -EFAULT, "vCPU %u: triple fault (%s)", v->id, where);
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		vcpu_handle_system_event(v);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		vcpu_describe_rip(v, where, sizeof(where));
		vm_end(v->vm, VMM_EXIT_ERROR, -EIO, "vCPU %u: KVM internal error, suberror %u (%s)",
		       v->id, run->internal.suberror, where);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		vcpu_describe_rip(v, where, sizeof(where));
		vm_end(v->vm, VMM_EXIT_ERROR, -EIO, "vCPU %u: VM entry failed, reason 0x%llx (%s)",
		       v->id,
		       (unsigned long long)run->fail_entry.hardware_entry_failure_reason, where);
		break;
	default:
		vcpu_describe_rip(v, where, sizeof(where));
		vm_end(v->vm, VMM_EXIT_ERROR, -ENOSYS, "vCPU %u: unexpected exit reason %u (%s)",
		       v->id, run->exit_reason, where);
		break;
	}
}

/* The kick signal is blocked on this thread except inside KVM_RUN, so a
 * kick can never be lost between checking for it and entering the guest. */
static int vcpu_setup_signals(struct vcpu *v)
{
	struct {
		struct kvm_signal_mask hdr;
		uint8_t set[8]; /* the kernel's sigset_t is 64 bits */
	} mask;
	sigset_t set;

	if (pthread_sigmask(SIG_BLOCK, NULL, &set) != 0)
		return -EINVAL;
	sigdelset(&set, v->vm->cfg.kick_signal);
	mask.hdr.len = sizeof(mask.set);
	memcpy(mask.set, &set, sizeof(mask.set));
	if (ioctl(v->fd, KVM_SET_SIGNAL_MASK, &mask) < 0)
		return -errno;
	return 0;
}

/* A standard signal is pending at most once, so one wait takes it (one
 * more sent after that interrupts the next KVM_RUN at once); real-time
 * signals queue, so those are drained. One wait less per overflow signal
 * matters on the PMI path. */
static void vcpu_consume_kicks(struct vcpu *v)
{
	struct timespec zero = {0, 0};
	int sig = v->vm->cfg.kick_signal;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	while (sigtimedwait(&set, NULL, &zero) > 0 && sig >= SIGRTMIN)
		;
}

static void vcpu_loop(struct vcpu *v)
{
	struct vmm *vm = v->vm;

	while (!atomic_load(&vm->ending)) {
		uint64_t t0;

		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				t0 = exit_stats_clock();
				exit_stats_count(&v->exit_stats, EXIT_KIND_SIGNAL);
				vcpu_consume_kicks(v);
				vm_pmu_vcpu_tick(v, true, t0);
				exit_stats_end(&v->exit_stats, t0);
				continue;
			}
			vm_end(vm, VMM_EXIT_ERROR, -errno, "vCPU %u: KVM_RUN: %s", v->id,
			       strerror(errno));
			return;
		}
		t0 = exit_stats_clock();
		v->exits++;
		/* Before dispatch: the clock read that starts this exit's VMM
		 * time also stamps a PMU MSR access with the time it happens. */
		vm_pmu_vcpu_tick(v, false, t0);
		vcpu_dispatch(v);
		exit_stats_end(&v->exit_stats, t0);
	}
}

void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vmm *vm = v->vm;
	char name[16];
	int ret;

	/* "vcpuN" in /proc/<pid>/task/<tid>/comm, for ps and the sandbox test. */
	snprintf(name, sizeof(name), "vcpu%u", v->id);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	/* Before anything the guest can influence. */
	ret = sandbox_vcpu_thread(vm);
	if (ret < 0) {
		vm_end(vm, VMM_EXIT_ERROR, ret, "vCPU %u: seccomp filter: %s", v->id,
		       strerror(-ret));
		goto out;
	}
	ret = vcpu_setup_signals(v);
	if (ret < 0) {
		vm_end(vm, VMM_EXIT_ERROR, ret, "vCPU %u: KVM_SET_SIGNAL_MASK: %s", v->id,
		       strerror(-ret));
	} else {
		ret = vm_pmu_vcpu_start(v);
		if (ret < 0)
			vm_end(vm, VMM_EXIT_ERROR, ret, "vCPU %u: PMU start: %s", v->id,
			       strerror(-ret));
		else
			vcpu_loop(v);
		vm_pmu_vcpu_stop(v);
	}
out:
	atomic_store(&v->alive, false);
	atomic_fetch_sub(&vm->live_vcpus, 1);
	vm_wake(vm);
	return NULL;
}
