/* result.h - how a guest test ends: a PASS/FAIL line, then debug exit. */
#ifndef GUEST_RESULT_H
#define GUEST_RESULT_H

#include "types.h"

__attribute__((noreturn)) void debug_exit(u32 v);
__attribute__((noreturn)) void pass(const char *name);
__attribute__((noreturn, format(printf, 2, 3)))
void fail(const char *name, const char *why_fmt, ...);

#endif
