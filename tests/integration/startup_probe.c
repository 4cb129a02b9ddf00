/* Measures a VMM's start-up: the time from exec to the guest's first serial
 * byte on the VMM's stdout, to a marker line (--marker), the total run time,
 * and the VMM's peak RSS (wait4). Used for vmm and for QEMU alike.
 * Usage: startup-probe [--marker TEXT] VMM ARGS...  (one line of figures) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	double start, first = -1, marked = -1, end;
	const char *marker = NULL;
	char window[8192];
	size_t wlen = 0;
	struct rusage ru;
	int pipefd[2], status;
	char buf[2048]; /* at most a quarter of the window */
	size_t total = 0;
	pid_t pid;

	if (argc > 2 && strcmp(argv[1], "--marker") == 0) {
		marker = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc < 2 || (marker != NULL && strlen(marker) >= sizeof(window) / 2)) {
		fprintf(stderr, "usage: startup-probe [--marker TEXT] VMM ARGS...\n");
		return 2;
	}
	if (pipe(pipefd) < 0)
		return perror("pipe"), 1;
	start = now_ms();
	pid = fork();
	if (pid < 0)
		return perror("fork"), 1;
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		execv(argv[1], argv + 1);
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		ssize_t n = read(pipefd[0], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (first < 0)
			first = now_ms();
		total += (size_t)n;
		if (marker != NULL && marked < 0) {
			/* Keep the last half window so a marker split by reads is seen. */
			if (wlen + (size_t)n >= sizeof(window)) {
				size_t keep = sizeof(window) / 2;

				memmove(window, window + wlen - keep, keep);
				wlen = keep;
			}
			if ((size_t)n >= sizeof(window) - wlen)
				n = (ssize_t)(sizeof(window) - wlen - 1);
			memcpy(window + wlen, buf, (size_t)n);
			wlen += (size_t)n;
			window[wlen] = '\0';
			if (strstr(window, marker) != NULL)
				marked = now_ms();
		}
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		return perror("wait4"), 1;
	end = now_ms();
	printf("startup: first serial byte %.2f ms, marker %.2f ms, total %.2f ms, %zu bytes, "
	       "peak RSS %ld KiB, status %d\n",
	       first < 0 ? -1.0 : first - start, marked < 0 ? -1.0 : marked - start, end - start,
	       total, ru.ru_maxrss, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}
