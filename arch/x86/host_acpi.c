/*
 * Finding tables in the host's ACPI (ACPI 6.5 §5.2). Every length and
 * checksum is checked before a table is believed: firmware tables come
 * from outside uhv.
 */
#include "arch/x86/host_acpi.h"
#include "lib/string.h"
#include "lib/bytes.h"

#define RSDP_SIG         "RSD PTR "
#define RSDP_SIG_LEN     8
#define RSDP_V1_LEN      20          /* §5.2.5.3: the ACPI 1.0 part */
#define RSDP_REVISION    15
#define RSDP_RSDT        16
#define RSDP_LENGTH      20
#define RSDP_XSDT        24
#define RSDP_V2_MIN_LEN  36
#define SDT_HEADER_LEN   36          /* §5.2.6 */
#define SDT_LENGTH       4
#define SDT_MAX_LEN      0x100000U   /* sanity bound for a firmware table */
#define MADT_ENTRIES     44          /* §5.2.12: after LAPIC addr, flags */
#define MADT_IOAPIC      1
#define MADT_IOAPIC_ADDR 4
#define MADT_IOAPIC_LEN  12
#define HPET_GAS         40          /* HPET table: Generic Address Structure */
#define GAS_SPACE_ID     0
#define GAS_ADDRESS      4
#define GAS_SYSTEM_MEMORY 0
#define HPET_MIN_LEN     56
#define HPET_REV_MASK    0xffULL     /* GCAP_ID bits 7:0 */
#define HPET_PERIOD_SHIFT 32         /* GCAP_ID bits 63:32, femtoseconds */
#define HPET_MAX_PERIOD  100000000ULL   /* 100 ns (spec §2.3.4) */
/* SPCR (Microsoft's Serial Port Console Redirection table, rev. 2): the
   port as a GAS at 40, the interface type at 36, the baud code at 58. */
#define SPCR_INTERFACE   36
#define SPCR_16550       0           /* full 16550 (or 16450) interface */
#define SPCR_16550_GAS   18          /* 16550 described by the GAS */
#define SPCR_GAS         40
#define SPCR_BAUD        58
#define SPCR_MIN_LEN     80
#define GAS_SYSTEM_IO    1
#define IO_PORT_LIMIT    0x10000ULL
/* FADT (ACPI 6.5 §5.2.9): the PM timer's port block, its length, the
   flags (TMR_VAL_EXT: 32 bits, else 24), and from ACPI 2.0 on the same
   block as a GAS. */
#define FADT_PM_TMR_BLK  76
#define FADT_PM_TMR_LEN  91
#define FADT_FLAGS       112
#define FADT_TMR_VAL_EXT (1U << 8)
#define FADT_X_PM_TMR    208
#define FADT_V1_LEN      116
#define FADT_X_LEN       220
#define PM_TMR_BYTES     4

/* Fields are little-endian, at any alignment (tables are byte-packed):
   le32_get and le64_get. */

/* ACPI checksums: all bytes of the structure sum to 0 (§5.2.5.3). */
static bool sum_ok(const u8 *p, u32 len)
{
	u8 s = 0;

	for (u32 i = 0; i < len; i++)
		s = (u8)(s + p[i]);
	return s == 0;
}

/* A system description table at phys: mapped, sane length, checksum. */
static const u8 *map_sdt(u64 phys, acpi_map_fn map)
{
	const u8 *h = phys ? map(phys, SDT_HEADER_LEN) : NULL;
	u32 len;

	if (!h)
		return NULL;
	len = le32_get(h + SDT_LENGTH);
	if (len < SDT_HEADER_LEN || len > SDT_MAX_LEN)
		return NULL;
	h = map(phys, len);
	return h && sum_ok(h, len) ? h : NULL;
}

/* The XSDT where the RSDP has one (revision >= 2), else the RSDT. */
static const u8 *root_table(u64 rsdp, acpi_map_fn map, u32 *entry_size)
{
	const u8 *r = rsdp ? map(rsdp, RSDP_V2_MIN_LEN) : NULL;

	if (!r || memcmp(r, RSDP_SIG, RSDP_SIG_LEN) || !sum_ok(r, RSDP_V1_LEN))
		return NULL;
	if (r[RSDP_REVISION] >= 2 && le32_get(r + RSDP_LENGTH) >= RSDP_V2_MIN_LEN &&
	    sum_ok(r, RSDP_V2_MIN_LEN) && le64_get(r + RSDP_XSDT)) {
		*entry_size = sizeof(u64);
		return map_sdt(le64_get(r + RSDP_XSDT), map);
	}
	*entry_size = sizeof(u32);
	return map_sdt(le32_get(r + RSDP_RSDT), map);
}

