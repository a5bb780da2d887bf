/*
 * Building the ACPI tables of acpi.h. Each table is a packed structure laid
 * out as in its ACPI 6.x table (sizes and key offsets checked at compile
 * time), filled in place in guest RAM, which is zeroed first so every
 * reserved field is 0. Checksums are computed last, over the final bytes.
 */
#include "vmm/dev/acpi.h"
#include "vmm/dev/acpi_pm.h"
#include "vmm/dev/pci.h"

#define PACKED __attribute__((packed))

/* ---- Layout: offsets from base (base is ACPI_BASE_ALIGN aligned) ---- */

#define RSDP_OFF   0x000
#define XSDT_OFF   0x040
#define FACS_OFF   0x080   /* 64-byte aligned, as §5.2.10 requires */
#define FADT_OFF   0x0c0
#define DSDT_OFF   0x1e0
#define MADT_OFF   0x300   /* last: its length grows with the CPU count */

/* ---- Common pieces ---- */

#define OEM_ID           "UHV   "     /* 6 characters, space padded */
#define OEM_TABLE_ID     "UHVVM   "   /* 8 characters */
#define OEM_REVISION     1
#define CREATOR_ID       "UHV "
#define CREATOR_REVISION 1
#define SIG_LEN          4
#define OEM_ID_LEN       6
#define OEM_TABLE_ID_LEN 8

/* The header every table but the RSDP and FACS starts with (§5.2.6). */
struct acpi_header {
	char signature[SIG_LEN];
	u32 length;
	u8 revision, checksum;
	char oem_id[OEM_ID_LEN];
	char oem_table_id[OEM_TABLE_ID_LEN];
	u32 oem_revision;
	char creator_id[SIG_LEN];
	u32 creator_revision;
} PACKED;

/* Generic Address Structure (§5.2.3.2), for the FADT's X_ registers. */
struct acpi_gas {
	u8 space_id, bit_width, bit_offset, access_size;
	u64 address;
} PACKED;

#define GAS_SPACE_SYSTEM_IO 1
#define GAS_ACCESS_WORD     2
#define GAS_ACCESS_DWORD    3
#define BITS_PER_BYTE       8

#define POINTER32_LIMIT GiB(4)       /* what 32-bit table pointers reach */
#define IO_PORT_LIMIT   0x10000U     /* the 64 KiB x86 port space */

/* ---- RSDP (§5.2.5.3) and XSDT (§5.2.8) ---- */

#define RSDP_SIGNATURE "RSD PTR "
#define RSDP_SIG_LEN   8
#define RSDP_REVISION  2    /* ACPI 2.0 and later: has the XSDT fields */
#define RSDP_V1_LEN    20   /* the part the first checksum covers */

struct acpi_rsdp {
	char signature[RSDP_SIG_LEN];
	u8 checksum;
	char oem_id[OEM_ID_LEN];
	u8 revision;
	u32 rsdt_address;    /* 0: no RSDT; every OS since ACPI 2.0 reads the XSDT */
	u32 length;
	u64 xsdt_address;
	u8 extended_checksum;
	u8 reserved[3];
} PACKED;

#define XSDT_REVISION 1
enum { XSDT_FADT, XSDT_MADT, XSDT_ENTRIES };

struct acpi_xsdt {
	struct acpi_header h;
	u64 entry[XSDT_ENTRIES];
} PACKED;

/* ---- FACS (§5.2.10): no checksum; Linux uses it for the global lock ---- */

#define FACS_VERSION 2      /* ACPI 4.0 and later */

struct acpi_facs {
	char signature[SIG_LEN];
	u32 length;
	u32 hardware_signature, firmware_waking_vector, global_lock, flags;
	u64 x_firmware_waking_vector;
	u8 version, reserved[3];
	u32 ospm_flags;
	u8 reserved2[24];
} PACKED;

/* ---- FADT (§5.2.9, table "FADT Format"), revision 6.0 ---- */

#define FADT_REVISION       6
#define FADT_MINOR_REVISION 0
/* P_LVL2_LAT > 100 and P_LVL3_LAT > 1000 say "no C2 / no C3" (§5.2.9). */
#define FADT_NO_C2_LAT      101
#define FADT_NO_C3_LAT      1001

/* IA-PC boot architecture flags (§5.2.9.3). LEGACY_DEVICES: ISA devices
   (UART, PIC, PIT, RTC) exist; 8042 clear: no keyboard controller. There
   is no VGA, so the OS should not probe for one. CMOS_RTC_NOT_PRESENT
   stays clear: the platform has an MC146818 at 0x70 (rtc.h). */
