/*
 * The uplink: an adapter between one of uhv's NIC drivers (drivers/
 * netdev.h, which know no VM) and the bridge (vmm/net/bridge.h), which
 * knows no hardware. Frames the bridge delivers to the uplink port go
 * to the NIC's transmit ring; the run loop's poller moves what the NIC
 * received into the bridge as the uplink port's transmissions. The
 * bridge does the rest as for any port: learning, forwarding, flooding
 * (with a flood limit, as a LAN may broadcast a lot), counters.
 *
 * The NIC is promiscuous, as a bridge port must be (802.1D-2004 §7.5):
 * frames for the VMs' MACs come to it, not only those for its own.
 */
#include "vmm/vmm.h"
#include "vmm/uplink.h"
#include "vmm/config.h"
#include "vmm/net/nat_router.h"
#include "vmm/metrics.h"
#include "lib/fmt.h"
#include "arch/x86/cpu.h"
#include "drivers/console.h"
#include "drivers/netdev.h"
#include "lib/string.h"
#include "lib/bytes.h"

#define US_PER_S           1000000

static struct {
	struct netdev nics[NETDEV_MAX];
	int nr;
	struct netdev *nic;        /* the uplink; NULL: none */
	struct bridge *br;
	struct palloc *pages;      /* where the drivers' rings come from */
	int port;                  /* its bridge port id */
	u64 period;                /* TSC ticks between polls */
	u64 polls, full_polls;     /* polls, and those that used the budget */
	u64 last_poll, max_gap;    /* TSC: the longest wait a frame could see */
	u64 tsc_hz;
	struct netif *inside;      /* NAT: uhv's address on the network */
	struct nat_router *router; /* NAT: NULL when bridged */
	u8 shown_ip[IPV4_ALEN];    /* the outside address last announced */
	u32 drops_logged;          /* NAT drop causes already logged (bits) */
	u8 frame[NETDEV_FRAME_MAX];
} up;

static struct nat_router router;
static struct tcp uplink_tcp;      /* uhv's TCP on its outside address */

/* The bridge's delivery to the uplink port: out through the NIC. */
static bool uplink_deliver(void *ctx, const u8 *frame, u32 len)
{
	struct netdev *d = ctx;

	return d->send(d, frame, len);
}

static u64 alloc_page(void)
{
	return palloc_page(up.pages);
}

static const struct bridge_port_ops uplink_port = { .deliver = uplink_deliver };

/* Every NIC uhv found, one line each: the names uplink = takes. */
static void list_nics(void)
{
	up.nr = netdev_probe(up.nics, NETDEV_MAX, alloc_page);
	printk("uhv: %d NIC(s) of uhv's own\n", up.nr);
	for (int i = 0; i < up.nr; i++) {
		const u8 *m = up.nics[i].mac;

		printk("uhv:   %s (%s) MAC %02x:%02x:%02x:%02x:%02x:%02x, link %s\n",
		       up.nics[i].name, up.nics[i].model, m[0], m[1], m[2], m[3],
		       m[4], m[5], up.nics[i].link_up(&up.nics[i]) ? "up" : "down");
	}
}

static struct netdev *nic_named(const char *name)
{
	for (int i = 0; i < up.nr; i++)
		if (!strcmp(up.nics[i].name, name))
			return &up.nics[i];
	return NULL;
}

/* The bridged network (made now if no VM is on it yet) with the NIC as
   a port; false if there is no room. Broadcast, multicast and unknown
   unicast frames from the LAN into the network are held to the
   network's flood limit (flood =), as a VM's are: a bound on what a LAN
   storm costs each VM. */
static bool attach(struct bridge *br, const struct uhv_config *c,
		   const char *network, struct netdev *d)
{
	int net = bridge_net_find(br, network);
	struct bridge_port_config cfg = { "uplink", NULL, &uplink_port, d, 0, 0 };

	config_flood_limit(c, network, &cfg.flood_rate, &cfg.flood_burst);
	if (net < 0)
		net = bridge_net_add(br, network);
	up.br = br;
	up.port = net < 0 ? -1 : bridge_attach(br, net, &cfg);
	return up.port >= 0;
}

/* uplink = NIC, bridged = NETWORK: the NIC joins the network's switch. */
static void bridged_init(struct uhv *h, const struct uhv_config *c,
			 struct netdev *d)
{
	if (!attach(&h->bridge, c, c->bridged_net, d)) {
		printk("uhv: uplink %s: no room on network %s; it stays "
		       "host-only\n", d->name, c->bridged_net);
		return;
	}
	d->promisc(d);
	up.nic = d;
	printk("uhv: network %s bridged to %s (link %s): its VMs are peers on "
	       "that LAN; polled every %u us\n", c->bridged_net, d->name,
	       d->link_up(d) ? "up" : "down", UPLINK_POLL_US);
}

