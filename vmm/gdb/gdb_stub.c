/*
 * The GDB remote serial protocol stub (GDB manual, Appendix E): framing
 * and acknowledgements (E.1 "Overview", E.12 "Packet Acknowledgment"),
 * the packets (E.4 "Packets", E.5 "Stop Reply Packets" is E.3 in older
 * manuals: "Stop Reply Packets"), the queries (E.4 "General Query
 * Packets"), Ctrl-C (E.11 "Interrupts") and run control. Memory and
 * breakpoints are in gdb_mem.c, registers and the target description in
 * gdb_regs.c.
 *
 * Everything gdb sends is untrusted: a packet longer than GDB_PACKET_MAX
 * is consumed and refused, every number is range-checked, and the answer
 * is built in s->last with bounds checks, then queued in s->out whole or
 * not at all.
 */
#include "vmm/gdb/gdb_priv.h"
#include "lib/fmt.h"
#include "lib/string.h"

/* Protocol characters (E.1 "Overview", E.11 "Interrupts"). */
#define CH_START        '$'
#define CH_END          '#'
#define CH_ESCAPE       '}'
#define CH_RLE          '*'
#define CH_ACK          '+'
#define CH_NAK          '-'
#define CH_INTERRUPT    0x03
#define ESCAPE_XOR      0x20

#define CS_DIGITS       2       /* "#cs": two hex digits */
#define HEX_DIGITS_MAX  16      /* a u64 */

/* Signals in stop replies (gdb's numbering, E.3). */
#define GDB_SIGINT      0x02
#define GDB_SIGTRAP     0x05

#define EXIT_STATUS_MASK 0xff   /* "W AA": the status's low byte */
#define MONITOR_MAX     64      /* bytes of a qRcmd command kept */
#define PKT_FMT_MAX     80      /* one formatted piece of an answer */

/* Receiver states: between packets, in the payload, after a '}', at the
   first or second checksum digit (CS2_BAD: the first was not hex). */
enum { RX_IDLE, RX_DATA, RX_ESC, RX_CS1, RX_CS2, RX_CS2_BAD };

static const char hex_digits[] = "0123456789abcdef";

/* ---- output ---- */

/* Queues n bytes for gdb, all or none: out_lost if they do not fit. */
static void out_put(struct gdb_stub *s, const u8 *b, u32 n)
{
	if (n > GDB_OUT_MAX - s->out_len) {
		s->out_lost = true;
		return;
	}
	memcpy(s->out + s->out_len, b, n);
	s->out_len += n;
}

static void out_byte(struct gdb_stub *s, u8 c)
{
	out_put(s, &c, 1);
}

u32 gdb_output(struct gdb_stub *s, u8 *buf, u32 max)
{
	u32 n = MIN(max, s->out_len);

	memcpy(buf, s->out, n);
	memmove(s->out, s->out + n, s->out_len - n);
	s->out_len -= n;
	return n;
}

void gdb_pkt_begin(struct gdb_stub *s)
{
	s->last[0] = CH_START;
	s->last_len = 1;
	s->last_over = false;
}

/* Room is kept for "#cs" at the end. */
void gdb_pkt_byte(struct gdb_stub *s, u8 c)
{
	if (s->last_len >= GDB_OUT_MAX - 1 - CS_DIGITS) {
		s->last_over = true;
		return;
	}
	s->last[s->last_len++] = c;
}

/* E.1: '#', '$', '}' (and '*', run-length encoding's mark) go as '}'
   and the byte XOR 0x20. */
void gdb_pkt_bin(struct gdb_stub *s, u8 c)
{
	if (c == CH_END || c == CH_START || c == CH_ESCAPE || c == CH_RLE) {
		gdb_pkt_byte(s, CH_ESCAPE);
		c ^= ESCAPE_XOR;
	}
	gdb_pkt_byte(s, c);
}

void gdb_pkt_str(struct gdb_stub *s, const char *str)
{
	while (*str)
		gdb_pkt_byte(s, (u8)*str++);
}

