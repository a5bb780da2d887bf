/* intr.c - the IDT and the C side of interrupt dispatch (see intr.h). */
#include "intr.h"
#include "result.h"

#define GATE_INTR32      0x8e     /* present, DPL 0, 32-bit interrupt gate */
#define LOW16            0xffffu
#define HIGH_SHIFT       16

/* A protected-mode gate descriptor (SDM Vol. 3A §6.11, Figure 6-2). */
struct gate {
    u16 offset_lo;
    u16 selector;
    u8 zero;
    u8 type;
    u16 offset_hi;
} __attribute__((packed));

/* The operand of LIDT: limit, then 32-bit linear base. */
struct idt_pointer {
    u16 limit;
    u32 base;
} __attribute__((packed));

extern const u32 intr_stub_table[IDT_VECTORS];   /* intr_stubs.asm */
void intr_load_gdt(void);                         /* intr_stubs.asm */

static struct gate idt[IDT_VECTORS] __attribute__((aligned(8)));
static intr_handler handlers[IDT_VECTORS];
static const char *test_name = "intr";
volatile u32 intr_count[IDT_VECTORS];

/* Called by intr_stubs.asm for every vector: count, then the handler; an
 * exception nobody expected ends the test, since returning would only
 * repeat the faulting instruction. */
void intr_dispatch(struct intr_frame *f);
void intr_dispatch(struct intr_frame *f)
{
    u32 v = f->vector & (IDT_VECTORS - 1);

    intr_count[v]++;
    if (handlers[v]) {
        handlers[v](f);
        return;
    }
    if (v < FIRST_EXT_VECTOR)
        fail(test_name, "unexpected exception %u at eip 0x%x, error code 0x%x",
             v, f->eip, f->error);
}

/* Load our own GDT, fill every gate with its stub and load the IDT; see
 * intr.h. */
void intr_init(const char *name)
{
    u16 cs;
    struct idt_pointer p = { sizeof(idt) - 1, (u32)idt };

    intr_load_gdt();
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    test_name = name;
    for (u32 v = 0; v < IDT_VECTORS; v++) {
        u32 a = intr_stub_table[v];
        idt[v] = (struct gate){ (u16)(a & LOW16), cs, 0, GATE_INTR32,
                                (u16)(a >> HIGH_SHIFT) };
        handlers[v] = 0;
        intr_count[v] = 0;
    }
    __asm__ volatile("lidt %0" : : "m"(p) : "memory");
}

/* Install fn for vector; see intr.h. */
void intr_set_handler(u8 vector, intr_handler fn)
{
    handlers[vector] = fn;
}
