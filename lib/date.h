/* Calendar arithmetic in UTC, seconds since 1970-01-01 (lib/date.c). */
#ifndef UHV_LIB_DATE_H
#define UHV_LIB_DATE_H

#include "lib/types.h"

/* Seconds since 1970 of a date and time; 0 for a date before 1970 or a
   month or day out of range. */
u64 date_to_epoch(u32 year, u32 month, u32 day, u32 h, u32 m, u32 s);
/* The date, time and day of the week (1 = Sunday, as the RTC counts) of
   seconds since 1970. */
void date_from_epoch(u64 t, u32 *year, u32 *month, u32 *day, u32 *h, u32 *m,
		     u32 *s, u32 *weekday);

#endif
