/*
 * vmm/net/nat.c: NAPT. Packets are built here with checksums computed
 * from scratch (RFC 1071 over the header, and over the pseudo-header and
 * segment for TCP and UDP); after each translation the checksums are
 * computed from scratch again and must hold, so every incremental update
 * of nat.c is checked against the slow way.
 */
#include <string.h>
#include "unit.h"
#include "vmm/net/nat.h"
#include "vmm/net/inet_csum.h"
#include "ipv4_sums.h"

#define HZ 1000
static const u8 OUT[4] = { 192, 0, 2, 1 };        /* uhv outside */
static const u8 VM[4] = { 10, 0, 2, 15 };
static const u8 VM2[4] = { 10, 0, 2, 16 };
static const u8 WEB[4] = { 198, 51, 100, 7 };
static const u8 FAR[4] = { 203, 0, 113, 9 };
static struct nat n;
static u8 pkt[1600];

static u16 g16(const u8 *p) { return (u16)(p[0] << 8 | p[1]); }
static void p16(u8 *p, u16 v) { p[0] = (u8)(v >> 8); p[1] = (u8)v; }

/* The transport checksum's offset for proto. */
static u32 csum_off(u8 proto)
{
	return proto == NAT_TCP ? 16 : proto == NAT_UDP ? 6 : 2;
}

/* RFC 1071 over the segment, with the pseudo-header for TCP and UDP. */
static u16 l4_sum(const u8 *ip, u32 l4len)
{
	return ipv4_l4_sum(ip, 20, l4len);
}

/* An IPv4 packet of proto from src to dst with l4len bytes of transport
   (ports or ICMP type/id as given), both checksums right. */
static u32 build(u8 proto, const u8 *src, u16 sport, const u8 *dst, u16 dport,
		 u32 l4len)
{
	u8 *l4 = pkt + 20;

	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x45;
	p16(pkt + 2, (u16)(20 + l4len));
	pkt[8] = 64;
	pkt[9] = proto;
	memcpy(pkt + 12, src, 4);
	memcpy(pkt + 16, dst, 4);
	p16(pkt + 10, inet_fold(inet_sum(pkt, 20, 0)));
	for (u32 i = 8; i < l4len; i++)
		l4[i] = (u8)(i * 7);
	if (proto == NAT_ICMP) {
		l4[0] = (u8)sport;           /* type */
		p16(l4 + 4, dport);          /* identifier */
	} else {
		p16(l4 + 0, sport);
		p16(l4 + 2, dport);
		if (proto == NAT_UDP)
			p16(l4 + 4, (u16)l4len);
		else {
			l4[12] = 0x50;       /* data offset 5 */
			l4[13] = 0;          /* flags: tcp_flags() */
		}
	}
	p16(l4 + csum_off(proto), 0);
	p16(l4 + csum_off(proto), l4_sum(pkt, l4len));
	return 20 + l4len;
}

static void tcp_flags(u8 f)
{
	u32 l4len = g16(pkt + 2) - 20;

	pkt[20 + 13] = f;
	p16(pkt + 20 + 16, 0);
	p16(pkt + 20 + 16, l4_sum(pkt, l4len));
}

/* Both checksums of pkt hold (a UDP checksum of 0 means none). */
static void assert_sums(void)
{
	u32 l4len = g16(pkt + 2) - 20;

	ck_assert_uint_eq(inet_fold(inet_sum(pkt, 20, 0)), 0);
	if (pkt[9] == NAT_UDP && !g16(pkt + 20 + 6))
		return;
	ck_assert_uint_eq(l4_sum(pkt, l4len), 0);
}

static void setup(void)
{
	nat_init(&n, OUT, HZ);
}

