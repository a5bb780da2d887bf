/*
 * A VM's exit trace: a ring of its most recent VM exits (uhv.cfg's per-VM
 * key trace = on | console, the protocol's trace command, docs/protocol.md;
 * `uhvctl trace VM`). Each record is one exit: its basic reason (SDM Vol.
 * 3D Appendix C), the guest's RIP, what the exit was about (an I/O port,
 * an MSR, a guest-physical address, a control register, a vector, a CPUID
 * leaf) and the TSC ticks since the VM's previous record.
 *
 * Records are numbered from 1 in the order they are made (the sequence
 * number, seq). The ring holds the newest TRACE_RECORDS; a new record
 * overwrites the oldest. A reader remembers the last seq it saw and asks
 * for those after it; what was overwritten before it asked is counted as
 * missed (trace_missed), never silently skipped.
 *
 * Pure: the VMM (vmm/vm_trace.c) fills a record from its decoded exit; this
 * part keeps, finds and words them, and paces a console that prints them.
 * The host unit tests (tests/unit/test_trace.c) and the fake uhv of
 * uhvctl's tests build it as it is.
 */
#ifndef UHV_VMM_TRACE_EXIT_TRACE_H
#define UHV_VMM_TRACE_EXIT_TRACE_H

#include "lib/types.h"

#define TRACE_RECORDS     256     /* a power of two: 8 KiB of records */
#define TRACE_DETAIL_MAX  48      /* trace_detail's words, with the NUL */

/* What a record's detail and aux hold, by the exit's reason. */
enum trace_kind {
	TRACE_NONE,       /* nothing beyond the reason */
	TRACE_IO,         /* detail: port; aux: size | TRACE_IO_* */
	TRACE_MSR,        /* detail: the MSR (ECX); aux: TRACE_MSR_WRITE */
	TRACE_EPT,        /* detail: guest-physical address; aux: TRACE_EPT_* */
	TRACE_CR,         /* detail: CR number; aux: type | gpr << 8 |
			     LMSW source << 16 (CR_ACCESS, SDM Vol. 3C
			     Table 28-3) */
	TRACE_VECTOR,     /* detail: the vector (an exception, interrupt,
			     SIPI or EOI) */
	TRACE_CPUID,      /* detail: the leaf (EAX); aux: the subleaf (ECX) */
	TRACE_APIC,       /* detail: offset in the xAPIC page */
	TRACE_KINDS,
};

#define TRACE_IO_SIZE_MASK  0xffu
#define TRACE_IO_IN         BIT(8)
#define TRACE_IO_STRING     BIT(9)
#define TRACE_IO_REP        BIT(10)
#define TRACE_MSR_WRITE     BIT(0)
#define TRACE_EPT_READ      BIT(0)
#define TRACE_EPT_WRITE     BIT(1)
#define TRACE_EPT_FETCH     BIT(2)
#define TRACE_CR_TYPE_MASK  0xffu  /* 0 mov to, 1 mov from, 2 CLTS, 3 LMSW */
#define TRACE_CR_GPR_SHIFT  8
#define TRACE_CR_GPR_MASK   0xffu
#define TRACE_CR_LMSW_SHIFT 16

/* One exit. Its seq is not stored: the ring's slot and count give it. */
struct trace_rec {
	u64 rip;          /* the guest's RIP at the exit */
	u64 detail;       /* by kind, above */
	u64 delta;        /* TSC ticks since the VM's previous record; 0 for
			     the first one after tracing was turned on */
	u16 reason;       /* basic exit reason */
	u8 kind;          /* enum trace_kind */
	u8 vcpu;          /* the vCPU that exited */
	u32 aux;          /* by kind, above */
};

/* Console pacing: at most a number of lines per window of TSC ticks. */
struct trace_pace {
	u64 start;        /* TSC when the current window began */
	u32 printed;      /* lines printed in it */
	u64 held;         /* records not printed in it */
};

struct trace {
	struct trace_rec *recs;   /* TRACE_RECORDS of them; NULL: never set up */
	u64 made;                 /* records made: the newest one's seq */
	u64 last_tsc;             /* TSC of the previous record, 0: none */
	struct trace_pace pace;
};

/* Starts t empty over recs (TRACE_RECORDS records). */
void trace_init(struct trace *t, struct trace_rec *recs);
/* Forgets when the last record was made: the next one's delta is 0
   (tracing turned on again after a pause would count the pause). */
void trace_restart_clock(struct trace *t);
/* The slot of a new record, made at TSC now, with its delta set and the
   rest zeroed for the caller to fill; its seq is trace_newest(t) after
   the call. t must have been set up (trace_init). */
struct trace_rec *trace_add(struct trace *t, u64 now);

/* The seq of the newest record, 0 if none (t may be NULL). */
u64 trace_newest(const struct trace *t);
/* The seq of the oldest record held, trace_newest(t) + 1 if none. */
u64 trace_oldest(const struct trace *t);
/* Record seq, or NULL when it is not held (overwritten, or not made). */
const struct trace_rec *trace_at(const struct trace *t, u64 seq);
/* How many records after seq `after` were overwritten before a reader
   asked for them: those between after and the oldest held. */
u64 trace_missed(const struct trace *t, u64 after);
/* The `after` that gives the newest count records held (count >= 1),
   none of them missed. */
u64 trace_tail(const struct trace *t, u64 count);

/*
 * The record's detail in words, as docs/protocol.md ("trace") lists them:
 * "out 0xf4/4", "rdmsr 0x1b", "gpa 0xfee000b0 w", "mov cr0, rax",
 * "vector 14", "leaf 0x1 sub 0x0", "apic 0xb0", or "" for none. Returns
 * the length written (the text is cut to fit size, NUL included).
 */
int trace_detail(const struct trace_rec *r, char *buf, size_t size);

/*
 * Whether a record made at TSC now may be printed on the console: at most
 * limit per window ticks. When now starts a new window, *held gets the
 * number the previous window did not print (0 if none), for one line
 * saying so; else 0.
 */
bool trace_pace_allow(struct trace_pace *p, u64 now, u64 window, u32 limit,
		      u64 *held);

#endif
