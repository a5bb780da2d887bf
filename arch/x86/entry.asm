; Run a C function on another stack: arch_call_on_stack(stack_top, fn,
; arg) loads RSP with stack_top and calls fn(arg); fn must not return
; (if it does, the CPU halts here). The core's entry (vmm/main.c,
; uhv_entry) starts on the loader's stack and uses this to move to its
; own; arch/ never names the function it calls (docs/layering.md).
; SysV AMD64 ABI: RDI = stack_top, RSI = fn, RDX = arg.
bits 64
default rel

section .text
global arch_call_on_stack

arch_call_on_stack:
	mov rsp, rdi           ; 16-byte aligned: the call pushes 8, as C expects
	xor ebp, ebp           ; end of the frame chain for a debugger
	mov rdi, rdx
	call rsi
.hang:
	cli
	hlt
	jmp .hang
