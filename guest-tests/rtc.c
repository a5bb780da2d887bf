/* rtc - the MC146818 real-time clock at ports 0x70/0x71, read as an OS
 * does: wait while status A says an update is in progress, read the date
 * until two reads agree, decode per status B (BCD or binary, 24-hour or
 * not).  Passes if the BCD digits are valid, every field is in range
 * (month 1-12, day within its month, leap years included, hours < 24,
 * minutes and seconds < 60), the year with the century register (0x32,
 * the FADT's CENTURY) is at least 2024, the weekday register (1 = Sunday)
 * matches the date, status D says the battery is good, a CMOS RAM byte
 * keeps what was written, and the clock moves on by 1-2 s while the TSC
 * says `wait` ticks (default 1.2 s at the CPUID 0x15 rate) passed. */
#include "guest.h"

#define NAME          "rtc"
#define RTC_INDEX     0x70
#define RTC_DATA      0x71
#define REG_SEC       0x00
#define REG_MIN       0x02
#define REG_HOUR      0x04
#define REG_WEEKDAY   0x06
#define REG_DAY       0x07
#define REG_MONTH     0x08
#define REG_YEAR      0x09
#define REG_A         0x0A
#define REG_B         0x0B
#define REG_D         0x0D
#define REG_CENTURY   0x32
#define REG_SCRATCH   0x40          /* plain CMOS RAM */
#define A_UIP         0x80          /* update in progress */
#define B_24H         0x02
#define B_BINARY      0x04
#define D_VRT         0x80          /* valid RAM and time: battery good */
#define HOUR_PM       0x80          /* 12-hour mode: PM flag in the hour */
#define UIP_POLLS     100000u
#define MIN_YEAR      2024u
#define SECS_PER_DAY  86400u
#define WAIT_NUM      6u            /* default wait: 6/5 s */
#define WAIT_DEN      5u
#define SCRATCH_VALUE 0xA5

struct date {
    u32 sec, min, hour, weekday, day, month, year;
};

/* Register reg through the index/data pair (NMIs left enabled). */
static u8 cmos_read(u8 reg)
{
    outb(RTC_INDEX, reg);
    return inb(RTC_DATA);
}

static bool binary_mode;

/* A clock field: check BCD digits (or not) and return its value. */
static u32 field(const char *what, u8 raw)
{
    if (binary_mode)
        return raw;
    if ((raw & 0xF) > 9 || (raw >> 4) > 9)
        fail(NAME, "%s register 0x%x is not BCD", what, raw);
    return (raw >> 4) * 10 + (raw & 0xF);
}

/* The eight date registers into r once no update is in progress. */
static void read_raw(u8 *r)
{
    static const u8 regs[] = { REG_SEC, REG_MIN, REG_HOUR, REG_WEEKDAY,
                               REG_DAY, REG_MONTH, REG_YEAR, REG_CENTURY };
    for (u32 i = 0; i < UIP_POLLS && (cmos_read(REG_A) & A_UIP); i++)
        ;
    for (u32 i = 0; i < ARRAY_LEN(regs); i++)
        r[i] = cmos_read(regs[i]);
}

/* The date, read until two reads in a row agree (no update between). */
static struct date read_date(void)
{
    u8 a[8], b[8];
    read_raw(b);
    do {
        memcpy(a, b, sizeof(a));
        read_raw(b);
    } while (memcmp(a, b, sizeof(a)));
    bool pm = !(cmos_read(REG_B) & B_24H) && (a[2] & HOUR_PM);
    struct date d = {
        field("seconds", a[0]), field("minutes", a[1]),
        field("hours", a[2] & (u8)~HOUR_PM), field("weekday", a[3]),
        field("day", a[4]), field("month", a[5]),
        field("century", a[7]) * 100 + field("year", a[6]),
    };
    if (pm)
        d.hour = d.hour % 12 + 12;
    return d;
}

/* Gregorian leap year. */
static bool leap(u32 y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days in month m (1-12) of year y. */
static u32 days_in_month(u32 y, u32 m)
{
    static const u8 days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return days[m - 1] + (m == 2 && leap(y));
}

/* Day of the week, 0 = Sunday (Sakamoto's method: month offsets of the
 * Gregorian calendar with March as the first month of the year). */
static u32 day_of_week(u32 y, u32 m, u32 d)
{
    static const u8 t[12] = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 };
    if (m < 3)
        y--;
    return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

/* Seconds since midnight. */
static u32 secs_of_day(const struct date *d)
{
    return d->hour * 3600 + d->min * 60 + d->sec;
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    u64 hz = tsc_hz_leaf15();
    u64 wait = cmdline_u64(mb_cmdline(mbi), "wait",
                           udiv64(hz * WAIT_NUM, WAIT_DEN, NULL));
    u8 b = cmos_read(REG_B), dreg = cmos_read(REG_D);
    binary_mode = b & B_BINARY;
    gprintf("status A 0x%x B 0x%x D 0x%x\n", cmos_read(REG_A), b, dreg);
    if (!(dreg & D_VRT))
        fail(NAME, "status D 0x%x: battery/RAM not valid", dreg);

    struct date d = read_date();
    gprintf("date %04u-%02u-%02u %02u:%02u:%02u weekday %u (%s, %s)\n",
            d.year, d.month, d.day, d.hour, d.min, d.sec, d.weekday,
            binary_mode ? "binary" : "BCD", (b & B_24H) ? "24h" : "12h");
    if (d.year < MIN_YEAR || d.month < 1 || d.month > 12 || d.day < 1 ||
        d.day > days_in_month(d.year, d.month) || d.hour > 23 ||
        d.min > 59 || d.sec > 59)
        fail(NAME, "date out of range");
    if (d.weekday != day_of_week(d.year, d.month, d.day) + 1)
        fail(NAME, "weekday %u, but the date is a day %u (1 = Sunday)",
             d.weekday, day_of_week(d.year, d.month, d.day) + 1);

    outb(RTC_INDEX, REG_SCRATCH);
    outb(RTC_DATA, SCRATCH_VALUE);
    if (cmos_read(REG_SCRATCH) != SCRATCH_VALUE)
        fail(NAME, "CMOS RAM 0x%x reads 0x%x after writing 0x%x", REG_SCRATCH,
             cmos_read(REG_SCRATCH), SCRATCH_VALUE);

    if (hz) {
        tsc_spin_until(rdtsc() + wait);
        struct date e = read_date();
        u32 moved = (secs_of_day(&e) + SECS_PER_DAY - secs_of_day(&d)) %
                    SECS_PER_DAY;
        gprintf("after %llu TSC ticks: %02u:%02u:%02u, %u s later\n", wait,
                e.hour, e.min, e.sec, moved);
        if (moved < 1 || moved > 2)
            fail(NAME, "the clock moved %u s in %llu ticks at %llu Hz", moved,
                 wait, hz);
    }
    pass(NAME);
}
