/* What uhv prints about its VMs (stats.c). */
#ifndef UHV_VMM_STATS_H
#define UHV_VMM_STATS_H

#include "lib/types.h"

struct uhv;

/* Prints each VM's exits per second by reason since the last call. */
void stats_print(struct uhv *h, bool all);
/* Prints each VM's status and exits by reason, then "uhv: result" lines. */
void stats_summary(const struct uhv *h);

#endif
