/* vmm-bench: measures what the lazy vPMU saves. Runs the benchmark guest
 * (tests/guests/bench.bin) for each workload x PMU model x policy (naive,
 * lazy, cache, null backend = the trap floor, KVM's in-kernel PMU where
 * there is one), several interleaved runs each, and reports guest ns per operation,
 * host perf syscalls, exits, VMM CPU time and host fds held, as a terminal
 * table, results.json, results.csv and a gnuplot chart (cost.png/.svg).
 * Optionally cross-checks the syscall counts of one run against strace.
 *
 * This file: the command line and main(). runner.c runs the VMs, stats.c
 * summarizes the runs, report.c and output.c write the results,
 * strace_check.c does the strace cross-check; bench.h is what they share. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "bench.h"

#ifndef KVM_CAP_PMU_CAPABILITY
#define KVM_CAP_PMU_CAPABILITY 232
#endif

/* Exit status meson reads as "skipped". */
#define EXIT_SKIP 77

const char *const wl_names[NR_WL] = {"ctxsw", "pmi", "multiplex", "idle"};
const char *const model_names[NR_MODEL] = {"intel", "amd"};
const char *const pol_names[NR_POL] = {"naive", "lazy", "cache", "null", "kvm"};
static const uint64_t default_iters[NR_WL] = {1000, 100, 250, 5};

static void machine_info(struct bench_ctx *b)
{
	struct utsname u;
	char line[256];
	FILE *f;

	if (uname(&u) == 0)
		snprintf(b->uname, sizeof(b->uname), "%s %s %s", u.sysname, u.release, u.machine);
	snprintf(b->cpu, sizeof(b->cpu), "unknown");
	f = fopen("/proc/cpuinfo", "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && c != NULL) {
			c += 1 + strspn(c + 1, " \t");
			c[strcspn(c, "\n")] = '\0';
			snprintf(b->cpu, sizeof(b->cpu), "%s", c);
			break;
		}
	}
	fclose(f);
}

/* Can KVM run guests here, and does it have an in-kernel PMU? */
static int kvm_probe(struct bench_ctx *b)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), cap;

	if (fd < 0) {
		b->kvm_pmu_cap = -errno;
		snprintf(b->kvm_skip, sizeof(b->kvm_skip), "/dev/kvm: %s", strerror(errno));
		return b->kvm_pmu_cap;
	}
	cap = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_PMU_CAPABILITY);
	close(fd);
	b->kvm_pmu_cap = cap < 0 ? -errno : cap;
	if (cap <= 0)
		snprintf(b->kvm_skip, sizeof(b->kvm_skip),
			 "KVM_CAP_PMU_CAPABILITY = %d: this KVM has no in-kernel PMU", cap);
	return 0;
}

static int parse_list(const char *arg, const char *const *names, int nr, bool *on, const char *what)
{
	char *dup = strdup(arg), *save = NULL, *tok;
	int ret = 0;

	if (dup == NULL)
		return -ENOMEM;
	for (int i = 0; i < nr; i++)
		on[i] = false;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int i;

		for (i = 0; i < nr; i++)
			if (strcmp(tok, names[i]) == 0)
				break;
		if (i == nr) {
			fprintf(stderr, "vmm-bench: unknown %s '%s'\n", what, tok);
			ret = -EINVAL;
			break;
		}
		on[i] = true;
	}
	free(dup);
	return ret;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *v == 0)
		return -EINVAL;
	return 0;
}

