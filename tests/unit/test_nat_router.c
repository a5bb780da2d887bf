/*
 * vmm/net/nat_router.c and vmm/net/dhcp_client.c: a NAT network's
 * router between a fake inside (uhv's netif) and a fake uplink, both
 * recording the frames sent to them. Frames are built here with their
 * checksums from scratch; what the router sends is read back field by
 * field, its checksums recomputed. The DHCP client talks to uhv's own
 * DHCP server (dhcp_server.c), as it would to any RFC 2131 server.
 */
#include <string.h>
#include "unit.h"
#include "vmm/net/nat_router.h"
#include "vmm/net/dhcp_server.h"
#include "vmm/net/inet_csum.h"
#include "ipv4_sums.h"

#define HZ 1000
#define MAX_SENT 8
static const u8 IN_MAC[6] = { 2, 0x75, 0x68, 0x76, 0xff, 0 };
static const u8 OUT_MAC[6] = { 0x52, 0x54, 0, 0x75, 0x68, 1 };
static const u8 VM_MAC[6] = { 2, 0, 0, 0, 0, 0x15 };
static const u8 GW_MAC[6] = { 2, 0, 0, 0, 0, 0xaa };
static const u8 IN_IP[4] = { 10, 0, 2, 1 };
static const u8 VM[4] = { 10, 0, 2, 15 };
static const u8 MASK[4] = { 255, 255, 255, 0 };
static const u8 OUT_IP[4] = { 192, 168, 7, 5 };
static const u8 GW[4] = { 192, 168, 7, 1 };
static const u8 WEB[4] = { 203, 0, 113, 9 };
static const u8 BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct sent {
	u32 n, len[MAX_SENT];
	u8 f[MAX_SENT][ETH_FRAME_MAX];
};
static struct sent inside, outside;
static struct nat_router r;
static u8 frame[ETH_FRAME_MAX];

static void record(struct sent *s, const u8 *f, u32 len)
{
	ck_assert_uint_lt(s->n, MAX_SENT);
	ck_assert_uint_le(len, ETH_FRAME_MAX);
	memcpy(s->f[s->n], f, len);
	s->len[s->n++] = len;
}
static void to_outside(void *ctx, const u8 *f, u32 len) { (void)ctx; record(&outside, f, len); }
static void to_inside(void *ctx, const u8 *f, u32 len) { (void)ctx; record(&inside, f, len); }
static const struct nat_router_ops ops = { to_outside, to_inside };

static u16 g16(const u8 *p) { return (u16)(p[0] << 8 | p[1]); }
static void p16(u8 *p, u16 v) { p[0] = (u8)(v >> 8); p[1] = (u8)v; }

/* An Ethernet frame to dst from src holding an IPv4 packet of proto from
   sip:sport to dip:dport (ICMP: sport is the type, dport the id) with
   l4len bytes of transport, ttl as given, checksums right. */
static u32 test_frame(const u8 *dst, const u8 *src, u8 proto, const u8 *sip,
		    u16 sport, const u8 *dip, u16 dport, u32 l4len, u8 ttl)
{
	u8 *ip = frame + 14, *l4 = ip + 20;

	memset(frame, 0, sizeof(frame));
	memcpy(frame, dst, 6);
	memcpy(frame + 6, src, 6);
	p16(frame + 12, 0x0800);
	ip[0] = 0x45;
	p16(ip + 2, (u16)(20 + l4len));
	ip[8] = ttl;
	ip[9] = proto;
	memcpy(ip + 12, sip, 4);
	memcpy(ip + 16, dip, 4);
	p16(ip + 10, inet_fold(inet_sum(ip, 20, 0)));
	if (proto == NAT_ICMP) {
		l4[0] = (u8)sport;
		p16(l4 + 4, dport);
	} else {
		p16(l4, sport);
		p16(l4 + 2, dport);
		if (proto == NAT_UDP)
			p16(l4 + 4, (u16)l4len);
		else
			l4[12] = 0x50;
	}
	p16(l4 + (proto == NAT_TCP ? 16 : proto == NAT_UDP ? 6 : 2),
	    ipv4_l4_sum(ip, 20, l4len));
	return 14 + 20 + l4len;
}

