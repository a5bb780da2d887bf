; Exception entry stubs for vectors 0-31. Each pushes a dummy error code
; where the CPU pushes none (SDM Vol. 3A §6.13), then its vector, so that
; every exception reaches trap_common with the same frame layout
; (struct trap_frame in trap.c).
bits 64
default rel

section .text
extern trap_handler

%macro STUB 2                  ; vector, has_error_code
trap_stub_%1:
%if %2 == 0
	push 0
%endif
	push %1
	jmp trap_common
%endmacro

; vectors with an error code: 8, 10-14, 17, 21, 29, 30
%assign v 0
%rep 32
%if v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30
	STUB v, 1
%else
	STUB v, 0
%endif
%assign v v + 1
%endrep

trap_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	mov rdi, rsp           ; struct trap_frame *
	and rsp, -16
	call trap_handler      ; prints and powers off; does not return
.hang:
	cli
	hlt
	jmp .hang

section .rodata
global trap_stubs
align 8
trap_stubs:
%assign v 0
%rep 32
	dq trap_stub_ %+ v
%assign v v + 1
%endrep

; ---------------------------------------------------------------------
; NMI entry (IDT vector 2, on its own IST stack: desc.c). NMIs arrive
; anywhere in VMX root, so this saves every register the C calling
; convention lets nmi_handler (nmi.c) clobber. The CPU aligned RSP to 16
; and pushed 5 quadwords (SDM Vol. 3A §6.14.2); 9 more keep the call
; 16-byte aligned. IRET ends the NMI blocking (§6.7.1).
extern nmi_handler
global nmi_entry
nmi_entry:
	push rax
	push rcx
	push rdx
	push rsi
	push rdi
	push r8
	push r9
	push r10
	push r11
	call nmi_handler
	pop r11
	pop r10
	pop r9
	pop r8
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rax
	iretq

; void arch_nmi_unblock(void): an IRET to the next instruction on the
; same stack. A VM exit caused by an NMI leaves NMIs blocked in VMX root
; until an IRET (SDM Vol. 3C §28.5); this is that IRET.
SEL_CODE64 equ 0x08            ; desc.h
SEL_DATA   equ 0x10
global arch_nmi_unblock
arch_nmi_unblock:
	mov rax, rsp
	push SEL_DATA              ; SS
	push rax                   ; RSP: as on entry (the return address)
	pushfq
	push SEL_CODE64            ; CS
	lea rax, [rel .done]
	push rax                   ; RIP
	iretq
.done:
	ret
