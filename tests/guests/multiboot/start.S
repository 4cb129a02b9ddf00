/* Entry of the multiboot test guests: the multiboot header, a stack, and a
 * call of mb_main(EAX, EBX) in the 32-bit protected mode the loader left.
 * The a.out variant also carries the header's address fields (flag 16). */
#define MB_MAGIC 0x1BADB002
#ifdef MB_AOUT
#define MB_FLAGS 0x00010003 /* page-aligned modules, memory info, address fields */
#else
#define MB_FLAGS 0x00000003 /* page-aligned modules, memory info */
#endif

	.section .text.start, "ax"
	.code32
	.align 4
mb_header:
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
#ifdef MB_AOUT
	.long mb_header, __load_start, __load_end, __bss_end, _start
#endif

	.globl _start
_start:
	mov $stack_top, %esp
	push %ebx
	push %eax
	call mb_main
1:	hlt
	jmp 1b

	.section .bss
	.align 16
	.space 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
