/*
 * vmm/net/dhcp_server.c: the DHCP server's answers (RFC 2131 §4.3) to
 * messages built here as a client sends them, read back field by field.
 */
#include <string.h>
#include "unit.h"
#include "vmm/net/dhcp_server.h"

#define HZ 10
static const u8 UHV[4] = { 10, 0, 2, 2 };
static const u8 MASK[4] = { 255, 255, 255, 0 };
static const u8 FIRST[4] = { 10, 0, 2, 100 };
static const u8 MAC1[6] = { 2, 0, 0, 0, 0, 1 };
static const u8 MAC2[6] = { 2, 0, 0, 0, 0, 2 };
static struct dhcp_server s;
static u8 msg[400], out[DHCP_REPLY_MAX];

/* A client's message of type type from mac, with option 50 (requested)
   and 54 (server id) when given; its length. */
static u32 client(u8 type, const u8 *mac, const u8 *requested,
		  const u8 *server_id, const u8 *ciaddr)
{
	u8 *p = msg + 240;

	memset(msg, 0, sizeof(msg));
	msg[0] = 1;
	msg[1] = 1;
	msg[2] = 6;
	memcpy(msg + 4, "\xde\xad\xbe\xef", 4);
	memcpy(msg + 28, mac, 6);
	memcpy(msg + 236, "\x63\x82\x53\x63", 4);
	if (ciaddr)
		memcpy(msg + 12, ciaddr, 4);
	*p++ = 53; *p++ = 1; *p++ = type;
	*p++ = 0;                                    /* a pad on the way */
	if (requested) {
		*p++ = 50; *p++ = 4; memcpy(p, requested, 4); p += 4;
	}
	if (server_id) {
		*p++ = 54; *p++ = 4; memcpy(p, server_id, 4); p += 4;
	}
	*p++ = 255;
	return (u32)(p - msg);
}

/* The value of option code in the reply in out, or NULL. */
static const u8 *option(u8 code, u8 *len)
{
	for (u32 at = 240; at + 2 <= DHCP_REPLY_MAX && out[at] != 255;) {
		if (out[at] == 0) {
			at++;
			continue;
		}
		if (out[at] == code) {
			*len = out[at + 1];
			return out + at + 2;
		}
		at += 2u + out[at + 1];
	}
	return NULL;
}

static u8 reply_type(void)
{
	u8 len;
	const u8 *t = option(53, &len);

	return t && len == 1 ? t[0] : 0;
}

static void setup(void)
{
	ck_assert_int_eq(dhcp_server_init(&s, UHV, MASK, FIRST, 4, 3600, HZ), 0);
}

START_TEST(discover_request_ack)
{
	const u8 want[4] = { 10, 0, 2, 100 };
	u8 len, ip[4];
	const u8 *o;

	ck_assert_uint_eq(dhcp_server_handle(&s, msg, client(1, MAC1, NULL, NULL, NULL), out, 0),
			  DHCP_REPLY_MAX);
	ck_assert_uint_eq(reply_type(), 2);                  /* OFFER */
	ck_assert_uint_eq(out[0], 2);                        /* BOOTREPLY */
	ck_assert_mem_eq(out + 4, "\xde\xad\xbe\xef", 4);    /* same xid */
	ck_assert_mem_eq(out + 16, want, 4);                 /* yiaddr */
	ck_assert_mem_eq(out + 28, MAC1, 6);
	ck_assert_ptr_nonnull(o = option(54, &len));
	ck_assert_mem_eq(o, UHV, 4);
	ck_assert_ptr_nonnull(o = option(1, &len));
	ck_assert_mem_eq(o, MASK, 4);
	ck_assert_ptr_nonnull(o = option(51, &len));
	ck_assert_mem_eq(o, "\x00\x00\x0e\x10", 4);          /* 3600 s */
	ck_assert_ptr_null(option(3, &len));                 /* host-only */
	ck_assert(!dhcp_server_lease_of(&s, MAC1, ip, 1));   /* offered only */
	dhcp_server_handle(&s, msg, client(3, MAC1, want, UHV, NULL), out, 1);
	ck_assert_uint_eq(reply_type(), 5);                  /* ACK */
	ck_assert_mem_eq(out + 16, want, 4);
	ck_assert(dhcp_server_lease_of(&s, MAC1, ip, 2));
	ck_assert_mem_eq(ip, want, 4);
	ck_assert(!dhcp_server_lease_of(&s, MAC1, ip, 1 + 3600 * HZ));
	ck_assert_uint_eq(s.stats.acks, 1);
}
END_TEST

