/* `vmm` argument parsing: QEMU/kvmtool-style long options into a config. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/cli.h"

const char cli_usage[] =
	"Usage: vmm run [OPTIONS]\n"
	"       vmm --help | --version\n"
	"\n"
	"Run a KVM guest: a Linux kernel, a multiboot kernel or a flat 64-bit test binary.\n"
	"\n"
	"Boot image (exactly one):\n"
	"  -k, --kernel FILE        Linux bzImage or vmlinux, or a multiboot kernel\n"
	"  -i, --initrd FILE        initramfs for the kernel\n"
	"  -p, --cmdline STRING     kernel command line (also --append)\n"
	"      --firmware FILE      flat binary loaded at 1 MiB, entered in 64-bit mode\n"
	"      --no-host-decompress let a bzImage decompress itself in the guest\n"
	"      --module FILE[,STR]  multiboot module (repeatable; after --initrd, module 0)\n"
	"Devices:\n"
	"      --disk FILE[,ro][,io=sync|uring]  raw disk image as virtio-blk (repeatable:\n"
	"                           /dev/vda, /dev/vdb, ...; ro: read-only; io: how requests\n"
	"                           are served, default uring where built); boot from it\n"
	"                           with --cmdline '... root=/dev/vda rw'\n"
	"      --net tap=NAME[,mac=MAC]  virtio-net on an existing TAP interface\n"
	"                           (repeatable; MAC default: derived per VM)\n"
	"Machine:\n"
	"  -m, --memory SIZE        guest RAM, K/M/G suffixes (default 256M)\n"
	"  -c, --cpus N             number of vCPUs (default 1)\n"
	"      --cpuid-compat MODE  auto|none|emulated: hide features the host cannot run\n"
	"QEMU-compatible test devices (for kvm-unit-tests and other QEMU test kernels):\n"
	"      --qemu-debug-exit    port 0xf4 as isa-debug-exit: status (value << 1) | 1\n"
	"      --test-devices MODE  auto|on|off: exit port 0xf4, scratch port and MMIO (auto:\n"
	"                           with --firmware or --qemu-debug-exit, not for kernels)\n"
	"      --fw-cfg             fw_cfg ports 0x510/0x511: CPU count, RAM size\n"
	"Virtual PMU:\n"
	"      --pmu MODE           on|off|force|rdmsr (default on: only where a stock Linux\n"
	"                           guest can use it; rdmsr: for a guest kernel that reads\n"
	"                           counters by RDMSR, adds libvmm.pmu_rdmsr=1 to its cmdline)\n"
	"      --pmu-policy P       cache|lazy|naive (default cache: keep a vPMC's earlier\n"
	"                           event configurations stopped, for re-use, and flip all\n"
	"                           counters with no host call where the host's counts can\n"
	"                           be read in place; lazy: as Linux 5.5's KVM; naive:\n"
	"                           reopen at every write)\n"
	"      --pmu-backend B      perf|null (default perf)\n"
	"      --pmu-model M        host|intel|amd (default host)\n"
	"      --pmu-counters N     general-purpose counters (default: the model's)\n"
	"      --pmu-idle-slice T   release idle host events after T (default 10ms)\n"
	"      --pmu-stats[=FMT]    print PMU statistics at exit: text|json\n"
	"      --pmu-events F       guest event filter: allow:LIST|deny:LIST, LIST of\n"
	"                           EVENT[:UMASK] and fixedN, e.g. deny:0x3c,fixed1\n"
	"Sandbox:\n"
	"      --seccomp MODE       off|log|kill: syscall allowlist on every thread\n"
	"                           (default kill: a call outside it ends vmm, status 1)\n"
	"      --keep-privileges    keep the capabilities vmm started with (default: drop\n"
	"                           all before the guest runs; CAP_PERFMON stays where the\n"
	"                           host's perf_event_paranoid needs it for the vPMU)\n"
	"Other:\n"
	"  -q, --quiet              print only errors\n"
	"  -v, --verbose            print debug messages\n"
	"  -h, --help               this text\n"
	"  -V, --version            print the version\n"
	"\n"
	"Console: the guest's serial port on stdin/stdout; Ctrl-A x quits.\n"
	"Exit status: 0 when the guest powers off or resets, the guest's code when it\n"
	"writes one to the test-exit port 0xf4, 1 on errors, 2 on bad arguments.\n";

enum {
	OPT_FIRMWARE = 256,
	OPT_MODULE,
	OPT_QEMU_DEBUG_EXIT,
	OPT_TEST_DEVICES,
	OPT_FW_CFG,
	OPT_NO_HOST_DECOMPRESS,
	OPT_CPUID_COMPAT,
	OPT_PMU,
	OPT_PMU_POLICY,
	OPT_PMU_BACKEND,
	OPT_PMU_MODEL,
	OPT_PMU_COUNTERS,
	OPT_PMU_IDLE_SLICE,
	OPT_PMU_STATS,
	OPT_PMU_EVENTS,
	OPT_SECCOMP,
	OPT_KEEP_PRIVILEGES,
	OPT_DISK,
	OPT_NET,
};

static const struct option long_opts[] = {
	{"kernel", required_argument, NULL, 'k'},
	{"initrd", required_argument, NULL, 'i'},
	{"cmdline", required_argument, NULL, 'p'},
	{"append", required_argument, NULL, 'p'},
	{"params", required_argument, NULL, 'p'},
	{"firmware", required_argument, NULL, OPT_FIRMWARE},
	{"no-host-decompress", no_argument, NULL, OPT_NO_HOST_DECOMPRESS},
	{"module", required_argument, NULL, OPT_MODULE},
	{"disk", required_argument, NULL, OPT_DISK},
	{"net", required_argument, NULL, OPT_NET},
	{"qemu-debug-exit", no_argument, NULL, OPT_QEMU_DEBUG_EXIT},
	{"test-devices", required_argument, NULL, OPT_TEST_DEVICES},
	{"fw-cfg", no_argument, NULL, OPT_FW_CFG},
	{"memory", required_argument, NULL, 'm'},
	{"mem", required_argument, NULL, 'm'},
	{"cpus", required_argument, NULL, 'c'},
	{"smp", required_argument, NULL, 'c'},
	{"cpuid-compat", required_argument, NULL, OPT_CPUID_COMPAT},
	{"pmu", required_argument, NULL, OPT_PMU},
	{"pmu-policy", required_argument, NULL, OPT_PMU_POLICY},
	{"pmu-backend", required_argument, NULL, OPT_PMU_BACKEND},
	{"pmu-model", required_argument, NULL, OPT_PMU_MODEL},
	{"pmu-counters", required_argument, NULL, OPT_PMU_COUNTERS},
	{"pmu-idle-slice", required_argument, NULL, OPT_PMU_IDLE_SLICE},
	{"pmu-stats", optional_argument, NULL, OPT_PMU_STATS},
	{"pmu-events", required_argument, NULL, OPT_PMU_EVENTS},
	{"seccomp", required_argument, NULL, OPT_SECCOMP},
	{"keep-privileges", no_argument, NULL, OPT_KEEP_PRIVILEGES},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

/* Index of @s in the NULL-terminated @names, or -1. */
static int pick(const char *s, const char *const *names)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

