/* What uhv prints about its VMs (stats.c). */
#ifndef UHV_VMM_STATS_H
#define UHV_VMM_STATS_H

#include "lib/types.h"

struct uhv;

/* When stats lines are due, in struct uhv. */
struct stats_clock {
	u64 every;               /* TSC ticks between stats lines, 0: off */
	u64 next;                /* TSC: the next line */
	u64 last;                /* TSC: when the last stats were taken */
};

/* Prints each VM's exits per second by reason since the last call. */
void stats_print(struct uhv *h, bool all);
/* Prints each VM's status and exits by reason, then "uhv: result" lines. */
void stats_summary(const struct uhv *h);

#endif
