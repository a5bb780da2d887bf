/* util.c - freestanding memory/string helpers and 64-bit division. */
#include "util.h"

/* Fill n bytes at dst with the byte c; returns dst (C semantics). */
void *memset(void *dst, int c, size_t n)
{
    u8 *d = dst;
    while (n--)
        *d++ = (u8)c;
    return dst;
}

/* Copy n bytes from src to dst (no overlap); returns dst (C semantics). */
void *memcpy(void *dst, const void *src, size_t n)
{
    u8 *d = dst;
    const u8 *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

/* Compare n bytes; <0, 0, >0 like C memcmp. */
int memcmp(const void *a, const void *b, size_t n)
{
    const u8 *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

/* Length of a NUL-terminated string. */
size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* Divide a u64 by a u32 with two DIVL steps, so -m32 code needs no libgcc
 * (__udivdi3).  The second DIVL cannot overflow: its high half is the first
 * step's remainder, which is below d. */
u64 udiv64(u64 n, u32 d, u32 *rem)
{
    u32 hi = (u32)(n >> 32), lo = (u32)n;
    u32 qhi = hi / d, r = hi % d, qlo;
    __asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(d));
    if (rem)
        *rem = r;
    return ((u64)qhi << 32) | qlo;
}
