/* Applies the config's drop_privileges and seccomp to the VM's threads and
 * says at start-up what the host made it keep. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/pmu_state.h"
#include "vmm/privs.h"
#include "vmm/sandbox.h"
#include "vmm/seccomp_filter.h"
#include "vmm/vm.h"

static const char *mode_name(enum vmm_seccomp mode)
{
	return mode == VMM_SECCOMP_KILL ? "kill" : mode == VMM_SECCOMP_LOG ? "log" : "off";
}

static int read_paranoid(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "re");
	int v = -100;

	if (f != NULL) {
		if (fscanf(f, "%d", &v) != 1)
			v = -100;
		fclose(f);
	}
	return v;
}

static int drop(struct vmm *vm, uint64_t keep, uint64_t *kept, const char *who)
{
	int ret = privs_drop(keep, kept);

	if (ret < 0)
		vm_log(vm, VMM_LOG_ERROR, "sandbox: dropping the %s's privileges: %s", who,
		       strerror(-ret));
	return ret;
}

int sandbox_before_vcpus(struct vmm *vm)
{
	bool uses_perf =
	    vm->pmu != NULL && vm->pmu->exposed && vm->cfg.pmu_backend == VMM_PMU_BACKEND_PERF;
	uint64_t keep = 0, kept;
	int64_t needs;
	int ret;

	if (!vm->cfg.drop_privileges) {
		if (vm->cfg.seccomp != VMM_SECCOMP_OFF)
			vm_log(vm, VMM_LOG_INFO, "sandbox: seccomp %s on every VM thread",
			       mode_name(vm->cfg.seccomp));
		return 0;
	}
	/* Host perf events opened at run time (lazy recreations, naive
	 * reopens) count the guest's kernel mode too: keep the least the
	 * host's perf_event_paranoid needs for that. */
	if (uses_perf) {
		needs = privs_perf_needs();
		if (needs >= 0)
			keep = (uint64_t)needs;
		else
			vm_log(vm, VMM_LOG_WARN,
			       "sandbox: this host lets no capability set open perf events "
			       "(perf_event_paranoid %d): the vPMU's host events will fail",
			       read_paranoid());
	}
	ret = drop(vm, keep, &kept, "run thread");
	if (ret < 0)
		return ret;
	if (kept != 0)
		vm_log(vm, VMM_LOG_INFO,
		       "sandbox: every capability dropped but %s (the vPMU opens host perf "
		       "events at run time and perf_event_paranoid is %d), no_new_privs set, "
		       "seccomp %s",
		       kept & PRIVS_CAP_SYS_ADMIN ? "CAP_PERFMON and CAP_SYS_ADMIN" : "CAP_PERFMON",
		       read_paranoid(), mode_name(vm->cfg.seccomp));
	else
		vm_log(vm, VMM_LOG_INFO,
		       "sandbox: every capability dropped, no_new_privs set, seccomp %s",
		       mode_name(vm->cfg.seccomp));
	return 0;
}

int sandbox_vcpu_thread(struct vmm *vm)
{
	return sandbox_seccomp_install(SANDBOX_VCPU, vm->cfg.seccomp);
}

int sandbox_device_thread(struct vmm *vm)
{
	return sandbox_seccomp_install(SANDBOX_DEVICE, vm->cfg.seccomp);
}

int sandbox_after_vcpus(struct vmm *vm)
{
	return sandbox_seccomp_install(SANDBOX_RUN, vm->cfg.seccomp);
}

int vmm_sandbox_thread(struct vmm *vm)
{
	uint64_t kept;
	int ret;

	if (vm->cfg.drop_privileges && (ret = drop(vm, 0, &kept, "I/O thread")) < 0)
		return ret;
	return sandbox_seccomp_install(SANDBOX_IO, vm->cfg.seccomp);
}
