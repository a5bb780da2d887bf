/* isolation - nothing of the host or of other VMs is reachable beyond this
 * VM's RAM.  Reads every 4 KiB from RAM end to RAM end + 16 MiB and a few
 * high addresses: all must read all ones.  Then writes a pattern to part of
 * them and reads back: writes must be discarded (still all ones).  About
 * 4,600 accesses in all, each a VM exit under uhv.  May fail under QEMU,
 * whose unassigned memory reads differently.
 * With `after-key` it probes nothing until a 'g' (go) is typed at it on
 * uhv's console, waiting at most wait=N ticks (default 3000000000): the
 * harness types it once the canary beside it says its pattern is complete
 * (tests/system/isolation.test), so no probe can come before the canary
 * is filled, whatever the scheduler does.  "probes done" follows the
 * check that every access read all ones. */
#include "guest.h"

#define NAME "isolation"
#define PROBE_SPAN      (16u * MIB)      /* probed window above RAM end */
#define READ_STRIDE     PAGE_SIZE        /* read every page of the window */
#define WRITE_STRIDE    (64u * KIB)      /* write/read back every 16th */
#define PROBE_LIMIT     0xFEC00000u      /* I/O APIC and up: real devices */
#define WRITE_SALT      0xBADC0FEEu      /* written value = addr ^ salt */
#define WAIT_DEFAULT    3000000000ull    /* ticks to wait for the go */
#define KEY_GO          'g'

static const u32 high_addrs[] = { 0x40000000u, 0x80000000u, 0xC0000000u };

struct probe_stats {
    u32 accesses, bad;
    u32 first_bad_addr, first_bad_val;
};

/* Read the word at addr; count it and remember the first non-all-ones. */
static void probe_read(struct probe_stats *st, u32 addr)
{
    u32 v = *(volatile u32 *)(uintptr_t)addr;
    st->accesses++;
    if (v != BUS_FLOAT && st->bad++ == 0) {
        st->first_bad_addr = addr;
        st->first_bad_val = v;
    }
}

/* Write a pattern to addr (must be dropped), then read it back. */
static void probe_write(struct probe_stats *st, u32 addr)
{
    *(volatile u32 *)(uintptr_t)addr = addr ^ WRITE_SALT;
    st->accesses++;
    probe_read(st, addr);
}

/* RAM end: the largest of what the memory map, mem_upper and fw_cfg say,
 * rounded up to a page, so no probe ever lands in our own RAM. */
static u64 ram_end(const struct mb_info *mbi)
{
    u64 end = mb_ram_end(mbi), mem = mb_mem_bytes(mbi);
    char sig[FW_CFG_SIG_LEN];
    fw_cfg_read(FW_CFG_SIGNATURE, sig, FW_CFG_SIG_LEN);
    u64 fw = memcmp(sig, FW_CFG_SIG_VALUE, FW_CFG_SIG_LEN)
                 ? 0 : fw_cfg_read_u64(FW_CFG_RAM_SIZE);
    if (mem > end)
        end = mem;
    if (fw > end)
        end = fw;
    return (end + PAGE_SIZE - 1) & ~(u64)(PAGE_SIZE - 1);
}

/* after-key: nothing until the harness types 'g' (see the file comment). */
static void wait_for_go(u64 wait)
{
    gprintf("waiting up to %llu ticks for '%c' (the canary is filled)\n",
            wait, KEY_GO);
    int c = serial_getc_until(rdtsc() + wait);
    if (c < 0)
        fail(NAME, "no '%c' typed within %llu ticks", KEY_GO, wait);
    if (c != KEY_GO)
        fail(NAME, "typed 0x%x, want '%c' (go)", (u32)c, KEY_GO);
    gprintf("got '%c': probing from now on\n", KEY_GO);
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    const char *cmd = mb_cmdline(mbi);
    if (cmdline_has(cmd, "after-key"))
        wait_for_go(cmdline_u64(cmd, "wait", WAIT_DEFAULT));
    u64 end = ram_end(mbi);
    if (end >= PROBE_LIMIT)
        fail(NAME, "RAM end 0x%llx leaves nothing to probe", end);
    u32 lo = (u32)end;
    u32 hi = end + PROBE_SPAN > PROBE_LIMIT ? PROBE_LIMIT : lo + PROBE_SPAN;
    gprintf("ram end 0x%08x, probing 0x%08x..0x%08x\n", lo, lo, hi);

    struct probe_stats st = { 0 };
    for (u32 a = lo; a < hi; a += READ_STRIDE)
        probe_read(&st, a);
    gprintf("reads: %u, not all ones: %u\n", st.accesses, st.bad);
    for (u32 a = lo; a < hi; a += WRITE_STRIDE)
        probe_write(&st, a);
    for (u32 i = 0; i < ARRAY_LEN(high_addrs); i++) {
        if (high_addrs[i] < hi)
            continue;                    /* RAM, or probed already */
        gprintf("high address 0x%08x\n", high_addrs[i]);
        probe_read(&st, high_addrs[i]);
        probe_write(&st, high_addrs[i]);
    }
    if (st.bad)
        fail(NAME, "%u of %u accesses not all ones, first 0x%08x = 0x%08x",
             st.bad, st.accesses, st.first_bad_addr, st.first_bad_val);
    gprintf("probes done: %u accesses, every read all ones\n", st.accesses);
    pass(NAME);
}
