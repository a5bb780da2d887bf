/*
 * A learning bridge per network (IEEE 802.1D-2004 §7): the Learning
 * Process (§7.8) fills a Filtering Database (§7.9) from source addresses;
 * the Forwarding Process (§7.7) sends a frame to the port its destination
 * was learned on, or floods it when that is a group address or unknown.
 * The database is a fixed array per network, hashed into chains: a lookup
 * costs a few instructions, and the worst case stays bounded. A port's own
 * MAC is a static entry (§7.9.1): it never ages or moves, and a frame from
 * another port that claims it is dropped as spoofed.
 */
#include "vmm/net/bridge.h"
#include "vmm/net/inet_csum.h"
#include "lib/fmt.h"
#include "lib/string.h"

/* Ethernet header layout (802.3-2018 §3.1.1) and address bits (§3.2.3). */
#define ETH_DST_OFF     0
#define ETH_SRC_OFF     6
#define ETH_TYPE_OFF    12
#define OCTET_BITS      8
#define OCTET_MASK      0xffULL
/* The I/G bit, the first bit on the wire: bit 0 of the first octet, which
   mac_key() puts at bit 40. Set in a destination: a group address. */
#define MAC_GROUP_BIT   BIT(40)
/* 802.1Q-2018 Table 9-1: the C-VLAN tag's EtherType. */
#define ETH_P_8021Q     0x8100
/* 802.1D-2004 §7.12.6, Table 7-10: a bridge never relays frames for
   01-80-C2-00-00-00 .. 0F (STP, pause, LACP, 802.1X, LLDP...). */
#define MAC_RESERVED_BASE 0x0180c2000000ULL
#define MAC_RESERVED_MASK 0xfffffffffff0ULL

/* Fibonacci hashing (Knuth, TAOCP vol. 3, §6.4): multiply by 2^64/phi
   and keep the top bits, which depend on every bit of the address. */
#define FDB_HASH_MUL    0x9e3779b97f4a7c15ULL
#define FDB_HASH_BITS   8
#define FDB_NONE        0xffff          /* end of a chain */


_Static_assert(BIT(FDB_HASH_BITS) == BRIDGE_FDB_BUCKETS, "hash width");
_Static_assert(BRIDGE_FDB_SIZE < FDB_NONE && BRIDGE_MAX_PORTS <= 255,
	       "an entry index must fit a u16, a slot a u8");
/* Static entries (one a port at most) leave dynamic ones to evict. */
_Static_assert(BRIDGE_MAX_PORTS < BRIDGE_FDB_SIZE, "table too small");

/* Where the Forwarding Process sends an accepted frame. */
enum route { ROUTE_FORWARD, ROUTE_FLOOD, ROUTE_FILTERED, ROUTE_RESERVED };


/* A frame in flight: its bytes, the checksum left unfinished (or NULL),
   and the copy with it finished, made once when first needed. */
struct frame {
	const u8 *data;
	u32 len;
	const struct bridge_csum *csum;
	const u8 *done;
};

/* The six octets at p as one number, first octet most significant.
   Written out, so that compilers make it two loads and byte swaps. */
static u64 mac_key(const u8 *p)
{
	u32 hi = (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];

	return (u64)hi << 16 | (u32)p[4] << 8 | p[5];
}

/* An address no station can own: a group address, or all zeros. */
static bool mac_is_bad_source(u64 mac)
{
	return (mac & MAC_GROUP_BIT) || !mac;
}

/* The network with index net if it is in use, else NULL. */
static struct bridge_net *net_at(const struct bridge *b, int net)
{
	if (net < 0 || net >= BRIDGE_MAX_NETS || !b->nets[net].used)
		return NULL;
	return (struct bridge_net *)&b->nets[net];
}

/* The port with id port if it is attached, else NULL; *np its network. */
static struct bridge_port *port_at(const struct bridge *b, int port,
				   struct bridge_net **np)
{
	struct bridge_net *n = port < 0 ? NULL :
			       net_at(b, BRIDGE_PORT_NET(port));

	if (!n || !n->ports[port % BRIDGE_MAX_PORTS].used)
		return NULL;
	*np = n;
	return &n->ports[port % BRIDGE_MAX_PORTS];
}

