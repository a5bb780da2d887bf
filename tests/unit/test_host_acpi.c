/*
 * arch/x86/host_acpi.c: the host's ACPI tables as firmware lays them out
 * (ACPI 6.5 §5.2), built here in an arena at a fake physical address: an
 * XSDT (revision 2) and an RSDT (revision 0) root, a MADT with two I/O
 * APICs among other entries, an HPET table; bad checksums, truncated
 * entries and addresses outside the arena are refused. Also the HPET
 * capabilities check that decides whether the default 0xfed00000 holds
 * an HPET (IA-PC HPET spec §2.3.4).
 */
#include <string.h>
#include "unit.h"
#include "arch/x86/host_acpi.h"

#define ARENA_PHYS 0x7ff00000ULL
#define ARENA_SIZE 4096
#define RSDP_AT    0
#define ROOT_AT    64
#define MADT_AT    256
#define HPET_AT    512
#define BAD_AT     768

static u8 arena[ARENA_SIZE];

static const void *map(u64 phys, u64 len)
{
	if (phys < ARENA_PHYS || phys + len > ARENA_PHYS + ARENA_SIZE)
		return NULL;
	return arena + (phys - ARENA_PHYS);
}

static void put32(u8 *p, u32 v) { memcpy(p, &v, 4); }
static void put64(u8 *p, u64 v) { memcpy(p, &v, 8); }

static void fix_sum(u8 *p, u32 len, u32 at)
{
	u8 s = 0;

	p[at] = 0;
	for (u32 i = 0; i < len; i++)
		s = (u8)(s + p[i]);
	p[at] = (u8)-s;
}

/* A table header (§5.2.6): signature, length, checksum at byte 9. */
static u8 *table(u32 at, const char *sig, u32 len)
{
	u8 *t = arena + at;

	memcpy(t, sig, 4);
	put32(t + 4, len);
	return t;
}

static u32 madt(void)
{
	static const u8 entries[] = {
		0, 8, 0, 0, 1, 0, 0, 0,                          /* local APIC */
		1, 12, 0, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0,  /* I/O APIC 0 */
		2, 10, 0, 0, 2, 0, 0, 0, 0, 0,                   /* override */
		1, 12, 1, 0, 0x00, 0x10, 0xc0, 0xfe, 24, 0, 0, 0, /* I/O APIC 1 */
		1, 12, 2, 0,                                     /* truncated */
	};
	u32 len = 44 + sizeof(entries);
	u8 *t = table(MADT_AT, "APIC", len);

	memcpy(t + 44, entries, sizeof(entries));
	fix_sum(t, len, 9);
	return len;
}

static void hpet(u8 space)
{
	u8 *t = table(HPET_AT, "HPET", 56);

	t[40] = space;
	put64(t + 44, 0xfed00000ULL);
	fix_sum(t, 56, 9);
}

/* RSDP revision rev with the root table's entries: MADT, HPET, BAD. */
static void build(int rev)
{
	u32 esz = rev ? 8 : 4, len = 36 + 3 * esz;
	u8 *r = arena + RSDP_AT, *root = table(ROOT_AT, rev ? "XSDT" : "RSDT", len);
	const u32 at[3] = { MADT_AT, HPET_AT, BAD_AT };

	memset(arena, 0, sizeof(arena));
	root = table(ROOT_AT, rev ? "XSDT" : "RSDT", len);
	for (int i = 0; i < 3; i++) {
		if (rev)
			put64(root + 36 + i * 8, ARENA_PHYS + at[i]);
		else
			put32(root + 36 + i * 4, (u32)(ARENA_PHYS + at[i]));
	}
	fix_sum(root, len, 9);
	memcpy(r, "RSD PTR ", 8);
	r[15] = (u8)rev;
	put32(r + 16, (u32)(ARENA_PHYS + ROOT_AT));
	put32(r + 20, 36);
	put64(r + 24, rev ? ARENA_PHYS + ROOT_AT : 0);
	fix_sum(r, 20, 8);
	fix_sum(r, 36, 32);
	madt();
	hpet(0);
	table(BAD_AT, "FACP", 40)[9] = 1;   /* checksum wrong */
}

START_TEST(finds_tables_both_roots)
{
	for (int rev = 0; rev <= 2; rev += 2) {
		build(rev);
		ck_assert_ptr_eq(host_acpi_find(ARENA_PHYS, "APIC", map), arena + MADT_AT);
		ck_assert_ptr_eq(host_acpi_find(ARENA_PHYS, "HPET", map), arena + HPET_AT);
		ck_assert_ptr_null(host_acpi_find(ARENA_PHYS, "FACP", map));
		ck_assert_ptr_null(host_acpi_find(ARENA_PHYS, "SSDT", map));
	}
	ck_assert_ptr_null(host_acpi_find(0, "APIC", map));
}
END_TEST

START_TEST(refuses_bad_tables)
{
	build(2);
	arena[RSDP_AT] = 'X';                              /* signature */
	ck_assert_ptr_null(host_acpi_find(ARENA_PHYS, "APIC", map));
	build(2);
	arena[MADT_AT + 20]++;                             /* MADT checksum */
	ck_assert_ptr_null(host_acpi_find(ARENA_PHYS, "APIC", map));
	build(2);
	put32(arena + MADT_AT + 4, ARENA_SIZE);            /* runs off the map */
	ck_assert_ptr_null(host_acpi_find(ARENA_PHYS, "APIC", map));
	build(2);
	put32(arena + MADT_AT + 4, 8);                     /* shorter than a header */
	ck_assert_ptr_null(host_acpi_find(ARENA_PHYS, "APIC", map));
}
END_TEST

