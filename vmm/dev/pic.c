/*
 * 8259A programming model (Intel 8259A datasheet): a write to the command
 * port with bit 4 set is ICW1 and starts initialisation; ICW2-ICW4 follow
 * on the data port. Otherwise the data port is the mask register (OCW1)
 * and the command port takes OCW2 (EOI) and OCW3 (read IRR/ISR).
 */
#include "vmm/dev/pic.h"

#define ICW1_START    0x10
#define ICW1_NEED_ICW4 0x01
#define ICW1_SINGLE   0x02
#define OCW3_SELECT   0x08
#define OCW3_READ_REG 0x02
#define OCW3_READ_ISR 0x01
#define ELCR_MASTER_VALID 0xf8     /* IRQ 0-2 are always edge */
#define ELCR_SLAVE_VALID  0xde     /* IRQ 8 and 13 are always edge */

void pic_init(struct pic *p)
{
	*p = (struct pic){ 0 };
	p->chip[0].imr = p->chip[1].imr = 0xff;
}

u64 pic_read(void *dev, u64 off, unsigned size)
{
	struct pic_chip *c = dev;

	(void)size;
	if (off == 1)
		return c->imr;
	return 0;            /* IRR and ISR: nothing is ever pending */
}

void pic_write(void *dev, u64 off, unsigned size, u64 val)
{
	struct pic_chip *c = dev;
	u8 v = (u8)val;

	(void)size;
	if (off == 0) {
		if (v & ICW1_START) {
			c->icw_step = 2;
			c->icw4_needed = v & ICW1_NEED_ICW4;
			c->single = v & ICW1_SINGLE;
			c->imr = 0;                   /* ICW1 clears the mask */
		} else if ((v & OCW3_SELECT) && (v & OCW3_READ_REG)) {
			c->read_isr = v & OCW3_READ_ISR;
		}
		return;               /* OCW2 (EOI): nothing is in service */
	}
	switch (c->icw_step) {
	case 2:
		c->vector_base = v & 0xf8;
		/* in single mode (ICW1.SNGL) there is no ICW3 */
		c->icw_step = c->single ? (c->icw4_needed ? 4 : 0) : 3;
		break;
	case 3:
		c->icw_step = c->icw4_needed ? 4 : 0;
		break;
	case 4:
		c->icw_step = 0;
		break;
	default:
		c->imr = v;
	}
}

u64 pic_elcr_read(void *dev, u64 off, unsigned size)
{
	struct pic *p = dev;

	(void)size;
	return p->chip[off & 1].elcr;
}

void pic_elcr_write(void *dev, u64 off, unsigned size, u64 val)
{
	struct pic *p = dev;

	(void)size;
	p->chip[off & 1].elcr = (u8)val & (off & 1 ? ELCR_SLAVE_VALID
						   : ELCR_MASTER_VALID);
}