/* ---- The filtering database ---- */

static unsigned fdb_hash(u64 mac)
{
	return (unsigned)((mac * FDB_HASH_MUL) >> (64 - FDB_HASH_BITS));
}

/* Empties a zeroed table: no chains, every entry on the free list. */
static void fdb_reset(struct bridge_net *n)
{
	for (int i = 0; i < BRIDGE_FDB_BUCKETS; i++)
		n->bucket[i] = FDB_NONE;
	for (int i = 0; i + 1 < BRIDGE_FDB_SIZE; i++)
		n->fdb[i].next = (u16)(i + 1);
	n->fdb[BRIDGE_FDB_SIZE - 1].next = FDB_NONE;
}

static struct bridge_fdb_entry *fdb_find(const struct bridge_net *n, u64 mac)
{
	u16 i;

	for (i = n->bucket[fdb_hash(mac)]; i != FDB_NONE; i = n->fdb[i].next)
		if (n->fdb[i].mac == mac)
			return (struct bridge_fdb_entry *)&n->fdb[i];
	return NULL;
}

/* True if a dynamic entry has not been refreshed for the ageing time
   (§7.9.2). A clock that went backwards makes entries look fresh. */
static bool fdb_stale(const struct bridge *b, const struct bridge_fdb_entry *e,
		      u64 now)
{
	return !e->is_static && now > e->seen && now - e->seen > b->ageing;
}

/* Takes entry idx out of its chain and puts it on the free list. */
static void fdb_remove(struct bridge_net *n, u16 idx)
{
	u16 *link = &n->bucket[fdb_hash(n->fdb[idx].mac)];

	while (*link != idx)
		link = &n->fdb[*link].next;
	*link = n->fdb[idx].next;
	n->fdb[idx] = (struct bridge_fdb_entry){ .next = n->fdb_free };
	n->fdb_free = idx;
	n->fdb_used--;
}

/* The least recently seen dynamic entry of a full table, to give up:
   static entries are fewer, and every seen is <= ~0, so there is one. */
static u16 fdb_oldest(const struct bridge_net *n)
{
	u64 oldest = ~0ULL;
	u16 best = FDB_NONE;

	for (u16 i = 0; i < BRIDGE_FDB_SIZE; i++)
		if (!n->fdb[i].is_static && n->fdb[i].seen <= oldest) {
			oldest = n->fdb[i].seen;
			best = i;
		}
	return best;
}

/* A new entry for mac on slot; when the table is full the oldest
   dynamic entry makes room, and that is counted. */
static void fdb_insert(struct bridge_net *n, u64 mac, u8 slot, bool is_static,
		       u64 now)
{
	unsigned h = fdb_hash(mac);
	u16 idx;

	if (n->fdb_free == FDB_NONE) {
		fdb_remove(n, fdb_oldest(n));
		n->stats.evicted++;
	}
	idx = n->fdb_free;
	n->fdb_free = n->fdb[idx].next;
	n->fdb[idx] = (struct bridge_fdb_entry){
		.mac = mac, .seen = now, .next = n->bucket[h], .port = slot,
		.is_static = is_static, .used = true,
	};
	n->bucket[h] = idx;
	n->fdb_used++;
}

/* The Learning Process (§7.8) for a frame accepted from slot: a new
   station is entered, a known one refreshed, and one heard on another
   port than before has moved (a VM's NIC re-plugged, a failover). A
   static entry is on slot already: spoofing was ruled out. */
static void learn(struct bridge_net *n, struct bridge_fdb_entry *e, u8 slot,
		  u64 src, u64 now)
{
	if (!e) {
		fdb_insert(n, src, slot, false, now);
		n->stats.learned++;
		return;
	}
	if (e->port != slot) {
		e->port = slot;
		n->stats.moved++;
	}
	e->seen = now;
}

int bridge_init(struct bridge *b, const struct bridge_ops *ops, void *ctx,
		u64 hz)
{
	if (!hz || hz > BRIDGE_MAX_HZ)
		return -1;
	memset(b, 0, sizeof(*b));
	b->ops = ops;
	b->ctx = ctx;
	b->hz = hz;
	b->ageing = BRIDGE_AGEING_DEFAULT_S * hz;
	return 0;
}

