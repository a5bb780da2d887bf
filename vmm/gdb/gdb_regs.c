/*
 * Register layouts of the g packet (GDB manual E.4 "Packets": 'g') and the
 * target description that names them (GDB manual Appendix G "Target
 * Descriptions", G.5 "Standard Target Features", i386 features: the
 * register names and order of gdb's own 32bit-core.xml, 32bit-sse.xml,
 * 64bit-core.xml, 64bit-sse.xml and 64bit-segments.xml).
 *
 * gdb numbers the registers in the order the description lists them, and
 * the g packet holds them in that order, each little-endian: one table
 * per architecture drives both, so they cannot disagree.
 *
 * The x87, SSE and MXCSR state comes from the FXSAVE image (SDM Vol. 1
 * §10.5.1, Table 10-2, 32-bit format for the FPU pointers: the 64-bit
 * format's upper pointer halves are not shown).
 */
#include "vmm/gdb/gdb_priv.h"
#include "lib/fmt.h"
#include "lib/string.h"

/* FXSAVE image offsets (SDM Vol. 1 Table 10-2). */
#define FX_FCW          0       /* x87 control word, 2 bytes */
#define FX_FSW          2       /* x87 status word, 2 bytes */
#define FX_FTW          4       /* abridged tag: 1 bit per register */
#define FX_FOP          6       /* last x87 opcode, 11 bits */
#define FX_FIP          8       /* x87 instruction pointer offset */
#define FX_FCS          12      /* its selector */
#define FX_FDP          16      /* x87 operand pointer offset */
#define FX_FDS          20      /* its selector */
#define FX_MXCSR        24
#define FX_ST0          32      /* ST0-ST7 / MM0-MM7, 16 bytes apart */
#define FX_ST_STRIDE    16
#define FX_XMM0         160     /* XMM0-XMM15, 16 bytes each */
#define FX_XMM_SIZE     16

#define X87_REGS        8
#define X87_EXT_SIZE    10      /* an 80-bit extended-precision value */
#define X87_EXP_OFF     8       /* its sign and 15-bit exponent */
#define X87_EXP_MASK    0x7fff
#define X87_INT_BIT     63      /* the explicit integer bit */
#define FSW_TOP_SHIFT   11      /* FSW bits 13:11: TOP */
#define FSW_TOP_MASK    7
/* Full tag word values, 2 bits per physical register (SDM Vol. 1
   §8.1.7, Figure 8-7). */
#define TAG_VALID       0
#define TAG_ZERO        1
#define TAG_SPECIAL     2
#define TAG_EMPTY       3
#define TAG_BITS        2
#define TAG_MASK        3

#define SEG_REGS        6
#define I386_GPRS       8
#define AMD64_GPRS      16
#define I386_XMMS       8
#define AMD64_XMMS      16

/* Where a register's value lives in struct gdb_regs. */
enum reg_src {
	SRC_GPR,        /* gpr[arg], the low size bytes */
	SRC_RIP,
	SRC_FLAGS,
	SRC_SEG,        /* selector arg (cs ss ds es fs gs), zero-extended */
	SRC_FX,         /* fx[arg], img bytes there, zero-extended */
	SRC_FTAG,       /* the full tag word, from the abridged one */
	SRC_FS_BASE,
	SRC_GS_BASE,
};

/* The features of a description (G.5 "i386 Features"). */
enum reg_feature { FEAT_CORE, FEAT_SSE, FEAT_SEGMENTS };

static const char *const feature_names[] = {
	[FEAT_CORE] = "org.gnu.gdb.i386.core",
	[FEAT_SSE] = "org.gnu.gdb.i386.sse",
	[FEAT_SEGMENTS] = "org.gnu.gdb.i386.segments",
};

struct reg_desc {
	char name[8];
	const char *type;       /* one of the types gdb predefines (G.4) */
	u8 size;                /* bytes in the g packet */
	u8 src;                 /* enum reg_src */
	u16 arg;
	u8 img;                 /* SRC_FX: bytes in the FXSAVE image */
	u8 feature;             /* enum reg_feature */
};

