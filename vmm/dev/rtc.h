/*
 * The MC146818 real-time clock and CMOS RAM (index port 0x70, data port
 * 0x71), enough for an OS to read the date and time: BCD, 24-hour mode,
 * never "update in progress". The time is the host's wall clock at uhv's
 * boot (from the firmware) plus the TSC time since, via ops->now.
 */
#ifndef UHV_VMM_RTC_H
#define UHV_VMM_RTC_H

#include "lib/types.h"

#define RTC_PORT_BASE 0x70
#define RTC_PORT_LEN  2
#define RTC_CMOS_SIZE 128

struct rtc {
	u8 index;
	u8 cmos[RTC_CMOS_SIZE];      /* registers 0x0e-0x7f: plain CMOS RAM */
	u64 boot_epoch;              /* seconds since 1970 at boot_tsc */
	u64 boot_tsc, tsc_hz;
	u64 (*now)(void *ctx);
	void *ctx;
};

void rtc_init(struct rtc *r, u64 boot_epoch, u64 boot_tsc, u64 tsc_hz,
	      u64 (*now)(void *ctx), void *ctx);
u64 rtc_read(void *dev, u64 off, unsigned size);
void rtc_write(void *dev, u64 off, unsigned size, u64 val);

#endif
