/* Macros shared by the assembly test guests: serial output on COM1, the
 * test-exit port, and a minimal 64-bit IDT. Entered per the raw-guest
 * contract: long mode, RIP = 1 MiB, RSP = 0x80000, interrupts off. */
#ifndef GUEST_H
#define GUEST_H

#define COM1 0x3f8
#define TEST_EXIT 0xf4
#define TEST_SCRATCH 0xf8
#define TEST_MMIO 0xd0000000

/* exit_with CODE: end the VM with CODE through the test-exit port. */
.macro exit_with code
	mov $\code, %eax
	mov $TEST_EXIT, %dx
	outl %eax, %dx
	hlt
.endm

/* puts LABEL: print the NUL-terminated string at LABEL (clobbers rsi, rax, rdx). */
.macro puts label
	lea \label(%rip), %rsi
	call serial_puts
.endm

/* Body of serial_puts: poll LSR.THRE, write each byte. */
.macro define_serial_puts
serial_puts:
1:	lodsb
	test %al, %al
	jz 3f
	mov %al, %ah
	mov $COM1 + 5, %dx
2:	inb %dx, %al
	test $0x20, %al
	jz 2b
	mov $COM1, %dx
	mov %ah, %al
	outb %al, %dx
	jmp 1b
3:	ret
.endm

/* set_idt_gate VECTOR HANDLER: 64-bit interrupt gate in idt (256 entries). */
.macro set_idt_gate vector handler
	lea \handler(%rip), %rax
	lea idt + \vector * 16(%rip), %rdi
	mov %ax, (%rdi)
	movw $0x08, 2(%rdi)
	movw $0x8e00, 4(%rdi)
	shr $16, %rax
	mov %ax, 6(%rdi)
	shr $16, %rax
	mov %eax, 8(%rdi)
	movl $0, 12(%rdi)
.endm

#endif
