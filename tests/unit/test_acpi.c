/*
 * vmm/dev/acpi.c and vmm/dev/acpi_pm.c. The tables are read back the way an OS
 * reads them: the RSDP found by scanning 0xE0000-0xFFFFF, then pointers
 * followed, every field read at its byte offset from the ACPI 6.x tables
 * (not through acpi.c's structures); the DSDT's AML is parsed by its
 * grammar (§20.2) and its resource descriptors by their tags (§6.4). The
 * PM block runs on a fake clock.
 */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "vmm/dev/acpi.h"
#include "vmm/dev/acpi_pm.h"
#include "vmm/config.h"

Suite *acpi_suite(void);

#define RAM_SIZE MiB(2)
#define PM_BASE  0x600
#define SCI_IRQ  9
#define IOAPIC   0xfec00000ULL
#define LAPIC    0xfee00000ULL

static u8 *ram;
static struct gmem mem;
static struct acpi_config cfg;
static u64 rsdp;

static u8 rd8(u64 a) { ck_assert_uint_lt(a, mem.size); return ram[a]; }
static u16 rd16(u64 a) { return (u16)(rd8(a) | rd8(a + 1) << 8); }
static u32 rd32(u64 a) { return rd16(a) | (u32)rd16(a + 2) << 16; }
static u64 rd64(u64 a) { return rd32(a) | (u64)rd32(a + 4) << 32; }

static u8 sum(u64 a, u64 len)
{
	u8 s = 0;

	ck_assert(gmem_ok(&mem, a, len));
	for (u64 i = 0; i < len; i++)
		s = (u8)(s + ram[a + i]);
	return s;
}

static bool sig_is(u64 a, const char *sig)
{
	return gmem_ok(&mem, a, strlen(sig)) && !memcmp(ram + a, sig, strlen(sig));
}

static void table_setup(void)
{
	ram = malloc(RAM_SIZE);
	ck_assert_ptr_nonnull(ram);
	memset(ram, 0xa5, RAM_SIZE);            /* tables must not rely on zeros */
	mem = (struct gmem){ ram, RAM_SIZE };
	cfg = (struct acpi_config){ .nr_cpus = 1, .ram_size = RAM_SIZE,
		.pm_base = PM_BASE, .sci_irq = SCI_IRQ, .ioapic_base = IOAPIC,
		.ioapic_gsi_base = 0, .lapic_base = LAPIC };
	rsdp = 0;
}

static void table_teardown(void)
{
	free(ram);
}

static void build(u32 cpus)
{
	cfg.nr_cpus = cpus;
	ck_assert_int_eq(acpi_build(&mem, ACPI_TABLES_GPA, &cfg, &rsdp), 0);
}

/* What an OS does (§5.2.5.1): 16-byte steps, signature and checksum. */
static u64 scan_rsdp(void)
{
	for (u64 a = ACPI_RSDP_SCAN_START; a < ACPI_RSDP_SCAN_END; a += 16)
		if (sig_is(a, "RSD PTR ") && sum(a, 20) == 0)
			return a;
	return 0;
}

/* The XSDT entry whose table has signature sig, checked; 0 if none. */
static u64 find_table(const char *sig)
{
	u64 xsdt = rd64(scan_rsdp() + 24), n = (rd32(xsdt + 4) - 36) / 8;

	for (u64 i = 0; i < n; i++) {
		u64 t = rd64(xsdt + 36 + 8 * i);

		if (sig_is(t, sig)) {
			ck_assert_uint_eq(sum(t, rd32(t + 4)), 0);
			return t;
		}
	}
	return 0;
}

START_TEST(rsdp_found_by_scan)
{
	u64 r;

	build(1);
	r = scan_rsdp();
	ck_assert_uint_eq(r, ACPI_TABLES_GPA);
	ck_assert_uint_eq(rsdp, r);
	ck_assert_uint_eq(r % 16, 0);
	ck_assert_uint_eq(sum(r, 20), 0);               /* ACPI 1.0 checksum */
	ck_assert_uint_eq(rd8(r + 15), 2);              /* revision */
	ck_assert_uint_eq(rd32(r + 20), 36);            /* length */
	ck_assert_uint_eq(sum(r, 36), 0);               /* extended checksum */
	ck_assert(sig_is(r + 9, "UHV   "));
	ck_assert_uint_eq(rd32(r + 16), 0);             /* no RSDT */
	ck_assert(sig_is(rd64(r + 24), "XSDT"));
}
END_TEST

/* Every table: signature, length, checksum, OEM fields, alignment. */
START_TEST(every_table_checks_out)
{
	static const char *const want[] = { "FACP", "APIC" };
	u64 xsdt, fadt, dsdt, facs;

	build(4);
	xsdt = rd64(scan_rsdp() + 24);
	ck_assert_uint_eq(rd32(xsdt + 4), 36 + 2 * 8);
	ck_assert_uint_eq(sum(xsdt, rd32(xsdt + 4)), 0);
	for (unsigned i = 0; i < 2; i++) {
		u64 t = rd64(xsdt + 36 + 8 * i);

		ck_assert(sig_is(t, want[i]));
		ck_assert_uint_eq(sum(t, rd32(t + 4)), 0);
		ck_assert(sig_is(t + 10, "UHV   "));
		ck_assert(sig_is(t + 16, "UHVVM   "));
		ck_assert_uint_eq(t % 16, 0);
		ck_assert_uint_le(t + rd32(t + 4), ACPI_TABLES_GPA + ACPI_AREA_SIZE);
	}
	fadt = find_table("FACP");
	dsdt = rd64(fadt + 140);
	ck_assert(sig_is(dsdt, "DSDT"));
	ck_assert_uint_eq(sum(dsdt, rd32(dsdt + 4)), 0);
	ck_assert(sig_is(dsdt + 16, "UHVVM   "));
	facs = rd32(fadt + 36);
	ck_assert(sig_is(facs, "FACS"));
	ck_assert_uint_eq(rd32(facs + 4), 64);
	ck_assert_uint_eq(facs % 64, 0);
	ck_assert_uint_eq(rd8(facs + 32), 2);           /* version */
	ck_assert_uint_eq(rd64(fadt + 132), 0);         /* X_FIRMWARE_CTRL */
}
END_TEST

