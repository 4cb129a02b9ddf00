/* Entry and trap stubs of the C test guests. _start keeps the raw-guest
 * contract's registers (RDI RAM size, RSI vCPU count, RDX argument string),
 * runs guest_init() and main(), and ends the VM with main's return value.
 * trap_stubs holds 256 16-byte stubs (one per vector) that build a
 * struct trap_frame and call trap_dispatch(); the IDT points at them. */

	.section .text.start, "ax"
	.globl _start
_start:
	/* The contract gives RSP = 0x80000; say so here rather than trust it. */
	mov $0x80000, %rsp
	/* Guest RAM starts zeroed, so .bss (not part of the flat image) is too. */
	mov %rdi, %rbx
	mov %rsi, %r12
	mov %rdx, %r13
	call guest_init
	mov %rbx, %rdi
	mov %r12, %rsi
	mov %r13, %rdx
	call main
	mov %eax, %edi
	call guest_exit
1:	hlt
	jmp 1b

	.text
/* Fixed-size stubs, so the IDT entry of vector n is trap_stubs + 16 * n.
 * Vectors without a CPU error code push a zero to keep one frame layout. */
	.globl trap_stubs
	.p2align 4
trap_stubs:
	vecno = 0
	.rept 256
	.if (vecno == 8) || (vecno >= 10 && vecno <= 14) || (vecno == 17) || (vecno == 21) || (vecno == 29) || (vecno == 30)
	.else
	pushq $0
	.endif
	pushq $vecno
	jmp trap_common
	.org trap_stubs + (vecno + 1) * 16	/* fails to assemble if a stub outgrew 16 bytes */
	vecno = vecno + 1
	.endr

/* 15 registers + vector + error + the CPU's 5 words = 176 bytes: the stack
 * stays 16-byte aligned for the call, as the CPU aligned it on entry. */
trap_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	cld
	call trap_dispatch
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp		/* vector, error code */
	iretq

	/* No executable stack wanted (silences ld's warning). */
	.section .note.GNU-stack, "", @progbits
