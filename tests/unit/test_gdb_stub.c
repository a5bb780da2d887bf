/*
 * vmm/gdb/: the GDB remote protocol stub (GDB manual Appendix E) over a
 * fake VM (gdb_fake.h). What gdb relies on: framing and checksums, the
 * '+'/'-' acknowledgements and no-ack mode (E.12), the answers of E.4's
 * packets byte for byte, the register layouts of gdb's i386 and amd64
 * descriptions (with the target description that names them), memory and
 * breakpoints through the target, run control and stop replies (E.3),
 * Ctrl-C (E.11), detach; and that input cut anywhere gives the same.
 */
#include <stdio.h>
#include <string.h>
#include "unit.h"
#include "gdb_fake.h"
#include "vmm/gdb/gdb_priv.h"

static struct fake_vm f;
static struct gdb_stub s;
static char out[GDB_OUT_MAX + 1];

/* The i386 and amd64 g packets' bytes (the layouts of gdb_regs.c). */
#define I386_G_BYTES    308
#define AMD64_G_BYTES   552

static void setup(void)
{
	fake_init(&f);
	gdb_init(&s, &fake_ops, &f);
}

/* Everything the stub queued, as a C string. */
static const char *take(void)
{
	u32 n = gdb_output(&s, (u8 *)out, GDB_OUT_MAX);

	out[n] = 0;
	return out;
}

static void feed(const char *str)
{
	gdb_input(&s, (const u8 *)str, (u32)strlen(str));
}

/* payload framed as gdb frames it: $payload#cs. */
static const char *frame(const char *payload)
{
	static char buf[GDB_OUT_MAX + 8];
	u8 sum = 0;

	for (const char *p = payload; *p; p++)
		sum = (u8)(sum + (u8)*p);
	snprintf(buf, sizeof(buf), "$%s#%02x", payload, sum);
	return buf;
}

/* Sends payload as a packet; what came back. */
static const char *ask(const char *payload)
{
	feed(frame(payload));
	return take();
}

/* The answer payload of ask(payload), with the '+' and checksum
   checked. */
static const char *answer(const char *payload)
{
	static char ans[GDB_OUT_MAX + 1];
	const char *r = ask(payload);
	size_t n = strlen(r);

	ck_assert_msg(n >= 5 && r[0] == '+' && r[1] == '$' && r[n - 3] == '#',
		      "%s -> %s", payload, r);
	memcpy(ans, r + 2, n - 5);
	ans[n - 5] = 0;
	ck_assert_str_eq(r + 1, frame(ans));
	return ans;
}

START_TEST(checksum_and_ack)
{
	ck_assert_str_eq(ask("?"), "+$T05thread:01;#07");
	ck_assert_int_eq(f.stops, 1);           /* the first byte attached */
	ck_assert(s.attached && !f.running);
	feed("$?#00");
	ck_assert_str_eq(take(), "-");
	ck_assert_uint_eq(s.n.bad_checksum, 1);
	feed("$?#zz");
	ck_assert_str_eq(take(), "-");
	ck_assert_uint_eq(s.n.bad_checksum, 2);
	feed("+");                              /* ignored */
	feed("junk");                           /* outside packets: ignored */
	ck_assert_str_eq(take(), "");
	feed("-");                              /* retransmit the last */
	ck_assert_str_eq(take(), "$T05thread:01;#07");
	ck_assert_uint_eq(s.n.packets, 1);
}
END_TEST

START_TEST(no_ack_mode)
{
	ck_assert_str_eq(answer("QStartNoAckMode"), "OK");
	ck_assert(s.no_ack);
	ck_assert_str_eq(ask("?"), frame("T05thread:01;"));
	feed("$?#00");                          /* bad: dropped, no '-' */
	ck_assert_str_eq(take(), "");
	ck_assert_uint_eq(s.n.bad_checksum, 1);
}
END_TEST

START_TEST(too_long)
{
	static char big[GDB_PACKET_MAX + 100];

	memset(big, 'm', sizeof(big) - 1);
	ck_assert_str_eq(answer(big), "E22");
	ck_assert_uint_eq(s.n.too_long, 1);
	ck_assert_str_eq(answer("qC"), "QC1");  /* the next one is fine */
	big[GDB_PACKET_MAX] = 0;                /* exactly the limit: read */
	ck_assert_str_eq(answer(big), "E22");   /* as a malformed 'm' */
	ck_assert_uint_eq(s.n.too_long, 1);
}
END_TEST

