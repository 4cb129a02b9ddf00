/* `vmm`'s report of a system call its seccomp filter refused. */
#ifndef VMM_SIGSYS_H
#define VMM_SIGSYS_H

/* Install a SIGSYS handler that writes one line naming the refused call
 * (number, and the request of an ioctl) to stderr and exits with status 1.
 * Returns 0 or a negative errno. */
int sigsys_report_install(void);

#endif
