/*
 * vmm/net/bridge.c: learning, flooding, isolation, no echo, ageing, overflow,
 * station moves, spoofing, frame sizes, receive-buffer drops, the flood
 * limit, capture, the dump, and every counter after a scripted exchange.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "unit.h"
#include "vmm/net/bridge.h"
#include "tests/unit/bridge_dump.h"

#define NR_NICS 6
#define HZ      1                   /* now counts seconds */
#define TYPE_IPV4 0x0800
#define TYPE_VLAN 0x8100            /* an 802.1Q tag follows the source */

/* A NIC's receive side: what it was given, and whether it has room. */
struct nic {
	int frames;
	u32 len;
	u8 last[BRIDGE_FRAME_MAX];
	bool full;
};

static struct bridge br;
static struct nic nic[NR_NICS];
static struct capture { int frames, net; u32 len; u64 now; } cap;

static bool nic_deliver(void *ctx, const u8 *frame, u32 len)
{
	struct nic *n = ctx;

	ck_assert_uint_ge(len, ETH_HLEN);
	ck_assert_uint_le(len, BRIDGE_FRAME_MAX);
	if (n->full)
		return false;
	memcpy(n->last, frame, len);
	n->len = len;
	n->frames++;
	return true;
}

static void capture(void *ctx, int network, const u8 *frame, u32 len, u64 now)
{
	struct capture *c = ctx;

	(void)frame;
	*c = (struct capture){ c->frames + 1, network, len, now };
}

static const struct bridge_port_ops nic_ops = { .deliver = nic_deliver };
static const struct bridge_ops br_ops = { capture };

/* 52:54:00:00:00:<i+1>, the address of test station i. */
static const u8 *mac(int i)
{
	static u8 m[64][ETH_ALEN];

	m[i][0] = 0x52, m[i][1] = 0x54, m[i][5] = (u8)(i + 1);
	return m[i];
}

/* 02:00:00:00:HI:LO, a locally administered address for station i. */
static const u8 *many(int i)
{
	static u8 m[ETH_ALEN] = { 0x02 };

	m[4] = (u8)(i >> 8), m[5] = (u8)i;
	return m;
}

static const u8 bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const u8 mcast[ETH_ALEN] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };

static u8 frame[BRIDGE_FRAME_MAX + 16];

/* A frame of len bytes from src to dst, carrying IPv4 (or an 802.1Q tag). */
static u32 mk(const u8 *dst, const u8 *src, u32 len, bool tagged)
{
	u16 type = tagged ? TYPE_VLAN : TYPE_IPV4;

	memset(frame, 0xa5, sizeof(frame));
	memcpy(frame, dst, ETH_ALEN);
	memcpy(frame + ETH_ALEN, src, ETH_ALEN);
	frame[12] = (u8)(type >> 8);
	frame[13] = (u8)type;
	return len;
}

static int tx(int port, const u8 *dst, const u8 *src, u32 len, u64 now)
{
	return bridge_send(&br, port, frame, mk(dst, src, len, false), now);
}

static int attach(int net, int i, const u8 *own_mac)
{
	struct bridge_port_config cfg = {
		.name = "nic", .mac = own_mac, .ops = &nic_ops, .ctx = &nic[i],
	};

	return bridge_attach(&br, net, &cfg);
}

static int net0, p[NR_NICS];