/* --iters N (all workloads) or --iters ctxsw=N,pmi=N,... */
static int parse_iters(const char *arg, uint64_t *iters)
{
	char *dup, *save = NULL, *tok;
	uint64_t v;
	int ret = 0;

	if (parse_u64(arg, &v) == 0) {
		for (int w = 0; w < NR_WL; w++)
			iters[w] = v;
		return 0;
	}
	dup = strdup(arg);
	if (dup == NULL)
		return -ENOMEM;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int w;

		if (eq == NULL) {
			ret = -EINVAL;
			break;
		}
		*eq = '\0';
		for (w = 0; w < NR_WL; w++)
			if (strcmp(tok, wl_names[w]) == 0)
				break;
		if (w == NR_WL || parse_u64(eq + 1, &iters[w]) < 0) {
			ret = -EINVAL;
			break;
		}
	}
	free(dup);
	if (ret < 0)
		fprintf(stderr, "vmm-bench: bad --iters '%s' (N, or WORKLOAD=N,...)\n", arg);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: vmm-bench --guest bench.bin [options]\n"
	    "  --guest PATH          benchmark guest (tests/guests/bench.bin)\n"
	    "  --workloads LIST      ctxsw,pmi,multiplex,idle (default: all)\n"
	    "  --models LIST         intel,amd (default: both)\n"
	    "  --policies LIST       naive,lazy,cache,null,kvm (default: all; null = lazy with\n"
	    "                        the null backend, the trap floor; kvm = KVM's in-kernel PMU)\n"
	    "  --iters N|W=N,...     operations per run (default ctxsw=%llu,pmi=%llu,\n"
	    "                        multiplex=%llu,idle=%llu)\n"
	    "  --k K --m M --slices S  pmi period, multiplex configs, idle slices (guest args)\n"
	    "  --runs R              interleaved runs per configuration (default 3)\n"
	    "  --out DIR             write results.json, results.csv, cost.dat/.gp/.png there\n"
	    "  --no-plot             do not run gnuplot (cost.gp is still written)\n"
	    "  --dump                also print the written files on stdout between\n"
	    "                        @@BENCH-FILE name@@ / @@BENCH-END@@ markers\n"
	    "  --strace-check        re-run one configuration under strace -f -C and\n"
	    "                        compare syscall counts with libvmm's (--strace PATH)\n"
	    "  --strace-iters N      operations of that run (default 50: ptrace is slow)\n"
	    "  --run-timeout S       stop a VM run after S seconds (default 300)\n"
	    "  --note TEXT           describe the machine (printed and stored)\n"
	    "  --mem SIZE            guest RAM (default 32M)\n"
	    "  -v, --verbose         show libvmm's log\n",
	    (unsigned long long)default_iters[0], (unsigned long long)default_iters[1],
	    (unsigned long long)default_iters[2], (unsigned long long)default_iters[3]);
}

