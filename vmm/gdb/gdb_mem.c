/*
 * Memory and breakpoints for the GDB stub (GDB manual E.4 "Packets":
 * 'm', 'M', 'Z0'-'Z4', 'z0'-'z4').
 *
 * m and M reach guest memory through the target's read_mem/write_mem, as
 * virtual addresses of the selected vCPU or (after "monitor phys") as
 * guest-physical ones. A software breakpoint is an INT3 (0xCC, SDM Vol. 2A
 * "INT n/INTO/INT3/INT1") written over the first byte of an instruction;
 * memory reads show the byte it replaced, so gdb never sees its own 0xCC.
 * Hardware breakpoints and watchpoints take one of the four debug-address
 * slots (DR0-DR3) through the target's set_hw.
 */
#include "vmm/gdb/gdb_priv.h"
#include "lib/string.h"

#define INT3_OPCODE     0xcc
#define MEM_CHUNK       64      /* bytes read or written at once */
/* m's answer: two hex digits a byte, within what gdb takes (PacketSize) */
#define MEM_READ_MAX    (GDB_PACKET_MAX / 2)
#define HW_LEN_MAX      8

/* The "addr,len" at p; *p moves past it. */
static bool parse_addr_len(const char **p, const char *end, u64 *addr,
			   u64 *len)
{
	return gdb_parse_hex(p, end, addr) && *p < end && *(*p)++ == ',' &&
	       gdb_parse_hex(p, end, len);
}

/* Software breakpoints' original bytes put back into buf, read from
   addr (mode phys): gdb sees memory as it was. */
static void unpatch(const struct gdb_stub *s, bool phys, u64 addr, u8 *buf,
		    u32 n)
{
	for (int i = 0; i < GDB_SW_BP_MAX; i++)
		if (s->sw[i].used && s->sw[i].phys == phys &&
		    s->sw[i].addr - addr < n)
			buf[s->sw[i].addr - addr] = s->sw[i].orig;
}

/* m addr,len: the bytes read, as hex; fewer where memory ends (a short
   read), E0e if none. */
void gdb_cmd_read_mem(struct gdb_stub *s, const char *p, const char *end)
{
	int vcpu = gdb_sel_vcpu(s);
	u8 buf[MEM_CHUNK];
	u64 addr, len, done = 0;

	if (!parse_addr_len(&p, end, &addr, &len) || p != end) {
		gdb_reply(s, GDB_ERR_INVAL);
		return;
	}
	len = MIN(len, MEM_READ_MAX);
	gdb_pkt_begin(s);
	while (done < len) {
		u32 want = (u32)MIN(len - done, MEM_CHUNK);
		u32 got = s->ops->read_mem(s->t, vcpu, s->phys, addr + done,
					   buf, want);

		got = MIN(got, want);
		unpatch(s, s->phys, addr + done, buf, got);
		gdb_pkt_hex(s, buf, got);
		done += got;
		if (got < want)
			break;
	}
	if (len && !done) {
		gdb_reply(s, GDB_ERR_FAULT);
		return;
	}
	gdb_pkt_end(s);
}

/* After a write over software breakpoints: their saved bytes become the
   new ones and the INT3s go back. */
static void repatch(struct gdb_stub *s, int vcpu, u64 addr, const u8 *buf,
		    u32 n)
{
	static const u8 int3 = INT3_OPCODE;

	for (int i = 0; i < GDB_SW_BP_MAX; i++) {
		if (!s->sw[i].used || s->sw[i].phys != s->phys ||
		    s->sw[i].addr - addr >= n)
			continue;
		s->sw[i].orig = buf[s->sw[i].addr - addr];
		s->ops->write_mem(s->t, vcpu, s->phys, s->sw[i].addr, &int3, 1);
	}
}

/* M addr,len:hex: writes len bytes; E0e if not all went in, E22 if the
   hex is not len bytes. */
void gdb_cmd_write_mem(struct gdb_stub *s, const char *p, const char *end)
{
	int vcpu = gdb_sel_vcpu(s);
	u8 buf[MEM_CHUNK];
	u64 addr, len;

	if (!parse_addr_len(&p, end, &addr, &len) || len > GDB_PACKET_MAX ||
	    p == end || *p++ != ':' || (u64)(end - p) != 2 * len) {
		gdb_reply(s, GDB_ERR_INVAL);
		return;
	}
	for (const char *q = p; q < end; q++) {
		if (gdb_hex_val((u8)*q) < 0) {
			gdb_reply(s, GDB_ERR_INVAL);
			return;
		}
	}
	for (u64 done = 0; done < len; done += MEM_CHUNK) {
		u32 n = (u32)MIN(len - done, MEM_CHUNK);

		gdb_unhex(p + 2 * done, buf, n);
		if (s->ops->write_mem(s->t, vcpu, s->phys, addr + done, buf,
				      n) != n) {
			gdb_reply(s, GDB_ERR_FAULT);
			return;
		}
		repatch(s, vcpu, addr + done, buf, n);
	}
	gdb_reply(s, "OK");
}

/* Software breakpoints set now. */
static int sw_count(const struct gdb_stub *s)
{
	int n = 0;

	for (int i = 0; i < GDB_SW_BP_MAX; i++)
		n += s->sw[i].used;
	return n;
}

/* Z0 addr: the byte there saved and an INT3 written; already set: OK;
   E28 if the table is full, E0e if the byte cannot be read or written. */
