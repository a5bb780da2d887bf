/*
 * The small platform devices: vmm/dev/pic.c (8259A datasheet: ICW1-ICW4,
 * OCW1 mask, ELCR), vmm/dev/rtc.c (MC146818A registers, the calendar helpers
 * shared with the loader; dates checked against values computed
 * independently) and vmm/dev/pci.c (PCI 3.0 §3.2.2.3.2 configuration
 * mechanism #1 and the host bridge).
 */
#include <string.h>
#include "unit.h"
#include "vmm/dev/pic.h"
#include "vmm/dev/pci.h"
#include "vmm/dev/rtc.h"
#include "lib/date.h"

/* ---- PIC ---- */

static struct pic pic;

static void pic_setup(void)
{
	memset(&pic, 0x5a, sizeof(pic));
	pic_init(&pic);
}

static u8 imr(int chip) { return (u8)pic_read(&pic.chip[chip], 1, 1); }
static void cmd(int chip, u8 v) { pic_write(&pic.chip[chip], 0, 1, v); }
static void data(int chip, u8 v) { pic_write(&pic.chip[chip], 1, 1, v); }

START_TEST(pic_reset_masked)
{
	ck_assert_uint_eq(imr(0), 0xff);
	ck_assert_uint_eq(imr(1), 0xff);
	ck_assert_uint_eq(pic_read(&pic.chip[0], 0, 1), 0);   /* IRR: empty */
}
END_TEST

/* The initialisation Linux and BIOSes do: ICW1 0x11, ICW2 base, ICW3
   cascade, ICW4 8086 mode; then OCW1 masks. */
START_TEST(pic_icw_sequence)
{
	cmd(0, 0x11);
	ck_assert_uint_eq(imr(0), 0);                        /* ICW1 clears IMR */
	data(0, 0x27);
	ck_assert_uint_eq(pic.chip[0].vector_base, 0x20);    /* bits 7:3 */
	data(0, 0x04);                                       /* ICW3 */
	ck_assert_uint_eq(imr(0), 0);
	data(0, 0x01);                                       /* ICW4 */
	ck_assert_uint_eq(imr(0), 0);
	data(0, 0xfb);                                       /* OCW1 */
	ck_assert_uint_eq(imr(0), 0xfb);
	cmd(0, 0x20);                                        /* OCW2: EOI */
	cmd(0, 0x0b);                                        /* OCW3: read ISR */
	ck_assert_uint_eq(pic_read(&pic.chip[0], 0, 1), 0);
	ck_assert_uint_eq(imr(0), 0xfb);
	ck_assert_uint_eq(imr(1), 0xff);                     /* the other chip */
	cmd(1, 0x10);                                        /* no ICW4 */
	data(1, 0x70);
	data(1, 0x02);
	data(1, 0xff);
	ck_assert_uint_eq(imr(1), 0xff);
	ck_assert_uint_eq(pic.chip[1].vector_base, 0x70);
}
END_TEST

/* ICW1 with SNGL (bit 1) set: no ICW3 follows (8259A datasheet, ICW1). */
START_TEST(pic_single_mode_skips_icw3)
{
	cmd(0, 0x13);
	data(0, 0x08);                                       /* ICW2 */
	data(0, 0x01);                                       /* ICW4 */
	data(0, 0xff);                                       /* OCW1 */
	ck_assert_uint_eq(imr(0), 0xff);
}
END_TEST

START_TEST(pic_elcr_masks)
{
	pic_elcr_write(&pic, 0, 1, 0xff);
	pic_elcr_write(&pic, 1, 1, 0xff);
	ck_assert_uint_eq(pic_elcr_read(&pic, 0, 1), 0xf8);  /* IRQ 0-2 edge */
	ck_assert_uint_eq(pic_elcr_read(&pic, 1, 1), 0xde);  /* IRQ 8, 13 edge */
	pic_elcr_write(&pic, 0, 1, 0x20);
	ck_assert_uint_eq(pic_elcr_read(&pic, 0, 1), 0x20);
}
END_TEST

/* ---- RTC ---- */

#define RTC_HZ 100ULL
static u64 rtc_now;
static u64 fake_now(void *ctx) { (void)ctx; return rtc_now; }

static u8 cmos(struct rtc *r, u8 index)
{
	rtc_write(r, 0, 1, index);
	return (u8)rtc_read(r, 1, 1);
}

