/*
 * vmm/emulate.c, emu_decode: the forms emulate.h lists in 16/32/64-bit
 * modes, exact lengths, the memory operand (base, index, scale,
 * displacement, segment, address size), prefixes, rejections, and
 * truncated buffers (each decoded from a malloc'd buffer of exactly n
 * bytes, so ASan sees any overread). What the forms do is checked
 * against the CPU by test_emulate_diff.c.
 */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "vmm/emulate.h"

enum { R = 0, W = 1 };
#define M16 EMU_MODE_16
#define M32 EMU_MODE_32
#define M64 EMU_MODE_64
#define NOIMM 0x5555555555555555ULL

struct dcase {
	enum emu_mode mode;
	unsigned n;
	u8 b[16];
	u8 size;
	bool write;
	u8 reg, reg_size;
	bool high;
	u64 imm;             /* NOIMM: no immediate */
};

#define C(m, sz, w, reg, rsz, hi, imm, ...) \
	{ m, sizeof((u8[]){ __VA_ARGS__ }), { __VA_ARGS__ }, sz, w, reg, rsz, hi, imm }

static const struct dcase good[] = {
	/* MOV moffs forms: the offset is as wide as the address size */
	C(M32, 4, W, 0, 4, 0, NOIMM, 0xa3, 0x10, 0x00, 0xc0, 0xfe), /* mov [fec00010],eax */
	C(M32, 1, R, 0, 1, 0, NOIMM, 0xa0, 0x00, 0x00, 0xe0, 0xfe),
	C(M32, 2, W, 0, 2, 0, NOIMM, 0x66, 0xa3, 0x10, 0x00, 0xc0, 0xfe),
	C(M32, 4, R, 0, 4, 0, NOIMM, 0x67, 0xa1, 0x00, 0x10),     /* 16-bit moffs */
	C(M16, 2, R, 0, 2, 0, NOIMM, 0xa1, 0x00, 0x10),
	C(M64, 8, R, 0, 8, 0, NOIMM, 0x48, 0xa1, 0, 0, 0xe0, 0xfe, 0, 0, 0, 0),
	C(M64, 1, W, 0, 1, 0, NOIMM, 0xa2, 0, 0, 0xe0, 0xfe, 0, 0, 0, 0),
	C(M64, 4, W, 0, 4, 0, NOIMM, 0x67, 0xa3, 0x00, 0x00, 0xe0, 0xfe),
	/* 32-bit mode */
	C(M32, 4, W, 0, 4, 0, NOIMM, 0x89, 0x03),                /* mov [ebx],eax */
	C(M32, 4, R, 1, 4, 0, NOIMM, 0x8b, 0x0d, 0x78, 0x56, 0x34, 0x12),
	C(M32, 1, W, 4, 1, 1, NOIMM, 0x88, 0x63, 0x10),          /* mov [ebx+16],ah */
	C(M32, 1, R, 0, 1, 0, NOIMM, 0x8a, 0x84, 0x24, 0x00, 0x01, 0x00, 0x00),
	C(M32, 4, W, 0, 4, 0, NOIMM, 0x89, 0x04, 0x25, 0x00, 0x00, 0xe0, 0xfe),
	C(M32, 4, W, 0, 4, 0, NOIMM, 0x89, 0x44, 0x24, 0x08),
	C(M32, 4, R, 3, 4, 0, NOIMM, 0x8b, 0x1c, 0x8d, 0x00, 0x10, 0x00, 0x00),
	C(M32, 4, W, 0, 4, 0, NOIMM, 0x89, 0x80, 0x00, 0x10, 0x00, 0x00),
	C(M32, 4, W, 0, 4, 0, 0x12345678, 0xc7, 0x05, 0x00, 0x00, 0xe0, 0xfe,
	  0x78, 0x56, 0x34, 0x12),
	C(M32, 1, W, 0, 1, 0, 0xab, 0xc6, 0x00, 0xab),
	C(M32, 2, W, 1, 2, 0, NOIMM, 0x66, 0x89, 0x08),
	C(M32, 2, W, 0, 2, 0, 0x1234, 0x66, 0xc7, 0x00, 0x34, 0x12),
	C(M32, 1, R, 1, 4, 0, NOIMM, 0x0f, 0xb6, 0x08),          /* movzx ecx,byte */
	C(M32, 2, R, 2, 4, 0, NOIMM, 0x0f, 0xb7, 0x50, 0x04),    /* movzx edx,word */
	C(M32, 1, R, 1, 2, 0, NOIMM, 0x66, 0x0f, 0xb6, 0x08),    /* movzx cx,byte */
	C(M32, 4, W, 0, 4, 0, NOIMM, 0x3e, 0x89, 0x03),
	C(M32, 4, R, 0, 4, 0, NOIMM, 0x64, 0x8b, 0x00),
	C(M32, 4, W, 0, 4, 0, NOIMM, 0x67, 0x89, 0x07),          /* [bx] */
	C(M32, 4, W, 0, 4, 0, NOIMM, 0x67, 0x89, 0x06, 0x34, 0x12), /* [disp16] */
	C(M32, 2, W, 0, 2, 0, NOIMM, 0x67, 0x66, 0x89, 0x47, 0x02),
	C(M32, 1, R, 4, 1, 1, NOIMM, 0x8a, 0x27),                /* mov ah,[edi] */
	C(M32, 1, W, 3, 1, 0, NOIMM, 0x88, 0x5c, 0x24, 0xfc),    /* mov [esp-4],bl */
	/* 16-bit mode */
	C(M16, 2, W, 0, 2, 0, NOIMM, 0x89, 0x07),
	C(M16, 2, W, 0, 2, 0, NOIMM, 0x89, 0x47, 0x02),
	C(M16, 2, W, 0, 2, 0, NOIMM, 0x89, 0x87, 0x34, 0x12),
	C(M16, 2, W, 0, 2, 0, NOIMM, 0x89, 0x06, 0x34, 0x12),
	C(M16, 4, W, 0, 4, 0, NOIMM, 0x66, 0x89, 0x07),
	C(M16, 2, W, 0, 2, 0, NOIMM, 0x67, 0x89, 0x03),          /* [ebx] */
	C(M16, 2, W, 0, 2, 0, NOIMM, 0x67, 0x89, 0x04, 0x24),
	C(M16, 2, W, 0, 2, 0, NOIMM, 0x67, 0x89, 0x05, 0x00, 0x10, 0x00, 0x00),
	C(M16, 2, W, 0, 2, 0, 0x1234, 0xc7, 0x06, 0x00, 0x10, 0x34, 0x12),
	C(M16, 4, W, 0, 4, 0, 0x12345678, 0x66, 0xc7, 0x06, 0x00, 0x10,
	  0x78, 0x56, 0x34, 0x12),
	C(M16, 1, R, 4, 1, 1, NOIMM, 0x8a, 0x27),
	C(M16, 1, R, 0, 2, 0, NOIMM, 0x0f, 0xb6, 0x07),
	/* 64-bit mode */
	C(M64, 8, W, 0, 8, 0, NOIMM, 0x48, 0x89, 0x03),
	C(M64, 8, W, 8, 8, 0, NOIMM, 0x4c, 0x89, 0x03),          /* mov [rbx],r8 */
	C(M64, 4, W, 8, 4, 0, NOIMM, 0x44, 0x89, 0x03),
	C(M64, 4, W, 0, 4, 0, NOIMM, 0x41, 0x89, 0x03),          /* mov [r11],eax */
	C(M64, 1, W, 4, 1, 0, NOIMM, 0x40, 0x88, 0x23),          /* spl, not ah */
	C(M64, 1, W, 4, 1, 1, NOIMM, 0x88, 0x23),                /* ah */
	C(M64, 4, R, 0, 4, 0, NOIMM, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00),
	C(M64, 8, R, 1, 8, 0, NOIMM, 0x48, 0x8b, 0x0d, 0xf0, 0xff, 0xff, 0xff),
	C(M64, 8, W, 0, 8, 0, ~0ULL, 0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff),
	C(M64, 8, W, 0, 8, 0, 0xffffffff80000000ULL, 0x48, 0xc7, 0x00,
	  0x00, 0x00, 0x00, 0x80),
	C(M64, 8, W, 0, 8, 0, 0x7fffffff, 0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0x7f),
	C(M64, 2, W, 0, 2, 0, NOIMM, 0x66, 0x89, 0x03),
	C(M64, 8, W, 0, 8, 0, NOIMM, 0x66, 0x48, 0x89, 0x03),    /* REX.W wins */
	C(M64, 1, R, 0, 8, 0, NOIMM, 0x48, 0x0f, 0xb6, 0x03),
	C(M64, 2, R, 8, 8, 0, NOIMM, 0x4c, 0x0f, 0xb7, 0x43, 0x08),
	C(M64, 4, W, 0, 4, 0, NOIMM, 0x67, 0x89, 0x03),
	C(M64, 8, R, 0, 8, 0, NOIMM, 0x65, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0),
	C(M64, 4, W, 0, 4, 0, 0x12345678, 0xc7, 0x84, 0x24, 0x00, 0x01, 0x00,
	  0x00, 0x78, 0x56, 0x34, 0x12),
	C(M64, 8, W, 0, 8, 0, 0x12345678, 0x3e, 0x3e, 0x3e, 0x48, 0xc7, 0x84,
	  0x98, 0x00, 0x01, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12),  /* 15 bytes */
	C(M64, 2, W, 0, 2, 0, 0x1234, 0x66, 0xc7, 0x00, 0x34, 0x12),
	C(M64, 1, W, 0, 1, 0, 0x5a, 0xc6, 0x05, 0x00, 0x10, 0x00, 0x00, 0x5a),
	C(M64, 8, R, 15, 8, 0, NOIMM, 0x4c, 0x8b, 0x3c, 0x24),   /* mov r15,[rsp] */
	/* the ALU group, TEST, XCHG, INC/DEC/NOT/NEG (write: memory is
	   written; CMP and TEST only read it) */
	C(M32, 4, R, 0, 4, 0, 0x12345678, 0x81, 0x3f, 0x78, 0x56, 0x34, 0x12),
	C(M32, 4, W, 0, 4, 0, 0xffffffff, 0x83, 0x07, 0xff),    /* add [edi],-1 */
	C(M32, 2, W, 0, 2, 0, 0xff80, 0x66, 0x83, 0x0f, 0x80),  /* or [edi],-128 */
	C(M32, 1, W, 0, 1, 0, 0x01, 0x80, 0x17, 0x01),          /* adc [edi],1 */
	C(M64, 8, W, 0, 8, 0, 0xffffffff80000000ULL, 0x48, 0x81, 0x1f,
	  0x00, 0x00, 0x00, 0x80),                            /* sbb [rdi],imm */
	C(M32, 4, W, 1, 4, 0, NOIMM, 0x21, 0x0f),               /* and [edi],ecx */
	C(M32, 4, R, 1, 4, 0, NOIMM, 0x2b, 0x0f),               /* sub ecx,[edi] */
	C(M32, 1, W, 7, 1, 1, NOIMM, 0x30, 0x3f),               /* xor [edi],bh */
	C(M32, 1, R, 4, 1, 1, NOIMM, 0x3a, 0x27),               /* cmp ah,[edi] */
	C(M32, 4, R, 0, 4, 0, NOIMM, 0x39, 0x07),               /* cmp [edi],eax */
	C(M64, 8, R, 9, 8, 0, NOIMM, 0x4c, 0x85, 0x0f),         /* test [rdi],r9 */
	C(M32, 1, R, 0, 1, 0, 0x80, 0xf6, 0x07, 0x80),          /* test [edi],0x80 */
	C(M32, 4, W, 0, 4, 0, NOIMM, 0x87, 0x03),               /* xchg [ebx],eax */
	C(M32, 4, W, 0, 4, 0, NOIMM, 0xf0, 0x87, 0x03),         /* lock xchg */
	C(M32, 4, W, 0, 4, 0, NOIMM, 0xf0, 0x01, 0x03),         /* lock add */
	C(M32, 4, W, 0, 4, 0, NOIMM, 0xff, 0x07),               /* inc [edi] */
	C(M32, 1, W, 0, 1, 0, NOIMM, 0xfe, 0x0f),               /* dec byte [edi] */
	C(M32, 4, W, 0, 4, 0, NOIMM, 0xf7, 0x17),               /* not [edi] */
	C(M16, 2, W, 0, 2, 0, NOIMM, 0xf7, 0x1d),               /* neg [di] */
	C(M32, 4, W, 0, 4, 0, NOIMM, 0xf3, 0x89, 0x03),         /* F3 ignored */
	/* MOVSX, MOVSXD, BT */
	C(M32, 1, R, 0, 4, 0, NOIMM, 0x0f, 0xbe, 0x00),         /* movsx */
	C(M32, 2, R, 2, 4, 0, NOIMM, 0x0f, 0xbf, 0x10),
	C(M64, 4, R, 0, 8, 0, NOIMM, 0x48, 0x63, 0x07),         /* movsxd rax */
	C(M32, 4, R, 0, 4, 0, NOIMM, 0x0f, 0xa3, 0x07),         /* bt [edi],eax */
	C(M32, 4, W, 1, 4, 0, NOIMM, 0x0f, 0xab, 0x0f),         /* bts [edi],ecx */
	C(M32, 2, W, 0, 2, 0, NOIMM, 0x66, 0x0f, 0xb3, 0x07),   /* btr */
	C(M64, 8, W, 0, 8, 0, NOIMM, 0xf0, 0x48, 0x0f, 0xbb, 0x07),
	C(M32, 4, W, 0, 4, 0, 0x1f, 0x0f, 0xba, 0x2f, 0x1f),    /* bts [edi],31 */
	C(M32, 4, R, 0, 4, 0, 0x05, 0x0f, 0xba, 0x27, 0x05),    /* bt [edi],5 */
	/* strings: one byte (with prefixes more) */
	C(M32, 1, W, 0, 1, 0, NOIMM, 0xf3, 0xa4),               /* rep movsb */
	C(M32, 4, W, 0, 4, 0, NOIMM, 0xf3, 0xab),               /* rep stosd */
	C(M32, 4, W, 0, 4, 0, NOIMM, 0xa5),                     /* movsd */
	C(M16, 2, R, 0, 2, 0, NOIMM, 0xad),                     /* lodsw */
	C(M64, 8, R, 0, 8, 0, NOIMM, 0xf2, 0x48, 0xaf),         /* repne scasq */
	C(M32, 1, R, 0, 1, 0, NOIMM, 0xf3, 0x26, 0xa6),         /* repe cmpsb */
};

