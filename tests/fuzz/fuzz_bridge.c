/*
 * libFuzzer harness for vmm/net/bridge.c. The input is a program: a random
 * clock rate, ageing time and port layout (own MACs, flood limits), then
 * operations: send a frame from a port, spray fresh source addresses
 * (to fill the table), send on any port id, let time pass or step back,
 * tick, attach or detach a port, fill or drain a receive queue, dump.
 * Addresses come mostly from a small pool, so stations are learned,
 * move, collide with own MACs and age.
 *
 * Besides the sanitizers, every send is checked against the bridge's
 * promises: no frame goes back to its sender or to another network, a
 * known unicast destination is the only receiver, the frame arrives
 * unchanged, the return value counts the deliveries, the capture hook
 * sees exactly the accepted frames. After each operation the MAC table's
 * chains and free list are consistent, own MACs resolve to their ports,
 * and every port's counters equal what the harness saw happen.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *         tests/fuzz/fuzz_bridge.c vmm/net/bridge.c lib/fmt.c -o fuzz_bridge
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vmm/net/bridge.h"
#include "tests/unit/bridge_dump.h"

#define NR_SLOTS   (BRIDGE_MAX_NETS * BRIDGE_MAX_PORTS)
#define POOL       12               /* station addresses in play */
#define FDB_NONE   0xffff
#define SPRAY_MAX  (4 * BRIDGE_FDB_SIZE)   /* sprayed frames per input */
#define DUMPS_MAX  2                        /* dumps per input */

/* The checks need no coverage feedback: uninstrumented, they run fast. */
#define NO_COVERAGE __attribute__((no_sanitize("coverage"), noinline))

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

/* A bounded reader over the input. */
struct in {
	const u8 *p;
	size_t n;
};

static u8 byte(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static u32 word(struct in *in)
{
	u32 lo = byte(in);

	return lo | (u32)byte(in) << 8;
}

/* What the harness knows about each possible port id, and the counters
   it expects the bridge to show for it. */
static struct nic {
	bool attached, full;
	bool has_mac;
	u8 mac[ETH_ALEN];
	u64 tx, rx, dropped, no_buffer;
} nics[NR_SLOTS];
static u64 net_frames[BRIDGE_MAX_NETS];
static u16 spray;                   /* sprayed frames so far, and the
				       next sprayed source address */

static struct bridge br;
static int sender;                  /* the port whose frame is in flight */
static int target;                  /* where it must go if unicast, or -1 */
static const u8 *sent_frame;
static u32 sent_len;
static int delivered, captured;

static bool deliver(void *ctx, const u8 *frame, u32 len)
{
	int port = (int)(uintptr_t)ctx;

	CHECK(port != sender);
	CHECK(target < 0 || port == target);
	CHECK(BRIDGE_PORT_NET(port) == BRIDGE_PORT_NET(sender));
	CHECK(nics[port].attached);
	CHECK(frame == sent_frame && len == sent_len);
	if (nics[port].full) {
		nics[port].no_buffer++;
		return false;
	}
	nics[port].rx++;
	delivered++;
	return true;
}

static void capture(void *ctx, int network, const u8 *frame, u32 len, u64 now)
{
	(void)ctx, (void)now;
	CHECK(network == BRIDGE_PORT_NET(sender));
	CHECK(frame == sent_frame && len == sent_len);
	CHECK(len >= ETH_HLEN && len <= BRIDGE_FRAME_MAX);
	captured++;
}

static void print(void *ctx, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	(void)ctx;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
}

static const struct bridge_port_ops nic_ops = { .deliver = deliver };
static const struct bridge_ops br_ops = { capture };

/* Station i of the pool: individual addresses 02:00:00:00:00:i. */
static void pool_mac(u8 *m, unsigned i)
{
	memset(m, 0, ETH_ALEN);
	m[0] = 0x02;
	m[5] = (u8)i;
}

/* Attaches a port with a configuration chosen by the input. Ports take
   the first free slot: the harness predicts the id, so the callback can
   know its port through ctx. */
static void attach(struct in *in, int net)
{
	struct bridge_port_config cfg = { .name = "fz", .ops = &nic_ops };
	u8 sel = byte(in), mac[ETH_ALEN];
	int id, slot = 0;

	while (slot < BRIDGE_MAX_PORTS &&
	       nics[BRIDGE_PORT_ID(net, slot)].attached)
		slot++;
	cfg.ctx = (void *)(uintptr_t)BRIDGE_PORT_ID(net, slot);

	if (sel & 1) {
		pool_mac(mac, (sel >> 1) % POOL);
		cfg.mac = mac;
	}
	if (sel & 0x80) {
		cfg.flood_rate = byte(in) % 8;
		cfg.flood_burst = byte(in) % 4;
	}
	id = bridge_attach(&br, net, &cfg);
	if (id < 0)
		return;
	CHECK(id == BRIDGE_PORT_ID(net, slot));
	nics[id] = (struct nic){ .attached = true, .has_mac = cfg.mac != NULL };
	if (cfg.mac)
		memcpy(nics[id].mac, mac, ETH_ALEN);
}

/* Any attached port, chosen by the input, or -1. */
static int pick_port(struct in *in)
{
	int start = byte(in) % NR_SLOTS;

	for (int i = 0; i < NR_SLOTS; i++)
		if (nics[(start + i) % NR_SLOTS].attached)
			return (start + i) % NR_SLOTS;
	return -1;
}

/* An address: mostly from the pool, sometimes a group or raw bytes. */
static void pick_mac(struct in *in, u8 *m)
{
	static const u8 special[][ETH_ALEN] = {
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 },
		{ 0x01, 0x80, 0xc2, 0x00, 0x00, 0x00 },
		{ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 },
	};
	u8 sel = byte(in);

	if (sel < 0xc0) {
		pool_mac(m, sel % POOL);
	} else if (sel < 0xf0) {
		memcpy(m, special[sel % 4], ETH_ALEN);
	} else {
		for (int i = 0; i < ETH_ALEN; i++)
			m[i] = byte(in);
	}
}

/* Sends frame from port and checks what happened against the rules. */
static void send_checked(int port, const u8 *frame, u32 len, u64 now)
{
	int r;

	sender = port;
	target = frame[0] & 1 ? -1 : bridge_lookup(&br, BRIDGE_PORT_NET(port),
						   frame, now);
	sent_frame = frame;
	sent_len = len;
	delivered = captured = 0;
	r = bridge_send(&br, port, frame, len, now);
	CHECK(r == -1 ? captured == 0 : captured == 1 && r == delivered);
	CHECK(r == -1 || (len >= ETH_HLEN && len <= BRIDGE_FRAME_MAX));
	sender = -1;
	if (r < 0) {
		nics[port].dropped++;
		return;
	}
	nics[port].tx++;
	net_frames[BRIDGE_PORT_NET(port)]++;
}

static u8 frame[BRIDGE_FRAME_MAX + 64];

/* A frame from the input: port, length, addresses, maybe a VLAN tag. */
static void do_send(struct in *in, u64 now)
{
	int port = pick_port(in);
	u32 len = word(in) % sizeof(frame);

	if (port < 0)
		return;
	memset(frame, 0xa5, sizeof(frame));
	pick_mac(in, frame);
	pick_mac(in, frame + ETH_ALEN);
	if (byte(in) & 1) {             /* an 802.1Q tag */
		frame[12] = 0x81;
		frame[13] = 0x00;
	}
	send_checked(port, frame, len, now);
}

/* A guest spraying fresh source addresses: fills the MAC table. */
static void do_spray(struct in *in, u64 now)
{
	int port = pick_port(in), count = byte(in) * 2;

	if (port < 0)
		return;
	if (count > SPRAY_MAX - spray)  /* each one may scan the table */
		count = SPRAY_MAX - spray;
	memset(frame, 0, sizeof(frame));
	pick_mac(in, frame);
	for (int i = 0; i < count; i++, spray++) {
		frame[ETH_ALEN] = 0x06;         /* individual, local */
		frame[ETH_ALEN + 4] = (u8)(spray >> 8);
		frame[ETH_ALEN + 5] = (u8)spray;
		send_checked(port, frame, ETH_HLEN + i % 64, now);
	}
}

/* A send on any port id, attached or not, valid or not. */
static void do_send_raw(struct in *in, u64 now)
{
	int port = (int)(int8_t)byte(in);
	bool ok = port >= 0 && port < NR_SLOTS && nics[port].attached;

	memset(frame, 0, sizeof(frame));
	pool_mac(frame + ETH_ALEN, 1);
	if (ok)
		send_checked(port, frame, ETH_HLEN, now);
	else
		CHECK(bridge_send(&br, port, frame, ETH_HLEN, now) == -1);
}

