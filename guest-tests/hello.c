/* hello - the smoke test: Multiboot info and fw_cfg arrive and agree.
 * Prints the cmdline, the memory map and what fw_cfg says; passes if the
 * magic is right, fw_cfg says "QEMU" and its RAM size matches Multiboot's
 * (mem_upper * 1 KiB + 1 MiB), both rounded up to whole MiB: loaders may
 * keep the top few KiB back (QEMU's BIOS reserves the last 128 KiB). */
#include "guest.h"

#define NAME "hello"

/* Bytes rounded up to whole MiB. */
static u64 mib_ceil(u64 bytes)
{
    return (bytes + MIB - 1) / MIB;
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    gprintf("hello from %s\n", mb_cmdline(mbi));
    gprintf("multiboot flags 0x%x mem_lower %u KiB mem_upper %u KiB\n",
            mbi->flags, mbi->mem_lower, mbi->mem_upper);
    mb_print_mmap(mbi);

    char sig[FW_CFG_SIG_LEN + 1] = { 0 };
    fw_cfg_read(FW_CFG_SIGNATURE, sig, FW_CFG_SIG_LEN);
    u64 fw_ram = fw_cfg_read_u64(FW_CFG_RAM_SIZE);
    u16 cpus = fw_cfg_read_u16(FW_CFG_NB_CPUS);
    gprintf("fw_cfg signature \"%s\" ram %llu bytes (%llu MiB) cpus %u\n",
            sig, fw_ram, mib_ceil(fw_ram), cpus);

    u64 mb_ram = mb_mem_bytes(mbi);
    if (!mb_ram)
        fail(NAME, "no multiboot memory info (flags 0x%x)", mbi->flags);
    gprintf("multiboot ram %llu bytes (%llu MiB rounded up)\n",
            mb_ram, mib_ceil(mb_ram));
    if (memcmp(sig, FW_CFG_SIG_VALUE, FW_CFG_SIG_LEN))
        fail(NAME, "fw_cfg signature is \"%s\", not \"%s\"", sig,
             FW_CFG_SIG_VALUE);
    if (mib_ceil(fw_ram) != mib_ceil(mb_ram))
        fail(NAME, "fw_cfg ram %llu MiB != multiboot ram %llu MiB",
             mib_ceil(fw_ram), mib_ceil(mb_ram));
    pass(NAME);
}
