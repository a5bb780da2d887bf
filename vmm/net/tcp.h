/*
 * uhv's own TCP (RFC 9293) on one of its addresses: the transport for
 * management and metrics over the network (docs/networking.md). A
 * handful of connections, passive (a listening port) or active, each
 * with bounded receive and send buffers: data in order only (a segment
 * that is not the next expected is dropped and re-ACKed: the peer
 * retransmits), the receive window advertised from the buffer's room, the
 * send side limited by the peer's window and MSS, retransmission of the
 * oldest unacknowledged segment with exponential backoff (RFC 6298:
 * RTO from 1 s, doubled each time, up to TCP_RTO_MAX_S, the connection
 * reset after TCP_RETRIES), half-close (FIN each way on its own), RST
 * sent and taken (RFC 5961's in-window check), keepalive probes on an
 * idle established connection, TIME_WAIT of 2 MSL.
 *
 * Pure C over TCP segments (the TCP header and data; the caller strips
 * and adds IPv4 and link headers): ops->send gets each segment with its
 * checksum over the pseudo-header done. Bounded memory; time comes in as
 * `now`, in ticks of hz. No options but MSS are sent; the peer's MSS
 * option is read, the rest ignored. Not reentrant.
 */
#ifndef UHV_VMM_TCP_H
#define UHV_VMM_TCP_H

#include "lib/types.h"
#include "lib/bytering.h"

#define TCP_MAX_CONNS     8
#define TCP_MAX_LISTEN    4
#define TCP_RX_BUF        4096     /* a power of two (bytering) */
#define TCP_TX_BUF        8192
#define TCP_MSS           1460     /* ours: Ethernet MTU less 40 */
#define TCP_MSS_DEFAULT   536      /* the peer's without the option */
#define TCP_HLEN          20
#define TCP_SEG_MAX       (TCP_HLEN + 4 + TCP_MSS)   /* with our MSS option */
#define TCP_RTO_S         1        /* RFC 6298 §2.1 */
#define TCP_RTO_MAX_S     60
#define TCP_RETRIES       8        /* then the connection is reset */
#define TCP_MSL_S         30       /* TIME_WAIT is 2 MSL */
#define TCP_KEEPALIVE_S   120      /* idle before the first probe */
#define TCP_KEEPALIVE_INTVL_S 10
#define TCP_KEEPALIVE_PROBES  5

enum tcp_state {
	TCP_CLOSED, TCP_SYN_SENT, TCP_SYN_RCVD, TCP_ESTABLISHED,
	TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, TCP_CLOSE_WAIT, TCP_CLOSING,
	TCP_LAST_ACK, TCP_TIME_WAIT,
};

struct tcp_conn {
	u8 state;                  /* enum tcp_state */
	bool accepted;             /* handed to the user (tcp_accept) */
	bool released;             /* the user let go (tcp_close, tcp_abort) */
	bool fin_queued;           /* the user closed: FIN after the data */
	bool fin_sent, fin_rcvd;
	bool reset;                /* ended by RST or too many retries */
	u8 rip[4];
	u16 lport, rport;
	u32 iss, snd_una, snd_nxt, snd_wnd;
	u32 irs, rcv_nxt;
	u16 peer_mss;
	u32 rto;                   /* in ticks */
	u8 retries, probes;
	u64 deadline;              /* retransmit, keepalive or TIME_WAIT end */
	u64 heard;                 /* the peer's last segment */
	struct bytering rx, tx;
	u8 rx_buf[TCP_RX_BUF], tx_buf[TCP_TX_BUF];
};

struct tcp_stats {
	u64 segs_in, segs_out, retransmits, resets_in, resets_out;
	u64 bad_csum, malformed, out_of_order, no_conn, accepted, refused;
};

struct tcp_ops {
	/* Sends seg (len bytes: TCP header, options, data) to ip. */
	void (*send)(void *ctx, const u8 *ip, const u8 *seg, u32 len);
};

struct tcp {
	u8 ip[4];                  /* ours: the pseudo-header's source */
	u64 hz;
	u32 isn;                   /* the next initial sequence number */
	u16 next_port;             /* for active opens */
	u16 listen[TCP_MAX_LISTEN];
	const struct tcp_ops *ops;
	void *ctx;
	struct tcp_conn conn[TCP_MAX_CONNS];
	struct tcp_stats stats;
	u8 seg[TCP_SEG_MAX];
};

/* A TCP for address ip, clock hz; isn seeds the initial sequence
   numbers (RFC 6528 wants them unpredictable: give it the TSC). */
void tcp_init(struct tcp *t, const u8 *ip, u64 hz, u32 isn,
	      const struct tcp_ops *ops, void *ctx);
/* Accepts connections to port from now on; 0, or -1 if full or taken. */
int tcp_listen(struct tcp *t, u16 port);
/* Opens a connection to ip:port; its id, or -1 if none is free. */
int tcp_connect(struct tcp *t, const u8 *ip, u16 port, u64 now);

/* Whether a segment from src:sport to our dport is ours: a listening
   port, or one of our connections (else a router may forward it). */
bool tcp_wants(const struct tcp *t, const u8 *src, u16 sport, u16 dport);
/* Our address changed (a new DHCP lease): every connection ends. */
void tcp_set_ip(struct tcp *t, const u8 *ip);
/* A segment from src (seg: TCP header and data, len bytes, to our ip);
   the checksum is checked here. */
void tcp_input(struct tcp *t, const u8 *src, const u8 *seg, u32 len, u64 now);
/* Retransmissions, keepalives, TIME_WAIT; call every few ms. */
void tcp_tick(struct tcp *t, u64 now);

/* A connection established on a listening port not yet handed out: its
   id, or -1. */
int tcp_accept(struct tcp *t);
/* Up to len received bytes of connection id into buf; how many. */
u32 tcp_read(struct tcp *t, int id, u8 *buf, u32 len, u64 now);
/* Queues up to len bytes to send (what fits the send buffer); how many. */
u32 tcp_write(struct tcp *t, int id, const u8 *buf, u32 len, u64 now);
/* No more data from us: FIN once the queued data is out. */
void tcp_close(struct tcp *t, int id, u64 now);
/* Ends connection id at once with an RST. */
void tcp_abort(struct tcp *t, int id);
/* Whether the peer sent all it will (FIN) and all of it was read. */
bool tcp_eof(const struct tcp *t, int id);
/* The connection's state (TCP_CLOSED for a free or ended one). */
enum tcp_state tcp_state(const struct tcp *t, int id);

#endif
