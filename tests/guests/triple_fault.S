/* Test guest: fault with an empty IDT, which escalates to a triple fault
 * (KVM_EXIT_SHUTDOWN); the VMM must report an error with the RIP. */
#include "guest.h"

	.section .text.start
	.globl _start
_start:
	lidt idtr(%rip)
	ud2

	.section .rodata
idtr:	.word 0
	.quad 0