static const struct dcase bad[] = {
	C(M32, 0, 0, 0, 0, 0, 0, 0x89, 0xc0),                    /* register */
	C(M32, 0, 0, 0, 0, 0, 0, 0x0f, 0xb6, 0xc0),
	C(M32, 0, 0, 0, 0, 0, 0, 0xc6, 0xc0, 0x00),
	C(M32, 0, 0, 0, 0, 0, 0, 0xc7, 0x08, 0, 0, 0, 0),        /* c7 /1 */
	C(M32, 0, 0, 0, 0, 0, 0, 0xc6, 0x38, 0),                 /* c6 /7 */
	C(M32, 0, 0, 0, 0, 0, 0, 0x0f, 0xb8, 0x00),
	C(M32, 0, 0, 0, 0, 0, 0, 0xf3, 0x0f, 0xb8, 0x00),        /* popcnt */
	C(M32, 0, 0, 0, 0, 0, 0, 0xf3, 0x0f, 0xbc, 0x00),        /* tzcnt */
	C(M32, 0, 0, 0, 0, 0, 0, 0xf3, 0x0f, 0xb6, 0x00),        /* F3 0F B6 */
	C(M32, 0, 0, 0, 0, 0, 0, 0x8c, 0x00),
	C(M32, 0, 0, 0, 0, 0, 0, 0xf0, 0x89, 0x03),              /* lock mov */
	C(M32, 0, 0, 0, 0, 0, 0, 0xf0, 0x8b, 0x03),
	C(M32, 0, 0, 0, 0, 0, 0, 0xf0, 0x39, 0x03),              /* lock cmp */
	C(M32, 0, 0, 0, 0, 0, 0, 0xf0, 0x03, 0x03),              /* lock add r,m */
	C(M32, 0, 0, 0, 0, 0, 0, 0xf0, 0x85, 0x03),              /* lock test */
	C(M32, 0, 0, 0, 0, 0, 0, 0xf0, 0x0f, 0xa3, 0x03),        /* lock bt */
	C(M32, 0, 0, 0, 0, 0, 0, 0xf0, 0xa4),                    /* lock movsb */
	C(M32, 0, 0, 0, 0, 0, 0, 0x40, 0x89, 0x03),              /* inc eax */
	C(M32, 0, 0, 0, 0, 0, 0, 0x01, 0xc0),                    /* add eax,eax */
	C(M32, 0, 0, 0, 0, 0, 0, 0x87, 0xc3),                    /* xchg ebx,eax */
	C(M32, 0, 0, 0, 0, 0, 0, 0x0f, 0xa3, 0xc0),              /* bt eax,eax */
	C(M32, 0, 0, 0, 0, 0, 0, 0x81, 0xf8, 0, 0, 0, 0),        /* cmp eax,imm */
	C(M32, 0, 0, 0, 0, 0, 0, 0xa8, 0x01),                    /* test al,imm */
	C(M32, 0, 0, 0, 0, 0, 0, 0xf6, 0x08, 0x01),              /* f6 /1 */
	C(M32, 0, 0, 0, 0, 0, 0, 0xf7, 0x37),                    /* div [edi] */
	C(M32, 0, 0, 0, 0, 0, 0, 0xff, 0x17),                    /* call [edi] */
	C(M32, 0, 0, 0, 0, 0, 0, 0xff, 0x37),                    /* push [edi] */
	C(M32, 0, 0, 0, 0, 0, 0, 0x0f, 0xba, 0x07, 0x01),        /* 0f ba /0 */
	C(M64, 0, 0, 0, 0, 0, 0, 0x82, 0x07, 0x01),              /* 82: not in 64 */
	C(M32, 0, 0, 0, 0, 0, 0, 0x63, 0x07),                    /* arpl */
	C(M32, 0, 0, 0, 0, 0, 0, 0x6c),                          /* insb */
	C(M32, 0, 0, 0, 0, 0, 0, 0x0f, 0xb1, 0x07),              /* cmpxchg */
	C(M64, 0, 0, 0, 0, 0, 0, 0x48, 0x66, 0x89, 0x03),        /* REX not last */
	C(M64, 0, 0, 0, 0, 0, 0, 0x3e, 0x3e, 0x3e, 0x3e, 0x48, 0xc7, 0x84, 0x98,
	  0x00, 0x01, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12),       /* 16 bytes */
	C(M64, 0, 0, 0, 0, 0, 0, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	  0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66),        /* all prefix */
};