/* A port's counters are exactly what the harness saw happen. */
NO_COVERAGE static void check_port(int id)
{
	const struct bridge_port_stats *ps = bridge_port_stats(&br, id);
	const struct nic *nic = &nics[id];
	u64 dropped = 0;

	CHECK(ps && ps->tx_frames == nic->tx && ps->rx_frames == nic->rx);
	CHECK(ps->drops[BRIDGE_DROP_RX_NO_BUFFER] == nic->no_buffer);
	for (int d = 0; d < BRIDGE_DROP_MAX; d++)
		if (d != BRIDGE_DROP_RX_NO_BUFFER)
			dropped += ps->drops[d];
	CHECK(dropped == nic->dropped);
	if (nic->has_mac)
		CHECK(bridge_lookup(&br, BRIDGE_PORT_NET(id), nic->mac, 0) ==
		      id);
}

/* The MAC table of net n: chains, free list, entries and own MACs. */
NO_COVERAGE static void check_net(int net)
{
	const struct bridge_net *n = &br.nets[net];
	const struct bridge_net_stats *s = bridge_net_stats(&br, net);
	int in_chains = 0, on_free = 0;

	for (int h = 0; h < BRIDGE_FDB_BUCKETS; h++)
		for (u16 i = n->bucket[h]; i != FDB_NONE; i = n->fdb[i].next) {
			CHECK(i < BRIDGE_FDB_SIZE && n->fdb[i].used);
			CHECK(n->ports[n->fdb[i].port].used);
			CHECK(++in_chains <= BRIDGE_FDB_SIZE);
		}
	for (u16 i = n->fdb_free; i != FDB_NONE; i = n->fdb[i].next) {
		CHECK(i < BRIDGE_FDB_SIZE && !n->fdb[i].used);
		CHECK(++on_free <= BRIDGE_FDB_SIZE);
	}
	CHECK(in_chains == n->fdb_used);
	CHECK(in_chains + on_free == BRIDGE_FDB_SIZE);
	CHECK(s->frames == net_frames[net]);
	CHECK(s->frames ==
	      s->forwarded + s->flooded + s->filtered + s->reserved);
	for (int slot = 0; slot < BRIDGE_MAX_PORTS; slot++) {
		int id = BRIDGE_PORT_ID(net, slot);

		CHECK(nics[id].attached == n->ports[slot].used);
		if (nics[id].attached)
			check_port(id);
	}
}

static void setup(struct in *in)
{
	u64 hz = word(in);
	int nets;

	hz = 1 + hz * word(in);
	nets = 1 + byte(in) % 3;

	memset(nics, 0, sizeof(nics));
	memset(net_frames, 0, sizeof(net_frames));
	spray = 0;
	sender = -1;
	if (bridge_init(&br, &br_ops, NULL, hz))
		abort();
	if (byte(in) & 1)
		bridge_set_ageing(&br, BRIDGE_AGEING_MIN_S + byte(in));
	for (int i = 0; i < nets; i++) {
		char name[8];

		snprintf(name, sizeof(name), "net%d", i);
		CHECK(bridge_net_add(&br, name) == i);
		for (int j = byte(in) % 5; j > 0; j--)
			attach(in, i);
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct in in = { data, size };
	u64 now = 0;
	int port, dumps = 0;

	setup(&in);
	while (in.n) {
		u8 op = byte(&in);

		switch (op % 16) {
		case 0: now += (u64)word(&in) * br.hz / 16; break;
		case 1: bridge_tick(&br, now); break;
		case 2: attach(&in, byte(&in) % BRIDGE_MAX_NETS); break;
		case 3:
			port = pick_port(&in);
			if (port >= 0) {
				bridge_detach(&br, port);
				nics[port] = (struct nic){ 0 };
			}
			break;
		case 4:
			port = pick_port(&in);
			if (port >= 0)
				nics[port].full = !nics[port].full;
			break;
		case 5:
			if (dumps++ < DUMPS_MAX)
				bridge_dump(&br, print, NULL, now);
			break;
		case 6: now -= byte(&in); break;  /* the clock steps back */
		case 7: do_spray(&in, now); break;
		case 8: do_send_raw(&in, now); break;
		default: do_send(&in, now); now += op >> 4; break;
		}
		for (int i = 0; i < BRIDGE_MAX_NETS; i++)
			if (br.nets[i].used)
				check_net(i);
	}
	return 0;
}
