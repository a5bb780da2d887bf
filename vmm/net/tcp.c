/*
 * uhv's TCP (vmm/net/tcp.h). The state machine is RFC 9293 §3.3.2's
 * (Figure 5); segment arrival follows §3.10.7 in a reduced form: in-order
 * data only, no urgent data, no SACK or window scaling.
 */
#include "vmm/net/tcp.h"
#include "vmm/net/inet_csum.h"
#include "lib/string.h"
#include "lib/bytes.h"

/* RFC 9293 §3.1: the header's fields. */
#define SPORT    0
#define DPORT    2
#define SEQ      4
#define ACK_NO   8
#define OFFSET   12                /* data offset, in words, high nibble */
#define FLAGS    13
#define WINDOW   14
#define CSUM     16
#define OFF_SHIFT 4
#define WORD     4
#define FIN      0x01
#define SYN      0x02
#define RST      0x04
#define PSH      0x08
#define ACK      0x10
#define OPT_END  0
#define OPT_NOP  1
#define OPT_MSS  2                 /* kind 2, length 4, the MSS */
#define OPT_MSS_LEN 4
#define PROTO_TCP 6
#define WINDOW_MAX 65535
#define PORT_FIRST 49152           /* active opens: the dynamic range */

/* Sequence numbers compare modulo 2^32 (§3.4). */
static bool lt(u32 a, u32 b) { return (int32_t)(a - b) < 0; }
static bool le(u32 a, u32 b) { return (int32_t)(a - b) <= 0; }

void tcp_init(struct tcp *t, const u8 *ip, u64 hz, u32 isn,
	      const struct tcp_ops *ops, void *ctx)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->ip, ip, 4);
	t->hz = hz;
	t->isn = isn;
	t->ops = ops;
	t->ctx = ctx;
	t->next_port = PORT_FIRST;
	for (int i = 0; i < TCP_MAX_CONNS; i++) {   /* empty, never NULL */
		bytering_init(&t->conn[i].rx, t->conn[i].rx_buf, TCP_RX_BUF);
		bytering_init(&t->conn[i].tx, t->conn[i].tx_buf, TCP_TX_BUF);
	}
}

int tcp_listen(struct tcp *t, u16 port)
{
	int free = -1;

	for (int i = 0; i < TCP_MAX_LISTEN; i++) {
		if (t->listen[i] == port)
			return -1;
		if (!t->listen[i] && free < 0)
			free = i;
	}
	if (!port || free < 0)
		return -1;
	t->listen[free] = port;
	return 0;
}

static const struct tcp_conn *find_const(const struct tcp *t, const u8 *ip,
					 u16 lport, u16 rport)
{
	for (int i = 0; i < TCP_MAX_CONNS; i++) {
		const struct tcp_conn *c = &t->conn[i];

		if (c->state != TCP_CLOSED && c->lport == lport &&
		    c->rport == rport && !memcmp(c->rip, ip, 4))
			return c;
	}
	return NULL;
}

static bool listening(const struct tcp *t, u16 port);

bool tcp_wants(const struct tcp *t, const u8 *src, u16 sport, u16 dport)
{
	return listening(t, dport) || find_const(t, src, dport, sport);
}

void tcp_set_ip(struct tcp *t, const u8 *ip)
{
	if (!memcmp(t->ip, ip, 4))
		return;
	memcpy(t->ip, ip, 4);
	for (int i = 0; i < TCP_MAX_CONNS; i++)
		if (t->conn[i].state != TCP_CLOSED) {
			t->conn[i].state = TCP_CLOSED;
			t->conn[i].reset = true;
		}
}

static bool listening(const struct tcp *t, u16 port)
{
	for (int i = 0; i < TCP_MAX_LISTEN; i++)
		if (port && t->listen[i] == port)
			return true;
	return false;
}

/* ---- sending ---- */

/* Sends a segment of c: flags, sequence seq, len data bytes from the
   send buffer at offset off (and our MSS option on a SYN). */
