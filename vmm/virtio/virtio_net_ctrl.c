/*
 * The virtio-net control queue and the receive filter it programs
 * (virtio 1.2 §5.1.6.5). A command is one chain:
 *
 *   device-readable:  u8 class | u8 command | command-specific data
 *   device-writable:  u8 ack   (VIRTIO_NET_OK or VIRTIO_NET_ERR)
 *
 * Served here: VIRTIO_NET_CTRL_RX (PROMISC, ALLMULTI with CTRL_RX;
 * ALLUNI, NOMULTI, NOUNI, NOBCAST with CTRL_RX_EXTRA; data: u8 on/off)
 * and VIRTIO_NET_CTRL_MAC (TABLE_SET with CTRL_RX, ADDR_SET with
 * CTRL_MAC_ADDR). MAC_TABLE_SET's data is two tables, unicast first:
 *
 *   | le32 entries | entries * u8 mac[6] | le32 entries | entries * mac[6] |
 *
 * Anything else, or data of the wrong size, is answered VIRTIO_NET_ERR
 * and logged; a chain with no room for the ack or no class and command
 * is malformed, and the device needs a reset (§2.1.2).
 */
#include "vmm/virtio/virtio_net.h"
#include "lib/fmt.h"

#define ETH_GROUP_BIT   0x01        /* I/G bit of the first octet */
#define CTRL_ON_SIZE    1           /* the u8 of a CTRL_RX command */

static const u8 broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* A command in hand: its data, and the answer's explanation if any. */
struct cmd {
	u8 cls, op;
	u32 len;                        /* data bytes after class, command */
	const char *why;                /* set when the answer is ERR */
};

void virtio_net_filter_reset(struct virtio_net *n)
{
	memset(&n->filter, 0, sizeof(n->filter));
	/* Until the driver programs a table (or when it cannot, without
	   CTRL_RX), every multicast frame is let through: IPv6 neighbour
	   discovery and the like must reach it. */
	n->filter.modes[VIRTIO_NET_CTRL_RX_ALLMULTI] = true;
}

static bool in_table(const u8 (*t)[ETH_ALEN], u32 nr, const u8 *mac)
{
	for (u32 i = 0; i < nr; i++)
		if (!memcmp(t[i], mac, ETH_ALEN))
			return true;
	return false;
}

bool virtio_net_filter_accepts(const struct virtio_net *n, const u8 *dst)
{
	const struct virtio_net_filter *f = &n->filter;

	if (f->modes[VIRTIO_NET_CTRL_RX_PROMISC])
		return true;
	if (!memcmp(dst, broadcast, ETH_ALEN))
		return !f->modes[VIRTIO_NET_CTRL_RX_NOBCAST];
	if (dst[0] & ETH_GROUP_BIT)
		return !f->modes[VIRTIO_NET_CTRL_RX_NOMULTI] &&
		       (f->modes[VIRTIO_NET_CTRL_RX_ALLMULTI] ||
			f->multi_overflow ||
			in_table(f->multi, f->nr_multi, dst));
	return !f->modes[VIRTIO_NET_CTRL_RX_NOUNI] &&
	       (f->modes[VIRTIO_NET_CTRL_RX_ALLUNI] || f->uni_overflow ||
		!memcmp(dst, n->mac, ETH_ALEN) ||
		in_table(f->uni, f->nr_uni, dst));
}

/* A receive mode on or off (§5.1.6.5.1): false with c->why if refused. */
static bool rx_mode(struct virtio_net *n, struct cmd *c, const u8 *data)
{
	unsigned need = c->op <= VIRTIO_NET_CTRL_RX_ALLMULTI ?
			VIRTIO_NET_F_CTRL_RX : VIRTIO_NET_F_CTRL_RX_EXTRA;

	if (c->op >= VIRTIO_NET_CTRL_RX_MODES)
		c->why = "unknown receive mode";
	else if (!virtio_net_has(n, need))
		c->why = "its feature was not negotiated";
	else if (c->len != CTRL_ON_SIZE)
		c->why = "data is not one byte";
	else
		n->filter.modes[c->op] = data[0] != 0;
	return !c->why;
}

/* One table of MAC_TABLE_SET at *at: its address count, then the
   addresses; more than the table holds sets overflow (then every frame
   of that kind passes, §5.1.6.5.2 allows a device to filter less). */
