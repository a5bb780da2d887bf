/* intr.h - interrupts for guest tests: a flat GDT of our own (Multiboot
 * leaves GDTR undefined), a 256-entry IDT of interrupt gates (stubs in
 * intr_stubs.asm, Intel SDM Vol. 3A §6.11), per-vector C handlers and
 * counters, and the STI/CLI/HLT helpers. */
#ifndef GUEST_INTR_H
#define GUEST_INTR_H

#include "types.h"

#define IDT_VECTORS      256
#define FIRST_EXT_VECTOR 32     /* 0-31 are exceptions (SDM Vol. 3A §6.2) */
#define EXC_GP           13     /* general protection, pushes an error code */
#define EFLAGS_IF        (1u << 9)

/* What intr_stubs.asm leaves on the stack, lowest address first: PUSHAD's
 * registers, the vector, the error code (0 if none), then what the CPU
 * pushed for a same-privilege interrupt (EIP, CS, EFLAGS). */
struct intr_frame {
    u32 edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
    u32 vector, error;
    u32 eip, cs, eflags;
};

typedef void (*intr_handler)(struct intr_frame *f);

/* Times each vector was taken since intr_init. */
extern volatile u32 intr_count[IDT_VECTORS];

/* Load the GDT, then build and load the IDT.  Exceptions without a handler stop the test:
 * FAIL <name>: unexpected exception ...  Other vectors without one are
 * only counted. */
void intr_init(const char *name);

/* Call fn (or nothing, when NULL) for vector; runs with interrupts off. */
void intr_set_handler(u8 vector, intr_handler fn);

/* Let interrupts in. */
static inline void irq_enable(void)
{
    __asm__ volatile("sti" ::: "memory");
}

/* Keep interrupts out. */
static inline void irq_disable(void)
{
    __asm__ volatile("cli" ::: "memory");
}

/* Sleep until an interrupt arrives and has been handled.  STI's one
 * instruction of interrupt shadow (SDM Vol. 2B, STI) covers the HLT, so an
 * interrupt that is already pending wakes the HLT rather than slipping in
 * between the two and leaving the CPU asleep.  Returns with IF set. */
static inline void sti_hlt(void)
{
    __asm__ volatile("sti; hlt" ::: "memory");
}

/* EFLAGS now. */
static inline u32 read_eflags(void)
{
    u32 f;
    __asm__ volatile("pushfl; popl %0" : "=r"(f));
    return f;
}

#endif
