; VM entry and exit (SDM Vol. 3C ch. 27-28).
;
; int vmx_enter(u64 *regs /* rdi */, int launched /* esi */)
;   Saves uhv's callee-saved registers, records RSP as the VMCS host RSP,
;   loads the guest's general-purpose registers from regs[] (x86 register
;   order, see enum arch_gpr) and enters the guest. Returns 0 after a VM
;   exit with the guest registers stored back into regs[], or 1 if
;   VMLAUNCH/VMRESUME failed (VMfail: the guest never ran).
bits 64
default rel

VMCS_HOST_RSP equ 0x6c14

%define R(n) [rdi + (n) * 8]
G_RAX equ 0
G_RCX equ 1
G_RDX equ 2
G_RBX equ 3
G_RBP equ 5
G_RSI equ 6
G_RDI equ 7

section .text
global vmx_enter:function hidden
global vmx_exit_entry:function hidden

vmx_enter:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push rdi                    ; the exit path finds regs[] here
	mov rax, VMCS_HOST_RSP
	vmwrite rax, rsp
	test esi, esi               ; flags survive the loads below
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
	jnz .resume
	vmlaunch
	jmp .failed
.resume:
	vmresume
.failed:                            ; VMfail: back on the host stack
	pop rdi
	mov eax, 1
	jmp vmx_return

vmx_exit_entry:                     ; the VMCS host RIP
	push rdi                    ; guest RDI, then regs[] is at [rsp + 8]
	mov rdi, [rsp + 8]
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
	add rsp, 8                  ; drop the saved regs pointer
	xor eax, eax
vmx_return:
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret
