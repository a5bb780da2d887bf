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
#include "drivers/console.h"
#include "drivers/netdev.h"
#include "lib/string.h"

/* Broadcast, multicast and unknown unicast frames from the LAN into the
   network, a second, and the burst saved up: far above ARP and DHCP, and
   a bound on what a LAN storm costs each VM. */
#define UPLINK_FLOOD_RATE  1000
#define UPLINK_FLOOD_BURST 64
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
	u8 frame[NETDEV_FRAME_MAX];
} up;

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
   a port; false if there is no room. */
static bool attach(struct bridge *br, const char *network, struct netdev *d)
{
	int net = bridge_net_find(br, network);
	struct bridge_port_config cfg = {
		"uplink", NULL, &uplink_port, d, UPLINK_FLOOD_RATE,
		UPLINK_FLOOD_BURST,
	};

	if (net < 0)
		net = bridge_net_add(br, network);
	up.br = br;
	up.port = net < 0 ? -1 : bridge_attach(br, net, &cfg);
	return up.port >= 0;
}

void uplink_init(struct uhv *h, const struct uhv_config *c)
{
	struct netdev *d;

	up.pages = &h->pages;
	list_nics();
	if (!c->uplink[0])
		return;
	d = nic_named(c->uplink);
	if (!d) {
		printk("uhv: uplink %s: no such NIC; network %s stays host-only\n",
		       c->uplink, c->bridged_net);
		return;
	}
	if (!attach(&h->bridge, c->bridged_net, d)) {
		printk("uhv: uplink %s: no room on network %s; it stays "
		       "host-only\n", d->name, c->bridged_net);
		return;
	}
	d->promisc(d);
	up.nic = d;
	up.period = h->tsc_hz / US_PER_S * UPLINK_POLL_US;
	up.tsc_hz = h->tsc_hz;
	printk("uhv: network %s bridged to %s (link %s): its VMs are peers on "
	       "that LAN; polled every %u us\n", c->bridged_net, d->name,
	       d->link_up(d) ? "up" : "down", UPLINK_POLL_US);
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
		bridge_send(up.br, up.port, up.frame, len, now);
		n++;
	}
	if (n < UPLINK_RX_BUDGET)
		return now + up.period;
	up.full_polls++;
	return now;
}

void uplink_summary(void)
{
	const struct bridge_port_stats *b;
	const struct netdev_stats *s;

	if (!up.nic)
		return;
	b = bridge_port_stats(up.br, up.port);
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
	if (b)
		printk("uhv: uplink %s: the bridge took %llu frames from it and "
		       "delivered %llu to it\n", up.nic->name,
		       (unsigned long long)b->tx_frames,
		       (unsigned long long)b->rx_frames);
}