static const u32 cpu_counts[] = { 1, 4, ACPI_MAX_CPUS };

START_TEST(madt_entries)
{
	u32 n = cpu_counts[_i], lapics = 0, ioapics = 0, ovr = 0;
	u64 madt, end, e;

	build(n);
	madt = find_table("APIC");
	ck_assert_uint_ne(madt, 0);
	end = madt + rd32(madt + 4);
	ck_assert_uint_eq(rd32(madt + 4), 44 + 8 * n + 12 + 2 * 10);
	ck_assert_uint_eq(rd32(madt + 36), LAPIC);
	ck_assert_uint_eq(rd32(madt + 40) & 1, 1);      /* PCAT_COMPAT */
	for (e = madt + 44; e < end; e += rd8(e + 1)) {
		ck_assert_uint_ge(rd8(e + 1), 2);
		switch (rd8(e)) {
		case 0:                                 /* Processor Local APIC */
			ck_assert_uint_eq(rd8(e + 1), 8);
			ck_assert_uint_eq(rd8(e + 2), lapics); /* UID */
			ck_assert_uint_eq(rd8(e + 3), lapics); /* APIC ID */
			ck_assert_uint_eq(rd32(e + 4), 1);     /* enabled */
			lapics++;
			break;
		case 1:                                 /* I/O APIC */
			ck_assert_uint_eq(rd8(e + 1), 12);
			ck_assert_uint_eq(rd8(e + 2), ACPI_IOAPIC_ID);
			ck_assert_uint_eq(rd32(e + 4), IOAPIC);
			ck_assert_uint_eq(rd32(e + 8), 0);
			ioapics++;
			break;
		case 2:                                 /* Interrupt Source Override */
			ck_assert_uint_eq(rd8(e + 1), 10);
			ck_assert_uint_eq(rd8(e + 2), 0);      /* ISA */
			if (rd8(e + 3) == 0) {
				ck_assert_uint_eq(rd32(e + 4), 2);
				ck_assert_uint_eq(rd16(e + 8), 0x5);   /* edge, high */
			} else {
				ck_assert_uint_eq(rd8(e + 3), SCI_IRQ);
				ck_assert_uint_eq(rd32(e + 4), SCI_IRQ);
				ck_assert_uint_eq(rd16(e + 8), 0xd);   /* level, high */
			}
			ovr++;
			break;
		default:
			ck_abort_msg("unexpected MADT entry type %u", rd8(e));
		}
	}
	ck_assert_uint_eq(e, end);
	ck_assert_uint_eq(lapics, n);
	ck_assert_uint_eq(ioapics, 1);
	ck_assert_uint_eq(ovr, 2);
}
END_TEST

/* A Generic Address Structure (§5.2.3.2): system I/O at port, width bits. */
static void check_gas(u64 g, u32 port, u8 bits)
{
	ck_assert_uint_eq(rd8(g), 1);
	ck_assert_uint_eq(rd8(g + 1), bits);
	ck_assert_uint_eq(rd8(g + 2), 0);
	ck_assert_uint_eq(rd64(g + 4), port);
}

START_TEST(fadt_fields)
{
	u64 fadt, dsdt;
	u32 flags;

	build(2);
	fadt = find_table("FACP");
	ck_assert_uint_eq(rd32(fadt + 4), 276);
	ck_assert_uint_eq(rd8(fadt + 8), 6);
	dsdt = rd32(fadt + 40);
	ck_assert(sig_is(dsdt, "DSDT"));
	ck_assert_uint_eq(rd64(fadt + 140), dsdt);      /* X_DSDT */
	ck_assert_uint_eq(rd16(fadt + 46), SCI_IRQ);
	ck_assert_uint_eq(rd32(fadt + 48), 0);          /* SMI_CMD */
	ck_assert_uint_eq(rd32(fadt + 56), PM_BASE);    /* PM1a_EVT_BLK */
	ck_assert_uint_eq(rd32(fadt + 60), 0);          /* no PM1b */
	ck_assert_uint_eq(rd32(fadt + 64), PM_BASE + 4);
	ck_assert_uint_eq(rd32(fadt + 76), PM_BASE + 8);
	ck_assert_uint_eq(rd32(fadt + 80), 0);          /* no GPE0 */
	ck_assert_uint_eq(rd8(fadt + 88), 4);
	ck_assert_uint_eq(rd8(fadt + 89), 2);
	ck_assert_uint_eq(rd8(fadt + 91), 4);
	ck_assert_uint_eq(rd8(fadt + 92), 0);
	ck_assert_uint_eq(rd16(fadt + 109) & 3, 1);     /* LEGACY, no 8042 */
	ck_assert_uint_eq(rd16(fadt + 109) & (1u << 5), 0); /* an RTC exists */
	flags = rd32(fadt + 112);
	ck_assert_uint_eq(flags & (1u << 0), 1u << 0);  /* WBINVD */
	ck_assert_uint_eq(flags & (1u << 2), 1u << 2);  /* PROC_C1 */
	ck_assert_uint_eq(flags & (1u << 5), 1u << 5);  /* SLP_BUTTON */
	ck_assert_uint_eq(flags & (1u << 8), 0);        /* TMR_VAL_EXT: 24 bits */
	ck_assert_uint_eq(flags & (1u << 10), 0);       /* RESET_REG_SUP */
	ck_assert_uint_eq(flags & (1u << 20), 0);       /* HW_REDUCED_ACPI */
	check_gas(fadt + 148, PM_BASE, 32);             /* X_PM1a_EVT_BLK */
	check_gas(fadt + 172, PM_BASE + 4, 16);         /* X_PM1a_CNT_BLK */
	check_gas(fadt + 208, PM_BASE + 8, 32);         /* X_PM_TMR_BLK */
	ck_assert_uint_eq(rd64(fadt + 160 + 4), 0);     /* X_PM1b_EVT_BLK */
}
END_TEST

