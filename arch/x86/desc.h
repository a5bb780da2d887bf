/*
 * uhv's own descriptor tables: GDT (with a 64-bit TSS), IDT and TSS.
 * The firmware's tables live in boot-services memory that uhv reuses, so
 * these are installed before anything else happens.
 */
#ifndef UHV_ARCH_DESC_H
#define UHV_ARCH_DESC_H

#include "lib/types.h"

#define SEL_NULL   0x00
#define SEL_CODE64 0x08
#define SEL_DATA   0x10
#define SEL_TSS    0x18

struct desc_ptr {
	u16 limit;
	u64 base;
} __attribute__((packed));

/* Loads the GDT, segment registers, TSS and IDT (exception stubs). */
void desc_init(void);
/* Current GDTR/IDTR bases and the TSS base, for the VMCS host area. */
u64 desc_gdt_base(void);
u64 desc_idt_base(void);
u64 desc_tss_base(void);

#endif