int bridge_set_ageing(struct bridge *b, u64 seconds)
{
	if (seconds < BRIDGE_AGEING_MIN_S || seconds > BRIDGE_AGEING_MAX_S)
		return -1;
	b->ageing = seconds * b->hz;
	return 0;
}

int bridge_net_find(const struct bridge *b, const char *name)
{
	for (int i = 0; i < BRIDGE_MAX_NETS; i++)
		if (name && b->nets[i].used && !strcmp(b->nets[i].name, name))
			return i;
	return -1;
}

int bridge_net_add(struct bridge *b, const char *name)
{
	if (!name || !name_valid(name) || bridge_net_find(b, name) >= 0)
		return -1;
	for (int i = 0; i < BRIDGE_MAX_NETS; i++) {
		struct bridge_net *n = &b->nets[i];

		if (n->used)
			continue;
		memset(n, 0, sizeof(*n));
		n->used = true;
		memcpy(n->name, name, strlen(name) + 1);
		fdb_reset(n);
		return i;
	}
	return -1;
}

/* Whether cfg can make a port on n; *mac gets its own MAC (0: none). */
static bool port_config_ok(const struct bridge_net *n,
			   const struct bridge_port_config *cfg, u64 *mac)
{
	const struct bridge_fdb_entry *e;

	if (!cfg || !cfg->ops || (!cfg->ops->deliver && !cfg->ops->receive) ||
	    (cfg->name && !name_valid(cfg->name)))
		return false;
	if (cfg->flood_rate &&
	    (!cfg->flood_burst || cfg->flood_burst > BRIDGE_MAX_BURST))
		return false;
	if (!cfg->mac)
		return true;
	*mac = mac_key(cfg->mac);
	e = fdb_find(n, *mac);
	return !mac_is_bad_source(*mac) && !(e && e->is_static);
}

int bridge_attach(struct bridge *b, int net,
		  const struct bridge_port_config *cfg)
{
	struct bridge_net *n = net_at(b, net);
	struct bridge_fdb_entry *e;
	u64 mac = 0;
	int slot = 0;

	if (!n || !port_config_ok(n, cfg, &mac))
		return -1;
	while (slot < BRIDGE_MAX_PORTS && n->ports[slot].used)
		slot++;
	if (slot == BRIDGE_MAX_PORTS)
		return -1;
	n->ports[slot] = (struct bridge_port){
		.used = true, .ops = cfg->ops, .ctx = cfg->ctx,
		.flood_rate = cfg->flood_rate, .flood_burst = cfg->flood_burst,
		.flood_level = (u64)cfg->flood_burst * b->hz,   /* full */
	};
	if (cfg->name)
		memcpy(n->ports[slot].name, cfg->name, strlen(cfg->name) + 1);
	if (!cfg->mac)
		return BRIDGE_PORT_ID(net, slot);
	e = fdb_find(n, mac);         /* the NIC's address is its for good */
	if (e)
		fdb_remove(n, (u16)(e - n->fdb));
	fdb_insert(n, mac, (u8)slot, true, 0);
	return BRIDGE_PORT_ID(net, slot);
}

void bridge_detach(struct bridge *b, int port)
{
	struct bridge_net *n;
	struct bridge_port *p = port_at(b, port, &n);
	u8 slot = (u8)(port % BRIDGE_MAX_PORTS);

	if (!p)
		return;
	for (u16 i = 0; i < BRIDGE_FDB_SIZE; i++)
		if (n->fdb[i].used && n->fdb[i].port == slot)
			fdb_remove(n, i);
	*p = (struct bridge_port){ 0 };
}

/* ---- The data path ---- */

static int drop(struct bridge_net *n, struct bridge_port *p,
		enum bridge_drop d)
{
	p->stats.drops[d]++;
	n->stats.drops[d]++;
	return -1;
}

/* The longest frame allowed: 1514 octets, 1518 with an 802.1Q tag
   (802.3-2018 §3.5: the tag adds 4 octets to maxBasicFrameSize). */
static u32 frame_max(const u8 *frame)
{
	u32 type = (u32)frame[ETH_TYPE_OFF] << OCTET_BITS |
		   frame[ETH_TYPE_OFF + 1];

	return type == ETH_P_8021Q ? BRIDGE_FRAME_MAX : ETH_FRAME_MAX;
}