static void emit(struct tcp *t, struct tcp_conn *c, u8 flags, u32 seq,
		 u32 off, u32 len)
{
	u32 hlen = TCP_HLEN + (flags & SYN ? OPT_MSS_LEN : 0), got = 0, room;
	u8 *s = t->seg, pseudo[12];
	const u8 *p;

	memset(s, 0, hlen);
	be16_put(s + SPORT, c->lport);
	be16_put(s + DPORT, c->rport);
	be32_put(s + SEQ, seq);
	be32_put(s + ACK_NO, flags & ACK ? c->rcv_nxt : 0);
	s[OFFSET] = (u8)(hlen / WORD << OFF_SHIFT);
	s[FLAGS] = flags;
	room = bytering_room(&c->rx);
	be16_put(s + WINDOW, (u16)MIN(room, (u32)WINDOW_MAX));
	if (flags & SYN) {
		s[TCP_HLEN] = OPT_MSS;
		s[TCP_HLEN + 1] = OPT_MSS_LEN;
		be16_put(s + TCP_HLEN + 2, TCP_MSS);
	}
	while (got < len) {           /* the ring may hold it in two pieces */
		u32 n = MIN(bytering_peek_at(&c->tx, off + got, &p), len - got);

		memcpy(s + hlen + got, p, n);
		got += n;
	}
	memcpy(pseudo, t->ip, 4);
	memcpy(pseudo + 4, c->rip, 4);
	pseudo[8] = 0;
	pseudo[9] = PROTO_TCP;
	be16_put(pseudo + 10, (u16)(hlen + len));
	be16_put(s + CSUM, inet_fold(inet_sum(s, hlen + len,
					      inet_sum(pseudo, 12, 0))));
	t->stats.segs_out++;
	t->ops->send(t->ctx, c->rip, s, hlen + len);
}

/* Data bytes sent and not yet acknowledged (SYN and FIN not counted). */
static u32 in_flight(const struct tcp_conn *c)
{
	u32 n = c->snd_nxt - c->snd_una;

	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RCVD)
		return 0;
	return n - (c->fin_sent ? 1 : 0);
}

static void arm(struct tcp *t, struct tcp_conn *c, u64 now)
{
	(void)t;
	c->deadline = now + c->rto;
}

/* Sends what the peer's window lets out, then the FIN once all data is
   out; arms the retransmission timer for what is outstanding. */
static void output(struct tcp *t, struct tcp_conn *c, u64 now)
{
	u32 mss = MIN((u32)c->peer_mss, (u32)TCP_MSS);
	bool sent = false;

	if (c->state < TCP_ESTABLISHED || c->state == TCP_TIME_WAIT)
		return;
	for (;;) {
		u32 off = in_flight(c), queued = bytering_used(&c->tx);
		u32 wnd = c->snd_wnd > off ? c->snd_wnd - off : 0;
		u32 len = MIN(MIN(queued - off, wnd), mss);

		if (!len || c->fin_sent)
			break;
		emit(t, c, ACK | PSH, c->snd_nxt, off, len);
		c->snd_nxt += len;
		sent = true;
	}
	if (c->fin_queued && !c->fin_sent &&
	    in_flight(c) == bytering_used(&c->tx)) {
		emit(t, c, FIN | ACK, c->snd_nxt, 0, 0);
		c->snd_nxt++;
		c->fin_sent = true;
		sent = true;
		c->state = c->state == TCP_CLOSE_WAIT ? TCP_LAST_ACK
						      : TCP_FIN_WAIT_1;
	}
	if (sent && c->deadline <= now)
		arm(t, c, now);
}

static void ack_now(struct tcp *t, struct tcp_conn *c)
{
	emit(t, c, ACK, c->snd_nxt, 0, 0);
}

/* An RST for a segment that belongs to no connection (§3.10.7.1),
   sent through a scratch connection that carries the segment's ports
   and address (static: a struct tcp_conn holds its 12 KiB of buffers,
   too much for uhv's stack; TCP is not reentrant). */
static void refuse(struct tcp *t, const u8 *src, const u8 *seg, u32 dlen)
{
	static struct tcp_conn c;
	u8 f = seg[FLAGS];

	if (f & RST)
		return;
	memset(&c, 0, sizeof(c) - sizeof(c.rx_buf) - sizeof(c.tx_buf));
	c.lport = be16_get(seg + DPORT);
	c.rport = be16_get(seg + SPORT);
	memcpy(c.rip, src, 4);
	bytering_init(&c.rx, c.rx_buf, TCP_RX_BUF);
	c.rx.head = TCP_RX_BUF;                       /* advertises window 0 */
	bytering_init(&c.tx, c.tx_buf, TCP_TX_BUF);
	t->stats.resets_out++;
	if (f & ACK) {
		emit(t, &c, RST, be32_get(seg + ACK_NO), 0, 0);
		return;
	}
	c.rcv_nxt = be32_get(seg + SEQ) + dlen + !!(f & SYN) + !!(f & FIN);
	emit(t, &c, RST | ACK, 0, 0, 0);
}

/* ---- connections ---- */

static struct tcp_conn *find(struct tcp *t, const u8 *ip, u16 lport,
			     u16 rport)
{
	return (struct tcp_conn *)find_const(t, ip, lport, rport);
}

/* A slot: closed, and either never handed out or let go by its user. */
static struct tcp_conn *slot(struct tcp *t)
{
	for (int i = 0; i < TCP_MAX_CONNS; i++)
		if (t->conn[i].state == TCP_CLOSED &&
		    (!t->conn[i].accepted || t->conn[i].released))
			return &t->conn[i];
	return NULL;
}

static void open_conn(struct tcp *t, struct tcp_conn *c, const u8 *ip,
		      u16 lport, u16 rport, u8 state)
{
	memset(c, 0, sizeof(*c) - sizeof(c->rx_buf) - sizeof(c->tx_buf));
	bytering_init(&c->rx, c->rx_buf, TCP_RX_BUF);
	bytering_init(&c->tx, c->tx_buf, TCP_TX_BUF);
	memcpy(c->rip, ip, 4);
	c->lport = lport;
	c->rport = rport;
	c->state = state;
	c->iss = t->isn;
	t->isn += 0x10000;           /* apart from the last connection's */
	c->snd_una = c->iss;
	c->snd_nxt = c->iss + 1;
	c->peer_mss = TCP_MSS_DEFAULT;
	c->rto = TCP_RTO_S * (u32)t->hz;
}

int tcp_connect(struct tcp *t, const u8 *ip, u16 port, u64 now)
{
	struct tcp_conn *c = slot(t);

	if (!c || !port)
		return -1;
	open_conn(t, c, ip, t->next_port, port, TCP_SYN_SENT);
	t->next_port = t->next_port == 0xffff ? PORT_FIRST : t->next_port + 1;
	c->accepted = true;
	emit(t, c, SYN, c->iss, 0, 0);
	arm(t, c, now);
	c->heard = now;
	return (int)(c - t->conn);
}

/* The peer's MSS option, if the SYN has one (§3.7.1). */
static u16 mss_option(const u8 *seg, u32 hlen)
{
	for (u32 at = TCP_HLEN; at < hlen && seg[at] != OPT_END;) {
		if (seg[at] == OPT_NOP) {
			at++;
			continue;
		}
		if (at + 1 >= hlen || seg[at + 1] < 2 || at + seg[at + 1] > hlen)
			break;
		if (seg[at] == OPT_MSS && seg[at + 1] == OPT_MSS_LEN &&
		    be16_get(seg + at + 2))
			return be16_get(seg + at + 2);
		at += seg[at + 1];
	}
	return TCP_MSS_DEFAULT;
}

