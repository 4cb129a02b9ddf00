/* The PMU statistics API of libvmm: per-vCPU figures (live, or kept from
 * the vCPU's teardown), their sum over the VM, and the text/JSON report. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/pmu_state.h"
#include "vmm/vm.h"

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
	    .group_toggles = s->group_toggles,
	    .held_toggles = s->held_toggles,
	    .recreations = s->recreations,
	    .idle_releases = s->idle_releases,
	    .fds_open = s->fds_open,
	    .fds_peak = s->fds_peak,
	    .exits = exits,
	    .pmis = s->pmis,
	    .overflows = s->overflows,
	    .descheduled = s->descheduled,
	    .parks = s->parks,
	    .cache_hits = s->cache_hits,
	    .cache_misses = s->cache_misses,
	    .evictions = s->evictions,
	    .filtered = s->filtered,
	    .throttled = s->throttled,
	    .guest_tsc_khz = vm->tsc_khz,
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
	stats_to_public(vm, vm->pmu != NULL ? vcpu_pmu_stats(vm, cpu) : &none, vm->vcpu[cpu].exits,
			st);
	return 0;
}

/* What the guest was shown, as the report names it. */
static const char *pmu_mode_name(const struct vm_pmu *p)
{
	if (p == NULL || !p->exposed)
		return "off";
	if (p->guest_rdmsr)
		return "rdmsr";
	return p->kvm_has_pmu ? "on" : "forced";
}

int vmm_format_pmu_stats(const struct vmm *vm, bool json, char *buf, size_t len)
{
	const struct vm_pmu *p = vm->pmu;
	const char *policy = p != NULL && p->exposed ? vm_pmu_policy_name(p->cfg.policy) : "none";
	const char *backend = p != NULL && p->be_ready ? p->caps.name : "none";
	unsigned long long exits = (unsigned long long)vm_exits(vm);
	struct pmu_stats s;
	char fields[2048];
	int n;

	pmu_sum(vm, &s);
	n = pmu_stats_format(&s, json, fields, sizeof(fields));
	if (n < 0)
		return n;
	if ((size_t)n >= sizeof(fields))
		return -ENOSPC;
	if (json)
		n = snprintf(buf, len,
			     "{\"pmu\": \"%s\", \"policy\": \"%s\", \"backend\": \"%s\", "
			     "\"exits\": %llu, \"stats\": %s}\n",
			     pmu_mode_name(p), policy, backend, exits, fields);
	else
		n = snprintf(buf, len, "pmu %s, policy %s, backend %s\n%-20s %llu\n%s",
			     pmu_mode_name(p), policy, backend, "exits", exits, fields);
	if (n < 0)
		return -EIO;
	return (size_t)n < len ? n : -ENOSPC;
}