void gdb_pkt_hex(struct gdb_stub *s, const u8 *b, u32 n)
{
	for (u32 i = 0; i < n; i++) {
		gdb_pkt_byte(s, (u8)hex_digits[b[i] >> 4]);
		gdb_pkt_byte(s, (u8)hex_digits[b[i] & 0xf]);
	}
}

/* printf-style piece of an answer (short: PKT_FMT_MAX). */
static void pkt_fmt(struct gdb_stub *s, const char *f, ...)
	__attribute__((format(printf, 2, 3)));
static void pkt_fmt(struct gdb_stub *s, const char *f, ...)
{
	char buf[PKT_FMT_MAX];
	va_list ap;

	va_start(ap, f);
	fmt_vsn(buf, sizeof(buf), f, ap);
	va_end(ap);
	gdb_pkt_str(s, buf);
}

/* E.1: the checksum is the payload's bytes summed modulo 256. An answer
   that outgrew s->last is dropped whole (out_lost), never cut. */
void gdb_pkt_end(struct gdb_stub *s)
{
	u8 sum = 0;

	if (s->last_over) {
		s->last_len = 0;
		s->out_lost = true;
		return;
	}
	for (u32 i = 1; i < s->last_len; i++)
		sum = (u8)(sum + s->last[i]);
	s->last[s->last_len++] = CH_END;
	s->last[s->last_len++] = (u8)hex_digits[sum >> 4];
	s->last[s->last_len++] = (u8)hex_digits[sum & 0xf];
	out_put(s, s->last, s->last_len);
}

void gdb_reply(struct gdb_stub *s, const char *str)
{
	gdb_pkt_begin(s);
	gdb_pkt_str(s, str);
	gdb_pkt_end(s);
}

/* ---- parsing ---- */

