; ap_tramp.asm - where an application processor starts after INIT and a
; STARTUP IPI (Intel SDM Vol. 3A §9.4.4, the MP initialization protocol):
; real mode at CS:IP = (vector << 8):0000.  The code is position
; independent (it reaches its report through CS), so a test copies the
; whole blob, ap_boot_start to ap_boot_end, to any page below 1 MiB and
; sends that page's number as the STARTUP vector.
;
; It records what CPUID tells this CPU about itself in the report at the
; end of the blob (struct ap_report in ap_boot.h, same order): the
; highest basic leaf, leaf 1 EBX, ECX and EDX, leaf 0BH subleaf 0 EDX
; (the x2APIC id; 0 is read only where the highest leaf allows 0BH), then
; writes AP_REPORT_DONE to `done` last and halts, interrupts off, for good.

AP_REPORT_DONE  equ 0x600d0a9e          ; ap_boot.h has the same value
LEAF_FEATURES   equ 1
LEAF_X2APIC     equ 0xb

bits 16
section .text

global ap_boot_start
global ap_boot_report
global ap_boot_end

ap_boot_start:
        cli
        xor eax, eax
        xor ecx, ecx
        cpuid
        mov [cs:rep_max_leaf - ap_boot_start], eax
        cmp eax, LEAF_X2APIC
        jb .leaf1
        mov eax, LEAF_X2APIC
        xor ecx, ecx
        cpuid
        mov [cs:rep_leafb_edx - ap_boot_start], edx
.leaf1:
        mov eax, LEAF_FEATURES
        xor ecx, ecx
        cpuid
        mov [cs:rep_leaf1_ebx - ap_boot_start], ebx
        mov [cs:rep_leaf1_ecx - ap_boot_start], ecx
        mov [cs:rep_leaf1_edx - ap_boot_start], edx
        mov dword [cs:rep_done - ap_boot_start], AP_REPORT_DONE
.halt:
        hlt
        jmp .halt

align 4
ap_boot_report:
rep_max_leaf:   dd 0
rep_leaf1_ebx:  dd 0
rep_leaf1_ecx:  dd 0
rep_leaf1_edx:  dd 0
rep_leafb_edx:  dd 0
rep_done:       dd 0
ap_boot_end:

; Tell the linker this object does not need an executable stack.
section .note.GNU-stack noalloc noexec nowrite progbits
