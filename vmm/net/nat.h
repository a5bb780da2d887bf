/*
 * Network address and port translation (NAPT, RFC 3022 §2.2) for NAT
 * networks: the VMs of one bridge network share uhv's address on the
 * uplink. Packets from inside get uhv's outside address and a port of its
 * own as their source; answers to that port get the VM's address and port
 * back. TCP (RFC 5382), UDP (RFC 4787) and ICMP echo (RFC 5508: the
 * identifier plays the port) are translated, and ICMP errors from outside
 * have the packet they quote translated too (RFC 5508 §4.2). Port
 * forwards send an outside port to a VM's (ssh into a NATed VM).
 *
 * Pure C over IPv4 packets (no Ethernet header): the caller strips and
 * adds link headers and answers ARP. Bounded memory: a fixed table of
 * NAT_MAX_CONNS connections; checksums are updated incrementally (RFC
 * 1624), never recomputed. Time comes in as `now`, in ticks of hz.
 * Fragments other than the first are dropped (counted): their ports are
 * in the first.
 */
#ifndef UHV_VMM_NAT_H
#define UHV_VMM_NAT_H

#include "lib/types.h"

#define NAT_MAX_CONNS    256
#define NAT_MAX_FORWARDS 8
#define NAT_MAX_RELAYS   2         /* DNS over UDP and over TCP */
#define NAT_PORT_FIRST   49152     /* uhv's outside ports: the dynamic */
#define NAT_PORT_LAST    65535     /* range of RFC 6335 §6 */

/* Timeouts in seconds, as Linux conntrack's defaults (nf_conntrack_*). */
#define NAT_TCP_ESTABLISHED_S 432000
#define NAT_TCP_TRANSITORY_S  120  /* SYN sent, FIN wait, TIME_WAIT */
#define NAT_TCP_CLOSE_S       10   /* after an RST */
#define NAT_UDP_S             30   /* one way only so far */
#define NAT_UDP_STREAM_S      120  /* answered */
#define NAT_ICMP_S            30

/* IP protocol numbers (IANA). */
#define NAT_ICMP 1
#define NAT_TCP  6
#define NAT_UDP  17

enum nat_verdict {
	NAT_PASS,             /* translated in place: send it on */
	NAT_DROP_MALFORMED,   /* not a whole IPv4 packet, or bad header */
	NAT_DROP_PROTOCOL,    /* not TCP, UDP or ICMP echo/error */
	NAT_DROP_FRAGMENT,    /* a fragment other than the first */
	NAT_DROP_NO_CONN,     /* from outside, for no connection or forward */
	NAT_DROP_TABLE_FULL,  /* no room for a new connection */
	NAT_DROP_MAX
};

/* TCP's progress as the translator sees it (for its timeout). */
enum nat_tcp { NAT_TCP_OPENING, NAT_TCP_OPEN, NAT_TCP_CLOSING, NAT_TCP_RESET };

struct nat_conn {
	bool used;
	u8 proto;
	u8 tcp;                    /* enum nat_tcp */
	bool answered;             /* seen from outside too */
	u8 in_ip[4], rem_ip[4];    /* the VM; the far end */
	u8 seen_ip[4];             /* the far end as the VM addressed it:
				      rem_ip, or a relay's shown address */
	u16 in_port, rem_port, out_port;   /* ICMP: the echo id, 0, uhv's id */
	u64 last;                  /* the last packet, either way */
};

struct nat_forward {
	bool used;
	u8 proto;
	u16 out_port;
	u8 in_ip[4];
	u16 in_port;
};

/* A relay: what VMs send to shown:port goes to real:port, and the answers
   come back from shown (uhv's inside address as the VMs' DNS server,
   relayed to the resolver outside). */
struct nat_relay {
	bool used;
	u8 proto;
	u16 port;
	u8 shown[4], real[4];
};

struct nat_stats {
	u64 out, in;               /* packets translated each way */
	u64 conns, expired;        /* connections made, timed out */
	u64 drops[NAT_DROP_MAX];
};

struct nat {
	u8 out_ip[4];              /* uhv's address outside */
	u64 hz;
	u16 next_port;             /* where the search for a free port starts */
	struct nat_conn conn[NAT_MAX_CONNS];
	struct nat_forward fwd[NAT_MAX_FORWARDS];
	struct nat_relay relay[NAT_MAX_RELAYS];
	struct nat_stats stats;
};

/* An empty translator for outside address out_ip, clock at hz (> 0). */
void nat_init(struct nat *n, const u8 *out_ip, u64 hz);
/* A port forward: proto (NAT_TCP/NAT_UDP) to out_port goes to in_ip:in_port.
   0, or -1 if the table is full, the port is out of range or taken. */
int nat_forward(struct nat *n, u8 proto, u16 out_port, const u8 *in_ip,
		u16 in_port);

/* A relay (nat_relay above) for proto (NAT_TCP/NAT_UDP) and port; one
   already there for proto and port is replaced. 0, or -1 if the table is
   full or proto or port is bad. */
int nat_set_relay(struct nat *n, u8 proto, u16 port, const u8 *shown,
		  const u8 *real);
/* The outside address changed (a new DHCP lease): connections made with
   the old one are forgotten. */
void nat_set_outside(struct nat *n, const u8 *out_ip);

/* A packet from inside (pkt, len bytes, the IPv4 header first): its
   source becomes the outside address and port of its connection (made
   now if new), and its destination the real one if a relay matches.
   Rewritten in place when NAT_PASS. */
enum nat_verdict nat_outbound(struct nat *n, u8 *pkt, u32 len, u64 now);
/* A packet from outside to the outside address: its destination becomes
   the VM's of its connection or forward. Rewritten in place when
   NAT_PASS. */
enum nat_verdict nat_inbound(struct nat *n, u8 *pkt, u32 len, u64 now);

/* Forgets connections past their timeout; call about once a second. */
void nat_expire(struct nat *n, u64 now);
/* Connections in the table now. */
u32 nat_used(const struct nat *n);

/* A drop cause's name ("no_conn"); "?" if unknown. */
const char *nat_drop_name(enum nat_verdict v);

#endif
