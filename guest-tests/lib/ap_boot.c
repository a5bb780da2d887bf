/* ap_boot.c - see ap_boot.h. */
#include "ap_boot.h"
#include "abi.h"
#include "apic.h"
#include "cpu.h"
#include "util.h"

#define PAGE_SHIFT 12

/* See ap_boot.h. */
volatile struct ap_report *ap_boot(u32 page, u32 dest, u64 max_ticks)
{
    u32 size = (u32)(ap_boot_end - ap_boot_start);
    volatile struct ap_report *r =
        (volatile struct ap_report *)(page + (u32)(ap_boot_report - ap_boot_start));

    memcpy((void *)page, ap_boot_start, size);
    r->done = 0;
    apic_send_ipi(APIC_ICR_INIT | APIC_ICR_ASSERT, dest);
    apic_send_ipi(APIC_ICR_STARTUP | (page >> PAGE_SHIFT), dest);
    for (u64 t0 = rdtsc(); r->done != AP_REPORT_DONE;) {
        if (rdtsc() - t0 > max_ticks)
            return 0;
        __asm__ volatile("pause" ::: "memory");
    }
    return r;
}