#define BOOT_LEGACY_DEVICES    BIT(0)
#define BOOT_VGA_NOT_PRESENT   BIT(2)
#define FADT_BOOT_ARCH (BOOT_LEGACY_DEVICES | BOOT_VGA_NOT_PRESENT)

/* Fixed feature flags (§5.2.9, the FADT flags table). WBINVD works
   (required since ACPI 1.0); C1 (HLT) works on every CPU; PWR_BUTTON and
   SLP_BUTTON set: there is no fixed-feature power or sleep button.
   RESET_REG_SUP, TMR_VAL_EXT (the timer is 24 bits) and HW_REDUCED_ACPI
   stay clear. */
#define FADT_WBINVD     BIT(0)
#define FADT_PROC_C1    BIT(2)
#define FADT_PWR_BUTTON BIT(4)
#define FADT_SLP_BUTTON BIT(5)
#define FADT_FLAGS (FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | \
		    FADT_SLP_BUTTON)

struct acpi_fadt {
	struct acpi_header h;
	u32 firmware_ctrl, dsdt;
	u8 reserved, preferred_pm_profile;
	u16 sci_int;
	u32 smi_cmd;
	u8 acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	u32 pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	u32 pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	u8 pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	u8 gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	u16 p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	u8 duty_offset, duty_width, day_alrm, mon_alrm, century;
	u16 iapc_boot_arch;
	u8 reserved2;
	u32 flags;
	struct acpi_gas reset_reg;
	u8 reset_value;
	u16 arm_boot_arch;
	u8 minor_version;
	u64 x_firmware_ctrl, x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg, sleep_status_reg;
	u64 hypervisor_vendor_identity;
} PACKED;

#define FADT_LENGTH 276
_Static_assert(sizeof(struct acpi_fadt) == FADT_LENGTH, "FADT is 276 bytes");
_Static_assert(__builtin_offsetof(struct acpi_fadt, sci_int) == 46, "SCI_INT");
_Static_assert(__builtin_offsetof(struct acpi_fadt, pm_tmr_blk) == 76,
	       "PM_TMR_BLK");
_Static_assert(__builtin_offsetof(struct acpi_fadt, iapc_boot_arch) == 109,
	       "IAPC_BOOT_ARCH");
_Static_assert(__builtin_offsetof(struct acpi_fadt, flags) == 112, "Flags");
_Static_assert(__builtin_offsetof(struct acpi_fadt, x_dsdt) == 140, "X_DSDT");
_Static_assert(__builtin_offsetof(struct acpi_fadt, x_pm_tmr_blk) == 208,
	       "X_PM_TMR_BLK");

/* ---- DSDT (§5.2.11.1): the AML, hand-assembled (§20.2 encodings) ---- */

#define DSDT_REVISION 2     /* 2 and up: AML integers are 64 bits */
/* §20.2.5.1  DefName    := NameOp NameString DataRefObject */
#define AML_NAME_OP     0x08
/* §20.2.5.4  DefPackage := PackageOp PkgLength NumElements ElementList */
#define AML_PACKAGE_OP  0x12
/* §20.2.5.4  DefBuffer  := BufferOp PkgLength BufferSize ByteList */
#define AML_BUFFER_OP   0x11
/* §20.2.5.2  DefDevice  := DeviceOp PkgLength NameString TermList, where
   DeviceOp := ExtOpPrefix 0x82 (§19.6.35 Device) */
#define AML_EXT_OP_PREFIX 0x5b
#define AML_DEVICE_OP     0x82
/* §20.2.3    ByteConst  := BytePrefix ByteData;  DWordConst := DWordPrefix
   DWordData (little-endian);  ConstObj ZeroOp: 0 */
#define AML_BYTE_PREFIX  0x0a
#define AML_DWORD_PREFIX 0x0c
#define AML_ZERO_OP      0x00
/* §20.2.2    NameString := RootChar NamePath;  NamePath := DualNamePath
   := DualNamePrefix NameSeg NameSeg */
#define AML_ROOT_CHAR        '\\'    /* 0x5C */
#define AML_DUAL_NAME_PREFIX 0x2e
/* Bytes before PkgLength: NameOp, the NameSeg and PackageOp. */
#define S5_PKG_HEAD     6

