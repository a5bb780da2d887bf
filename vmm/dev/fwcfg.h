/*
 * A minimal QEMU fw_cfg device (docs/specs/fw_cfg.rst in QEMU): a 16-bit
 * selector port at 0x510 and an 8-bit data port at 0x511 that streams the
 * selected item byte by byte. Items: signature, id, RAM size, CPU count.
 */
#ifndef UHV_VMM_FWCFG_H
#define UHV_VMM_FWCFG_H

#include "lib/types.h"

#define FWCFG_PORT_BASE 0x510
#define FWCFG_PORT_LEN  2

#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_ID        0x0001
#define FW_CFG_RAM_SIZE  0x0003
#define FW_CFG_NB_CPUS   0x0005

struct fwcfg {
	u16 selector;
	u32 offset;
	u64 ram_size;
	u16 nr_cpus;
};

u64 fwcfg_read(void *dev, u64 off, unsigned size);
void fwcfg_write(void *dev, u64 off, unsigned size, u64 val);

#endif