static int decode_exact(const u8 *b, unsigned n, enum emu_mode m,
			struct emu_insn *o)
{
	u8 *copy = malloc(n ? n : 1);
	int r;

	memcpy(copy, b, n);
	r = emu_decode(copy, n, m, o);
	free(copy);
	return r;
}

START_TEST(decode_good)
{
	const struct dcase *c = &good[_i];
	struct emu_insn o;
	u8 padded[32];

	ck_assert_int_eq(decode_exact(c->b, c->n, c->mode, &o), 0);
	ck_assert_uint_eq(o.len, c->n);
	ck_assert_uint_eq(o.size, c->size);
	ck_assert_int_eq(o.write, c->write);
	ck_assert_uint_eq(o.reg, c->reg);
	ck_assert_uint_eq(o.reg_size, c->reg_size);
	ck_assert_int_eq(o.high_byte, c->high);
	ck_assert_int_eq(o.has_imm, c->imm != NOIMM);
	if (c->imm != NOIMM)
		ck_assert_uint_eq(o.imm, c->imm);
	/* bytes after the instruction do not change it */
	memset(padded, 0x90, sizeof(padded));
	memcpy(padded, c->b, c->n);
	ck_assert_int_eq(emu_decode(padded, sizeof(padded), c->mode, &o), 0);
	ck_assert_uint_eq(o.len, c->n);
	/* any shorter buffer is an error, never a read past it */
	for (unsigned n = 0; n < c->n; n++)
		ck_assert_msg(decode_exact(c->b, n, c->mode, &o) == -1,
			      "case %d decoded from %u of %u bytes", _i, n, c->n);
}
END_TEST

