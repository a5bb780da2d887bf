/*
 * ARP and ICMP echo for uhv's own address (see netif.h); the frames'
 * layouts are in ipv4.h.
 */
#include "vmm/net/netif.h"
#include "vmm/net/dhcp_server.h"
#include "lib/string.h"
#include "lib/bytes.h"

int netif_attach(struct netif *n, struct bridge *b, int net,
		 const u8 *mac, const u8 *ip)
{
	static const struct bridge_port_ops ops = { .deliver = netif_receive };
	struct bridge_port_config cfg = { "uhv", mac, &ops, n, 0, 0 };

	memset(n, 0, sizeof(*n));
	n->br = b;
	memcpy(n->mac, mac, ETH_ALEN);
	memcpy(n->ip, ip, IPV4_ALEN);
	n->port = bridge_attach(b, net, &cfg);
	return n->port < 0 ? -1 : 0;
}

/* A slot for a frame to send; NULL (counted) if the queue is full. */
static u8 *slot(struct netif *n)
{
	if (n->queued == NETIF_QUEUE) {
		n->overflow++;
		return NULL;
	}
	return n->queue[n->queued];
}

/* The frame in the slot is len bytes long: queued. */
static void queued(struct netif *n, u32 len)
{
	n->queue_len[n->queued++] = len;
}

bool netif_queue(struct netif *n, const u8 *frame, u32 len)
{
	u8 *f = slot(n);

	if (!f || len > ETH_FRAME_MAX)
		return false;
	memcpy(f, frame, len);
	queued(n, len);
	return true;
}

/* A request for our address: answered. */
static bool arp(struct netif *n, const u8 *a)
{
	u8 *r;

	if (be16_get(a + ARP_OP_OFF) != ARP_OP_REQUEST ||
	    memcmp(a + ARP_TPA_OFF, n->ip, IPV4_ALEN))
		return false;
	if ((r = slot(n))) {
		queued(n, arp_frame(r, a + ARP_SHA_OFF, ARP_OP_REPLY, n->mac,
				    n->ip, a + ARP_SHA_OFF, a + ARP_SPA_OFF));
		n->arp_replies++;
	}
	return true;
}

/* An echo request to our address: the same packet back, turned around
   (with the queue full it goes to the forward hook or is ignored). */
static bool icmp_echo(struct netif *n, const u8 *frame, u32 len)
{
	u8 *r = n->queued < NETIF_QUEUE ? n->queue[n->queued] : NULL;
	u32 rlen;

	if (!r || !(rlen = icmp_echo_answer(r, frame, len, n->mac, n->ip)))
		return false;
	queued(n, rlen);
	n->echo_replies++;
	return true;
}

/* The DHCP server's answer (payload, len bytes) from port 67 to 68,
   broadcast: a client without an address takes it there (RFC 2131
   §4.1), whatever its broadcast flag says. */
static void dhcp_answer(struct netif *n, const u8 *payload, u32 len)
{
	u8 *r = slot(n);

	if (!r)
		return;
	queued(n, udp_frame(r, eth_broadcast, n->mac, n->ip, DHCP_SERVER_PORT,
			    ipv4_broadcast, DHCP_CLIENT_PORT, payload, len));
	n->dhcp_replies++;
}

/* A datagram to the DHCP server's port, broadcast or to our address. */
static bool dhcp(struct netif *n, const u8 *frame, u32 len)
{
	const u8 *ip = frame + ETH_HLEN, *udp;
	u8 reply[DHCP_REPLY_MAX];
	u32 hlen, total, ulen, rlen;

	if (!n->dhcp || !ipv4_frame(frame, len, &hlen, &total) ||
	    ip[IP_PROTO_OFF] != IP_PROTO_UDP ||
	    be16_get(ip + hlen + UDP_DPORT_OFF) != DHCP_SERVER_PORT ||
	    (memcmp(ip + IP_DST_OFF, n->ip, IPV4_ALEN) &&
	     memcmp(ip + IP_DST_OFF, ipv4_broadcast, IPV4_ALEN)))
		return false;
	udp = ip + hlen;
	ulen = MIN((u32)be16_get(udp + UDP_LEN_OFF), total - hlen);
	if (ulen < UDP_HLEN)
		return false;
	rlen = dhcp_server_handle(n->dhcp, udp + UDP_HLEN, ulen - UDP_HLEN,
				  reply, n->now());
	if (rlen)
		dhcp_answer(n, reply, rlen);
	return true;
}

void netif_serve_dhcp(struct netif *n, struct dhcp_server *d, u64 (*now)(void))
{
	n->dhcp = d;
	n->now = now;
}

void netif_set_forward(struct netif *n,
		       void (*fwd)(void *ctx, const u8 *frame, u32 len),
		       void *ctx)
{
	n->forward = fwd;
	n->forward_ctx = ctx;
}

bool netif_receive(void *ctx, const u8 *frame, u32 len)
{
	struct netif *n = ctx;
	const u8 *a = arp_msg(frame, len);
	bool handled;

	if (a)
		handled = arp(n, a);
	else
		handled = eth_type(frame, len) == ETHERTYPE_IPV4 &&
			  (icmp_echo(n, frame, len) || dhcp(n, frame, len));
	if (!handled && n->forward) {
		n->forward(n->forward_ctx, frame, len);
		n->forwarded++;
	} else if (!handled) {
		n->ignored++;
	}
	return true;                 /* taken: uhv never lacks a buffer */
}

void netif_flush(struct netif *n, u64 now)
{
	for (int i = 0; i < n->queued; i++)
		bridge_send(n->br, n->port, n->queue[i], n->queue_len[i], now);
	n->queued = 0;
}
