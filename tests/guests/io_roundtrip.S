/* Test guest: write and read back the port-I/O and MMIO scratch registers
 * of the test device; exit 0 when both round trips hold, else 1 or 2. */
#include "guest.h"

	.section .text.start
	.globl _start
_start:
	mov $TEST_SCRATCH, %dx
	mov $0x12345678, %eax
	outl %eax, %dx
	xor %eax, %eax
	inl %dx, %eax
	cmp $0x12345678, %eax
	jne 1f
	puts pio_ok

	mov $TEST_MMIO, %ebx
	movabs $0x1122334455667788, %rax
	mov %rax, (%rbx)
	xor %ecx, %ecx
	mov (%rbx), %rcx
	cmp %rax, %rcx
	jne 2f
	movl (%rbx), %ecx /* a narrower read sees the low half */
	cmp $0x55667788, %ecx
	jne 2f
	puts mmio_ok
	exit_with 0
1:	exit_with 1
2:	exit_with 2
	define_serial_puts

	.section .rodata
pio_ok:	.asciz "pio ok\n"
mmio_ok: .asciz "mmio ok\n"