static int parse_args(struct bench_ctx *b, int argc, char **argv)
{
	enum {
		O_GUEST = 256,
		O_WL,
		O_MODELS,
		O_POL,
		O_ITERS,
		O_K,
		O_M,
		O_SLICES,
		O_RUNS,
		O_OUT,
		O_NOPLOT,
		O_DUMP,
		O_STRACE_CHECK,
		O_STRACE,
		O_STRACE_ITERS,
		O_RUN_TIMEOUT,
		O_NOTE,
		O_MEM,
		O_CHILD
	};
	static const struct option opts[] = {
	    {"guest", required_argument, NULL, O_GUEST},
	    {"workloads", required_argument, NULL, O_WL},
	    {"models", required_argument, NULL, O_MODELS},
	    {"policies", required_argument, NULL, O_POL},
	    {"iters", required_argument, NULL, O_ITERS},
	    {"k", required_argument, NULL, O_K},
	    {"m", required_argument, NULL, O_M},
	    {"slices", required_argument, NULL, O_SLICES},
	    {"runs", required_argument, NULL, O_RUNS},
	    {"out", required_argument, NULL, O_OUT},
	    {"no-plot", no_argument, NULL, O_NOPLOT},
	    {"dump", no_argument, NULL, O_DUMP},
	    {"strace-check", no_argument, NULL, O_STRACE_CHECK},
	    {"strace", required_argument, NULL, O_STRACE},
	    {"strace-iters", required_argument, NULL, O_STRACE_ITERS},
	    {"run-timeout", required_argument, NULL, O_RUN_TIMEOUT},
	    {"note", required_argument, NULL, O_NOTE},
	    {"mem", required_argument, NULL, O_MEM},
	    {"child", required_argument, NULL, O_CHILD},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct bench_opts *o = &b->o;
	uint64_t v;
	int c, ret;

	for (int i = 0; i < NR_WL; i++)
		o->wl_on[i] = true, o->iters[i] = default_iters[i];
	for (int i = 0; i < NR_MODEL; i++)
		o->model_on[i] = true;
	for (int i = 0; i < NR_POL; i++)
		o->pol_on[i] = true;
	o->runs = 3;
	o->slices = 5;
	o->strace_iters = 50;
	o->run_timeout = 300;
	o->mem_bytes = 32ULL << 20;
	o->out_dir = "bench-results";

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		ret = 0;
		switch (c) {
		case O_GUEST:
			o->guest = optarg;
			break;
		case O_WL:
			ret = parse_list(optarg, wl_names, NR_WL, o->wl_on, "workload");
			break;
		case O_MODELS:
			ret = parse_list(optarg, model_names, NR_MODEL, o->model_on, "model");
			break;
		case O_POL:
			ret = parse_list(optarg, pol_names, NR_POL, o->pol_on, "policy");
			break;
		case O_ITERS:
			ret = parse_iters(optarg, o->iters);
			break;
		case O_K:
		case O_M:
		case O_SLICES:
		case O_RUNS:
		case O_RUN_TIMEOUT:
			ret = parse_u64(optarg, &v);
			if (ret == 0 && v > INT_MAX)
				ret = -ERANGE;
			if (ret < 0) {
				fprintf(stderr, "vmm-bench: bad number '%s'\n", optarg);
				break;
			}
			if (c == O_K)
				o->k = (long)v;
			else if (c == O_M)
				o->m = (long)v;
			else if (c == O_SLICES)
				o->slices = (long)v;
			else if (c == O_RUN_TIMEOUT)
				o->run_timeout = (unsigned int)v;
			else
				o->runs = (unsigned int)v;
			break;
		case O_OUT:
			o->out_dir = optarg;
			break;
		case O_NOPLOT:
			o->no_plot = true;
			break;
		case O_DUMP:
			o->dump = true;
			break;
		case O_STRACE_CHECK:
			o->strace_check = true;
			break;
		case O_STRACE:
			o->strace_path = optarg;
			o->strace_check = true;
			break;
		case O_STRACE_ITERS:
			ret = parse_u64(optarg, &o->strace_iters);
			if (ret < 0)
				fprintf(stderr, "vmm-bench: bad --strace-iters '%s'\n", optarg);
			break;
		case O_NOTE:
			o->note = optarg;
			break;
		case O_MEM:
			ret = vmm_parse_size(optarg, &o->mem_bytes);
			if (ret < 0)
				fprintf(stderr, "vmm-bench: bad --mem '%s'\n", optarg);
			break;
		case O_CHILD: {
			char w[32], m[32], p[32];
			bool on[NR_POL];

			o->child = true;
			ret = -EINVAL;
			if (sscanf(optarg, "%31[^,],%31[^,],%31s", w, m, p) != 3)
				break;
			for (int i = 0; i < NR_WL; i++)
				if (strcmp(w, wl_names[i]) == 0)
					o->child_wl = i, ret = 0;
			if (ret || (ret = parse_list(m, model_names, NR_MODEL, on, "model")) < 0)
				break;
			o->child_model = on[MODEL_AMD] ? MODEL_AMD : MODEL_INTEL;
			ret = parse_list(p, pol_names, NR_POL, on, "policy");
			for (int i = 0; i < NR_POL; i++)
				if (on[i])
					o->child_pol = i;
			break;
		}
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
		if (ret < 0)
			return ret;
	}
	if (optind < argc) {
		fprintf(stderr, "vmm-bench: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (o->guest == NULL) {
		fprintf(stderr, "vmm-bench: --guest PATH (bench.bin) is required\n");
		usage(stderr);
		return -EINVAL;
	}
	if (access(o->guest, R_OK) < 0) {
		fprintf(stderr, "vmm-bench: guest %s: %s\n", o->guest, strerror(errno));
		return -errno;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_ctx b = {0};
	ssize_t n;
	int ret, failed;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = parse_args(&b, argc, argv);
	if (ret < 0)
		return 2;
	if (b.o.child)
		return child_main(&b);
	machine_info(&b);
	if (kvm_probe(&b) < 0) {
		fprintf(stderr,
			"vmm-bench: skipped: %s (no usable KVM here; tests/bench/run.sh "
			"runs the benchmark inside the KVM-in-TCG rig)\n",
			b.kvm_skip);
		return EXIT_SKIP;
	}
	n = readlink("/proc/self/exe", b.self_exe, sizeof(b.self_exe) - 1);
	if (n > 0)
		b.self_exe[n] = '\0';
	fprintf(stderr, "vmm-bench: libvmm %s, guest %s, %u runs per configuration\n",
		vmm_version(), b.o.guest, b.o.runs);
	if (b.o.pol_on[POL_KVM] && b.kvm_skip[0])
		fprintf(stderr, "vmm-bench: policy kvm skipped: %s\n", b.kvm_skip);
	failed = bench_all(&b);
	if (failed < 0) {
		fprintf(stderr, "vmm-bench: %s\n", strerror(-failed));
		return 1;
	}
	ret = mkdir_p(b.o.out_dir);
	if (ret == 0 && b.o.strace_check && strace_check(&b) < 0)
		fprintf(stderr, "vmm-bench: strace check not done: %s\n", b.sc.error);
	ret = summarize(&b);
	if (ret < 0) {
		fprintf(stderr, "vmm-bench: %s\n", strerror(-ret));
		return 1;
	}
	print_table(&b, stdout);
	ret = write_outputs(&b);
	free(b.runs);
	free(b.sum);
	if (ret < 0)
		return 1;
	if (failed)
		fprintf(stderr, "vmm-bench: %d run(s) failed\n", failed);
	return failed ? 1 : 0;
}
