/* fw_cfg.c - legacy I/O fw_cfg: select a key, then read its bytes one at
 * a time from the data port (each byte is a VM exit under uhv). */
#include "fw_cfg.h"
#include "abi.h"
#include "io.h"

/* Select key and copy its first len bytes into buf. */
void fw_cfg_read(u16 key, void *buf, u32 len)
{
    u8 *p = buf;
    outw(FW_CFG_PORT_SEL, key);
    while (len--)
        *p++ = inb(FW_CFG_PORT_DATA);
}

/* Read a little-endian u16 item (e.g. FW_CFG_NB_CPUS). */
u16 fw_cfg_read_u16(u16 key)
{
    u8 b[2];
    fw_cfg_read(key, b, sizeof b);
    return (u16)(b[0] | b[1] << 8);
}

/* Read a little-endian u64 item (e.g. FW_CFG_RAM_SIZE). */
u64 fw_cfg_read_u64(u16 key)
{
    u8 b[8];
    u64 v = 0;
    fw_cfg_read(key, b, sizeof b);
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}