/* A SYN to a listening port: a new connection in SYN-RECEIVED. */
static void passive_open(struct tcp *t, const u8 *src, const u8 *seg,
			 u32 hlen, u64 now)
{
	struct tcp_conn *c = slot(t);

	if (!c) {
		t->stats.refused++;
		refuse(t, src, seg, 0);
		return;
	}
	open_conn(t, c, src, be16_get(seg + DPORT), be16_get(seg + SPORT),
		  TCP_SYN_RCVD);
	c->irs = be32_get(seg + SEQ);
	c->rcv_nxt = c->irs + 1;
	c->peer_mss = mss_option(seg, hlen);
	c->snd_wnd = be16_get(seg + WINDOW);
	c->heard = now;
	emit(t, c, SYN | ACK, c->iss, 0, 0);
	arm(t, c, now);
}

/* The connection ends: its slot is free once its user lets go. */
static void closed(struct tcp_conn *c, bool reset)
{
	c->state = TCP_CLOSED;
	c->reset = reset;
}

/* ---- arrivals (§3.10.7.4, reduced) ---- */

struct seg {
	const u8 *h, *data;
	u32 seq, ack, dlen;
	u16 wnd;
	u8 f;
};

/* A reply to our SYN (SYN-SENT, §3.10.7.3). */
static void syn_sent(struct tcp *t, struct tcp_conn *c, const struct seg *s,
		     u32 hlen, u64 now)
{
	bool ack_ok = (s->f & ACK) && s->ack == c->iss + 1;

	if ((s->f & ACK) && !ack_ok) {
		if (!(s->f & RST)) {
			t->stats.resets_out++;
			emit(t, c, RST, s->ack, 0, 0);
		}
		return;
	}
	if (s->f & RST) {
		if (ack_ok) {
			t->stats.resets_in++;
			closed(c, true);
		}
		return;
	}
	if (!(s->f & SYN) || !ack_ok)
		return;              /* (no simultaneous open) */
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->peer_mss = mss_option(s->h, hlen);
	c->snd_una = s->ack;
	c->snd_wnd = s->wnd;
	c->state = TCP_ESTABLISHED;
	c->deadline = 0;
	ack_now(t, c);
	output(t, c, now);
}

/* RST and SYN in a synchronized state (RFC 5961 §3, §4): an RST exactly
   at rcv_nxt ends the connection, one elsewhere in the window and any
   SYN get a challenge ACK. True if the segment was one of these. */
static bool rst_or_syn(struct tcp *t, struct tcp_conn *c, const struct seg *s)
{
	u32 wnd = bytering_room(&c->rx);

	if (s->f & RST) {
		if (s->seq == c->rcv_nxt) {
			t->stats.resets_in++;
			closed(c, true);
		} else if (le(c->rcv_nxt, s->seq) && lt(s->seq, c->rcv_nxt + wnd)) {
			ack_now(t, c);
		}
		return true;
	}
	if (s->f & SYN) {
		ack_now(t, c);
		return true;
	}
	return false;
}

/* TIME-WAIT for 2 MSL (§3.6), then closed (tcp_tick). */
static void time_wait(struct tcp *t, struct tcp_conn *c, u64 now)
{
	c->state = TCP_TIME_WAIT;
	c->deadline = now + 2ULL * TCP_MSL_S * t->hz;
}

/* What the ACK field acknowledges (§3.10.7.4, fifth): data taken off the
   send buffer, the FIN's own acknowledgment, the timer. False if the
   segment acknowledges what was never sent (answered with an ACK). */
static bool take_ack(struct tcp *t, struct tcp_conn *c, const struct seg *s,
		     u64 now)
{
	if (lt(c->snd_nxt, s->ack)) {
		ack_now(t, c);
		return false;
	}
	if (lt(c->snd_una, s->ack)) {
		u32 n = s->ack - c->snd_una;
		bool fin_acked = c->fin_sent && s->ack == c->snd_nxt;

		bytering_consume(&c->tx, n - (fin_acked ? 1 : 0));
		c->snd_una = s->ack;
		c->retries = 0;
		c->rto = TCP_RTO_S * (u32)t->hz;
		c->deadline = c->snd_una != c->snd_nxt ? now + c->rto : 0;
		if (fin_acked && c->state == TCP_FIN_WAIT_1)
			c->state = TCP_FIN_WAIT_2;
		else if (fin_acked && c->state == TCP_CLOSING)
			time_wait(t, c, now);
		else if (fin_acked && c->state == TCP_LAST_ACK)
			closed(c, false);
	}
	if (le(c->snd_una, s->ack))
		c->snd_wnd = s->wnd;
	return true;
}

