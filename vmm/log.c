/* Logging through the embedder's callback, and the VM's single end. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "vmm/vm.h"

void vm_log(const struct vmm *vm, enum vmm_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (vm->cfg.log == NULL || level > vm->cfg.log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vm->cfg.log(vm->cfg.log_opaque, level, msg);
}

void vm_wake(struct vmm *vm)
{
	uint64_t one = 1;
	ssize_t n;

	/* The counter cannot overflow in practice; a failed write only means
	 * the reader is already due to wake. */
	n = write(vm->event_fd, &one, sizeof(one));
	(void)n;
}

void vm_end(struct vmm *vm, enum vmm_exit_reason reason, int code, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&vm->exit_lock);
	if (vm->exit.reason == VMM_EXIT_NONE) {
		vm->exit.reason = reason;
		vm->exit.code = code;
		va_start(ap, fmt);
		vsnprintf(vm->exit.message, sizeof(vm->exit.message), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&vm->exit_lock);
	atomic_store(&vm->ending, true);
	vm_wake(vm);
}
