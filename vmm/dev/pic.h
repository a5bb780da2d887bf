/*
 * The legacy 8259A interrupt controller pair (ports 0x20-0x21, 0xA0-0xA1)
 * and the edge/level control registers (0x4D0-0x4D1), present so an OS can
 * probe, initialise and mask them, but never delivering an interrupt: uhv
 * routes every interrupt through the I/O APIC, and its MADT says so.
 */
#ifndef UHV_VMM_PIC_H
#define UHV_VMM_PIC_H

#include "lib/types.h"

#define PIC_MASTER_PORT 0x20
#define PIC_SLAVE_PORT  0xa0
#define PIC_PORT_LEN    2
#define PIC_ELCR_PORT   0x4d0
#define PIC_ELCR_LEN    2

struct pic_chip {
	u8 imr;              /* interrupt mask register */
	u8 icw_step;         /* 0: initialised; 2-4: next ICW expected */
	bool icw4_needed;
	bool single;         /* ICW1.SNGL: no cascade, so no ICW3 */
	bool read_isr;       /* OCW3: next command-port read returns ISR */
	u8 vector_base;
	u8 elcr;
};

struct pic {
	struct pic_chip chip[2];
};

void pic_init(struct pic *p);
u64 pic_read(void *dev, u64 off, unsigned size);      /* dev: a pic_chip */
void pic_write(void *dev, u64 off, unsigned size, u64 val);
u64 pic_elcr_read(void *dev, u64 off, unsigned size); /* dev: a pic */
void pic_elcr_write(void *dev, u64 off, unsigned size, u64 val);

#endif