/* The peer's FIN, after all its data (§3.10.7.4, eighth). */
static void take_fin(struct tcp *t, struct tcp_conn *c, u64 now)
{
	c->rcv_nxt++;
	c->fin_rcvd = true;
	if (c->state == TCP_ESTABLISHED)
		c->state = TCP_CLOSE_WAIT;
	else if (c->state == TCP_FIN_WAIT_1)
		c->state = TCP_CLOSING;
	else if (c->state == TCP_FIN_WAIT_2)
		c->state = TCP_TIME_WAIT;
	if (c->state == TCP_TIME_WAIT)
		time_wait(t, c, now);
}

/* Data and FIN: in order only; anything else is re-ACKed (the peer
   retransmits what we dropped). */
static void take_data(struct tcp *t, struct tcp_conn *c, const struct seg *s,
		      u64 now)
{
	struct seg t2 = *s;
	u32 took, skip;

	if (!s->dlen && !(s->f & FIN))
		return;
	/* a retransmission that overlaps what we have: only the new part */
	if (lt(s->seq, c->rcv_nxt) && !c->fin_rcvd) {
		skip = c->rcv_nxt - s->seq;
		if (skip >= s->dlen) {
			ack_now(t, c);
			return;
		}
		t2.seq += skip;
		t2.data += skip;
		t2.dlen -= skip;
		s = &t2;
	}
	if (s->seq != c->rcv_nxt || c->fin_rcvd) {
		t->stats.out_of_order += s->seq != c->rcv_nxt;
		ack_now(t, c);
		return;
	}
	took = MIN(s->dlen, bytering_room(&c->rx));
	bytering_put(&c->rx, s->data, took);
	c->rcv_nxt += took;
	if ((s->f & FIN) && took == s->dlen)
		take_fin(t, c, now);
	ack_now(t, c);
}

/* §3.10.7.4's acceptance test: some of the segment lies in the receive
   window (an empty one: its sequence number does). */
static bool acceptable(const struct tcp_conn *c, const struct seg *s)
{
	u32 wnd = bytering_room(&c->rx), len = s->dlen + !!(s->f & FIN);
	u32 end = s->seq + len - 1;

	if (!len)
		return wnd ? le(c->rcv_nxt, s->seq) && lt(s->seq, c->rcv_nxt + wnd)
			   : s->seq == c->rcv_nxt;
	if (!wnd)
		return false;
	return (le(c->rcv_nxt, s->seq) && lt(s->seq, c->rcv_nxt + wnd)) ||
	       (le(c->rcv_nxt, end) && lt(end, c->rcv_nxt + wnd));
}

static void arrive(struct tcp *t, struct tcp_conn *c, const struct seg *s,
		   u32 hlen, u64 now)
{
	c->heard = now;
	c->probes = 0;
	if (c->state == TCP_SYN_SENT) {
		syn_sent(t, c, s, hlen, now);
		return;
	}
	if (rst_or_syn(t, c, s))
		return;
	if (!acceptable(c, s)) {     /* §3.10.7.4 first: ACK it, drop it */
		/* (with our window shut, its ACK field still counts) */
		if ((s->f & ACK) && !bytering_room(&c->rx))
			take_ack(t, c, s, now);
		ack_now(t, c);
		return;
	}
	if (!(s->f & ACK))
		return;
	if (c->state == TCP_SYN_RCVD) {
		if (s->ack != c->iss + 1) {
			t->stats.resets_out++;
			emit(t, c, RST, s->ack, 0, 0);
			return;
		}
		c->state = TCP_ESTABLISHED;
		c->snd_una = s->ack;
		c->deadline = 0;
	}
	if (!take_ack(t, c, s, now) || c->state == TCP_CLOSED)
		return;
	if (c->state == TCP_TIME_WAIT && (s->f & FIN)) {
		ack_now(t, c);       /* its FIN again: our ACK was lost */
		c->deadline = now + 2ULL * TCP_MSL_S * t->hz;
		return;
	}
	take_data(t, c, s, now);
	output(t, c, now);
}

