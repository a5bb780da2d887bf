/*
 * RTC registers (MC146818A datasheet): 0 seconds, 2 minutes, 4 hours,
 * 6 day of week, 7 day, 8 month, 9 year, 0x0a-0x0d status A-D, and the
 * century at 0x32 (where the ACPI FADT's CENTURY field conventionally
 * points).
 */
#include "vmm/dev/rtc.h"
#include "lib/date.h"

#define REG_SECONDS  0x00
#define REG_MINUTES  0x02
#define REG_HOURS    0x04
#define REG_WEEKDAY  0x06
#define REG_DAY      0x07
#define REG_MONTH    0x08
#define REG_YEAR     0x09
#define REG_STATUS_A 0x0a
#define REG_STATUS_B 0x0b
#define REG_STATUS_C 0x0c
#define REG_STATUS_D 0x0d
#define REG_CENTURY  0x32
#define INDEX_MASK   0x7f            /* bit 7 of port 0x70 gates NMIs */
#define STATUS_A_DIV 0x26            /* 32.768 kHz time base, 1024 Hz rate */
#define STATUS_B_24H 0x02            /* 24-hour, BCD (bit 2 clear) */
#define STATUS_D_VRT 0x80            /* battery good */
void rtc_init(struct rtc *r, u64 boot_epoch, u64 boot_tsc, u64 tsc_hz,
	      u64 (*now)(void *ctx), void *ctx)
{
	*r = (struct rtc){ .boot_epoch = boot_epoch, .boot_tsc = boot_tsc,
			   .tsc_hz = tsc_hz ? tsc_hz : 1, .now = now, .ctx = ctx };
}

static u8 bcd(u32 v)
{
	return (u8)(((v / 10) % 10) << 4 | (v % 10));
}

static u8 clock_reg(struct rtc *r, u8 index)
{
	u64 t = r->boot_epoch + (r->now(r->ctx) - r->boot_tsc) / r->tsc_hz;
	u32 y, mo, d, h, mi, s, wd;

	date_from_epoch(t, &y, &mo, &d, &h, &mi, &s, &wd);
	switch (index) {
	case REG_SECONDS: return bcd(s);
	case REG_MINUTES: return bcd(mi);
	case REG_HOURS:   return bcd(h);
	case REG_WEEKDAY: return bcd(wd);
	case REG_DAY:     return bcd(d);
	case REG_MONTH:   return bcd(mo);
	case REG_YEAR:    return bcd(y % 100);
	default:          return bcd(y / 100);   /* REG_CENTURY */
	}
}

u64 rtc_read(void *dev, u64 off, unsigned size)
{
	struct rtc *r = dev;

	(void)size;
	if (off == 0)
		return 0xff;                  /* the index port is write-only */
	switch (r->index) {
	case REG_SECONDS: case REG_MINUTES: case REG_HOURS: case REG_WEEKDAY:
	case REG_DAY: case REG_MONTH: case REG_YEAR: case REG_CENTURY:
		return clock_reg(r, r->index);
	case REG_STATUS_A: return STATUS_A_DIV;   /* UIP never set */
	case REG_STATUS_B: return STATUS_B_24H;
	case REG_STATUS_C: return 0;
	case REG_STATUS_D: return STATUS_D_VRT;
	default:           return r->cmos[r->index];
	}
}

void rtc_write(void *dev, u64 off, unsigned size, u64 val)
{
	struct rtc *r = dev;

	(void)size;
	if (off == 0)
		r->index = (u8)val & INDEX_MASK;
	else if (r->index > REG_STATUS_D && r->index != REG_CENTURY)
		r->cmos[r->index] = (u8)val;  /* setting the clock is ignored */
}