START_TEST(madt_ioapics)
{
	u64 addr[8];

	build(2);
	ck_assert_int_eq(host_madt_ioapics(arena + MADT_AT, addr, 8), 2);
	ck_assert_uint_eq(addr[0], 0xfec00000ULL);
	ck_assert_uint_eq(addr[1], 0xfec01000ULL);
	ck_assert_int_eq(host_madt_ioapics(arena + MADT_AT, addr, 1), 1);
}
END_TEST

START_TEST(hpet_base_and_caps)
{
	build(2);
	ck_assert_uint_eq(host_hpet_base(arena + HPET_AT), 0xfed00000ULL);
	hpet(1);                                           /* I/O space */
	ck_assert_uint_eq(host_hpet_base(arena + HPET_AT), 0);
	/* QEMU's and Bochs's HPET: 10 ns ticks, Intel, 3 timers, rev 1. */
	ck_assert(host_hpet_caps_valid(0x009896808086a201ULL));
	ck_assert(!host_hpet_caps_valid(~0ULL));           /* nothing there */
	ck_assert(!host_hpet_caps_valid(0));
	ck_assert(!host_hpet_caps_valid(0x009896808086a200ULL));   /* rev 0 */
	ck_assert(!host_hpet_caps_valid(0x000000008086a201ULL));   /* period 0 */
	ck_assert(!host_hpet_caps_valid(0x05f5e1018086a201ULL));   /* > 100 ns */
	ck_assert(host_hpet_caps_valid(0x05f5e1008086a201ULL));    /* = 100 ns */
}
END_TEST

/* SPCR (Microsoft's table, rev. 2): a 16550 at I/O port 0x2f8, 57600
   baud (code 6), as a BMC's console; memory-mapped, other interfaces,
   unknown baud codes and short tables are not uhv's console. */
START_TEST(spcr_console)
{
	u8 t[80];
	u16 port = 0;
	u32 baud = 0;

	memset(t, 0, sizeof(t));
	memcpy(t, "SPCR", 4);
	put32(t + 4, sizeof(t));
	t[36] = 0;                 /* interface: 16550 */
	t[40] = 1;                 /* GAS: system I/O */
	put64(t + 44, 0x2f8);
	t[58] = 6;                 /* 57600 */
	ck_assert(host_spcr_console(t, &port, &baud));
	ck_assert_uint_eq(port, 0x2f8);
	ck_assert_uint_eq(baud, 57600);
	t[58] = 0;                 /* as the firmware left it: 115200 */
	ck_assert(host_spcr_console(t, &port, &baud) && baud == 115200);
	t[58] = 5;                 /* no such code */
	ck_assert(!host_spcr_console(t, &port, &baud));
	t[58] = 7;
	t[40] = 0;                 /* memory-mapped UART: not uhv's */
	ck_assert(!host_spcr_console(t, &port, &baud));
	t[40] = 1;
	t[36] = 3;                 /* ARM PL011 */
	ck_assert(!host_spcr_console(t, &port, &baud));
	t[36] = 18;                /* 16550 described by the GAS */
	ck_assert(host_spcr_console(t, &port, &baud) && baud == 115200);
	put32(t + 4, 60);          /* too short for the baud field */
	ck_assert(!host_spcr_console(t, &port, &baud));
}
END_TEST

/* The FADT's PM timer (ACPI 6.5 §5.2.9): the X_PM_TMR_BLK GAS where it
   is an I/O address, else PM_TMR_BLK with PM_TMR_LEN 4; TMR_VAL_EXT
   says 32 bits. QEMU's PIIX4 has it at 0xb008, 24 bits. */
START_TEST(fadt_pm_timer)
{
	u8 f[244];
	u16 port = 0;
	bool b32 = true;

	memset(f, 0, sizeof(f));
	memcpy(f, "FACP", 4);
	put32(f + 4, 116);                /* an ACPI 1.0 FADT */
	put32(f + 76, 0xb008);
	f[91] = 4;
	ck_assert(host_fadt_pm_timer(f, &port, &b32));
	ck_assert_uint_eq(port, 0xb008);
	ck_assert(!b32);
	f[91] = 0;                        /* no timer block */
	ck_assert(!host_fadt_pm_timer(f, &port, &b32));
	put32(f + 4, sizeof(f));          /* ACPI 2.0+: the GAS first */
	f[208] = 1;                       /* system I/O */
	put64(f + 212, 0x608);
	put32(f + 112, 1U << 8);          /* TMR_VAL_EXT */
	ck_assert(host_fadt_pm_timer(f, &port, &b32));
	ck_assert_uint_eq(port, 0x608);
	ck_assert(b32);
	f[208] = 0;                       /* memory-mapped: not used */
	ck_assert(!host_fadt_pm_timer(f, &port, &b32));
	put32(f + 4, 100);                /* shorter than ACPI 1.0's */
	ck_assert(!host_fadt_pm_timer(f, &port, &b32));
}
END_TEST

Suite *host_acpi_suite(void)
{
	Suite *s = suite_create("host_acpi");
	TCase *t = tcase_create("tables");

	tcase_add_test(t, finds_tables_both_roots);
	tcase_add_test(t, refuses_bad_tables);
	tcase_add_test(t, madt_ioapics);
	tcase_add_test(t, hpet_base_and_caps);
	tcase_add_test(t, spcr_console);
	tcase_add_test(t, fadt_pm_timer);
	suite_add_tcase(s, t);
	return s;
}