static void sw_insert(struct gdb_stub *s, u64 addr)
{
	static const u8 int3 = INT3_OPCODE;
	int vcpu = gdb_sel_vcpu(s), free = -1;
	u8 orig;

	for (int i = GDB_SW_BP_MAX - 1; i >= 0; i--) {
		if (s->sw[i].used && s->sw[i].addr == addr &&
		    s->sw[i].phys == s->phys) {
			gdb_reply(s, "OK");
			return;
		}
		if (!s->sw[i].used)
			free = i;
	}
	if (free < 0) {
		gdb_reply(s, GDB_ERR_NOSPC);
		return;
	}
	if (s->ops->read_mem(s->t, vcpu, s->phys, addr, &orig, 1) != 1 ||
	    s->ops->write_mem(s->t, vcpu, s->phys, addr, &int3, 1) != 1) {
		gdb_reply(s, GDB_ERR_FAULT);
		return;
	}
	if (!sw_count(s))
		s->ops->intercept_bp(s->t, true);
	s->sw[free].addr = addr;
	s->sw[free].orig = orig;
	s->sw[free].phys = s->phys;
	s->sw[free].used = true;
	gdb_reply(s, "OK");
}

/* Software breakpoint i: its byte restored, its entry freed, #BP exits
   off with the last one. */
static void sw_remove(struct gdb_stub *s, int i)
{
	s->ops->write_mem(s->t, gdb_sel_vcpu(s), s->sw[i].phys, s->sw[i].addr,
			  &s->sw[i].orig, 1);
	s->sw[i].used = false;
	if (!sw_count(s))
		s->ops->intercept_bp(s->t, false);
}

/* z0 addr: removed if set (in the current address mode); OK either way. */
static void sw_clear(struct gdb_stub *s, u64 addr)
{
	for (int i = 0; i < GDB_SW_BP_MAX; i++)
		if (s->sw[i].used && s->sw[i].addr == addr &&
		    s->sw[i].phys == s->phys)
			sw_remove(s, i);
	gdb_reply(s, "OK");
}

/* Z1-Z4 type,addr,kind: a slot for it. Z1's kind is the instruction's
   (1); a watchpoint's is its length, 1, 2, 4 or 8, and addr must be
   aligned to it (SDM Vol. 3B §18.2.5). E22 if not, E28 if no slot. */
static void hw_insert(struct gdb_stub *s, enum gdb_hw_type type, u64 addr,
		      u64 kind)
{
	u32 len = type == GDB_HW_EXEC ? 1 : (u32)MIN(kind, HW_LEN_MAX + 1);
	int free = -1;

	if ((len != 1 && len != 2 && len != 4 && len != HW_LEN_MAX) ||
	    !IS_ALIGNED(addr, len)) {
		gdb_reply(s, GDB_ERR_INVAL);
		return;
	}
	for (int i = GDB_HW_SLOTS - 1; i >= 0; i--) {
		if (s->hw[i].used && s->hw[i].type == type &&
		    s->hw[i].addr == addr && s->hw[i].len == len) {
			gdb_reply(s, "OK");
			return;
		}
		if (!s->hw[i].used)
			free = i;
	}
	if (free < 0) {
		gdb_reply(s, GDB_ERR_NOSPC);
		return;
	}
	if (!s->ops->set_hw(s->t, free, type, addr, len)) {
		gdb_reply(s, GDB_ERR_INVAL);
		return;
	}
	s->hw[free].addr = addr;
	s->hw[free].len = len;
	s->hw[free].type = type;
	s->hw[free].used = true;
	gdb_reply(s, "OK");
}

/* Hardware slot i cleared on every vCPU. */
static void hw_remove(struct gdb_stub *s, int i)
{
	s->ops->set_hw(s->t, i, s->hw[i].type, s->hw[i].addr, 0);
	s->hw[i].used = false;
}

/* z1-z4 type,addr,kind: the slot holding it cleared; OK either way. */
static void hw_clear(struct gdb_stub *s, enum gdb_hw_type type, u64 addr)
{
	for (int i = 0; i < GDB_HW_SLOTS; i++)
		if (s->hw[i].used && s->hw[i].type == type &&
		    s->hw[i].addr == addr)
			hw_remove(s, i);
	gdb_reply(s, "OK");
}

void gdb_cmd_break(struct gdb_stub *s, bool insert, const char *p,
		   const char *end)
{
	u64 type, addr, kind;

	if (!gdb_parse_hex(&p, end, &type) || p == end || *p++ != ',' ||
	    !parse_addr_len(&p, end, &addr, &kind) || type > GDB_HW_ACCESS) {
		gdb_reply(s, GDB_ERR_INVAL);
		return;
	}
	/* conditions and commands (";cond_list") are gdb's to evaluate:
	   this stub does not advertise ConditionalBreakpoints */
	if (p != end && *p != ';') {
		gdb_reply(s, GDB_ERR_INVAL);
		return;
	}
	if (type == 0 && insert)
		sw_insert(s, addr);
	else if (type == 0)
		sw_clear(s, addr);
	else if (insert)
		hw_insert(s, (enum gdb_hw_type)type, addr, kind);
	else
		hw_clear(s, (enum gdb_hw_type)type, addr);
}

void gdb_clear_breakpoints(struct gdb_stub *s)
{
	for (int i = 0; i < GDB_SW_BP_MAX; i++)
		if (s->sw[i].used)
			sw_remove(s, i);
	for (int i = 0; i < GDB_HW_SLOTS; i++)
		if (s->hw[i].used)
			hw_remove(s, i);
}

bool gdb_sw_breakpoint_at(const struct gdb_stub *s, u64 virt, u64 phys)
{
	for (int i = 0; i < GDB_SW_BP_MAX; i++)
		if (s->sw[i].used &&
		    s->sw[i].addr == (s->sw[i].phys ? phys : virt))
			return true;
	return false;
}