START_TEST(decode_bad)
{
	const struct dcase *c = &bad[_i];
	struct emu_insn o;

	for (unsigned n = 0; n <= c->n; n++)
		ck_assert_msg(decode_exact(c->b, n, c->mode, &o) == -1,
			      "bad case %d decoded (%u bytes)", _i, n);
}
END_TEST

START_TEST(decode_mode_matters)
{
	static const u8 b[] = { 0x89, 0x06, 0x34, 0x12, 0x00, 0x00 };
	struct emu_insn o;

	/* [disp16] in 16-bit addressing; [esi] in 32- and 64-bit */
	ck_assert_int_eq(decode_exact(b, 6, M16, &o), 0);
	ck_assert_uint_eq(o.len, 4);
	ck_assert_uint_eq(o.size, 2);
	ck_assert_int_eq(decode_exact(b, 6, M32, &o), 0);
	ck_assert_uint_eq(o.len, 2);
	ck_assert_uint_eq(o.size, 4);
	/* 0x40-0x4f are REX only in 64-bit mode */
	ck_assert_int_eq(decode_exact((const u8 *)"\x48\x89\x03", 3, M64, &o), 0);
	ck_assert_int_eq(decode_exact((const u8 *)"\x48\x89\x03", 3, M32, &o), -1);
	/* 67 in 64-bit mode does not switch to 16-bit addressing */
	ck_assert_int_eq(decode_exact((const u8 *)"\x67\x89\x06\x00\x00\x00\x00",
				      7, M64, &o), 0);
	ck_assert_uint_eq(o.len, 3);
}
END_TEST

