/* fw_cfg.h - reads from the QEMU-style firmware config device. */
#ifndef GUEST_FW_CFG_H
#define GUEST_FW_CFG_H

#include "types.h"

void fw_cfg_read(u16 key, void *buf, u32 len);
u16 fw_cfg_read_u16(u16 key);
u64 fw_cfg_read_u64(u16 key);

#endif
