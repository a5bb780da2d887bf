/*
 * A VM's virtio-net NICs, each a port of uhv's learning bridge on the
 * network the config names (host-only: networks never see each other).
 * A frame the guest transmits goes to bridge_send; the bridge delivers it
 * into the receiving NIC's posted buffers (virtio_net_receive), one copy
 * from the sender's memory into the receiver's.
 */
#include "vmm/vmm.h"
#include "arch/x86/cpu.h"
#include "drivers/console.h"
#include "lib/fmt.h"
#include "vmm/vm_virtio.h"
#include "vmm/vm_nics.h"

#define NIC_FIRST_SLOT (1 + CFG_MAX_DISKS)   /* after the disks' slots */
#define UHV_OUI0 0x02                         /* locally administered */
#define UHV_OUI1 0x75                         /* 'u' 'h' 'v' */
#define UHV_OUI2 0x68
#define UHV_OUI3 0x76
#define NIC_LINE 240                          /* a summary line's text */
#define DHCP_LEASE_S    3600                 /* uhv's DHCP leases */

/* The first frame the bridge refused from this NIC for each cause
   (spoofed source, flood limit...), logged with the VM's name; the next
   ones are only counted (the summary, bridge_dump). */
static void log_bridge_drop(struct vm_nic *n)
{
	const struct bridge_port_stats *s = bridge_port_stats(n->bridge, n->port);

	for (u32 c = 0; s && c < BRIDGE_DROP_MAX; c++)
		if (c != BRIDGE_DROP_RX_NO_BUFFER && s->drops[c] &&
		    !(n->drops_logged & BIT(c))) {
			n->drops_logged |= (u32)BIT(c);
			printk("uhv: vm %s: virtio-net: the bridge dropped a "
			       "frame it sent on network %s: %s; the next ones "
			       "are only counted\n", n->vm->name,
			       n->cfg->network, bridge_drop_name(c));
		}
}

static int nic_send(void *ctx, const u8 *frame, u32 len,
		    const struct bridge_csum *csum)
{
	struct vm_nic *n = ctx;
	int r = bridge_send_csum(n->bridge, n->port, frame, len, csum, rdtsc());

	if (r < 0)
		log_bridge_drop(n);
	if (n->host && n->host->queued)      /* uhv's answers (ARP, ping) */
		netif_flush(n->host, rdtsc());
	return r;
}

static const struct net_backend_ops nic_backend = { nic_send };
static const struct bridge_port_ops nic_port = { .receive = virtio_net_rx };

/* The network named name, created on first use. */
static int network(struct bridge *b, const char *name)
{
	int net = bridge_net_find(b, name);

	return net >= 0 ? net : bridge_net_add(b, name);
}

static int add_nic(struct uhv *h, struct vm *vm, int i)
{
	struct vm_nic *n = &vm->nics[i];
	const u8 made_up[ETH_ALEN] = { UHV_OUI0, UHV_OUI1, UHV_OUI2, UHV_OUI3,
				       (u8)vm->id, (u8)i };
	struct bridge_port_config port = { vm->name, n->mac, &nic_port, &n->net,
					   0, 0 };
	int net;

	/* Each NIC's flood limit (config: flood =, bridge.h): broadcast,
	   multicast and unknown unicast frames it may send a second, and
	   the burst it may save up. A guest that broadcasts in a loop
	   reaches each neighbour's receive queue with at most that many
	   frames a second and is logged once (log_bridge_drop). */
	config_flood_limit(&h->bi->config, vm->cfg->nets[i].network,
			   &port.flood_rate, &port.flood_burst);
	n->vm = vm;
	n->cfg = &vm->cfg->nets[i];
	n->port = -1;                        /* not on the bridge (yet) */
	n->bridge = &h->bridge;
	n->host = h->host_if.br ? &h->host_if : NULL;
	memcpy(n->mac, n->cfg->has_mac ? n->cfg->mac : made_up, ETH_ALEN);
	net = network(&h->bridge, n->cfg->network);
	if (net < 0 || (n->port = bridge_attach(&h->bridge, net, &port)) < 0) {
		vm_stop(vm, VM_ERROR, "net %s: no room on the bridge (at most %d "
			"networks of %d ports)", n->cfg->network, BRIDGE_MAX_NETS,
			BRIDGE_MAX_PORTS);
		return -1;
	}
	if (virtio_net_init(&n->net, n->mac, &nic_backend, n) ||
	    vm_virtio_add(vm, &n->dev, NIC_FIRST_SLOT + (unsigned)i, &n->net.ops,
			  &n->net, "virtio-net"))
		return -1;
	virtio_net_attach(&n->net, &n->dev.vp);
	printk("uhv: vm %s: NIC %02x:%02x:%02x:%02x:%02x:%02x on network %s, "
	       "virtio-net at 00:%02x.0\n", vm->name, n->mac[0], n->mac[1],
	       n->mac[2], n->mac[3], n->mac[4], n->mac[5], n->cfg->network,
	       NIC_FIRST_SLOT + i);
	return 0;
}