/*
 * §20.2.4 PkgLength counts itself and everything after it up to the end of
 * the object. Up to 63 it is one byte (bits 7:6 = 0, the value in bits
 * 5:0); above, bits 7:6 of the lead byte say how many bytes follow, its
 * bits 3:0 hold the low nibble of the value (5:4 must be 0), and each
 * following byte the next 8 bits. The Device and its _CRS buffer are both
 * over 63 bytes and under 4096, so they take the two-byte form:
 */
#define AML_PKGLEN_1_MAX    63
#define AML_PKGLEN_2_MAX    0xfff
#define AML_PKGLEN_FOLLOW_1 0x40                  /* bits 7:6 = 1 */
#define AML_PKGLEN_2_LEAD(n) ((u8)(AML_PKGLEN_FOLLOW_1 | ((n) & 0x0f)))
#define AML_PKGLEN_2_NEXT(n) ((u8)((n) >> 4))
#define AML_PKGLEN_2_OK(n)  ((n) > AML_PKGLEN_1_MAX && (n) <= AML_PKGLEN_2_MAX)

static const u8 dsdt_s5[] = {
	AML_NAME_OP,                      /* Name (                          */
	'_', 'S', '5', '_',               /*   _S5_: a NameSeg (§20.2.2)     */
	AML_PACKAGE_OP,                   /*   Package (                     */
	0x08,                             /*     PkgLength 8, itself counted;
					     one-byte form: bits 7:6 = 0
					     (§20.2.4)                      */
	0x04,                             /*     NumElements 4 ) {           */
	AML_BYTE_PREFIX, ACPI_SLP_TYP_S5, /*     5: SLP_TYP for PM1a_CNT     */
	AML_BYTE_PREFIX, ACPI_SLP_TYP_S5, /*     5: for PM1b_CNT (absent)    */
	AML_ZERO_OP,                      /*     0: reserved                 */
	AML_ZERO_OP,                      /*     0: reserved  })             */
};
_Static_assert(sizeof(dsdt_s5) - S5_PKG_HEAD == 0x08, "PkgLength byte");

/*
 * The PCI root bridge. What Linux needs to scan bus 0 (drivers/acpi/
 * pci_root.c) is a Device with a PCI host bridge _HID and a _CRS; _UID
 * tells bridges apart, _BBN gives the bus number; _SEG (§6.5.6) is absent,
 * which means segment 0. PNP0A03 is a conventional PCI bus (PNP0A08, PCI
 * Express, would ask for MMCONFIG and an _OSC, neither of which uhv has):
 * configuration space is then reached through ports 0xCF8/0xCFC, which is
 * all uhv implements. No _OSC (optional for PNP0A03) and no _PRT: uhv's
 * PCI devices interrupt through MSI-X, and a device with an INTx pin but
 * no _PRT entry merely gets no legacy IRQ.
 *
 * §6.4 resource descriptors, fields little-endian as in the spec's tables.
 * The _CRS lists what the bridge decodes: bus 0; ports 0xCF8-0xCFF, which
 * it consumes itself (an I/O Port descriptor, §6.4.2.5); every other port
 * as two windows it produces (Word Address Space descriptors, §6.4.3.5.3);
 * and the memory window ACPI_PCI_MMIO_BASE..END for 32-bit BARs (a DWord
 * Address Space descriptor, §6.4.3.5.2). A window is a Producer range
 * (general flags bit 0 clear), fixed at both ends (_MIF, _MAF), positively
 * decoded (_DEC clear), so its length is max - min + 1 (§6.4.3.5).
 */
#define RES_SMALL_IO      0x47  /* §6.4.2.5: small item 0x08, 7 bytes */
#define RES_SMALL_END     0x79  /* §6.4.2.9: small item 0x0F, 1 byte */
#define RES_LARGE_DWORD   0x87  /* §6.4.3.5.2: large item 0x07 */
#define RES_LARGE_WORD    0x88  /* §6.4.3.5.3: large item 0x08 */
#define RES_IO_DECODE16   BIT(0)   /* I/O Port Information: 16-bit decode */
#define RES_TYPE_MEMORY   0     /* address space Resource Type (byte 3) */
#define RES_TYPE_IO       1
#define RES_TYPE_BUS      2
#define RES_GEN_PRODUCER  0     /* general flags (byte 4), bit 0 clear */
#define RES_GEN_MIN_FIXED BIT(2)    /* _MIF */
#define RES_GEN_MAX_FIXED BIT(3)    /* _MAF */
#define RES_WINDOW  (RES_GEN_PRODUCER | RES_GEN_MIN_FIXED | RES_GEN_MAX_FIXED)
#define RES_IO_ENTIRE_RANGE 0x3     /* I/O type flags (§6.4.3.5.5): _RNG 3 */
#define RES_MEM_READ_WRITE  BIT(0)  /* memory type flags: _RW; _MEM 0:
				       non-cacheable; _MTP 0: memory */