#define GPR(n, i, t, sz)  { n, t, sz, SRC_GPR, i, 0, FEAT_CORE }
#define SEG(n, i)         { n, "int32", 4, SRC_SEG, i, 0, FEAT_CORE }
#define ST(n, i)          { n, "i387_ext", X87_EXT_SIZE, SRC_FX, \
			    FX_ST0 + FX_ST_STRIDE * (i), X87_EXT_SIZE, FEAT_CORE }
#define FPC(n, off, img)  { n, "int", 4, SRC_FX, off, img, FEAT_CORE }
#define XMM(n, i)         { n, "uint128", FX_XMM_SIZE, SRC_FX, \
			    FX_XMM0 + FX_XMM_SIZE * (i), FX_XMM_SIZE, FEAT_SSE }

/* The x87 part, the same in both layouts (st0-7, then fctrl..fop). */
#define X87_REGS_DESC \
	ST("st0", 0), ST("st1", 1), ST("st2", 2), ST("st3", 3), \
	ST("st4", 4), ST("st5", 5), ST("st6", 6), ST("st7", 7), \
	FPC("fctrl", FX_FCW, 2), FPC("fstat", FX_FSW, 2), \
	{ "ftag", "int", 4, SRC_FTAG, 0, 0, FEAT_CORE }, \
	FPC("fiseg", FX_FCS, 2), FPC("fioff", FX_FIP, 4), \
	FPC("foseg", FX_FDS, 2), FPC("fooff", FX_FDP, 4), \
	FPC("fop", FX_FOP, 2)

#define SEGS_DESC \
	SEG("cs", 0), SEG("ss", 1), SEG("ds", 2), SEG("es", 3), \
	SEG("fs", 4), SEG("gs", 5)

#define XMM0_7 \
	XMM("xmm0", 0), XMM("xmm1", 1), XMM("xmm2", 2), XMM("xmm3", 3), \
	XMM("xmm4", 4), XMM("xmm5", 5), XMM("xmm6", 6), XMM("xmm7", 7)

#define MXCSR_DESC { "mxcsr", "int", 4, SRC_FX, FX_MXCSR, 4, FEAT_SSE }

/* gdb's i386 layout (32bit-core.xml, 32bit-sse.xml). */
static const struct reg_desc i386_regs[] = {
	GPR("eax", 0, "int32", 4), GPR("ecx", 1, "int32", 4),
	GPR("edx", 2, "int32", 4), GPR("ebx", 3, "int32", 4),
	GPR("esp", 4, "data_ptr", 4), GPR("ebp", 5, "data_ptr", 4),
	GPR("esi", 6, "int32", 4), GPR("edi", 7, "int32", 4),
	{ "eip", "code_ptr", 4, SRC_RIP, 0, 0, FEAT_CORE },
	{ "eflags", "int32", 4, SRC_FLAGS, 0, 0, FEAT_CORE },
	SEGS_DESC, X87_REGS_DESC, XMM0_7, MXCSR_DESC,
};

/* gdb's amd64 layout (64bit-core.xml, 64bit-sse.xml,
   64bit-segments.xml): rax rbx rcx rdx rsi rdi rbp rsp, not the x86
   register numbers' order. */
static const struct reg_desc amd64_regs[] = {
	GPR("rax", 0, "int64", 8), GPR("rbx", 3, "int64", 8),
	GPR("rcx", 1, "int64", 8), GPR("rdx", 2, "int64", 8),
	GPR("rsi", 6, "int64", 8), GPR("rdi", 7, "int64", 8),
	GPR("rbp", 5, "data_ptr", 8), GPR("rsp", 4, "data_ptr", 8),
	GPR("r8", 8, "int64", 8), GPR("r9", 9, "int64", 8),
	GPR("r10", 10, "int64", 8), GPR("r11", 11, "int64", 8),
	GPR("r12", 12, "int64", 8), GPR("r13", 13, "int64", 8),
	GPR("r14", 14, "int64", 8), GPR("r15", 15, "int64", 8),
	{ "rip", "code_ptr", 8, SRC_RIP, 0, 0, FEAT_CORE },
	{ "eflags", "int32", 4, SRC_FLAGS, 0, 0, FEAT_CORE },
	SEGS_DESC, X87_REGS_DESC, XMM0_7,
	XMM("xmm8", 8), XMM("xmm9", 9), XMM("xmm10", 10), XMM("xmm11", 11),
	XMM("xmm12", 12), XMM("xmm13", 13), XMM("xmm14", 14),
	XMM("xmm15", 15), MXCSR_DESC,
	{ "fs_base", "int", 8, SRC_FS_BASE, 0, 0, FEAT_SEGMENTS },
	{ "gs_base", "int", 8, SRC_GS_BASE, 0, 0, FEAT_SEGMENTS },
};

