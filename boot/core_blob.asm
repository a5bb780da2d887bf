; The hypervisor core (build/uhv-core.elf without debug info) embedded
; in the UEFI loader, so that BOOTX64.EFI is the only file uhv needs.
; The symbols are hidden so the PIC loader reaches them without a GOT.
bits 64
section .rodata
align 16
global core_elf_start:data hidden
global core_elf_end:data hidden
core_elf_start:
	incbin CORE_ELF
core_elf_end:
