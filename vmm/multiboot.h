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

/* Where uhv puts the Multiboot info, command line and memory map: in
   the conventional-memory hole below 640 KiB that kernels leave alone. */
#define MB_INFO_GPA    0x8000ULL
#define MB_CMDLINE_GPA 0x8800ULL
#define MB_MMAP_GPA    0x9000ULL
#define MB_AREA_END    0xa000ULL
#define MB_LOW_RAM_END 0x9fc00ULL   /* 639 KiB usable below the EBDA */
#define MB_HIGH_RAM    0x100000ULL

struct mb_entry {
	u32 eip;   /* where to start */
	u32 eax;   /* MULTIBOOT_BOOTLOADER_MAGIC */
	u32 ebx;   /* guest-physical address of the Multiboot info */
};

/*
 * Loads img (size bytes) into m and writes the info with cmdline.
 * Returns 0 and fills *out, or -1 with a reason in err (errlen bytes).
 */
int multiboot_load(const struct gmem *m, const u8 *img, u64 size,
		   const char *cmdline, struct mb_entry *out, char *err,
		   size_t errlen);

#endif
