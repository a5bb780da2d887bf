/*
 * Per-VM ACPI tables (ACPI Specification 6.x, chapter 5), written into
 * guest RAM before the VM starts, so that an unmodified OS finds its CPUs
 * and interrupt controllers (MADT), the PM register block of acpi_pm.h
 * (FADT) and how to power off (the DSDT's \_S5 object). Pure C over
 * struct gmem, like the Multiboot loader.
 *
 * What a guest finds, from `base` up (each table 16-byte aligned):
 *   RSDP  revision 2, XSDT address, both checksums (no RSDT)
 *   XSDT  -> FADT, MADT
 *   FACS  64 bytes, 64-byte aligned (the FADT's FIRMWARE_CTRL)
 *   FADT  revision 6.0, 276 bytes -> DSDT, FACS, the PM block
 *   DSDT  AML: Name (_S5_, Package () { 5, 5, 0, 0 }) and the PCI root
 *         bridge Device (\_SB.PCI0), _HID PNP0A03, bus 0 only, reached by
 *         configuration mechanism #1 (pci.h); its _CRS hands the OS the
 *         I/O ports but 0xCF8-0xCFF and the memory window below
 *   MADT  one local APIC per CPU, one I/O APIC, two source overrides
 */
#ifndef UHV_VMM_ACPI_H
#define UHV_VMM_ACPI_H

#include "vmm/gmem.h"

/* Where BIOS-style OSes look for the RSDP (§5.2.5.1): the 16-byte
   boundaries of [ACPI_RSDP_SCAN_START, ACPI_RSDP_SCAN_END). */
#define ACPI_RSDP_SCAN_START 0xe0000ULL
#define ACPI_RSDP_SCAN_END   0x100000ULL
#define ACPI_RSDP_ALIGN      16
/* uhv's choice of base: the bottom of that range, in the memory the
   Multiboot map reports as reserved (MB_LOW_RAM_END..MB_HIGH_RAM). */
#define ACPI_TABLES_GPA      ACPI_RSDP_SCAN_START
/* base must be this aligned: the FACS, at a fixed offset, needs 64. */
#define ACPI_BASE_ALIGN      64

/* The most bytes acpi_build writes from base (ACPI_MAX_CPUS CPUs). */
#define ACPI_AREA_SIZE       KiB(4)
/* xAPIC IDs are 8 bits and 0xff is the broadcast ID: CPUs get 0..254. */
#define ACPI_MAX_CPUS        255
/* The I/O APIC's ID in the MADT. Since the xAPIC, I/O APIC IDs are a name
   space of their own (no APIC bus), so 0 is free; an I/O APIC model should
   report this in its ID register. */
#define ACPI_IOAPIC_ID       0

/* The PCI root bridge's 32-bit memory window (the DSDT's \_SB.PCI0._CRS):
   where an OS may place the memory BARs of devices on bus 0, and where uhv
   puts those of its own devices. From the top of the largest guest RAM
   (CFG_MEM_MAX, config.h) up to the I/O APIC at 0xFEC00000, so neither
   RAM nor the APICs overlap it (acpi_build refuses a config in which they
   would). */
#define ACPI_PCI_MMIO_BASE   0xc0000000ULL
#define ACPI_PCI_MMIO_END    0xfec00000ULL  /* exclusive */
#define ACPI_PCI_MMIO_SIZE   (ACPI_PCI_MMIO_END - ACPI_PCI_MMIO_BASE)
/* The one PCI bus the root bridge decodes (pci.h has only bus 0). */
#define ACPI_PCI_BUS         0

struct acpi_config {
	u32 nr_cpus;          /* 1..ACPI_MAX_CPUS; APIC ID i for CPU i */
	u64 ram_size;         /* RAM is checked through m; this must end at
				 or below ACPI_PCI_MMIO_BASE */
	u16 pm_base;          /* I/O port of the PM block (acpi_pm.h) */
	u8 sci_irq;           /* ISA IRQ of the SCI, 0..15, usually 9 */
	u64 ioapic_base;      /* MMIO address of the I/O APIC, below 4 GiB */
	u32 ioapic_gsi_base;  /* its first GSI, usually 0 */
	u64 lapic_base;       /* MMIO address of the local APICs, below 4 GiB */
};

/*
 * Writes the tables into m at guest-physical base (ACPI_BASE_ALIGN
 * aligned; at most ACPI_AREA_SIZE bytes, all below 4 GiB as the 32-bit
 * pointers require) and sets *rsdp_gpa to the RSDP (= base). Returns 0,
 * or -1 with guest RAM untouched if the tables do not fit in RAM there,
 * base is misaligned, or c has an unusable value (nr_cpus 0 or above
 * ACPI_MAX_CPUS, an APIC above 4 GiB or inside the PCI memory window,
 * ram_size reaching into that window, sci_irq above 15, pm_base so high
 * that the block would wrap the port space).
 */
int acpi_build(const struct gmem *m, u64 base, const struct acpi_config *c,
	       u64 *rsdp_gpa);

#endif