START_TEST(queries)
{
	ck_assert_str_eq(answer("qSupported:multiprocess+;swbreak+"),
			 "PacketSize=800;qXfer:features:read+;swbreak+;"
			 "hwbreak+;QStartNoAckMode+");
	ck_assert_str_eq(answer("vMustReplyEmpty"), "");
	ck_assert_str_eq(answer("qFoo"), "");
	ck_assert_str_eq(answer("X401000,1:a"), "");
	ck_assert_uint_eq(s.n.unknown, 3);
	ck_assert_str_eq(answer("qAttached"), "1");
	ck_assert_str_eq(answer("qC"), "QC1");
	ck_assert_str_eq(answer("qfThreadInfo"), "m1,2");
	ck_assert_str_eq(answer("qsThreadInfo"), "l");
	ck_assert_str_eq(answer("Hg2"), "OK");
	ck_assert_str_eq(answer("qC"), "QC2");
	ck_assert_str_eq(answer("Hg3"), "E22");
	ck_assert_str_eq(answer("Hg0"), "OK");
	ck_assert_str_eq(answer("Hc-1"), "OK");
	ck_assert_str_eq(answer("Hx1"), "E22");
	ck_assert_str_eq(answer("T2"), "OK");
	ck_assert_str_eq(answer("T3"), "E22");
	ck_assert_str_eq(answer("T0"), "E22");
	ck_assert_int_eq(f.misuse, 0);
}
END_TEST

/* The hex of the n bytes of v, little-endian. */
static const char *le_hex(u64 v, int n)
{
	static char buf[40];

	for (int i = 0; i < n; i++)
		snprintf(buf + 2 * i, 3, "%02x", (unsigned)(v >> (8 * i)) & 0xff);
	return buf;
}

static void check_at(const char *g, u32 byte_off, u64 v, int n)
{
	ck_assert_msg(!strncmp(g + 2 * byte_off, le_hex(v, n), 2 * (size_t)n),
		      "at byte %u: want %s, have %.*s", byte_off, le_hex(v, n),
		      2 * n, g + 2 * byte_off);
}

/* Known values in both vCPUs' registers. */
static void known_regs(void)
{
	for (int v = 0; v < FAKE_VCPUS; v++) {
		struct gdb_regs *r = &f.regs[v];

		for (int i = 0; i < 16; i++)
			r->gpr[i] = 0x1111111111111111ull * (u64)(i + 1) + (u64)v;
		r->rip = 0xffffffff81000000ull + (u64)v;
		r->rflags = 0x246;
		r->cs = 0x10; r->ss = 0x18; r->ds = 0x20; r->es = 0x28;
		r->fs = 0x30; r->gs = 0x38;
		r->fs_base = 0x7f0000001000ull;
		r->gs_base = 0xffff888000000000ull;
		r->fx[0] = 0x7f; r->fx[1] = 0x03;       /* FCW 0x037f */
		r->fx[24] = 0x80; r->fx[25] = 0x1f;     /* MXCSR 0x1f80 */
		for (int i = 0; i < 16; i++)
			r->fx[160 + 16 * 15 + i] = (u8)(0xa0 + i);  /* xmm15 */
		for (int i = 0; i < 10; i++)
			r->fx[32 + 16 * 7 + i] = (u8)(0x50 + i);    /* st7 */
	}
}

START_TEST(g_i386)
{
	const char *g;

	known_regs();
	g = answer("g");
	ck_assert_uint_eq(strlen(g), 2 * I386_G_BYTES);
	check_at(g, 0, 0x11111111, 4);          /* eax = gpr[0] */
	check_at(g, 4, 0x22222222, 4);          /* ecx */
	check_at(g, 12, 0x44444444, 4);         /* ebx = gpr[3] */
	check_at(g, 32, 0x81000000, 4);         /* eip */
	check_at(g, 36, 0x246, 4);              /* eflags */
	check_at(g, 40, 0x10, 4);               /* cs */
	check_at(g, 60, 0x38, 4);               /* gs */
	check_at(g, 64 + 70, 0x5756555453525150ull, 8);  /* st7 */
	check_at(g, 144, 0x037f, 4);            /* fctrl */
	check_at(g, 152, 0xffff, 4);            /* ftag: all empty */
	check_at(g, 304, 0x1f80, 4);            /* mxcsr */
	ck_assert_str_eq(answer("p8"), "00000081");      /* eip */
	ck_assert_str_eq(answer("p28"), "801f0000");     /* mxcsr, 40 */
	ck_assert_str_eq(answer("p29"), "E22");
	ck_assert_int_eq(f.misuse, 0);
}
END_TEST

