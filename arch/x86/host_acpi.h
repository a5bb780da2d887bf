/*
 * The host firmware's ACPI tables, read-only: just enough to find the
 * interrupt sources the firmware may have left on (ACPI 6.5 §5.2: RSDP,
 * XSDT/RSDT, MADT; the IA-PC HPET table). Pure C over memory the caller
 * maps (uhv: identity-mapped physical memory), so host unit tests build
 * tables in buffers.
 */
#ifndef UHV_ARCH_HOST_ACPI_H
#define UHV_ARCH_HOST_ACPI_H

#include "lib/types.h"

#define HOST_MAX_IOAPICS  8

/* Turns a physical address from a table into a pointer, NULL if it
   cannot (uhv: the identity map). */
typedef const void *(*acpi_map_fn)(u64 phys, u64 len);

/* The table with signature sig (4 characters) that the RSDP's XSDT (or
   RSDT, revision 0) lists, with a valid checksum; NULL if none. */
const void *host_acpi_find(u64 rsdp, const char *sig, acpi_map_fn map);
/* The I/O APICs' addresses in a MADT (entry type 1, ACPI §5.2.12.3);
   returns how many, at most max. */
int host_madt_ioapics(const void *madt, u64 *addr, int max);
/* The HPET's base in an HPET table (system memory only), else 0. */
u64 host_hpet_base(const void *hpet);
/*
 * Whether a value read at an HPET's base is a plausible capabilities
 * register (IA-PC HPET spec 1.0a §2.3.4): revision not 0, a tick period
 * of 1 fs to 100 ns, not all ones (nothing decodes the address).
 */
bool host_hpet_caps_valid(u64 gcap);
/* The console an SPCR table names, if it is a 16550 at an I/O port:
   its base and baud rate. */
bool host_spcr_console(const void *spcr, u16 *port, u32 *baud);
/* The ACPI PM timer's I/O port a FADT names (its 64-bit GAS where it
   is an I/O address, else the ACPI 1.0 block) and whether it counts 32
   bits (else 24); false where it has none. */
bool host_fadt_pm_timer(const void *fadt, u16 *port, bool *bits32);

#endif