START_TEST(tcp_round_trip)
{
	u32 len = build(NAT_TCP, VM, 40000, WEB, 80, 40);

	tcp_flags(0x02);                                /* SYN */
	ck_assert_int_eq(nat_outbound(&n, pkt, len, 1), NAT_PASS);
	ck_assert_mem_eq(pkt + 12, OUT, 4);
	ck_assert_uint_eq(g16(pkt + 20), NAT_PORT_FIRST);
	ck_assert_mem_eq(pkt + 16, WEB, 4);             /* untouched */
	ck_assert_uint_eq(g16(pkt + 22), 80);
	assert_sums();
	len = build(NAT_TCP, WEB, 80, OUT, NAT_PORT_FIRST, 40);
	tcp_flags(0x12);                                /* SYN-ACK */
	ck_assert_int_eq(nat_inbound(&n, pkt, len, 2), NAT_PASS);
	ck_assert_mem_eq(pkt + 16, VM, 4);
	ck_assert_uint_eq(g16(pkt + 22), 40000);
	assert_sums();
	len = build(NAT_TCP, VM, 40000, WEB, 80, 20);
	tcp_flags(0x10);                                /* ACK: open */
	ck_assert_int_eq(nat_outbound(&n, pkt, len, 3), NAT_PASS);
	nat_expire(&n, 3 + (NAT_TCP_TRANSITORY_S + 1) * HZ);
	ck_assert_uint_eq(nat_used(&n), 1);             /* established */
	ck_assert_uint_eq(n.stats.out, 2);
	ck_assert_uint_eq(n.stats.in, 1);
}
END_TEST

START_TEST(mapping_and_filtering)
{
	u32 len = build(NAT_TCP, VM, 40000, WEB, 80, 20);

	ck_assert_int_eq(nat_outbound(&n, pkt, len, 1), NAT_PASS);
	len = build(NAT_TCP, VM, 40000, FAR, 443, 20);  /* same VM port */
	ck_assert_int_eq(nat_outbound(&n, pkt, len, 1), NAT_PASS);
	ck_assert_uint_eq(g16(pkt + 20), NAT_PORT_FIRST);  /* same mapping */
	len = build(NAT_TCP, VM2, 40000, WEB, 80, 20);
	ck_assert_int_eq(nat_outbound(&n, pkt, len, 1), NAT_PASS);
	ck_assert_uint_eq(g16(pkt + 20), NAT_PORT_FIRST + 1);
	/* only the far end of a connection gets in */
	len = build(NAT_TCP, WEB, 81, OUT, NAT_PORT_FIRST, 20);
	ck_assert_int_eq(nat_inbound(&n, pkt, len, 2), NAT_DROP_NO_CONN);
	len = build(NAT_TCP, WEB, 80, OUT, 50000, 20);
	ck_assert_int_eq(nat_inbound(&n, pkt, len, 2), NAT_DROP_NO_CONN);
	len = build(NAT_UDP, WEB, 80, OUT, NAT_PORT_FIRST, 20);
	ck_assert_int_eq(nat_inbound(&n, pkt, len, 2), NAT_DROP_NO_CONN);
	len = build(NAT_TCP, WEB, 80, VM, NAT_PORT_FIRST, 20);  /* not to uhv */
	ck_assert_int_eq(nat_inbound(&n, pkt, len, 2), NAT_DROP_NO_CONN);
	ck_assert_uint_eq(n.stats.drops[NAT_DROP_NO_CONN], 4);
}
END_TEST