START_TEST(g_amd64)
{
	const char *g;

	known_regs();
	ck_assert_str_eq(answer("Hg2"), "OK");
	g = answer("g");
	ck_assert_uint_eq(strlen(g), 2 * AMD64_G_BYTES);
	check_at(g, 0, 0x1111111111111112ull, 8);      /* rax */
	check_at(g, 8, 0x4444444444444445ull, 8);      /* rbx = gpr[3] */
	check_at(g, 16, 0x2222222222222223ull, 8);     /* rcx */
	check_at(g, 48, 0x6666666666666667ull, 8);     /* rbp = gpr[5] */
	check_at(g, 56, 0x5555555555555556ull, 8);     /* rsp = gpr[4] */
	check_at(g, 120, 0x0000000000000001ull + 0x1111111111111111ull * 16,
		 8);                                    /* r15 */
	check_at(g, 128, 0xffffffff81000001ull, 8);    /* rip */
	check_at(g, 136, 0x246, 4);                    /* eflags */
	check_at(g, 140, 0x10, 4);                     /* cs */
	check_at(g, 164 + 70, 0x5756555453525150ull, 8);  /* st7 */
	check_at(g, 244, 0x037f, 4);                   /* fctrl */
	check_at(g, 276 + 15 * 16, 0xa7a6a5a4a3a2a1a0ull, 8);  /* xmm15 */
	check_at(g, 532, 0x1f80, 4);                   /* mxcsr */
	check_at(g, 536, 0x7f0000001000ull, 8);        /* fs_base */
	check_at(g, 544, 0xffff888000000000ull, 8);    /* gs_base */
	ck_assert_str_eq(answer("p10"), "01000081ffffffff");  /* rip, 16 */
	ck_assert_str_eq(answer("p3a"), "000000008088ffff");  /* gs_base */
	ck_assert_str_eq(answer("p3b"), "E22");
}
END_TEST

/* ftag: empty where the abridged bit is clear, else the value's class;
   ST(i) is physical register TOP + i (SDM Vol. 1 §10.5.1.1). */
START_TEST(ftag_full)
{
	u8 *fx = f.regs[0].fx;

	fx[4] = 0x81;                   /* R0 and R7 in use */
	fx[3] = 7 << 3;                 /* TOP = 7: ST0 is R7, ST1 is R0 */
	fx[32 + 7] = 0x80;              /* ST0 = 1.0: valid */
	fx[32 + 8] = 0xff; fx[32 + 9] = 0x3f;
	/* ST1 = 0: zero */
	ck_assert_str_eq(answer("p1a"), le_hex(0x3ffd, 4));
	fx[32 + 16 + 9] = 0x7f; fx[32 + 16 + 8] = 0xff;  /* ST1 = NaN/inf */
	ck_assert_str_eq(answer("p1a"), le_hex(0x3ffe, 4));
	/* gdb writes the full tag: the abridged one is what is in use */
	ck_assert_str_eq(answer("P1a=fcff0000"), "OK");
	ck_assert_uint_eq(f.regs[0].fx[4], 0x01);
}
END_TEST

