/*
 * Byte-order helpers: fields of a given width at any alignment, in
 * little-endian order (x86, virtio 1.2 §1.4, ACPI, PCI, pcap) or in
 * network order (big-endian, RFC 1700), and the mask of an access's width.
 * One copy for every part of uhv: the device models, virtio, the network
 * code, the loader's ACPI walk.
 */
#ifndef UHV_LIB_BYTES_H
#define UHV_LIB_BYTES_H

#include "lib/types.h"

/* All ones in the low `bytes` bytes (8 or more: all 64 bits), the mask
   of a 1-, 2-, 4- or 8-byte access. */
static inline u64 size_mask(unsigned bytes)
{
	return bytes >= sizeof(u64) ? ~0ULL : BIT(8 * bytes) - 1;
}

/* ---- little-endian ---- */

static inline u16 le16_get(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static inline u32 le32_get(const u8 *p)
{
	return (u32)le16_get(p) | (u32)le16_get(p + 2) << 16;
}

static inline u64 le64_get(const u8 *p)
{
	return (u64)le32_get(p) | (u64)le32_get(p + 4) << 32;
}

/* The `bytes` bytes at p (at most 8), least significant first. */
static inline u64 le_get(const u8 *p, unsigned bytes)
{
	u64 v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

/* Stores the low `bytes` bytes of v at p, least significant first. */
static inline void le_put(u8 *p, u64 v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (u8)(v >> (8 * i));
}

/* ---- big-endian (network order) ---- */

static inline u16 be16_get(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static inline void be16_put(u8 *p, u16 v)
{
	p[0] = (u8)(v >> 8);
	p[1] = (u8)v;
}

static inline u32 be32_get(const u8 *p)
{
	return (u32)be16_get(p) << 16 | be16_get(p + 2);
}

static inline void be32_put(u8 *p, u32 v)
{
	be16_put(p, (u16)(v >> 16));
	be16_put(p + 2, (u16)v);
}

#endif
