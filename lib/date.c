/*
 * Calendar arithmetic on the proleptic Gregorian calendar, in UTC: the
 * loader turns the firmware's clock (UEFI GetTime) into seconds since
 * 1970, and the guest RTC model (vmm/dev/rtc.c) turns them back into
 * its registers. Days are counted by eras of 400 years (146,097 days),
 * which makes both directions branch-free.
 */
#include "lib/date.h"

#define SECS_PER_DAY 86400ULL

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static u64 days_from_civil(u32 y, u32 m, u32 d)
{
	u64 era, yoe, doy, doe;

	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

u64 date_to_epoch(u32 year, u32 month, u32 day, u32 h, u32 m, u32 s)
{
	if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 31)
		return 0;
	return days_from_civil(year, month, day) * SECS_PER_DAY +
	       h * 3600ULL + m * 60ULL + s;
}

void date_from_epoch(u64 t, u32 *year, u32 *month, u32 *day, u32 *h, u32 *m,
		    u32 *s, u32 *weekday)
{
	u64 z = t / SECS_PER_DAY + 719468, era = z / 146097;
	u64 doe = z - era * 146097;
	u64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	u64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	u64 mp = (5 * doy + 2) / 153;
	u32 mon = (u32)(mp < 10 ? mp + 3 : mp - 9);

	*year = (u32)(yoe + era * 400) + (mon <= 2);
	*month = mon;
	*day = (u32)(doy - (153 * mp + 2) / 5 + 1);
	*h = (u32)(t % SECS_PER_DAY / 3600);
	*m = (u32)(t % 3600 / 60);
	*s = (u32)(t % 60);
	*weekday = (u32)((t / SECS_PER_DAY + 4) % 7) + 1;  /* 1970-01-01: Thu; 1 = Sunday */
}