START_TEST(g_write_round_trip)
{
	static char g[2 * AMD64_G_BYTES + 2];
	struct gdb_regs before;

	known_regs();
	answer("Hg2");
	snprintf(g, sizeof(g), "G%s", answer("g"));
	before = f.regs[1];
	memset(&f.regs[1], 0, sizeof(f.regs[1]));
	f.regs[1].fx[500] = 0x77;               /* not in the layout: kept */
	ck_assert_str_eq(answer(g), "OK");
	ck_assert_uint_eq(f.regs[1].gpr[3], before.gpr[3]);
	ck_assert_uint_eq(f.regs[1].rip, before.rip);
	ck_assert_uint_eq(f.regs[1].gs, before.gs);
	ck_assert_uint_eq(f.regs[1].gs_base, before.gs_base);
	ck_assert(!memcmp(f.regs[1].fx, before.fx, 500));
	ck_assert_uint_eq(f.regs[1].fx[500], 0x77);
	g[strlen(g) - 2] = 0;                   /* one byte short */
	ck_assert_str_eq(answer(g), "E22");
	ck_assert_str_eq(answer("P10=0010400000000000"), "OK");
	ck_assert_uint_eq(f.regs[1].rip, 0x401000);
	ck_assert_str_eq(answer("P10=00104000"), "E22");  /* too short */
	ck_assert_str_eq(answer("P10=001040000000000x"), "E22");
	answer("Hg1");
	ck_assert_str_eq(answer("P0=78563412"), "OK");    /* eax */
	ck_assert_uint_eq(f.regs[0].gpr[0], 0x1111111112345678ull);
}
END_TEST

START_TEST(memory)
{
	ck_assert_str_eq(answer("m401000,4"), "00010203");
	ck_assert_uint_eq(f.last_phys, false);
	ck_assert_str_eq(answer("m4010fe,8"), "feff");   /* short read */
	ck_assert_str_eq(answer("m500000,4"), "E0e");    /* nothing there */
	ck_assert_str_eq(answer("m401000,0"), "");
	ck_assert_str_eq(answer("M401010,2:abcd"), "OK");
	ck_assert_uint_eq(f.vmem[0x10], 0xab);
	ck_assert_uint_eq(f.vmem[0x11], 0xcd);
	ck_assert_str_eq(answer("M4010ff,2:abcd"), "E0e"); /* short write */
	ck_assert_str_eq(answer("M401010,2:abc"), "E22");
	ck_assert_str_eq(answer("M401010,2:abcx"), "E22");
	ck_assert_str_eq(answer("mzz,4"), "E22");
	ck_assert_str_eq(answer("m401000"), "E22");
	ck_assert_str_eq(answer("m11111111111111111,1"), "E22");
	/* a long read: clamped to what fits a packet */
	ck_assert_uint_eq(strlen(answer("m401000,100000")), 2 * FAKE_MEM);
	ck_assert_int_eq(f.misuse, 0);
}
END_TEST

START_TEST(escaped_input)
{
	/* "m401000,4" with its '0' after 'm4' sent as '}' 0x10 */
	static const char pkt[] = "$m4}\x10" "1000,4#";
	char buf[64];
	u8 sum = 0;

	for (const char *p = pkt + 1; *p != '#'; p++)
		sum = (u8)(sum + (u8)*p);
	snprintf(buf, sizeof(buf), "%s%02x", pkt, sum);
	feed(buf);
	snprintf(buf, sizeof(buf), "+%s", frame("00010203"));
	ck_assert_str_eq(take(), buf);
}
END_TEST

START_TEST(escaped_output)
{
	gdb_pkt_begin(&s);
	gdb_pkt_bin(&s, '#');
	gdb_pkt_bin(&s, '$');
	gdb_pkt_bin(&s, '}');
	gdb_pkt_bin(&s, '*');
	gdb_pkt_bin(&s, 'a');
	gdb_pkt_end(&s);
	/* '}' then the byte XOR 0x20; the sum is of what is sent */
	ck_assert_str_eq(take(), frame("}\x03}\x04}]}\x0a" "a"));
}
END_TEST

