/*
 * What the files of the GDB stub share (gdb_stub.c: framing, dispatch and
 * run control; gdb_mem.c: memory and breakpoints; gdb_regs.c: register
 * layouts and the target description). Not for users of the stub: they
 * include gdb_stub.h only.
 */
#ifndef UHV_VMM_GDB_PRIV_H
#define UHV_VMM_GDB_PRIV_H

#include "vmm/gdb/gdb_stub.h"

/* Error replies (GDB manual E.4 "Packets": "E NN", an error number gdb
   only shows). uhv's are errno values: EINVAL, ENOSPC and EBUSY written
   with their decimal digits, EFAULT (14) as hex, as the stub's users and
   tests/unit/test_gdb_stub.c expect them. */
#define GDB_ERR_FAULT   "E0e"   /* memory not there: EFAULT */
#define GDB_ERR_BUSY    "E16"   /* a packet while the VM runs: EBUSY */
#define GDB_ERR_INVAL   "E22"   /* malformed or out of range: EINVAL */
#define GDB_ERR_NOSPC   "E28"   /* no breakpoint entry or slot: ENOSPC */
#define GDB_ERR_ANNEX   "E00"   /* qXfer of an annex there is not */

#define GDB_REG_BYTES_MAX 16    /* the widest register: an XMM register */

/* ---- the answer being built in s->last (gdb_stub.c) ---- */

/* Starts the answer: '$'. */
void gdb_pkt_begin(struct gdb_stub *s);
/* Appends one byte as it is (never '#', '$', '}' or '*'). */
void gdb_pkt_byte(struct gdb_stub *s, u8 c);
/* Appends one byte of binary data, escaped where it must be. */
void gdb_pkt_bin(struct gdb_stub *s, u8 c);
/* Appends a C string as it is. */
void gdb_pkt_str(struct gdb_stub *s, const char *str);
/* Appends n bytes as 2 lower-case hex digits each. */
void gdb_pkt_hex(struct gdb_stub *s, const u8 *b, u32 n);
/* Ends the answer (#cs) and queues it for gdb. */
void gdb_pkt_end(struct gdb_stub *s);
/* A whole answer of the string str. */
void gdb_reply(struct gdb_stub *s, const char *str);

/* ---- parsing (gdb_stub.c) ---- */

/* The value of hex digit c, or -1. */
int gdb_hex_val(u8 c);
/* A hex number at *p (1 to 16 digits, not past end); *p moves past it. */
bool gdb_parse_hex(const char **p, const char *end, u64 *v);
/* n bytes from 2n hex digits at p; false if any is not a hex digit. */
bool gdb_unhex(const char *p, u8 *out, u32 n);

/* The vCPU that g, G, p, P, m, M and Z use (Hg, or the last stop's). */
int gdb_sel_vcpu(const struct gdb_stub *s);

/* ---- memory and breakpoints (gdb_mem.c) ---- */

/* m addr,len; M addr,len:hex (E.4). */
void gdb_cmd_read_mem(struct gdb_stub *s, const char *p, const char *end);
void gdb_cmd_write_mem(struct gdb_stub *s, const char *p, const char *end);
/* Z/z type,addr,kind (E.4); insert is 'Z'. */
void gdb_cmd_break(struct gdb_stub *s, bool insert, const char *p,
		   const char *end);
/* Every software breakpoint removed (bytes restored) and every hardware
   slot cleared. */
void gdb_clear_breakpoints(struct gdb_stub *s);

/* ---- registers and target description (gdb_regs.c) ---- */

/* Registers of arch a in the g layout, and the layout's bytes. */
int gdb_regs_count(enum gdb_arch a);
u32 gdb_regs_size(enum gdb_arch a);
/* Register n's size in bytes (0 if out of range). */
u32 gdb_reg_size(enum gdb_arch a, int n);
/* Register n of r as gdb wants its bytes (little-endian), in out
   (gdb_reg_size bytes, at most GDB_REG_BYTES_MAX). */
void gdb_reg_get(enum gdb_arch a, const struct gdb_regs *r, int n, u8 *out);
/* Register n of r set from gdb's bytes in. */
void gdb_reg_set(enum gdb_arch a, struct gdb_regs *r, int n, const u8 *in);
/* The target description for arch a, given piece by piece to put. */
void gdb_target_xml(enum gdb_arch a, void (*put)(void *ctx, const char *str),
		    void *ctx);

#endif