int cli_parse_duration(const char *s, uint64_t *ns)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000}, {"", 1000000}};
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -ERANGE;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			if (v > UINT64_MAX / units[i].mult)
				return -ERANGE;
			*ns = v * units[i].mult;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_uint(const char *s, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		snprintf(err, errlen, __VA_ARGS__);                                                \
		return -EINVAL;                                                                    \
	} while (0)

/* --module FILE[,STRING]: the file name is copied out of @arg to end it at
 * the comma; the string points into @arg. */
static int cli_add_module(struct cli_opts *o, const char *arg, char *err, size_t errlen)
{
	const char *comma = strchr(arg, ',');
	size_t n = comma ? (size_t)(comma - arg) : strlen(arg);
	unsigned int i = o->cfg.nr_modules;

	if (i >= VMM_MAX_MODULES)
		FAIL("--module %s: at most %d modules", arg, VMM_MAX_MODULES);
	if (n == 0 || n >= sizeof(o->module_path[i]))
		FAIL("--module %s: expected FILE[,STRING] with a file name under %zu bytes", arg,
		     sizeof(o->module_path[i]));
	memcpy(o->module_path[i], arg, n);
	o->module_path[i][n] = '\0';
	o->modules[i] = (struct vmm_module){o->module_path[i], comma ? comma + 1 : NULL};
	o->cfg.modules = o->modules;
	o->cfg.nr_modules = i + 1;
	return 0;
}