START_TEST(udp_checksums_and_timeouts)
{
	u32 len = build(NAT_UDP, VM, 5353, WEB, 53, 30);

	ck_assert_int_eq(nat_outbound(&n, pkt, len, 0), NAT_PASS);
	assert_sums();
	len = build(NAT_UDP, VM, 5354, WEB, 53, 30);
	p16(pkt + 26, 0);                               /* no checksum */
	ck_assert_int_eq(nat_outbound(&n, pkt, len, 0), NAT_PASS);
	ck_assert_uint_eq(g16(pkt + 26), 0);            /* stays none */
	assert_sums();
	/* the first is answered (120 s), the second is not (30 s) */
	len = build(NAT_UDP, WEB, 53, OUT, NAT_PORT_FIRST, 30);
	ck_assert_int_eq(nat_inbound(&n, pkt, len, 1), NAT_PASS);
	ck_assert_uint_eq(g16(pkt + 22), 5353);
	assert_sums();
	nat_expire(&n, (NAT_UDP_S + 2) * HZ);
	ck_assert_uint_eq(nat_used(&n), 1);
	nat_expire(&n, (NAT_UDP_STREAM_S + 2) * HZ);
	ck_assert_uint_eq(nat_used(&n), 0);
	ck_assert_uint_eq(n.stats.expired, 2);
}
END_TEST

START_TEST(icmp_echo)
{
	u32 len = build(NAT_ICMP, VM, 8, WEB, 0x1234, 64);   /* request */

	ck_assert_int_eq(nat_outbound(&n, pkt, len, 0), NAT_PASS);
	ck_assert_uint_eq(g16(pkt + 24), NAT_PORT_FIRST);     /* uhv's id */
	assert_sums();
	len = build(NAT_ICMP, WEB, 0, OUT, NAT_PORT_FIRST, 64);  /* reply */
	ck_assert_int_eq(nat_inbound(&n, pkt, len, 1), NAT_PASS);
	ck_assert_uint_eq(g16(pkt + 24), 0x1234);
	ck_assert_mem_eq(pkt + 16, VM, 4);
	assert_sums();
	len = build(NAT_ICMP, VM, 0, WEB, 0x1234, 64);   /* a reply out */
	ck_assert_int_eq(nat_outbound(&n, pkt, len, 0), NAT_DROP_PROTOCOL);
	nat_expire(&n, (NAT_ICMP_S + 2) * HZ);
	ck_assert_uint_eq(nat_used(&n), 0);
}
END_TEST

/* A UDP datagram goes out; the far end's port-unreachable quotes it
   whole: the VM gets the error with the quote as it sent it. */
START_TEST(icmp_error_quote)
{
	u8 sent[64], quote[64];
	u32 len = build(NAT_UDP, VM, 5353, WEB, 53, 24), qlen;

	memcpy(sent, pkt, len);
	ck_assert_int_eq(nat_outbound(&n, pkt, len, 0), NAT_PASS);
	qlen = len;
	memcpy(quote, pkt, qlen);                /* as it left uhv */
	len = build(NAT_ICMP, WEB, 3, OUT, 0, 8 + qlen);
	pkt[21] = 3;                             /* code: port unreachable */
	p16(pkt + 24, 0);                        /* unused */
	memcpy(pkt + 28, quote, qlen);
	p16(pkt + 22, 0);
	p16(pkt + 22, l4_sum(pkt, 8 + qlen));
	ck_assert_int_eq(nat_inbound(&n, pkt, len, 1), NAT_PASS);
	ck_assert_mem_eq(pkt + 16, VM, 4);
	assert_sums();                           /* outer IP and ICMP */
	ck_assert_mem_eq(pkt + 28, sent, qlen);  /* the quote: as the VM sent */
	/* an error quoting something uhv never sent */
	len = build(NAT_ICMP, WEB, 3, OUT, 0, 8 + qlen);
	memcpy(pkt + 28, quote, qlen);
	p16(pkt + 28 + 20, 4242);
	ck_assert_int_eq(nat_inbound(&n, pkt, len, 1), NAT_DROP_NO_CONN);
}
END_TEST

