/* Virtual PMU setup: what the guest is shown (--pmu off|on|force|rdmsr),
 * the register model and its shape, the host backend, the PMU MSR claims,
 * and the one start-up line that says all of it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "vmm/pmu_glue.h"
#include "vmm/pmu_state.h"
#include "vmm/vm.h"

/* The switch of the project's guest kernel patch that makes perf read
 * counters by RDMSR (see examples/linux-guest/patches). */
#define GUEST_RDMSR_SWITCH "libvmm.pmu_rdmsr=1"

static const char *const policy_names[] = {"lazy", "naive", "cache"};

const char *vm_pmu_policy_name(enum pmu_policy policy)
{
	return (unsigned int)policy < 3 ? policy_names[policy] : "?";
}

/* The API's filter and pmu/'s share one encoding of their entries. */
_Static_assert(VMM_PMU_FILTER_MAX_EVENTS == PMU_FILTER_MAX_EVENTS, "filter sizes");
_Static_assert(VMM_PMU_EVENT(0x1c3, 0x5a) == PMU_FILTER_EVENT(0x1c3, 0x5a), "filter entries");
_Static_assert(VMM_PMU_EVENT_ANY_UMASK(0x76) == PMU_FILTER_EVENT_ANY(0x76), "filter entries");

static void filter_to_pmu(const struct vmm_pmu_filter *in, struct pmu_event_filter *out)
{
	memset(out, 0, sizeof(*out));
	out->action = in->action == VMM_PMU_FILTER_ALLOW  ? PMU_FILTER_ALLOW
		      : in->action == VMM_PMU_FILTER_DENY ? PMU_FILTER_DENY
							  : PMU_FILTER_NONE;
	/* too long a list is pmu_config_check()'s to refuse */
	out->nr_events = in->nr_events;
	for (unsigned int i = 0; i < in->nr_events && i < PMU_FILTER_MAX_EVENTS; i++)
		out->events[i] = in->events[i];
	out->fixed = in->fixed_counters;
	if (in->action != VMM_PMU_FILTER_NONE && out->action == PMU_FILTER_NONE)
		out->action = (enum pmu_filter_action)-1;
}

int vmm_parse_pmu_events(const char *spec, struct vmm_pmu_filter *f, char *err, size_t errlen)
{
	struct pmu_event_filter pf;
	char why[160];
	int ret;

	if (spec == NULL || f == NULL)
		return -EINVAL;
	ret = pmu_filter_parse(spec, &pf, why, sizeof(why));
	if (ret < 0) {
		if (err != NULL)
			snprintf(err, errlen, "%s", why);
		return ret;
	}
	memset(f, 0, sizeof(*f));
	f->action = pf.action == PMU_FILTER_ALLOW ? VMM_PMU_FILTER_ALLOW : VMM_PMU_FILTER_DENY;
	f->nr_events = pf.nr_events;
	memcpy(f->events, pf.events, sizeof(f->events));
	f->fixed_counters = pf.fixed;
	return 0;
}

/* ", event filter: allow 2 event(s) + fixed counters" or "". */
static void filter_describe(const struct pmu_event_filter *f, char *buf, size_t len)
{
	if (f->action == PMU_FILTER_NONE) {
		buf[0] = '\0';
		return;
	}
	snprintf(buf, len, ", event filter: %s %u event(s)%s",
		 f->action == PMU_FILTER_ALLOW ? "allow" : "deny", f->nr_events,
		 f->fixed ? " + fixed counters" : "");
}

static void pmu_log(void *opaque, int level, const char *msg)
{
	struct vmm *vm = opaque;

	vm_log(vm,
	       level == PMU_LOG_ERR    ? VMM_LOG_ERROR
	       : level == PMU_LOG_WARN ? VMM_LOG_WARN
				       : VMM_LOG_INFO,
	       "pmu: %s", msg);
}

/* What the cache policy does with this host, for the start-up line. */
static const char *policy_detail(const struct vm_pmu *p)
{
	if (p->cfg.policy != PMU_POLICY_CACHE)
		return "";
	if (p->caps.peek && p->caps.exclude_host)
		return " (global on/off with no host call: counts read in place by rdpmc)";
	return " (global on/off: one prctl each, counts cannot be read in place here)";
}

/* How the guest reads its counters, for the start-up line. */
static const char *guest_read_path(const struct vm_pmu *p)
{
	if (p->guest_rdmsr)
		return "guest reads counters by RDMSR (" GUEST_RDMSR_SWITCH " on its cmdline)";
	if (p->kvm_has_pmu)
		return "guest RDPMC served by KVM's PMU kept in sync (shadow)";
	return "guest RDPMC will #GP (no KVM PMU): only guests that read by RDMSR work";
}

