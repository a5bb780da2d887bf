/* ap_boot.h - starting an application processor on lib/ap_tramp.asm, a
 * real-mode blob that records the AP's CPUID answers about itself. */
#ifndef GUEST_AP_BOOT_H
#define GUEST_AP_BOOT_H

#include "types.h"

#define AP_REPORT_DONE 0x600d0a9eu      /* ap_tramp.asm has the same value */

/* What the AP wrote, in ap_tramp.asm's order; done is written last. */
struct ap_report {
    u32 max_leaf;                       /* CPUID.0:EAX */
    u32 leaf1_ebx, leaf1_ecx, leaf1_edx;
    u32 leafb_edx;                      /* CPUID.(0BH,0):EDX, x2APIC id */
    u32 done;                           /* AP_REPORT_DONE when complete */
};

extern const u8 ap_boot_start[], ap_boot_report[], ap_boot_end[];

/*
 * Copies the blob to page (4 KiB aligned, below 1 MiB, not in use), sends
 * the AP with APIC id dest INIT then a STARTUP IPI for that page (SDM Vol.
 * 3A §9.4.4.1) through the local APIC, which must be software-enabled,
 * and waits up to max_ticks TSC ticks for its report.  Returns the report
 * in the page, or NULL if the AP did not finish in time.
 */
volatile struct ap_report *ap_boot(u32 page, u32 dest, u64 max_ticks);

#endif