START_TEST(two_clients_and_a_full_pool)
{
	const u8 second[4] = { 10, 0, 2, 101 };
	const u8 macs[4][6] = { { 2, 0, 0, 0, 1, 1 }, { 2, 0, 0, 0, 1, 2 },
				{ 2, 0, 0, 0, 1, 3 }, { 2, 0, 0, 0, 1, 4 } };

	dhcp_server_handle(&s, msg, client(1, MAC1, NULL, NULL, NULL), out, 0);
	dhcp_server_handle(&s, msg, client(1, MAC2, NULL, NULL, NULL), out, 0);
	ck_assert_mem_eq(out + 16, second, 4);       /* not the one offered */
	dhcp_server_handle(&s, msg, client(1, MAC1, NULL, NULL, NULL), out, 0);
	ck_assert_mem_eq(out + 16, FIRST, 4);        /* its offer again */
	for (int i = 0; i < 2; i++)
		dhcp_server_handle(&s, msg, client(1, macs[i], NULL, NULL, NULL), out, 0);
	ck_assert_uint_eq(dhcp_server_handle(&s, msg,
		client(1, macs[2], NULL, NULL, NULL), out, 0), 0);
	ck_assert_uint_eq(s.stats.pool_full, 1);
	/* offers lapse: the pool is free again after the hold */
	ck_assert_uint_eq(dhcp_server_handle(&s, msg,
		client(1, macs[3], NULL, NULL, NULL), out,
		(DHCP_OFFER_HOLD_S + 1) * HZ), DHCP_REPLY_MAX);
}
END_TEST

START_TEST(naks_and_other_servers)
{
	const u8 other[4] = { 10, 0, 2, 3 }, taken[4] = { 10, 0, 2, 100 };
	const u8 far[4] = { 192, 168, 1, 5 }, inside[4] = { 10, 0, 2, 50 };

	dhcp_server_handle(&s, msg, client(1, MAC1, NULL, NULL, NULL), out, 0);
	dhcp_server_handle(&s, msg, client(3, MAC1, taken, UHV, NULL), out, 0);
	/* MAC2 asks for MAC1's address: NAK */
	dhcp_server_handle(&s, msg, client(3, MAC2, taken, NULL, NULL), out, 0);
	ck_assert_uint_eq(reply_type(), 6);
	ck_assert_ptr_null(option(1, &(u8){ 0 }));   /* a NAK has no mask */
	/* in our subnet but not our pool: NAK; another subnet: silence */
	dhcp_server_handle(&s, msg, client(3, MAC2, inside, NULL, NULL), out, 0);
	ck_assert_uint_eq(reply_type(), 6);
	ck_assert_uint_eq(dhcp_server_handle(&s, msg, client(3, MAC2, far, NULL, NULL),
					     out, 0), 0);
	/* MAC2 took another server's offer: its own offer goes */
	dhcp_server_handle(&s, msg, client(1, MAC2, NULL, NULL, NULL), out, 0);
	ck_assert_uint_eq(dhcp_server_handle(&s, msg,
		client(3, MAC2, other, other, NULL), out, 0), 0);
	ck_assert_uint_eq(s.lease[1].state, DHCP_FREE);
	ck_assert_uint_eq(s.stats.naks, 2);
}
END_TEST

