/*
 * The exit trace's ring (exit_trace.h): records numbered from 1, the
 * newest TRACE_RECORDS kept, record seq in slot (seq - 1) mod
 * TRACE_RECORDS; and the words for each kind of record.
 */
#include "vmm/trace/exit_trace.h"
#include "lib/fmt.h"
#include "lib/string.h"

_Static_assert((TRACE_RECORDS & (TRACE_RECORDS - 1)) == 0,
	       "TRACE_RECORDS is a power of two");
_Static_assert(sizeof(struct trace_rec) == 32, "a record is 32 bytes");

/* CR access types (SDM Vol. 3C Table 28-3, exit qualification 5:4). */
enum { CR_MOV_TO, CR_MOV_FROM, CR_CLTS, CR_LMSW };

/* General-purpose registers by their number (SDM Vol. 2A §2.1.5). */
static const char *const gpr_names[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

void trace_init(struct trace *t, struct trace_rec *recs)
{
	memset(t, 0, sizeof(*t));
	t->recs = recs;
}

void trace_restart_clock(struct trace *t)
{
	t->last_tsc = 0;
}

struct trace_rec *trace_add(struct trace *t, u64 now)
{
	struct trace_rec *r = &t->recs[t->made++ & (TRACE_RECORDS - 1)];

	memset(r, 0, sizeof(*r));
	r->delta = t->last_tsc ? now - t->last_tsc : 0;
	t->last_tsc = now;
	return r;
}

u64 trace_newest(const struct trace *t)
{
	return t && t->recs ? t->made : 0;
}

u64 trace_oldest(const struct trace *t)
{
	u64 n = trace_newest(t);

	return n > TRACE_RECORDS ? n - TRACE_RECORDS + 1 : 1;
}

const struct trace_rec *trace_at(const struct trace *t, u64 seq)
{
	if (!seq || seq < trace_oldest(t) || seq > trace_newest(t))
		return NULL;
	return &t->recs[(seq - 1) & (TRACE_RECORDS - 1)];
}

u64 trace_missed(const struct trace *t, u64 after)
{
	u64 oldest = trace_oldest(t);

	return after + 1 < oldest ? oldest - after - 1 : 0;
}

u64 trace_tail(const struct trace *t, u64 count)
{
	u64 n = trace_newest(t), keep = MIN(count, (u64)TRACE_RECORDS);

	return n > keep ? n - keep : 0;
}

/* "in 0x3fd/1", "outs 0x3f8/1 rep" */
static int io_words(const struct trace_rec *r, char *buf, size_t size)
{
	return fmt_sn(buf, size, "%s%s 0x%llx/%u%s",
		      r->aux & TRACE_IO_IN ? "in" : "out",
		      r->aux & TRACE_IO_STRING ? "s" : "",
		      (unsigned long long)r->detail, r->aux & TRACE_IO_SIZE_MASK,
		      r->aux & TRACE_IO_REP ? " rep" : "");
}

/* "gpa 0xfee000b0 rw": the access letters that apply, if any */
static int ept_words(const struct trace_rec *r, char *buf, size_t size)
{
	return fmt_sn(buf, size, "gpa 0x%llx%s%s%s%s",
		      (unsigned long long)r->detail,
		      r->aux & (TRACE_EPT_READ | TRACE_EPT_WRITE |
				TRACE_EPT_FETCH) ? " " : "",
		      r->aux & TRACE_EPT_READ ? "r" : "",
		      r->aux & TRACE_EPT_WRITE ? "w" : "",
		      r->aux & TRACE_EPT_FETCH ? "x" : "");
}

/* "mov cr0, rax", "mov rbx, cr3", "clts", "lmsw 0x1" */
static int cr_words(const struct trace_rec *r, char *buf, size_t size)
{
	unsigned cr = (unsigned)r->detail;
	const char *gpr = gpr_names[(r->aux >> TRACE_CR_GPR_SHIFT) &
				    TRACE_CR_GPR_MASK & 15];

	switch (r->aux & TRACE_CR_TYPE_MASK) {
	case CR_MOV_TO:
		return fmt_sn(buf, size, "mov cr%u, %s", cr, gpr);
	case CR_MOV_FROM:
		return fmt_sn(buf, size, "mov %s, cr%u", gpr, cr);
	case CR_CLTS:
		return fmt_sn(buf, size, "clts");
	default:
		return fmt_sn(buf, size, "lmsw 0x%x",
			      r->aux >> TRACE_CR_LMSW_SHIFT);
	}
}

int trace_detail(const struct trace_rec *r, char *buf, size_t size)
{
	unsigned long long d = r->detail;

	switch (r->kind) {
	case TRACE_IO:
		return io_words(r, buf, size);
	case TRACE_MSR:
		return fmt_sn(buf, size, "%s 0x%llx",
			      r->aux & TRACE_MSR_WRITE ? "wrmsr" : "rdmsr", d);
	case TRACE_EPT:
		return ept_words(r, buf, size);
	case TRACE_CR:
		return cr_words(r, buf, size);
	case TRACE_VECTOR:
		return fmt_sn(buf, size, "vector %llu", d);
	case TRACE_CPUID:
		return fmt_sn(buf, size, "leaf 0x%llx sub 0x%x", d, r->aux);
	case TRACE_APIC:
		return fmt_sn(buf, size, "apic 0x%llx", d);
	default:
		return fmt_sn(buf, size, "%s", "");
	}
}

bool trace_pace_allow(struct trace_pace *p, u64 now, u64 window, u32 limit,
		      u64 *held)
{
	*held = 0;
	if (!p->start || now - p->start >= window) {
		*held = p->held;
		p->start = now ? now : 1;
		p->printed = 0;
		p->held = 0;
	}
	if (p->printed < limit) {
		p->printed++;
		return true;
	}
	p->held++;
	return false;
}
