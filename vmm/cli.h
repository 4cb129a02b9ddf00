/* Command-line parsing of `vmm`, separate from main() so it is unit-tested. */
#ifndef VMM_CLI_H
#define VMM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libvmm.h"

enum cli_action {
	CLI_RUN = 0,
	CLI_HELP,
	CLI_VERSION,
};

enum cli_stats {
	CLI_STATS_NONE = 0,
	CLI_STATS_TEXT,
	CLI_STATS_JSON,
};

struct cli_opts {
	enum cli_action action;
	struct vmm_config cfg;
	enum cli_stats pmu_stats;
	bool quiet, verbose;
	/* --module: the file names, cut at their comma, and the list. */
	char module_path[VMM_MAX_MODULES][512];
	struct vmm_module modules[VMM_MAX_MODULES];
	/* --disk: the paths, cut at their comma, and the list. */
	char disk_path[VMM_MAX_DISKS][512];
	struct vmm_disk disks[VMM_MAX_DISKS];
	/* --net: the TAP names and the list. */
	char tap_name[VMM_MAX_NETS][64];
	struct vmm_net nets[VMM_MAX_NETS];
};

/* Parse argv ("vmm run ..."). Returns 0 with @o filled, or -EINVAL with one
 * line in @err. Strings in o->cfg point into argv. */
int cli_parse(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen);

/* "10ms", "500us", "2s", "1000000ns"; a bare number is milliseconds. */
int cli_parse_duration(const char *s, uint64_t *ns);

/* The text of `vmm --help`. */
extern const char cli_usage[];

#endif
