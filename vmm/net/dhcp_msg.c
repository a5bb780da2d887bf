/*
 * DHCP message layout helpers (vmm/net/dhcp_msg.h).
 */
#include "vmm/net/dhcp_msg.h"
#include "lib/string.h"

static const u8 cookie[4] = { 99, 130, 83, 99 };     /* RFC 2131 §3 */

bool dhcp_msg_valid(const u8 *msg, u32 len, u8 op)
{
	return len >= DHCP_OPTIONS && msg[DHCP_OP] == op &&
	       msg[DHCP_HTYPE] == DHCP_HTYPE_ETH &&
	       msg[DHCP_HLEN] == DHCP_HLEN_ETH &&
	       !memcmp(msg + DHCP_COOKIE, cookie, sizeof(cookie));
}

bool dhcp_next_option(const u8 *msg, u32 len, u32 *at, u8 *code,
		      const u8 **val, u8 *vlen)
{
	while (*at < len && msg[*at] == DHCP_OPT_PAD)
		(*at)++;
	if (*at >= len || msg[*at] == DHCP_OPT_END || *at + 2 > len ||
	    *at + 2 + msg[*at + 1] > len)
		return false;
	*code = msg[*at];
	*vlen = msg[*at + 1];
	*val = msg + *at + 2;
	*at += 2u + *vlen;
	return true;
}

u8 *dhcp_put_option(u8 *p, u8 code, const u8 *val, u8 len)
{
	p[0] = code;
	p[1] = len;
	memcpy(p + 2, val, len);
	return p + 2 + len;
}

u8 *dhcp_msg_start(u8 *out, u8 op, const u8 *xid, const u8 *chaddr)
{
	memset(out, 0, DHCP_BOOTP_LEN);
	out[DHCP_OP] = op;
	out[DHCP_HTYPE] = DHCP_HTYPE_ETH;
	out[DHCP_HLEN] = DHCP_HLEN_ETH;
	memcpy(out + DHCP_XID, xid, 4);
	memcpy(out + DHCP_CHADDR, chaddr, DHCP_HLEN_ETH);
	memcpy(out + DHCP_COOKIE, cookie, sizeof(cookie));
	return out + DHCP_OPTIONS;
}
