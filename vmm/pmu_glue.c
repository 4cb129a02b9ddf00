/* The VM core's side of the virtual PMU: what the guest is shown
 * (--pmu off|on|force), the MSR claims, the CPUID leaves, one vPMU per vCPU
 * on that vCPU's thread with a slice timer, PMI delivery through the
 * guest's LVTPC, and the statistics. pmu/ itself knows nothing of KVM. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "pmu/pmu.h"
#include "vmm/pmi.h"
#include "vmm/pmu_glue.h"
#include "vmm/vm.h"

#define PMU_MAX_CPUID 16

struct vm_pmu {
	bool exposed;	  /* the guest sees a PMU */
	bool kvm_has_pmu; /* KVM's own PMU could serve RDPMC */
	struct pmu_config cfg;
	struct pmu_backend be;
	bool be_ready;
	struct pmu_backend_caps caps;
	struct vpmu *vpmu[VMM_MAX_CPUS];
	timer_t timer[VMM_MAX_CPUS];
	bool timer_ready[VMM_MAX_CPUS];
	bool pmi_held[VMM_MAX_CPUS]; /* PMI waiting for LVTPC to be unmasked */
	bool shadow_warned;
	struct pmu_stats final[VMM_MAX_CPUS];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Guest TSC frequency, for scaling software-clock fallbacks to cycles. */
static uint32_t guest_tsc_khz(struct vmm *vm)
{
	int khz = ioctl(vm->vm_fd, KVM_GET_TSC_KHZ, 0);
	uint64_t t0, t1, c0, c1;
	struct timespec pause = {0, 5000000};

	if (khz > 0)
		return (uint32_t)khz;
	/* Older KVM has the ioctl on vCPUs only: measure against the clock. */
	t0 = now_ns();
	c0 = __builtin_ia32_rdtsc();
	nanosleep(&pause, NULL);
	c1 = __builtin_ia32_rdtsc();
	t1 = now_ns();
	return t1 > t0 ? (uint32_t)((c1 - c0) * 1000000ULL / (t1 - t0)) : 1000000;
}

static void pmu_log(void *opaque, int level, const char *msg)
{
	struct vmm *vm = opaque;

	vm_log(vm, level == PMU_LOG_ERR ? VMM_LOG_ERROR : level == PMU_LOG_WARN ? VMM_LOG_WARN
										: VMM_LOG_INFO,
	       "pmu: %s", msg);
}

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
		vm_log(vm, VMM_LOG_WARN, "pmu: KVM refused the RDPMC shadow values; guest RDPMC "
					 "may read stale counts");
	}
}

static int pmu_msr_read(void *opaque, unsigned int vcpu, uint32_t msr, uint64_t *val)
{
	struct vmm *vm = opaque;
	int ret;

	if (vm->pmu->vpmu[vcpu] == NULL)
		return -EINVAL;
	ret = vpmu_rdmsr(vm->pmu->vpmu[vcpu], msr, val);
	vcpu_sync_shadow(vm, vcpu);
	return ret;
}

static int pmu_msr_write(void *opaque, unsigned int vcpu, uint32_t msr, uint64_t val)
{
	struct vmm *vm = opaque;
	int ret;

	if (vm->pmu->vpmu[vcpu] == NULL)
		return -EINVAL;
	ret = vpmu_wrmsr(vm->pmu->vpmu[vcpu], msr, val);
	vcpu_sync_shadow(vm, vcpu);
	return ret;
}

static const struct msr_owner_ops pmu_msr_ops = {
	.rdmsr = pmu_msr_read,
	.wrmsr = pmu_msr_write,
};

static const char *const policy_names[] = {"lazy", "naive"};