static bool mac_table(const u8 *data, u32 len, u32 *at, u8 (*t)[ETH_ALEN],
		      u32 *nr, bool *overflow)
{
	u32 entries;

	if (len - *at < VIRTIO_NET_CTRL_MAC_ENTRIES)
		return false;
	entries = le32_get(data + *at);
	*at += VIRTIO_NET_CTRL_MAC_ENTRIES;
	if (entries > (len - *at) / ETH_ALEN)
		return false;
	*overflow = entries > VIRTIO_NET_MAC_TABLE_MAX;
	*nr = *overflow ? 0 : entries;
	if (*nr)
		memcpy(t, data + *at, (size_t)*nr * ETH_ALEN);
	*at += entries * ETH_ALEN;
	return true;
}

/* VIRTIO_NET_CTRL_MAC (§5.1.6.5.2): the filter table or the address. */
static bool mac_cmd(struct virtio_net *n, struct cmd *c, const u8 *data)
{
	struct virtio_net_filter *f = &n->filter, old = n->filter;
	u32 at = 0;

	if (c->op == VIRTIO_NET_CTRL_MAC_ADDR_SET) {
		if (!virtio_net_has(n, VIRTIO_NET_F_CTRL_MAC_ADDR))
			c->why = "CTRL_MAC_ADDR was not negotiated";
		else if (c->len != ETH_ALEN || (data[0] & ETH_GROUP_BIT))
			c->why = "not one unicast address";
		else
			memcpy(n->mac, data, ETH_ALEN);
		return !c->why;
	}
	if (c->op != VIRTIO_NET_CTRL_MAC_TABLE_SET)
		c->why = "unknown MAC command";
	else if (!virtio_net_has(n, VIRTIO_NET_F_CTRL_RX))
		c->why = "CTRL_RX was not negotiated";
	else if (!mac_table(data, c->len, &at, f->uni, &f->nr_uni,
			    &f->uni_overflow) ||
		 !mac_table(data, c->len, &at, f->multi, &f->nr_multi,
			    &f->multi_overflow) || at != c->len) {
		*f = old;                    /* all or nothing */
		c->why = "tables do not fill the data exactly";
	}
	return !c->why;
}

/* Reads and carries out the command in chain ch; true: VIRTIO_NET_OK. */
static bool execute(struct virtio_net *n, struct virtq *vq,
		    const struct virtq_chain *ch, struct cmd *c)
{
	u8 *data = n->ctrl_data;
	u8 head[VIRTIO_NET_CTRL_HDR_SIZE];

	if (virtq_read(vq, ch, 0, head, sizeof(head)))
		return false;
	c->cls = head[0];
	c->op = head[1];
	c->len = ch->read_len - VIRTIO_NET_CTRL_HDR_SIZE;
	if (c->len > VIRTIO_NET_CTRL_DATA_MAX) {
		c->why = "data too long";
		return false;
	}
	if (virtq_read(vq, ch, VIRTIO_NET_CTRL_HDR_SIZE, data, c->len))
		return false;
	if (c->cls == VIRTIO_NET_CTRL_RX)
		return rx_mode(n, c, data);
	if (c->cls == VIRTIO_NET_CTRL_MAC)
		return mac_cmd(n, c, data);
	c->why = "unknown class";
	return false;
}

/* One control command: carried out, answered in the ack byte, pushed. */
static int command(void *ctx, struct virtq *vq)
{
	struct virtio_net *n = ctx;
	const struct virtq_chain *ch = &n->ctrl_chain;
	struct cmd c = { .why = NULL };
	u8 ack;
	int r;

	if (ch->read_len < VIRTIO_NET_CTRL_HDR_SIZE || !ch->write_len) {
		n->stats.drops[VIRTIO_NET_DROP_BAD_DESC]++;
		return virtq_fail(vq, VIRTQ_ERR_REQUEST, "control chain at "
				  "head %u has %u readable and %u writable "
				  "bytes", ch->head, ch->read_len, ch->write_len);
	}
	ack = execute(n, vq, ch, &c) ? VIRTIO_NET_OK : VIRTIO_NET_ERR;
	if (ack == VIRTIO_NET_OK) {
		n->stats.ctrl_ok++;
	} else {
		n->stats.ctrl_err++;
		virtio_net_log(n, "control command class %u command %u with "
			       "%u data bytes: %s; answered VIRTIO_NET_ERR",
			       c.cls, c.op, c.len, c.why ? c.why : "unreadable");
	}
	r = virtq_write(vq, ch, 0, &ack, sizeof(ack));
	return r ? r : virtq_push(vq, ch, sizeof(ack));
}

int virtio_net_ctrl_notify(struct virtio_net *n, struct virtq *vq)
{
	return virtq_drain(vq, &n->ctrl_chain, command, n);
}