START_TEST(dsdt_has_s5)
{
	/* Name (_S5_, Package (4) { 5, 5, 0, 0 }) */
	static const u8 s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
				 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };
	u64 dsdt, len;
	bool found = false;

	build(1);
	dsdt = rd64(find_table("FACP") + 140);
	len = rd32(dsdt + 4);
	ck_assert_uint_eq(rd8(dsdt + 8), 2);            /* 64-bit AML integers */
	ck_assert_uint_ge(len, 36 + sizeof(s5));
	for (u64 i = 36; i + sizeof(s5) <= len; i++)
		found |= !memcmp(ram + dsdt + i, s5, sizeof(s5));
	ck_assert(found);
}
END_TEST

/* ---- The DSDT's AML, parsed (§20.2) ---- */

static u64 find_dsdt(void)
{
	u64 dsdt = rd64(find_table("FACP") + 140);

	ck_assert(sig_is(dsdt, "DSDT"));
	ck_assert_uint_eq(sum(dsdt, rd32(dsdt + 4)), 0);
	return dsdt;
}

/* PkgLength (§20.2.4) at *a: moves *a past it and returns the address
   where its package ends. Checks the encoding: reserved bits clear, and
   the shortest form (one byte up to 63, two up to 4095, ...). */
static u64 pkg_end(u64 *a)
{
	u64 start = *a, len;
	u8 lead = rd8(start);
	unsigned follow = lead >> 6;

	if (follow == 0) {
		len = lead & 0x3f;
	} else {
		ck_assert_uint_eq(lead & 0x30, 0);
		len = lead & 0x0f;
		for (unsigned i = 0; i < follow; i++)
			len |= (u64)rd8(start + 1 + i) << (4 + 8 * i);
		/* more than the form with one follow byte fewer holds */
		ck_assert_uint_gt(len, follow == 1 ? 63 :
				  (1ULL << (4 + 8 * (follow - 1))) - 1);
	}
	*a = start + 1 + follow;
	ck_assert_uint_ge(len, 1 + follow);
	return start + len;
}

/* A ComputationalData integer (§20.2.3) at *a, which it moves past. */
static u64 aml_int(u64 *a)
{
	u64 p = *a + 1, v;

	switch (rd8(*a)) {
	case 0x00: v = 0; break;                      /* ZeroOp */
	case 0x01: v = 1; break;                      /* OneOp */
	case 0xff: v = ~0ULL; break;                  /* OnesOp */
	case 0x0a: v = rd8(p); p += 1; break;         /* BytePrefix */
	case 0x0b: v = rd16(p); p += 2; break;        /* WordPrefix */
	case 0x0c: v = rd32(p); p += 4; break;        /* DWordPrefix */
	case 0x0e: v = rd64(p); p += 8; break;        /* QWordPrefix */
	default:
		ck_abort_msg("no AML integer at 0x%llx: 0x%02x",
			     (unsigned long long)*a, rd8(*a));
	}
	*a = p;
	return v;
}

/* A compressed EISA ID (§6.1.5), decoded: "PNP0A03" from 41 D0 0A 03. */
static void eisa_id(u32 id, char out[8])
{
	static const char hex[] = "0123456789ABCDEF";
	u8 b0 = (u8)id, b1 = (u8)(id >> 8), b2 = (u8)(id >> 16), b3 = (u8)(id >> 24);

	ck_assert_uint_eq(b0 & 0x80, 0);
	out[0] = (char)('@' + (b0 >> 2));
	out[1] = (char)('@' + ((b0 & 3) << 3 | b1 >> 5));
	out[2] = (char)('@' + (b1 & 0x1f));
	out[3] = hex[b2 >> 4];
	out[4] = hex[b2 & 0xf];
	out[5] = hex[b3 >> 4];
	out[6] = hex[b3 & 0xf];
	out[7] = 0;
}

/* What the walk finds: where each of the PCI0 objects and descriptors is. */
struct pci0 {
	u64 hid, uid, bbn;             /* the values */
	bool has_hid, has_uid, has_bbn, has_crs;
	u64 bus, cfg, io[2], mem;      /* descriptor addresses */
	unsigned nio, ndesc;
};

/* A resource template (§6.4): descriptors from a to end, the End Tag
   last. Each tag's length is the one its descriptor type has. */