int gdb_hex_val(u8 c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool gdb_parse_hex(const char **p, const char *end, u64 *v)
{
	const char *q = *p;
	u64 x = 0;
	int d;

	while (q < end && (d = gdb_hex_val((u8)*q)) >= 0) {
		if (q - *p >= HEX_DIGITS_MAX)
			return false;
		x = x << 4 | (u64)d;
		q++;
	}
	if (q == *p)
		return false;
	*p = q;
	*v = x;
	return true;
}

bool gdb_unhex(const char *p, u8 *out, u32 n)
{
	for (u32 i = 0; i < n; i++) {
		int hi = gdb_hex_val((u8)p[2 * i]);
		int lo = gdb_hex_val((u8)p[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (u8)(hi << 4 | lo);
	}
	return true;
}

/* Whether the payload [p, end) starts with the string pre. */
static bool starts(const char *p, const char *end, const char *pre)
{
	size_t n = strlen(pre);

	return (size_t)(end - p) >= n && !memcmp(p, pre, n);
}

/* Whether the payload [p, end) is exactly the string str. */
static bool equals(const char *p, const char *end, const char *str)
{
	return (size_t)(end - p) == strlen(str) && starts(p, end, str);
}

/* ---- threads: one per vCPU, ids 1..n ---- */

static int nr_vcpus(const struct gdb_stub *s)
{
	return s->ops->nr_vcpus(s->t);
}

int gdb_sel_vcpu(const struct gdb_stub *s)
{
	int v = s->g_vcpu >= 0 ? s->g_vcpu : s->last_vcpu;

	return v >= 0 && v < nr_vcpus(s) ? v : 0;
}

/* A thread id (E.4 "thread-id": hex, 0 any, -1 all) as a vCPU, -1 for
   any or all; false if the text is not one, or no such thread. */
static bool parse_thread(const struct gdb_stub *s, const char *p,
			 const char *end, int *vcpu)
{
	u64 tid;

	if (equals(p, end, "-1") || equals(p, end, "0")) {
		*vcpu = -1;
		return true;
	}
	if (!gdb_parse_hex(&p, end, &tid) || p != end || tid == 0 ||
	    tid > (u64)nr_vcpus(s))
		return false;
	*vcpu = (int)(tid - 1);
	return true;
}

/* H op thread-id (E.4 'H'): g selects for g/G/p/P/m/M, c for s. */
static void cmd_set_thread(struct gdb_stub *s, const char *p, const char *end)
{
	int vcpu;

	if (p == end || (*p != 'g' && *p != 'c') ||
	    !parse_thread(s, p + 1, end, &vcpu)) {
		gdb_reply(s, GDB_ERR_INVAL);
		return;
	}
	if (*p == 'g')
		s->g_vcpu = vcpu;
	else
		s->c_vcpu = vcpu;
	gdb_reply(s, "OK");
}

/* T thread-id (E.4 'T'): alive? Every vCPU is. */
static void cmd_thread_alive(struct gdb_stub *s, const char *p,
			     const char *end)
{
	int vcpu;

	if (parse_thread(s, p, end, &vcpu) && vcpu >= 0)
		gdb_reply(s, "OK");
	else
		gdb_reply(s, GDB_ERR_INVAL);
}

/* qfThreadInfo (E.4 "General Query Packets"): every thread at once. */
static void cmd_thread_list(struct gdb_stub *s)
{
	int n = nr_vcpus(s);

	gdb_pkt_begin(s);
	gdb_pkt_byte(s, 'm');
	for (int i = 0; i < n; i++)
		pkt_fmt(s, i ? ",%x" : "%x", i + 1);
	gdb_pkt_end(s);
}

/* ---- registers (the g layout is in gdb_regs.c) ---- */

/* The selected vCPU's registers and arch; false (answered E0e) if the
   target cannot give them. */
static bool sel_regs(struct gdb_stub *s, struct gdb_regs *r,
		     enum gdb_arch *a, int *vcpu)
{
	*vcpu = gdb_sel_vcpu(s);
	*a = s->ops->arch(s->t, *vcpu);
	memset(r, 0, sizeof(*r));
	if (!s->ops->get_regs(s->t, *vcpu, r)) {
		gdb_reply(s, GDB_ERR_FAULT);
		return false;
	}
	return true;
}

/* g (E.4): every register of the selected vCPU, in its arch's layout. */
static void cmd_read_regs(struct gdb_stub *s)
{
	struct gdb_regs r;
	enum gdb_arch a;
	u8 v[GDB_REG_BYTES_MAX];
	int vcpu;

	if (!sel_regs(s, &r, &a, &vcpu))
		return;
	gdb_pkt_begin(s);
	for (int i = 0; i < gdb_regs_count(a); i++) {
		gdb_reg_get(a, &r, i, v);
		gdb_pkt_hex(s, v, gdb_reg_size(a, i));
	}
	gdb_pkt_end(s);
}

/* The registers from hex at p: set_regs, answered OK, or E0e if the
   target refuses. */
static void store_regs(struct gdb_stub *s, struct gdb_regs *r, int vcpu)
{
	if (s->ops->set_regs(s->t, vcpu, r))
		gdb_reply(s, "OK");
	else
		gdb_reply(s, GDB_ERR_FAULT);
}

/* G hex (E.4): every register; the length must be the layout's. */
static void cmd_write_regs(struct gdb_stub *s, const char *p, const char *end)
{
	struct gdb_regs r;
	enum gdb_arch a;
	u8 v[GDB_REG_BYTES_MAX];
	int vcpu;

	if (!sel_regs(s, &r, &a, &vcpu))
		return;
	if ((u64)(end - p) != 2ull * gdb_regs_size(a)) {
		gdb_reply(s, GDB_ERR_INVAL);
		return;
	}
	for (int i = 0; i < gdb_regs_count(a); i++) {
		u32 n = gdb_reg_size(a, i);

		if (!gdb_unhex(p, v, n)) {
			gdb_reply(s, GDB_ERR_INVAL);
			return;
		}
		gdb_reg_set(a, &r, i, v);
		p += 2 * n;
	}
	store_regs(s, &r, vcpu);
}

/* p n (E.4): register n; P n=hex: sets it. */
static void cmd_reg(struct gdb_stub *s, bool write, const char *p,
		    const char *end)
{
	struct gdb_regs r;
	enum gdb_arch a;
	u8 v[GDB_REG_BYTES_MAX];
	u64 n;
	u32 size;
	int vcpu;

	if (!gdb_parse_hex(&p, end, &n) || (write ? p == end || *p++ != '=' :
					    p != end)) {
		gdb_reply(s, GDB_ERR_INVAL);
		return;
	}
	if (!sel_regs(s, &r, &a, &vcpu))
		return;
	size = n < (u64)gdb_regs_count(a) ? gdb_reg_size(a, (int)n) : 0;
	if (!size || (write && ((u64)(end - p) != 2ull * size ||
				!gdb_unhex(p, v, size)))) {
		gdb_reply(s, GDB_ERR_INVAL);
		return;
	}
	if (write) {
		gdb_reg_set(a, &r, (int)n, v);
		store_regs(s, &r, vcpu);
		return;
	}
	gdb_reg_get(a, &r, (int)n, v);
	gdb_pkt_begin(s);
	gdb_pkt_hex(s, v, size);
	gdb_pkt_end(s);
}

/* ---- run control ---- */

/* Sends or keeps the stop reply in s->last_stop: sent only when gdb
   waits for one (E.3 "Stop Reply Packets"). */
static void stop_reply(struct gdb_stub *s)
{
	if (!s->running || !s->attached)
		return;
	s->running = false;
	s->n.stops++;
	gdb_reply(s, s->last_stop);
}

/* "Tss thread:NN;" plus what (may be ""), as the last stop. */
static void set_stop(struct gdb_stub *s, u8 sig, int vcpu, const char *what)
{
	fmt_sn(s->last_stop, sizeof(s->last_stop), "T%02xthread:%02x;%s",
	       sig, vcpu + 1, what);
}

/* c [addr] / s [addr] (E.4): addr, if given, becomes the rip of the
   vCPU that goes on first; c resumes all, s the Hc vCPU (or the last
   stop's) for one instruction. No answer until the VM stops. */
static void cmd_resume(struct gdb_stub *s, bool step, const char *p,
		       const char *end)
{
	int vcpu = s->c_vcpu >= 0 && s->c_vcpu < nr_vcpus(s) ? s->c_vcpu :
		   gdb_sel_vcpu(s);
	struct gdb_regs r;
	u64 addr;

	if (p != end) {
		if (!gdb_parse_hex(&p, end, &addr) || p != end) {
			gdb_reply(s, GDB_ERR_INVAL);
			return;
		}
		memset(&r, 0, sizeof(r));
		if (!s->ops->get_regs(s->t, vcpu, &r)) {
			gdb_reply(s, GDB_ERR_FAULT);
			return;
		}
		r.rip = addr;
		if (!s->ops->set_regs(s->t, vcpu, &r)) {
			gdb_reply(s, GDB_ERR_FAULT);
			return;
		}
	}
	s->running = true;
	s->ops->resume(s->t, step ? vcpu : -1);
}

/* Everything the session set is undone and the VM let go (D, k,
   gdb_detach). */
static void do_detach(struct gdb_stub *s)
{
	if (!s->attached)
		return;
	if (s->running)
		s->ops->stop(s->t);     /* breakpoints change while stopped */
	gdb_clear_breakpoints(s);
	s->ops->detach(s->t);
	s->attached = false;
	s->running = false;
	s->detached = true;
}

void gdb_detach(struct gdb_stub *s)
{
	do_detach(s);
}

void gdb_stopped(struct gdb_stub *s, const struct gdb_stop *st)
{
	int n = nr_vcpus(s);
	int vcpu = st->vcpu >= 0 && st->vcpu < n ? st->vcpu : 0;
	char what[40] = "";

	if (st->why == GDB_STOP_EXITED) {
		fmt_sn(s->last_stop, sizeof(s->last_stop), "W%02x",
		       st->status & EXIT_STATUS_MASK);
		stop_reply(s);
		s->attached = false;
		s->running = false;
		s->detached = true;
		return;
	}
	s->last_vcpu = vcpu;
	if (st->why == GDB_STOP_BREAK) {
		str_copy(what, "swbreak:;", sizeof(what));
	} else if (st->why == GDB_STOP_HW && st->slot >= 0 &&
		   st->slot < GDB_HW_SLOTS && s->hw[st->slot].used) {
		enum gdb_hw_type t = s->hw[st->slot].type;
		const char *kind = t == GDB_HW_WRITE ? "watch" :
				   t == GDB_HW_READ ? "rwatch" : "awatch";

		if (t == GDB_HW_EXEC)
			str_copy(what, "hwbreak:;", sizeof(what));
		else
			fmt_sn(what, sizeof(what), "%s:%llx;", kind,
			       (unsigned long long)st->data_addr);
	}
	set_stop(s, GDB_SIGTRAP, vcpu, what);
	stop_reply(s);
}

/* ---- queries ---- */

/* What "monitor help" says. */
static const char monitor_help[] =
	"phys: m, M and Z0 use guest-physical addresses\n"
	"virt: they use virtual addresses (the selected vCPU's paging)\n"
	"help: this text\n";

/* One "O" packet (E.3 "Stop Reply Packets": console output) of text. */
static void console_out(struct gdb_stub *s, const char *text)
{
	gdb_pkt_begin(s);
	gdb_pkt_byte(s, 'O');
	gdb_pkt_hex(s, (const u8 *)text, (u32)strlen(text));
	gdb_pkt_end(s);
}

/* qRcmd,hex (E.4 "General Query Packets"): a monitor command. */
static void cmd_monitor(struct gdb_stub *s, const char *p, const char *end)
{
	char cmd[MONITOR_MAX + 1];
	char line[MONITOR_MAX + 40];
	u32 n = (u32)(end - p) / 2;

	if ((u32)(end - p) % 2 || n > MONITOR_MAX ||
	    !gdb_unhex(p, (u8 *)cmd, n)) {
		gdb_reply(s, GDB_ERR_INVAL);
		return;
	}
	cmd[n] = 0;
	if (!strcmp(cmd, "phys") || !strcmp(cmd, "virt")) {
		s->phys = cmd[0] == 'p';
		console_out(s, s->phys ? "m, M and Z0 use guest-physical "
			    "addresses\n" : "m, M and Z0 use virtual "
			    "addresses\n");
	} else if (!strcmp(cmd, "help")) {
		console_out(s, monitor_help);
	} else {
		for (u32 i = 0; i < n; i++)     /* a C string, printable */
			if (cmd[i] < ' ' || cmd[i] > '~')
				cmd[i] = '?';
		fmt_sn(line, sizeof(line), "unknown monitor command: %s "
		       "(try help)\n", cmd);
		console_out(s, line);
		gdb_reply(s, GDB_ERR_INVAL);
		return;
	}
	gdb_reply(s, "OK");
}

/* A window on the target description: the bytes at off..off+len go into
   the answer, escaped (qXfer). */
struct xml_window {
	struct gdb_stub *s;
	u64 off, pos;
	u32 len;
	u32 taken;
};

static void xml_put(void *ctx, const char *str)
{
	struct xml_window *w = ctx;

	for (; *str; str++, w->pos++) {
		if (w->pos >= w->off && w->taken < w->len) {
			gdb_pkt_bin(w->s, (u8)*str);
			w->taken++;
		}
	}
}

/* qXfer:features:read:annex:offset,length (E.4, Appendix G "Target
   Descriptions"): "m" and a chunk if more follows, "l" and the last. */
static void cmd_xfer_features(struct gdb_stub *s, const char *p,
			      const char *end)
{
	struct xml_window w = { .s = s };
	u64 off, len;

	if (!starts(p, end, "target.xml:")) {
		gdb_reply(s, GDB_ERR_ANNEX);
		return;
	}
	p += strlen("target.xml:");
	if (!gdb_parse_hex(&p, end, &off) || p == end || *p++ != ',' ||
	    !gdb_parse_hex(&p, end, &len) || p != end) {
		gdb_reply(s, GDB_ERR_INVAL);
		return;
	}
	/* escaped bytes take two: half a packet always fits */
	w.off = off;
	w.len = (u32)MIN(len, GDB_PACKET_MAX / 2);
	gdb_pkt_begin(s);
	gdb_pkt_byte(s, 'l');
	gdb_target_xml(s->ops->arch(s->t, gdb_sel_vcpu(s)), xml_put, &w);
	if (w.pos > w.off + w.taken)
		s->last[1] = 'm';       /* more after this chunk */
	gdb_pkt_end(s);
}

/* q and Q packets (E.4 "General Query Packets"); false: unknown. */
static bool cmd_query(struct gdb_stub *s, const char *p, const char *end)
{
	if (starts(p, end, "qSupported")) {
		gdb_pkt_begin(s);
		pkt_fmt(s, "PacketSize=%x;qXfer:features:read+;swbreak+;"
			"hwbreak+;QStartNoAckMode+", GDB_PACKET_MAX);
		gdb_pkt_end(s);
	} else if (equals(p, end, "QStartNoAckMode")) {
		gdb_reply(s, "OK");     /* acked already; none from now on */
		s->no_ack = true;
	} else if (starts(p, end, "qAttached")) {
		gdb_reply(s, "1");
	} else if (equals(p, end, "qC")) {
		gdb_pkt_begin(s);
		pkt_fmt(s, "QC%x", gdb_sel_vcpu(s) + 1);
		gdb_pkt_end(s);
	} else if (equals(p, end, "qfThreadInfo")) {
		cmd_thread_list(s);
	} else if (equals(p, end, "qsThreadInfo")) {
		gdb_reply(s, "l");
	} else if (starts(p, end, "qRcmd,")) {
		cmd_monitor(s, p + strlen("qRcmd,"), end);
	} else if (starts(p, end, "qXfer:features:read:")) {
		cmd_xfer_features(s, p + strlen("qXfer:features:read:"), end);
	} else {
		return false;
	}
	return true;
}

/* ---- a packet from gdb ---- */

/* D (E.4): detach; k: the same (uhv keeps the VM: gdb's kill only lets
   it go), without an answer (E.4 'k': none is expected). */
static void cmd_detach(struct gdb_stub *s, bool answer)
{
	do_detach(s);
	if (answer)
		gdb_reply(s, "OK");
}

/* The stopped VM's packets other than queries; false: unknown. */
static bool cmd_stopped(struct gdb_stub *s, const char *p, const char *end)
{
	const char *arg = p + 1;

	switch (*p) {
	case '?': gdb_reply(s, s->last_stop); break;
	case 'g': cmd_read_regs(s); break;
	case 'G': cmd_write_regs(s, arg, end); break;
	case 'p': cmd_reg(s, false, arg, end); break;
	case 'P': cmd_reg(s, true, arg, end); break;
	case 'm': gdb_cmd_read_mem(s, arg, end); break;
	case 'M': gdb_cmd_write_mem(s, arg, end); break;
	case 'c': cmd_resume(s, false, arg, end); break;
	case 's': cmd_resume(s, true, arg, end); break;
	case 'Z': gdb_cmd_break(s, true, arg, end); break;
	case 'z': gdb_cmd_break(s, false, arg, end); break;
	case 'H': cmd_set_thread(s, arg, end); break;
	case 'T': cmd_thread_alive(s, arg, end); break;
	case 'D': cmd_detach(s, true); break;
	case 'k': cmd_detach(s, false); break;
	case 'q': case 'Q': return cmd_query(s, p, end);
	default: return false;  /* X, v..., and what this stub lacks */
	}
	return true;
}

/* A well-formed packet: its answer. While the VM runs for gdb, gdb
   (all-stop) sends none: one that comes anyway gets E10 (busy), as the
   target may only be touched while stopped. */
static void handle_packet(struct gdb_stub *s)
{
	const char *p = (const char *)s->rx;
	const char *end = p + s->rx_len;

	s->n.packets++;
	if (p == end) {
		s->n.unknown++;
		gdb_reply(s, "");
	} else if (s->running) {
		gdb_reply(s, GDB_ERR_BUSY);
	} else if (!cmd_stopped(s, p, end)) {
		s->n.unknown++;
		gdb_reply(s, "");       /* E.4: not supported */
	}
}

/* The packet's "#cs" is in: acknowledge (E.12) and answer it. */
static void packet_done(struct gdb_stub *s, bool cs_ok)
{
	s->rx_state = RX_IDLE;
	if (!cs_ok) {
		s->n.bad_checksum++;
		if (!s->no_ack)
			out_byte(s, CH_NAK);
		return;
	}
	if (!s->no_ack)
		out_byte(s, CH_ACK);
	if (s->rx_over) {
		s->n.too_long++;
		gdb_reply(s, GDB_ERR_INVAL);
		return;
	}
	handle_packet(s);
}

/* The first byte from gdb: the VM stops for it (a new session). */
static void attach(struct gdb_stub *s)
{
	s->ops->stop(s->t);
	s->attached = true;
	s->running = false;
	s->detached = false;
	s->no_ack = false;
	s->phys = false;
	s->g_vcpu = s->c_vcpu = -1;
	s->last_len = 0;
	if (s->last_stop[0] != 'W') {   /* an exited VM stays exited */
		s->last_vcpu = 0;
		set_stop(s, GDB_SIGTRAP, 0, "");
	}
}

/* A byte between packets (E.1, E.11, E.12). */
static void rx_idle(struct gdb_stub *s, u8 c)
{
	if (c == CH_START) {
		s->rx_state = RX_DATA;
		s->rx_len = 0;
		s->rx_sum = 0;
		s->rx_over = false;
	} else if (c == CH_NAK && !s->no_ack && s->last_len) {
		out_put(s, s->last, s->last_len);
	} else if (c == CH_INTERRUPT && s->running) {
		s->ops->stop(s->t);
		set_stop(s, GDB_SIGINT, gdb_sel_vcpu(s), "");
		stop_reply(s);
	}
}

/* A payload byte, unescaped; past GDB_PACKET_MAX only noted. */
static void rx_store(struct gdb_stub *s, u8 c)
{
	if (s->rx_len < GDB_PACKET_MAX)
		s->rx[s->rx_len++] = c;
	else
		s->rx_over = true;
}

/* One byte from gdb through the receiver's states. */
static void rx_byte(struct gdb_stub *s, u8 c)
{
	int d = gdb_hex_val(c);

	switch (s->rx_state) {
	case RX_DATA:
		if (c == CH_END) {
			s->rx_state = RX_CS1;
			return;
		}
		if (c == CH_START) {    /* a new packet: the old was cut */
			rx_idle(s, c);
			return;
		}
		s->rx_sum = (u8)(s->rx_sum + c);
		if (c == CH_ESCAPE)
			s->rx_state = RX_ESC;
		else
			rx_store(s, c);
		return;
	case RX_ESC:
		s->rx_sum = (u8)(s->rx_sum + c);
		rx_store(s, c ^ ESCAPE_XOR);
		s->rx_state = RX_DATA;
		return;
	case RX_CS1:
		s->rx_cs = d < 0 ? 0 : (u8)(d << 4);
		s->rx_state = d < 0 ? RX_CS2_BAD : RX_CS2;
		return;
	case RX_CS2:
		packet_done(s, d >= 0 && (u8)(s->rx_cs | d) == s->rx_sum);
		return;
	case RX_CS2_BAD:
		packet_done(s, false);
		return;
	default:
		rx_idle(s, c);
	}
}

void gdb_input(struct gdb_stub *s, const u8 *buf, u32 len)
{
	for (u32 i = 0; i < len; i++) {
		u8 c = buf[i];

		/* gdb's '+' for the answer to D must not attach again */
		if (!s->attached && !(s->detached &&
				      (c == CH_ACK || c == CH_NAK)))
			attach(s);
		rx_byte(s, c);
	}
}

void gdb_init(struct gdb_stub *s, const struct gdb_target_ops *ops, void *t)
{
	memset(s, 0, sizeof(*s));
	s->ops = ops;
	s->t = t;
	s->rx_state = RX_IDLE;
	s->g_vcpu = s->c_vcpu = -1;
	set_stop(s, GDB_SIGTRAP, 0, "");
}