_Static_assert(ARRAY_SIZE(i386_regs) == I386_GPRS + 2 + SEG_REGS +
	       X87_REGS + 8 + I386_XMMS + 1, "i386 layout: 41 registers");
_Static_assert(ARRAY_SIZE(amd64_regs) == AMD64_GPRS + 2 + SEG_REGS +
	       X87_REGS + 8 + AMD64_XMMS + 1 + 2, "amd64 layout: 59 registers");

/* The table of arch a, and its length in *n. */
static const struct reg_desc *layout(enum gdb_arch a, int *n)
{
	if (a == GDB_ARCH_AMD64) {
		*n = (int)ARRAY_SIZE(amd64_regs);
		return amd64_regs;
	}
	*n = (int)ARRAY_SIZE(i386_regs);
	return i386_regs;
}

int gdb_regs_count(enum gdb_arch a)
{
	int n;

	layout(a, &n);
	return n;
}

u32 gdb_regs_size(enum gdb_arch a)
{
	int n;
	const struct reg_desc *d = layout(a, &n);
	u32 size = 0;

	for (int i = 0; i < n; i++)
		size += d[i].size;
	return size;
}

u32 gdb_reg_size(enum gdb_arch a, int n)
{
	int count;
	const struct reg_desc *d = layout(a, &count);

	return n >= 0 && n < count ? d[n].size : 0;
}

/* The tag of one x87 register holding the 80-bit value v (SDM Vol. 1
   §8.1.7, §10.5.1.1: how FXRSTOR's inverse, the full tag, is formed). */
static u32 x87_class(const u8 *v)
{
	u32 exp = ((u32)v[X87_EXP_OFF] | (u32)v[X87_EXP_OFF + 1] << 8) &
		  X87_EXP_MASK;
	u64 mant = 0;

	for (int i = 0; i < 8; i++)
		mant |= (u64)v[i] << (8 * i);
	if (exp == X87_EXP_MASK)
		return TAG_SPECIAL;     /* infinity, NaN */
	if (exp == 0)
		return mant ? TAG_SPECIAL : TAG_ZERO;   /* denormal or 0 */
	return mant >> X87_INT_BIT ? TAG_VALID : TAG_SPECIAL;  /* unnormal */
}

/* The full 16-bit tag word from FXSAVE's abridged one: empty (3) where
   the abridged bit is 0, else the class of the value. The abridged bits
   are per physical register; the image holds them by stack position,
   ST(i) being physical register (TOP + i) mod 8. */
static u32 full_tag(const u8 *fx)
{
	u32 fsw = (u32)fx[FX_FSW] | (u32)fx[FX_FSW + 1] << 8;
	u32 top = (fsw >> FSW_TOP_SHIFT) & FSW_TOP_MASK;
	u32 tag = 0;

	for (u32 phys = 0; phys < X87_REGS; phys++) {
		u32 st = (phys - top) & (X87_REGS - 1);
		u32 t = TAG_EMPTY;

		if (fx[FX_FTW] & BIT(phys))
			t = x87_class(fx + FX_ST0 + FX_ST_STRIDE * st);
		tag |= t << (TAG_BITS * phys);
	}
	return tag;
}

/* The abridged tag from gdb's full one: valid unless empty. */
static u8 abridged_tag(u32 full)
{
	u8 ftw = 0;

	for (u32 phys = 0; phys < X87_REGS; phys++)
		if (((full >> (TAG_BITS * phys)) & TAG_MASK) != TAG_EMPTY)
			ftw |= (u8)BIT(phys);
	return ftw;
}