/* Dates and seconds since 1970 computed independently (Python calendar). */
static const struct known {
	u32 y, mo, d, h, mi, s, wday;        /* wday: 1 = Sunday */
	u64 t;
} known[] = {
	{ 1970, 1, 1, 0, 0, 0, 5, 0 },
	{ 1999, 12, 31, 23, 59, 59, 6, 946684799 },
	{ 2000, 1, 1, 0, 0, 0, 7, 946684800 },
	{ 2000, 2, 29, 12, 0, 0, 3, 951825600 },
	{ 2024, 2, 29, 23, 59, 58, 5, 1709251198 },
	{ 2038, 1, 19, 3, 14, 7, 3, 2147483647 },
	{ 2100, 2, 28, 0, 0, 0, 1, 4107456000ULL },
	{ 2100, 3, 1, 0, 0, 0, 2, 4107542400ULL },
	{ 2400, 2, 29, 0, 0, 0, 3, 13574563200ULL },
};

START_TEST(rtc_known_epochs)
{
	for (size_t i = 0; i < ARRAY_SIZE(known); i++) {
		const struct known *k = &known[i];
		u32 y, mo, d, h, mi, s, wd;

		ck_assert_uint_eq(date_to_epoch(k->y, k->mo, k->d, k->h, k->mi, k->s), k->t);
		date_from_epoch(k->t, &y, &mo, &d, &h, &mi, &s, &wd);
		ck_assert_msg(y == k->y && mo == k->mo && d == k->d && h == k->h &&
			      mi == k->mi && s == k->s && wd == k->wday,
			      "%llu -> %u-%u-%u %u:%u:%u wday %u",
			      (unsigned long long)k->t, y, mo, d, h, mi, s, wd);
	}
	ck_assert_uint_eq(date_to_epoch(2024, 13, 1, 0, 0, 0), 0);   /* refused */
	ck_assert_uint_eq(date_to_epoch(1969, 12, 31, 0, 0, 0), 0);
	ck_assert_uint_eq(date_to_epoch(2024, 0, 1, 0, 0, 0), 0);
}
END_TEST

/* Every day from 1970 to 2400 against a calendar walked one day at a
   time (Gregorian leap rule: 2000 and 2400 are leap years, 2100 is not). */
START_TEST(rtc_round_trip_every_day)
{
	static const u32 mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	u32 y = 1970, mo = 1, d = 1, wday = 5;

	for (u64 day = 0; y < 2401; day++) {
		u64 t = day * 86400 + (day % 86400);         /* some time of day */
		u32 gy, gmo, gd, gh, gmi, gs, gwd;
		bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

		ck_assert_uint_eq(date_to_epoch(y, mo, d, (u32)(t % 86400 / 3600),
					       (u32)(t % 3600 / 60), (u32)(t % 60)), t);
		date_from_epoch(t, &gy, &gmo, &gd, &gh, &gmi, &gs, &gwd);
		if (gy != y || gmo != mo || gd != d || gwd != wday)
			ck_abort_msg("day %llu: want %u-%u-%u/%u got %u-%u-%u/%u",
				     (unsigned long long)day, y, mo, d, wday,
				     gy, gmo, gd, gwd);
		wday = wday % 7 + 1;
		if (++d > mdays[mo - 1] + (mo == 2 && leap)) {
			d = 1;
			if (++mo > 12) {
				mo = 1;
				y++;
			}
		}
	}
}
END_TEST

/* The registers in BCD, moving with the clock across a leap day. */
START_TEST(rtc_registers)
{
	struct rtc r;

	rtc_now = 5000;
	rtc_init(&r, 1709251198, 5000, RTC_HZ, fake_now, NULL);  /* 2024-02-29 23:59:58 */
	ck_assert_uint_eq(cmos(&r, 0x00), 0x58);
	ck_assert_uint_eq(cmos(&r, 0x02), 0x59);
	ck_assert_uint_eq(cmos(&r, 0x04), 0x23);
	ck_assert_uint_eq(cmos(&r, 0x06), 0x05);             /* Thursday */
	ck_assert_uint_eq(cmos(&r, 0x07), 0x29);
	ck_assert_uint_eq(cmos(&r, 0x08), 0x02);
	ck_assert_uint_eq(cmos(&r, 0x09), 0x24);
	ck_assert_uint_eq(cmos(&r, 0x32), 0x20);             /* century */
	rtc_now += 2 * RTC_HZ - 1;
	ck_assert_uint_eq(cmos(&r, 0x00), 0x59);             /* whole seconds */
	rtc_now += 1;
	ck_assert_uint_eq(cmos(&r, 0x00), 0x00);
	ck_assert_uint_eq(cmos(&r, 0x04), 0x00);
	ck_assert_uint_eq(cmos(&r, 0x07), 0x01);
	ck_assert_uint_eq(cmos(&r, 0x08), 0x03);
	ck_assert_uint_eq(cmos(&r, 0x06), 0x06);
}
END_TEST