/* An ARP frame of op (1 request, 2 reply) to dst. */
static u32 arp(const u8 *dst, u16 op, const u8 *sha, const u8 *spa,
	       const u8 *tha, const u8 *tpa)
{
	static const u8 fixed[8] = { 0, 1, 8, 0, 6, 4, 0, 0 };
	u8 *a = frame + 14;

	memset(frame, 0, sizeof(frame));
	memcpy(frame, dst, 6);
	memcpy(frame + 6, sha, 6);
	p16(frame + 12, 0x0806);
	memcpy(a, fixed, 8);
	p16(a + 6, op);
	memcpy(a + 8, sha, 6);
	memcpy(a + 14, spa, 4);
	memcpy(a + 18, tha, 6);
	memcpy(a + 24, tpa, 4);
	return 14 + 28;
}

/* Sent frame f is an IPv4 packet from smac to dmac whose checksums hold. */
static const u8 *assert_ip(const u8 *f, const u8 *dmac, const u8 *smac)
{
	const u8 *ip = f + 14;

	ck_assert_mem_eq(f, dmac, 6);
	ck_assert_mem_eq(f + 6, smac, 6);
	ck_assert_uint_eq(g16(f + 12), 0x0800);
	ck_assert_uint_eq(inet_fold(inet_sum(ip, 20, 0)), 0);
	ck_assert_uint_eq(ipv4_l4_sum(ip, 20, g16(ip + 2) - 20u), 0);
	return ip;
}

/* Sent frame f is an ARP request from smac/sip for tip. */
static void assert_arp_request(const u8 *f, const u8 *smac, const u8 *sip,
			       const u8 *tip)
{
	ck_assert_mem_eq(f, BCAST, 6);
	ck_assert_uint_eq(g16(f + 12), 0x0806);
	ck_assert_uint_eq(g16(f + 14 + 6), 1);
	ck_assert_mem_eq(f + 14 + 8, smac, 6);
	ck_assert_mem_eq(f + 14 + 14, sip, 4);
	ck_assert_mem_eq(f + 14 + 24, tip, 4);
}

static void setup(void)
{
	memset(&inside, 0, sizeof(inside));
	memset(&outside, 0, sizeof(outside));
	nat_router_init(&r, &ops, NULL, HZ, IN_MAC, IN_IP, MASK, OUT_MAC);
}

static void static_address(void)
{
	nat_router_address(&r, OUT_IP, MASK, GW, GW);
}

/* A VM's SYN to a web server: held while uhv asks for its gateway's
   MAC, sent translated (uhv's address and port, TTL one less) when the
   gateway answers; the SYN-ACK comes back to the VM without any ARP
   (the router learned the VM from its packet). */
START_TEST(routes_both_ways)
{
	u32 len;
	const u8 *ip;

	static_address();
	len = test_frame(IN_MAC, VM_MAC, NAT_TCP, VM, 40000, WEB, 80, 20, 64);
	nat_router_inside(&r, frame, len, 1);
	ck_assert_uint_eq(outside.n, 1);
	assert_arp_request(outside.f[0], OUT_MAC, OUT_IP, GW);
	/* a second packet waits too, without a second request */
	len = test_frame(IN_MAC, VM_MAC, NAT_UDP, VM, 5000, WEB, 53, 20, 64);
	nat_router_inside(&r, frame, len, 1);
	ck_assert_uint_eq(outside.n, 1);
	len = arp(OUT_MAC, 2, GW_MAC, GW, OUT_MAC, OUT_IP);
	nat_router_outside(&r, frame, len, 2);
	ck_assert_uint_eq(outside.n, 3);
	ip = assert_ip(outside.f[2], GW_MAC, OUT_MAC);
	ck_assert_uint_eq(ip[9], NAT_UDP);
	ip = assert_ip(outside.f[1], GW_MAC, OUT_MAC);
	ck_assert_mem_eq(ip + 12, OUT_IP, 4);
	ck_assert_mem_eq(ip + 16, WEB, 4);
	ck_assert_uint_eq(ip[8], 63);
	ck_assert_uint_eq(g16(ip + 20), NAT_PORT_FIRST);
	/* the next one goes at once */
	len = test_frame(IN_MAC, VM_MAC, NAT_TCP, VM, 40000, WEB, 80, 20, 64);
	nat_router_inside(&r, frame, len, 3);
	ck_assert_uint_eq(outside.n, 4);
	len = test_frame(OUT_MAC, GW_MAC, NAT_TCP, WEB, 80, OUT_IP, NAT_PORT_FIRST, 20, 50);
	nat_router_outside(&r, frame, len, 4);
	ck_assert_uint_eq(inside.n, 1);
	ip = assert_ip(inside.f[0], VM_MAC, IN_MAC);
	ck_assert_mem_eq(ip + 16, VM, 4);
	ck_assert_uint_eq(g16(ip + 22), 40000);
	ck_assert_uint_eq(ip[8], 49);
	ck_assert_uint_eq(r.stats.out, 3);
	ck_assert_uint_eq(r.stats.in, 1);
	ck_assert_uint_eq(r.stats.arp_requests, 1);
	ck_assert_uint_eq(r.stats.unresolved, 0);
}
END_TEST

