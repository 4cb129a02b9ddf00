/* `vmm`: the command-line front end, a thin client of libvmm. It owns the
 * terminal, stdin and signals; the library owns the VM. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "libvmm.h"
#include "vmm/cli.h"
#include "vmm/sigsys.h"
#include "vmm/term.h"

struct cli {
	struct vmm *vm;
	struct term term;
	int quit_pipe[2]; /* main -> input thread: stop reading */
	int signal_fd;
	int stop_signal;  /* signal that stopped the VM, or 0 */
	bool user_quit;	  /* Ctrl-A x */
	sem_t sandboxed;  /* the input thread confined itself (result below) */
	int sandbox_ret;
	/* Start-up lines are held until vmm_create() succeeds, so a failure
	 * prints exactly one line. */
	bool holding;
	char held[1024];
	size_t held_len;
};

static void log_line(void *opaque, enum vmm_log_level level, const char *msg)
{
	struct cli *cli = opaque;

	if (cli->holding && level > VMM_LOG_WARN) {
		int n = snprintf(cli->held + cli->held_len, sizeof(cli->held) - cli->held_len,
				 "vmm: %s\n", msg);

		if (n > 0 && (size_t)n < sizeof(cli->held) - cli->held_len)
			cli->held_len += (size_t)n;
		return;
	}
	/* In raw mode the terminal no longer turns \n into \r\n. */
	fprintf(stderr, "vmm: %s%s%s", level == VMM_LOG_WARN ? "warning: " : "", msg,
		cli->term.raw ? "\r\n" : "\n");
}

/* stdin -> guest serial port, the Ctrl-A escape, and SIGINT/SIGTERM. */
static void *input_thread(void *arg)
{
	struct cli *cli = arg;
	struct escape esc = {false};
	struct pollfd fds[3] = {
		{.fd = cli->quit_pipe[0], .events = POLLIN},
		{.fd = cli->signal_fd, .events = POLLIN},
		{.fd = STDIN_FILENO, .events = POLLIN},
	};
	unsigned char buf[256], out[256];

	cli->sandbox_ret = vmm_sandbox_thread(cli->vm);
	sem_post(&cli->sandboxed);
	if (cli->sandbox_ret < 0)
		return NULL;
	for (;;) {
		if (poll(fds, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[0].revents)
			break;
		if (fds[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(cli->signal_fd, &si, sizeof(si)) == sizeof(si)) {
				cli->stop_signal = (int)si.ssi_signo;
				vmm_stop(cli->vm);
			}
		}
		if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
			size_t m = 0;

			if (n <= 0) {
				fds[2].fd = -1; /* EOF: the guest just gets no more input */
				continue;
			}
			for (ssize_t i = 0; i < n; i++) {
				enum escape_result r = escape_feed(&esc, buf[i]);

				if (r == ESCAPE_PASS)
					out[m++] = buf[i];
				if (r == ESCAPE_QUIT) {
					cli->user_quit = true;
					vmm_stop(cli->vm);
				}
			}
			if (m > 0)
				vmm_console_input(cli->vm, out, m);
		}
	}
	return NULL;
}

static int exit_status(const struct cli *cli, const struct vmm_exit *ex, bool quiet)
{
	switch (ex->reason) {
	case VMM_EXIT_POWEROFF:
	case VMM_EXIT_RESET:
		if (!quiet)
			fprintf(stderr, "vmm: %s\n", ex->message);
		return 0;
	case VMM_EXIT_TEST:
		if (!quiet)
			fprintf(stderr, "vmm: %s\n", ex->message);
		return ex->code & 0xff;
	case VMM_EXIT_STOPPED:
		if (cli->stop_signal) {
			if (!quiet)
				fprintf(stderr, "vmm: stopped by %s\n", strsignal(cli->stop_signal));
			return 128 + cli->stop_signal;
		}
		if (!quiet)
			fprintf(stderr, "vmm: guest killed (Ctrl-A x)\n");
		return 0;
	case VMM_EXIT_ERROR:
		fprintf(stderr, "vmm: %s\n", ex->message);
		return 1;
	default:
		fprintf(stderr, "vmm: the VM ended for no recorded reason\n");
		return 1;
	}
}

