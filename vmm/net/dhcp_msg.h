/*
 * DHCP messages (RFC 2131 §2, Figure 1: the fixed BOOTP layout, then the
 * magic cookie and options of RFC 2132), shared by uhv's DHCP server
 * (dhcp_server.c, inside networks) and client (dhcp_client.c, uhv's
 * address on the uplink). Pure C.
 */
#ifndef UHV_VMM_DHCP_MSG_H
#define UHV_VMM_DHCP_MSG_H

#include "lib/types.h"

/* Byte offsets of the fixed part. */
#define DHCP_OP          0
#define DHCP_HTYPE       1
#define DHCP_HLEN        2
#define DHCP_XID         4
#define DHCP_SECS        8
#define DHCP_FLAGS       10
#define DHCP_CIADDR      12
#define DHCP_YIADDR      16
#define DHCP_GIADDR      24
#define DHCP_CHADDR      28
#define DHCP_CHADDR_LEN  16
#define DHCP_COOKIE      236
#define DHCP_OPTIONS     240
#define DHCP_BOOTREQUEST 1
#define DHCP_BOOTREPLY   2
#define DHCP_HTYPE_ETH   1
#define DHCP_HLEN_ETH    6
#define DHCP_FLAG_BROADCAST 0x8000    /* §2: answer me by broadcast */
#define DHCP_BOOTP_LEN   300          /* BOOTP's minimum (RFC 1542 §3.4) */

/* RFC 2132 options and the message types of option 53 (§9.6). */
#define DHCP_OPT_PAD        0
#define DHCP_OPT_MASK       1
#define DHCP_OPT_ROUTER     3
#define DHCP_OPT_DNS        6
#define DHCP_OPT_REQUESTED  50
#define DHCP_OPT_LEASE_TIME 51
#define DHCP_OPT_TYPE       53
#define DHCP_OPT_SERVER_ID  54
#define DHCP_OPT_PARAMS     55
#define DHCP_OPT_END        255
#define DHCP_DISCOVER 1
#define DHCP_OFFER    2
#define DHCP_REQUEST  3
#define DHCP_DECLINE  4
#define DHCP_ACK      5
#define DHCP_NAK      6
#define DHCP_RELEASE  7
#define DHCP_INFORM   8

/* Whether msg (len bytes) has the fixed part of op over Ethernet and the
   cookie. */
bool dhcp_msg_valid(const u8 *msg, u32 len, u8 op);
/* One option (code, len, value) at *at, which moves past it; false at
   the end of the options or if they run past len. */
bool dhcp_next_option(const u8 *msg, u32 len, u32 *at, u8 *code,
		      const u8 **val, u8 *vlen);
/* Writes option code with len bytes of val at p; returns what follows. */
u8 *dhcp_put_option(u8 *p, u8 code, const u8 *val, u8 len);
/* The fixed part of a message of op with xid and chaddr (6 bytes) and
   the cookie, zeroed to DHCP_BOOTP_LEN; where the options start. */
u8 *dhcp_msg_start(u8 *out, u8 op, const u8 *xid, const u8 *chaddr);

#endif