/* uhv's outside address answers ARP and ping from the LAN; a port
   forward reaches a VM uhv has not heard from, after an ARP round on
   the inside. */
START_TEST(lan_side)
{
	u32 len;
	const u8 *ip;

	static_address();
	ck_assert_int_eq(nat_forward(&r.nat, NAT_TCP, 2222, VM, 22), 0);
	len = arp(BCAST, 1, GW_MAC, GW, BCAST, OUT_IP);
	nat_router_outside(&r, frame, len, 1);
	ck_assert_uint_eq(outside.n, 1);
	ck_assert_uint_eq(g16(outside.f[0] + 14 + 6), 2);          /* reply */
	ck_assert_mem_eq(outside.f[0], GW_MAC, 6);
	ck_assert_mem_eq(outside.f[0] + 14 + 8, OUT_MAC, 6);
	ck_assert_mem_eq(outside.f[0] + 14 + 14, OUT_IP, 4);
	len = test_frame(OUT_MAC, GW_MAC, NAT_ICMP, GW, 8, OUT_IP, 77, 16, 64);
	nat_router_outside(&r, frame, len, 2);
	ck_assert_uint_eq(outside.n, 2);
	ip = assert_ip(outside.f[1], GW_MAC, OUT_MAC);
	ck_assert_uint_eq(ip[20], 0);                              /* echo reply */
	ck_assert_uint_eq(r.stats.echo_replies, 1);
	len = test_frame(OUT_MAC, GW_MAC, NAT_TCP, GW, 5555, OUT_IP, 2222, 20, 64);
	nat_router_outside(&r, frame, len, 3);
	ck_assert_uint_eq(inside.n, 1);
	assert_arp_request(inside.f[0], IN_MAC, IN_IP, VM);
	len = arp(IN_MAC, 2, VM_MAC, VM, IN_MAC, IN_IP);
	nat_router_inside(&r, frame, len, 4);
	ck_assert_uint_eq(inside.n, 2);
	ip = assert_ip(inside.f[1], VM_MAC, IN_MAC);
	ck_assert_mem_eq(ip + 16, VM, 4);
	ck_assert_uint_eq(g16(ip + 22), 22);
	/* frames for other stations on the LAN are none of uhv's business */
	len = test_frame(GW_MAC, VM_MAC, NAT_TCP, GW, 1, WEB, 2, 20, 64);
	nat_router_outside(&r, frame, len, 5);
	ck_assert_uint_eq(r.stats.ignored, 1);
	ck_assert_uint_eq(inside.n + outside.n, 4);
}
END_TEST

/* DNS to uhv's inside address goes to the resolver and comes back from
   uhv's inside address. */
START_TEST(dns_relayed)
{
	u32 len;
	const u8 *ip;

	static_address();
	/* an ARP to uhv's address teaches it the sender (RFC 826's merge) */
	len = arp(OUT_MAC, 2, GW_MAC, GW, OUT_MAC, OUT_IP);
	nat_router_outside(&r, frame, len, 0);
	ck_assert_uint_eq(outside.n, 0);
	len = test_frame(IN_MAC, VM_MAC, NAT_UDP, VM, 5353, IN_IP, 53, 30, 64);
	nat_router_inside(&r, frame, len, 1);
	ck_assert_uint_eq(outside.n, 1);                      /* no ARP first */
	ip = assert_ip(outside.f[0], GW_MAC, OUT_MAC);
	ck_assert_mem_eq(ip + 16, GW, 4);
	ck_assert_uint_eq(g16(ip + 22), 53);
	len = test_frame(OUT_MAC, GW_MAC, NAT_UDP, GW, 53, OUT_IP, g16(ip + 20), 50, 64);
	nat_router_outside(&r, frame, len, 3);
	ck_assert_uint_eq(inside.n, 1);
	ip = assert_ip(inside.f[0], VM_MAC, IN_MAC);
	ck_assert_mem_eq(ip + 12, IN_IP, 4);
	ck_assert_uint_eq(g16(ip + 20), 53);
	ck_assert_uint_eq(g16(ip + 22), 5353);
}
END_TEST

