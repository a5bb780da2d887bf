/* multiboot.c - reading the Multiboot v1 info the loader handed us. */
#include "multiboot.h"
#include "abi.h"
#include "serial.h"

/* Highest usable address + 1 for the RAM tests: 32-bit physical (paging
 * off), less the top page so that region sizes fit in a u32. */
#define RAM_TEST_LIMIT 0xFFFFF000ull

/* True if EAX at entry said we were loaded by a Multiboot loader. */
bool mb_magic_ok(u32 magic)
{
    return magic == MB_BOOT_MAGIC;
}

/* The kernel command line, or "" if the loader gave none. */
const char *mb_cmdline(const struct mb_info *mbi)
{
    if (!(mbi->flags & MB_INFO_CMDLINE) || !mbi->cmdline)
        return "";
    return (const char *)(uintptr_t)mbi->cmdline;
}

/* RAM size implied by mem_upper (KiB above 1 MiB); 0 if not provided. */
u64 mb_mem_bytes(const struct mb_info *mbi)
{
    if (!(mbi->flags & MB_INFO_MEM))
        return 0;
    return (u64)mbi->mem_upper * KIB + MB_MEM_UPPER_BASE;
}

/* Walk the memory map: the first entry when prev is NULL, else the one
 * after prev; NULL at the end or if there is no map.  Entries are
 * variable-sized: each starts with its size, not counting the size field. */
const struct mb_mmap_entry *mb_mmap_next(const struct mb_info *mbi,
                                         const struct mb_mmap_entry *prev)
{
    if (!(mbi->flags & MB_INFO_MMAP))
        return NULL;
    uintptr_t start = mbi->mmap_addr, end = start + mbi->mmap_length;
    uintptr_t next = prev ? (uintptr_t)prev + prev->size + sizeof prev->size
                          : start;
    if (next + sizeof(struct mb_mmap_entry) > end)
        return NULL;
    return (const struct mb_mmap_entry *)next;
}

/* End of RAM: the highest end of any usable mmap entry, or the mem_upper
 * figure when there is no map. */
u64 mb_ram_end(const struct mb_info *mbi)
{
    u64 end = 0;
    const struct mb_mmap_entry *e = NULL;
    bool have_map = false;
    while ((e = mb_mmap_next(mbi, e))) {
        have_map = true;
        if (e->type == MB_MMAP_AVAILABLE && e->base + e->length > end)
            end = e->base + e->length;
    }
    return have_map ? end : mb_mem_bytes(mbi);
}

/* Collect usable RAM at or above floor, clipped to 32-bit addresses and
 * 4-byte aligned, into out (at most max).  Falls back to mem_upper when
 * there is no map.  Returns the count.  Copying matters: the info lies in
 * RAM the tests are about to overwrite. */
u32 mb_ram_regions(const struct mb_info *mbi, u32 floor,
                   struct ram_region *out, u32 max)
{
    u32 n = 0;
    const struct mb_mmap_entry *e = NULL;
    struct mb_mmap_entry fallback = {
        sizeof fallback - sizeof fallback.size, MB_MEM_UPPER_BASE,
        mb_mem_bytes(mbi) - MB_MEM_UPPER_BASE, MB_MMAP_AVAILABLE
    };
    bool have_map = mb_mmap_next(mbi, NULL) != NULL;
    if (!have_map && fallback.base + fallback.length <= MB_MEM_UPPER_BASE)
        return 0;                       /* no map and no mem_upper either */
    while (n < max) {
        if (have_map)
            e = mb_mmap_next(mbi, e);
        else
            e = e ? NULL : &fallback;
        if (!e)
            break;
        if (e->type != MB_MMAP_AVAILABLE || !e->length)
            continue;
        u64 lo = e->base < floor ? floor : e->base;
        u64 hi = e->base + e->length;
        if (hi > RAM_TEST_LIMIT)
            hi = RAM_TEST_LIMIT;
        lo = (lo + 3) & ~3ull;
        hi &= ~3ull;
        if (lo >= hi)
            continue;
        out[n].base = (u32)lo;
        out[n].bytes = (u32)(hi - lo);
        n++;
    }
    return n;
}

/* Print every memory map entry, one line each. */
void mb_print_mmap(const struct mb_info *mbi)
{
    const struct mb_mmap_entry *e = NULL;
    if (!mb_mmap_next(mbi, NULL)) {
        gprintf("mmap: none\n");
        return;
    }
    while ((e = mb_mmap_next(mbi, e)))
        gprintf("mmap: base 0x%016llx len 0x%016llx type %u%s\n",
                e->base, e->length, e->type,
                e->type == MB_MMAP_AVAILABLE ? " (ram)" : "");
}
