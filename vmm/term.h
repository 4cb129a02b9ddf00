/* The host terminal: raw mode while a guest owns the console, restored on
 * every exit path of the CLI. */
#ifndef VMM_TERM_H
#define VMM_TERM_H

#include <stdbool.h>
#include <termios.h>

struct term {
	int fd;
	bool raw;
	struct termios saved;
};

/* Raw mode on @fd if it is a terminal; a no-op (returns 0) otherwise. */
int term_raw(struct term *t, int fd);
void term_restore(struct term *t);

/* The console escape: Ctrl-A then x quits, Ctrl-A Ctrl-A sends one Ctrl-A. */
struct escape {
	bool armed;
};

enum escape_result {
	ESCAPE_PASS = 0, /* give the byte to the guest */
	ESCAPE_SWALLOW,	 /* part of an escape: drop it */
	ESCAPE_QUIT,
};

enum escape_result escape_feed(struct escape *e, unsigned char c);

#endif