/* v as size little-endian bytes. */
static void put_le(u8 *out, u64 v, u32 size)
{
	for (u32 i = 0; i < size; i++)
		out[i] = (u8)(v >> (8 * i));
}

/* size little-endian bytes into the low bytes of *v; the rest stays. */
static void get_le(u64 *v, const u8 *in, u32 size)
{
	u64 x = 0;

	for (u32 i = 0; i < size; i++)
		x |= (u64)in[i] << (8 * i);
	if (size >= sizeof(*v))
		*v = x;
	else
		*v = (*v & ~(BIT(8 * size) - 1)) | x;
}

/* The u64 field of r that register d is held in (NULL for others). */
static u64 *u64_field(struct gdb_regs *r, const struct reg_desc *d)
{
	switch (d->src) {
	case SRC_GPR:
		return &r->gpr[d->arg];
	case SRC_RIP:
		return &r->rip;
	case SRC_FLAGS:
		return &r->rflags;
	case SRC_FS_BASE:
		return &r->fs_base;
	case SRC_GS_BASE:
		return &r->gs_base;
	default:
		return NULL;
	}
}

/* The selector that SRC_SEG register arg names. */
static u16 *seg_field(struct gdb_regs *r, u16 arg)
{
	u16 *const segs[SEG_REGS] = { &r->cs, &r->ss, &r->ds, &r->es,
				      &r->fs, &r->gs };

	return segs[arg % SEG_REGS];
}

void gdb_reg_get(enum gdb_arch a, const struct gdb_regs *r, int n, u8 *out)
{
	int count;
	const struct reg_desc *d = layout(a, &count);
	struct gdb_regs *w = (struct gdb_regs *)r;      /* only read here */
	u64 *f;

	if (n < 0 || n >= count)
		return;
	d += n;
	memset(out, 0, d->size);
	if ((f = u64_field(w, d)))
		put_le(out, *f, d->size);
	else if (d->src == SRC_SEG)
		put_le(out, *seg_field(w, d->arg), d->size);
	else if (d->src == SRC_FTAG)
		put_le(out, full_tag(r->fx), d->size);
	else
		memcpy(out, r->fx + d->arg, d->img);
}

void gdb_reg_set(enum gdb_arch a, struct gdb_regs *r, int n, const u8 *in)
{
	int count;
	const struct reg_desc *d = layout(a, &count);
	u64 *f, v = 0;

	if (n < 0 || n >= count)
		return;
	d += n;
	if ((f = u64_field(r, d))) {
		get_le(f, in, d->size);
	} else if (d->src == SRC_SEG) {
		get_le(&v, in, d->size);
		*seg_field(r, d->arg) = (u16)v;
	} else if (d->src == SRC_FTAG) {
		get_le(&v, in, d->size);
		r->fx[FX_FTW] = abridged_tag((u32)v);
	} else {
		memcpy(r->fx + d->arg, in, d->img);
	}
}

/* One <reg> element: its name, width and gdb's predefined type. */
static void xml_reg(const struct reg_desc *d, int regnum,
		    void (*put)(void *ctx, const char *str), void *ctx)
{
	char line[96];

	fmt_sn(line, sizeof(line),
	       "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%d\"/>\n",
	       d->name, 8u * d->size, d->type, regnum);
	put(ctx, line);
}

void gdb_target_xml(enum gdb_arch a, void (*put)(void *ctx, const char *str),
		    void *ctx)
{
	int n;
	const struct reg_desc *d = layout(a, &n);
	int feat = -1;

	put(ctx, "<?xml version=\"1.0\"?>\n"
		 "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target>\n");
	put(ctx, a == GDB_ARCH_AMD64 ?
		 "<architecture>i386:x86-64</architecture>\n" :
		 "<architecture>i386</architecture>\n");
	for (int i = 0; i < n; i++) {
		if (d[i].feature != feat) {
			if (feat >= 0)
				put(ctx, "</feature>\n");
			feat = d[i].feature;
			put(ctx, "<feature name=\"");
			put(ctx, feature_names[feat]);
			put(ctx, "\">\n");
		}
		xml_reg(&d[i], i, put, ctx);
	}
	put(ctx, "</feature>\n</target>\n");
}
