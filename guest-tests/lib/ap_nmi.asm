; ap_nmi.asm - an application processor that waits for NMIs (guest-tests/
; nmi_ipi.c).  It starts after INIT and a STARTUP IPI in real mode at
; CS:IP = (vector << 8):0000 (Intel SDM Vol. 3A §9.4.4), position
; independent like ap_tramp.asm (everything through CS), so a test copies
; ap_nmi_start..ap_nmi_end to any free page below 1 MiB.
;
; It points the real-mode IVT's entry 2 (the NMI, at 0:8; Vol. 3A §20.1.4)
; at its handler, takes a stack of its own in the blob, writes
; AP_NMI_READY to `ready`, then halts with interrupts off, for good: only
; an NMI can wake it.  The handler counts in `nmis` and IRETs; each time
; the HLT resumes it counts in `wakes` and halts again.  The report (struct
; ap_nmi_report in nmi_ipi.c, same order) is at ap_nmi_report.

AP_NMI_READY    equ 0x4e4d4921          ; nmi_ipi.c has the same value
IVT_NMI_OFF     equ 2 * 4               ; IVT entry 2: offset, then segment
IVT_NMI_SEG     equ 2 * 4 + 2

bits 16
section .text

global ap_nmi_start
global ap_nmi_report
global ap_nmi_end

ap_nmi_start:
        cli
        xor ax, ax
        mov ds, ax
        mov word [IVT_NMI_OFF], nmi_handler - ap_nmi_start
        mov [IVT_NMI_SEG], cs
        mov ax, cs
        mov ss, ax
        mov sp, stack_top - ap_nmi_start
        mov dword [cs:rep_ready - ap_nmi_start], AP_NMI_READY
.halt:
        hlt
        inc dword [cs:rep_wakes - ap_nmi_start]
        jmp .halt

nmi_handler:
        inc dword [cs:rep_nmis - ap_nmi_start]
        iret

align 4
ap_nmi_report:
rep_ready:      dd 0
rep_nmis:       dd 0
rep_wakes:      dd 0
stack:          times 128 db 0
stack_top:
ap_nmi_end:

; Tell the linker this object does not need an executable stack.
section .note.GNU-stack noalloc noexec nowrite progbits