int vm_add_nics(struct uhv *h, struct vm *vm)
{
	for (int i = 0; i < vm->cfg->nr_nets; i++)
		if (add_nic(h, vm, i))
			return -1;
	return 0;
}

typedef unsigned long long ull;

/* One NIC's drops, device and bridge causes together: "drops runt 2,
   spoofed 1" or "drops none". */
static void nic_drops(const struct vm_nic *n, char *buf, u32 size)
{
	const struct bridge_port_stats *b = bridge_port_stats(n->bridge, n->port);
	u32 len = (u32)fmt_sn(buf, size, "drops");
	const char *sep = " ";

	for (u32 c = 0; c < VIRTIO_NET_DROP_MAX && len < size; c++)
		if (n->net.stats.drops[c]) {
			len += (u32)fmt_sn(buf + len, size - len, "%s%s %llu", sep,
					   virtio_net_drop_name(c),
					   (ull)n->net.stats.drops[c]);
			sep = ", ";
		}
	for (u32 c = 0; b && c < BRIDGE_DROP_MAX && len < size; c++)
		if (b->drops[c]) {
			len += (u32)fmt_sn(buf + len, size - len, "%sbridge %s %llu",
					   sep, bridge_drop_name(c), (ull)b->drops[c]);
			sep = ", ";
		}
	if (*sep == ' ' && len < size)
		fmt_sn(buf + len, size - len, " none");
}

void vm_nics_summary(const struct vm *vm)
{
	char text[NIC_LINE];

	for (int i = 0; i < vm->cfg->nr_nets && vm->nics[i].vm; i++) {
		const struct vm_nic *n = &vm->nics[i];
		const struct virtio_net_stats *s = &n->net.stats;

		virtio_net_features(&n->net, text, sizeof(text));
		printk("uhv:   nic %s %02x:%02x:%02x:%02x:%02x:%02x: features %s\n",
		       n->cfg->network, n->mac[0], n->mac[1], n->mac[2], n->mac[3],
		       n->mac[4], n->mac[5], text[0] ? text : "none");
		printk("uhv:   nic %s: tx %llu frames %llu bytes (%llu with csum "
		       "left to us), rx %llu frames %llu bytes (%llu merged, %llu "
		       "csum passed on, %llu csum finished), ctrl %llu ok %llu "
		       "err\n", n->cfg->network, (ull)s->tx_frames,
		       (ull)s->tx_bytes, (ull)s->tx_csum_partial, (ull)s->rx_frames,
		       (ull)s->rx_bytes, (ull)s->rx_merged, (ull)s->rx_csum_partial,
		       (ull)s->rx_csum_finished, (ull)s->ctrl_ok, (ull)s->ctrl_err);
		printk("uhv:   nic %s: %llu notifications, %llu transmit bursts "
		       "sent at a later exit, %llu interrupts\n", n->cfg->network,
		       (ull)n->dev.vp.notifies, (ull)n->dev.vp.deferred_runs,
		       (ull)n->dev.vp.interrupts);
		nic_drops(n, text, sizeof(text));
		printk("uhv:   nic %s: %s\n", n->cfg->network, text);
	}
}

