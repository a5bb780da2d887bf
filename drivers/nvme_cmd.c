/*
 * The NVMe driver's pure parts (drivers/nvme.h): commands as dwords,
 * completions read, PRP lists built. No register access, so the host
 * unit tests run them (tests/unit/test_nvme.c).
 */
#include "drivers/nvme.h"
#include "lib/string.h"

#define DWORD_MASK   3ULL          /* PRP entries are dword aligned */
#define PAGE_OFFSET  ((u64)NVME_PAGE - 1)

static void put64(struct nvme_sqe *e, int dw, u64 v)
{
	e->dw[dw] = (u32)v;
	e->dw[dw + 1] = (u32)(v >> 32);
}

void nvme_sqe_init(struct nvme_sqe *e, u8 opcode, u32 nsid, u64 prp1,
		   u64 prp2)
{
	memset(e, 0, sizeof(*e));
	e->dw[NVME_SQE_CDW0] = opcode;
	e->dw[NVME_SQE_NSID] = nsid;
	put64(e, NVME_SQE_PRP1, prp1);
	put64(e, NVME_SQE_PRP2, prp2);
}

void nvme_sqe_set_cid(struct nvme_sqe *e, u16 cid)
{
	e->dw[NVME_SQE_CDW0] = (e->dw[NVME_SQE_CDW0] & NVME_SQE_OPCODE_MASK) |
			       (u32)cid << NVME_CID_SHIFT;
}

/* The phase tag tells a new entry from last round's (§4.6): the
   controller inverts it each time it wraps around the queue. */
enum nvme_cqe_state nvme_cqe_check(const volatile u32 *cqe, u16 cid,
				   bool phase, u16 *status)
{
	u32 dw3 = cqe[NVME_CQE_DW3];

	if (!!(dw3 & NVME_CQE_PHASE) != phase)
		return NVME_CQE_NONE;
	*status = NVME_CQE_STATUS(dw3);
	if (NVME_CQE_CID(dw3) != cid)
		return NVME_CQE_WRONG_CID;
	return *status ? NVME_CQE_ERROR : NVME_CQE_OK;
}

/* PRP1 may start inside a page; every later entry is a page (§4.1.1). */
bool nvme_prp(u64 buf, u64 bytes, u64 *list, u64 list_phys, u64 *prp1,
	      u64 *prp2)
{
	u64 first = NVME_PAGE - (buf & PAGE_OFFSET);  /* bytes in page 1 */
	u64 page, pages;

	if ((buf & DWORD_MASK) || !bytes || bytes > NVME_PRP_MAX_BYTES)
		return false;
	*prp1 = buf;
	*prp2 = 0;
	if (bytes <= first)
		return true;
	page = (buf & ~PAGE_OFFSET) + NVME_PAGE;
	pages = (bytes - first + PAGE_OFFSET) / NVME_PAGE;  /* after page 1 */
	if (pages == 1) {
		*prp2 = page;
		return true;
	}
	if (pages > NVME_PRP_LIST_ENTRIES)
		return false;
	for (u64 i = 0; i < pages; i++)
		list[i] = page + i * NVME_PAGE;
	*prp2 = list_phys;
	return true;
}
