/*
 * libFuzzer harness for the GDB remote protocol stub (vmm/gdb/): what a
 * gdb (or anyone who reaches `uhvctl gdb`'s port) sends goes into
 * gdb_input in chunks the input chooses (raw, or wrapped as packets
 * with a right checksum so that the commands are reached), against tests/unit/gdb_fake.h's
 * fake VM; between chunks the VM may stop on its own (gdb_stopped with
 * any reason) and the output is drained in pieces of any size.
 *
 * Besides the sanitizers, the harness checks the stub's promises:
 * - it calls the VM only as struct gdb_target_ops allows (a register,
 *   memory or breakpoint op only while the VM is stopped, vCPUs and
 *   slots in range, #BP interception toggled only on a change): the
 *   fake's misuse count stays 0;
 * - its output is the protocol's framing and nothing else: '+' and '-'
 *   acknowledgements, and packets "$payload#cs" whose two hex digits are
 *   the modulo-256 sum of the payload (GDB manual, E.1 "Overview");
 * - after gdb_detach the VM runs (unless it stopped for good: then no
 *   more input, as uhv refuses it), with no breakpoint of the stub left: #BP
 *   interception off and every hardware slot cleared.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *         tests/fuzz/fuzz_gdb_stub.c vmm/gdb/gdb_stub.c vmm/gdb/gdb_mem.c \
 *         vmm/gdb/gdb_regs.c lib/fmt.c string_renamed.o -o fuzz_gdb_stub
 * where string_renamed.o is lib/string.c built as tests/unit.mk builds it.
 */
#include <stdio.h>
#include <stdlib.h>
#include "tests/unit/gdb_fake.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

/* The output's framing, checked as a stream across drains. */
enum frame_state { F_ACK, F_PAYLOAD, F_CS1, F_CS2 };

struct framing {
	enum frame_state st;
	u8 sum;         /* of the payload so far */
	u8 cs;          /* the digits read so far */
};

static int hex_digit(u8 c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* One output byte through the framing's state machine; aborts on a
   byte the protocol does not allow where it stands. */
static void frame_byte(struct framing *f, u8 c)
{
	int d;

	switch (f->st) {
	case F_ACK:
		CHECK(c == '+' || c == '-' || c == '$');
		if (c == '$') {
			f->st = F_PAYLOAD;
			f->sum = 0;
		}
		return;
	case F_PAYLOAD:
		CHECK(c != '$');
		if (c == '#')
			f->st = F_CS1;
		else
			f->sum = (u8)(f->sum + c);
		return;
	case F_CS1:
	case F_CS2:
		d = hex_digit(c);
		CHECK(d >= 0);
		f->cs = (u8)(f->st == F_CS1 ? d << 4 : f->cs | d);
		if (f->st == F_CS2)
			CHECK(f->cs == f->sum);
		f->st = f->st == F_CS1 ? F_CS2 : F_ACK;
		return;
	}
}

/* Drains up to max bytes (at least 1) and checks them. */
static void drain(struct gdb_stub *s, struct framing *f, u32 max)
{
	static u8 buf[GDB_OUT_MAX];
	u32 n;

	max = MIN(MAX(max, 1u), (u32)GDB_OUT_MAX);
	n = gdb_output(s, buf, max);
	CHECK(n <= max);
	for (u32 i = 0; i < n; i++)
		frame_byte(f, buf[i]);
}

/* The VM stopped for good (GDB_STOP_EXITED): uhv takes no more gdb
   bytes for it (the gdb command wants a running or paused VM). */
static bool gone;

/* The VM stops on its own, for a reason and on a vCPU the input picks,
   as vm_gdb.c reports it: a breakpoint, step or watchpoint only while it
   runs for gdb (continued or stepping), for good at any time. */
static void stop_on_its_own(struct gdb_stub *s, struct fake_vm *f,
			    const u8 *p)
{
	struct gdb_stop st = {
		.why = (enum gdb_stop_why)(p[0] % (GDB_STOP_EXITED + 1)),
		.vcpu = p[1] % FAKE_VCPUS,
		.slot = p[1] / FAKE_VCPUS % GDB_HW_SLOTS,
		.data_addr = FAKE_VIRT + p[2],
		.status = p[2],
	};

	if (st.why != GDB_STOP_EXITED && !s->running)
		return;
	f->running = false;
	gone = st.why == GDB_STOP_EXITED;
	gdb_stopped(s, &st);
}

/* Sends p[0..len) to the stub as a packet with its right checksum (what
   a gdb sends), so the fuzzer reaches the commands and not only the
   framing's '-'. */
static void send_packet(struct gdb_stub *s, const u8 *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	u8 head = '$', tail[3] = { '#' };
	u8 sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (u8)(sum + p[i]);
	tail[1] = (u8)hex[sum >> 4];
	tail[2] = (u8)hex[sum & 15];
	gdb_input(s, &head, 1);
	gdb_input(s, p, (u32)len);
	gdb_input(s, tail, sizeof(tail));
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct gdb_stub s;
	static struct fake_vm f;
	struct framing fr = { .st = F_ACK };
	size_t at = 0;

	fake_init(&f);
	gdb_init(&s, &fake_ops, &f);
	gone = false;
	/* each step: a control byte, then up to 63 bytes for gdb_input, as
	   they are or (bit 7) as a packet's payload */
	while (at < size && !gone) {
		u8 ctl = data[at++];
		size_t len = MIN((size_t)(ctl & 63), size - at);

		if (ctl & 128)
			send_packet(&s, data + at, len);
		else
			gdb_input(&s, data + at, (u32)len);
		at += len;
		if (ctl & 64 && size - at >= 3) {
			stop_on_its_own(&s, &f, data + at);
			at += 3;
		}
		drain(&s, &fr, (u32)(len * 97 + ctl));
		CHECK(f.misuse == 0);
	}
	drain(&s, &fr, GDB_OUT_MAX);
	gdb_detach(&s);
	drain(&s, &fr, GDB_OUT_MAX);
	CHECK(f.misuse == 0 && !s.attached);
	if (gone)
		return 0;
	CHECK(f.running && !f.bp_on);
	for (int i = 0; i < GDB_HW_SLOTS; i++)
		CHECK(!s.hw[i].used);
	return 0;
}
