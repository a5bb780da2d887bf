/*
 * A readable dump of a bridge's state, for the unit tests and the
 * bridge's fuzzer (not linked into uhv).
 */
#ifndef UHV_TESTS_BRIDGE_DUMP_H
#define UHV_TESTS_BRIDGE_DUMP_H

#include "vmm/net/bridge.h"

/* A printf-like sink for bridge_dump; each call is one whole line. */
typedef void bridge_print_fn(void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prints every network's counters, ports and MAC table, a line a call. */
void bridge_dump(const struct bridge *b, bridge_print_fn *print, void *ctx,
		 u64 now);

#endif