#define RES_END_NO_CHECKSUM 0       /* End Tag checksum 0: "sums to 0" */
/* The Length field of a large item counts the bytes after it (§6.4.3). */
#define RES_LARGE_HEAD    3

#define PCI_CFG_PORT_LEN  8     /* 0xCF8 address and 0xCFC data registers */
#define IO_LOW_END        (PCI_ADDR_PORT - 1)                 /* 0x0CF7 */
#define IO_HIGH_START     0x0d00   /* 0xCF8-0xCFF rounded up to 256 */
#define IO_PORT_MAX       (IO_PORT_LIMIT - 1)                 /* 0xFFFF */

struct res_io {                 /* I/O Port Descriptor, §6.4.2.5 */
	u8 tag, information;
	u16 min, max;
	u8 alignment, length;
} PACKED;

struct res_word {               /* Word Address Space Descriptor, §6.4.3.5.3 */
	u8 tag;
	u16 length;
	u8 type, general_flags, type_flags;
	u16 granularity, min, max, translation, range_length;
} PACKED;

struct res_dword {              /* DWord Address Space Descriptor, §6.4.3.5.2 */
	u8 tag;
	u16 length;
	u8 type, general_flags, type_flags;
	u32 granularity, min, max, translation, range_length;
} PACKED;

struct res_end {                /* End Tag, §6.4.2.9 */
	u8 tag, checksum;
} PACKED;

_Static_assert(sizeof(struct res_io) == 8, "I/O Port descriptor");
_Static_assert(sizeof(struct res_word) == 16, "Word Address Space");
_Static_assert(sizeof(struct res_dword) == 26, "DWord Address Space");

struct pci0_crs {
	struct res_word bus;
	struct res_io cfg_ports;
	struct res_word io_low, io_high;
	struct res_dword mmio;
	struct res_end end;
} PACKED;

#define NAME_SEG_LEN 4
#define EISAID_LEN   4

/* Device (\_SB.PCI0) { Name (_HID, ...) ... Name (_CRS, Buffer ...) } */
struct pci0_aml {
	u8 device_op[2], pkglen[2];
	u8 root, dual_prefix, path[2][NAME_SEG_LEN];
	u8 hid_op, hid_name[NAME_SEG_LEN], hid_prefix, hid[EISAID_LEN];
	u8 uid_op, uid_name[NAME_SEG_LEN], uid;
	u8 bbn_op, bbn_name[NAME_SEG_LEN], bbn;
	u8 crs_op, crs_name[NAME_SEG_LEN];
	u8 buffer_op, buffer_pkglen[2], buffer_size[2];
	struct pci0_crs crs;
} PACKED;

/* Both packages run to the end of the structure: the Device and the _CRS
   buffer, its last object. */
#define PCI0_PKGLEN (sizeof(struct pci0_aml) - \
		     __builtin_offsetof(struct pci0_aml, pkglen))
#define CRS_PKGLEN  (sizeof(struct pci0_aml) - \
		     __builtin_offsetof(struct pci0_aml, buffer_pkglen))
_Static_assert(AML_PKGLEN_2_OK(PCI0_PKGLEN), "Device: two-byte PkgLength");
_Static_assert(AML_PKGLEN_2_OK(CRS_PKGLEN), "Buffer: two-byte PkgLength");
_Static_assert(sizeof(struct pci0_crs) <= 0xff, "BufferSize is a ByteConst");

/* EisaId ("PNP0A03") (§6.1.5 _HID): three letters, 5 bits each ('A' = 1)
   packed big-endian into 15 bits, then the four hex digits, also
   big-endian: bytes 0x41 0xD0 0x0A 0x03 (DWord 0x030AD041). */
#define EISA_LETTER(c)   ((c) - '@')
#define EISAID_B0(a, b)  ((u8)(EISA_LETTER(a) << 2 | EISA_LETTER(b) >> 3))
#define EISAID_B1(b, c)  ((u8)((EISA_LETTER(b) & 0x7) << 5 | EISA_LETTER(c)))
#define PNP0A03_PRODUCT  0x0a03  /* "0A03": PCI bus */