START_TEST(rtc_status_and_cmos_ram)
{
	struct rtc r;

	rtc_now = 0;
	rtc_init(&r, 1709251198, 0, RTC_HZ, fake_now, NULL);
	ck_assert_uint_eq(cmos(&r, 0x0a) & 0x80, 0);         /* never UIP */
	ck_assert_uint_eq(cmos(&r, 0x0b), 0x02);             /* 24h, BCD */
	ck_assert_uint_eq(cmos(&r, 0x0c), 0);
	ck_assert_uint_eq(cmos(&r, 0x0d), 0x80);             /* battery good */
	ck_assert_uint_eq(rtc_read(&r, 0, 1), 0xff);         /* index: write-only */
	rtc_write(&r, 0, 1, 0x80 | 0x40);                    /* NMI bit dropped */
	rtc_write(&r, 1, 1, 0xa5);
	ck_assert_uint_eq(cmos(&r, 0x40), 0xa5);
	ck_assert_uint_eq(r.index, 0x40);
	rtc_write(&r, 0, 1, 0x00);                           /* the clock ignores */
	rtc_write(&r, 1, 1, 0x33);
	rtc_write(&r, 0, 1, 0x32);
	rtc_write(&r, 1, 1, 0x19);
	ck_assert_uint_eq(cmos(&r, 0x00), 0x58);
	ck_assert_uint_eq(cmos(&r, 0x32), 0x20);
}
END_TEST

/* ---- PCI ---- */

static struct pci_bus bus;

static void pci_setup(void)
{
	memset(&bus, 0x5a, sizeof(bus));
	pci_init(&bus);
}

static u32 addr(u32 b, u32 dev, u32 fn, u32 reg)
{
	return 1U << 31 | b << 16 | dev << 11 | fn << 8 | reg;
}

static u32 port_read(u32 a, u64 off, unsigned size)
{
	pci_addr_write(&bus, 0, 4, a);
	return (u32)pci_data_read(&bus, off, size);
}

START_TEST(pci_address_register)
{
	pci_addr_write(&bus, 0, 4, 0xffffffffU);
	ck_assert_uint_eq(pci_addr_read(&bus, 0, 4), 0x80fffffcU);
	pci_addr_write(&bus, 0, 1, 0);                       /* not mechanism #1 */
	pci_addr_write(&bus, 0, 2, 0);
	ck_assert_uint_eq(pci_addr_read(&bus, 0, 4), 0x80fffffcU);
	ck_assert_uint_eq(pci_addr_read(&bus, 0, 2) & 0xffff, 0xffff);
	pci_addr_write(&bus, 0, 4, addr(0, 0, 0, 0) & ~(1U << 31));
	ck_assert_uint_eq((u32)pci_data_read(&bus, 0, 4), 0xffffffffU);  /* off */
}
END_TEST

START_TEST(pci_host_bridge_ids)
{
	ck_assert_uint_eq(pci_cfg_read(&bus, 0, 0, PCI_VENDOR_ID, 2), 0x8086);
	ck_assert_uint_eq(pci_cfg_read(&bus, 0, 0, PCI_DEVICE_ID, 2), 0x1237);
	ck_assert_uint_eq(pci_cfg_read(&bus, 0, 0, PCI_CLASS_SUB, 2), 0x0600);
	ck_assert_uint_eq(pci_cfg_read(&bus, 0, 0, PCI_HEADER_TYPE, 1), 0);
	ck_assert_uint_eq(port_read(addr(0, 0, 0, 0), 0, 4), 0x12378086U);
	ck_assert_uint_eq(port_read(addr(0, 0, 0, 0), 2, 2), 0x1237);
	ck_assert_uint_eq(port_read(addr(0, 0, 0, 8), 3, 1), 0x06);
	pci_addr_write(&bus, 0, 4, addr(0, 0, 0, 0));
	pci_data_write(&bus, 0, 4, 0);                       /* read-only */
	ck_assert_uint_eq(port_read(addr(0, 0, 0, 0), 0, 4), 0x12378086U);
}
END_TEST