/* The router's ways out: the NIC's transmit ring, and uhv's address on
   the NAT network (queued: the bridge may be delivering right now). */
static void router_send_outside(void *ctx, const u8 *frame, u32 len)
{
	(void)ctx;
	up.nic->send(up.nic, frame, len);
}

static void router_send_inside(void *ctx, const u8 *frame, u32 len)
{
	(void)ctx;
	netif_queue(up.inside, frame, len);
}

static const struct nat_router_ops router_ops = {
	router_send_outside, router_send_inside,
};

/* netif's forward hook: what VMs send to the gateway. */
static void router_inside(void *ctx, const u8 *frame, u32 len)
{
	nat_router_inside(ctx, frame, len, rdtsc());
}

/* The config's port forwards, into the translator. */
static void add_forwards(const struct uhv_config *c)
{
	for (int i = 0; i < c->nr_forwards; i++) {
		const struct forward_config *f = &c->forwards[i];

		if (nat_forward(&router.nat, f->proto, f->out_port, f->in_ip,
				f->in_port))
			printk("uhv: forward %s %u: port taken, not forwarded\n",
			       f->proto == CFG_PROTO_TCP ? "tcp" : "udp",
			       f->out_port);
		else
			printk("uhv: forward %s %u on the uplink to "
			       "%u.%u.%u.%u:%u\n",
			       f->proto == CFG_PROTO_TCP ? "tcp" : "udp",
			       f->out_port, f->in_ip[0], f->in_ip[1],
			       f->in_ip[2], f->in_ip[3], f->in_port);
	}
}

/* uplink = NIC, nat = NETWORK: uhv routes between its address on the
   network (the VMs' gateway) and its own on the NIC's LAN. */
static void nat_init_router(struct uhv *h, const struct uhv_config *c,
			    struct netdev *d)
{
	static const u8 mask24[IPV4_ALEN] = { 255, 255, 255, 0 };

	up.nic = d;
	up.inside = &h->host_if;
	up.router = &router;
	nat_router_init(&router, &router_ops, NULL, h->tsc_hz, h->host_if.mac,
			c->host_ip, mask24, d->mac);
	if (c->outside_static)
		nat_router_address(&router, c->outside_ip, c->outside_mask,
				   c->outside_gw, c->outside_dns);
	else
		nat_router_use_dhcp(&router, (u32)rdtsc());
	add_forwards(c);
	netif_set_forward(&h->host_if, router_inside, &router);
	if (c->metrics_port) {
		tcp_init(&uplink_tcp, ipv4_any, h->tsc_hz, (u32)rdtsc(),
			 &nat_router_tcp_ops, &router);
		nat_router_attach_tcp(&router, &uplink_tcp);
		if (metrics_init(h, &uplink_tcp, c->metrics_port))
			printk("uhv: metrics on tcp port %u of uhv's address on "
			       "%s (GET /metrics)\n", c->metrics_port, d->name);
	}
	printk("uhv: network %s NATed to %s (link %s): its VMs reach that LAN "
	       "through uhv's address there (%s); polled every %u us\n",
	       c->nat_net, d->name, d->link_up(d) ? "up" : "down",
	       c->outside_static ? "static" : "DHCP", UPLINK_POLL_US);
}

void uplink_init(struct uhv *h, const struct uhv_config *c)
{
	const char *net = c->nat_net[0] ? c->nat_net : c->bridged_net;
	struct netdev *d;

	up.pages = &h->pages;
	list_nics();
	if (!c->uplink[0])
		return;
	d = nic_named(c->uplink);
	if (!d) {
		printk("uhv: uplink %s: no such NIC; network %s stays host-only\n",
		       c->uplink, net);
		return;
	}
	up.period = h->tsc_hz / US_PER_S * UPLINK_POLL_US;
	up.tsc_hz = h->tsc_hz;
	if (c->nat_net[0] && h->host_if.br)
		nat_init_router(h, c, d);
	else if (c->nat_net[0])
		printk("uhv: uplink %s: network %s has no address of uhv's; it "
		       "stays host-only\n", d->name, net);
	else
		bridged_init(h, c, d);
}