/*
 * A token bucket on flooded frames: one token a frame, flood_rate tokens
 * a second, at most flood_burst saved up. A guest that broadcasts in a
 * loop then costs each neighbour at most flood_rate frames a second.
 * Tokens are kept in units of 1/hz frame, so refills need no division
 * per tick; elapsed * rate is only formed when it cannot pass the cap.
 */
static bool flood_allowed(const struct bridge *b, struct bridge_port *p,
			  u64 now)
{
	u64 cap = (u64)p->flood_burst * b->hz;

	if (!p->flood_rate)
		return true;
	if (now > p->flood_refilled) {
		u64 elapsed = now - p->flood_refilled;
		u64 room = cap - p->flood_level;

		if (elapsed > room / p->flood_rate)
			p->flood_level = cap;
		else
			p->flood_level += elapsed * p->flood_rate;
		p->flood_refilled = now;
	}
	if (p->flood_level < b->hz)
		return false;
	p->flood_level -= b->hz;
	return true;
}

/* The Forwarding Process's choice (§7.7): *to is the port to forward to. */
static enum route route_frame(const struct bridge *b,
			      const struct bridge_net *n, u8 from, u64 dst,
			      u64 now, u8 *to)
{
	const struct bridge_fdb_entry *e;

	if ((dst & MAC_RESERVED_MASK) == MAC_RESERVED_BASE)
		return ROUTE_RESERVED;
	if (dst & MAC_GROUP_BIT)      /* broadcast is a group address too */
		return ROUTE_FLOOD;
	e = fdb_find(n, dst);
	if (!e || fdb_stale(b, e, now))
		return ROUTE_FLOOD;
	if (e->port == from)          /* never back where it came from */
		return ROUTE_FILTERED;
	*to = e->port;
	return ROUTE_FORWARD;
}

/* The frame with its checksum finished, in b->done: copied and summed
   once per frame, for the capture hook and ports without receive. */
static const u8 *finished(struct bridge *b, struct frame *f)
{
	if (!f->csum)
		return f->data;
	if (!f->done) {
		memcpy(b->done, f->data, f->len);
		inet_csum_finish(b->done, f->len, f->csum->start,
				 f->csum->offset);
		f->done = b->done;
	}
	return f->done;
}

/* Hands the frame to a port; a port without room only costs itself. */
static int deliver(struct bridge *b, struct bridge_net *n, u8 slot,
		   struct frame *f)
{
	struct bridge_port *p = &n->ports[slot];
	enum bridge_rx r;

	if (p->ops->receive) {
		r = p->ops->receive(p->ctx, f->data, f->len, f->csum);
	} else {
		if (f->csum)
			p->stats.csum_completed++;
		r = p->ops->deliver(p->ctx, finished(b, f), f->len) ?
		    BRIDGE_RX_OK : BRIDGE_RX_NO_BUFFER;
	}
	if (r == BRIDGE_RX_FILTERED) {
		p->stats.rx_filtered++;
		return 0;
	}
	if (r != BRIDGE_RX_OK) {
		drop(n, p, BRIDGE_DROP_RX_NO_BUFFER);
		return 0;
	}
	p->stats.rx_frames++;
	p->stats.rx_bytes += f->len;
	return 1;
}

/* Counts an accepted frame, shows it to the capture hook, delivers it. */
static int transmit(struct bridge *b, int net, u8 from, enum route r,
		    u8 to, struct frame *f, u64 now)
{
	struct bridge_net *n = &b->nets[net];
	int sent = 0;

	n->ports[from].stats.tx_frames++;
	n->ports[from].stats.tx_bytes += f->len;
	n->stats.frames++;
	n->stats.bytes += f->len;
	if (b->ops && b->ops->capture)
		b->ops->capture(b->ctx, net, finished(b, f), f->len, now);
	if (r == ROUTE_FORWARD) {
		n->stats.forwarded++;
		return deliver(b, n, to, f);
	}
	if (r == ROUTE_FILTERED)
		n->stats.filtered++;
	if (r == ROUTE_RESERVED)
		n->stats.reserved++;
	if (r != ROUTE_FLOOD)
		return 0;
	n->stats.flooded++;
	for (u8 i = 0; i < BRIDGE_MAX_PORTS; i++)
		if (i != from && n->ports[i].used)
			sent += deliver(b, n, i, f);
	return sent;
}