START_TEST(port_forward)
{
	u32 len;

	ck_assert_int_eq(nat_forward(&n, NAT_TCP, 2222, VM, 22), 0);
	ck_assert_int_eq(nat_forward(&n, NAT_TCP, 2222, VM2, 22), -1);  /* taken */
	ck_assert_int_eq(nat_forward(&n, NAT_ICMP, 1, VM, 1), -1);
	len = build(NAT_TCP, FAR, 5555, OUT, 2222, 20);
	tcp_flags(0x02);
	ck_assert_int_eq(nat_inbound(&n, pkt, len, 0), NAT_PASS);
	ck_assert_mem_eq(pkt + 16, VM, 4);
	ck_assert_uint_eq(g16(pkt + 22), 22);
	assert_sums();
	len = build(NAT_TCP, VM, 22, FAR, 5555, 20);   /* the VM answers */
	tcp_flags(0x12);
	ck_assert_int_eq(nat_outbound(&n, pkt, len, 1), NAT_PASS);
	ck_assert_uint_eq(g16(pkt + 20), 2222);
	ck_assert_mem_eq(pkt + 12, OUT, 4);
	assert_sums();
	ck_assert_uint_eq(nat_used(&n), 1);
}
END_TEST

START_TEST(refused_packets)
{
	u32 len = build(NAT_TCP, VM, 1, WEB, 2, 20);

	ck_assert_int_eq(nat_outbound(&n, pkt, 19, 0), NAT_DROP_MALFORMED);
	ck_assert_int_eq(nat_outbound(&n, pkt, len - 1, 0), NAT_DROP_MALFORMED);
	pkt[10] ^= 1;                                    /* header checksum */
	ck_assert_int_eq(nat_outbound(&n, pkt, len, 0), NAT_DROP_MALFORMED);
	len = build(NAT_TCP, VM, 1, WEB, 2, 20);
	pkt[0] = 0x65;                                   /* version 6 */
	ck_assert_int_eq(nat_outbound(&n, pkt, len, 0), NAT_DROP_MALFORMED);
	len = build(NAT_TCP, VM, 1, WEB, 2, 12);         /* TCP cut short */
	ck_assert_int_eq(nat_outbound(&n, pkt, len, 0), NAT_DROP_PROTOCOL);
	len = build(47, VM, 1, WEB, 2, 20);              /* GRE */
	ck_assert_int_eq(nat_outbound(&n, pkt, len, 0), NAT_DROP_PROTOCOL);
	len = build(NAT_UDP, VM, 1, WEB, 2, 20);
	p16(pkt + 6, 0x0010);                            /* offset 128 */
	p16(pkt + 10, 0);
	p16(pkt + 10, inet_fold(inet_sum(pkt, 20, 0)));
	ck_assert_int_eq(nat_outbound(&n, pkt, len, 0), NAT_DROP_FRAGMENT);
	ck_assert_uint_eq(nat_used(&n), 0);
	ck_assert_str_eq(nat_drop_name(NAT_DROP_FRAGMENT), "fragment");
	ck_assert_str_eq(nat_drop_name(NAT_PASS), "?");
}
END_TEST

/* A full table of open connections refuses new ones; a half-open one
   gives way to a newcomer; an RST ends one in seconds. */
START_TEST(table_full_and_reset)
{
	u32 len;

	for (u16 i = 0; i < NAT_MAX_CONNS; i++) {
		len = build(NAT_TCP, VM, (u16)(1000 + i), WEB, 80, 20);
		ck_assert_int_eq(nat_outbound(&n, pkt, len, i), NAT_PASS);
		len = build(NAT_TCP, WEB, 80, OUT, (u16)(NAT_PORT_FIRST + i), 20);
		tcp_flags(0x10);
		ck_assert_int_eq(nat_inbound(&n, pkt, len, i), NAT_PASS);
	}
	len = build(NAT_TCP, VM, 999, WEB, 80, 20);
	ck_assert_int_eq(nat_outbound(&n, pkt, len, 300), NAT_DROP_TABLE_FULL);
	len = build(NAT_TCP, WEB, 80, OUT, NAT_PORT_FIRST + 5, 20);
	tcp_flags(0x04);                                 /* RST */
	ck_assert_int_eq(nat_inbound(&n, pkt, len, 300), NAT_PASS);
	len = build(NAT_TCP, VM, 999, WEB, 80, 20);      /* takes its place */
	ck_assert_int_eq(nat_outbound(&n, pkt, len, 301), NAT_PASS);
	ck_assert_uint_eq(nat_used(&n), NAT_MAX_CONNS);
	ck_assert_uint_eq(n.stats.drops[NAT_DROP_TABLE_FULL], 1);
}
END_TEST

