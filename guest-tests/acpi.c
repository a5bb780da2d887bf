/* acpi - the ACPI tables an OS finds, read as an OS reads them (ACPI 6.x
 * chapter 5): the RSDP by scanning 0xE0000-0xFFFFF on 16-byte boundaries,
 * then the XSDT (or, for a revision 0 RSDP as QEMU's, the RSDT), the MADT
 * (its enabled local APICs must match fw_cfg's CPU count), the FADT, the
 * FACS, the DSDT and its \_S5 object.  Every signature and checksum is
 * checked.  Reads the PM timer (port from the FADT) across busy loops: it
 * must advance and, being 24 bits wide unless TMR_VAL_EXT, stay below 2^24.
 * With `poweroff` on the cmdline, after PASS it writes the \_S5 SLP_TYP
 * with SLP_EN to PM1a_CNT instead of the debug exit (uhv: type 5; QEMU: 0).
 * Options: `busy=N` TSC ticks per busy loop (default 2000000). */
#include "guest.h"

#define NAME "acpi"

/* Where and how to find the RSDP (§5.2.5.1, §5.2.5.3). */
#define RSDP_SCAN_START   0xE0000u
#define RSDP_SCAN_END     0x100000u
#define RSDP_ALIGN        16u
#define RSDP_SIG          "RSD PTR "
#define RSDP_SIG_LEN      8
#define RSDP_V1_LEN       20u          /* what the first checksum covers */
#define RSDP_V2_LEN       36u
#define RSDP_REVISION_OFF 15
#define RSDP_RSDT_OFF     16
#define RSDP_LENGTH_OFF   20
#define RSDP_XSDT_OFF     24
#define RSDP_OEM_OFF      9
#define RSDP_REV_XSDT     2            /* from ACPI 2.0: XSDT fields */
#define OEM_ID_LEN        6

/* The common table header (§5.2.6). */
#define HDR_LEN           36u
#define HDR_LENGTH_OFF    4
#define HDR_REVISION_OFF  8
#define SIG_LEN           4
#define TABLE_MAX_LEN     (1u * MIB)   /* longer is surely corrupt */
#define XSDT_ENTRY_LEN    8u           /* 64-bit pointers */
#define RSDT_ENTRY_LEN    4u           /* 32-bit pointers */
#define MADT_ENTRY_MIN_LEN 2u          /* type and length bytes */

/* MADT (§5.2.12): Processor Local APIC and x2APIC entries, flag Enabled. */
#define MADT_ENTRIES_OFF  44u
#define MADT_LAPIC_ADDR_OFF 36
#define MADT_TYPE_LAPIC   0
#define MADT_TYPE_IOAPIC  1
#define MADT_TYPE_OVERRIDE 2
#define MADT_TYPE_X2APIC  9
#define MADT_LAPIC_FLAGS_OFF  4
#define MADT_X2APIC_FLAGS_OFF 8
#define MADT_ENABLED      1u

/* FADT (§5.2.9, table "FADT Format"): offsets of the fields read here. */
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT         40
#define FADT_SCI_INT      46
#define FADT_SMI_CMD      48
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM_TMR_BLK   76
#define FADT_FLAGS        112
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT       140
#define FADT_X_PM1A_CNT   172
#define FADT_X_PM_TMR     208
#define GAS_ADDRESS_OFF   4
#define FADT_TMR_VAL_EXT  (1u << 8)
#define FADT_HW_REDUCED   (1u << 20)
#define FACS_MIN_LEN      64u
#define FACS_ALIGN        64u
#define IO_PORT_MAX       0xFFFFu

/* AML bytes (§20.2): Name (_S5_, Package () { SLP_TYPa, ... }). */
#define AML_NAME_OP       0x08
#define AML_ROOT_CHAR     0x5C         /* '\' before a NameSeg */
#define AML_PACKAGE_OP    0x12
#define AML_ZERO_OP       0x00
#define AML_ONE_OP        0x01
#define AML_BYTE_PREFIX   0x0A
#define AML_PKGLEN_EXTRA_SHIFT 6       /* PkgLength bits 7:6: extra bytes */

/* PM1 control (§4.8.3.2.1) and timer (§4.8.3.3). */
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK  (7u << PM1_SLP_TYP_SHIFT)
#define PM1_SLP_EN        (1u << 13)
#define PM_TMR_24BIT_MASK 0xFFFFFFu
#define PM_TMR_32BIT_MASK 0xFFFFFFFFu
#define SLP_TYP_MAX       7            /* a 3-bit field */
#define PM_TMR_SAMPLES    3
#define BUSY_TICKS_DEFAULT 2000000u
#define POWEROFF_WAIT_TICKS 1000000000u  /* then S5 has failed */