/* uhv's own address on a network (config: host = NETWORK:IP). */
static u64 tsc_now(void)
{
	return rdtsc();
}

/* uhv's DHCP server on its host address: the config's pool, in the /24
   of that address, leases of DHCP_LEASE_S. */
static int host_dhcp_init(struct uhv *h, const struct uhv_config *c)
{
	static const u8 mask24[IPV4_ALEN] = { 255, 255, 255, 0 };
	const u8 *f = c->dhcp_first;

	if (dhcp_server_init(&h->dhcp, c->host_ip, mask24, f, c->dhcp_count,
			     DHCP_LEASE_S, h->tsc_hz))
		return -1;
	netif_serve_dhcp(&h->host_if, &h->dhcp, tsc_now);
	/* on a NAT network uhv is the gateway and the DNS server (relayed) */
	h->dhcp.gateway = !strcmp(c->host_net, c->nat_net);
	printk("uhv: DHCP server on network %s: %u address(es) from "
	       "%u.%u.%u.%u, /24, leases of %u s%s\n", c->host_net,
	       c->dhcp_count, f[0], f[1], f[2], f[3], DHCP_LEASE_S,
	       h->dhcp.gateway ? "; router and DNS: uhv" : "");
	return 0;
}

int host_if_init(struct uhv *h, const struct uhv_config *c)
{
	const u8 mac[ETH_ALEN] = { UHV_OUI0, UHV_OUI1, UHV_OUI2, UHV_OUI3, 0xff, 0 };
	int net;

	if (!c->host_net[0])
		return 0;
	net = network(&h->bridge, c->host_net);
	if (net < 0 || netif_attach(&h->host_if, &h->bridge, net, mac, c->host_ip))
		return -1;
	printk("uhv: address %u.%u.%u.%u on network %s (answers ARP and ping)\n",
	       c->host_ip[0], c->host_ip[1], c->host_ip[2], c->host_ip[3],
	       c->host_net);
	return c->dhcp_count ? host_dhcp_init(h, c) : 0;
}

void host_if_summary(const struct uhv *h, const struct uhv_config *c)
{
	const struct netif *n = &h->host_if;
	const struct dhcp_stats *d = &h->dhcp.stats;
	u8 ip[IPV4_ALEN];

	if (!c->host_net[0] || !n->br)
		return;
	printk("uhv: address on %s: %llu ARP and %llu echo replies, %llu "
	       "frames ignored\n", c->host_net,
	       (unsigned long long)n->arp_replies,
	       (unsigned long long)n->echo_replies,
	       (unsigned long long)n->ignored);
	if (!n->dhcp)
		return;
	printk("uhv: DHCP on %s: %llu discovers, %llu offers, %llu requests, "
	       "%llu acks, %llu naks, %llu releases, %llu declines, %llu "
	       "malformed, pool full %llu times\n", c->host_net,
	       (unsigned long long)d->discovers, (unsigned long long)d->offers,
	       (unsigned long long)d->requests, (unsigned long long)d->acks,
	       (unsigned long long)d->naks, (unsigned long long)d->releases,
	       (unsigned long long)d->declines, (unsigned long long)d->malformed,
	       (unsigned long long)d->pool_full);
	for (int v = 0; v < h->nr_vms; v++)
		for (int i = 0; h->vms[v].built && i < h->vms[v].cfg->nr_nets; i++)
			if (dhcp_server_lease_of(&h->dhcp, h->vms[v].nics[i].mac,
						 ip, rdtsc()))
				printk("uhv:   lease: vm %s NIC %d: %u.%u.%u.%u\n",
				       h->vms[v].name, i, ip[0], ip[1], ip[2], ip[3]);
}

/* Takes the VM's NICs off the bridge (vm_teardown): the stations learned
   on their ports are forgotten, so no frame reaches a torn-down VM. */
void vm_remove_nics(struct uhv *h, struct vm *vm)
{
	for (int i = 0; i < vm->cfg->nr_nets; i++) {
		struct vm_nic *n = &vm->nics[i];

		if (n->bridge && n->port >= 0)
			bridge_detach(&h->bridge, n->port);
		n->bridge = NULL;
	}
}
