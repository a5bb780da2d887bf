/*
 * The Internet checksum (RFC 1071): the ones' complement of the ones'
 * complement sum of 16-bit big-endian words, an odd last byte padded
 * with zero. Used to finish checksums a guest left to the device
 * (virtio 1.2 §5.1.6.2, VIRTIO_NET_F_CSUM) for receivers that cannot
 * take them unfinished. Pure C, no state.
 */
#ifndef UHV_VMM_INET_CSUM_H
#define UHV_VMM_INET_CSUM_H

#include "lib/types.h"

#define INET_CSUM_LEN 2          /* the checksum field: 16 bits */

/* sum plus the 16-bit words of len bytes at p, not yet folded. */
u64 inet_sum(const u8 *p, u32 len, u64 sum);

/* The checksum of a sum: folded to 16 bits and complemented. */
u16 inet_fold(u64 sum);

/* Keeps the 16-bit checksum at csum right after a 16-bit word it covers
   went from old to new, without summing the data again: RFC 1624 eqn. 3,
   HC' = ~(~HC + ~m + m'). */
void inet_csum_update16(u8 *csum, u16 old, u16 new);

/* Whether a checksum at start + offset fits a frame of len bytes:
   start < len and the 16-bit field inside [start, len). */
bool inet_csum_fits(u32 len, u32 start, u32 offset);

/*
 * Finishes the checksum of frame (len bytes): the field at start +
 * offset holds the sum the sender began (the pseudo-header's, for TCP
 * and UDP); it is replaced by the checksum of [start, len). False and
 * nothing written if the field does not fit (inet_csum_fits).
 */
bool inet_csum_finish(u8 *frame, u32 len, u32 start, u32 offset);

#endif
