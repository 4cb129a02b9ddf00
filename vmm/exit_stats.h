/* Exits of one vCPU by kind, and port I/O exits by port: where a guest's
 * time outside the CPU goes (e.g. what a VMM costs a booting kernel).
 * Updated only by the vCPU's own thread; read after the thread ended. */
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
	struct {
		uint16_t port;
		uint64_t n;
	} port[EXIT_STATS_PORTS]; /* the first ports seen; the rest in port_other */
	unsigned int nr_ports;
	uint64_t port_other;
};

void exit_stats_count(struct exit_stats *s, enum exit_kind kind);
void exit_stats_count_port(struct exit_stats *s, uint16_t port);
/* One line: "N exits: io N (0x3f8 N, ...), mmio N, rdmsr N, ...". Returns
 * the length snprintf would write. */
int exit_stats_format(const struct exit_stats *s, char *buf, size_t len);

#endif
