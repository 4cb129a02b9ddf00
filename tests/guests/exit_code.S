/* Test guest: end the VM with code 42 through the test-exit port. */
#include "guest.h"

	.section .text.start
	.globl _start
_start:
	exit_with 42
