/* io32.h - 16- and 32-bit port reads (PM timer, PCI configuration data),
 * beside io.h's byte reads and wider writes.  Kept out of guest.h so a
 * guest with its own inw/inl still builds; include it where needed. */
#ifndef GUEST_IO32_H
#define GUEST_IO32_H

#include "types.h"

/* Read 16 bits from an I/O port. */
static inline u16 inw(u16 port)
{
    u16 v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* Read 32 bits from an I/O port. */
static inline u32 inl(u16 port)
{
    u32 v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

#endif