static void walk_resources(u64 a, u64 end, struct pci0 *p)
{
	for (;;) {
		u8 tag = rd8(a);
		u64 total;

		p->ndesc++;
		if (tag & 0x80) {                       /* large item (§6.4.3) */
			u16 len = rd16(a + 1);

			total = 3 + (u64)len;
			switch (tag) {
			case 0x87:                      /* DWord Address Space */
				ck_assert_uint_eq(len, 23);
				ck_assert_uint_eq(rd8(a + 3), 0);   /* memory */
				ck_assert_uint_eq(p->mem, 0);
				p->mem = a;
				break;
			case 0x88:                      /* Word Address Space */
				ck_assert_uint_eq(len, 13);
				if (rd8(a + 3) == 2) {              /* bus numbers */
					ck_assert_uint_eq(p->bus, 0);
					p->bus = a;
				} else {
					ck_assert_uint_eq(rd8(a + 3), 1);   /* I/O */
					ck_assert_uint_lt(p->nio, 2);
					p->io[p->nio++] = a;
				}
				break;
			default:
				ck_abort_msg("unexpected large descriptor 0x%02x", tag);
			}
		} else {                                /* small item (§6.4.2) */
			unsigned name = tag >> 3 & 0xf, len = tag & 7;

			total = 1 + len;
			if (name == 0xf) {              /* End Tag: 2 bytes, last */
				ck_assert_uint_eq(len, 1);
				ck_assert_uint_eq(a + total, end);
				return;
			}
			ck_assert_uint_eq(name, 0x8);   /* I/O Port */
			ck_assert_uint_eq(len, 7);
			ck_assert_uint_eq(p->cfg, 0);
			p->cfg = a;
		}
		ck_assert_uint_le(a + total, end);
		a += total;
	}
}

/* The DSDT's TermList: Name (_S5_, Package), then Device (\_SB.PCI0),
   which ends where the table does; every byte of it accounted for. */
static void parse_dsdt(struct pci0 *p)
{
	u64 dsdt = find_dsdt(), a = dsdt + 36, end = dsdt + rd32(dsdt + 4);
	u64 dev_end;

	memset(p, 0, sizeof(*p));
	ck_assert_uint_eq(rd8(a), 0x08);                /* NameOp */
	ck_assert(sig_is(a + 1, "_S5_"));
	ck_assert_uint_eq(rd8(a + 5), 0x12);            /* PackageOp */
	a += 6;
	a = pkg_end(&a);
	ck_assert_uint_eq(rd8(a), 0x5b);                /* ExtOpPrefix */
	ck_assert_uint_eq(rd8(a + 1), 0x82);            /* DeviceOp */
	a += 2;
	dev_end = pkg_end(&a);
	ck_assert_uint_eq(dev_end, end);
	ck_assert_uint_eq(rd8(a), '\\');                /* RootChar */
	ck_assert_uint_eq(rd8(a + 1), 0x2e);            /* DualNamePrefix */
	ck_assert(sig_is(a + 2, "_SB_PCI0"));
	a += 10;
	while (a < dev_end) {
		u64 name = a + 1;

		ck_assert_uint_eq(rd8(a), 0x08);        /* only Name () inside */
		a += 5;
		if (sig_is(name, "_HID")) {
			ck_assert_uint_eq(rd8(a), 0x0c);    /* an EISA ID DWord */
			p->hid = aml_int(&a);
			p->has_hid = true;
		} else if (sig_is(name, "_UID")) {
			p->uid = aml_int(&a);
			p->has_uid = true;
		} else if (sig_is(name, "_BBN")) {
			p->bbn = aml_int(&a);
			p->has_bbn = true;
		} else if (sig_is(name, "_CRS")) {
			u64 buf_end, size;

			ck_assert_uint_eq(rd8(a++), 0x11);  /* BufferOp */
			buf_end = pkg_end(&a);
			ck_assert_uint_le(buf_end, dev_end);
			size = aml_int(&a);                 /* BufferSize */
			ck_assert_uint_eq(a + size, buf_end);
			walk_resources(a, buf_end, p);
			a = buf_end;
			p->has_crs = true;
		} else {
			ck_abort_msg("unexpected name %.4s", (char *)ram + name);
		}
	}
	ck_assert_uint_eq(a, dev_end);
}

START_TEST(dsdt_pci0_parses)
{
	struct pci0 p;
	char hid[8];

	build(cpu_counts[_i]);
	parse_dsdt(&p);
	ck_assert(p.has_hid && p.has_uid && p.has_bbn && p.has_crs);
	eisa_id((u32)p.hid, hid);
	ck_assert_str_eq(hid, "PNP0A03");               /* PCI host bridge */
	ck_assert_uint_eq(p.uid, 0);
	ck_assert_uint_eq(p.bbn, 0);
	ck_assert_uint_eq(p.ndesc, 6);
	ck_assert_uint_ne(p.bus, 0);
	ck_assert_uint_ne(p.cfg, 0);
	ck_assert_uint_eq(p.nio, 2);
	ck_assert_uint_ne(p.mem, 0);
}
END_TEST

/* A window: produced (general flags bit 0 clear), positive decode, both
   ends fixed, so its length is max - min + 1 (§6.4.3.5). */
static void check_window(u64 d, unsigned width, u64 min, u64 max)
{
	u64 f = d + 6;                                  /* _GRA */

	ck_assert_uint_eq(rd8(d + 4), 0x0c);            /* MaxFixed, MinFixed */
	switch (width) {
	case 2:
		ck_assert_uint_eq(rd16(f), 0);
		ck_assert_uint_eq(rd16(f + 2), min);
		ck_assert_uint_eq(rd16(f + 4), max);
		ck_assert_uint_eq(rd16(f + 6), 0);      /* no translation */
		ck_assert_uint_eq(rd16(f + 8), max - min + 1);
		break;
	case 4:
		ck_assert_uint_eq(rd32(f), 0);
		ck_assert_uint_eq(rd32(f + 4), min);
		ck_assert_uint_eq(rd32(f + 8), max);
		ck_assert_uint_eq(rd32(f + 12), 0);
		ck_assert_uint_eq(rd32(f + 16), max - min + 1);
		break;
	default:
		ck_abort_msg("no %u-byte address descriptor", width);
	}
}

