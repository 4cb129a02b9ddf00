/* Exits of one vCPU by kind, and port I/O exits by port: where a guest's
 * time outside the CPU goes (e.g. what a VMM costs a booting kernel), and
 * the VMM's own time per kind between KVM_RUN returning and the next
 * KVM_RUN. Updated only by the vCPU's own thread; read after it ended. */
#ifndef VMM_EXIT_STATS_H
#define VMM_EXIT_STATS_H

#include <stddef.h>
#include <stdint.h>

enum exit_kind {
	EXIT_KIND_IO,
	EXIT_KIND_MMIO,
	EXIT_KIND_RDMSR,
	EXIT_KIND_WRMSR,
	EXIT_KIND_SIGNAL, /* KVM_RUN interrupted by a kick or a host perf overflow */
	EXIT_KIND_OTHER,
	EXIT_KIND_NR,
};

#define EXIT_STATS_PORTS 16

struct exit_stats {
	uint64_t kind[EXIT_KIND_NR];
	/* CLOCK_MONOTONIC ns from KVM_RUN returning to the next KVM_RUN,
	 * charged to the kind last counted */
	uint64_t ns[EXIT_KIND_NR];
	enum exit_kind last;
	struct {
		uint16_t port;
		uint64_t n;
	} port[EXIT_STATS_PORTS]; /* the first ports seen; the rest in port_other */
	unsigned int nr_ports;
	uint64_t port_other;
};

/*
 * The clock of the timing: CLOCK_MONOTONIC, a vDSO read where the host's
 * clocksource allows (TSC), never a syscall there. CPU time of the thread
 * (CLOCK_THREAD_CPUTIME_ID) would leave preemption out but is a real
 * syscall on every kernel: the vDSO serves only the wall clocks.
 */
uint64_t exit_stats_clock(void);
void exit_stats_count(struct exit_stats *s, enum exit_kind kind);
/* The exit last counted ends now; it began (KVM_RUN returned) at @since,
 * a reading of exit_stats_clock(). */
void exit_stats_end(struct exit_stats *s, uint64_t since);
void exit_stats_end_at(struct exit_stats *s, uint64_t since, uint64_t now);
void exit_stats_count_port(struct exit_stats *s, uint16_t port);
/* One line: "N exits: io N (0x3f8 N, ...), mmio N, rdmsr N, ...". Returns
 * the length snprintf would write. */
int exit_stats_format(const struct exit_stats *s, char *buf, size_t len);
/* One line: "VMM time per exit: io N ns, ..., total N us" (kinds with
 * exits only). Returns the length snprintf would write. */
int exit_stats_format_time(const struct exit_stats *s, char *buf, size_t len);

#endif
