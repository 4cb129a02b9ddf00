/* Dropping the process's privileges once a VM holds everything it opens. */
#ifndef VMM_PRIVS_H
#define VMM_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A set of capabilities, bit n for capability n. */
#define PRIVS_CAP(n)	    (1ULL << (n))
#define PRIVS_CAP_SYS_ADMIN PRIVS_CAP(21)
#define PRIVS_CAP_PERFMON   PRIVS_CAP(38)

/*
 * Drop every capability of the calling thread from its effective, permitted
 * and inheritable sets, its ambient set and (when it may: CAP_SETPCAP) its
 * bounding set, then set no_new_privs; those of @keep the thread holds stay
 * effective and permitted, and *kept says which. Capabilities are per
 * thread: threads created afterwards inherit the result. Returns 0 or a
 * negative errno.
 */
int privs_drop(uint64_t keep, uint64_t *kept);

/*
 * The least of: nothing, CAP_PERFMON, CAP_PERFMON + CAP_SYS_ADMIN, with
 * which a thread can still open a perf event counting itself in kernel mode
 * too (what a vCPU thread opens for its guest at run time). Found by trying,
 * on a short-lived thread, since what perf_event_paranoid demands differs
 * between kernels (Debian's level 3 wants CAP_SYS_ADMIN on some). Returns
 * the set, or -ENOENT when none of them can open it.
 */
int64_t privs_perf_needs(void);

#endif