static int pmu_backend_setup(struct vmm *vm, struct vm_pmu *p, char *err, size_t errlen)
{
	struct pmu_perf_config pc = {
	    .guest_model = p->cfg.model,
	    .tsc_khz = p->cfg.tsc_khz,
	    .overflow_signal = vm->cfg.kick_signal,
	};
	char line[256], filter[64];
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
	filter_describe(&p->cfg.filter, filter, sizeof(filter));
	vm_log(vm, VMM_LOG_INFO, "pmu: %s model, %s policy%s, %u GP counters%s; %s; %s",
	       p->cfg.model == PMU_MODEL_AMD ? "AMD" : "Intel", policy_names[p->cfg.policy],
	       policy_detail(p), p->cfg.nr_gp, filter, guest_read_path(p), line);
	return 0;
}

/* Whether the guest is shown a PMU at all; logs why not. */
static bool pmu_decide_exposure(struct vmm *vm, struct vm_pmu *p)
{
	switch (vm->cfg.pmu) {
	case VMM_PMU_OFF:
		vm_log(vm, VMM_LOG_INFO, "pmu: off, hidden from the guest");
		return false;
	case VMM_PMU_ON:
		if (!p->kvm_has_pmu) {
			vm_log(vm, VMM_LOG_INFO,
			       "pmu: hidden from the guest: this KVM has no PMU to serve RDPMC, "
			       "which Linux guests use (--pmu rdmsr shows it to a guest kernel "
			       "that reads by RDMSR, --pmu force to any guest)");
			return false;
		}
		return true;
	case VMM_PMU_FORCE:
		if (!p->kvm_has_pmu)
			vm_log(vm, VMM_LOG_WARN,
			       "pmu: forced on without a KVM PMU: guest RDPMC will #GP, so Linux "
			       "guests will fault; guests reading counters by RDMSR are fine");
		return true;
	case VMM_PMU_RDMSR:
		p->guest_rdmsr = vm->kernel_path != NULL;
		return true;
	}
	return false;
}

/* The vmm_config's PMU fields as a pmu/ config, checked by pmu/ itself. */
static int pmu_configure(struct vmm *vm, struct vm_pmu *p, char *err, size_t errlen)
{
	enum pmu_model model;
	char why[128];
	int ret;

	if (vm->cfg.pmu_model == VMM_PMU_MODEL_HOST)
		model = cpuid_is_amd(vm->cpuid) ? PMU_MODEL_AMD : PMU_MODEL_INTEL;
	else
		model = vm->cfg.pmu_model == VMM_PMU_MODEL_AMD ? PMU_MODEL_AMD : PMU_MODEL_INTEL;
	pmu_config_defaults(&p->cfg, model);
	p->cfg.policy = vm->cfg.pmu_policy == VMM_PMU_NAIVE  ? PMU_POLICY_NAIVE
			: vm->cfg.pmu_policy == VMM_PMU_LAZY ? PMU_POLICY_LAZY
							     : PMU_POLICY_CACHE;
	filter_to_pmu(&vm->cfg.pmu_events, &p->cfg.filter);
	if (vm->cfg.pmu_gp_counters)
		p->cfg.nr_gp = vm->cfg.pmu_gp_counters;
	/* PerfMonV2 exists only on the six-counter AMD shape. */
	if (model == PMU_MODEL_AMD)
		p->cfg.perfmon_v2 = p->cfg.nr_gp == PMU_AMD_NR_CORE;
	if (vm->cfg.pmu_idle_slice_ns)
		p->cfg.idle_slice_ns = vm->cfg.pmu_idle_slice_ns;
	if (vm->cfg.pmu_open_rate)
		p->cfg.open_rate = vm->cfg.pmu_open_rate;
	p->cfg.tsc_khz = vm->tsc_khz;
	p->cfg.log = pmu_log;
	p->cfg.log_opaque = vm;
	ret = pmu_config_check(&p->cfg, why, sizeof(why));
	if (ret < 0)
		snprintf(err, errlen, "pmu: %s", why);
	return ret;
}

int vm_pmu_setup(struct vmm *vm, char *err, size_t errlen)
{
	struct pmu_msr_range ranges[MSR_MAX_CLAIMS];
	struct vm_pmu *p;
	int n, ret;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	vm->pmu = p;
	/* KVM_CAP_PMU_CAPABILITY is non-zero only when KVM runs a vPMU of its
	 * own, which is what serves a guest's RDPMC (see README, "PMU"). */
	p->kvm_has_pmu = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_PMU_CAPABILITY) > 0;
	p->cfg.tsc_khz = vm->tsc_khz;
	if (!pmu_decide_exposure(vm, p))
		return 0;
	p->exposed = true;
	if ((ret = pmu_configure(vm, p, err, errlen)) < 0 ||
	    (ret = pmu_backend_setup(vm, p, err, errlen)) < 0)
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

const char *vm_pmu_guest_cmdline(const struct vmm *vm)
{
	return vm->pmu != NULL && vm->pmu->guest_rdmsr ? GUEST_RDMSR_SWITCH : "";
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