/* --disk FILE[,ro][,io=sync|uring]. */
static int cli_add_disk(struct cli_opts *o, const char *arg, char *err, size_t errlen)
{
	const char *comma = strchr(arg, ',');
	size_t n = comma ? (size_t)(comma - arg) : strlen(arg);
	unsigned int i = o->cfg.nr_disks;
	struct vmm_disk d = {o->disk_path[i], false, VMM_DISK_IO_DEFAULT};

	if (i >= VMM_MAX_DISKS)
		FAIL("--disk %s: at most %d disks", arg, VMM_MAX_DISKS);
	if (n == 0 || n >= sizeof(o->disk_path[i]))
		FAIL("--disk %s: expected FILE[,ro][,io=sync|uring] with a file name under %zu "
		     "bytes", arg, sizeof(o->disk_path[i]));
	while (comma != NULL) {
		const char *opt = comma + 1;
		size_t len;

		comma = strchr(opt, ',');
		len = comma ? (size_t)(comma - opt) : strlen(opt);
		if (len == 2 && strncmp(opt, "ro", 2) == 0)
			d.read_only = true;
		else if (len == 7 && strncmp(opt, "io=sync", 7) == 0)
			d.io = VMM_DISK_IO_SYNC;
		else if (len == 8 && strncmp(opt, "io=uring", 8) == 0)
			d.io = VMM_DISK_IO_URING;
		else
			FAIL("--disk %s: unknown option '%.*s' (expected ro, io=sync or io=uring)",
			     arg, (int)len, opt);
	}
	memcpy(o->disk_path[i], arg, n);
	o->disk_path[i][n] = '\0';
	o->disks[i] = d;
	o->cfg.disks = o->disks;
	o->cfg.nr_disks = i + 1;
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != 6 || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	/* A multicast address cannot be an interface's. */
	return (mac[0] & 1) ? -EINVAL : 0;
}

/* --net tap=NAME[,mac=XX:XX:XX:XX:XX:XX]. */
static int cli_add_net(struct cli_opts *o, const char *arg, char *err, size_t errlen)
{
	unsigned int i = o->cfg.nr_nets;
	struct vmm_net *n = &o->nets[i];
	const char *p = arg;

	if (i >= VMM_MAX_NETS)
		FAIL("--net %s: at most %d network interfaces", arg, VMM_MAX_NETS);
	*n = (struct vmm_net){0};
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (strncmp(p, "tap=", 4) == 0 && len > 4 && len - 4 < sizeof(o->tap_name[i])) {
			memcpy(o->tap_name[i], p + 4, len - 4);
			o->tap_name[i][len - 4] = '\0';
			n->tap = o->tap_name[i];
		} else if (strncmp(p, "mac=", 4) == 0 && len == 4 + 17) {
			char mac[18];

			memcpy(mac, p + 4, 17);
			mac[17] = '\0';
			if (parse_mac(mac, n->mac) < 0)
				FAIL("--net %s: bad MAC '%s' (expected a unicast XX:XX:XX:XX:XX:XX)",
				     arg, mac);
			n->mac_set = true;
		} else {
			FAIL("--net %s: expected tap=NAME[,mac=XX:XX:XX:XX:XX:XX]", arg);
		}
		p += len + (comma != NULL);
	}
	if (n->tap == NULL)
		FAIL("--net %s: expected tap=NAME[,mac=XX:XX:XX:XX:XX:XX]", arg);
	o->cfg.nets = o->nets;
	o->cfg.nr_nets = i + 1;
	return 0;
}