START_TEST(dsdt_pci0_windows)
{
	struct pci0 p;
	u64 lo, hi;

	build(1);
	parse_dsdt(&p);
	/* bus 0 only: the bus range Linux takes over _BBN */
	check_window(p.bus, 2, 0, 0);
	ck_assert_uint_eq(rd8(p.bus + 5), 0);
	/* IO (Decode16, 0xCF8, 0xCF8, 1, 8): the config ports, consumed */
	ck_assert_uint_eq(rd8(p.cfg + 1), 1);
	ck_assert_uint_eq(rd16(p.cfg + 2), 0xcf8);
	ck_assert_uint_eq(rd16(p.cfg + 4), 0xcf8);
	ck_assert_uint_eq(rd8(p.cfg + 6), 1);
	ck_assert_uint_eq(rd8(p.cfg + 7), 8);
	/* the I/O windows and the config ports tile 0..0xFFFF */
	lo = rd16(p.io[0] + 8) < rd16(p.io[1] + 8) ? p.io[0] : p.io[1];
	hi = lo == p.io[0] ? p.io[1] : p.io[0];
	check_window(lo, 2, 0, 0xcf7);
	check_window(hi, 2, 0xd00, 0xffff);
	ck_assert_uint_eq(rd8(lo + 5), 3);              /* EntireRange */
	ck_assert_uint_eq(rd8(hi + 5), 3);
	/* the memory window: read-write, non-cacheable, memory type */
	check_window(p.mem, 4, ACPI_PCI_MMIO_BASE,
		     ACPI_PCI_MMIO_BASE + ACPI_PCI_MMIO_SIZE - 1);
	ck_assert_uint_eq(rd8(p.mem + 5), 1);
	ck_assert_uint_eq(ACPI_PCI_MMIO_BASE + ACPI_PCI_MMIO_SIZE, 0xfec00000ULL);
	ck_assert_uint_ge(ACPI_PCI_MMIO_BASE, CFG_MEM_MAX);  /* above any RAM */
	ck_assert_uint_le(ACPI_PCI_MMIO_BASE + ACPI_PCI_MMIO_SIZE, IOAPIC);
	ck_assert_uint_le(ACPI_PCI_MMIO_BASE + ACPI_PCI_MMIO_SIZE, LAPIC);
}
END_TEST

/* Each refusal leaves RAM and *rsdp_gpa untouched. */
static void refused(u64 base, const struct acpi_config *c)
{
	u64 r = 0x1234;

	ck_assert_int_eq(acpi_build(&mem, base, c, &r), -1);
	ck_assert_uint_eq(r, 0x1234);
	for (u64 i = 0; i < RAM_SIZE; i++)
		if (ram[i] != 0xa5)
			ck_abort_msg("byte 0x%llx written", (unsigned long long)i);
}

START_TEST(build_fails_cleanly)
{
	struct acpi_config c = cfg;

	mem.size = KiB(896);                      /* ends at 0xE0000 */
	refused(ACPI_TABLES_GPA, &cfg);
	mem.size = ACPI_TABLES_GPA + 0x100;       /* the MADT would not fit */
	refused(ACPI_TABLES_GPA, &cfg);
	mem.size = RAM_SIZE;
	refused(RAM_SIZE - 0x40, &cfg);           /* straddles the end */
	refused(~0ULL - 0x3f, &cfg);              /* base + size wraps */
	refused(ACPI_TABLES_GPA + 16, &cfg);      /* FACS would be misaligned */
	c.nr_cpus = 0;
	refused(ACPI_TABLES_GPA, &c);
	c.nr_cpus = ACPI_MAX_CPUS + 1;
	refused(ACPI_TABLES_GPA, &c);
	c = cfg;
	c.lapic_base = GiB(4);
	refused(ACPI_TABLES_GPA, &c);
	c = cfg;
	c.ioapic_base = GiB(5);
	refused(ACPI_TABLES_GPA, &c);
	c = cfg;
	c.ioapic_base = ACPI_PCI_MMIO_BASE;       /* in the PCI memory window */
	refused(ACPI_TABLES_GPA, &c);
	c = cfg;
	c.lapic_base = ACPI_PCI_MMIO_BASE - 0x800;   /* its page reaches in */
	refused(ACPI_TABLES_GPA, &c);
	c = cfg;
	c.lapic_base = ACPI_PCI_MMIO_BASE + ACPI_PCI_MMIO_SIZE - 0x1000;
	refused(ACPI_TABLES_GPA, &c);
	c = cfg;
	c.ram_size = ACPI_PCI_MMIO_BASE + 1;      /* RAM reaching into it */
	refused(ACPI_TABLES_GPA, &c);
	c = cfg;
	c.sci_irq = 16;
	refused(ACPI_TABLES_GPA, &c);
	c = cfg;
	c.pm_base = 0;
	refused(ACPI_TABLES_GPA, &c);
	c.pm_base = 0xfff8;
	refused(ACPI_TABLES_GPA, &c);
	/* tables that would reach past 4 GiB, in a RAM that is (nominally)
	   larger: checked before anything is touched */
	mem.size = GiB(5);
	refused(GiB(4) - 0x100, &cfg);
	mem.size = RAM_SIZE;
	/* and the largest configuration fits the promised area exactly */
	mem.size = ACPI_TABLES_GPA + ACPI_AREA_SIZE;
	c = cfg;
	c.nr_cpus = ACPI_MAX_CPUS;
	c.ram_size = CFG_MEM_MAX;                 /* the largest VM: fine */
	ck_assert_int_eq(acpi_build(&mem, ACPI_TABLES_GPA, &c, &rsdp), 0);
}
END_TEST

