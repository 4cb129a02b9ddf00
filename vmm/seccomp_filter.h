/* The system-call allowlists of the VM's threads, one per kind of thread. */
#ifndef VMM_SECCOMP_FILTER_H
#define VMM_SECCOMP_FILTER_H

#include "libvmm.h"

enum sandbox_thread {
	SANDBOX_VCPU, /* KVM_RUN and its exits, the vPMU's perf events and timer */
	SANDBOX_RUN,  /* vmm_run()'s caller: waits, kicks, joins, tears down */
	SANDBOX_IO,   /* an embedder's thread feeding console input / stopping */
	SANDBOX_DEVICE, /* a virtio device's I/O thread: epoll, file and TAP I/O */
};

/* Install the allowlist of @kind on the calling thread (only: threads it
 * creates later inherit it). VMM_SECCOMP_OFF installs nothing. Returns 0 or
 * a negative errno. */
int sandbox_seccomp_install(enum sandbox_thread kind, enum vmm_seccomp mode);

#endif
