/* vmm-bench's results directory: the plot data and gnuplot script (cost.dat,
 * cost.gp, then cost.png/.svg), every file written there, and --dump. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"

/* cost.dat (one row per workload/model, median/min/max per policy) and
 * cost.gp, which picks pngcairo, png or svg by what this gnuplot has. */
static int write_plot(const struct bench_ctx *b, const char *dat, const char *gp)
{
	FILE *f = fopen(dat, "w");
	double lo = INFINITY, hi = 0;
	int col, npol = 0;

	if (f == NULL)
		return -errno;
	fprintf(f, "# workload/model");
	for (int p = 0; p < NR_POL; p++)
		if (pol_runs(b, -1, p))
			fprintf(f, " %s_median %s_min %s_max", pol_names[p], pol_names[p],
				pol_names[p]);
	fprintf(f, "\n");
	for (int w = 0; w < NR_WL; w++)
		for (int mo = 0; mo < NR_MODEL; mo++) {
			if (!b->o.wl_on[w] || !b->o.model_on[mo])
				continue;
			fprintf(f, "%s/%s", wl_names[w], model_names[mo]);
			for (int p = 0; p < NR_POL; p++) {
				const struct bench_summary *s = find_sum(b, w, mo, p);

				if (!pol_runs(b, -1, p))
					continue;
				if (s == NULL) {
					fprintf(f, " NaN NaN NaN");
					continue;
				}
				fprintf(f, " %.6g %.6g %.6g", s->s[M_NS].median, s->s[M_NS].min,
					s->s[M_NS].max);
				if (s->s[M_NS].min > 0 && s->s[M_NS].min < lo)
					lo = s->s[M_NS].min;
				if (s->s[M_NS].max > hi)
					hi = s->s[M_NS].max;
			}
			fprintf(f, "\n");
		}
	if (fclose(f) != 0)
		return -errno;

	f = fopen(gp, "w");
	if (f == NULL)
		return -errno;
	fprintf(f, "# gnuplot script written by vmm-bench: guest ns per operation by policy.\n"
		   "# Run in this directory: gnuplot cost.gp\n"
		   "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
		   "  set terminal pngcairo size 1100,600 noenhanced; set output 'cost.png'\n"
		   "} else { if (strstrt(GPVAL_TERMINALS, ' png ') > 0) {\n"
		   "  set terminal png size 1100,600 noenhanced; set output 'cost.png'\n"
		   "} else {\n"
		   "  set terminal svg size 1100,600 noenhanced; set output 'cost.svg'\n"
		   "} }\n");
	fprintf(
	    f,
	    "set title \"vmm-bench: guest cost per operation (median, bars min-max)\\n%s%s%s\"\n",
	    b->uname, b->o.note ? ", " : "", b->o.note ? b->o.note : "");
	fprintf(f, "set datafile missing 'NaN'\n"
		   "set style data histogram\n"
		   "set style histogram errorbars gap 2 lw 1\n"
		   "set style fill solid 0.8 border -1\n"
		   "set boxwidth 0.9\n"
		   "set key outside right top\n"
		   "set grid ytics\n"
		   "set ylabel 'guest ns per operation'\n"
		   "set format y '%%.0s%%c'\n"
		   "set xtics rotate by -30\n");
	if (hi > 0 && lo < INFINITY && hi / lo > 8)
		fprintf(f, "set logscale y\nset yrange [%g:*]\n", lo / 2);
	else
		fprintf(f, "set yrange [0:*]\n");
	fprintf(f, "plot 'cost.dat'");
	col = 2;
	for (int p = 0; p < NR_POL; p++) {
		if (!pol_runs(b, -1, p))
			continue;
		fprintf(f, "%s using %d:%d:%d%s title '%s'", npol ? ", ''" : "", col, col + 1,
			col + 2, npol ? "" : ":xtic(1)", pol_names[p]);
		col += 3;
		npol++;
	}
	fprintf(f, "\n");
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void dump_file(const char *dir, const char *name)
{
	char path[PATH_MAX], buf[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	printf("@@BENCH-FILE %s@@\n", name);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	printf("@@BENCH-END@@\n");
	fclose(f);
}

int write_outputs(struct bench_ctx *b)
{
	static const char *const files[] = {"results.json", "results.csv", "table.txt",
					    "cost.dat",	    "cost.gp",	   "strace-c.txt"};
	char path[PATH_MAX], dat[PATH_MAX];
	char *gp_argv[] = {"gnuplot", "cost.gp", NULL};
	FILE *f;
	int ret;

	ret = mkdir_p(b->o.out_dir);
	if (ret < 0) {
		fprintf(stderr, "vmm-bench: %s: %s\n", b->o.out_dir, strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "%s/results.json", b->o.out_dir);
	ret = write_json(b, path);
	if (ret == 0) {
		snprintf(path, sizeof(path), "%s/results.csv", b->o.out_dir);
		ret = write_csv(b, path);
	}
	if (ret == 0) {
		snprintf(path, sizeof(path), "%s/table.txt", b->o.out_dir);
		f = fopen(path, "w");
		if (f == NULL) {
			ret = -errno;
		} else {
			print_table(b, f);
			ret = fclose(f) ? -errno : 0;
		}
	}
	if (ret == 0) {
		snprintf(dat, sizeof(dat), "%s/cost.dat", b->o.out_dir);
		snprintf(path, sizeof(path), "%s/cost.gp", b->o.out_dir);
		ret = write_plot(b, dat, path);
	}
	if (ret < 0) {
		fprintf(stderr, "vmm-bench: writing %s: %s\n", path, strerror(-ret));
		return ret;
	}
	if (!b->o.no_plot) {
		ret = spawn_wait(b->o.out_dir, gp_argv, -1);
		if (ret == -ENOENT)
			fprintf(stderr,
				"vmm-bench: gnuplot not found (apt-get install gnuplot-nox); "
				"plot later with: cd %s && gnuplot cost.gp\n",
				b->o.out_dir);
		else if (ret != 0)
			fprintf(stderr, "vmm-bench: gnuplot failed (%d)\n", ret);
	}
	fprintf(stderr,
		"vmm-bench: results in %s/ (results.json, results.csv, table.txt, cost.*)\n",
		b->o.out_dir);
	if (b->o.dump) {
		fflush(stdout);
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
			dump_file(b->o.out_dir, files[i]);
		fflush(stdout);
	}
	return 0;
}

/* The watchdog's last resort: table and files from the runs so far. */
void finish_partial(struct bench_ctx *b)
{
	if (summarize(b) < 0)
		return;
	print_table(b, stdout);
	write_outputs(b);
	fflush(stdout);
}