/* Tables anywhere (aligned) in RAM, with other ports: no address baked in. */
START_TEST(tables_elsewhere)
{
	u64 r, fadt;

	cfg.pm_base = 0xb000;
	cfg.sci_irq = 11;
	ck_assert_int_eq(acpi_build(&mem, 0x10040, &cfg, &r), 0);
	ck_assert_uint_eq(r, 0x10040);
	ck_assert_uint_eq(sum(r, 36), 0);
	fadt = rd64(rd64(r + 24) + 36);
	ck_assert(sig_is(fadt, "FACP"));
	ck_assert_uint_eq(sum(fadt, 276), 0);
	ck_assert_uint_eq(rd32(fadt + 76), 0xb008);
	ck_assert_uint_eq(rd16(fadt + 46), 11);
	ck_assert_uint_eq(rd32(fadt + 36) % 64, 0);
	ck_assert(sig_is(rd32(fadt + 40), "DSDT"));
}
END_TEST

/* ---- PM register block ---- */

static struct acpi_pm pm;
static struct fake { u64 now, reads; int poweroffs, sleeps, sci_edges;
		     unsigned typ; bool sci; } fk;

static u64 fake_ticks(void *ctx)
{
	struct fake *f = ctx;

	f->reads++;
	return f->now;
}
static void fake_poweroff(void *ctx) { ((struct fake *)ctx)->poweroffs++; }

static void fake_sleep(void *ctx, unsigned typ)
{
	struct fake *f = ctx;

	f->sleeps++;
	f->typ = typ;
}

static void fake_sci(void *ctx, bool level)
{
	struct fake *f = ctx;

	ck_assert(level != f->sci);              /* only changes are reported */
	f->sci = level;
	f->sci_edges++;
}

static const struct acpi_pm_ops ops = { fake_ticks, fake_poweroff, fake_sleep,
					fake_sci };

#define NS_HZ 1000000000ULL

static void pm_setup(void)
{
	fk = (struct fake){ .now = 777 };
	memset(&pm, 0x5a, sizeof(pm));
	ck_assert_int_eq(acpi_pm_init(&pm, &ops, &fk, NS_HZ), 0);
}

static u64 rd(u64 off, unsigned size) { return acpi_pm_read(&pm, off, size); }
static void wr(u64 off, unsigned size, u64 v)
{
	acpi_pm_write(&pm, off, size, v);
}

#define SLP(typ) (((u64)(typ) << 10) | BIT(13))

/* The power button: status set, SCI only while enabled and not yet
   acknowledged (write 1 to clear), as an OSPM expects (§4.8.3.1). */
START_TEST(pm_power_button_raises_sci)
{
	acpi_pm_power_button(&pm);                 /* not enabled: no SCI */
	ck_assert_uint_eq(rd(0, 2) & ACPI_PM1_PWRBTN_STS, ACPI_PM1_PWRBTN_STS);
	ck_assert(!fk.sci);
	wr(0, 2, ACPI_PM1_PWRBTN_STS);             /* acknowledge it */
	ck_assert_uint_eq(rd(0, 2) & ACPI_PM1_PWRBTN_STS, 0);
	wr(2, 2, ACPI_PM1_PWRBTN_EN);              /* the OSPM enables it */
	ck_assert(!fk.sci);
	acpi_pm_power_button(&pm);
	ck_assert(fk.sci);
	acpi_pm_power_button(&pm);                 /* pressed again: one level */
	ck_assert_int_eq(fk.sci_edges, 1);
	wr(0, 1, 0xff);                            /* low byte: not the button */
	ck_assert(fk.sci);
	wr(1, 1, ACPI_PM1_PWRBTN_STS >> 8);        /* high byte acknowledges */
	ck_assert(!fk.sci);
	acpi_pm_power_button(&pm);
	ck_assert(fk.sci);
	wr(2, 2, 0);                               /* disabling drops the line */
	ck_assert(!fk.sci);
	ck_assert_int_eq(fk.sci_edges, 4);
	wr(4, 2, SLP(ACPI_SLP_TYP_S5));            /* off: the button is dead */
	acpi_pm_power_button(&pm);
	ck_assert(!fk.sci);
}
END_TEST

START_TEST(pm_init_rejects)
{
	struct acpi_pm p = { 0 };
	struct acpi_pm_ops no_clock = { NULL, fake_poweroff, fake_sleep, NULL };

	ck_assert_int_eq(acpi_pm_init(&p, NULL, &fk, NS_HZ), -1);
	ck_assert_int_eq(acpi_pm_init(&p, &no_clock, &fk, NS_HZ), -1);
	ck_assert_int_eq(acpi_pm_init(&p, &ops, &fk, 0), -1);
	ck_assert_int_eq(acpi_pm_init(&p, &ops, &fk, ACPI_PM_MAX_TICK_HZ + 1), -1);
	ck_assert_ptr_null(p.ops);
	ck_assert_int_eq(acpi_pm_init(&p, &ops, &fk, ACPI_PM_MAX_TICK_HZ), 0);
}
END_TEST

START_TEST(pm_timer_rate)
{
	ck_assert_uint_eq(rd(8, 4), 0);
	fk.now += 1000;                                 /* 1 us: 3.58 counts */
	ck_assert_uint_eq(rd(8, 4), 3);
	fk.now = 777 + NS_HZ;                           /* 1 s */
	ck_assert_uint_eq(rd(8, 4), 3579545);
	fk.now = 777 + NS_HZ + 279;                     /* +279 ns: 0.9987 count */
	ck_assert_uint_eq(rd(8, 4), 3579545);
	fk.now = 777 + NS_HZ + 280;                     /* +280 ns: 1.0023 counts */
	ck_assert_uint_eq(rd(8, 4), 3579546);
	fk.now = 777 + 4 * NS_HZ;                       /* 14318180 < 2^24 */
	ck_assert_uint_eq(acpi_pm_timer(&pm), 14318180);
	fk.reads = 0;                                   /* one clock read each */
	rd(8, 4);
	ck_assert_uint_eq(fk.reads, 1);
	rd(4, 2);                                       /* PM1_CNT: none */
	ck_assert_uint_eq(fk.reads, 1);
}
END_TEST