/* DNS relay: a VM asks uhv's inside address (GW) on port 53; the query
   leaves for the resolver (WEB), its answer comes back from GW. Queries
   to the resolver itself and to other ports are not relayed. */
START_TEST(dns_relay)
{
	static const u8 GW[4] = { 10, 0, 2, 1 };
	u32 len;

	ck_assert_int_eq(nat_set_relay(&n, NAT_UDP, 53, GW, FAR), 0);
	ck_assert_int_eq(nat_set_relay(&n, NAT_UDP, 53, GW, WEB), 0); /* replaced */
	ck_assert_int_eq(nat_set_relay(&n, NAT_TCP, 53, GW, WEB), 0);
	ck_assert_int_eq(nat_set_relay(&n, NAT_ICMP, 53, GW, WEB), -1);
	ck_assert_int_eq(nat_set_relay(&n, NAT_UDP, 54, GW, WEB), -1);  /* full */
	len = build(NAT_UDP, VM, 5353, GW, 53, 40);
	ck_assert_int_eq(nat_outbound(&n, pkt, len, 0), NAT_PASS);
	ck_assert_mem_eq(pkt + 12, OUT, 4);
	ck_assert_mem_eq(pkt + 16, WEB, 4);          /* to the resolver */
	assert_sums();
	len = build(NAT_UDP, WEB, 53, OUT, NAT_PORT_FIRST, 60);
	ck_assert_int_eq(nat_inbound(&n, pkt, len, 1), NAT_PASS);
	ck_assert_mem_eq(pkt + 12, GW, 4);           /* from uhv, as asked */
	ck_assert_mem_eq(pkt + 16, VM, 4);
	ck_assert_uint_eq(g16(pkt + 22), 5353);
	assert_sums();
	len = build(NAT_UDP, VM, 5353, GW, 53, 40);  /* the same connection */
	ck_assert_int_eq(nat_outbound(&n, pkt, len, 2), NAT_PASS);
	ck_assert_uint_eq(nat_used(&n), 1);
	len = build(NAT_UDP, VM, 5354, WEB, 53, 40); /* straight to it */
	ck_assert_int_eq(nat_outbound(&n, pkt, len, 2), NAT_PASS);
	len = build(NAT_UDP, WEB, 53, OUT, g16(pkt + 20), 60);
	ck_assert_int_eq(nat_inbound(&n, pkt, len, 3), NAT_PASS);
	ck_assert_mem_eq(pkt + 12, WEB, 4);          /* not rewritten */
	len = build(NAT_UDP, VM, 5355, GW, 80, 40);  /* no relay there */
	ck_assert_int_eq(nat_outbound(&n, pkt, len, 2), NAT_PASS);
	ck_assert_mem_eq(pkt + 16, GW, 4);
	/* a new outside address forgets the old connections */
	nat_set_outside(&n, FAR);
	ck_assert_uint_eq(nat_used(&n), 0);
}
END_TEST

Suite *nat_suite(void)
{
	Suite *s = suite_create("nat");
	TCase *tc = tcase_create("nat");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, tcp_round_trip);
	tcase_add_test(tc, mapping_and_filtering);
	tcase_add_test(tc, udp_checksums_and_timeouts);
	tcase_add_test(tc, icmp_echo);
	tcase_add_test(tc, icmp_error_quote);
	tcase_add_test(tc, port_forward);
	tcase_add_test(tc, refused_packets);
	tcase_add_test(tc, table_full_and_reset);
	tcase_add_test(tc, dns_relay);
	suite_add_tcase(s, tc);
	return s;
}
