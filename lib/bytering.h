/*
 * A bounded byte FIFO over a caller's buffer of a power-of-two size, for
 * bytes waiting on a slow consumer: uhv's control-channel replies and its
 * pcap stream waiting for their serial ports, a guest agent's requests
 * waiting for the guest's receive buffers. head and tail run freely
 * (u32 wrap-around is fine: used = head - tail) and index the buffer
 * modulo its size:
 *
 *   buf  ....tail==========head....      the bytes between are queued
 *
 * Pure C: no allocation, no hardware; the host unit tests run it.
 */
#ifndef UHV_LIB_BYTERING_H
#define UHV_LIB_BYTERING_H

#include "lib/types.h"

struct bytering {
	u8 *buf;
	u32 size;               /* a power of two */
	u32 head, tail;
};

/* An empty ring over buf[0..size); size must be a power of two. */
void bytering_init(struct bytering *r, u8 *buf, u32 size);
u32 bytering_used(const struct bytering *r);
u32 bytering_room(const struct bytering *r);
/* Appends p[0..len) whole and returns true, or nothing and false if it
   does not fit: a queued message is never cut. */
bool bytering_put(struct bytering *r, const void *p, u32 len);
/* The oldest queued bytes that lie in one piece: sets *p, returns how
   many (0 if none). */
u32 bytering_peek(const struct bytering *r, const u8 **p);
/* The same for the queued bytes after the skip oldest ones (a consumer
   that copies in pieces before it consumes). */
u32 bytering_peek_at(const struct bytering *r, u32 skip, const u8 **p);
/* Drops the n oldest bytes (at most what is queued). */
void bytering_consume(struct bytering *r, u32 n);

#endif