static int pmu_backend_setup(struct vmm *vm, struct vm_pmu *p, char *err, size_t errlen)
{
	struct pmu_perf_config pc = {
		.guest_model = p->cfg.model,
		.tsc_khz = p->cfg.tsc_khz,
		.overflow_signal = vm->cfg.kick_signal,
	};
	char line[256];
	int ret;

	if (vm->cfg.pmu_backend == VMM_PMU_BACKEND_NULL)
		ret = pmu_backend_null_create(&p->be);
	else
		ret = pmu_backend_perf_create(&pc, &p->be);
	if (ret < 0) {
		snprintf(err, errlen, "pmu: backend: %s", strerror(-ret));
		return ret;
	}
	p->be_ready = true;
	p->be.ops->caps(p->be.ctx, &p->caps);
	pmu_backend_describe(&p->caps, line, sizeof(line));
	vm_log(vm, VMM_LOG_INFO, "pmu: %s model, %s policy, %u GP counters; %s",
	       p->cfg.model == PMU_MODEL_AMD ? "AMD" : "Intel", policy_names[p->cfg.policy],
	       p->cfg.nr_gp, line);
	return 0;
}

int vm_pmu_setup(struct vmm *vm, char *err, size_t errlen)
{
	struct pmu_msr_range ranges[MSR_MAX_CLAIMS];
	enum pmu_model model;
	struct vm_pmu *p;
	uint32_t tsc_khz;
	int n, ret;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	vm->pmu = p;
	/* KVM_CAP_PMU_CAPABILITY is non-zero only when KVM runs a vPMU of its
	 * own, which is what serves a guest's RDPMC (see README, "PMU"). */
	p->kvm_has_pmu = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_PMU_CAPABILITY) > 0;
	p->cfg.tsc_khz = tsc_khz = guest_tsc_khz(vm);
	switch (vm->cfg.pmu) {
	case VMM_PMU_OFF:
		vm_log(vm, VMM_LOG_INFO, "pmu: off, hidden from the guest");
		return 0;
	case VMM_PMU_ON:
		if (!p->kvm_has_pmu) {
			vm_log(vm, VMM_LOG_INFO,
			       "pmu: hidden from the guest: this KVM has no PMU to serve RDPMC, "
			       "which Linux guests use (--pmu force exposes it anyway)");
			return 0;
		}
		break;
	case VMM_PMU_FORCE:
		if (!p->kvm_has_pmu)
			vm_log(vm, VMM_LOG_WARN,
			       "pmu: forced on without a KVM PMU: guest RDPMC will #GP, so Linux "
			       "guests will fault; guests reading counters by RDMSR are fine");
		break;
	}
	p->exposed = true;
	if (vm->cfg.pmu_model == VMM_PMU_MODEL_HOST)
		model = cpuid_is_amd(vm->cpuid) ? PMU_MODEL_AMD : PMU_MODEL_INTEL;
	else
		model = vm->cfg.pmu_model == VMM_PMU_MODEL_AMD ? PMU_MODEL_AMD : PMU_MODEL_INTEL;
	pmu_config_defaults(&p->cfg, model);
	p->cfg.policy = vm->cfg.pmu_policy == VMM_PMU_NAIVE ? PMU_POLICY_NAIVE : PMU_POLICY_LAZY;
	if (vm->cfg.pmu_gp_counters)
		p->cfg.nr_gp = vm->cfg.pmu_gp_counters;
	if (model == PMU_MODEL_AMD && p->cfg.nr_gp != PMU_AMD_NR_LEGACY &&
	    p->cfg.nr_gp != PMU_AMD_NR_CORE) {
		snprintf(err, errlen, "pmu: the AMD model has 4 (legacy) or 6 counters, not %u",
			 p->cfg.nr_gp);
		return -EINVAL;
	}
	if (model == PMU_MODEL_AMD)
		p->cfg.perfmon_v2 = p->cfg.nr_gp == PMU_AMD_NR_CORE;
	if (vm->cfg.pmu_idle_slice_ns)
		p->cfg.idle_slice_ns = vm->cfg.pmu_idle_slice_ns;
	p->cfg.tsc_khz = tsc_khz;
	p->cfg.log = pmu_log;
	p->cfg.log_opaque = vm;
	ret = pmu_backend_setup(vm, p, err, errlen);
	if (ret < 0)
		return ret;
	n = pmu_msr_ranges(&p->cfg, ranges, MSR_MAX_CLAIMS);
	if (n < 0) {
		snprintf(err, errlen, "pmu: MSR ranges: %s", strerror(-n));
		return n;
	}
	for (int i = 0; i < n; i++) {
		ret = msr_router_claim(&vm->msr, ranges[i].base, ranges[i].count, &pmu_msr_ops, vm,
				       "pmu");
		if (ret < 0) {
			snprintf(err, errlen, "pmu: claim MSRs 0x%x+%u: %s", ranges[i].base,
				 ranges[i].count, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* Copy the KVM leaves pmu/ cares about into its own struct and back, so
 * pmu/ stays free of KVM types. */
int vm_pmu_patch_cpuid(struct vmm *vm, struct kvm_cpuid2 *cpuid)
{
	static const uint32_t leaves[] = {0xa, 0x80000001, 0x80000022};
	struct pmu_cpuid_entry e[PMU_MAX_CPUID];
	struct vm_pmu *p = vm->pmu;
	int n = 0, ret;

	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		struct kvm_cpuid_entry2 *k = cpuid_find(cpuid, leaves[i], 0);

		if (k != NULL)
			e[n++] = (struct pmu_cpuid_entry){k->function, k->index, k->eax,
							  k->ebx, k->ecx, k->edx};
	}
	if (p != NULL && p->exposed)
		ret = pmu_cpuid_patch(&p->cfg, &p->caps, e, n, PMU_MAX_CPUID);
	else
		ret = pmu_cpuid_hide(e, n);
	if (ret < 0)
		return ret;
	for (int i = 0; i < ret; i++) {
		struct kvm_cpuid_entry2 *k = cpuid_find(cpuid, e[i].function, e[i].index);

		if (k == NULL) {
			/* A leaf KVM did not list (e.g. 0x80000022): append it. */
			if (cpuid->nent >= CPUID_MAX_ENTRIES)
				return -ENOSPC;
			k = &cpuid->entries[cpuid->nent++];
			memset(k, 0, sizeof(*k));
			k->function = e[i].function;
			k->index = e[i].index;
		}
		k->eax = e[i].eax;
		k->ebx = e[i].ebx;
		k->ecx = e[i].ecx;
		k->edx = e[i].edx;
	}
	/* Extended leaves up to 0x80000022 must be announced by 0x80000000. */
	for (int i = 0; i < ret; i++) {
		struct kvm_cpuid_entry2 *max = cpuid_find(cpuid, 0x80000000, 0);

		if (e[i].function >= 0x80000000 && max != NULL && max->eax < e[i].function)
			max->eax = e[i].function;
	}
	return 0;
}

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

void vm_pmu_vcpu_tick(struct vcpu *v, bool signalled)
{
	struct vm_pmu *p = v->vm->pmu;
	struct vpmu *vp;

	if (p == NULL || (vp = p->vpmu[v->id]) == NULL)
		return;
	vpmu_tick(vp, now_ns());
	/* Overflow signals share the kick signal: look only after a signal,
	 * or while a PMI waits for the guest to unmask LVTPC. */
	if (signalled && vpmu_overflow(vp) == 1)
		vcpu_deliver_pmi(v);
	else if (p->pmi_held[v->id])
		vcpu_deliver_pmi(v);
	if (signalled)
		vcpu_sync_shadow(v->vm, v->id);
}

void vm_pmu_destroy(struct vmm *vm)
{
	struct vm_pmu *p = vm->pmu;

	if (p == NULL)
		return;
	for (unsigned int i = 0; i < VMM_MAX_CPUS; i++) {
		if (p->timer_ready[i])
			timer_delete(p->timer[i]);
		if (p->vpmu[i] != NULL)
			vpmu_destroy(p->vpmu[i]);
	}
	if (p->be_ready)
		pmu_backend_destroy(&p->be);
	free(p);
	vm->pmu = NULL;
}

/* Statistics of one vCPU: live, or kept from its teardown. */
static const struct pmu_stats *vcpu_pmu_stats(const struct vmm *vm, unsigned int cpu)
{
	if (vm->pmu->vpmu[cpu] != NULL)
		return vpmu_stats(vm->pmu->vpmu[cpu]);
	return &vm->pmu->final[cpu];
}

static void pmu_sum(const struct vmm *vm, struct pmu_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	if (vm->pmu == NULL)
		return;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		pmu_stats_add(sum, vcpu_pmu_stats(vm, i));
}

static uint64_t vm_exits(const struct vmm *vm)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		n += vm->vcpu[i].exits;
	return n;
}

static void stats_to_public(const struct vmm *vm, const struct pmu_stats *s, uint64_t exits,
			    struct vmm_pmu_stats *st)
{
	*st = (struct vmm_pmu_stats){
		.msr_reads = s->rdmsr,
		.msr_writes = s->wrmsr,
		.msr_gp = s->gp_faults,
		.opens = s->opens,
		.closes = s->closes,
		.enables = s->enables,
		.disables = s->disables,
		.reads = s->reads,
		.set_periods = s->set_periods,
		.recreations = s->recreations,
		.idle_releases = s->idle_releases,
		.fds_open = s->fds_open,
		.fds_peak = s->fds_peak,
		.exits = exits,
		.pmis = s->pmis,
		.overflows = s->overflows,
		.descheduled = s->descheduled,
		.guest_tsc_khz = vm->pmu != NULL ? vm->pmu->cfg.tsc_khz : 0,
		.exposed = vm->pmu != NULL && vm->pmu->exposed,
	};
}

int vmm_get_pmu_stats(const struct vmm *vm, struct vmm_pmu_stats *st)
{
	struct pmu_stats s;

	pmu_sum(vm, &s);
	stats_to_public(vm, &s, vm_exits(vm), st);
	return 0;
}

int vmm_get_vcpu_pmu_stats(const struct vmm *vm, unsigned int cpu, struct vmm_pmu_stats *st)
{
	static const struct pmu_stats none;

	if (cpu >= vm->nr_vcpus)
		return -EINVAL;
	stats_to_public(vm, vm->pmu != NULL ? vcpu_pmu_stats(vm, cpu) : &none,
			vm->vcpu[cpu].exits, st);
	return 0;
}

int vmm_format_pmu_stats(const struct vmm *vm, bool json, char *buf, size_t len)
{
	const struct vm_pmu *p = vm->pmu;
	const char *mode = p == NULL || !p->exposed ? "off" : p->kvm_has_pmu ? "on" : "forced";
	const char *policy = p != NULL && p->exposed ? policy_names[p->cfg.policy] : "none";
	const char *backend = p != NULL && p->be_ready ? p->caps.name : "none";
	struct pmu_stats s;
	int n, m;

	pmu_sum(vm, &s);
	if (json)
		n = snprintf(buf, len,
			     "{\"pmu\": \"%s\", \"policy\": \"%s\", \"backend\": \"%s\", "
			     "\"exits\": %llu, \"stats\": ",
			     mode, policy, backend, (unsigned long long)vm_exits(vm));
	else
		n = snprintf(buf, len, "pmu %s, policy %s, backend %s\n%-20s %llu\n", mode, policy,
			     backend, "exits", (unsigned long long)vm_exits(vm));
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	m = pmu_stats_format(&s, json, buf + n, len - (size_t)n);
	if (m < 0 || (size_t)m >= len - (size_t)n)
		return -ENOSPC;
	n += m;
	if (json) {
		/* pmu_stats_format ends its object with "}\n": close ours too. */
		if ((size_t)n + 2 >= len)
			return -ENOSPC;
		buf[n - 1] = '}';
		buf[n++] = '\n';
		buf[n] = '\0';
	}
	return n;
}
