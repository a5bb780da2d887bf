/*
 * Loading a Multiboot (v1) ELF32 kernel into guest RAM, and writing the
 * Multiboot information it is started with (Multiboot Specification
 * 0.6.96, §3). Pure C over struct gmem: the unit tests and a fuzzer feed
 * it corrupt images.
 */
#ifndef UHV_VMM_MULTIBOOT_H
#define UHV_VMM_MULTIBOOT_H

#include "vmm/gmem.h"

#define MULTIBOOT_HEADER_MAGIC     0x1badb002U
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002U
#define MULTIBOOT_SEARCH_BYTES     8192

/*
 * The Multiboot information area: the info structure (spec §3.3, its
 * address in EBX), the command line, the memory map and the loader's
 * name, at fixed offsets in MB_AREA_SIZE bytes. The spec leaves its place
 * to the loader; uhv puts it where no segment of the image lies, the
 * first of:
 *   1. MB_AREA_PREFERRED, the conventional-memory hole uhv always used,
 *      when the image leaves it free (most kernels load at 1 MiB);
 *   2. the lowest page-aligned gap in low RAM, from MB_LOW_AREA_MIN (the
 *      page above the real-mode IVT and BIOS data area, which a kernel
 *      may still read) to MB_LOW_RAM_END;
 *   3. the first page above the image's highest segment (and at least
 *      MB_HIGH_RAM), if RAM holds it there.
 * Never in MB_LOW_RAM_END..MB_HIGH_RAM, where the memory map reports the
 * EBDA and the BIOS area as reserved and uhv puts the ACPI tables. An
 * image that leaves none of these free is refused.
 */
#define MB_AREA_PREFERRED  0x8000ULL
#define MB_AREA_SIZE       0x2000ULL
#define MB_INFO_OFF        0x0ULL
#define MB_CMDLINE_OFF     0x800ULL    /* up to 2 KiB with its NUL */
#define MB_MMAP_OFF        0x1000ULL
#define MB_LOADER_NAME_OFF 0x1100ULL
#define MB_LOW_AREA_MIN    0x1000ULL
#define MB_LOW_RAM_END 0x9fc00ULL   /* 639 KiB usable below the EBDA */
#define MB_HIGH_RAM    0x100000ULL

struct mb_entry {
	u32 eip;   /* where to start */
	u32 eax;   /* MULTIBOOT_BOOTLOADER_MAGIC */
	u32 ebx;   /* guest-physical address of the Multiboot info */
};

/*
 * Loads img (size bytes) into m and writes the info with cmdline where
 * the comment above says. Returns 0 and fills *out, or -1 with a reason
 * in err (errlen bytes).
 */
int multiboot_load(const struct gmem *m, const u8 *img, u64 size,
		   const char *cmdline, struct mb_entry *out, char *err,
		   size_t errlen);

#endif
