/* Test guest: print a greeting on the serial port, then exit with code 0. */
#include "guest.h"

	.section .text.start
	.globl _start
_start:
	puts msg
	exit_with 0
	define_serial_puts

	.section .rodata
msg:	.asciz "Hello from a libvmm guest\n"