void tcp_input(struct tcp *t, const u8 *src, const u8 *seg, u32 len, u64 now)
{
	u8 pseudo[12];
	u32 hlen = len >= TCP_HLEN ? (u32)(seg[OFFSET] >> OFF_SHIFT) * WORD : 0;
	struct tcp_conn *c;
	struct seg s;

	if (hlen < TCP_HLEN || hlen > len) {
		t->stats.malformed++;
		return;
	}
	memcpy(pseudo, src, 4);
	memcpy(pseudo + 4, t->ip, 4);
	pseudo[8] = 0;
	pseudo[9] = PROTO_TCP;
	be16_put(pseudo + 10, (u16)len);
	if (inet_fold(inet_sum(seg, len, inet_sum(pseudo, 12, 0)))) {
		t->stats.bad_csum++;
		return;
	}
	t->stats.segs_in++;
	s = (struct seg){ seg, seg + hlen, be32_get(seg + SEQ),
		be32_get(seg + ACK_NO), len - hlen, be16_get(seg + WINDOW),
		seg[FLAGS] };
	c = find(t, src, be16_get(seg + DPORT), be16_get(seg + SPORT));
	if (c) {
		arrive(t, c, &s, hlen, now);
	} else if ((s.f & (SYN | ACK | RST)) == SYN &&
		   listening(t, be16_get(seg + DPORT))) {
		passive_open(t, src, seg, hlen, now);
	} else {
		t->stats.no_conn++;
		refuse(t, src, seg, s.dlen);
	}
}

/* ---- timers ---- */

/* The retransmission timer fired: the SYN, or the oldest unacknowledged
   segment (data or FIN) again, with the timeout doubled (RFC 6298
   §5.4-5.6); after TCP_RETRIES the connection is reset. */
static void retransmit(struct tcp *t, struct tcp_conn *c, u64 now)
{
	u32 mss = MIN((u32)c->peer_mss, (u32)TCP_MSS), flight = in_flight(c);

	if (++c->retries > TCP_RETRIES) {
		t->stats.resets_out++;
		emit(t, c, RST | ACK, c->snd_nxt, 0, 0);
		closed(c, true);
		return;
	}
	t->stats.retransmits++;
	c->rto = MIN(c->rto * 2, TCP_RTO_MAX_S * (u32)t->hz);
	if (c->state == TCP_SYN_SENT)
		emit(t, c, SYN, c->iss, 0, 0);
	else if (c->state == TCP_SYN_RCVD)
		emit(t, c, SYN | ACK, c->iss, 0, 0);
	else if (flight)
		emit(t, c, ACK | PSH, c->snd_una, 0, MIN(flight, mss));
	else if (c->fin_sent)
		emit(t, c, FIN | ACK, c->snd_nxt - 1, 0, 0);
	else                         /* a zero window: probe it */
		emit(t, c, ACK, c->snd_nxt - 1, 0, 0);
	c->deadline = now + c->rto;
}

/* An idle established connection: a keepalive probe now and then (one
   byte below snd_nxt: the peer must ACK it); a peer that answers none of
   TCP_KEEPALIVE_PROBES is gone. */
static void keepalive(struct tcp *t, struct tcp_conn *c, u64 now)
{
	u64 due = c->heard + TCP_KEEPALIVE_S * t->hz +
		  (u64)c->probes * TCP_KEEPALIVE_INTVL_S * t->hz;

	if (now < due)
		return;
	if (c->probes++ == TCP_KEEPALIVE_PROBES) {
		t->stats.resets_out++;
		emit(t, c, RST | ACK, c->snd_nxt, 0, 0);
		closed(c, true);
		return;
	}
	emit(t, c, ACK, c->snd_nxt - 1, 0, 0);
}

