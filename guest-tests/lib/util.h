/* util.h - the few libc-like routines a freestanding guest needs. */
#ifndef GUEST_UTIL_H
#define GUEST_UTIL_H

#include "types.h"

/* GCC may emit calls to these even with -ffreestanding. */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* 64-by-32 division without libgcc: returns n / d, stores n % d in *rem. */
u64 udiv64(u64 n, u32 d, u32 *rem);

#endif
