/*
 * uhv's own address (vmm/net/netif.c) on a real bridge: a fake guest port
 * sends an ARP request and an ICMP echo request and must get correct
 * answers (RFC 826, RFC 792 with RFC 1071 checksums) after netif_flush;
 * with a DHCP server, a DISCOVER broadcast gets an OFFER broadcast in a
 * well-formed UDP datagram from port 67 to 68.
 */
#include <string.h>
#include "unit.h"
#include "vmm/net/netif.h"
#include "vmm/net/dhcp_server.h"

static struct bridge br;
static struct netif nif;
static u8 got[2048];
static u32 got_len;
static int got_n;
static const u8 guest_mac[6] = { 0x02, 0, 0, 0, 0, 1 };
static const u8 uhv_mac[6] = { 0x02, 0x75, 0x68, 0x76, 0xff, 0 };
static const u8 guest_ip[4] = { 10, 0, 0, 1 }, uhv_ip[4] = { 10, 0, 0, 254 };
static int gport;

static bool guest_deliver(void *ctx, const u8 *f, u32 len)
{
	(void)ctx;
	memcpy(got, f, len);
	got_len = len;
	got_n++;
	return true;
}

static void setup(void)
{
	static const struct bridge_ops bops = { NULL };
	static const struct bridge_port_ops gops = { .deliver = guest_deliver };
	struct bridge_port_config g = { "guest", guest_mac, &gops, NULL, 0, 0 };
	int net;

	ck_assert_int_eq(bridge_init(&br, &bops, NULL, 1000), 0);
	net = bridge_net_add(&br, "lan");
	gport = bridge_attach(&br, net, &g);
	ck_assert_int_ge(gport, 0);
	ck_assert_int_eq(netif_attach(&nif, &br, net, uhv_mac, uhv_ip), 0);
	got_n = 0;
}

static u16 sum16(const u8 *p, u32 len)     /* 0 over a packet with its checksum */
{
	u32 s = 0;

	for (u32 i = 0; i + 1 < len; i += 2)
		s += (u32)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (u32)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (u16)~s;
}

