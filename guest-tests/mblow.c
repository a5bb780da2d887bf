/* mblow - a Multiboot kernel with a segment at 0x8000..0xA000 (linked by
 * mblow.ld), where uhv used to put the Multiboot information and refused
 * such images.  The loader must load it and put the information where no
 * segment lies (Multiboot 0.6.96 §3.3 leaves the place to the loader;
 * uhv's choice is in vmm/multiboot.h).  Checks that the info structure,
 * the command line and the memory map lie outside both segments, that the
 * low segment holds its pattern word for word (nothing was written over
 * it), and that the information is sound (memory map, command line);
 * prints where each lies.  The harness (tests/system/multiboot.test) sets
 * uhv's own line, which names the address it put in EBX, against this. */
#include "guest.h"

#define NAME "mblow"
#define LOW_WORDS   2040u               /* with the header, below 0xA000 */
#define LOW_PATTERN 0x4c6f5365u         /* "eSoL" */
#define INFO_BYTES  sizeof(struct mb_info)
#define LOW_START   0x8000u             /* mblow.ld's low segment */
#define LOW_END     0xa000u

/* The segment at 0x8000 after the Multiboot header: file data the
   loader must copy, intact. */
__attribute__((section(".lowseg"), used))
static const u32 low_seg[LOW_WORDS] = { [0 ... LOW_WORDS - 1] = LOW_PATTERN };

extern const u8 __low_start[], __low_end[], __image_start[], __image_end[];

/* Whether [a, a + len) shares a byte with [s, e). */
static bool overlaps(u32 a, u32 len, const u8 *s, const u8 *e)
{
    return a < (u32)e && (u32)s < a + len;
}

/* Fails unless [a, a + len) (what) is in neither segment. */
static void check_outside(const char *what, u32 a, u32 len)
{
    if (overlaps(a, len, __low_start, __low_end) ||
        overlaps(a, len, __image_start, __image_end))
        fail(NAME, "%s at 0x%x (+%u) lies in a segment of the image", what, a, len);
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    u32 info = (u32)mbi, cmd = mbi->cmdline, map = mbi->mmap_addr;
    const char *line = mb_cmdline(mbi);

    gprintf("segments 0x%x-0x%x and 0x%x-0x%x\n", (u32)__low_start,
            (u32)__low_end, (u32)__image_start, (u32)__image_end);
    if ((u32)__low_start != LOW_START || (u32)__low_end != LOW_END)
        fail(NAME, "linked wrong: low segment at 0x%x", (u32)__low_start);
    for (u32 i = 0; i < LOW_WORDS; i++)
        if (low_seg[i] != LOW_PATTERN)
            fail(NAME, "low segment word %u is 0x%x, not 0x%x", i, low_seg[i],
                 LOW_PATTERN);
    check_outside("info", info, INFO_BYTES);
    check_outside("cmdline", cmd, strlen(line) + 1);
    check_outside("mmap", map, mbi->mmap_length);
    if (!(mbi->flags & MB_INFO_MMAP) || !mb_ram_end(mbi))
        fail(NAME, "no memory map (flags 0x%x)", mbi->flags);
    gprintf("Multiboot info at 0x%x, cmdline at 0x%x, mmap at 0x%x: outside "
            "its segments; the segment at 0x8000 intact\n", info, cmd, map);
    gprintf("cmdline '%s', RAM ends at 0x%llx\n", line, mb_ram_end(mbi));
    pass(NAME);
}