/* The memory operand and what the instruction does. */
struct ocase {
	enum emu_mode mode;
	unsigned n;
	u8 b[16];
	u8 op, addr_size, seg, base, index, scale;
	u64 disp;
	bool rip_rel, to_reg, lock;
	u8 rep;
};

#define NO EMU_NO_REG
#define O(m, op, as, seg, base, idx, sc, disp, rip, toreg, lock, rep, ...) \
	{ m, sizeof((u8[]){ __VA_ARGS__ }), { __VA_ARGS__ }, op, as, seg, base, \
	  idx, sc, disp, rip, toreg, lock, rep }
#define DS EMU_SEG_DS
#define SS EMU_SEG_SS
#define ES EMU_SEG_ES
#define FS EMU_SEG_FS
#define GS EMU_SEG_GS

static const struct ocase operands[] = {
	/* cmp dword [edi], imm32: the probe of absent memory (issue 20) */
	O(M32, EMU_OP_CMP, 4, DS, EMU_RDI, NO, 0, 0, 0, 0, 0, 0,
	  0x81, 0x3f, 0x78, 0x56, 0x34, 0x12),
	/* 16-bit addressing: [bx+si], [bp+di+8] (SS), [disp16], [bp+0] */
	O(M16, EMU_OP_MOV, 2, DS, EMU_RBX, EMU_RSI, 0, 0, 0, 0, 0, 0, 0x89, 0x00),
	O(M16, EMU_OP_ADD, 2, SS, EMU_RBP, EMU_RDI, 0, 8, 0, 1, 0, 0, 0x03, 0x43, 0x08),
	O(M16, EMU_OP_MOV, 2, DS, NO, NO, 0, 0x1234, 0, 1, 0, 0, 0x8b, 0x06, 0x34, 0x12),
	O(M16, EMU_OP_INC, 2, SS, EMU_RBP, NO, 0, 0, 0, 0, 0, 0, 0xff, 0x46, 0x00),
	O(M16, EMU_OP_MOV, 2, DS, EMU_RBX, NO, 0, (u64)-2, 0, 0, 0, 0, 0x89, 0x47, 0xfe),
	/* 32-bit addressing: SIB, scaled index, no index, disp32 only */
	O(M32, EMU_OP_SUB, 4, DS, EMU_RAX, EMU_RCX, 2, 0x10, 0, 0, 0, 0,
	  0x29, 0x54, 0x88, 0x10),
	O(M32, EMU_OP_MOV, 4, SS, EMU_RSP, NO, 0, 4, 0, 0, 0, 0, 0x89, 0x44, 0x24, 0x04),
	O(M32, EMU_OP_MOV, 4, DS, NO, EMU_RBX, 3, 0x1000, 0, 0, 0, 0,
	  0x89, 0x04, 0xdd, 0x00, 0x10, 0x00, 0x00),
	O(M32, EMU_OP_MOV, 4, DS, NO, NO, 0, 0xfffffffffee000b0ULL, 0, 0, 0, 0,
	  0x89, 0x05, 0xb0, 0x00, 0xe0, 0xfe),
	O(M32, EMU_OP_MOV, 4, SS, EMU_RBP, NO, 0, (u64)-8, 0, 1, 0, 0, 0x8b, 0x45, 0xf8),
	O(M32, EMU_OP_MOV, 2, DS, EMU_RSI, NO, 0, 0, 0, 0, 0, 0, 0x67, 0x89, 0x04),
	/* segment overrides: FS, GS, and ES on a string's source */
	O(M32, EMU_OP_MOV, 4, FS, EMU_RAX, NO, 0, 0, 0, 1, 0, 0, 0x64, 0x8b, 0x00),
	O(M64, EMU_OP_MOV, 8, GS, NO, NO, 0, 0x28, 0, 1, 0, 0,
	  0x65, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0),
	O(M32, EMU_OP_MOVS, 4, ES, NO, NO, 0, 0, 0, 0, 0, EMU_REP_E, 0x26, 0xf3, 0xa5),
	O(M32, EMU_OP_MOV, 4, DS, EMU_RBP, NO, 0, 0, 0, 0, 0, 0, 0x3e, 0x89, 0x45, 0x00),
	/* 64-bit: RIP-relative, REX.B/X, r12/r13 bases, 67 */
	O(M64, EMU_OP_OR, 8, DS, NO, NO, 0, 0x100, 1, 0, 0, 0, 0x09, 0x05, 0, 1, 0, 0),
	O(M64, EMU_OP_OR, 4, DS, NO, NO, 0, 0x100, 1, 0, 0, 0, 0x67, 0x09, 0x05, 0, 1, 0, 0),
	O(M64, EMU_OP_AND, 8, DS, EMU_R12, NO, 0, 0, 0, 0, 0, 0, 0x41, 0x21, 0x04, 0x24),
	O(M64, EMU_OP_AND, 8, DS, EMU_R13, NO, 0, 0, 0, 0, 0, 0, 0x41, 0x21, 0x45, 0x00),
	O(M64, EMU_OP_XOR, 8, DS, EMU_R9, EMU_R12, 1, 0x7f, 0, 0, 0, 0,
	  0x43, 0x31, 0x44, 0x61, 0x7f),
	O(M64, EMU_OP_XOR, 8, DS, NO, NO, 0, 0xfffffffffffffff0ULL, 0, 0, 0, 0,
	  0x31, 0x04, 0x25, 0xf0, 0xff, 0xff, 0xff),
	O(M64, EMU_OP_MOV, 8, DS, NO, NO, 0, 0xfedcba9876543210ULL, 0, 1, 0, 0,
	  0x48, 0xa1, 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe),
	O(M64, EMU_OP_MOV, 4, DS, NO, NO, 0, 0xfee00000, 0, 0, 0, 0,
	  0x67, 0xa3, 0x00, 0x00, 0xe0, 0xfe),
	/* what each opcode does, LOCK and REP kept */
	O(M32, EMU_OP_BTS, 4, DS, EMU_RDI, NO, 0, 0, 0, 0, 1, 0, 0xf0, 0x0f, 0xab, 0x07),
	O(M32, EMU_OP_BTC, 4, DS, EMU_RDI, NO, 0, 0, 0, 0, 0, 0, 0x0f, 0xba, 0x3f, 0x01),
	O(M32, EMU_OP_XCHG, 4, DS, EMU_RDI, NO, 0, 0, 0, 1, 0, 0, 0x87, 0x07),
	O(M32, EMU_OP_TEST, 4, DS, EMU_RDI, NO, 0, 0, 0, 0, 0, 0, 0x85, 0x07),
	O(M32, EMU_OP_NEG, 4, DS, EMU_RDI, NO, 0, 0, 0, 0, 1, 0, 0xf0, 0xf7, 0x1f),
	O(M32, EMU_OP_MOVZX, 4, DS, EMU_RDI, NO, 0, 0, 0, 1, 0, 0, 0x0f, 0xb6, 0x07),
	O(M32, EMU_OP_MOVSX, 4, DS, EMU_RDI, NO, 0, 0, 0, 1, 0, 0, 0x0f, 0xbe, 0x07),
	O(M32, EMU_OP_SBB, 4, DS, EMU_RDI, NO, 0, 0, 0, 1, 0, 0, 0x1b, 0x07),
	O(M32, EMU_OP_ADC, 4, DS, EMU_RDI, NO, 0, 0, 0, 0, 0, 0, 0x11, 0x07),
	O(M32, EMU_OP_STOS, 4, DS, NO, NO, 0, 0, 0, 0, 0, EMU_REP_E, 0xf3, 0xab),
	O(M32, EMU_OP_LODS, 4, DS, NO, NO, 0, 0, 0, 1, 0, EMU_REP_NONE, 0xac),
	O(M32, EMU_OP_CMPS, 2, DS, NO, NO, 0, 0, 0, 0, 0, EMU_REP_NE, 0x67, 0xf2, 0xa6),
	O(M64, EMU_OP_SCAS, 8, DS, NO, NO, 0, 0, 0, 0, 0, EMU_REP_E, 0xf3, 0x48, 0xaf),
	O(M16, EMU_OP_MOVS, 2, DS, NO, NO, 0, 0, 0, 0, 0, EMU_REP_NONE, 0xa4),
};

