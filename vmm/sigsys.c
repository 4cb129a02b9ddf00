/* SIGSYS from a seccomp trap: one line saying what was refused, then exit 1.
 * Only async-signal-safe calls, which the filters all allow (write, exit). */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "vmm/sigsys.h"

/* Append @v in @base to @buf at *n (bounded by @len). */
static void put_num(char *buf, size_t len, size_t *n, uint64_t v, unsigned int base)
{
	char tmp[24];
	size_t k = 0;

	do {
		tmp[k++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v != 0 && k < sizeof(tmp));
	while (k > 0 && *n < len)
		buf[(*n)++] = tmp[--k];
}

static void put_str(char *buf, size_t len, size_t *n, const char *s)
{
	while (*s != '\0' && *n < len)
		buf[(*n)++] = *s++;
}

static void on_sigsys(int sig, siginfo_t *si, void *uc_)
{
	const ucontext_t *uc = uc_;
	char line[160];
	size_t n = 0;

	put_str(line, sizeof(line), &n, "vmm: seccomp: system call ");
	put_num(line, sizeof(line), &n, (uint64_t)si->si_syscall, 10);
	if (si->si_syscall == SYS_ioctl) {
		put_str(line, sizeof(line), &n, " (ioctl, request 0x");
		put_num(line, sizeof(line), &n, (uint64_t)uc->uc_mcontext.gregs[REG_RSI], 16);
		put_str(line, sizeof(line), &n, ")");
	}
	put_str(line, sizeof(line), &n, " refused on thread ");
	put_num(line, sizeof(line), &n, (uint64_t)gettid(), 10);
	put_str(line, sizeof(line), &n, "; it is not in that thread's allowlist\n");
	if (write(STDERR_FILENO, line, n) < 0) {
		/* Nothing left to tell. */
	}
	_exit(1);
}

int sigsys_report_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGSYS, &sa, NULL) < 0 ? -errno : 0;
}
