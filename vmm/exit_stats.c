/* Exit accounting of a vCPU (see exit_stats.h). */
#include <stdio.h>
#include <time.h>

#include "vmm/exit_stats.h"

static const char *const kind_names[EXIT_KIND_NR] = {"io",    "mmio",	 "rdmsr",
						     "wrmsr", "signals", "other"};

uint64_t exit_stats_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void exit_stats_count(struct exit_stats *s, enum exit_kind kind)
{
	if ((unsigned int)kind < EXIT_KIND_NR) {
		s->kind[kind]++;
		s->last = kind;
	}
}

void exit_stats_end_at(struct exit_stats *s, uint64_t since, uint64_t now)
{
	/* a clock that went back (it cannot, monotonic) charges nothing */
	if ((unsigned int)s->last < EXIT_KIND_NR && now > since)
		s->ns[s->last] += now - since;
}

void exit_stats_end(struct exit_stats *s, uint64_t since)
{
	exit_stats_end_at(s, since, exit_stats_clock());
}

void exit_stats_count_port(struct exit_stats *s, uint16_t port)
{
	for (unsigned int i = 0; i < s->nr_ports; i++) {
		if (s->port[i].port == port) {
			s->port[i].n++;
			return;
		}
	}
	if (s->nr_ports < EXIT_STATS_PORTS) {
		s->port[s->nr_ports].port = port;
		s->port[s->nr_ports++].n = 1;
		return;
	}
	s->port_other++;
}

int exit_stats_format(const struct exit_stats *s, char *buf, size_t len)
{
	const char *const *names = kind_names;
	uint64_t total = 0;
	size_t used = 0;
	int n;

#define PUT(...)                                                                                   \
	do {                                                                                       \
		n = snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0,          \
			     __VA_ARGS__);                                                         \
		if (n < 0)                                                                         \
			return n;                                                                  \
		used += (size_t)n;                                                                 \
	} while (0)
	for (unsigned int k = 0; k < EXIT_KIND_NR; k++)
		total += s->kind[k];
	PUT("%llu exits:", (unsigned long long)total);
	for (unsigned int k = 0; k < EXIT_KIND_NR; k++) {
		PUT("%s %s %llu", k ? "," : "", names[k], (unsigned long long)s->kind[k]);
		if (k != EXIT_KIND_IO || s->nr_ports == 0)
			continue;
		for (unsigned int i = 0; i < s->nr_ports; i++)
			PUT("%s0x%x %llu", i ? ", " : " (", s->port[i].port,
			    (unsigned long long)s->port[i].n);
		if (s->port_other)
			PUT(", other ports %llu", (unsigned long long)s->port_other);
		PUT(")");
	}
#undef PUT
	return (int)used;
}

int exit_stats_format_time(const struct exit_stats *s, char *buf, size_t len)
{
	const char *sep = "";
	uint64_t total = 0;
	size_t used = 0;
	int n;

	n = snprintf(buf, len, "VMM time per exit:");
	if (n < 0)
		return n;
	used = (size_t)n;
	for (unsigned int k = 0; k < EXIT_KIND_NR; k++) {
		total += s->ns[k];
		if (s->kind[k] == 0)
			continue;
		n = snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0,
			     "%s %s %llu ns", sep, kind_names[k],
			     (unsigned long long)(s->ns[k] / s->kind[k]));
		if (n < 0)
			return n;
		used += (size_t)n;
		sep = ",";
	}
	n = snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0,
		     "%s total %llu us", sep, (unsigned long long)(total / 1000));
	if (n < 0)
		return n;
	return (int)(used + (size_t)n);
}