/* Walks the root table's entries (§5.2.7, §5.2.8) for signature sig. */
const void *host_acpi_find(u64 rsdp, const char *sig, acpi_map_fn map)
{
	u32 esz = 0;
	const u8 *root = root_table(rsdp, map, &esz);
	u32 len = root ? le32_get(root + SDT_LENGTH) : 0;

	for (u32 off = SDT_HEADER_LEN; off + esz <= len; off += esz) {
		u64 phys = esz == sizeof(u64) ? le64_get(root + off) : le32_get(root + off);
		const u8 *t = map_sdt(phys, map);

		if (t && !memcmp(t, sig, 4))
			return t;
	}
	return NULL;
}

/* MADT entries are (type, length, ...) records (§5.2.12). */
int host_madt_ioapics(const void *madt, u64 *addr, int max)
{
	const u8 *m = madt;
	u32 len = le32_get(m + SDT_LENGTH);
	int n = 0;

	for (u32 off = MADT_ENTRIES; off + 2 <= len && n < max;) {
		u8 type = m[off], elen = m[off + 1];

		if (elen < 2 || off + elen > len)
			break;
		if (type == MADT_IOAPIC && elen >= MADT_IOAPIC_LEN)
			addr[n++] = le32_get(m + off + MADT_IOAPIC_ADDR);
		off += elen;
	}
	return n;
}

/* The HPET table's base address (IA-PC HPET spec §3.2.4). */
u64 host_hpet_base(const void *hpet)
{
	const u8 *h = hpet;

	if (le32_get(h + SDT_LENGTH) < HPET_MIN_LEN ||
	    h[HPET_GAS + GAS_SPACE_ID] != GAS_SYSTEM_MEMORY)
		return 0;
	return le64_get(h + HPET_GAS + GAS_ADDRESS);
}

/* SPCR baud codes: 3 9600, 4 19200, 6 57600, 7 115200; 0 means "as the
   firmware left it", for which uhv takes 115200. */
static u32 spcr_baud(u8 code)
{
	static const u32 rate[] = { [3] = 9600, [4] = 19200, [6] = 57600,
				    [7] = 115200 };

	return code == 0 ? 115200 : code < ARRAY_SIZE(rate) ? rate[code] : 0;
}

bool host_spcr_console(const void *spcr, u16 *port, u32 *baud)
{
	const u8 *s = spcr;
	u64 addr;

	if (le32_get(s + SDT_LENGTH) < SPCR_MIN_LEN ||
	    (s[SPCR_INTERFACE] != SPCR_16550 && s[SPCR_INTERFACE] != SPCR_16550_GAS) ||
	    s[SPCR_GAS + GAS_SPACE_ID] != GAS_SYSTEM_IO)
		return false;
	addr = le64_get(s + SPCR_GAS + GAS_ADDRESS);
	*baud = spcr_baud(s[SPCR_BAUD]);
	if (!addr || addr >= IO_PORT_LIMIT || !*baud)
		return false;
	*port = (u16)addr;
	return true;
}

bool host_fadt_pm_timer(const void *fadt, u16 *port, bool *bits32)
{
	const u8 *f = fadt;
	u32 len = le32_get(f + SDT_LENGTH);
	u64 addr = 0;

	if (len < FADT_V1_LEN)
		return false;
	if (len >= FADT_X_LEN && f[FADT_X_PM_TMR + GAS_SPACE_ID] == GAS_SYSTEM_IO)
		addr = le64_get(f + FADT_X_PM_TMR + GAS_ADDRESS);
	if (!addr && f[FADT_PM_TMR_LEN] == PM_TMR_BYTES)
		addr = le32_get(f + FADT_PM_TMR_BLK);
	if (!addr || addr >= IO_PORT_LIMIT)
		return false;
	*port = (u16)addr;
	*bits32 = le32_get(f + FADT_FLAGS) & FADT_TMR_VAL_EXT;
	return true;
}

/* GCAP_ID (HPET spec §2.3.4): REV_ID 7:0, COUNTER_CLK_PERIOD 63:32. */
bool host_hpet_caps_valid(u64 gcap)
{
	u64 period = gcap >> HPET_PERIOD_SHIFT;

	return gcap != ~0ULL && (gcap & HPET_REV_MASK) != 0 && period != 0 &&
	       period <= HPET_MAX_PERIOD;
}