/* One network "lan" with ports 0-2 for NICs 0-2, no own MACs. */
static void setup(void)
{
	memset(nic, 0, sizeof(nic));
	memset(&cap, 0, sizeof(cap));
	memset(&br, 0x5a, sizeof(br));          /* init must clear everything */
	ck_assert_int_eq(bridge_init(&br, &br_ops, &cap, HZ), 0);
	net0 = bridge_net_add(&br, "lan");
	ck_assert_int_eq(net0, 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(p[i] = attach(net0, i, NULL), i);
}

#define ps(port) bridge_port_stats(&br, port)
#define ns(net)   bridge_net_stats(&br, net)

START_TEST(init_and_names)
{
	char name[BRIDGE_NAME_MAX + 1];

	ck_assert_int_eq(bridge_init(&br, NULL, NULL, 0), -1);
	ck_assert_int_eq(bridge_init(&br, NULL, NULL, BRIDGE_MAX_HZ + 1), -1);
	ck_assert_int_eq(bridge_init(&br, NULL, NULL, BRIDGE_MAX_HZ), 0);
	ck_assert_int_eq(bridge_net_add(&br, ""), -1);
	ck_assert_int_eq(bridge_net_add(&br, "a b"), -1);
	ck_assert_int_eq(bridge_net_add(&br, "123456789012345"), 0);
	ck_assert_int_eq(bridge_net_add(&br, "1234567890123456"), -1);
	ck_assert_int_eq(bridge_net_add(&br, "123456789012345"), -1);
	for (int i = 1; i < BRIDGE_MAX_NETS; i++) {
		snprintf(name, sizeof(name), "n-%d_", i);
		ck_assert_int_eq(bridge_net_add(&br, name), i);
	}
	ck_assert_int_eq(bridge_net_add(&br, "more"), -1);
	ck_assert_int_eq(bridge_net_find(&br, "n-3_"), 3);
	ck_assert_int_eq(bridge_net_find(&br, "n-9_"), -1);
	ck_assert_int_eq(bridge_net_find(&br, NULL), -1);
	ck_assert_int_eq(bridge_net_add(&br, NULL), -1);
	ck_assert_int_eq(bridge_set_ageing(&br, BRIDGE_AGEING_MIN_S - 1), -1);
	ck_assert_int_eq(bridge_set_ageing(&br, BRIDGE_AGEING_MAX_S + 1), -1);
	ck_assert_int_eq(bridge_set_ageing(&br, BRIDGE_AGEING_MAX_S), 0);
}
END_TEST

START_TEST(attach_checks)
{
	static const struct bridge_port_ops no_deliver = { .deliver = NULL };
	struct bridge_port_config cfg = { .ops = &nic_ops, .ctx = &nic[0] };
	int net1 = bridge_net_add(&br, "full");

	ck_assert_int_eq(bridge_attach(&br, 5, &cfg), -1);     /* no such net */
	ck_assert_int_eq(bridge_attach(&br, -1, &cfg), -1);
	ck_assert_int_eq(bridge_attach(&br, net0, NULL), -1);
	cfg.ops = &no_deliver;
	ck_assert_int_eq(bridge_attach(&br, net0, &cfg), -1);
	cfg.ops = &nic_ops;
	cfg.flood_rate = 10;                  /* a rate needs a burst */
	ck_assert_int_eq(bridge_attach(&br, net0, &cfg), -1);
	cfg.flood_burst = BRIDGE_MAX_BURST + 1;
	ck_assert_int_eq(bridge_attach(&br, net0, &cfg), -1);
	cfg.flood_rate = 0;
	cfg.mac = bcast;                      /* no NIC owns a group address */
	ck_assert_int_eq(bridge_attach(&br, net0, &cfg), -1);
	cfg.mac = mac(9);
	ck_assert_int_eq(bridge_attach(&br, net0, &cfg), BRIDGE_PORT_ID(0, 3));
	ck_assert_int_eq(bridge_attach(&br, net0, &cfg), -1);  /* MAC taken */
	ck_assert_int_eq(bridge_attach(&br, net1, &cfg), BRIDGE_PORT_ID(1, 0));
	cfg.mac = NULL;
	for (int i = 4; i < BRIDGE_MAX_PORTS; i++)
		ck_assert_int_eq(bridge_attach(&br, net0, &cfg), i);
	ck_assert_int_eq(bridge_attach(&br, net0, &cfg), -1);  /* 16 ports */
	ck_assert_ptr_null(bridge_port_stats(&br, BRIDGE_PORT_ID(1, 1)));
	ck_assert_ptr_null(bridge_port_stats(&br, -1));
	ck_assert_ptr_null(bridge_net_stats(&br, 2));
	ck_assert_int_eq(bridge_lookup(&br, 2, mac(9), 0), -1);
	ck_assert_int_eq(bridge_lookup(&br, net0, NULL, 0), -1);
	cfg.name = "bad name";
	ck_assert_int_eq(bridge_attach(&br, net1, &cfg), -1);
	ck_assert_int_eq(bridge_send(&br, BRIDGE_PORT_ID(1, 1), frame, 60, 0),
			 -1);
	ck_assert_int_eq(bridge_send(&br, p[0], NULL, 60, 0), -1);
}
END_TEST

START_TEST(learns_and_forwards)
{
	/* 0 -> 1: destination unknown, so flooded to 1 and 2 */
	ck_assert_int_eq(tx(p[0], mac(1), mac(0), 60, 1), 2);
	ck_assert_int_eq(nic[1].frames, 1);
	ck_assert_int_eq(nic[2].frames, 1);
	ck_assert_int_eq(bridge_lookup(&br, net0, mac(0), 1), p[0]);
	ck_assert_int_eq(bridge_lookup(&br, net0, mac(1), 1), -1);
	/* 1 -> 0: 0 is known, only 0 gets it; 1 is learned */
	ck_assert_int_eq(tx(p[1], mac(0), mac(1), 100, 2), 1);
	ck_assert_int_eq(nic[0].frames, 1);
	ck_assert_int_eq(nic[2].frames, 1);
	ck_assert_uint_eq(nic[0].len, 100);
	ck_assert_mem_eq(nic[0].last, frame, 100);
	/* 0 -> 1 again: forwarded, 2 sees nothing more */
	ck_assert_int_eq(tx(p[0], mac(1), mac(0), 60, 3), 1);
	ck_assert_int_eq(nic[1].frames, 2);
	ck_assert_int_eq(nic[2].frames, 1);
	ck_assert_uint_eq(ns(net0)->learned, 2);
	ck_assert_uint_eq(ns(net0)->forwarded, 2);
	ck_assert_uint_eq(ns(net0)->flooded, 1);
}
END_TEST

START_TEST(floods_groups_but_never_echoes)
{
	static const u8 lldp[ETH_ALEN] = { 0x01, 0x80, 0xc2, 0, 0, 0x0e };
	static const u8 above[ETH_ALEN] = { 0x01, 0x80, 0xc2, 0, 0, 0x10 };

	ck_assert_int_eq(tx(p[0], bcast, mac(0), 60, 0), 2);
	ck_assert_int_eq(tx(p[1], mcast, mac(1), 60, 0), 2);
	ck_assert_int_eq(nic[0].frames, 1);
	ck_assert_int_eq(nic[1].frames, 1);
	ck_assert_int_eq(nic[2].frames, 2);
	/* to a station learned on the sending port: filtered, not echoed */
	ck_assert_int_eq(tx(p[0], mac(0), mac(0), 60, 0), 0);
	ck_assert_int_eq(nic[0].frames, 1);
	ck_assert_uint_eq(ns(net0)->filtered, 1);
	ck_assert_uint_eq(ps(p[0])->tx_frames, 2);
	ck_assert_uint_eq(ns(net0)->flooded, 2);
	/* 802.1D reserved addresses (LLDP here) are not relayed at all */
	ck_assert_int_eq(tx(p[0], lldp, mac(0), 60, 0), 0);
	ck_assert_uint_eq(ns(net0)->reserved, 1);
	ck_assert_int_eq(cap.frames, 4);        /* accepted: captured */
	ck_assert_int_eq(tx(p[0], above, mac(0), 60, 0), 2);
}
END_TEST

START_TEST(networks_are_isolated)
{
	int net1 = bridge_net_add(&br, "dmz");
	int q3 = attach(net1, 3, NULL), q4 = attach(net1, 4, NULL);

	ck_assert_int_eq(net1, 1);
	ck_assert_int_eq(tx(p[0], bcast, mac(0), 60, 0), 2);
	ck_assert_int_eq(nic[3].frames + nic[4].frames, 0);
	/* the same MAC on the other network is another station */
	ck_assert_int_eq(tx(q3, bcast, mac(0), 60, 0), 1);
	ck_assert_int_eq(bridge_lookup(&br, net0, mac(0), 0), p[0]);
	ck_assert_int_eq(bridge_lookup(&br, net1, mac(0), 0), q3);
	ck_assert_int_eq(tx(q4, mac(0), mac(4), 60, 0), 1);
	ck_assert_int_eq(nic[3].frames, 1);
	ck_assert_int_eq(nic[0].frames, 0);
	ck_assert_int_eq(cap.net, net1);
	ck_assert_uint_eq(ns(net0)->frames, 1);
	ck_assert_uint_eq(ns(net1)->frames, 2);
}
END_TEST

START_TEST(ageing)
{
	tx(p[0], bcast, mac(0), 60, 100);
	tx(p[1], bcast, mac(1), 60, 200);
	bridge_tick(&br, 400);                  /* 300 s old: not yet */
	ck_assert_int_eq(bridge_lookup(&br, net0, mac(0), 400), p[0]);
	ck_assert_int_eq(bridge_lookup(&br, net0, mac(0), 401), -1); /* stale */
	ck_assert_int_eq(tx(p[1], mac(0), mac(1), 60, 401), 2);    /* flood */
	bridge_tick(&br, 401);
	ck_assert_uint_eq(ns(net0)->aged, 1);
	ck_assert_int_eq(bridge_lookup(&br, net0, mac(1), 401), p[1]);
	ck_assert_int_eq(bridge_set_ageing(&br, 10), 0);
	bridge_tick(&br, 412);
	ck_assert_uint_eq(ns(net0)->aged, 2);
	ck_assert_uint_eq(br.nets[net0].fdb_used, 0);
	/* a clock that runs backwards ages nothing */
	tx(p[0], bcast, mac(0), 60, 1000);
	bridge_tick(&br, 5);
	ck_assert_int_eq(bridge_lookup(&br, net0, mac(0), 5), p[0]);
}
END_TEST

START_TEST(table_overflow_evicts_oldest)
{
	for (int i = 0; i < BRIDGE_FDB_SIZE + 10; i++) {
		tx(p[i % 3], bcast, many(i), 60, (u64)i);
		ck_assert_uint_le(br.nets[net0].fdb_used, BRIDGE_FDB_SIZE);
	}
	ck_assert_uint_eq(ns(net0)->learned, BRIDGE_FDB_SIZE + 10);
	ck_assert_uint_eq(ns(net0)->evicted, 10);
	ck_assert_uint_eq(br.nets[net0].fdb_used, BRIDGE_FDB_SIZE);
	for (int i = 0; i < BRIDGE_FDB_SIZE + 10; i++)
		ck_assert_int_eq(bridge_lookup(&br, net0, many(i), 300),
				 i < 10 ? -1 : p[i % 3]);
}
END_TEST

START_TEST(overflow_keeps_static_entries)
{
	int own = attach(net0, 3, mac(3));

	for (int i = 0; i < 2 * BRIDGE_FDB_SIZE; i++)
		tx(p[0], bcast, many(i), 60, (u64)i + 1);
	ck_assert_uint_eq(ns(net0)->evicted, BRIDGE_FDB_SIZE + 1);
	ck_assert_int_eq(bridge_lookup(&br, net0, mac(3), 1000), own);
}
END_TEST

START_TEST(station_moves)
{
	tx(p[0], bcast, mac(5), 60, 0);
	tx(p[2], bcast, mac(2), 60, 0);
	ck_assert_int_eq(bridge_lookup(&br, net0, mac(5), 0), p[0]);
	/* the station now speaks from port 1 */
	ck_assert_int_eq(tx(p[1], mac(2), mac(5), 60, 1), 1);
	ck_assert_int_eq(bridge_lookup(&br, net0, mac(5), 1), p[1]);
	ck_assert_uint_eq(ns(net0)->moved, 1);
	ck_assert_int_eq(tx(p[2], mac(5), mac(2), 60, 2), 1);
	ck_assert_int_eq(nic[1].frames, 3);     /* two broadcasts, this one */
	ck_assert_int_eq(nic[0].frames, 1);     /* port 2's broadcast only */
}
END_TEST

START_TEST(spoofing_dropped)
{
	int own = attach(net0, 3, mac(3));

	/* a static entry: unicast reaches it before it ever sends */
	ck_assert_int_eq(tx(p[0], mac(3), mac(0), 60, 0), 1);
	ck_assert_int_eq(nic[3].frames, 1);
	/* another port claiming its address is dropped, and nothing moves */
	ck_assert_int_eq(tx(p[1], bcast, mac(3), 60, 0), -1);
	ck_assert_uint_eq(ps(p[1])->drops[BRIDGE_DROP_SPOOFED], 1);
	ck_assert_uint_eq(ns(net0)->drops[BRIDGE_DROP_SPOOFED], 1);
	ck_assert_int_eq(bridge_lookup(&br, net0, mac(3), 1000), own);
	ck_assert_uint_eq(ns(net0)->moved, 0);
	/* the owner uses it freely, and may also send for other stations
	   (a guest bridging its own containers) */
	ck_assert_int_eq(tx(own, mac(0), mac(3), 60, 0), 1);
	ck_assert_int_eq(tx(own, mac(0), mac(7), 60, 0), 1);
	ck_assert_int_eq(bridge_lookup(&br, net0, mac(7), 0), own);
	/* a dynamic entry for an address becomes static when its NIC comes */
	tx(p[2], bcast, mac(8), 60, 0);
	ck_assert_int_eq(attach(net0, 4, mac(8)), BRIDGE_PORT_ID(net0, 4));
	ck_assert_int_eq(bridge_lookup(&br, net0, mac(8), 0),
			 BRIDGE_PORT_ID(net0, 4));
	ck_assert_int_eq(tx(p[2], bcast, mac(8), 60, 0), -1);
}
END_TEST

START_TEST(bad_sources_dropped)
{
	static const u8 zero[ETH_ALEN] = { 0 };

	ck_assert_int_eq(tx(p[0], bcast, bcast, 60, 0), -1);
	ck_assert_int_eq(tx(p[0], bcast, mcast, 60, 0), -1);
	ck_assert_int_eq(tx(p[0], bcast, zero, 60, 0), -1);
	ck_assert_uint_eq(ps(p[0])->drops[BRIDGE_DROP_BAD_SOURCE], 3);
	ck_assert_uint_eq(br.nets[net0].fdb_used, 0);
	ck_assert_int_eq(nic[1].frames + nic[2].frames, 0);
	ck_assert_int_eq(cap.frames, 0);
}
END_TEST

START_TEST(frame_sizes)
{
	static const struct { u32 len; bool tagged; int result; } cases[] = {
		{ 0, false, -1 }, { 13, false, -1 }, { ETH_HLEN, false, 2 },
		{ 42, false, 2 }, { 60, false, 2 }, { 1514, false, 2 },
		{ 1515, false, -1 }, { 1518, false, -1 }, { 1514, true, 2 },
		{ 1518, true, 2 }, { 1519, true, -1 }, { 9000, false, -1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		u32 len = mk(bcast, mac(0), cases[i].len, cases[i].tagged);

		ck_assert_msg(bridge_send(&br, p[0], frame, len, 0) ==
			      cases[i].result, "case %zu: %u bytes", i, len);
	}
	ck_assert_uint_eq(ps(p[0])->drops[BRIDGE_DROP_RUNT], 2);
	ck_assert_uint_eq(ps(p[0])->drops[BRIDGE_DROP_OVERSIZE], 4);
	ck_assert_uint_eq(ps(p[0])->tx_frames, 6);
	ck_assert_uint_eq(ps(p[0])->tx_bytes, 14 + 42 + 60 + 1514 * 2 + 1518);
	ck_assert_uint_eq(ps(p[1])->rx_bytes, ps(p[0])->tx_bytes);
}
END_TEST

START_TEST(rx_no_buffer_counted)
{
	tx(p[1], bcast, mac(1), 60, 0);
	nic[1].full = true;
	/* a flood reaches the port with room; the full one only costs itself */
	ck_assert_int_eq(tx(p[0], bcast, mac(0), 70, 0), 1);
	ck_assert_int_eq(nic[2].frames, 2);
	ck_assert_uint_eq(ps(p[1])->drops[BRIDGE_DROP_RX_NO_BUFFER], 1);
	/* unicast to it: accepted from the sender, dropped at the receiver */
	ck_assert_int_eq(tx(p[0], mac(1), mac(0), 80, 0), 0);
	ck_assert_uint_eq(ps(p[1])->drops[BRIDGE_DROP_RX_NO_BUFFER], 2);
	ck_assert_uint_eq(ns(net0)->drops[BRIDGE_DROP_RX_NO_BUFFER], 2);
	ck_assert_uint_eq(ps(p[0])->tx_frames, 2);
	ck_assert_uint_eq(ps(p[0])->tx_bytes, 150);
	ck_assert_uint_eq(ps(p[1])->rx_frames, 0);
	nic[1].full = false;
	ck_assert_int_eq(tx(p[0], mac(1), mac(0), 80, 0), 1);
	ck_assert_uint_eq(ps(p[1])->rx_frames, 1);
}
END_TEST

START_TEST(flood_limit)
{
	struct bridge_port_config cfg = {
		.ops = &nic_ops, .ctx = &nic[3],
		.flood_rate = 2, .flood_burst = 3,
	};
	int lim;

	ck_assert_int_eq(bridge_init(&br, NULL, NULL, 1000), 0);  /* ms */
	net0 = bridge_net_add(&br, "lan");
	p[0] = attach(net0, 0, NULL);
	lim = bridge_attach(&br, net0, &cfg);
	for (int i = 0; i < 3; i++)             /* the burst */
		ck_assert_int_eq(tx(lim, bcast, mac(3), 60, 1000), 1);
	ck_assert_int_eq(tx(lim, bcast, mac(3), 60, 1000), -1);
	ck_assert_int_eq(tx(lim, bcast, mac(3), 60, 1499), -1);  /* 0.998 */
	ck_assert_int_eq(tx(lim, bcast, mac(3), 60, 1500), 1);   /* 1 token */
	ck_assert_int_eq(tx(lim, bcast, mac(3), 60, 1500), -1);
	ck_assert_uint_eq(ps(lim)->drops[BRIDGE_DROP_FLOOD_LIMITED], 3);
	/* unicast to a known station is not a flood: never limited */
	tx(p[0], bcast, mac(0), 60, 1500);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(tx(lim, mac(0), mac(3), 60, 1500), 1);
	/* a long silence refills to the burst, no further */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(tx(lim, bcast, mac(3), 60, ~0ULL / 2), 1);
	ck_assert_int_eq(tx(lim, bcast, mac(3), 60, ~0ULL / 2), -1);
	ck_assert_int_eq(tx(p[0], bcast, mac(0), 60, ~0ULL / 2), 1);
}
END_TEST

START_TEST(capture_sees_accepted_frames)
{
	tx(p[0], bcast, mac(0), 60, 7);
	ck_assert_int_eq(cap.frames, 1);
	ck_assert_int_eq(cap.net, net0);
	ck_assert_uint_eq(cap.len, 60);
	ck_assert_uint_eq(cap.now, 7);
	tx(p[0], bcast, mac(0), 10, 8);       /* runt: not on the network */
	tx(p[0], mac(0), mac(0), 64, 9);      /* filtered: but accepted */
	ck_assert_int_eq(cap.frames, 2);
	ck_assert_uint_eq(cap.len, 64);
	ck_assert_uint_eq(cap.now, 9);
}
END_TEST

START_TEST(detach_forgets_port)
{
	int own = attach(net0, 3, mac(3));

	tx(own, bcast, mac(6), 60, 0);
	bridge_detach(&br, own);
	bridge_detach(&br, own);                /* twice is harmless */
	bridge_detach(&br, -5);
	ck_assert_int_eq(bridge_lookup(&br, net0, mac(3), 0), -1);
	ck_assert_int_eq(bridge_lookup(&br, net0, mac(6), 0), -1);
	ck_assert_int_eq(tx(p[0], mac(3), mac(0), 60, 0), 2);   /* floods */
	ck_assert_int_eq(tx(own, bcast, mac(3), 60, 0), -1);
	ck_assert_int_eq(attach(net0, 4, NULL), own);     /* slot reused */
	ck_assert_uint_eq(ps(own)->tx_frames, 0);
}
END_TEST

/* The counters after a scripted exchange, every one of them. */
START_TEST(counters_exact)
{
	const struct bridge_net_stats *s = ns(net0);

	tx(p[0], bcast, mac(0), 100, 0);      /* flood: 1, 2 */
	tx(p[1], mac(0), mac(1), 200, 0);     /* forward: 0 */
	nic[0].full = true;
	tx(p[1], mac(0), mac(1), 300, 0);     /* forward: 0 has no buffer */
	tx(p[2], mac(2), mac(2), 40, 0);      /* unknown: flood 0 (full), 1 */
	tx(p[2], mac(2), mac(2), 50, 0);      /* now filtered */
	tx(p[2], bcast, mac(2), 5, 0);        /* runt */
	tx(p[2], bcast, mac(2), 1600, 0);     /* oversize */
	tx(p[1], bcast, mcast, 60, 0);        /* bad source */

	ck_assert_uint_eq(ps(p[0])->tx_frames, 1);
	ck_assert_uint_eq(ps(p[0])->tx_bytes, 100);
	ck_assert_uint_eq(ps(p[0])->rx_frames, 1);
	ck_assert_uint_eq(ps(p[0])->rx_bytes, 200);
	ck_assert_uint_eq(ps(p[0])->drops[BRIDGE_DROP_RX_NO_BUFFER], 2);
	ck_assert_uint_eq(ps(p[1])->tx_frames, 2);
	ck_assert_uint_eq(ps(p[1])->tx_bytes, 500);
	ck_assert_uint_eq(ps(p[1])->rx_frames, 2);
	ck_assert_uint_eq(ps(p[1])->rx_bytes, 140);
	ck_assert_uint_eq(ps(p[1])->drops[BRIDGE_DROP_BAD_SOURCE], 1);
	ck_assert_uint_eq(ps(p[2])->tx_frames, 2);
	ck_assert_uint_eq(ps(p[2])->tx_bytes, 90);
	ck_assert_uint_eq(ps(p[2])->rx_frames, 1);
	ck_assert_uint_eq(ps(p[2])->rx_bytes, 100);
	ck_assert_uint_eq(ps(p[2])->drops[BRIDGE_DROP_RUNT], 1);
	ck_assert_uint_eq(ps(p[2])->drops[BRIDGE_DROP_OVERSIZE], 1);
	ck_assert_uint_eq(s->frames, 5);
	ck_assert_uint_eq(s->bytes, 690);
	ck_assert_uint_eq(s->forwarded, 2);
	ck_assert_uint_eq(s->flooded, 2);
	ck_assert_uint_eq(s->filtered, 1);
	ck_assert_uint_eq(s->reserved, 0);
	ck_assert_uint_eq(s->learned, 3);
	ck_assert_uint_eq(s->moved + s->aged + s->evicted, 0);
	ck_assert_uint_eq(s->drops[BRIDGE_DROP_RX_NO_BUFFER], 2);
	ck_assert_uint_eq(s->drops[BRIDGE_DROP_RUNT], 1);
	ck_assert_uint_eq(s->drops[BRIDGE_DROP_OVERSIZE], 1);
	ck_assert_uint_eq(s->drops[BRIDGE_DROP_BAD_SOURCE], 1);
	ck_assert_uint_eq(s->drops[BRIDGE_DROP_SPOOFED] +
			  s->drops[BRIDGE_DROP_FLOOD_LIMITED], 0);
	ck_assert_int_eq(cap.frames, 5);
}
END_TEST

/* ---- bridge_dump ---- */

#define DUMP_MAX 4096

static struct dump {
	char text[DUMP_MAX];
	size_t len;
	int lines;
} dump;

static void print(void *ctx, const char *fmt, ...)
{
	struct dump *d = ctx;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(d->text + d->len, DUMP_MAX - d->len, fmt, ap);
	va_end(ap);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(d->text[d->len + (size_t)n - 1], '\n');  /* a line */
	d->len += (size_t)n;
	d->lines++;
	ck_assert_uint_lt(d->len, DUMP_MAX);
}

START_TEST(dump_shows_table_and_counters)
{
	int own = attach(net0, 3, mac(3));

	memset(&dump, 0, sizeof(dump));
	tx(p[0], bcast, mac(0), 100, 10);
	tx(p[1], bcast, mac(3), 60, 10);      /* spoofed */
	tx(own, mac(0), mac(3), 60, 10);
	nic[2].full = true;
	tx(own, bcast, mac(3), 60, 10);
	bridge_dump(&br, print, &dump, 25);
	ck_assert_int_eq(dump.lines, 8);
	ck_assert_str_eq(dump.text,
		"net lan: 2 stations (of 256), 3 frames 220 bytes, "
		"1 forwarded, 2 flooded, 0 filtered, 0 reserved\n"
		"net lan: learned 1, moved 0, aged 0, evicted 0, "
		"drops spoofed 1, rx_no_buffer 1\n"
		"  port 0 nic: tx 1 frames 100 bytes, rx 2 frames 120 bytes, "
		"drops none\n"
		"    52:54:00:00:00:01 age 15 s\n"
		"  port 1 nic: tx 0 frames 0 bytes, rx 2 frames 160 bytes, "
		"drops spoofed 1\n"
		"  port 2 nic: tx 0 frames 0 bytes, rx 1 frames 100 bytes, "
		"drops rx_no_buffer 1\n"
		"  port 3 nic: tx 2 frames 120 bytes, rx 1 frames 100 bytes, "
		"drops none\n"
		"    52:54:00:00:00:04 static\n");
}
END_TEST

Suite *bridge_suite(void)
{
	Suite *s = suite_create("bridge");
	TCase *tc = tcase_create("bridge");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, init_and_names);
	tcase_add_test(tc, attach_checks);
	tcase_add_test(tc, learns_and_forwards);
	tcase_add_test(tc, floods_groups_but_never_echoes);
	tcase_add_test(tc, networks_are_isolated);
	tcase_add_test(tc, ageing);
	tcase_add_test(tc, table_overflow_evicts_oldest);
	tcase_add_test(tc, overflow_keeps_static_entries);
	tcase_add_test(tc, station_moves);
	tcase_add_test(tc, spoofing_dropped);
	tcase_add_test(tc, bad_sources_dropped);
	tcase_add_test(tc, frame_sizes);
	tcase_add_test(tc, rx_no_buffer_counted);
	tcase_add_test(tc, flood_limit);
	tcase_add_test(tc, capture_sees_accepted_frames);
	tcase_add_test(tc, detach_forgets_port);
	tcase_add_test(tc, counters_exact);
	tcase_add_test(tc, dump_shows_table_and_counters);
	suite_add_tcase(s, tc);
	return s;
}
