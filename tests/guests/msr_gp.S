/* Test guest: RDMSR and WRMSR of an MSR nobody implements must raise #GP.
 * Exits 0 when both faulted, 1 when an access did not fault. */
#include "guest.h"

#define UNKNOWN_MSR 0x4b564dff /* in KVM's paravirt range, never assigned */

	.section .text.start
	.globl _start
_start:
	set_idt_gate 13, gp_handler
	lidt idtr(%rip)
	xor %r12, %r12			/* faults seen */
	mov $UNKNOWN_MSR, %ecx
	lea 1f(%rip), %r13		/* where the handler resumes */
	rdmsr
	exit_with 1
1:	lea 2f(%rip), %r13
	xor %eax, %eax
	xor %edx, %edx
	wrmsr
	exit_with 1
2:	cmp $2, %r12
	jne 3f
	puts ok
	exit_with 0
3:	exit_with 1

gp_handler:
	inc %r12
	add $8, %rsp			/* error code */
	mov %r13, (%rsp)		/* resume at the next step */
	iretq
	define_serial_puts

	.section .rodata
ok:	.asciz "gp ok\n"
	.p2align 4
idtr:	.word 256 * 16 - 1
	.quad idt

	.section .bss
	.p2align 4
idt:	.space 256 * 16
