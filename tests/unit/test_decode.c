/*
 * vmm/emulate.c, emu_decode: the MOV/MOVZX forms in 16/32/64-bit modes,
 * exact lengths, rejections, and truncated buffers (each decoded from a
 * malloc'd buffer of exactly n bytes, so ASan sees any overread).
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
};

static const struct dcase bad[] = {
	C(M32, 0, 0, 0, 0, 0, 0, 0x89, 0xc0),                    /* register */
	C(M32, 0, 0, 0, 0, 0, 0, 0x0f, 0xb6, 0xc0),
	C(M32, 0, 0, 0, 0, 0, 0, 0xc6, 0xc0, 0x00),
	C(M32, 0, 0, 0, 0, 0, 0, 0xc7, 0x08, 0, 0, 0, 0),        /* c7 /1 */
	C(M32, 0, 0, 0, 0, 0, 0, 0xc6, 0x38, 0),                 /* c6 /7 */
	C(M32, 0, 0, 0, 0, 0, 0, 0xf3, 0xa4),                    /* rep movsb */
	C(M32, 0, 0, 0, 0, 0, 0, 0x0f, 0xb8, 0x00),
	C(M32, 0, 0, 0, 0, 0, 0, 0x0f, 0xbe, 0x00),              /* movsx */
	C(M32, 0, 0, 0, 0, 0, 0, 0x8c, 0x00),
	C(M32, 0, 0, 0, 0, 0, 0, 0xf0, 0x89, 0x03),              /* lock */
	C(M32, 0, 0, 0, 0, 0, 0, 0x40, 0x89, 0x03),              /* inc eax */
	C(M32, 0, 0, 0, 0, 0, 0, 0x87, 0x03),                    /* xchg */
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

/* Every 1- and 2-byte buffer and every third byte after each accepted
   opcode pair: no crash, and an accepted decode stays within the buffer. */
START_TEST(decode_sweep)
{
	struct emu_insn o;
	u8 b[3];

	for (int m = M16; m <= M64; m++) {
		for (unsigned x = 0; x < 0x10000; x++) {
			b[0] = (u8)x;
			b[1] = (u8)(x >> 8);
			if (decode_exact(b, 1, m, &o) == 0)
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
						    0xc7, 0x0f, 0x66 }[(seed >> 9) & 7];
		n = (seed >> 20) % (EMU_MAX_INSN + 1);
		if (decode_exact(b, n, (enum emu_mode)(i % 3), &o) == 0) {
			ck_assert_uint_le(o.len, n);
			ck_assert_uint_ge(o.len, 2);
			ck_assert_uint_lt(o.reg, 16);
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
	tcase_add_test(tc, decode_mode_matters);
	tcase_add_test(tc, decode_sweep);
	tcase_add_test(tc, decode_random);
	suite_add_tcase(s, tc);
	return s;
}