static int cli_parse_opt(int c, const char *arg, struct cli_opts *o, char *err, size_t errlen)
{
	static const char *const pmu_modes[] = {"on", "off", "force", "rdmsr", NULL};
	/* in the order of enum vmm_pmu_policy, after its default */
	static const char *const policies[] = {"lazy", "naive", "cache", NULL};
	static const char *const backends[] = {"perf", "null", NULL};
	static const char *const models[] = {"host", "intel", "amd", NULL};
	static const char *const compat[] = {"auto", "none", "emulated", NULL};
	static const char *const test_devices[] = {"auto", "on", "off", NULL};
	static const char *const stats[] = {"text", "json", NULL};
	static const char *const seccomp[] = {"off", "log", "kill", NULL};
	struct vmm_config *cfg = &o->cfg;
	int i, ret;

	switch (c) {
	case 'k':
		cfg->kernel_path = arg;
		break;
	case 'i':
		cfg->initrd_path = arg;
		break;
	case 'p':
		cfg->cmdline = arg;
		break;
	case OPT_DISK:
		return cli_add_disk(o, arg, err, errlen);
	case OPT_NET:
		return cli_add_net(o, arg, err, errlen);
	case OPT_MODULE:
		ret = cli_add_module(o, arg, err, errlen);
		if (ret < 0)
			return ret;
		break;
	case OPT_QEMU_DEBUG_EXIT:
		cfg->qemu_debug_exit = true;
		break;
	case OPT_FW_CFG:
		cfg->fw_cfg = true;
		break;
	case OPT_TEST_DEVICES:
		if ((i = pick(arg, test_devices)) < 0)
			FAIL("--test-devices %s: expected auto, on or off", arg);
		cfg->test_devices = (enum vmm_test_devices)i;
		break;
	case OPT_FIRMWARE:
		cfg->firmware_path = arg;
		break;
	case OPT_NO_HOST_DECOMPRESS:
		cfg->host_decompress = false;
		break;
	case 'm':
		ret = vmm_parse_size(arg, &cfg->memory_bytes);
		if (ret < 0)
			FAIL("--memory %s: %s", arg,
			     ret == -ERANGE ? "too large" : "not a size (e.g. 256M, 1G)");
		if (cfg->memory_bytes == 0)
			FAIL("--memory %s: must be larger than zero", arg);
		if (cfg->memory_bytes < (1ULL << 20) && strpbrk(arg, "kKmMgGtT") == NULL)
			FAIL("--memory %s: give a unit (e.g. 256M); a bare number is bytes", arg);
		break;
	case 'c':
		if (parse_uint(arg, VMM_MAX_CPUS, &cfg->cpus) < 0 || cfg->cpus == 0)
			FAIL("--cpus %s: not a number from 1 to %d", arg, VMM_MAX_CPUS);
		break;
	case OPT_CPUID_COMPAT:
		if ((i = pick(arg, compat)) < 0)
			FAIL("--cpuid-compat %s: expected auto, none or emulated", arg);
		cfg->cpuid_compat = (enum vmm_cpuid_compat)i;
		break;
	case OPT_PMU:
		if ((i = pick(arg, pmu_modes)) < 0)
			FAIL("--pmu %s: expected on, off, force or rdmsr", arg);
		cfg->pmu = (enum vmm_pmu_mode)i;
		break;
	case OPT_PMU_POLICY:
		if ((i = pick(arg, policies)) < 0)
			FAIL("--pmu-policy %s: expected cache, lazy or naive", arg);
		cfg->pmu_policy = (enum vmm_pmu_policy)(VMM_PMU_LAZY + i);
		break;
	case OPT_PMU_BACKEND:
		if ((i = pick(arg, backends)) < 0)
			FAIL("--pmu-backend %s: expected perf or null", arg);
		cfg->pmu_backend = (enum vmm_pmu_backend)i;
		break;
	case OPT_PMU_MODEL:
		if ((i = pick(arg, models)) < 0)
			FAIL("--pmu-model %s: expected host, intel or amd", arg);
		cfg->pmu_model = (enum vmm_pmu_model)i;
		break;
	case OPT_PMU_COUNTERS:
		if (parse_uint(arg, 8, &cfg->pmu_gp_counters) < 0 || cfg->pmu_gp_counters == 0)
			FAIL("--pmu-counters %s: not a number from 1 to 8", arg);
		break;
	case OPT_PMU_IDLE_SLICE:
		if (cli_parse_duration(arg, &cfg->pmu_idle_slice_ns) < 0 ||
		    cfg->pmu_idle_slice_ns < 100000 || cfg->pmu_idle_slice_ns > 60000000000ULL)
			FAIL("--pmu-idle-slice %s: expected a duration from 100us to 60s (e.g. 10ms)",
			     arg);
		break;
	case OPT_PMU_STATS:
		if (arg == NULL)
			o->pmu_stats = CLI_STATS_TEXT;
		else if ((i = pick(arg, stats)) < 0)
			FAIL("--pmu-stats=%s: expected text or json", arg);
		else
			o->pmu_stats = (enum cli_stats)(i + 1);
		break;
	case OPT_SECCOMP:
		if ((i = pick(arg, seccomp)) < 0)
			FAIL("--seccomp %s: expected off, log or kill", arg);
		cfg->seccomp = (enum vmm_seccomp)i;
		break;
	case OPT_KEEP_PRIVILEGES:
		cfg->drop_privileges = false;
		break;
	case OPT_PMU_EVENTS: {
		char why[160];

		if (vmm_parse_pmu_events(arg, &cfg->pmu_events, why, sizeof(why)) < 0)
			FAIL("--pmu-events %s: %s", arg, why);
		break;
	}
	case 'q':
		o->quiet = true;
		break;
	case 'v':
		o->verbose = true;
		break;
	case 'h':
		o->action = CLI_HELP;
		break;
	case 'V':
		o->action = CLI_VERSION;
		break;
	default:
		FAIL("unknown or incomplete option (see vmm --help)");
	}
	return 0;
}

