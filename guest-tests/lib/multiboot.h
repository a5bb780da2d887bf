/* multiboot.h - the parts of the Multiboot v1 info structure we read. */
#ifndef GUEST_MULTIBOOT_H
#define GUEST_MULTIBOOT_H

#include "types.h"

struct mb_info {
    u32 flags;
    u32 mem_lower;        /* KiB below 640 KiB */
    u32 mem_upper;        /* KiB above 1 MiB */
    u32 boot_device;
    u32 cmdline;          /* physical address of a C string */
    u32 mods_count;
    u32 mods_addr;
    u32 syms[4];
    u32 mmap_length;      /* bytes of mmap entries */
    u32 mmap_addr;
} __attribute__((packed));

struct mb_mmap_entry {
    u32 size;             /* size of the rest of this entry */
    u64 base;
    u64 length;
    u32 type;             /* MB_MMAP_AVAILABLE = usable RAM */
} __attribute__((packed));

/* A usable RAM range that fits in the 32-bit address space. */
struct ram_region {
    u32 base;
    u32 bytes;
};

#define MB_REGIONS_MAX 16

bool mb_magic_ok(u32 magic);
const char *mb_cmdline(const struct mb_info *mbi);
u64 mb_mem_bytes(const struct mb_info *mbi);
const struct mb_mmap_entry *mb_mmap_next(const struct mb_info *mbi,
                                         const struct mb_mmap_entry *prev);
u64 mb_ram_end(const struct mb_info *mbi);
u32 mb_ram_regions(const struct mb_info *mbi, u32 floor,
                   struct ram_region *out, u32 max);
void mb_print_mmap(const struct mb_info *mbi);

#endif