/* What the router will not route, each counted. */
START_TEST(refusals)
{
	static const u8 VM2[4] = { 10, 0, 2, 16 };
	u32 len = test_frame(IN_MAC, VM_MAC, NAT_TCP, VM, 1, WEB, 2, 20, 64);

	nat_router_inside(&r, frame, len, 0);                 /* no address */
	ck_assert_uint_eq(r.stats.no_address, 1);
	static_address();
	len = test_frame(IN_MAC, VM_MAC, NAT_TCP, VM, 1, WEB, 2, 20, 1);
	nat_router_inside(&r, frame, len, 0);
	ck_assert_uint_eq(r.stats.ttl_expired, 1);
	len = test_frame(IN_MAC, VM_MAC, NAT_TCP, VM, 1, VM2, 2, 20, 64);
	nat_router_inside(&r, frame, len, 0);
	len = test_frame(IN_MAC, VM_MAC, NAT_TCP, VM, 1, IN_IP, 22, 20, 64);
	nat_router_inside(&r, frame, len, 0);
	ck_assert_uint_eq(r.stats.not_routed, 2);
	len = test_frame(VM_MAC, IN_MAC, NAT_TCP, VM, 1, WEB, 2, 20, 64);
	nat_router_inside(&r, frame, len, 0);                 /* not to us */
	len = test_frame(IN_MAC, VM_MAC, NAT_TCP, WEB, 1, GW, 2, 20, 64);
	nat_router_inside(&r, frame, len, 0);                 /* spoofed */
	len = test_frame(IN_MAC, VM_MAC, NAT_TCP, IN_IP, 1, GW, 2, 20, 64);
	nat_router_inside(&r, frame, len, 0);                 /* as uhv */
	ck_assert_uint_eq(r.stats.spoofed, 2);
	nat_router_address(&r, OUT_IP, MASK, ipv4_any, ipv4_any);
	len = test_frame(IN_MAC, VM_MAC, NAT_TCP, VM, 1, WEB, 2, 20, 64);
	nat_router_inside(&r, frame, len, 0);
	ck_assert_uint_eq(r.stats.no_route, 1);
	ck_assert_uint_eq(outside.n + inside.n, 0);
}
END_TEST

/* An unanswered ARP: asked NAT_ARP_TRIES times a second apart, then the
   held packet is dropped and counted. */
START_TEST(arp_gives_up)
{
	u32 len;

	static_address();
	len = test_frame(IN_MAC, VM_MAC, NAT_UDP, VM, 1, WEB, 2, 20, 64);
	nat_router_inside(&r, frame, len, 0);
	for (u64 t = 1; t <= 5; t++)
		nat_router_tick(&r, t * HZ + 1);
	ck_assert_uint_eq(outside.n, NAT_ARP_TRIES);
	for (u32 i = 0; i < outside.n; i++)
		assert_arp_request(outside.f[i], OUT_MAC, OUT_IP, GW);
	ck_assert_uint_eq(r.stats.unresolved, 1);
	ck_assert_uint_eq(r.stats.out, 1);
}
END_TEST

/* The DHCP message in a frame the router sent: its UDP payload. */
static const u8 *dhcp_payload(const u8 *f, u32 flen, u32 *len)
{
	const u8 *ip = f + 14;

	ck_assert_uint_eq(g16(f + 12), 0x0800);
	ck_assert_uint_eq(ip[9], NAT_UDP);
	ck_assert_uint_eq(g16(ip + 20), 68);
	ck_assert_uint_eq(g16(ip + 22), 67);
	ck_assert_uint_eq(ipv4_l4_sum(ip, 20, g16(ip + 2) - 20u), 0);
	*len = flen - 14 - 28;
	return ip + 28;
}

/* A server's answer in a broadcast frame from GW:67 to the client. */
static u32 dhcp_frame(const u8 *msg, u32 mlen)
{
	u32 len = test_frame(BCAST, GW_MAC, NAT_UDP, GW, 67, ipv4_broadcast, 68,
			   8 + mlen, 64);
	u8 *ip = frame + 14;

	memcpy(ip + 28, msg, mlen);
	p16(ip + 26, 0);
	p16(ip + 26, ipv4_l4_sum(ip, 20, 8 + mlen));
	return len;
}