void tcp_tick(struct tcp *t, u64 now)
{
	for (int i = 0; i < TCP_MAX_CONNS; i++) {
		struct tcp_conn *c = &t->conn[i];
		bool waiting = c->snd_una != c->snd_nxt ||
			       (c->snd_wnd == 0 && bytering_used(&c->tx) > in_flight(c));

		if (c->state == TCP_CLOSED)
			continue;
		if (c->state == TCP_TIME_WAIT) {
			if (now >= c->deadline)
				closed(c, false);
			continue;
		}
		/* our side is done and its user gone, the peer never closes
		   its side: let go after 2 MSL (Linux: tcp_fin_timeout) */
		if (c->state == TCP_FIN_WAIT_2 && c->released &&
		    now - c->heard > 2ULL * TCP_MSL_S * t->hz) {
			closed(c, false);
			continue;
		}
		if (waiting && !c->deadline)
			c->deadline = now + c->rto;     /* a window closed */
		if (waiting && now >= c->deadline)
			retransmit(t, c, now);
		else if (!waiting && c->state == TCP_ESTABLISHED)
			keepalive(t, c, now);
	}
}

/* ---- the user's side ---- */

static struct tcp_conn *conn(struct tcp *t, int id)
{
	return id >= 0 && id < TCP_MAX_CONNS ? &t->conn[id] : NULL;
}

int tcp_accept(struct tcp *t)
{
	for (int i = 0; i < TCP_MAX_CONNS; i++) {
		struct tcp_conn *c = &t->conn[i];

		if (!c->accepted && (c->state == TCP_ESTABLISHED ||
				     c->state == TCP_CLOSE_WAIT)) {
			c->accepted = true;
			t->stats.accepted++;
			return i;
		}
	}
	return -1;
}

u32 tcp_read(struct tcp *t, int id, u8 *buf, u32 len, u64 now)
{
	struct tcp_conn *c = conn(t, id);
	u32 got = 0, n, before;
	const u8 *p;

	if (!c)
		return 0;
	before = bytering_room(&c->rx);
	while (got < len && (n = bytering_peek(&c->rx, &p))) {
		n = MIN(n, len - got);
		memcpy(buf + got, p, n);
		bytering_consume(&c->rx, n);
		got += n;
	}
	/* a window that had closed below one segment opens again: say so */
	if (got && before < TCP_MSS && c->state >= TCP_ESTABLISHED &&
	    c->state != TCP_TIME_WAIT && !c->fin_rcvd)
		ack_now(t, c);
	(void)now;
	return got;
}

u32 tcp_write(struct tcp *t, int id, const u8 *buf, u32 len, u64 now)
{
	struct tcp_conn *c = conn(t, id);
	u32 n;

	if (!c || c->fin_queued || (c->state != TCP_ESTABLISHED &&
				    c->state != TCP_CLOSE_WAIT))
		return 0;
	n = MIN(len, bytering_room(&c->tx));
	bytering_put(&c->tx, buf, n);
	output(t, c, now);
	return n;
}

void tcp_close(struct tcp *t, int id, u64 now)
{
	struct tcp_conn *c = conn(t, id);

	if (!c)
		return;
	c->released = true;
	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RCVD) {
		tcp_abort(t, id);
		return;
	}
	c->fin_queued = true;
	output(t, c, now);
}

void tcp_abort(struct tcp *t, int id)
{
	struct tcp_conn *c = conn(t, id);

	if (!c)
		return;
	c->released = true;
	if (c->state != TCP_CLOSED && c->state != TCP_TIME_WAIT) {
		t->stats.resets_out++;
		emit(t, c, RST | ACK, c->snd_nxt, 0, 0);
	}
	closed(c, true);
}

bool tcp_eof(const struct tcp *t, int id)
{
	return id >= 0 && id < TCP_MAX_CONNS && t->conn[id].fin_rcvd &&
	       !bytering_used(&t->conn[id].rx);
}

enum tcp_state tcp_state(const struct tcp *t, int id)
{
	return id >= 0 && id < TCP_MAX_CONNS ? t->conn[id].state : TCP_CLOSED;
}