static const struct pci0_aml dsdt_pci0 = {
	.device_op = { AML_EXT_OP_PREFIX,      /* Device (                   */
		       AML_DEVICE_OP },
	.pkglen = { AML_PKGLEN_2_LEAD(PCI0_PKGLEN),   /* PkgLength: 0x80, */
		    AML_PKGLEN_2_NEXT(PCI0_PKGLEN) }, /* 2 bytes: 0x40 0x08 */
	.root = AML_ROOT_CHAR,                 /*   \                        */
	.dual_prefix = AML_DUAL_NAME_PREFIX,   /*   two NameSegs follow:     */
	.path = { { '_', 'S', 'B', '_' },      /*   _SB_.                    */
		  { 'P', 'C', 'I', '0' } },    /*   PCI0 ) {                 */
	.hid_op = AML_NAME_OP,                 /* Name (                     */
	.hid_name = { '_', 'H', 'I', 'D' },    /*   _HID,                    */
	.hid_prefix = AML_DWORD_PREFIX,        /*   DWordConst               */
	.hid = { EISAID_B0('P', 'N'),          /*   EisaId ("PNP0A03"):      */
		 EISAID_B1('N', 'P'),          /*   "PNP" in 15 bits,        */
		 PNP0A03_PRODUCT >> 8,         /*   0x0A                     */
		 PNP0A03_PRODUCT & 0xff },     /*   0x03 )                   */
	.uid_op = AML_NAME_OP,                 /* Name (                     */
	.uid_name = { '_', 'U', 'I', 'D' },    /*   _UID (§6.1.12),          */
	.uid = AML_ZERO_OP,                    /*   0 )                      */
	.bbn_op = AML_NAME_OP,                 /* Name (                     */
	.bbn_name = { '_', 'B', 'B', 'N' },    /*   _BBN (§6.5.5),           */
	.bbn = AML_ZERO_OP,                    /*   0: bus ACPI_PCI_BUS )    */
	.crs_op = AML_NAME_OP,                 /* Name (                     */
	.crs_name = { '_', 'C', 'R', 'S' },    /*   _CRS (§6.2.2),           */
	.buffer_op = AML_BUFFER_OP,            /*   Buffer (                 */
	.buffer_pkglen = { AML_PKGLEN_2_LEAD(CRS_PKGLEN),   /* PkgLength 0x58: */
			   AML_PKGLEN_2_NEXT(CRS_PKGLEN) }, /* 0x48 0x05       */
	.buffer_size = { AML_BYTE_PREFIX,      /*   BufferSize ByteConst     */
			 sizeof(struct pci0_crs) },   /* 84 ) {              */
	.crs = {
		/* WordBusNumber (ResourceProducer, MinFixed, MaxFixed,
		   PosDecode, granularity 0, 0, 0, translation 0, length 1) */
		.bus = { RES_LARGE_WORD, sizeof(struct res_word) - RES_LARGE_HEAD,
			 RES_TYPE_BUS, RES_WINDOW, 0, 0, ACPI_PCI_BUS,
			 ACPI_PCI_BUS, 0, 1 },
		/* IO (Decode16, 0x0CF8, 0x0CF8, alignment 1, length 8):
		   consumed by the bridge, so not a window for devices */
		.cfg_ports = { RES_SMALL_IO, RES_IO_DECODE16, PCI_ADDR_PORT,
			       PCI_ADDR_PORT, 1, PCI_CFG_PORT_LEN },
		/* WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode,
		   EntireRange, 0, 0x0000, 0x0CF7, 0, length 0x0CF8) */
		.io_low = { RES_LARGE_WORD, sizeof(struct res_word) - RES_LARGE_HEAD,
			    RES_TYPE_IO, RES_WINDOW, RES_IO_ENTIRE_RANGE, 0, 0,
			    IO_LOW_END, 0, IO_LOW_END + 1 },
		/* WordIO (... 0, 0x0D00, 0xFFFF, 0, length 0xF300) */
		.io_high = { RES_LARGE_WORD, sizeof(struct res_word) - RES_LARGE_HEAD,
			     RES_TYPE_IO, RES_WINDOW, RES_IO_ENTIRE_RANGE, 0,
			     IO_HIGH_START, IO_PORT_MAX, 0,
			     IO_PORT_MAX - IO_HIGH_START + 1 },
		/* DWordMemory (ResourceProducer, PosDecode, MinFixed,
		   MaxFixed, NonCacheable, ReadWrite, 0, 0xC0000000,
		   0xFEBFFFFF, 0, length 0x3EC00000) */
		.mmio = { RES_LARGE_DWORD, sizeof(struct res_dword) - RES_LARGE_HEAD,
			  RES_TYPE_MEMORY, RES_WINDOW, RES_MEM_READ_WRITE, 0,
			  (u32)ACPI_PCI_MMIO_BASE, (u32)(ACPI_PCI_MMIO_END - 1),
			  0, (u32)ACPI_PCI_MMIO_SIZE },
		/* EndTag () */
		.end = { RES_SMALL_END, RES_END_NO_CHECKSUM },
	},                                     /* }) }                       */
};

