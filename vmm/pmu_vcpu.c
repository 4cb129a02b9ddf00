/* The virtual PMU at run time, on each vCPU's own thread: the PMU MSR exits,
 * the slice timer that releases idle host events, PMI delivery through the
 * guest's LVTPC, and the RDPMC shadow where KVM has a PMU of its own. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "vmm/pmi.h"
#include "vmm/pmu_glue.h"
#include "vmm/pmu_state.h"
#include "vmm/vm.h"

/* Where KVM has a PMU of its own, it serves the guest's RDPMC: keep it idle
 * (guest EVENTSEL writes never reach it) and copy the vPMC values into its
 * counters, so RDPMC returns what RDMSR would have at the last sync. The
 * staleness is bounded by one idle slice (the timer kick syncs too). */
static void vcpu_sync_shadow(struct vmm *vm, unsigned int vcpu)
{
	enum { MAX_SHADOW = 16 };
	struct pmu_msr_value vals[MAX_SHADOW];
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[MAX_SHADOW];
	} m;
	int n;

	if (!vm->pmu->kvm_has_pmu)
		return;
	n = vpmu_shadow_values(vm->pmu->vpmu[vcpu], vals, MAX_SHADOW);
	if (n <= 0)
		return;
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = (uint32_t)n;
	for (int i = 0; i < n; i++) {
		m.e[i].index = vals[i].msr;
		m.e[i].data = vals[i].value;
	}
	if (ioctl(vm->vcpu[vcpu].fd, KVM_SET_MSRS, &m) != n && !vm->pmu->shadow_warned) {
		vm->pmu->shadow_warned = true;
		vm_log(vm, VMM_LOG_WARN,
		       "pmu: KVM refused the RDPMC shadow values; guest RDPMC "
		       "may read stale counts");
	}
}

/* Deliver a PMI as the guest's LVTPC asks: NMI, a fixed vector, or held
 * while the entry is masked. Like Intel hardware, delivery masks LVTPC. */
static void vcpu_deliver_pmi(struct vcpu *v)
{
	struct vm_pmu *p = v->vm->pmu;
	struct kvm_lapic_state lapic;
	struct pmi_decision d;
	uint32_t lvt;

	if (ioctl(v->fd, KVM_GET_LAPIC, &lapic) < 0)
		return;
	memcpy(&lvt, &lapic.regs[APIC_LVTPC], sizeof(lvt));
	d = pmi_decide(lvt, p->cfg.model == PMU_MODEL_INTEL);
	p->pmi_held[v->id] = d.route == PMI_HOLD;
	if (d.route == PMI_HOLD || d.route == PMI_DROP)
		return;
	/* Mask first: setting the LAPIC after an MSI would erase its IRR bit.
	 * KVM offers no narrower write than the whole LAPIC page, so an IPI
	 * landing between GET and SET could be lost; the window is two
	 * back-to-back ioctls on this vCPU's own thread. */
	if (d.set_mask) {
		memcpy(&lapic.regs[APIC_LVTPC], &d.new_lvtpc, sizeof(d.new_lvtpc));
		ioctl(v->fd, KVM_SET_LAPIC, &lapic);
	}
	if (d.route == PMI_NMI) {
		ioctl(v->fd, KVM_NMI);
	} else {
		struct kvm_msi msi = {
		    .address_lo = 0xfee00000u | ((uint32_t)v->id << 12),
		    .data = d.vector,
		};

		ioctl(v->vm->vm_fd, KVM_SIGNAL_MSI, &msi);
	}
}

/* After a PMU MSR access: an overflow it found (a counter read, a disable,
 * a status read) gets its PMI at the end of this very exit, the way
 * hardware raises it at once, not at the next host signal or slice tick. */
static int vcpu_msr_done(struct vmm *vm, unsigned int vcpu, int ret)
{
	if (vpmu_take_pmi(vm->pmu->vpmu[vcpu]))
		vcpu_deliver_pmi(&vm->vcpu[vcpu]);
	vcpu_sync_shadow(vm, vcpu);
	return ret;
}

static int pmu_msr_read(void *opaque, unsigned int vcpu, uint32_t msr, uint64_t *val)
{
	struct vmm *vm = opaque;

	if (vm->pmu->vpmu[vcpu] == NULL)
		return -EINVAL;
	return vcpu_msr_done(vm, vcpu, vpmu_rdmsr(vm->pmu->vpmu[vcpu], msr, val));
}

static int pmu_msr_write(void *opaque, unsigned int vcpu, uint32_t msr, uint64_t val)
{
	struct vmm *vm = opaque;

	if (vm->pmu->vpmu[vcpu] == NULL)
		return -EINVAL;
	return vcpu_msr_done(vm, vcpu, vpmu_wrmsr(vm->pmu->vpmu[vcpu], msr, val));
}

const struct msr_owner_ops pmu_msr_ops = {
    .rdmsr = pmu_msr_read,
    .wrmsr = pmu_msr_write,
};

/* A periodic kick of this vCPU's thread, so idle slices are checked even
 * while the guest halts or never exits. */
static int vcpu_timer_start(struct vcpu *v, struct vm_pmu *p)
{
	uint64_t slice = p->cfg.idle_slice_ns;
	struct sigevent sev = {
	    .sigev_notify = SIGEV_THREAD_ID,
	    .sigev_signo = v->vm->cfg.kick_signal,
	};
	struct itimerspec its = {
	    .it_interval = {(time_t)(slice / 1000000000ULL), (long)(slice % 1000000000ULL)},
	    .it_value = {(time_t)(slice / 1000000000ULL), (long)(slice % 1000000000ULL)},
	};

	sev._sigev_un._tid = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &p->timer[v->id]) < 0)
		return -errno;
	p->timer_ready[v->id] = true;
	if (timer_settime(p->timer[v->id], 0, &its, NULL) < 0)
		return -errno;
	return 0;
}

int vm_pmu_vcpu_start(struct vcpu *v)
{
	struct vm_pmu *p = v->vm->pmu;
	int ret;

	if (p == NULL || !p->exposed)
		return 0;
	ret = vpmu_create(&p->cfg, &p->be, &p->vpmu[v->id]);
	if (ret < 0)
		return ret;
	return vcpu_timer_start(v, p);
}

void vm_pmu_vcpu_stop(struct vcpu *v)
{
	struct vm_pmu *p = v->vm->pmu;

	if (p == NULL)
		return;
	if (p->timer_ready[v->id]) {
		timer_delete(p->timer[v->id]);
		p->timer_ready[v->id] = false;
	}
	if (p->vpmu[v->id] != NULL) {
		/* Keep the figures (fds held at the end included) past teardown. */
		p->final[v->id] = *vpmu_stats(p->vpmu[v->id]);
		vpmu_destroy(p->vpmu[v->id]);
		p->vpmu[v->id] = NULL;
	}
}

void vm_pmu_vcpu_tick(struct vcpu *v, bool signalled, uint64_t now_ns)
{
	struct vm_pmu *p = v->vm->pmu;
	struct vpmu *vp;

	if (p == NULL || (vp = p->vpmu[v->id]) == NULL)
		return;
	vpmu_tick(vp, now_ns);
	/* Overflow signals share the kick signal: look only after a signal,
	 * or while a PMI waits for the guest to unmask LVTPC. */
	if (signalled && vpmu_overflow(vp) == 1)
		vcpu_deliver_pmi(v);
	else if (p->pmi_held[v->id])
		vcpu_deliver_pmi(v);
	if (signalled)
		vcpu_sync_shadow(v->vm, v->id);
}
