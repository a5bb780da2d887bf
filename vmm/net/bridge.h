/*
 * uhv's internal Ethernet bridge: up to BRIDGE_MAX_NETS named networks,
 * each a learning switch (IEEE 802.1D-2004 §7) with up to
 * BRIDGE_MAX_PORTS ports. A port is a VM's NIC (virtio-net) or, later,
 * uhv's own address on that network. Networks share nothing: a VM on
 * one can neither reach another nor fill its MAC table (host-only).
 *
 * Pure C with bounded memory: everything lives in struct bridge, which
 * the caller allocates (uhv: statically). No hardware, no clock: time
 * comes in as `now`, in ticks of the rate given to bridge_init (uhv: the
 * TSC; tests: 1 Hz). Frames are plain Ethernet frames without FCS, as
 * virtio-net carries them once the virtio_net_hdr is stripped.
 *
 * Counters are from the port's (the NIC's) point of view, as a guest's
 * `ip -s link` shows them: tx is what the port sent into the bridge, rx
 * is what the bridge delivered to it.
 *
 * Not reentrant: a deliver() or capture() callback must not call back
 * into the bridge (queue a reply and send it afterwards).
 */
#ifndef UHV_VMM_BRIDGE_H
#define UHV_VMM_BRIDGE_H

#include "lib/types.h"
#include "lib/name.h"

#define BRIDGE_MAX_NETS   8
#define BRIDGE_MAX_PORTS  16     /* per network */
#define BRIDGE_FDB_SIZE   256    /* MAC table entries per network */
#define BRIDGE_FDB_BUCKETS 256   /* hash chains per network, a power of 2 */
#define BRIDGE_NAME_MAX   UHV_NAME_MAX   /* network and port names, with the NUL */

/* Frame sizes without FCS (IEEE 802.3-2018 §3.1.1, §3.5, §4.4.2). */
#define ETH_ALEN          6      /* octets in a MAC address */
#define ETH_HLEN          14     /* destination, source, length/type */
#define ETH_FRAME_MAX     1514   /* maxBasicFrameSize 1518 less the FCS */
#define ETH_VLAN_TAG_LEN  4      /* an 802.1Q tag may follow the source */
#define BRIDGE_FRAME_MAX  (ETH_FRAME_MAX + ETH_VLAN_TAG_LEN)

/* 802.1D-2004 Table 7-5: ageing time range and recommended default. */
#define BRIDGE_AGEING_DEFAULT_S 300
#define BRIDGE_AGEING_MIN_S     10
#define BRIDGE_AGEING_MAX_S     1000000

/* The fastest clock bridge_init takes, so that ageing (up to 10^6 s) and
   the flood bucket (burst * hz) stay inside 64 bits. */
#define BRIDGE_MAX_HZ     1000000000000ULL     /* 1 THz */
#define BRIDGE_MAX_BURST  65535                /* flood bucket depth */

/* Why a frame was dropped; counted per port and per network. */
enum bridge_drop {
	BRIDGE_DROP_RUNT,           /* shorter than an Ethernet header */
	BRIDGE_DROP_OVERSIZE,       /* longer than 1514 (1518 if tagged) */
	BRIDGE_DROP_BAD_SOURCE,     /* group or all-zero source address */
	BRIDGE_DROP_SPOOFED,        /* source is another port's own MAC */
	BRIDGE_DROP_FLOOD_LIMITED,  /* the sender's flood bucket was empty */
	BRIDGE_DROP_RX_NO_BUFFER,   /* the receiving port had no buffer */
	BRIDGE_DROP_BAD_CSUM,       /* checksum request outside the frame */
	BRIDGE_DROP_MAX
};

struct bridge_port_stats {
	u64 tx_frames, tx_bytes;    /* accepted from this port */
	u64 rx_frames, rx_bytes;    /* delivered to this port */
	u64 rx_filtered;            /* refused by its receive filter */
	u64 csum_completed;         /* checksums finished for it in software */
	u64 drops[BRIDGE_DROP_MAX]; /* rx_no_buffer as receiver, the rest
				       as sender */
};

struct bridge_net_stats {
	u64 frames, bytes;          /* accepted (each also captured) */
	u64 forwarded;              /* unicast to the one port that has it */
	u64 flooded;                /* to every other port */
	u64 filtered;               /* destination is on the sending port */
	u64 reserved;               /* to an 802.1D reserved address: kept */
	u64 learned, moved, aged, evicted;   /* MAC table events */
	u64 drops[BRIDGE_DROP_MAX]; /* the sum over its ports */
};

/*
 * A checksum the sender left for the network to finish (virtio 1.2
 * §5.1.6.2, VIRTIO_NET_HDR_F_NEEDS_CSUM): the 16 bits at start + offset
 * hold the pseudo-header sum; the Internet checksum (RFC 1071) of the
 * bytes from start to the frame's end goes there. The bridge passes it
 * to ports that take it (receive) and finishes it for the others and
 * for the capture hook.
 *
 *   frame:  | Ethernet | IP | ... start v            offset v       |
 *                              [ summed from start ... [csum16] ... end)
 */
struct bridge_csum {
	u16 start, offset;
};

/* What a port's receive did with a frame. */
enum bridge_rx {
	BRIDGE_RX_OK,               /* delivered */
	BRIDGE_RX_NO_BUFFER,        /* no room: dropped, counted */
	BRIDGE_RX_FILTERED,         /* not for this port's address filter */
};