_Static_assert(ACPI_PCI_MMIO_END <= POINTER32_LIMIT &&
	       ACPI_PCI_MMIO_BASE < ACPI_PCI_MMIO_END,
	       "a DWordMemory window: below 4 GiB");
_Static_assert(IO_HIGH_START >= PCI_ADDR_PORT + PCI_CFG_PORT_LEN,
	       "the I/O windows leave out 0xCF8-0xCFF");

#define DSDT_AML_LEN (sizeof(dsdt_s5) + sizeof(dsdt_pci0))

/* ---- MADT (§5.2.12) ---- */

#define MADT_REVISION       4   /* ACPI 6.0 errata A */
#define MADT_PCAT_COMPAT    BIT(0)   /* dual 8259s present (§5.2.12) */
#define MADT_TYPE_LAPIC     0
#define MADT_TYPE_IOAPIC    1
#define MADT_TYPE_OVERRIDE  2
#define LAPIC_ENABLED       BIT(0)   /* §5.2.12.2 */
#define ISA_BUS             0
#define ISA_IRQS            16
#define PIT_IRQ             0   /* the 8254 timer: ISA IRQ 0 ... */
#define PIT_GSI             2   /* ... on I/O APIC input 2, as on every PC */
/* MPS INTI flags (§5.2.12.5): polarity bits 1:0, trigger mode bits 3:2. */
#define INTI_ACTIVE_HIGH    0x1
#define INTI_EDGE           (0x1 << 2)
#define INTI_LEVEL          (0x3 << 2)

struct madt_header {
	struct acpi_header h;
	u32 lapic_address, flags;
} PACKED;

struct madt_lapic {                     /* Processor Local APIC, §5.2.12.2 */
	u8 type, length, processor_uid, apic_id;
	u32 flags;
} PACKED;

struct madt_ioapic {                    /* I/O APIC, §5.2.12.3 */
	u8 type, length, id, reserved;
	u32 address, gsi_base;
} PACKED;

struct madt_override {                  /* Interrupt Source Override, */
						/* §5.2.12.5 */
	u8 type, length, bus, source;
	u32 gsi;
	u16 flags;
} PACKED;

enum { OVR_PIT, OVR_SCI, NR_OVERRIDES };

static u64 madt_length(u32 nr_cpus)
{
	return sizeof(struct madt_header) + nr_cpus * sizeof(struct madt_lapic) +
	       sizeof(struct madt_ioapic) +
	       NR_OVERRIDES * sizeof(struct madt_override);
}

_Static_assert(MADT_OFF + sizeof(struct madt_header) +
	       ACPI_MAX_CPUS * sizeof(struct madt_lapic) +
	       sizeof(struct madt_ioapic) +
	       NR_OVERRIDES * sizeof(struct madt_override) <= ACPI_AREA_SIZE,
	       "the tables fit in ACPI_AREA_SIZE");
_Static_assert(XSDT_OFF >= sizeof(struct acpi_rsdp) &&
	       FACS_OFF >= XSDT_OFF + sizeof(struct acpi_xsdt) &&
	       FADT_OFF >= FACS_OFF + sizeof(struct acpi_facs) &&
	       DSDT_OFF >= FADT_OFF + FADT_LENGTH &&
	       MADT_OFF >= DSDT_OFF + sizeof(struct acpi_header) + DSDT_AML_LEN,
	       "the tables do not overlap");

/* ---- Writing ---- */

/* The byte that makes the len bytes at p sum to 0 mod 256 (§5.2.6). */
static u8 checksum(const void *p, u64 len)
{
	const u8 *b = p;
	u8 sum = 0;

	for (u64 i = 0; i < len; i++)
		sum = (u8)(sum + b[i]);
	return (u8)-sum;
}

