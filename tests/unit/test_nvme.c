/*
 * drivers/nvme_cmd.c: the NVMe driver's commands, completions and PRP
 * lists, against the layouts of NVM Express Base Specification 2.0
 * (§4.1.1 PRP entries, §4.2 submission and §4.6 completion entries).
 */
#include "unit.h"
#include "drivers/nvme.h"

#define PAGE 4096ULL

/* A completion entry as a controller writes it: dword 3 holds the
   command id, the phase tag and the status field. */
static void cqe(u32 *e, u16 cid, bool phase, u16 status)
{
	e[0] = e[1] = e[2] = 0;
	e[3] = cid | (phase ? 1u << 16 : 0) | (u32)status << 17;
}

START_TEST(sqe_layout)
{
	struct nvme_sqe e;

	nvme_sqe_init(&e, NVME_CMD_READ, 1, 0x123456789000ULL, 0xabc000ULL);
	nvme_sqe_set_cid(&e, 0xbeef);
	ck_assert_uint_eq(e.dw[0], 0xbeef0002u);       /* CID 31:16, opcode */
	ck_assert_uint_eq(e.dw[1], 1);                 /* NSID */
	ck_assert_uint_eq(e.dw[6], 0x56789000u);       /* PRP1, dwords 6-7 */
	ck_assert_uint_eq(e.dw[7], 0x1234u);
	ck_assert_uint_eq(e.dw[8], 0xabc000u);         /* PRP2 */
	ck_assert_uint_eq(e.dw[9], 0);
	for (int i = 10; i < 16; i++)
		ck_assert_uint_eq(e.dw[i], 0);
	nvme_sqe_set_cid(&e, 7);                       /* keeps the opcode */
	ck_assert_uint_eq(e.dw[0], 0x00070002u);
}
END_TEST

START_TEST(cqe_states)
{
	u32 e[4];
	u16 st = 0xffff;

	cqe(e, 5, false, 0);          /* last round's entry: not ours yet */
	ck_assert_int_eq(nvme_cqe_check(e, 5, true, &st), NVME_CQE_NONE);
	cqe(e, 5, true, 0);
	ck_assert_int_eq(nvme_cqe_check(e, 5, true, &st), NVME_CQE_OK);
	ck_assert_uint_eq(st, 0);
	cqe(e, 6, true, 0);           /* a command that is not in flight */
	ck_assert_int_eq(nvme_cqe_check(e, 5, true, &st), NVME_CQE_WRONG_CID);
	/* LBA out of range: status code type 0, status code 0x80 */
	cqe(e, 5, false, 0x80);
	ck_assert_int_eq(nvme_cqe_check(e, 5, false, &st), NVME_CQE_ERROR);
	ck_assert_uint_eq(NVME_STATUS_SC(st), 0x80);
	ck_assert_uint_eq(NVME_STATUS_SCT(st), 0);
	cqe(e, 5, true, 0x281);       /* media error (type 2), code 0x81 */
	ck_assert_int_eq(nvme_cqe_check(e, 5, true, &st), NVME_CQE_ERROR);
	ck_assert_uint_eq(NVME_STATUS_SCT(st), 2);
	ck_assert_uint_eq(NVME_STATUS_SC(st), 0x81);
}
END_TEST

START_TEST(prp_one_and_two_pages)
{
	u64 list[NVME_PRP_LIST_ENTRIES], p1, p2;

	ck_assert(nvme_prp(0x10000, PAGE, list, 0x9000, &p1, &p2));
	ck_assert_uint_eq(p1, 0x10000);
	ck_assert_uint_eq(p2, 0);                      /* fits one page */
	ck_assert(nvme_prp(0x10200, PAGE - 0x200, list, 0x9000, &p1, &p2));
	ck_assert_uint_eq(p2, 0);                      /* to the page's end */
	ck_assert(nvme_prp(0x10200, PAGE, list, 0x9000, &p1, &p2));
	ck_assert_uint_eq(p1, 0x10200);                /* offset kept */
	ck_assert_uint_eq(p2, 0x11000);                /* the next page */
	ck_assert(nvme_prp(0x10000, 2 * PAGE, list, 0x9000, &p1, &p2));
	ck_assert_uint_eq(p2, 0x11000);
}
END_TEST

START_TEST(prp_list)
{
	u64 list[NVME_PRP_LIST_ENTRIES], p1, p2;

	list[3] = 0xdead;
	ck_assert(nvme_prp(0x20100, 3 * PAGE, list, 0x9000, &p1, &p2));
	ck_assert_uint_eq(p1, 0x20100);
	ck_assert_uint_eq(p2, 0x9000);                 /* the list itself */
	ck_assert_uint_eq(list[0], 0x21000);
	ck_assert_uint_eq(list[1], 0x22000);
	ck_assert_uint_eq(list[2], 0x23000);           /* 0x100 bytes of it */
	ck_assert_uint_eq(list[3], 0xdead);            /* nothing beyond */
	/* 2 MiB from a page boundary: 511 pages after the first */
	list[NVME_PRP_LIST_ENTRIES - 1] = 0xdead;
	ck_assert(nvme_prp(0x40000, NVME_PRP_MAX_BYTES, list, 0x9000, &p1, &p2));
	ck_assert_uint_eq(list[NVME_PRP_LIST_ENTRIES - 2],
			  0x40000 + (NVME_PRP_LIST_ENTRIES - 1) * PAGE);
	ck_assert_uint_eq(list[NVME_PRP_LIST_ENTRIES - 1], 0xdead);
	/* from inside a page it touches 513 pages: the list is full */
	ck_assert(nvme_prp(0x40200, NVME_PRP_MAX_BYTES, list, 0x9000, &p1, &p2));
	ck_assert_uint_eq(list[NVME_PRP_LIST_ENTRIES - 1],
			  0x40000 + NVME_PRP_LIST_ENTRIES * PAGE);
}
END_TEST

START_TEST(prp_refused)
{
	u64 list[NVME_PRP_LIST_ENTRIES], p1, p2;

	ck_assert(!nvme_prp(0x10002, 512, list, 0x9000, &p1, &p2));  /* odd */
	ck_assert(!nvme_prp(0x10000, 0, list, 0x9000, &p1, &p2));
	ck_assert(!nvme_prp(0x10000, NVME_PRP_MAX_BYTES + 1, list, 0x9000,
			    &p1, &p2));
}
END_TEST

Suite *nvme_suite(void)
{
	Suite *s = suite_create("nvme");
	TCase *tc = tcase_create("nvme");

	tcase_add_test(tc, sqe_layout);
	tcase_add_test(tc, cqe_states);
	tcase_add_test(tc, prp_one_and_two_pages);
	tcase_add_test(tc, prp_list);
	tcase_add_test(tc, prp_refused);
	suite_add_tcase(s, tc);
	return s;
}