int cli_parse(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen)
{
	int c, first = 1, ret;

	memset(o, 0, sizeof(*o));
	vmm_config_init(&o->cfg);
	o->cfg.host_decompress = true;
	/* The library confines nothing unasked; the command line does. */
	o->cfg.drop_privileges = true;
	o->cfg.seccomp = VMM_SECCOMP_KILL;
	if (argc >= 2 && (strcmp(argv[1], "run") == 0 || strcmp(argv[1], "help") == 0)) {
		if (strcmp(argv[1], "help") == 0) {
			o->action = CLI_HELP;
			return 0;
		}
		first = 2;
	}
	/* getopt_long keeps state in libc globals: optind = 0 resets it fully.
	 * Parsing starts after the command word, which stands in for argv[0]. */
	optind = 0;
	opterr = 0;
	argc -= first - 1;
	argv += first - 1;
	while ((c = getopt_long(argc, argv, "k:i:p:m:c:qvhV", long_opts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			const char *bad = optind - 1 < argc ? argv[optind - 1] : "?";

			FAIL("%s: unknown option or missing value (see vmm --help)", bad);
		}
		ret = cli_parse_opt(c, optarg, o, err, errlen);
		if (ret < 0)
			return ret;
	}
	if (o->action != CLI_RUN)
		return 0;
	if (first == 1 && optind == 1 && argc >= 2)
		FAIL("%s: unknown command (expected run)", argv[1]);
	if (optind < argc)
		FAIL("%s: unexpected argument (see vmm --help)", argv[optind]);
	if (first == 1)
		FAIL("nothing to do: try vmm run --firmware FILE, or vmm --help");
	if (o->cfg.firmware_path == NULL && o->cfg.kernel_path == NULL)
		FAIL("no boot image: give --kernel FILE or --firmware FILE");
	if (o->cfg.firmware_path != NULL && o->cfg.kernel_path != NULL)
		FAIL("--kernel and --firmware are exclusive");
	if (o->cfg.initrd_path != NULL && o->cfg.kernel_path == NULL)
		FAIL("--initrd needs --kernel");
	if (o->cfg.nr_modules && o->cfg.kernel_path == NULL)
		FAIL("--module needs --kernel (a multiboot kernel)");
	if (o->quiet)
		o->cfg.log_level = VMM_LOG_ERROR;
	if (o->verbose)
		o->cfg.log_level = VMM_LOG_DEBUG;
	return 0;
}
