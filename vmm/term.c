/* Raw terminal mode and the Ctrl-A console escape. */
#include <errno.h>
#include <unistd.h>

#include "vmm/term.h"

#define CTRL_A 0x01

int term_raw(struct term *t, int fd)
{
	struct termios raw;

	t->fd = fd;
	t->raw = false;
	if (!isatty(fd))
		return 0;
	if (tcgetattr(fd, &t->saved) < 0)
		return -errno;
	raw = t->saved;
	cfmakeraw(&raw);
	if (tcsetattr(fd, TCSANOW, &raw) < 0)
		return -errno;
	t->raw = true;
	return 0;
}

void term_restore(struct term *t)
{
	if (t->raw)
		tcsetattr(t->fd, TCSANOW, &t->saved);
	t->raw = false;
}

enum escape_result escape_feed(struct escape *e, unsigned char c)
{
	if (!e->armed) {
		if (c == CTRL_A) {
			e->armed = true;
			return ESCAPE_SWALLOW;
		}
		return ESCAPE_PASS;
	}
	e->armed = false;
	if (c == 'x' || c == 'X')
		return ESCAPE_QUIT;
	if (c == CTRL_A)
		return ESCAPE_PASS;
	return ESCAPE_SWALLOW;
}
