/* io.h - x86 port I/O. Each access is a VM exit under uhv. */
#ifndef GUEST_IO_H
#define GUEST_IO_H

#include "types.h"

/* Write one byte to an I/O port. */
static inline void outb(u16 port, u8 v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

/* Write 16 bits to an I/O port (fw_cfg selector). */
static inline void outw(u16 port, u16 v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

/* Write 32 bits to an I/O port (debug exit takes the whole value). */
static inline void outl(u16 port, u32 v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

/* Read one byte from an I/O port. */
static inline u8 inb(u16 port)
{
    u8 v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

#endif