/* Says so when the outside address changes (a DHCP lease, or its end). */
static void announce_address(void)
{
	const struct nat_router *r = up.router;
	const u8 *ip = r->out.ip, *m = r->out.mask, *g = r->gateway, *d = r->dns;

	if (!memcmp(up.shown_ip, ip, IPV4_ALEN))
		return;
	memcpy(up.shown_ip, ip, IPV4_ALEN);
	if (!r->addressed) {
		printk("uhv: uplink %s: no address (lease ended)\n", up.nic->name);
		return;
	}
	printk("uhv: uplink %s: address %u.%u.%u.%u mask %u.%u.%u.%u gateway "
	       "%u.%u.%u.%u dns %u.%u.%u.%u%s\n", up.nic->name, ip[0], ip[1],
	       ip[2], ip[3], m[0], m[1], m[2], m[3], g[0], g[1], g[2], g[3],
	       d[0], d[1], d[2], d[3], r->use_dhcp ? " (DHCP lease)" : "");
}

/* The NAT network's drop causes, each logged the first time it counts
   (then only counted: the summary); translator's causes first. */
static void log_router_drops(void)
{
	const struct nat_router_stats *r = &router.stats;
	const char *names[] = { "unresolved (no ARP answer)", "no_address "
		"(uhv has no address on the LAN yet)", "no_route (no gateway)",
		"ttl (expired)", "not_routed (to the VMs' own network or a port "
		"of uhv's not relayed)", "spoofed (a VM's source address off "
		"its network)" };
	const u64 counts[] = { r->unresolved, r->no_address, r->no_route,
			       r->ttl_expired, r->not_routed, r->spoofed };

	for (u32 c = NAT_DROP_MALFORMED; c < NAT_DROP_MAX; c++)
		if (router.nat.stats.drops[c] && !(up.drops_logged & BIT(c))) {
			up.drops_logged |= (u32)BIT(c);
			printk("uhv: NAT via %s: dropped a packet: %s (from now on "
			       "only counted)\n", up.nic->name, nat_drop_name(c));
		}
	for (u32 i = 0; i < ARRAY_SIZE(counts); i++)
		if (counts[i] && !(up.drops_logged & BIT(NAT_DROP_MAX + i))) {
			up.drops_logged |= (u32)BIT(NAT_DROP_MAX + i);
			printk("uhv: NAT via %s: dropped a packet: %s (from now on "
			       "only counted)\n", up.nic->name, names[i]);
		}
}

/* One frame from the LAN: into the bridge, or to the router. */
static void from_lan(u32 len, u64 now)
{
	if (up.router)
		nat_router_outside(up.router, up.frame, len, now);
	else
		bridge_send(up.br, up.port, up.frame, len, now);
}

/* Up to UPLINK_RX_BUDGET frames from the LAN into the bridge; while the
   NIC has more, back at once (the next slice end), else after a period. */
u64 uplink_poll(u64 now)
{
	u32 n = 0, len;

	if (!up.nic)
		return ~0ULL;
	up.polls++;
	if (up.last_poll && now - up.last_poll > up.max_gap)
		up.max_gap = now - up.last_poll;
	up.last_poll = now;
	while (n < UPLINK_RX_BUDGET &&
	       (len = up.nic->recv(up.nic, up.frame, sizeof(up.frame)))) {
		from_lan(len, now);
		n++;
	}
	if (up.router) {
		nat_router_tick(up.router, now);
		netif_flush(up.inside, now);
		announce_address();
		log_router_drops();
		metrics_poll(now);
	}
	if (n < UPLINK_RX_BUDGET)
		return now + up.period;
	up.full_polls++;
	return now;
}

typedef unsigned long long ull;