START_TEST(release_decline_inform)
{
	const u8 a[4] = { 10, 0, 2, 100 }, b[4] = { 10, 0, 2, 101 };
	u8 ip[4];

	dhcp_server_handle(&s, msg, client(1, MAC1, NULL, NULL, NULL), out, 0);
	dhcp_server_handle(&s, msg, client(3, MAC1, a, UHV, NULL), out, 0);
	ck_assert_uint_eq(dhcp_server_handle(&s, msg, client(7, MAC1, NULL, UHV, a),
					     out, 1), 0);             /* RELEASE */
	ck_assert(!dhcp_server_lease_of(&s, MAC1, ip, 2));
	/* DECLINE: a is in use by someone: the next client gets b */
	dhcp_server_handle(&s, msg, client(1, MAC1, NULL, NULL, NULL), out, 2);
	ck_assert_mem_eq(out + 16, a, 4);
	dhcp_server_handle(&s, msg, client(4, MAC1, a, UHV, NULL), out, 3);
	dhcp_server_handle(&s, msg, client(1, MAC2, NULL, NULL, NULL), out, 4);
	ck_assert_mem_eq(out + 16, b, 4);
	/* INFORM: options for a client that has its address */
	dhcp_server_handle(&s, msg, client(8, MAC2, NULL, NULL, b), out, 5);
	ck_assert_uint_eq(reply_type(), 5);
	ck_assert_mem_eq(out + 12, b, 4);                     /* ciaddr */
	ck_assert_mem_eq(out + 16, "\0\0\0\0", 4);            /* no yiaddr */
	ck_assert_ptr_null(option(51, &(u8){ 0 }));           /* no lease */
}
END_TEST

START_TEST(gateway_and_bad_messages)
{
	u8 len;
	const u8 *o;
	u32 n;

	s.gateway = true;
	dhcp_server_handle(&s, msg, client(1, MAC1, NULL, NULL, NULL), out, 0);
	ck_assert_ptr_nonnull(o = option(3, &len));
	ck_assert_mem_eq(o, UHV, 4);
	ck_assert_ptr_nonnull(o = option(6, &len));
	ck_assert_mem_eq(o, UHV, 4);
	n = client(1, MAC1, NULL, NULL, NULL);
	ck_assert_uint_eq(dhcp_server_handle(&s, msg, 239, out, 0), 0);  /* short */
	msg[0] = 2;                                   /* a reply, not a request */
	ck_assert_uint_eq(dhcp_server_handle(&s, msg, n, out, 0), 0);
	n = client(1, MAC1, NULL, NULL, NULL);
	msg[239] = 0;                                 /* the cookie */
	ck_assert_uint_eq(dhcp_server_handle(&s, msg, n, out, 0), 0);
	n = client(1, MAC1, NULL, NULL, NULL);
	msg[241] = 200;                               /* option runs past */
	ck_assert_uint_eq(dhcp_server_handle(&s, msg, n, out, 0), 0);
	ck_assert_uint_eq(dhcp_server_handle(&s, msg, client(2, MAC1, NULL, NULL, NULL),
					     out, 0), 0);    /* an OFFER */
	ck_assert_uint_eq(s.stats.malformed, 4);
	ck_assert_uint_eq(s.stats.ignored, 1);
	/* pools that cannot be */
	ck_assert_int_eq(dhcp_server_init(&s, UHV, MASK, FIRST, 0, 60, HZ), -1);
	ck_assert_int_eq(dhcp_server_init(&s, UHV, MASK, (const u8[]){ 10, 0, 2, 250 },
					  10, 60, HZ), -1);   /* leaves the /24 */
	ck_assert_int_eq(dhcp_server_init(&s, UHV, MASK, (const u8[]){ 10, 0, 2, 1 },
					  4, 60, HZ), -1);    /* holds uhv's */
}
END_TEST

Suite *dhcp_suite(void)
{
	Suite *su = suite_create("dhcp");
	TCase *tc = tcase_create("dhcp");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, discover_request_ack);
	tcase_add_test(tc, two_clients_and_a_full_pool);
	tcase_add_test(tc, naks_and_other_servers);
	tcase_add_test(tc, release_decline_inform);
	tcase_add_test(tc, gateway_and_bad_messages);
	suite_add_tcase(su, tc);
	return su;
}