START_TEST(decode_operand)
{
	const struct ocase *c = &operands[_i];
	struct emu_insn o;

	ck_assert_msg(decode_exact(c->b, c->n, c->mode, &o) == 0, "case %d", _i);
	ck_assert_uint_eq(o.len, c->n);
	ck_assert_uint_eq(o.op, c->op);
	ck_assert_uint_eq(o.addr_size, c->addr_size);
	ck_assert_uint_eq(o.seg, c->seg);
	ck_assert_uint_eq(o.base, c->base);
	ck_assert_uint_eq(o.index, c->index);
	if (c->index != EMU_NO_REG)
		ck_assert_uint_eq(o.scale, c->scale);
	ck_assert_uint_eq(o.disp, c->disp);
	ck_assert_int_eq(o.rip_rel, c->rip_rel);
	ck_assert_int_eq(o.to_reg, c->to_reg);
	ck_assert_int_eq(o.lock, c->lock);
	ck_assert_uint_eq(o.rep, c->rep);
	ck_assert_uint_eq(o.mode, c->mode);
}
END_TEST

/* Every 1- and 2-byte buffer and every third byte after each accepted
   opcode pair: no crash, and an accepted decode stays within the buffer;
   only string instructions are one byte long. */
START_TEST(decode_sweep)
{
	struct emu_insn o;
	u8 b[3];

	for (int m = M16; m <= M64; m++) {
		for (unsigned x = 0; x < 0x10000; x++) {
			b[0] = (u8)x;
			b[1] = (u8)(x >> 8);
			if (decode_exact(b, 1, m, &o) == 0 && o.op < EMU_OP_MOVS)
				ck_abort_msg("1-byte decode of %02x", b[0]);
			if (decode_exact(b, 2, m, &o) == 0)
				ck_assert_uint_le(o.len, 2);
			for (unsigned y = 0; y < 0x100; y += 0x33) {
				b[2] = (u8)y;
				if (decode_exact(b, 3, m, &o) == 0) {
					ck_assert_uint_le(o.len, 3);
					ck_assert(o.size == 1 || o.size == 2 ||
						  o.size == 4 || o.size == 8);
				}
			}
		}
	}
}
END_TEST