struct acpi_found {
    u32 rsdp, root, madt, fadt, facs, dsdt;
    u32 cpus, ioapics, overrides;
    u32 pm1a_cnt, pm_tmr, tmr_mask;
    int s5_typ;                        /* -1: no \_S5 */
};

static u8 rd8(u32 a) { return *(const volatile u8 *)(uintptr_t)a; }
static u16 rd16(u32 a) { return (u16)(rd8(a) | rd8(a + 1) << 8); }
static u32 rd32(u32 a) { return rd16(a) | (u32)rd16(a + 2) << 16; }
static u64 rd64(u32 a) { return rd32(a) | (u64)rd32(a + 4) << 32; }

/* 16- and 32-bit port I/O, which lib/io.h does not need elsewhere. */
static inline u32 inl(u16 port)
{
    u32 v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline u16 inw(u16 port)
{
    u16 v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static u8 sum(u32 a, u32 len)
{
    u8 s = 0;
    while (len--)
        s = (u8)(s + rd8(a++));
    return s;
}

static bool sig_at(u32 a, const char *sig, u32 len)
{
    for (u32 i = 0; i < len; i++)
        if (rd8(a + i) != (u8)sig[i])
            return false;
    return true;
}

/* Print a table's name, where it is and how long. */
static void print_table(u32 a)
{
    gprintf("  %c%c%c%c at 0x%08x, %u bytes, revision %u\n", rd8(a),
            rd8(a + 1), rd8(a + 2), rd8(a + 3), a, rd32(a + HDR_LENGTH_OFF),
            rd8(a + HDR_REVISION_OFF));
}

/* Check the table at a: where expected, sig (if any), sane length and a
 * checksum that sums to 0 (§5.2.6).  Fails the test otherwise. */
static void check_table(u32 a, const char *sig)
{
    if (!a)
        fail(NAME, "no %s table", sig);
    if (sig && !sig_at(a, sig, SIG_LEN))
        fail(NAME, "no %s signature at 0x%08x", sig, a);
    u32 len = rd32(a + HDR_LENGTH_OFF);
    if (len < HDR_LEN || len > TABLE_MAX_LEN)
        fail(NAME, "table at 0x%08x: bad length %u", a, len);
    if (sum(a, len))
        fail(NAME, "table at 0x%08x: checksum does not sum to 0", a);
    print_table(a);
}

/* A 64-bit table pointer the 32-bit, paging-off guest can follow. */
static u32 ptr32(u64 p, const char *what)
{
    if (p >> 32)
        fail(NAME, "%s at 0x%llx, above 4 GiB", what, p);
    return (u32)p;
}

static u32 find_rsdp(void)
{
    for (u32 a = RSDP_SCAN_START; a < RSDP_SCAN_END; a += RSDP_ALIGN)
        if (sig_at(a, RSDP_SIG, RSDP_SIG_LEN) && !sum(a, RSDP_V1_LEN))
            return a;
    fail(NAME, "no RSDP in 0x%x..0x%x", RSDP_SCAN_START, RSDP_SCAN_END - 1);
}

/* The RSDP's checks; returns the XSDT (revision >= 2) or the RSDT. */
static u32 root_table(u32 rsdp, bool *xsdt)
{
    u8 rev = rd8(rsdp + RSDP_REVISION_OFF);
    gprintf("RSDP at 0x%08x, revision %u, OEM \"", rsdp, rev);
    for (u32 i = 0; i < OEM_ID_LEN; i++)
        serial_putc((char)rd8(rsdp + RSDP_OEM_OFF + i));
    gprintf("\"\n");
    *xsdt = rev >= RSDP_REV_XSDT;
    if (!*xsdt)
        return rd32(rsdp + RSDP_RSDT_OFF);
    u32 len = rd32(rsdp + RSDP_LENGTH_OFF);
    if (len < RSDP_V2_LEN || len > TABLE_MAX_LEN || sum(rsdp, len))
        fail(NAME, "RSDP length %u or extended checksum wrong", len);
    return ptr32(rd64(rsdp + RSDP_XSDT_OFF), "XSDT");
}

/* Walk the XSDT/RSDT: every entry checked, FACP and APIC remembered. */
static void walk_root(struct acpi_found *f, bool xsdt)
{
    u32 esize = xsdt ? XSDT_ENTRY_LEN : RSDT_ENTRY_LEN;
    check_table(f->root, xsdt ? "XSDT" : "RSDT");
    u32 n = (rd32(f->root + HDR_LENGTH_OFF) - HDR_LEN) / esize;
    for (u32 i = 0; i < n; i++) {
        u32 e = f->root + HDR_LEN + i * esize;
        u32 t = xsdt ? ptr32(rd64(e), "a table") : rd32(e);
        check_table(t, NULL);
        if (sig_at(t, "FACP", SIG_LEN))
            f->fadt = t;
        if (sig_at(t, "APIC", SIG_LEN))
            f->madt = t;
    }
}

/* Count enabled CPUs (local APIC and x2APIC entries), I/O APICs and
 * interrupt source overrides. */
static void walk_madt(struct acpi_found *f)
{
    u32 end = f->madt + rd32(f->madt + HDR_LENGTH_OFF), e, len;
    for (e = f->madt + MADT_ENTRIES_OFF; e < end; e += len) {
        u8 type = rd8(e);
        len = rd8(e + 1);
        if (len < MADT_ENTRY_MIN_LEN || e + len > end)
            fail(NAME, "MADT entry at 0x%08x: bad length %u", e, len);
        if (type == MADT_TYPE_LAPIC &&
            (rd32(e + MADT_LAPIC_FLAGS_OFF) & MADT_ENABLED))
            f->cpus++;
        if (type == MADT_TYPE_X2APIC &&
            (rd32(e + MADT_X2APIC_FLAGS_OFF) & MADT_ENABLED))
            f->cpus++;
        f->ioapics += type == MADT_TYPE_IOAPIC;
        f->overrides += type == MADT_TYPE_OVERRIDE;
    }
    gprintf("MADT: local APIC at 0x%08x, %u enabled CPUs, %u I/O APICs, "
            "%u overrides\n", rd32(f->madt + MADT_LAPIC_ADDR_OFF), f->cpus,
            f->ioapics, f->overrides);
}

/* A FADT field: the X_ form if the table is long enough and it is set,
 * else the 32-bit form (§5.2.9: an X_ field, when non-zero, wins). */
static u32 fadt_addr(const struct acpi_found *f, u32 off32, u32 off64,
                     const char *what)
{
    u32 len = rd32(f->fadt + HDR_LENGTH_OFF);
    if (off64 + sizeof(u64) <= len && rd64(f->fadt + off64))
        return ptr32(rd64(f->fadt + off64), what);
    return rd32(f->fadt + off32);
}

static void walk_fadt(struct acpi_found *f)
{
    u32 flags = rd32(f->fadt + FADT_FLAGS);
    f->dsdt = fadt_addr(f, FADT_DSDT, FADT_X_DSDT, "DSDT");
    f->facs = fadt_addr(f, FADT_FIRMWARE_CTRL, FADT_X_FIRMWARE_CTRL, "FACS");
    f->pm1a_cnt = fadt_addr(f, FADT_PM1A_CNT_BLK,
                            FADT_X_PM1A_CNT + GAS_ADDRESS_OFF, "PM1a_CNT");
    f->pm_tmr = fadt_addr(f, FADT_PM_TMR_BLK, FADT_X_PM_TMR + GAS_ADDRESS_OFF,
                          "PM_TMR");
    f->tmr_mask = (flags & FADT_TMR_VAL_EXT) ? PM_TMR_32BIT_MASK
                                             : PM_TMR_24BIT_MASK;
    gprintf("FADT: SCI %u, SMI_CMD 0x%x, PM1a_CNT 0x%x, PM_TMR 0x%x "
            "(%u bits), flags 0x%08x\n", rd16(f->fadt + FADT_SCI_INT),
            rd32(f->fadt + FADT_SMI_CMD), f->pm1a_cnt, f->pm_tmr,
            f->tmr_mask == PM_TMR_24BIT_MASK ? 24 : 32, flags);
    if (!f->pm_tmr || !f->pm1a_cnt || f->pm_tmr > IO_PORT_MAX ||
        f->pm1a_cnt > IO_PORT_MAX)
        fail(NAME, "FADT PM ports unusable (PM1a_CNT 0x%x PM_TMR 0x%x)",
             f->pm1a_cnt, f->pm_tmr);
    if (!(flags & FADT_HW_REDUCED) && !f->facs)
        fail(NAME, "no FACS, and the FADT is not hardware-reduced");
    if (f->facs) {
        if (!sig_at(f->facs, "FACS", SIG_LEN) ||
            rd32(f->facs + HDR_LENGTH_OFF) < FACS_MIN_LEN ||
            f->facs % FACS_ALIGN)
            fail(NAME, "FACS at 0x%08x: bad signature, length or alignment",
                 f->facs);
        gprintf("  FACS at 0x%08x, %u bytes\n", f->facs,
                rd32(f->facs + HDR_LENGTH_OFF));
    }
}

/* One AML integer (§20.2.3): ZeroOp, OneOp or ByteConst; -1 otherwise. */
static int aml_small_int(u32 a)
{
    switch (rd8(a)) {
    case AML_ZERO_OP:     return 0;
    case AML_ONE_OP:      return 1;
    case AML_BYTE_PREFIX: return rd8(a + 1);
    default:              return -1;
    }
}

/* Find Name (_S5_ or \_S5_, Package) in the DSDT; returns its SLP_TYPa. */
static int find_s5(u32 dsdt)
{
    u32 end = dsdt + rd32(dsdt + HDR_LENGTH_OFF);
    for (u32 a = dsdt + HDR_LEN + 1; a + SIG_LEN + 4 <= end; a++) {
        if (!sig_at(a, "_S5_", SIG_LEN) || rd8(a + SIG_LEN) != AML_PACKAGE_OP)
            continue;
        u8 before = rd8(a - 1);
        if (before != AML_NAME_OP &&
            !(before == AML_ROOT_CHAR && rd8(a - 2) == AML_NAME_OP))
            continue;
        u32 p = a + SIG_LEN + 1;               /* PkgLength */
        p += 1 + (rd8(p) >> AML_PKGLEN_EXTRA_SHIFT);
        gprintf("DSDT: _S5_ at 0x%08x, %u elements:", a, rd8(p));
        for (u32 i = 0, q = p + 1; i < rd8(p) && q < end; i++) {
            int v = aml_small_int(q);
            gprintf(" %d", v);
            q += rd8(q) == AML_BYTE_PREFIX ? 2 : 1;
        }
        gprintf("\n");
        return aml_small_int(p + 1);
    }
    return -1;
}

/* Spin for ticks TSC ticks. */
static void busy(u64 ticks)
{
    u64 t0 = rdtsc();
    while (rdtsc() - t0 < ticks)
        __asm__ volatile("pause");
}

static void check_pm_timer(const struct acpi_found *f, u64 ticks)
{
    u32 t[PM_TMR_SAMPLES];
    for (u32 i = 0; i < PM_TMR_SAMPLES; i++) {
        if (i)
            busy(ticks);
        t[i] = inl((u16)f->pm_tmr);
    }
    gprintf("PM timer: %u, %u, %u\n", t[0], t[1], t[2]);
    for (u32 i = 0; i < PM_TMR_SAMPLES; i++)
        if (t[i] & ~f->tmr_mask)
            fail(NAME, "PM timer read 0x%x, wider than its %s bits", t[i],
                 f->tmr_mask == PM_TMR_24BIT_MASK ? "24" : "32");
    for (u32 i = 1; i < PM_TMR_SAMPLES; i++) {
        u32 d = (t[i] - t[i - 1]) & f->tmr_mask;
        if (d == 0 || d > f->tmr_mask / 2)
            fail(NAME, "PM timer did not advance (%u then %u)", t[i - 1], t[i]);
    }
}

/* Write SLP_TYPa | SLP_EN to PM1a_CNT (§7.4.2.5, §4.8.3.2.1). */
static void poweroff(const struct acpi_found *f)
{
    u16 cnt = inw((u16)f->pm1a_cnt) & ~(PM1_SLP_TYP_MASK | PM1_SLP_EN);
    gprintf("acpi: powering off via S5 (SLP_TYP %d at port 0x%x)\n",
            f->s5_typ, f->pm1a_cnt);
    cnt |= (u16)((u32)f->s5_typ << PM1_SLP_TYP_SHIFT);
    outw((u16)f->pm1a_cnt, cnt);
    outw((u16)f->pm1a_cnt, cnt | PM1_SLP_EN);
    busy(POWEROFF_WAIT_TICKS);
    fail(NAME, "still running after the S5 write");
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    const char *cmdline = mb_cmdline(mbi);
    struct acpi_found f = { 0 };
    bool xsdt;

    f.rsdp = find_rsdp();
    f.root = root_table(f.rsdp, &xsdt);
    walk_root(&f, xsdt);
    if (!f.madt || !f.fadt)
        fail(NAME, "the %s lists no %s", xsdt ? "XSDT" : "RSDT",
             f.madt ? "FADT (FACP)" : "MADT (APIC)");
    walk_madt(&f);
    walk_fadt(&f);
    check_table(f.dsdt, "DSDT");
    f.s5_typ = find_s5(f.dsdt);
    if (f.s5_typ < 0 || f.s5_typ > SLP_TYP_MAX)
        fail(NAME, "no usable Name (_S5_, Package) in the DSDT");
    u16 cpus = fw_cfg_read_u16(FW_CFG_NB_CPUS);
    gprintf("fw_cfg CPUs %u, MADT CPUs %u\n", cpus, f.cpus);
    if (cpus != f.cpus)
        fail(NAME, "MADT has %u enabled CPUs, fw_cfg says %u", f.cpus, cpus);
    if (!f.ioapics)
        fail(NAME, "MADT has no I/O APIC");
    check_pm_timer(&f, cmdline_u64(cmdline, "busy", BUSY_TICKS_DEFAULT));
    if (!cmdline_has(cmdline, "poweroff"))
        pass(NAME);
    gprintf("PASS %s\n", NAME);
    poweroff(&f);
}
