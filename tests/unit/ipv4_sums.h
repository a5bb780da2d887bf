/*
 * Checksums of IPv4 packets the slow way, for the NAT tests and fuzzer:
 * RFC 1071 over a transport segment, with the pseudo-header (RFC 9293
 * §3.1, RFC 768) for TCP and UDP; 0 when the segment's checksum holds.
 */
#ifndef UHV_TESTS_IPV4_SUMS_H
#define UHV_TESTS_IPV4_SUMS_H

#include <string.h>
#include "vmm/net/inet_csum.h"
#include "vmm/net/nat.h"

/* The folded sum of the l4len-byte segment after the hl-byte header of
   ip, pseudo-header included unless it is ICMP. */
static inline u16 ipv4_l4_sum(const u8 *ip, u32 hl, u32 l4len)
{
	u8 ph[12];
	u64 s = 0;

	if (ip[9] != NAT_ICMP) {
		memcpy(ph, ip + 12, 8);          /* source, destination */
		ph[8] = 0;
		ph[9] = ip[9];
		ph[10] = (u8)(l4len >> 8);
		ph[11] = (u8)l4len;
		s = inet_sum(ph, sizeof(ph), 0);
	}
	return inet_fold(inet_sum(ip + hl, l4len, s));
}

#endif