static void header(struct acpi_header *h, const char *sig, u32 len, u8 rev)
{
	memcpy(h->signature, sig, SIG_LEN);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, OEM_ID, OEM_ID_LEN);
	memcpy(h->oem_table_id, OEM_TABLE_ID, OEM_TABLE_ID_LEN);
	h->oem_revision = OEM_REVISION;
	memcpy(h->creator_id, CREATOR_ID, SIG_LEN);
	h->creator_revision = CREATOR_REVISION;
}

/* Sets the checksum of a complete table (header included). */
static void seal(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = checksum(h, h->length);
}

static void build_rsdp(struct acpi_rsdp *r, u64 xsdt)
{
	memcpy(r->signature, RSDP_SIGNATURE, RSDP_SIG_LEN);
	memcpy(r->oem_id, OEM_ID, OEM_ID_LEN);
	r->revision = RSDP_REVISION;
	r->length = sizeof(*r);
	r->xsdt_address = xsdt;
	r->checksum = checksum(r, RSDP_V1_LEN);
	r->extended_checksum = checksum(r, sizeof(*r));
}

static void build_xsdt(struct acpi_xsdt *x, u64 fadt, u64 madt)
{
	header(&x->h, "XSDT", sizeof(*x), XSDT_REVISION);
	x->entry[XSDT_FADT] = fadt;
	x->entry[XSDT_MADT] = madt;
	seal(&x->h);
}

static void build_facs(struct acpi_facs *f)
{
	memcpy(f->signature, "FACS", SIG_LEN);
	f->length = sizeof(*f);
	f->version = FACS_VERSION;
}

/* An I/O port register: the X_ form of a legacy PM block (§5.2.3.2). */
static struct acpi_gas io_reg(u32 port, u8 len, u8 access)
{
	return (struct acpi_gas){ .space_id = GAS_SPACE_SYSTEM_IO,
				  .bit_width = (u8)(len * BITS_PER_BYTE),
				  .access_size = access, .address = port };
}

/* The PM block of acpi_pm.h, in both the 32-bit and the X_ fields, which
   must agree (§5.2.9: an OS uses the X_ field when it is non-zero). */
static void fadt_pm_block(struct acpi_fadt *f, u16 pm_base)
{
	f->pm1a_evt_blk = pm_base + ACPI_PM1_EVT_OFF;
	f->pm1a_cnt_blk = pm_base + ACPI_PM1_CNT_OFF;
	f->pm_tmr_blk = pm_base + ACPI_PM_TMR_OFF;
	f->pm1_evt_len = ACPI_PM1_EVT_LEN;
	f->pm1_cnt_len = ACPI_PM1_CNT_LEN;
	f->pm_tmr_len = ACPI_PM_TMR_LEN;
	/* the event block is two 16-bit registers, STS and EN (§4.8.3.1) */
	f->x_pm1a_evt_blk = io_reg(f->pm1a_evt_blk, ACPI_PM1_EVT_LEN,
				   GAS_ACCESS_WORD);
	f->x_pm1a_cnt_blk = io_reg(f->pm1a_cnt_blk, ACPI_PM1_CNT_LEN,
				   GAS_ACCESS_WORD);
	f->x_pm_tmr_blk = io_reg(f->pm_tmr_blk, ACPI_PM_TMR_LEN,
				 GAS_ACCESS_DWORD);
}

/* No SMI_CMD, so no ACPI mode transition: the PM block works from reset
   and SCI_EN reads 1 (§4.8.2.5). No GPE blocks, no reset register. */
static void build_fadt(struct acpi_fadt *f, const struct acpi_config *c,
		       u64 facs, u64 dsdt)
{
	header(&f->h, "FACP", FADT_LENGTH, FADT_REVISION);
	f->minor_version = FADT_MINOR_REVISION;
	f->firmware_ctrl = (u32)facs;   /* X_FIRMWARE_CTRL must then be 0 */
	f->dsdt = (u32)dsdt;
	f->x_dsdt = dsdt;               /* both, equal: old and new OSes */
	f->sci_int = c->sci_irq;
	f->smi_cmd = 0;
	fadt_pm_block(f, c->pm_base);
	f->p_lvl2_lat = FADT_NO_C2_LAT;
	f->p_lvl3_lat = FADT_NO_C3_LAT;
	f->iapc_boot_arch = FADT_BOOT_ARCH;
	f->flags = FADT_FLAGS;
	seal(&f->h);
}

