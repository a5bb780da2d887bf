/*
 * Loading an unmodified Linux bzImage into guest RAM for the 64-bit boot
 * protocol (Documentation/arch/x86/boot.rst, "64-bit Boot Protocol"), the
 * way Firecracker and Cloud Hypervisor start theirs: no real-mode setup
 * code runs. uhv writes the zero page (struct boot_params, zero-page.rst),
 * the command line, a GDT and identity page tables, and the caller enters
 * the kernel in 64-bit mode at its load address + 0x200.
 *
 * Pure C over struct gmem: the unit tests feed it hostile images.
 *
 * Guest-physical layout below 1 MiB (all under the EBDA at 0x9fc00, none
 * overlapping; the kernel is free to reuse it once it runs):
 *
 *   0x00500  GDT: null, null, __BOOT_CS (0x10), __BOOT_DS (0x18)
 *   0x07000  zero page (4 KiB)
 *   0x09000  PML4
 *   0x0a000  PDPT
 *   0x0b000  4 page directories: identity map of [0, 4 GiB), 2 MiB pages
 *   0x20000  command line (up to 64 KiB with its NUL)
 *   0x9fc00  EBDA and BIOS area, reserved in the e820 map up to 1 MiB
 *   0xe0000  uhv's ACPI tables
 *
 * The kernel goes at its preferred address (pref_address, 16 MiB for
 * distribution kernels), the initrd at the top of RAM below 4 GiB.
 */
#ifndef UHV_VMM_LINUX_H
#define UHV_VMM_LINUX_H

#include "vmm/gmem.h"

#define LINUX_GDT_GPA       0x500ULL
#define LINUX_ZERO_PAGE_GPA 0x7000ULL
#define LINUX_PML4_GPA      0x9000ULL
#define LINUX_PDPT_GPA      0xa000ULL
#define LINUX_PD_GPA        0xb000ULL     /* LINUX_NR_PDS pages from here */
#define LINUX_NR_PDS        4             /* one per GiB identity-mapped */
#define LINUX_MAPPED_END    GiB(LINUX_NR_PDS)
#define LINUX_CMDLINE_GPA   0x20000ULL
#define LINUX_CMDLINE_AREA  KiB(64)       /* room for the line and its NUL */
#define LINUX_LOW_RAM_END   0x9fc00ULL    /* 639 KiB usable below the EBDA */
#define LINUX_HIGH_RAM      0x100000ULL   /* 1 MiB: where RAM resumes */

/* Selectors the 64-bit boot protocol requires (boot.rst: __BOOT_CS/DS). */
#define LINUX_BOOT_CS       0x10
#define LINUX_BOOT_DS       0x18
#define LINUX_GDT_ENTRIES   4

/* Offset of the 64-bit entry point (startup_64) in the protected-mode code. */
#define LINUX_ENTRY64_OFFSET 0x200ULL

/* The oldest boot protocol with xloadflags (XLF_KERNEL_64): 2.12. */
#define LINUX_MIN_PROTOCOL  0x020c
#define LINUX_MAX_PROTOCOL_MAJOR 2          /* 3.x would be a new layout */

struct linux_params {
	const u8 *kernel;       /* the bzImage file */
	u64 kernel_size;
	const u8 *initrd;       /* NULL or initrd_size == 0: none */
	u64 initrd_size;
	const char *cmdline;    /* NULL: empty */
	u64 acpi_rsdp;          /* guest-physical RSDP, 0 if none */
};

/* What the caller loads into the vCPU (see the VMCS notes in linux.c). */
struct linux_entry {
	u64 rip;                /* load address + LINUX_ENTRY64_OFFSET */
	u64 rsi;                /* the zero page */
	u64 cr3;                /* the PML4 */
	u64 gdt_base;
	u16 gdt_limit;
	u16 cs_sel;             /* LINUX_BOOT_CS */
	u16 ds_sel;             /* LINUX_BOOT_DS, also for ES and SS */
};

/*
 * Checks the bzImage in p against the boot protocol and m's size, then
 * writes the kernel, initrd, command line, zero page, GDT and page tables
 * into m. Returns 0 and fills *out, or -1 with a reason in err (errlen
 * bytes); on failure guest RAM is left untouched.
 */
int linux_load(const struct gmem *m, const struct linux_params *p,
	       struct linux_entry *out, char *err, size_t errlen);

/* True if img (size bytes) carries the setup header magic "HdrS". */
bool linux_is_bzimage(const u8 *img, u64 size);

#endif
