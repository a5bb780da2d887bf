; crt0.asm - Multiboot v1 entry shared by every guest test.
;
; Contract: entered per Multiboot v1 (32-bit protected mode, paging off,
; EAX = 0x2BADB002, EBX = Multiboot info).  Saves the TSC first thing (for
; the bench guest's boot-cost figure), zeroes .bss, sets up a stack and calls
; guest_main(magic, mbi).  If guest_main returns, the CPU halts forever.

MB_HEADER_MAGIC    equ 0x1BADB002
MB_FLAG_PAGE_ALIGN equ 1 << 0           ; modules page aligned (we load none)
MB_FLAG_MEM_INFO   equ 1 << 1           ; ask for mem_* and mmap_* fields
MB_HEADER_FLAGS    equ MB_FLAG_PAGE_ALIGN | MB_FLAG_MEM_INFO
STACK_SIZE         equ 16384

bits 32

; The linker script puts this section first, so it lies in the first 8 KiB.
section .multiboot progbits alloc noexec nowrite align=4
        dd MB_HEADER_MAGIC
        dd MB_HEADER_FLAGS
        dd -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

; In .data, not .bss: it is written before .bss is zeroed.
section .data
global boot_tsc
align 8
boot_tsc:       dq 0

section .bss
align 16
stack_bottom:   resb STACK_SIZE
stack_top:

section .text
global _start
extern guest_main
extern __bss_start
extern __bss_end

_start:
        mov esi, eax                    ; keep the magic: RDTSC clobbers EAX
        rdtsc                           ; first real work: sample the TSC
        mov [boot_tsc], eax
        mov [boot_tsc + 4], edx
        cli
        cld
        mov edi, __bss_start            ; zero .bss (EBX, ESI untouched)
        mov ecx, __bss_end
        sub ecx, edi
        xor eax, eax
        rep stosb
        mov esp, stack_top
        push ebx                        ; guest_main(magic, mbi)
        push esi
        call guest_main
.halt:
        cli
        hlt
        jmp .halt

; Tell the linker this object does not need an executable stack.
section .note.GNU-stack noalloc noexec nowrite progbits