/* Checks on entry, in order: length, checksum request, source,
   spoofing, the flood limit. Only a frame that passes them all is
   learned from: a dropped frame leaves no trace but its counter. */
int bridge_send_csum(struct bridge *b, int port, const u8 *frame, u32 len,
		     const struct bridge_csum *csum, u64 now)
{
	struct bridge_net *n;
	struct bridge_port *p = port_at(b, port, &n);
	struct bridge_fdb_entry *se;
	struct frame f = { frame, len, csum, NULL };
	u8 from = (u8)(port % BRIDGE_MAX_PORTS), to = 0;
	enum route r;
	u64 src;

	if (!p || !frame)
		return -1;
	if (len < ETH_HLEN)
		return drop(n, p, BRIDGE_DROP_RUNT);
	if (len > frame_max(frame))
		return drop(n, p, BRIDGE_DROP_OVERSIZE);
	if (csum && !inet_csum_fits(len, csum->start, csum->offset))
		return drop(n, p, BRIDGE_DROP_BAD_CSUM);
	src = mac_key(frame + ETH_SRC_OFF);
	if (mac_is_bad_source(src))
		return drop(n, p, BRIDGE_DROP_BAD_SOURCE);
	se = fdb_find(n, src);
	if (se && se->is_static && se->port != from)
		return drop(n, p, BRIDGE_DROP_SPOOFED);
	r = route_frame(b, n, from, mac_key(frame + ETH_DST_OFF), now, &to);
	if (r == ROUTE_FLOOD && !flood_allowed(b, p, now))
		return drop(n, p, BRIDGE_DROP_FLOOD_LIMITED);
	learn(n, se, from, src, now);
	return transmit(b, BRIDGE_PORT_NET(port), from, r, to, &f, now);
}

int bridge_send(struct bridge *b, int port, const u8 *frame, u32 len, u64 now)
{
	return bridge_send_csum(b, port, frame, len, NULL, now);
}

void bridge_tick(struct bridge *b, u64 now)
{
	for (int i = 0; i < BRIDGE_MAX_NETS; i++) {
		struct bridge_net *n = &b->nets[i];

		if (!n->used)
			continue;
		for (u16 j = 0; j < BRIDGE_FDB_SIZE; j++)
			if (n->fdb[j].used && fdb_stale(b, &n->fdb[j], now)) {
				fdb_remove(n, j);
				n->stats.aged++;
			}
	}
}

int bridge_lookup(const struct bridge *b, int net, const u8 *mac, u64 now)
{
	const struct bridge_net *n = net_at(b, net);
	const struct bridge_fdb_entry *e;

	if (!n || !mac)
		return -1;
	e = fdb_find(n, mac_key(mac));
	if (!e || fdb_stale(b, e, now))
		return -1;
	return BRIDGE_PORT_ID(net, e->port);
}

const struct bridge_port_stats *bridge_port_stats(const struct bridge *b,
						  int port)
{
	struct bridge_net *n;
	struct bridge_port *p = port_at(b, port, &n);

	return p ? &p->stats : NULL;
}

const struct bridge_net_stats *bridge_net_stats(const struct bridge *b, int net)
{
	const struct bridge_net *n = net_at(b, net);

	return n ? &n->stats : NULL;
}

static const char *const drop_names[BRIDGE_DROP_MAX] = {
	[BRIDGE_DROP_RUNT] = "runt",
	[BRIDGE_DROP_OVERSIZE] = "oversize",
	[BRIDGE_DROP_BAD_SOURCE] = "bad_source",
	[BRIDGE_DROP_SPOOFED] = "spoofed",
	[BRIDGE_DROP_FLOOD_LIMITED] = "flood_limited",
	[BRIDGE_DROP_RX_NO_BUFFER] = "rx_no_buffer",
	[BRIDGE_DROP_BAD_CSUM] = "bad_csum",
};

const char *bridge_drop_name(enum bridge_drop d)
{
	return (unsigned)d < BRIDGE_DROP_MAX ? drop_names[d] : "?";
}