/* The router's DHCP client against uhv's own DHCP server: DISCOVER,
   OFFER, REQUEST, ACK; the lease gives the router its address, gateway
   and resolver; at T1 it renews with the server by unicast. */
START_TEST(dhcp_client_leases)
{
	static struct dhcp_server srv;
	static const u8 FIRST[4] = { 192, 168, 7, 50 };
	u8 reply[DHCP_REPLY_MAX];
	const u8 *msg, *ip;
	u32 mlen, rlen, len;

	ck_assert_int_eq(dhcp_server_init(&srv, GW, MASK, FIRST, 4, 100, HZ), 0);
	srv.gateway = true;
	nat_router_use_dhcp(&r, 7);
	nat_router_tick(&r, 1);
	ck_assert_uint_eq(outside.n, 1);
	ck_assert_mem_eq(outside.f[0], BCAST, 6);
	ck_assert_mem_eq(outside.f[0] + 14 + 12, ipv4_any, 4);
	msg = dhcp_payload(outside.f[0], outside.len[0], &mlen);
	rlen = dhcp_server_handle(&srv, msg, mlen, reply, 1);
	ck_assert_uint_gt(rlen, 0);
	nat_router_outside(&r, frame, dhcp_frame(reply, rlen), 2);   /* OFFER */
	nat_router_tick(&r, 3);                                      /* REQUEST */
	ck_assert_uint_eq(outside.n, 2);
	msg = dhcp_payload(outside.f[1], outside.len[1], &mlen);
	rlen = dhcp_server_handle(&srv, msg, mlen, reply, 3);
	ck_assert_uint_eq(srv.stats.acks, 1);
	ck_assert(!r.addressed);
	nat_router_outside(&r, frame, dhcp_frame(reply, rlen), 4);   /* ACK */
	ck_assert(r.addressed);
	ck_assert_mem_eq(r.out.ip, FIRST, 4);
	ck_assert_mem_eq(r.gateway, GW, 4);
	ck_assert_mem_eq(r.dns, GW, 4);
	ck_assert_mem_eq(r.nat.out_ip, FIRST, 4);
	/* a retransmission timer must not fire while bound */
	nat_router_tick(&r, 40 * HZ);
	ck_assert_uint_eq(outside.n, 2);
	/* T1 (50 s): a unicast REQUEST with ciaddr, via ARP for the server */
	nat_router_tick(&r, 4 + 50 * HZ);
	ck_assert_uint_eq(outside.n, 3);
	assert_arp_request(outside.f[2], OUT_MAC, FIRST, GW);
	len = arp(OUT_MAC, 2, GW_MAC, GW, OUT_MAC, FIRST);
	nat_router_outside(&r, frame, len, 5 + 50 * HZ);
	ck_assert_uint_eq(outside.n, 4);
	ip = outside.f[3] + 14;
	ck_assert_mem_eq(outside.f[3], GW_MAC, 6);
	ck_assert_mem_eq(ip + 12, FIRST, 4);
	ck_assert_mem_eq(ip + 16, GW, 4);
	msg = dhcp_payload(outside.f[3], outside.len[3], &mlen);
	ck_assert_mem_eq(msg + 12, FIRST, 4);                        /* ciaddr */
	rlen = dhcp_server_handle(&srv, msg, mlen, reply, 6 + 50 * HZ);
	ck_assert_uint_eq(srv.stats.acks, 2);
	nat_router_outside(&r, frame, dhcp_frame(reply, rlen), 7 + 50 * HZ);
	ck_assert_uint_eq(r.dhcp.state, DHCPC_BOUND);
	ck_assert_uint_eq(r.dhcp.stats.acks, 2);
}
END_TEST

/* The client alone: backoff while no one answers, a NAK ends a lease,
   an unrenewed lease ends, answers for another transaction are ignored. */
