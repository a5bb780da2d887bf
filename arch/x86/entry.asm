; The hypervisor core's entry point. The loader jumps here with interrupts
; off, on uhv's page tables, with RDI = struct boot_info * (identity
; mapped). All this does is note the TSC (for the boot-cost figure of
; make bench), switch to the core's own stack and call C.
bits 64
default rel

section .text.entry
global uhv_entry
extern uhv_main
extern core_entry_tsc

uhv_entry:
	rdtsc
	shl rdx, 32
	or rax, rdx
	mov [core_entry_tsc], rax
	lea rsp, [boot_stack_top]
	xor ebp, ebp
	call uhv_main          ; does not return
.hang:
	cli
	hlt
	jmp .hang

section .bss
align 16
boot_stack:
	resb 65536
boot_stack_top:
