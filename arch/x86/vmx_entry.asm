; VM entry and the VM-exit fast path (SDM Vol. 3C ch. 27-28).
;
; int vmx_run(u64 *regs, int launched, int (*on_exit)(void *), void *ctx)
;
;   Saves uhv's callee-saved registers, makes the current stack the VMCS
;   host RSP, loads the guest's general-purpose registers from regs[] (x86
;   register order, enum arch_gpr) and enters the guest. On every VM exit
;   the guest registers are stored back into regs[] and on_exit(ctx) runs
;   on this stack. If it returns 0 the guest is resumed at once, without
;   unwinding back to C: this loop is what keeps an exit round trip short.
;   Otherwise vmx_run returns 0. It returns 1 if VMRESUME fails, 2 if
;   VMLAUNCH does (VMfail: the guest did not run; the VMCS stays clear
;   after a failed VMLAUNCH, SDM Vol. 3C §25.11.3).
;
;   Host stack while the guest runs (16-byte aligned, = VMCS host RSP):
;     [rsp]      ctx
;     [rsp + 8]  on_exit
;     [rsp + 16] regs
;     [rsp + 24] saved r15, r14, r13, r12, rbx, rbp, return address
bits 64
default rel

VMCS_HOST_RSP equ 0x6c14
MSR_IA32_FLUSH_CMD equ 0x10b        ; SDM Vol. 4 Table 2-2
FLUSH_CMD_L1D equ 1

; struct arch_vcpu's spec flags (vcpu.h SPEC_*), right after regs[16],
; then its count of RSB fills
SPEC_OFF equ 16 * 8
RSB_FILLS_OFF equ SPEC_OFF + 8      ; and rsb_fills after it
SPEC_EXIT_RSB_FILL equ 1
SPEC_ENTRY_VERW equ 2
SPEC_ENTRY_L1D_FLUSH equ 4
RSB_ENTRIES equ 32                  ; deeper than any CPU's return stack

%define R(n) [rdi + (n) * 8]
G_RAX equ 0
G_RCX equ 1
G_RDX equ 2
G_RBX equ 3
G_RBP equ 5
G_RSI equ 6
G_RDI equ 7

%macro LOAD_GUEST 0                 ; rdi = regs; rdi itself last
	mov rax, R(G_RAX)
	mov rcx, R(G_RCX)
	mov rdx, R(G_RDX)
	mov rbx, R(G_RBX)
	mov rbp, R(G_RBP)
	mov rsi, R(G_RSI)
	mov r8,  R(8)
	mov r9,  R(9)
	mov r10, R(10)
	mov r11, R(11)
	mov r12, R(12)
	mov r13, R(13)
	mov r14, R(14)
	mov r15, R(15)
	mov rdi, R(G_RDI)
%endmacro

; Before entry (rdi = regs; clobbers rax, rcx, rdx and the flags): the
; L1D flush (IA32_FLUSH_CMD) and VERW that clears the CPU's buffers, each
; where the vCPU's spec flags ask (arch/x86/spec.c says why). VERW comes
; last but for the loads of the guest's own registers.
%macro ENTRY_MITIGATIONS 0
	test byte [rdi + SPEC_OFF], SPEC_ENTRY_L1D_FLUSH | SPEC_ENTRY_VERW
	jz %%none                   ; the common case: two instructions
	test byte [rdi + SPEC_OFF], SPEC_ENTRY_L1D_FLUSH
	jz %%no_l1d
	mov ecx, MSR_IA32_FLUSH_CMD
	mov eax, FLUSH_CMD_L1D
	xor edx, edx
	wrmsr
%%no_l1d:
	test byte [rdi + SPEC_OFF], SPEC_ENTRY_VERW
	jz %%no_verw
	verw [rel verw_selector]
%%no_verw:
%%none:
%endmacro

; After an exit, before uhv's first unbalanced RET: overwrite the return
; stack buffer with RSB_ENTRIES harmless entries (each call's return
; address is a speculation trap), then drop them from the stack. Clobbers
; rcx, flags.
;
; Why not at the exit itself: the guest's entries lie below the exit's
; call depth, and a RET can only speculate to one of them once uhv
; returns past that depth. The handler called below returns to this stub
; (a RET matched by its CALL, as are all of the handler's own), so an
; exit that resumes the guest from here never reaches them. vmx_run's own
; RET to its C caller is the first that would: the fill goes before it
; (.leave). That keeps the fill off make bench's CPUID round trip.
%macro RSB_FILL 0
	mov ecx, RSB_ENTRIES / 2
%%loop:
	call %%one
%%trap1:
	pause
	lfence
	jmp %%trap1
%%one:
	call %%two
%%trap2:
	pause
	lfence
	jmp %%trap2
%%two:
	dec ecx
	jnz %%loop
	add rsp, RSB_ENTRIES * 8
	lfence
%endmacro

section .rodata
verw_selector: dw 0x10              ; uhv's data segment (desc.h SEL_DATA)

section .text
global vmx_run:function hidden
global vmx_exit_entry:function hidden

vmx_run:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push rdi                    ; regs
	push rdx                    ; on_exit
	push rcx                    ; ctx
	mov rax, VMCS_HOST_RSP
	vmwrite rax, rsp
	ENTRY_MITIGATIONS
	test esi, esi               ; flags survive the loads below
	LOAD_GUEST
	jnz .resume
	vmlaunch
	mov eax, 2                  ; VMLAUNCH failed: still not launched
	jmp vmx_return
.resume:
	vmresume
vmx_failed:                         ; VMfail: back on the host stack
	mov eax, 1
	jmp vmx_return

vmx_exit_entry:                     ; the VMCS host RIP
	push rdi                    ; guest RDI; regs[] is now at [rsp + 24]
	mov rdi, [rsp + 24]
	mov R(G_RAX), rax
	mov R(G_RCX), rcx
	mov R(G_RDX), rdx
	mov R(G_RBX), rbx
	mov R(G_RBP), rbp
	mov R(G_RSI), rsi
	mov R(8),  r8
	mov R(9),  r9
	mov R(10), r10
	mov R(11), r11
	mov R(12), r12
	mov R(13), r13
	mov R(14), r14
	mov R(15), r15
	pop rax
	mov R(G_RDI), rax
	mov rdi, [rsp]              ; ctx
	call [rsp + 8]              ; on_exit(ctx)
	test eax, eax
	jnz .leave
	mov rdi, [rsp + 16]
	ENTRY_MITIGATIONS
	LOAD_GUEST
	vmresume
	jmp vmx_failed
.leave:                             ; to vmx_run's caller: RSB first
	mov rdi, [rsp + 16]
	test byte [rdi + SPEC_OFF], SPEC_EXIT_RSB_FILL
	jz .no_rsb_fill
	RSB_FILL
	inc qword [rdi + RSB_FILLS_OFF]
.no_rsb_fill:
	xor eax, eax
vmx_return:
	add rsp, 24                 ; ctx, on_exit, regs
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret
