/*
 * A GDB remote serial protocol stub for one VM (GDB manual, Appendix E,
 * "Remote Serial Protocol"). Pure C: the bytes gdb sends go in with
 * gdb_input, the bytes for gdb come out with gdb_output, and the VM is
 * reached only through struct gdb_target_ops, so the host unit tests and
 * the fuzzer run the same code with a fake VM.
 *
 * The stub owns the whole protocol, framing included ($payload#cs, the
 * '+'/'-' acknowledgements, Ctrl-C as a lone 0x03): what carries the bytes
 * (uhvctl over the control channel) is a plain byte pipe, and may cut
 * them anywhere.
 *
 * All-stop: the VM stops as a whole (attach, Ctrl-C, a breakpoint, a
 * finished step) and goes on as a whole (continue); a step runs one vCPU
 * for one instruction while the others stay stopped. One gdb thread per
 * vCPU, thread ids 1..n for vCPUs 0..n-1.
 *
 * Registers follow the vCPU's mode: a vCPU in IA-32e mode (EFER.LMA) is
 * described as i386:x86-64, any other as i386 (qXfer target.xml), with
 * the register names and order of gdb's org.gnu.gdb.i386.core and .sse
 * features (and .segments's fs_base and gs_base in 64-bit mode).
 */
#ifndef UHV_VMM_GDB_STUB_H
#define UHV_VMM_GDB_STUB_H

#include "lib/types.h"

#define GDB_PACKET_MAX  2048   /* payload bytes of a packet from gdb (PacketSize) */
#define GDB_OUT_MAX     8192   /* bytes for gdb not yet taken by gdb_output */
#define GDB_SW_BP_MAX   64     /* software breakpoints (Z0) at once */
#define GDB_HW_SLOTS    4      /* hardware breakpoints and watchpoints: DR0-DR3 */
#define GDB_FXSAVE_SIZE 512    /* SDM Vol. 1 §10.5.1, Table 10-2 */

enum gdb_arch { GDB_ARCH_I386, GDB_ARCH_AMD64 };

/* A vCPU's registers as gdb sees them. */
struct gdb_regs {
	u64 gpr[16];            /* x86 register numbers: rax rcx rdx rbx rsp
				   rbp rsi rdi r8-r15 */
	u64 rip, rflags;
	u16 cs, ss, ds, es, fs, gs;     /* selectors */
	u64 fs_base, gs_base;
	u8 fx[GDB_FXSAVE_SIZE]; /* the FXSAVE image: x87 state, MXCSR, XMM */
};

/* Z1-Z4's types, as gdb numbers them. */
enum gdb_hw_type {
	GDB_HW_EXEC = 1,        /* Z1: hardware breakpoint */
	GDB_HW_WRITE = 2,       /* Z2: write watchpoint */
	GDB_HW_READ = 3,        /* Z3: read watchpoint (set as read/write:
				   x86 has no read-only data breakpoint) */
	GDB_HW_ACCESS = 4,      /* Z4: access watchpoint */
};

/* Why the VM stopped on its own, for gdb_stopped. */
enum gdb_stop_why {
	GDB_STOP_BREAK,         /* #BP at a software breakpoint of the stub */
	GDB_STOP_STEP,          /* the step (resume with a vCPU) is done */
	GDB_STOP_HW,            /* #DB from hardware slot `slot` */
	GDB_STOP_EXITED,        /* the VM stopped for good (status) */
};

struct gdb_stop {
	enum gdb_stop_why why;
	int vcpu;               /* the vCPU that stopped (not EXITED) */
	int slot;               /* GDB_STOP_HW: 0-3 */
	u64 data_addr;          /* GDB_STOP_HW on a watchpoint: the address */
	u32 status;             /* GDB_STOP_EXITED: the guest's exit status */
};

/*
 * The VM, as the stub reaches it. Every function is called only while
 * the VM is stopped, except stop itself and nr_vcpus.
 */
