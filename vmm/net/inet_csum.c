/*
 * RFC 1071 checksums. The sum is kept in 64 bits and folded once at the
 * end (RFC 1071 §2(C): deferred carries), so a frame of any length this
 * side of 2^48 bytes cannot overflow it.
 */
#include "vmm/net/inet_csum.h"

#define WORD_BITS  16
#define WORD_MASK  0xffffULL
#define BYTE_BITS  8
/* A computed 0 goes out as its other ones' complement form: in UDP a 0
   field means "no checksum" (RFC 768); TCP accepts either form. */
#define CSUM_ZERO_AS 0xffff

u64 inet_sum(const u8 *p, u32 len, u64 sum)
{
	u32 i = 0;

	/* 32 bits at a time: 2^16 is 1 modulo 0xffff, so a 32-bit word adds
	   its two 16-bit halves to the ones' complement sum, and the 64-bit
	   accumulator defers the carries to inet_fold (RFC 1071 §2(C)). */
	for (; i + 4 <= len; i += 4)
		sum += (u32)p[i] << (3 * BYTE_BITS) | (u32)p[i + 1] << (2 * BYTE_BITS) |
		       (u32)p[i + 2] << BYTE_BITS | p[i + 3];   /* one load + bswap */
	for (; i + 1 < len; i += 2)
		sum += (u64)p[i] << BYTE_BITS | p[i + 1];
	if (len & 1)                   /* the odd byte, zero-padded */
		sum += (u64)p[len - 1] << BYTE_BITS;
	return sum;
}

u16 inet_fold(u64 sum)
{
	while (sum >> WORD_BITS)
		sum = (sum & WORD_MASK) + (sum >> WORD_BITS);
	return (u16)~sum;
}

void inet_csum_update16(u8 *csum, u16 old, u16 new)
{
	u32 s = (u16)~(csum[0] << BYTE_BITS | csum[1]) + (u16)~old + (u32)new;

	s = (s & WORD_MASK) + (s >> WORD_BITS);
	s = (s & WORD_MASK) + (s >> WORD_BITS);
	csum[0] = (u8)(~s >> BYTE_BITS);
	csum[1] = (u8)~s;
}

bool inet_csum_fits(u32 len, u32 start, u32 offset)
{
	return start < len && offset <= len - start &&
	       INET_CSUM_LEN <= len - start - offset;
}

bool inet_csum_finish(u8 *frame, u32 len, u32 start, u32 offset)
{
	u16 c;

	if (!inet_csum_fits(len, start, offset))
		return false;
	c = inet_fold(inet_sum(frame + start, len - start, 0));
	if (!c)
		c = CSUM_ZERO_AS;
	frame[start + offset] = (u8)(c >> BYTE_BITS);
	frame[start + offset + 1] = (u8)c;
	return true;
}