/* Against 128-bit arithmetic, for rates from 1 Hz to 1 THz and elapsed
   times up to centuries (and a clock that wraps at 2^64). */
START_TEST(pm_timer_exact)
{
	static const u64 rates[] = { 1, 3579545, NS_HZ, 2999999999ULL,
				     4700000001ULL, ACPI_PM_MAX_TICK_HZ };
	u64 x = 0x9e3779b97f4a7c15ULL;

	for (unsigned r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		fk.now = ~0ULL - 12345;                 /* starts just before a wrap */
		ck_assert_int_eq(acpi_pm_init(&pm, &ops, &fk, rates[r]), 0);
		for (int i = 0; i < 2000; i++) {
			u64 elapsed = (x >> (i % 12)) % (rates[r] * 3600ULL * 24 * 365 * 100 + 7);
			unsigned __int128 want = (unsigned __int128)elapsed * 3579545 /
						 rates[r];

			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			fk.now = ~0ULL - 12345 + elapsed;
			ck_assert_uint_eq(rd(8, 4), (u64)(want & 0xffffff));
		}
	}
}
END_TEST

START_TEST(pm_timer_wraps_24_bits)
{
	ck_assert_int_eq(acpi_pm_init(&pm, &ops, &fk, ACPI_PM_TIMER_HZ), 0);
	fk.now = 777 + 0xfffffe;
	ck_assert_uint_eq(rd(8, 4), 0xfffffe);
	fk.now++;
	ck_assert_uint_eq(rd(8, 4), 0xffffff);
	fk.now++;
	ck_assert_uint_eq(rd(8, 4), 0);
	fk.now += 5;
	ck_assert_uint_eq(rd(8, 4), 5);
	fk.now += 3ULL << 24;
	ck_assert_uint_eq(rd(8, 4), 5);
	ck_assert_uint_eq(rd(8, 2), 5);                 /* narrow reads too */
	ck_assert_uint_eq(rd(11, 1), 0);                /* bits 31:24 are 0 */
	wr(8, 4, 0x123456);                             /* read-only */
	ck_assert_uint_eq(rd(8, 4), 5);
}
END_TEST

/* TMR_STS follows timer bit 23 (§4.8.3.3); status bits clear on a 1. */
START_TEST(pm_status_write_1_to_clear)
{
	ck_assert_int_eq(acpi_pm_init(&pm, &ops, &fk, ACPI_PM_TIMER_HZ), 0);
	ck_assert_uint_eq(rd(0, 2), 0);
	fk.now = 777 + (1u << 23) - 1;
	ck_assert_uint_eq(rd(0, 2), 0);
	fk.now++;
	ck_assert_uint_eq(rd(0, 2), ACPI_PM1_TMR_STS);
	wr(0, 2, 0);                                    /* a 0 changes nothing */
	ck_assert_uint_eq(rd(0, 2), ACPI_PM1_TMR_STS);
	wr(4, 2, SLP(3));                               /* refused S3: WAK_STS */
	ck_assert_uint_eq(rd(0, 2), ACPI_PM1_TMR_STS | ACPI_PM1_WAK_STS);
	wr(0, 2, ACPI_PM1_WAK_STS);
	ck_assert_uint_eq(rd(0, 2), ACPI_PM1_TMR_STS);
	wr(1, 1, 0xff);                                 /* high byte: no TMR */
	ck_assert_uint_eq(rd(0, 2), ACPI_PM1_TMR_STS);
	wr(0, 1, 0x01);
	ck_assert_uint_eq(rd(0, 2), 0);
	fk.now += 1u << 23;                             /* bit 23 falls: set again */
	ck_assert_uint_eq(rd(0, 2), ACPI_PM1_TMR_STS);
	wr(0, 4, 0xffff);                               /* 32-bit: STS and EN */
	ck_assert_uint_eq(rd(0, 4), 0);
}
END_TEST

START_TEST(pm_enable_bits_stored)
{
	wr(2, 2, 0xffff);
	ck_assert_uint_eq(rd(2, 2), 0x4721);            /* the defined bits */
	wr(3, 1, 0);
	ck_assert_uint_eq(rd(2, 2), 0x21);
	wr(0, 4, (u64)ACPI_PM1_GBL_EN << 16);           /* Linux's global lock */
	ck_assert_uint_eq(rd(2, 2), ACPI_PM1_GBL_EN);
	ck_assert_uint_eq(rd(0, 4), (u64)ACPI_PM1_GBL_EN << 16);
}
END_TEST

START_TEST(pm_s5_powers_off_once)
{
	wr(4, 2, SLP(5) & ~BIT(13));                    /* Linux: SLP_TYP first */
	ck_assert_int_eq(fk.poweroffs, 0);
	ck_assert_uint_eq(rd(4, 2), (5u << 10) | 1);
	wr(4, 2, SLP(5));                               /* then SLP_TYP | SLP_EN */
	ck_assert_int_eq(fk.poweroffs, 1);
	ck_assert_int_eq(fk.sleeps, 0);
	wr(4, 2, SLP(5));                               /* it is off: nothing */
	wr(4, 2, SLP(3));
	ck_assert_int_eq(fk.poweroffs, 1);
	ck_assert_int_eq(fk.sleeps, 0);
}
END_TEST