struct gdb_target_ops {
	int (*nr_vcpus)(void *t);
	enum gdb_arch (*arch)(void *t, int vcpu);
	bool (*get_regs)(void *t, int vcpu, struct gdb_regs *r);
	bool (*set_regs)(void *t, int vcpu, const struct gdb_regs *r);
	/* Bytes copied from or to addr: guest-physical if phys, else
	   virtual through vcpu's page tables; fewer than len where a page
	   is not mapped (or not RAM). */
	u32 (*read_mem)(void *t, int vcpu, bool phys, u64 addr, u8 *buf,
			u32 len);
	u32 (*write_mem)(void *t, int vcpu, bool phys, u64 addr,
			 const u8 *buf, u32 len);
	/* Stops every vCPU (attach, Ctrl-C); done when it returns. */
	void (*stop)(void *t);
	/* Lets the VM go on: every vCPU if step < 0, else vCPU step alone
	   for one instruction (then gdb_stopped with GDB_STOP_STEP). */
	void (*resume)(void *t, int step);
	/* #BP exits on (software breakpoints set) or off. */
	void (*intercept_bp)(void *t, bool on);
	/* Hardware slot 0-3 on every vCPU: type at addr, len 1, 2, 4 or 8
	   bytes (aligned); len 0 clears it. false: refused. */
	bool (*set_hw)(void *t, int slot, enum gdb_hw_type type, u64 addr,
		       u32 len);
	/* gdb has gone: every slot cleared, #BP exits off, the VM runs. */
	void (*detach)(void *t);
};

struct gdb_counters {
	u64 packets;            /* well-formed packets handled */
	u64 bad_checksum;       /* answered '-' */
	u64 too_long;           /* longer than GDB_PACKET_MAX: answered E22 */
	u64 unknown;            /* answered with the empty packet */
	u64 stops;              /* stop replies sent */
};

struct gdb_stub {
	const struct gdb_target_ops *ops;
	void *t;
	/* the rest is the stub's own: see gdb_stub.c */
	int rx_state;
	u8 rx[GDB_PACKET_MAX + 1];
	u32 rx_len;
	bool rx_over;
	u8 rx_sum, rx_cs;
	bool attached;          /* gdb has spoken: the VM is stopped or
				   running for it */
	bool running;           /* continued or stepping: a stop reply is owed */
	bool no_ack;            /* QStartNoAckMode */
	bool phys;              /* "monitor phys": m/M/Z0 use guest-physical */
	int g_vcpu, c_vcpu;     /* Hg, Hc: -1 any */
	int last_vcpu;          /* the vCPU of the last stop */
	char last_stop[64];     /* the last stop reply, for '?' */
	struct { u64 addr; u8 orig; bool used, phys; } sw[GDB_SW_BP_MAX];
	struct { u64 addr; u32 len; enum gdb_hw_type type; bool used; }
		hw[GDB_HW_SLOTS];
	u8 last[GDB_OUT_MAX];   /* the last packet sent, for a '-' */
	u32 last_len;
	bool last_over;         /* the answer being built outgrew last */
	bool detached;          /* D, k or W ended the session: gdb's '+'
				   for that answer does not attach again */
	u8 out[GDB_OUT_MAX];
	u32 out_len;
	bool out_lost;          /* out was full: bytes were dropped */
	struct gdb_counters n;
};

void gdb_init(struct gdb_stub *s, const struct gdb_target_ops *ops, void *t);

/* Takes len bytes from gdb; the answers queue for gdb_output. The first
   byte of a session attaches: the VM stops. */
void gdb_input(struct gdb_stub *s, const u8 *buf, u32 len);

/* The VM stopped on its own (breakpoint, step, watchpoint, or for good):
   the stop reply is queued if gdb waits for one. Else (a stray stop,
   e.g. the VM powered off while stopped) only what gdb will ask '?' for
   changes. */
void gdb_stopped(struct gdb_stub *s, const struct gdb_stop *st);

/* Moves up to max queued bytes for gdb into buf; their number. */
u32 gdb_output(struct gdb_stub *s, u8 *buf, u32 max);

/* Whether a software breakpoint of the stub is where a #BP came from:
   virt, the INT3's linear address, or phys, its guest-physical address
   (for one set under "monitor phys"). A #BP elsewhere is the guest's own
   and goes back to it. */
bool gdb_sw_breakpoint_at(const struct gdb_stub *s, u64 virt, u64 phys);

/* gdb went away without detaching (its connection closed): as 'D'. */
void gdb_detach(struct gdb_stub *s);

#endif