START_TEST(sw_breakpoints)
{
	ck_assert_str_eq(answer("Z0,401004,1"), "OK");
	ck_assert_uint_eq(f.vmem[4], 0xcc);
	ck_assert(f.bp_on);
	ck_assert_int_eq(f.bp_on_calls, 1);
	ck_assert_str_eq(answer("Z0,401004,1"), "OK");   /* again: fine */
	ck_assert_str_eq(answer("Z0,401008,1"), "OK");
	ck_assert_int_eq(f.bp_on_calls, 1);
	ck_assert_str_eq(answer("m401004,1"), "04");     /* gdb sees 04 */
	ck_assert(gdb_sw_breakpoint_at(&s, 0x401004, 0));
	ck_assert(!gdb_sw_breakpoint_at(&s, 0x401005, 0x401004));
	ck_assert_str_eq(answer("z0,401004,1"), "OK");
	ck_assert_uint_eq(f.vmem[4], 0x04);
	ck_assert(f.bp_on);
	ck_assert_str_eq(answer("z0,401008,1"), "OK");
	ck_assert_uint_eq(f.vmem[8], 0x08);
	ck_assert(!f.bp_on);
	ck_assert_int_eq(f.bp_off_calls, 1);
	ck_assert_str_eq(answer("Z0,500000,1"), "E0e");  /* not mapped */
	ck_assert(!f.bp_on);
	/* the table fills */
	for (int i = 0; i < GDB_SW_BP_MAX; i++) {
		char z[32];

		snprintf(z, sizeof(z), "Z0,%x,1", (unsigned)FAKE_VIRT + i);
		ck_assert_str_eq(answer(z), "OK");
	}
	ck_assert_str_eq(answer("Z0,4010ff,1"), "E28");
	ck_assert_int_eq(f.misuse, 0);
}
END_TEST

START_TEST(hw_breakpoints)
{
	ck_assert_str_eq(answer("Z2,401010,4"), "OK");
	ck_assert_int_eq(f.hw.slot, 0);
	ck_assert_int_eq(f.hw.type, GDB_HW_WRITE);
	ck_assert_uint_eq(f.hw.addr, 0x401010);
	ck_assert_uint_eq(f.hw.len, 4);
	ck_assert_str_eq(answer("Z2,401010,3"), "E22");  /* bad length */
	ck_assert_str_eq(answer("Z3,401012,4"), "E22");  /* unaligned */
	ck_assert_str_eq(answer("Z1,401011,1"), "OK");
	ck_assert_int_eq(f.hw.slot, 1);
	ck_assert_uint_eq(f.hw.len, 1);
	ck_assert_str_eq(answer("Z4,401018,8"), "OK");
	ck_assert_str_eq(answer("Z3,401020,2"), "OK");
	ck_assert_int_eq(f.hw.slot, 3);
	ck_assert_int_eq(f.hw.type, GDB_HW_READ);
	ck_assert_str_eq(answer("Z3,401030,2"), "E28");  /* slots used up */
	ck_assert_str_eq(answer("z2,401010,4"), "OK");
	ck_assert_int_eq(f.hw.slot, 0);
	ck_assert_uint_eq(f.hw.len, 0);
	ck_assert_str_eq(answer("Z3,401030,2"), "OK");   /* slot 0 again */
	ck_assert_int_eq(f.hw.slot, 0);
	ck_assert_str_eq(answer("Z5,401030,2"), "E22");
	f.refuse_hw = true;
	ck_assert_str_eq(answer("z3,401030,2"), "OK");
	ck_assert_str_eq(answer("Z2,401030,2"), "E22");  /* target says no */
	ck_assert_int_eq(f.misuse, 0);
}
END_TEST

START_TEST(continue_and_stops)
{
	struct gdb_stop st = { .why = GDB_STOP_BREAK, .vcpu = 1 };

	ck_assert_str_eq(ask("c"), "+");        /* no answer yet */
	ck_assert_int_eq(f.resumes, 1);
	ck_assert_int_eq(f.last_resume, -1);
	ck_assert(s.running);
	ck_assert_str_eq(answer("g"), "E16");   /* busy: never the VM */
	f.running = false;
	gdb_stopped(&s, &st);
	ck_assert_str_eq(take(), frame("T05thread:02;swbreak:;"));
	ck_assert_uint_eq(s.n.stops, 1);
	ck_assert_str_eq(answer("?"), "T05thread:02;swbreak:;");
	/* s steps the vCPU of the last stop, then Hc's */
	ck_assert_str_eq(ask("s"), "+");
	ck_assert_int_eq(f.last_resume, 1);
	f.running = false;
	st = (struct gdb_stop){ .why = GDB_STOP_STEP, .vcpu = 1 };
	gdb_stopped(&s, &st);
	ck_assert_str_eq(take(), frame("T05thread:02;"));
	ck_assert_str_eq(answer("Hc1"), "OK");
	ck_assert_str_eq(ask("s401000"), "+");
	ck_assert_int_eq(f.last_resume, 0);
	ck_assert_uint_eq(f.regs[0].rip, 0x401000);
	f.running = false;
	gdb_stopped(&s, &st);
	take();
	/* a stray stop while stopped: only '?' learns of it */
	gdb_stopped(&s, &st);
	ck_assert_str_eq(take(), "");
	ck_assert_int_eq(f.misuse, 0);
}
END_TEST

START_TEST(watch_stops)
{
	struct gdb_stop st = { .why = GDB_STOP_HW, .vcpu = 0, .slot = 0,
			       .data_addr = 0x401012 };

	answer("Z2,401010,4");
	answer("Z1,401000,1");
	answer("Z3,401020,4");
	answer("Z4,401028,8");
	ask("c");
	f.running = false;
	gdb_stopped(&s, &st);
	ck_assert_str_eq(take(), frame("T05thread:01;watch:401012;"));
	ask("c");
	st.slot = 1;
	gdb_stopped(&s, &st);
	ck_assert_str_eq(take(), frame("T05thread:01;hwbreak:;"));
	ask("c");
	st.slot = 2;
	gdb_stopped(&s, &st);
	ck_assert_str_eq(take(), frame("T05thread:01;rwatch:401012;"));
	ask("c");
	st.slot = 3;
	gdb_stopped(&s, &st);
	ck_assert_str_eq(take(), frame("T05thread:01;awatch:401012;"));
}
END_TEST

START_TEST(ctrl_c)
{
	ask("c");
	feed("\x03");
	ck_assert_int_eq(f.stops, 2);
	ck_assert(!f.running && !s.running);
	ck_assert_str_eq(take(), frame("T02thread:01;"));
	feed("\x03");                           /* stopped: ignored */
	ck_assert_int_eq(f.stops, 2);
	ck_assert_str_eq(take(), "");
}
END_TEST

START_TEST(exited)
{
	struct gdb_stop st = { .why = GDB_STOP_EXITED, .status = 0x103 };

	ask("c");
	f.running = false;
	gdb_stopped(&s, &st);
	ck_assert_str_eq(take(), frame("W03"));
	ck_assert(!s.attached);
	feed("+");                              /* gdb's ack: no new session */
	ck_assert_int_eq(f.stops, 1);
	ck_assert_str_eq(answer("?"), "W03");   /* a new one learns it */
}
END_TEST

START_TEST(detach)
{
	answer("Z0,401004,1");
	answer("Z2,401010,4");
	ck_assert_str_eq(answer("D"), "OK");
	ck_assert_uint_eq(f.vmem[4], 0x04);
	ck_assert(!f.bp_on);
	ck_assert_uint_eq(f.hw.len, 0);
	ck_assert_int_eq(f.detaches, 1);
	ck_assert(!s.attached);
	ck_assert(!gdb_sw_breakpoint_at(&s, 0x401004, 0));
	feed("+");
	ck_assert_int_eq(f.stops, 1);
	/* a new session attaches again; k detaches without an answer */
	ck_assert_str_eq(answer("Z0,401004,1"), "OK");
	ck_assert_int_eq(f.stops, 2);
	ck_assert_str_eq(ask("k"), "+");
	ck_assert_uint_eq(f.vmem[4], 0x04);
	ck_assert_int_eq(f.detaches, 2);
	/* gdb went away while the VM ran */
	answer("Z0,401004,1");
	ask("c");
	gdb_detach(&s);
	ck_assert_uint_eq(f.vmem[4], 0x04);
	ck_assert_int_eq(f.detaches, 3);
	ck_assert_int_eq(f.misuse, 0);
}
END_TEST

/* The whole target.xml for the selected vCPU, chunk by chunk. */
static void read_xml(char *xml, size_t size, u32 chunk)
{
	size_t len = 0;

	for (;;) {
		char q[80];
		const char *a;

		snprintf(q, sizeof(q), "qXfer:features:read:target.xml:%zx,%x",
			 len, chunk);
		a = answer(q);
		ck_assert(a[0] == 'm' || a[0] == 'l');
		ck_assert_uint_le(strlen(a + 1), chunk);
		ck_assert_uint_lt(len + strlen(a + 1), size);
		memcpy(xml + len, a + 1, strlen(a + 1));
		len += strlen(a + 1);
		if (a[0] == 'l')
			break;
	}
	xml[len] = 0;
}

/* The names, in this order, in the XML's <reg name="..."> elements. */
static void check_names(const char *xml, const char *const *names, int n)
{
	const char *p = xml;
	int i = 0, regs = 0;

	for (const char *q = xml; (q = strstr(q, "<reg ")); q++)
		regs++;
	ck_assert_int_eq(regs, n);
	for (i = 0; i < n; i++) {
		char want[40];

		snprintf(want, sizeof(want), "<reg name=\"%s\"", names[i]);
		p = strstr(p, want);
		ck_assert_msg(p != NULL, "%s missing or out of order", names[i]);
	}
}

START_TEST(target_xml)
{
	static char xml[16384];
	static const char *const i386[] = {
		"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip",
		"eflags", "cs", "ss", "ds", "es", "fs", "gs", "st0", "st1",
		"st2", "st3", "st4", "st5", "st6", "st7", "fctrl", "fstat",
		"ftag", "fiseg", "fioff", "foseg", "fooff", "fop", "xmm0",
		"xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "mxcsr",
	};
	static const char *const amd64[] = {
		"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8",
		"r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip",
		"eflags", "cs", "ss", "ds", "es", "fs", "gs", "st0", "st1",
		"st2", "st3", "st4", "st5", "st6", "st7", "fctrl", "fstat",
		"ftag", "fiseg", "fioff", "foseg", "fooff", "fop", "xmm0",
		"xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
		"xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
		"mxcsr", "fs_base", "gs_base",
	};

	read_xml(xml, sizeof(xml), 0x100);
	ck_assert_ptr_nonnull(strstr(xml, "<architecture>i386</architecture>"));
	ck_assert_ptr_nonnull(strstr(xml, "org.gnu.gdb.i386.core"));
	ck_assert_ptr_nonnull(strstr(xml, "org.gnu.gdb.i386.sse"));
	ck_assert_ptr_null(strstr(xml, "segments"));
	ck_assert(strstr(xml, "</target>") && xml[strlen(xml) - 1] == '\n');
	check_names(xml, i386, (int)ARRAY_SIZE(i386));
	answer("Hg2");
	read_xml(xml, sizeof(xml), 0x7ff);
	ck_assert_ptr_nonnull(strstr(xml,
				     "<architecture>i386:x86-64</architecture>"));
	ck_assert_ptr_nonnull(strstr(xml, "org.gnu.gdb.i386.segments"));
	check_names(xml, amd64, (int)ARRAY_SIZE(amd64));
	ck_assert_str_eq(answer("qXfer:features:read:other.xml:0,10"), "E00");
	ck_assert_str_eq(answer("qXfer:features:read:target.xml:0"), "E22");
	ck_assert_str_eq(answer("qXfer:features:read:target.xml:ffff,10"),
			 "l");
}
END_TEST

/* "O" + hex of text. */
static const char *o_packet(const char *text)
{
	static char buf[256];

	buf[0] = 'O';
	for (size_t i = 0; text[i]; i++)
		snprintf(buf + 1 + 2 * i, 3, "%02x", (u8)text[i]);
	return frame(buf);
}

START_TEST(monitor)
{
	char expect[512], o[256];

	/* "phys" */
	snprintf(o, sizeof(o), "%s",
		 o_packet("m, M and Z0 use guest-physical addresses\n"));
	snprintf(expect, sizeof(expect), "+%s%s", o, frame("OK"));
	ck_assert_str_eq(ask("qRcmd,70687973"), expect);
	ck_assert(s.phys);
	ck_assert_str_eq(answer("m1000,2"), "fffe");
	ck_assert(f.last_phys);
	ck_assert_str_eq(answer("Z0,1001,1"), "OK");
	ck_assert_uint_eq(f.pmem[1], 0xcc);
	ck_assert(gdb_sw_breakpoint_at(&s, 0x999, 0x1001));
	ck_assert(!gdb_sw_breakpoint_at(&s, 0x1001, 0x999));
	/* "virt" */
	ask("qRcmd,76697274");
	ck_assert(!s.phys);
	ck_assert_str_eq(answer("m401000,2"), "0001");
	ck_assert(!f.last_phys);
	/* "help" */
	snprintf(expect, sizeof(expect), "%s", ask("qRcmd,68656c70"));
	ck_assert_ptr_nonnull(strstr(expect, "$OK#9a"));
	ck_assert_ptr_nonnull(strstr(expect, "+$O"));
	/* "bogus" */
	snprintf(o, sizeof(o), "%s",
		 o_packet("unknown monitor command: bogus (try help)\n"));
	snprintf(expect, sizeof(expect), "+%s%s", o, frame("E22"));
	ck_assert_str_eq(ask("qRcmd,626f677573"), expect);
	ck_assert_str_eq(answer("qRcmd,6"), "E22");
	ck_assert_str_eq(answer("D"), "OK");
	ck_assert_uint_eq(f.pmem[1], 0xfe);     /* restored in its mode */
}
END_TEST

/* The same session, whole and one byte at a time: the same bytes back. */
START_TEST(fragmented)
{
	static char whole[GDB_OUT_MAX + 1], bytes[GDB_OUT_MAX + 1];
	static char script[4096];
	static const char *const pkts[] = {
		"qSupported:swbreak+", "?", "Hg2", "g", "m401000,10",
		"Z0,401004,1", "qXfer:features:read:target.xml:0,200",
		"M401020,2:1234", "z0,401004,1", "qRcmd,70687973",
		"p10", "D",
	};
	size_t n = 0;

	known_regs();
	script[0] = 0;
	n = (size_t)snprintf(script, sizeof(script), "+");
	for (size_t i = 0; i < ARRAY_SIZE(pkts); i++)
		n += (size_t)snprintf(script + n, sizeof(script) - n, "%s",
				      frame(pkts[i]));
	ck_assert_uint_lt(n, sizeof(script));
	feed(script);
	strcpy(whole, take());
	setup();
	known_regs();
	for (size_t i = 0; i < n; i++)
		gdb_input(&s, (const u8 *)script + i, 1);
	strcpy(bytes, take());
	ck_assert_str_eq(whole, bytes);
	ck_assert_ptr_nonnull(strstr(whole, "$OK#9a"));
	ck_assert(!s.out_lost);
}
END_TEST

START_TEST(output_full)
{
	/* gdb never reads: answers queue up to GDB_OUT_MAX, then are lost */
	answer("Hg2");
	for (int i = 0; i < 20; i++)
		feed(frame("g"));
	ck_assert(s.out_lost);
	ck_assert_uint_le(s.out_len, GDB_OUT_MAX);
	/* whole answers only: '+' and $...#cs each; the '+'s still fit */
	ck_assert_uint_gt(s.out_len, GDB_OUT_MAX - (2 + 2 * AMD64_G_BYTES + 3));
	take();
	ck_assert_str_eq(answer("qC"), "QC2");  /* drained: answers again */
}
END_TEST

Suite *gdb_suite(void)
{
	Suite *su = suite_create("gdb_stub");
	TCase *tc = tcase_create("gdb_stub");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, checksum_and_ack);
	tcase_add_test(tc, no_ack_mode);
	tcase_add_test(tc, too_long);
	tcase_add_test(tc, queries);
	tcase_add_test(tc, g_i386);
	tcase_add_test(tc, g_amd64);
	tcase_add_test(tc, ftag_full);
	tcase_add_test(tc, g_write_round_trip);
	tcase_add_test(tc, memory);
	tcase_add_test(tc, escaped_input);
	tcase_add_test(tc, escaped_output);
	tcase_add_test(tc, sw_breakpoints);
	tcase_add_test(tc, hw_breakpoints);
	tcase_add_test(tc, continue_and_stops);
	tcase_add_test(tc, watch_stops);
	tcase_add_test(tc, ctrl_c);
	tcase_add_test(tc, exited);
	tcase_add_test(tc, detach);
	tcase_add_test(tc, target_xml);
	tcase_add_test(tc, monitor);
	tcase_add_test(tc, fragmented);
	tcase_add_test(tc, output_full);
	suite_add_tcase(su, tc);
	return su;
}