/* \_S5_ first, then \_SB.PCI0: one TermList (§20.2.1), objects in a row. */
static void build_dsdt(struct acpi_header *h)
{
	u8 *aml = (u8 *)(h + 1);

	header(h, "DSDT", sizeof(*h) + DSDT_AML_LEN, DSDT_REVISION);
	memcpy(aml, dsdt_s5, sizeof(dsdt_s5));
	memcpy(aml + sizeof(dsdt_s5), &dsdt_pci0, sizeof(dsdt_pci0));
	seal(h);
}

static void madt_override(struct madt_override *o, u8 irq, u32 gsi, u16 flags)
{
	*o = (struct madt_override){ MADT_TYPE_OVERRIDE, sizeof(*o), ISA_BUS,
				     irq, gsi, flags };
}

/* CPU i gets ACPI processor UID i and APIC ID i. ISA IRQs are identity
   mapped onto GSIs except where overridden (§5.2.12.5): IRQ 0 is on GSI 2;
   the SCI, by default level/active-low, is level/active-high here. */
static void build_madt(struct madt_header *mh, const struct acpi_config *c)
{
	struct madt_lapic *l = (struct madt_lapic *)(mh + 1);
	struct madt_ioapic *io = (struct madt_ioapic *)(l + c->nr_cpus);
	struct madt_override *o = (struct madt_override *)(io + 1);

	header(&mh->h, "APIC", (u32)madt_length(c->nr_cpus), MADT_REVISION);
	mh->lapic_address = (u32)c->lapic_base;
	mh->flags = MADT_PCAT_COMPAT;
	for (u32 i = 0; i < c->nr_cpus; i++)
		l[i] = (struct madt_lapic){ MADT_TYPE_LAPIC, sizeof(*l), (u8)i,
					    (u8)i, LAPIC_ENABLED };
	*io = (struct madt_ioapic){ MADT_TYPE_IOAPIC, sizeof(*io),
				    ACPI_IOAPIC_ID, 0, (u32)c->ioapic_base,
				    c->ioapic_gsi_base };
	madt_override(&o[OVR_PIT], PIT_IRQ, PIT_GSI, INTI_ACTIVE_HIGH | INTI_EDGE);
	madt_override(&o[OVR_SCI], c->sci_irq, c->sci_irq,
		      INTI_ACTIVE_HIGH | INTI_LEVEL);
	seal(&mh->h);
}

/* True if the MMIO page at a lies outside the PCI memory window. */
static bool outside_pci_window(u64 a)
{
	return a + PAGE_SIZE <= ACPI_PCI_MMIO_BASE || a >= ACPI_PCI_MMIO_END;
}

/* pm_base 0 would read as "no PM block" in the FADT (§5.2.9). The DSDT
   gives the OS the PCI memory window for BARs: RAM and the APICs must not
   be there. */
static bool config_ok(const struct acpi_config *c)
{
	return c->nr_cpus >= 1 && c->nr_cpus <= ACPI_MAX_CPUS &&
	       c->lapic_base < POINTER32_LIMIT &&
	       c->ioapic_base < POINTER32_LIMIT && c->sci_irq < ISA_IRQS &&
	       outside_pci_window(c->lapic_base) &&
	       outside_pci_window(c->ioapic_base) &&
	       c->ram_size <= ACPI_PCI_MMIO_BASE &&
	       c->pm_base != 0 &&
	       (u32)c->pm_base + ACPI_PM_PORT_LEN <= IO_PORT_LIMIT;
}

int acpi_build(const struct gmem *m, u64 base, const struct acpi_config *c,
	       u64 *rsdp_gpa)
{
	u64 need = MADT_OFF + madt_length(c->nr_cpus);
	u8 *t;

	if (!config_ok(c) || !IS_ALIGNED(base, ACPI_BASE_ALIGN) ||
	    base > POINTER32_LIMIT - need)
		return -1;
	t = gmem_ptr(m, base, need);
	if (!t)
		return -1;
	memset(t, 0, need);
	build_facs((struct acpi_facs *)(t + FACS_OFF));
	build_dsdt((struct acpi_header *)(t + DSDT_OFF));
	build_fadt((struct acpi_fadt *)(t + FADT_OFF), c, base + FACS_OFF,
		   base + DSDT_OFF);
	build_madt((struct madt_header *)(t + MADT_OFF), c);
	build_xsdt((struct acpi_xsdt *)(t + XSDT_OFF), base + FADT_OFF,
		   base + MADT_OFF);
	build_rsdp((struct acpi_rsdp *)(t + RSDP_OFF), base + XSDT_OFF);
	*rsdp_gpa = base + RSDP_OFF;
	return 0;
}
