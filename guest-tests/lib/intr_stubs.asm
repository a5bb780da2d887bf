; intr_stubs.asm - one entry stub per IDT vector (0-255) for guest tests.
;
; Contract: each stub makes the stack look the same whatever the vector
; (CPU-pushed error code or a 0 in its place, then the vector), saves the
; general registers with PUSHAD and calls intr_dispatch(struct intr_frame *)
; (intr.c) with interrupts still off (the IDT holds interrupt gates).  When
; it returns, the registers - and EIP/EFLAGS, which a handler may change to
; step over a faulting instruction - are restored and IRET resumes.
; intr_stub_table[v] is stub v's address, for intr.c to build the gates.
;
;
; intr_load_gdt() gives the guest a GDT of its own first: Multiboot leaves
; GDTR undefined (Multiboot 0.6.96 §3.2, "Machine state"), and delivering
; an interrupt reads the gate's CS descriptor from the GDT.
;
; Only exceptions 8, 10-14, 17, 21, 29 and 30 push an error code
; (Intel SDM Vol. 3A §6.13, Table 6-1); external interrupts never do.

bits 32

CODE_SEL    equ 0x08                    ; GDT entry 1
DATA_SEL    equ 0x10                    ; GDT entry 2

section .text
extern intr_dispatch
global intr_load_gdt

; Loads the flat GDT below and reloads every segment register from it
; (CS with a far jump); the bases stay 0, so nothing moves.
intr_load_gdt:
        lgdt [gdt_pointer]
        jmp CODE_SEL:.reload_cs
.reload_cs:
        mov ax, DATA_SEL
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        ret

; Vectors whose exception pushes an error code.
%macro STUB 1
intr_stub_%1:
%if %1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17 || %1 == 21 || %1 == 29 || %1 == 30
%else
        push dword 0                    ; no error code: keep the layout
%endif
        push dword %1                   ; the vector
        jmp intr_common
%endmacro

%assign vec 0
%rep 256
STUB vec
%assign vec vec + 1
%endrep

; Saves the registers, calls the C dispatcher with a pointer to the frame,
; restores, drops vector and error code, returns from the interrupt.
intr_common:
        pushad
        cld                             ; the C ABI wants DF clear
        push esp                        ; struct intr_frame *
        call intr_dispatch
        add esp, 4
        popad
        add esp, 8                      ; vector and error code
        iretd

section .rodata
; Flat 4 GiB segments (SDM Vol. 3A §3.4.5): base 0, limit 0xFFFFF with 4 KiB
; granularity, 32-bit; access byte 0x9A code (execute/read), 0x92 data.
align 8
gdt:
        dq 0                            ; the null descriptor
        dq 0x00CF9A000000FFFF           ; CODE_SEL
        dq 0x00CF92000000FFFF           ; DATA_SEL
gdt_end:
gdt_pointer:
        dw gdt_end - gdt - 1
        dd gdt

global intr_stub_table
align 4
intr_stub_table:
%assign vec 0
%rep 256
        dd intr_stub_ %+ vec
%assign vec vec + 1
%endrep

; Tell the linker this object does not need an executable stack.
section .note.GNU-stack noalloc noexec nowrite progbits
