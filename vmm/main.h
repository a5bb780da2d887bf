/* The core's entry (main.c). */
#ifndef UHV_VMM_MAIN_H
#define UHV_VMM_MAIN_H

#include "lib/types.h"

/* TSC at uhv's entry, for the boot-cost line and make bench. */
extern u64 core_entry_tsc;

#endif
