/* guest.h - everything a guest test includes.  Each test defines
 * guest_main(), called by crt0 with the Multiboot magic and info. */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include "abi.h"
#include "apic.h"
#include "cmdline.h"
#include "cpu.h"
#include "fw_cfg.h"
#include "intr.h"
#include "io.h"
#include "msr.h"
#include "multiboot.h"
#include "result.h"
#include "serial.h"
#include "tsc.h"
#include "types.h"
#include "util.h"

void guest_main(u32 magic, const struct mb_info *mbi);

/* Fail test name unless the loader was Multiboot (every test starts so). */
static inline void require_multiboot(const char *name, u32 magic)
{
    if (!mb_magic_ok(magic))
        fail(name, "bad multiboot magic 0x%x", magic);
}

#endif