START_TEST(decode_random)
{
	struct emu_insn o;
	u8 b[EMU_MAX_INSN];
	unsigned seed = 12345;

	for (int i = 0; i < 200000; i++) {
		unsigned n = 0;

		for (unsigned k = 0; k < sizeof(b); k++) {
			seed = seed * 1103515245 + 12345;
			b[k] = (u8)(seed >> 16);
		}
		/* bias towards the opcodes it knows */
		if (seed & 0x100)
			b[seed & 3] = (const u8[]){ 0x88, 0x89, 0x8a, 0x8b, 0xc6,
						    0xc7, 0x0f, 0x66, 0x81, 0x83,
						    0xf7, 0xff, 0xa5, 0xf3, 0x39,
						    0xba }[(seed >> 9) & 15];
		n = (seed >> 20) % (EMU_MAX_INSN + 1);
		if (decode_exact(b, n, (enum emu_mode)(i % 3), &o) == 0) {
			ck_assert_uint_le(o.len, n);
			ck_assert_uint_ge(o.len, 1);
			ck_assert_uint_lt(o.reg, 16);
			ck_assert_uint_le(o.op, EMU_OP_SCAS);
			ck_assert(o.base < 16 || o.base == EMU_NO_REG);
			ck_assert(o.index < 16 || o.index == EMU_NO_REG);
			ck_assert(o.size == 1 || o.size == 2 || o.size == 4 ||
				  o.size == 8);
		}
	}
}
END_TEST

Suite *decode_suite(void)
{
	Suite *s = suite_create("decode");
	TCase *tc = tcase_create("decode");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, decode_good, 0, (int)(sizeof(good) / sizeof(good[0])));
	tcase_add_loop_test(tc, decode_bad, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_loop_test(tc, decode_operand, 0,
			    (int)(sizeof(operands) / sizeof(operands[0])));
	tcase_add_test(tc, decode_mode_matters);
	tcase_add_test(tc, decode_sweep);
	tcase_add_test(tc, decode_random);
	suite_add_tcase(s, tc);
	return s;
}