u32 uplink_metrics(char *buf, u32 size)
{
	const struct netdev_stats *s;
	const struct nat_router_stats *r = &router.stats;
	u32 n;

	if (!up.nic || !size)
		return 0;
	s = &up.nic->stats;
	n = (u32)fmt_sn(buf, size,
		"# HELP uhv_uplink_frames_total Frames through uhv's NIC.\n"
		"# TYPE uhv_uplink_frames_total counter\n"
		"uhv_uplink_frames_total{nic=\"%s\",direction=\"rx\"} %llu\n"
		"uhv_uplink_frames_total{nic=\"%s\",direction=\"tx\"} %llu\n"
		"# HELP uhv_uplink_bytes_total Bytes through uhv's NIC.\n"
		"# TYPE uhv_uplink_bytes_total counter\n"
		"uhv_uplink_bytes_total{nic=\"%s\",direction=\"rx\"} %llu\n"
		"uhv_uplink_bytes_total{nic=\"%s\",direction=\"tx\"} %llu\n",
		up.nic->name, (ull)s->rx_frames, up.nic->name, (ull)s->tx_frames,
		up.nic->name, (ull)s->rx_bytes, up.nic->name, (ull)s->tx_bytes);
	if (!up.router || n >= size)
		return MIN(n, size - 1);
	n += (u32)fmt_sn(buf + n, size - n,
		"# HELP uhv_nat_connections NAT table entries in use.\n"
		"# TYPE uhv_nat_connections gauge\n"
		"uhv_nat_connections %u\n"
		"# HELP uhv_nat_connections_max NAT table size.\n"
		"# TYPE uhv_nat_connections_max gauge\n"
		"uhv_nat_connections_max %u\n"
		"# HELP uhv_nat_packets_total Packets routed and translated.\n"
		"# TYPE uhv_nat_packets_total counter\n"
		"uhv_nat_packets_total{direction=\"out\"} %llu\n"
		"uhv_nat_packets_total{direction=\"in\"} %llu\n",
		nat_used(&router.nat), NAT_MAX_CONNS, (ull)r->out, (ull)r->in);
	return MIN(n, size - 1);
}

/* The NAT network's counters: routed, translated, dropped and why. */
static void router_summary(void)
{
	const struct nat_router_stats *r = &router.stats;
	const struct nat_stats *n = &router.nat.stats;
	const struct dhcpc_stats *d = &router.dhcp.stats;

	printk("uhv: NAT via %s: %llu packets out, %llu in; %llu connections "
	       "(%u open now, %llu timed out); ARP %llu requests, %llu "
	       "replies sent; %llu pings answered\n", up.nic->name,
	       (ull)r->out, (ull)r->in, (ull)n->conns, nat_used(&router.nat),
	       (ull)n->expired, (ull)r->arp_requests, (ull)r->arp_replies,
	       (ull)r->echo_replies);
	printk("uhv: NAT via %s: dropped: %llu malformed, %llu protocol, %llu "
	       "fragment, %llu no_conn, %llu table_full, %llu unresolved, %llu "
	       "no_address, %llu no_route, %llu ttl, %llu not_routed, %llu "
	       "spoofed; %llu frames ignored\n", up.nic->name,
	       (ull)n->drops[NAT_DROP_MALFORMED], (ull)n->drops[NAT_DROP_PROTOCOL],
	       (ull)n->drops[NAT_DROP_FRAGMENT], (ull)n->drops[NAT_DROP_NO_CONN],
	       (ull)n->drops[NAT_DROP_TABLE_FULL], (ull)r->unresolved,
	       (ull)r->no_address, (ull)r->no_route, (ull)r->ttl_expired,
	       (ull)r->not_routed, (ull)r->spoofed, (ull)r->ignored);
	if (router.use_dhcp)
		printk("uhv: NAT via %s: DHCP client %llu discovers, %llu "
		       "offers, %llu requests, %llu acks, %llu naks, %llu "
		       "expired\n", up.nic->name, (ull)d->discovers,
		       (ull)d->offers, (ull)d->requests, (ull)d->acks,
		       (ull)d->naks, (ull)d->expired);
}

void uplink_summary(void)
{
	const struct bridge_port_stats *b;
	const struct netdev_stats *s;

	if (!up.nic)
		return;
	b = up.router ? NULL : bridge_port_stats(up.br, up.port);
	s = &up.nic->stats;
	printk("uhv: uplink %s: from the LAN %llu frames (%llu bytes), %llu "
	       "with errors; to the LAN %llu frames (%llu bytes), %llu refused "
	       "(ring full); %llu polls, %llu of them with more waiting, "
	       "longest gap between polls %llu us\n",
	       up.nic->name, (unsigned long long)s->rx_frames,
	       (unsigned long long)s->rx_bytes,
	       (unsigned long long)(s->rx_errors + s->rx_too_long),
	       (unsigned long long)s->tx_frames, (unsigned long long)s->tx_bytes,
	       (unsigned long long)s->tx_ring_full,
	       (unsigned long long)up.polls, (unsigned long long)up.full_polls,
	       (unsigned long long)(up.tsc_hz ? up.max_gap * US_PER_S / up.tsc_hz : 0));
	if (up.router)
		router_summary();
	else if (b)
		printk("uhv: uplink %s: the bridge took %llu frames from it and "
		       "delivered %llu to it\n", up.nic->name,
		       (unsigned long long)b->tx_frames,
		       (unsigned long long)b->rx_frames);
}