START_TEST(pci_empty_reads_all_ones)
{
	ck_assert_uint_eq(port_read(addr(0, 3, 0, 0), 0, 4), 0xffffffffU);
	ck_assert_uint_eq(port_read(addr(0, 31, 0, 0), 2, 2), 0xffff);
	ck_assert_uint_eq(port_read(addr(0, 5, 0, 0), 1, 1), 0xff);
	ck_assert_uint_eq(port_read(addr(0, 0, 1, 0), 0, 4), 0xffffffffU);  /* fn 1 */
	ck_assert_uint_eq(port_read(addr(1, 0, 0, 0), 0, 4), 0xffffffffU);  /* bus 1 */
	ck_assert_uint_eq(port_read(addr(255, 0, 0, 0), 0, 4), 0xffffffffU);
	ck_assert_uint_eq(pci_cfg_read(&bus, 0, 0, 254, 4), 0xffffffffU);   /* off end */
	pci_cfg_write(&bus, 7, 0, 0, 4, 0);
	ck_assert_uint_eq(bus.bad_accesses, 1);
}
END_TEST

/* Writes change only the bits wmask allows, byte by byte. */
START_TEST(pci_writes_honour_wmask)
{
	static struct pci_dev dev;

	memset(&dev, 0, sizeof(dev));
	dev.cfg[PCI_VENDOR_ID] = 0xf4;
	dev.cfg[PCI_VENDOR_ID + 1] = 0x1a;
	dev.wmask[PCI_COMMAND] = 0x07;
	dev.wmask[PCI_COMMAND + 1] = 0x04;
	ck_assert_int_eq(pci_add(&bus, 4, &dev), 0);
	ck_assert_int_eq(pci_add(&bus, 4, &dev), -1);        /* taken */
	ck_assert_int_eq(pci_add(&bus, 0, &dev), -1);        /* host bridge */
	ck_assert_int_eq(pci_add(&bus, PCI_MAX_DEVICES, &dev), -1);
	pci_addr_write(&bus, 0, 4, addr(0, 4, 0, PCI_COMMAND));
	pci_data_write(&bus, 0, 4, 0xffffffffU);
	ck_assert_uint_eq(port_read(addr(0, 4, 0, PCI_COMMAND), 0, 4), 0x0407);
	pci_addr_write(&bus, 0, 4, addr(0, 4, 0, PCI_COMMAND));
	pci_data_write(&bus, 1, 1, 0);                       /* byte at 0x05 */
	ck_assert_uint_eq(port_read(addr(0, 4, 0, PCI_COMMAND), 0, 2), 0x0007);
	pci_addr_write(&bus, 0, 4, addr(0, 4, 0, 0));
	pci_data_write(&bus, 0, 2, 0);
	ck_assert_uint_eq(port_read(addr(0, 4, 0, 0), 0, 2), 0x1af4);
	pci_addr_write(&bus, 0, 4, addr(1, 4, 0, PCI_COMMAND));
	pci_data_write(&bus, 0, 4, 0);                       /* bus 1: nowhere */
	ck_assert_uint_eq(port_read(addr(0, 4, 0, PCI_COMMAND), 0, 2), 0x0007);
}
END_TEST

Suite *platform_misc_suite(void)
{
	Suite *s = suite_create("platform_misc");
	TCase *tp = tcase_create("pic"), *tr = tcase_create("rtc");
	TCase *tc = tcase_create("pci");

	tcase_add_checked_fixture(tp, pic_setup, NULL);
	tcase_add_test(tp, pic_reset_masked);
	tcase_add_test(tp, pic_icw_sequence);
	tcase_add_test(tp, pic_single_mode_skips_icw3);
	tcase_add_test(tp, pic_elcr_masks);
	tcase_add_test(tr, rtc_known_epochs);
	tcase_add_test(tr, rtc_round_trip_every_day);
	tcase_add_test(tr, rtc_registers);
	tcase_add_test(tr, rtc_status_and_cmos_ram);
	tcase_add_checked_fixture(tc, pci_setup, NULL);
	tcase_add_test(tc, pci_address_register);
	tcase_add_test(tc, pci_host_bridge_ids);
	tcase_add_test(tc, pci_empty_reads_all_ones);
	tcase_add_test(tc, pci_writes_honour_wmask);
	suite_add_tcase(s, tp);
	suite_add_tcase(s, tr);
	suite_add_tcase(s, tc);
	return s;
}