START_TEST(arp_request_answered)
{
	u8 f[42] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	setup();
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08; f[13] = 0x06;
	memcpy(f + 14, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
	memcpy(f + 22, guest_mac, 6);
	memcpy(f + 28, guest_ip, 4);
	memcpy(f + 38, uhv_ip, 4);
	ck_assert_int_ge(bridge_send(&br, gport, f, sizeof(f), 1), 0);
	ck_assert_int_eq(got_n, 0);            /* nothing before the flush */
	netif_flush(&nif, 2);
	ck_assert_int_eq(got_n, 1);
	ck_assert_int_eq(got_len, 42);
	ck_assert_mem_eq(got, guest_mac, 6);
	ck_assert_mem_eq(got + 6, uhv_mac, 6);
	ck_assert_int_eq(got[21], 2);          /* op: reply */
	ck_assert_mem_eq(got + 22, uhv_mac, 6);
	ck_assert_mem_eq(got + 28, uhv_ip, 4);
	ck_assert_mem_eq(got + 38, guest_ip, 4);
	f[41] = 253;                           /* someone else's address */
	bridge_send(&br, gport, f, sizeof(f), 3);
	netif_flush(&nif, 4);
	ck_assert_int_eq(got_n, 1);
	ck_assert_uint_eq(nif.arp_replies, 1);
}
END_TEST

START_TEST(ping_answered)
{
	u8 f[14 + 20 + 8 + 11] = { 0 };
	u8 *ip = f + 14, *icmp = ip + 20;

	setup();
	memcpy(f, uhv_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08; f[13] = 0x00;
	ip[0] = 0x45; ip[3] = 20 + 8 + 11; ip[8] = 64; ip[9] = 1;
	memcpy(ip + 12, guest_ip, 4);
	memcpy(ip + 16, uhv_ip, 4);
	icmp[0] = 8; icmp[5] = 7; icmp[7] = 1;           /* id 7, seq 1 */
	memcpy(icmp + 8, "hello, uhv!", 11);
	icmp[3] = 0; icmp[2] = 0;
	{ u16 c = sum16(icmp, 19); icmp[2] = (u8)(c >> 8); icmp[3] = (u8)c; }
	{ u16 c = sum16(ip, 20); ip[10] = (u8)(c >> 8); ip[11] = (u8)c; }
	bridge_send(&br, gport, f, sizeof(f), 1);
	netif_flush(&nif, 2);
	ck_assert_int_eq(got_n, 1);
	ck_assert_int_eq(got_len, sizeof(f));
	ck_assert_mem_eq(got + 26, uhv_ip, 4);           /* source: uhv */
	ck_assert_mem_eq(got + 30, guest_ip, 4);
	ck_assert_int_eq(got[34], 0);                    /* echo reply */
	ck_assert_mem_eq(got + 42, "hello, uhv!", 11);   /* data echoed */
	ck_assert_uint_eq(sum16(got + 14, 20), 0);       /* IP checksum */
	ck_assert_uint_eq(sum16(got + 34, 19), 0);       /* ICMP checksum */
	ck_assert_uint_eq(nif.echo_replies, 1);
}
END_TEST

static u64 fake_now(void)
{
	return 5;
}

START_TEST(dhcp_discover_offered)
{
	static struct dhcp_server d;
	const u8 first[4] = { 10, 0, 0, 100 }, mask[4] = { 255, 255, 255, 0 };
	u8 f[14 + 20 + 8 + 244] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	u8 *ip = f + 14, *udp = ip + 20, *m = udp + 8, pseudo[12];
	u32 ulen;

	setup();
	ck_assert_int_eq(dhcp_server_init(&d, uhv_ip, mask, first, 8, 600, 1), 0);
	netif_serve_dhcp(&nif, &d, fake_now);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (u8)((sizeof(f) - 14) >> 8); ip[3] = (u8)(sizeof(f) - 14);
	ip[8] = 64; ip[9] = 17;
	memset(ip + 16, 0xff, 4);                   /* 0.0.0.0 -> broadcast */
	ip[10] = (u8)(sum16(ip, 20) >> 8); ip[11] = (u8)sum16(ip, 20);
	udp[1] = 68; udp[3] = 67;
	udp[5] = (u8)(sizeof(f) - 34);
	m[0] = 1; m[1] = 1; m[2] = 6;
	memcpy(m + 28, guest_mac, 6);
	memcpy(m + 236, "\x63\x82\x53\x63\x35\x01\x01\xff", 8);   /* DISCOVER */
	ck_assert_int_ge(bridge_send(&br, gport, f, sizeof(f), 1), 0);
	netif_flush(&nif, 2);
	ck_assert_int_eq(got_n, 1);
	ck_assert_mem_eq(got, "\xff\xff\xff\xff\xff\xff", 6);
	ck_assert_mem_eq(got + 6, uhv_mac, 6);
	ck_assert_uint_eq(sum16(got + 14, 20), 0);        /* IP header */
	ck_assert_mem_eq(got + 14 + 12, uhv_ip, 4);
	ck_assert_mem_eq(got + 14 + 16, "\xff\xff\xff\xff", 4);
	ck_assert_uint_eq(got[34] << 8 | got[35], 67);
	ck_assert_uint_eq(got[36] << 8 | got[37], 68);
	ulen = (u32)(got[38] << 8 | got[39]);
	ck_assert_uint_eq(ulen, 8 + DHCP_REPLY_MAX);
	ck_assert_uint_eq(got_len, 14 + 20 + ulen);
	memcpy(pseudo, got + 26, 8);                      /* UDP checksum */
	pseudo[8] = 0; pseudo[9] = 17;
	pseudo[10] = (u8)(ulen >> 8); pseudo[11] = (u8)ulen;
	{
		u8 all[12 + 8 + DHCP_REPLY_MAX];

		memcpy(all, pseudo, 12);
		memcpy(all + 12, got + 34, ulen);
		ck_assert_uint_eq(sum16(all, 12 + ulen), 0);
	}
	ck_assert_mem_eq(got + 42 + 16, first, 4);       /* yiaddr */
	ck_assert_uint_eq(got[42 + 242], 2);             /* OFFER */
	ck_assert_uint_eq(nif.dhcp_replies, 1);
	udp[3] = 69;                                      /* another port */
	bridge_send(&br, gport, f, sizeof(f), 3);
	netif_flush(&nif, 4);
	ck_assert_int_eq(got_n, 1);
}
END_TEST

Suite *netif_suite(void)
{
	Suite *s = suite_create("netif");
	TCase *t = tcase_create("core");

	tcase_add_test(t, arp_request_answered);
	tcase_add_test(t, ping_answered);
	tcase_add_test(t, dhcp_discover_offered);
	suite_add_tcase(s, t);
	return s;
}