/* How the bridge hands a frame to a port: receive if set, else deliver. */
struct bridge_port_ops {
	/* Copies frame into the port's receive queue (virtio-net: the
	   guest's RX buffers). False if there is no room: the frame is
	   dropped and counted, never retried. Must not block. */
	bool (*deliver)(void *ctx, const u8 *frame, u32 len);
	/* As deliver, for a port that filters by destination and takes an
	   unfinished checksum (csum; NULL: the frame is complete). A
	   virtio-net NIC: bridge_rx says what happened. May be NULL. */
	enum bridge_rx (*receive)(void *ctx, const u8 *frame, u32 len,
				  const struct bridge_csum *csum);
};

struct bridge_ops {
	/* Every frame accepted on network `network`, before delivery, with
	   the `now` it was sent at (for pcap). May be NULL. */
	void (*capture)(void *ctx, int network, const u8 *frame, u32 len,
			u64 now);
};

struct bridge_port_config {
	const char *name;           /* for dumps (rules as for nets) */
	const u8 *mac;              /* the NIC's own address; NULL: none */
	const struct bridge_port_ops *ops;      /* required, with deliver */
	void *ctx;
	u32 flood_rate;             /* flooded frames per second; 0: no limit */
	u32 flood_burst;            /* bucket depth, 1..BRIDGE_MAX_BURST */
};

/* One filtering database entry (802.1D §7.9): a station and its port. */
struct bridge_fdb_entry {
	u64 mac;                    /* 48 bits, first octet most significant */
	u64 seen;                   /* when it last sent (dynamic entries) */
	u16 next;                   /* next in its chain or the free list */
	u8 port;                    /* slot in the network */
	bool is_static;             /* a port's own MAC: never ages or moves */
	bool used;
};

struct bridge_port {
	bool used;
	char name[BRIDGE_NAME_MAX];
	const struct bridge_port_ops *ops;
	void *ctx;
	u32 flood_rate, flood_burst;
	u64 flood_level;            /* tokens, in units of 1/hz of a frame */
	u64 flood_refilled;         /* when the bucket was last topped up */
	struct bridge_port_stats stats;
};

struct bridge_net {
	bool used;
	char name[BRIDGE_NAME_MAX];
	struct bridge_port ports[BRIDGE_MAX_PORTS];
	struct bridge_fdb_entry fdb[BRIDGE_FDB_SIZE];
	u16 bucket[BRIDGE_FDB_BUCKETS];   /* first entry of each chain */
	u16 fdb_free;               /* first unused entry */
	u16 fdb_used;
	struct bridge_net_stats stats;
};

struct bridge {
	const struct bridge_ops *ops;
	void *ctx;
	u64 hz;
	u64 ageing;                 /* in ticks */
	struct bridge_net nets[BRIDGE_MAX_NETS];
	u8 done[BRIDGE_FRAME_MAX];  /* the frame in hand, checksum finished */
};

/* Port ids name a network and a slot in it. */
#define BRIDGE_PORT_ID(net, slot) ((net) * BRIDGE_MAX_PORTS + (slot))
#define BRIDGE_PORT_NET(port)     ((port) / BRIDGE_MAX_PORTS)

/* An empty bridge whose clock runs at hz (1..BRIDGE_MAX_HZ); ops may be
   NULL. Ageing time 300 s. -1 if hz is out of range. */
int bridge_init(struct bridge *b, const struct bridge_ops *ops, void *ctx,
		u64 hz);
/* Sets the ageing time (BRIDGE_AGEING_MIN_S..MAX_S); -1 if outside. */
int bridge_set_ageing(struct bridge *b, u64 seconds);

/* Adds network `name` (1-15 of A-Z a-z 0-9 - _); its index, or -1 if
   the name is bad or taken or all networks are in use. */
int bridge_net_add(struct bridge *b, const char *name);
/* The index of network `name`, or -1. */
int bridge_net_find(const struct bridge *b, const char *name);

/* Attaches a port to network net; its port id, or -1 if net is not in
   use, the network is full, cfg is incomplete or has a bad name, or
   cfg->mac is a group address or already another port's on that
   network. A station learned with cfg->mac moves to the new port. */
int bridge_attach(struct bridge *b, int net,
		  const struct bridge_port_config *cfg);
/* Detaches a port and forgets the stations learned on it. */
void bridge_detach(struct bridge *b, int port);

/*
 * A frame sent by port (a guest's transmission) at time now. Checks it,
 * learns its source, and delivers it to the port that has its
 * destination, or floods it to every other port of the network. The
 * number of ports it was delivered to, or -1 if it was dropped on entry
 * (bad port id, runt, oversize, bad source, spoofed, flood limited).
 */
int bridge_send(struct bridge *b, int port, const u8 *frame, u32 len, u64 now);
/* As bridge_send, for a frame whose checksum is unfinished (csum, or
   NULL); a csum outside the frame is dropped (BRIDGE_DROP_BAD_CSUM). */
int bridge_send_csum(struct bridge *b, int port, const u8 *frame, u32 len,
		     const struct bridge_csum *csum, u64 now);

/* Forgets stations not heard from for the ageing time. Call it about
   once a second; lookups ignore stale entries even between calls. */
void bridge_tick(struct bridge *b, u64 now);

/* The port id that station mac is known on in network net, or -1. */
int bridge_lookup(const struct bridge *b, int net, const u8 *mac, u64 now);
/* Counters, or NULL for a port or network not in use. */
const struct bridge_port_stats *bridge_port_stats(const struct bridge *b,
						  int port);
const struct bridge_net_stats *bridge_net_stats(const struct bridge *b,
						int net);

/* A drop cause's name ("spoofed"); "?" if unknown. */
const char *bridge_drop_name(enum bridge_drop d);

#endif