START_TEST(dhcp_client_timers)
{
	static const u8 MAC[6] = { 2, 0, 0, 0, 0, 9 };
	static struct dhcp_server srv;
	static struct dhcp_client c;
	static const u8 FIRST[4] = { 192, 168, 7, 50 };
	u8 out[DHCPC_MSG_MAX], to[4], reply[DHCP_REPLY_MAX];
	u32 len, rlen, sent = 0;

	ck_assert_int_eq(dhcp_server_init(&srv, GW, MASK, FIRST, 4, 20, HZ), 0);
	dhcp_client_init(&c, MAC, 100, HZ);
	for (u64 t = 0; t <= 40 * HZ; t += HZ / 2)
		sent += dhcp_client_poll(&c, t, out, to) != 0;
	/* at 0, 2, 6, 14, 30 s: the backoff doubles to its cap of 16 s */
	ck_assert_uint_eq(sent, 5);
	ck_assert_mem_eq(to, ipv4_broadcast, 4);
	len = dhcp_client_poll(&c, 60 * HZ, out, to);
	rlen = dhcp_server_handle(&srv, out, len, reply, 60 * HZ);
	reply[4] ^= 1;                                     /* another xid */
	ck_assert(!dhcp_client_input(&c, reply, rlen, 60 * HZ));
	ck_assert_uint_eq(c.stats.ignored, 1);
	reply[4] ^= 1;
	ck_assert(!dhcp_client_input(&c, reply, rlen, 60 * HZ));   /* OFFER */
	len = dhcp_client_poll(&c, 60 * HZ, out, to);
	rlen = dhcp_server_handle(&srv, out, len, reply, 60 * HZ);
	ck_assert(dhcp_client_input(&c, reply, rlen, 60 * HZ));    /* ACK */
	ck_assert(dhcp_client_bound(&c));
	ck_assert_uint_eq(c.lease.lease_s, 20);
	/* no renewal answered: rebinding at T2, then the end at 20 s */
	for (u64 t = 60 * HZ; t < 81 * HZ; t += HZ / 2)
		dhcp_client_poll(&c, t, out, to);
	ck_assert(!dhcp_client_bound(&c));
	ck_assert_uint_eq(c.stats.expired, 1);
}
END_TEST

/* uhv's own TCP on the outside address: a SYN to its port is answered
   from uhv (not forwarded, not translated), framed to the LAN's next hop;
   other ports still go to the translator. */
START_TEST(own_tcp_port)
{
	static struct tcp t;
	const u8 *ip;
	u32 len;

	static_address();
	tcp_init(&t, ipv4_any, HZ, 5000, &nat_router_tcp_ops, &r);
	nat_router_attach_tcp(&r, &t);
	ck_assert_mem_eq(t.ip, OUT_IP, 4);
	ck_assert_int_eq(tcp_listen(&t, 9100), 0);
	ck_assert_int_eq(nat_forward(&r.nat, NAT_TCP, 9100, VM, 80), 0);
	len = arp(OUT_MAC, 2, GW_MAC, GW, OUT_MAC, OUT_IP);
	nat_router_outside(&r, frame, len, 1);
	len = test_frame(OUT_MAC, GW_MAC, NAT_TCP, GW, 5555, OUT_IP, 9100, 20, 64);
	frame[14 + 20 + 13] = 0x02;                          /* SYN */
	p16(frame + 14 + 20 + 16, 0);
	p16(frame + 14 + 20 + 16, ipv4_l4_sum(frame + 14, 20, 20));
	nat_router_outside(&r, frame, len, 2);
	ck_assert_uint_eq(inside.n, 0);                      /* not forwarded */
	ck_assert_uint_eq(outside.n, 1);
	ip = assert_ip(outside.f[0], GW_MAC, OUT_MAC);
	ck_assert_mem_eq(ip + 12, OUT_IP, 4);
	ck_assert_uint_eq(ip[20 + 13], 0x12);                /* SYN|ACK */
	ck_assert_uint_eq(g16(ip + 20), 9100);
	ck_assert_uint_eq(g16(ip + 22), 5555);
	ck_assert_uint_eq(t.stats.segs_in, 1);
	/* a new address: uhv's TCP follows it, its connections end */
	nat_router_address(&r, GW, MASK, ipv4_any, ipv4_any);
	ck_assert_mem_eq(t.ip, GW, 4);
	ck_assert_int_eq(tcp_state(&t, 0), TCP_CLOSED);
}
END_TEST

Suite *nat_router_suite(void)
{
	Suite *s = suite_create("nat_router");
	TCase *tc = tcase_create("nat_router");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, routes_both_ways);
	tcase_add_test(tc, lan_side);
	tcase_add_test(tc, dns_relayed);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, arp_gives_up);
	tcase_add_test(tc, dhcp_client_leases);
	tcase_add_test(tc, dhcp_client_timers);
	tcase_add_test(tc, own_tcp_port);
	suite_add_tcase(s, tc);
	return s;
}
