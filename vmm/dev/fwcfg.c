#include "vmm/dev/fwcfg.h"

#define PORT_SELECTOR 0
#define PORT_DATA     1
#define FW_CFG_ID_TRADITIONAL 1   /* bit 0: the byte-wise interface */

/* Byte i of the selected item, little endian; 0 past its end. */
static u8 item_byte(const struct fwcfg *f, u32 i)
{
	static const char sig[4] = { 'Q', 'E', 'M', 'U' };
	u64 v;
	u32 len;

	switch (f->selector) {
	case FW_CFG_SIGNATURE: return i < sizeof(sig) ? (u8)sig[i] : 0;
	case FW_CFG_ID:        v = FW_CFG_ID_TRADITIONAL; len = 4; break;
	case FW_CFG_RAM_SIZE:  v = f->ram_size; len = 8; break;
	case FW_CFG_NB_CPUS:   v = f->nr_cpus; len = 2; break;
	default:               return 0;
	}
	return i < len ? (u8)(v >> (8 * i)) : 0;
}

u64 fwcfg_read(void *dev, u64 off, unsigned size)
{
	struct fwcfg *f = dev;
	u64 v = 0;

	if (off != PORT_DATA)
		return ~0ULL;
	for (unsigned i = 0; i < size; i++)
		v |= (u64)item_byte(f, f->offset++) << (8 * i);
	return v;
}

void fwcfg_write(void *dev, u64 off, unsigned size, u64 val)
{
	struct fwcfg *f = dev;

	(void)size;
	if (off == PORT_SELECTOR) {
		f->selector = (u16)val;
		f->offset = 0;
	}
}