static void print_pmu_stats(const struct cli_opts *o, struct vmm *vm)
{
	char buf[4096];

	if (o->pmu_stats == CLI_STATS_NONE)
		return;
	if (vmm_format_pmu_stats(vm, o->pmu_stats == CLI_STATS_JSON, buf, sizeof(buf)) >= 0)
		fputs(buf, stderr);
}

static int run(struct cli_opts *o)
{
	struct cli cli = {.signal_fd = -1, .quit_pipe = {-1, -1}};
	struct vmm_exit ex;
	pthread_t input;
	sigset_t stop_set, old_mask;
	bool masked = false;
	char err[256];
	int ret, status;

	o->cfg.console_out_fd = STDOUT_FILENO;
	o->cfg.log = log_line;
	o->cfg.log_opaque = &cli;
	cli.holding = true;
	ret = vmm_create(&o->cfg, &cli.vm, err, sizeof(err));
	cli.holding = false;
	if (ret < 0) {
		fprintf(stderr, "vmm: %s\n", err);
		return 1;
	}
	fputs(cli.held, stderr);
	sem_init(&cli.sandboxed, 0, 0);
	if (o->cfg.seccomp == VMM_SECCOMP_KILL && (ret = sigsys_report_install()) < 0) {
		fprintf(stderr, "vmm: SIGSYS handler: %s\n", strerror(-ret));
		status = 1;
		goto out;
	}
	/* SIGINT/SIGTERM arrive through a signalfd, so no global state. */
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGTERM);
	sigaddset(&stop_set, SIGHUP);
	masked = pthread_sigmask(SIG_BLOCK, &stop_set, &old_mask) == 0;
	cli.signal_fd = signalfd(-1, &stop_set, SFD_CLOEXEC);
	if (cli.signal_fd < 0 || pipe(cli.quit_pipe) < 0) {
		fprintf(stderr, "vmm: %s\n", strerror(errno));
		status = 1;
		goto out;
	}
	term_raw(&cli.term, STDIN_FILENO);
	ret = pthread_create(&input, NULL, input_thread, &cli);
	if (ret != 0) {
		term_restore(&cli.term);
		fprintf(stderr, "vmm: input thread: %s\n", strerror(ret));
		status = 1;
		goto out;
	}
	/* Every thread is confined before the guest runs. */
	sem_wait(&cli.sandboxed);
	if (cli.sandbox_ret < 0) {
		pthread_join(input, NULL);
		term_restore(&cli.term);
		fprintf(stderr, "vmm: sandbox of the input thread: %s\n",
			strerror(-cli.sandbox_ret));
		status = 1;
		goto out;
	}
	vmm_run(cli.vm);
	if (write(cli.quit_pipe[1], "q", 1) < 0)
		pthread_cancel(input);
	pthread_join(input, NULL);
	term_restore(&cli.term);
	vmm_get_exit(cli.vm, &ex);
	status = exit_status(&cli, &ex, o->quiet);
	print_pmu_stats(o, cli.vm);
out:
	vmm_destroy(cli.vm);
	if (cli.signal_fd >= 0)
		close(cli.signal_fd);
	/* Nobody reads the signalfd now: a SIGTERM during what is left of
	 * the exit (the sanitizers' leak check, say) must end it. */
	if (masked)
		pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	for (int i = 0; i < 2; i++)
		if (cli.quit_pipe[i] >= 0)
			close(cli.quit_pipe[i]);
	return status;
}

int main(int argc, char **argv)
{
	struct cli_opts o;
	char err[256];

	if (cli_parse(argc, argv, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmm: %s\n", err);
		return 2;
	}
	switch (o.action) {
	case CLI_HELP:
		fputs(cli_usage, stdout);
		return 0;
	case CLI_VERSION:
		printf("vmm %s\n", vmm_version());
		return 0;
	default:
		return run(&o);
	}
}