/* SLP_TYP is bits 12:10, SLP_EN bit 13: both in PM1_CNT's high byte. */
START_TEST(pm_s5_by_byte_write)
{
	wr(5, 1, (5u << 2) | (1u << 5));
	ck_assert_int_eq(fk.poweroffs, 1);
}
END_TEST

START_TEST(pm_other_sleep_states_refused)
{
	for (unsigned typ = 0; typ < 8; typ++) {
		if (typ == ACPI_SLP_TYP_S5)
			continue;
		wr(4, 2, SLP(typ));
		ck_assert_uint_eq(fk.typ, typ);
		ck_assert_uint_eq(rd(4, 2) & BIT(13), 0);   /* SLP_EN reads 0 */
	}
	ck_assert_int_eq(fk.sleeps, 7);
	ck_assert_int_eq(fk.poweroffs, 0);
	ck_assert_uint_eq(rd(0, 2) & ACPI_PM1_WAK_STS, ACPI_PM1_WAK_STS);
}
END_TEST

START_TEST(pm_sci_en_reads_1)
{
	ck_assert_uint_eq(rd(4, 2), ACPI_PM1_SCI_EN);
	wr(4, 2, 0);
	ck_assert_uint_eq(rd(4, 2), ACPI_PM1_SCI_EN);
	wr(4, 2, ACPI_PM1_BM_RLD | ACPI_PM1_GBL_RLS | 0x1f8);
	ck_assert_uint_eq(rd(4, 2), ACPI_PM1_SCI_EN | ACPI_PM1_BM_RLD);
	ck_assert_uint_eq(rd(4, 1), ACPI_PM1_SCI_EN | ACPI_PM1_BM_RLD);
}
END_TEST

START_TEST(pm_unknown_offsets)
{
	ck_assert_uint_eq(rd(6, 2), 0xffff);
	ck_assert_uint_eq(rd(7, 1), 0xff);
	ck_assert_uint_eq(rd(4, 4), 0xffff0000ULL | ACPI_PM1_SCI_EN);
	fk.now += 1000;
	ck_assert_uint_eq(rd(4, 8), 0x3ffff0000ULL | ACPI_PM1_SCI_EN);
	wr(6, 2, 0xffff);                               /* the hole: ignored */
	wr(4, 8, ~0ULL & ~BIT(13));                     /* CNT, hole and timer */
	ck_assert_uint_eq(rd(4, 2), ACPI_PM1_SCI_EN | ACPI_PM1_BM_RLD |
			  (7u << 10));
	ck_assert_int_eq(fk.poweroffs + fk.sleeps, 0);
}
END_TEST

/* Random writes: nothing but S5 stops the device, and registers keep
   only their defined bits. */
START_TEST(pm_junk_writes)
{
	static const unsigned sizes[] = { 1, 2, 4, 8 };
	u64 x = 88172645463325252ULL;

	for (int i = 0; i < 100000 && !pm.off; i++) {
		unsigned size = sizes[x % 4];
		u64 off = (x >> 8) % (ACPI_PM_PORT_LEN - size + 1);

		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		fk.now += x % 5000;
		wr(off, size, x);
		ck_assert_uint_eq(rd(0, 2) & ~0xc731u, 0);
		ck_assert_uint_eq(rd(2, 2) & ~0x4721u, 0);
		ck_assert_uint_eq(rd(4, 2) & ~0x1c02u, ACPI_PM1_SCI_EN);
		ck_assert_uint_lt(rd(8, 4), 1u << 24);
		ck_assert_int_eq(fk.poweroffs, pm.off);
	}
	ck_assert_int_gt(fk.sleeps, 0);
}
END_TEST

Suite *acpi_suite(void)
{
	Suite *s = suite_create("acpi");
	TCase *tt = tcase_create("tables"), *tp = tcase_create("pm");

	tcase_add_checked_fixture(tt, table_setup, table_teardown);
	tcase_add_test(tt, rsdp_found_by_scan);
	tcase_add_test(tt, every_table_checks_out);
	tcase_add_loop_test(tt, madt_entries, 0,
			    sizeof(cpu_counts) / sizeof(cpu_counts[0]));
	tcase_add_test(tt, fadt_fields);
	tcase_add_test(tt, dsdt_has_s5);
	tcase_add_loop_test(tt, dsdt_pci0_parses, 0,
			    sizeof(cpu_counts) / sizeof(cpu_counts[0]));
	tcase_add_test(tt, dsdt_pci0_windows);
	tcase_add_test(tt, build_fails_cleanly);
	tcase_add_test(tt, tables_elsewhere);
	tcase_add_checked_fixture(tp, pm_setup, NULL);
	tcase_add_test(tp, pm_init_rejects);
	tcase_add_test(tp, pm_timer_rate);
	tcase_add_test(tp, pm_timer_exact);
	tcase_add_test(tp, pm_timer_wraps_24_bits);
	tcase_add_test(tp, pm_status_write_1_to_clear);
	tcase_add_test(tp, pm_enable_bits_stored);
	tcase_add_test(tp, pm_s5_powers_off_once);
	tcase_add_test(tp, pm_s5_by_byte_write);
	tcase_add_test(tp, pm_other_sleep_states_refused);
	tcase_add_test(tp, pm_sci_en_reads_1);
	tcase_add_test(tp, pm_unknown_offsets);
	tcase_add_test(tp, pm_junk_writes);
	tcase_add_test(tp, pm_power_button_raises_sci);
	suite_add_tcase(s, tt);
	suite_add_tcase(s, tp);
	return s;
}
