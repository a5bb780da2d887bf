/*
 * Polled NVMe driver (layouts and the spec's sections: drivers/nvme.h).
 * uhv takes no interrupts, so each controller runs one command at a time
 * and the driver polls the completion queue's phase tag. Each namespace
 * with 512-byte blocks becomes a disk, "nvme0n1" (controller 0, namespace
 * 1), a backend for VMs' virtio-blk disks (disk = host:nvme0n1).
 *
 * Every wait is bounded by the TSC. A command the controller fails gets
 * -1 (the VM sees IOERR); one that never completes, or a completion for
 * another command id, also costs the controller: it is given up, since a
 * late or stray completion could otherwise be taken for a later
 * command's, and every later request gets -1 at once.
 *
 * Memory per controller, from the caller's page allocator (physical =
 * virtual): a page each for the admin and the I/O queue pair's
 * submission and completion queues (QUEUE_ENTRIES used), one for
 * Identify data and as a bounce buffer for callers' buffers outside the
 * identity map, and one for a PRP list.
 */
#include "drivers/blkdev.h"
#include "drivers/mmio.h"
#include "drivers/nvme.h"
#include "drivers/pci.h"
#include "lib/string.h"
#include "lib/bytes.h"

#define NVME_MAX_CTRLS   4
#define QUEUE_ENTRIES    16           /* one command in flight needs 2 */
#define ADMIN_QID        0
#define IO_QID           1
#define NVME_MAX_NS      8            /* namespaces looked at a controller */
#define CMD_TIMEOUT_MS   10000
#define FLUSH_TIMEOUT_MS 30000
#define SECTOR_LBADS     9            /* 2^9 = BLKDEV_SECTOR */
#define CQE_DWORDS       (NVME_CQE_SIZE / 4)
#define DOORBELL_BYTES   4            /* the stride is 4 << CAP.DSTRD */
/* Lower-half addresses are identity mapped in uhv (physical = virtual);
   the core's own image lives at -2 GiB and is not. */
#define IDENTITY_LIMIT   (1ULL << 47)
#define DWORD_ALIGN      3ULL

struct nvme_queue {
	volatile u32 *sq, *cq;           /* QUEUE_ENTRIES entries each */
	u64 sq_phys, cq_phys;
	u32 sq_doorbell, cq_doorbell;    /* register offsets */
	u16 sq_tail, cq_head;
	bool phase;                      /* the tag of new completions */
};

struct nvme_ctrl {
	volatile u8 *regs;
	struct nvme_queue admin, io;
	u8 *buf;                         /* Identify data, bounce buffer */
	u64 *prp_list;
	u64 ready_ms;                    /* CAP.TO: enable/disable limit */
	u64 max_bytes;                   /* a command's transfer (MDTS) */
	u16 next_cid;
	bool failed;                     /* given up: every request -1 */
};

struct nvme_ns {
	struct nvme_ctrl *c;
	u32 nsid;
};

static struct nvme_ctrl nvme_ctrls[NVME_MAX_CTRLS];
static struct nvme_ns nvme_nss[BLKDEV_MAX];
static int nvme_nctrls, nvme_nns;

static u64 reg_read64(volatile u8 *regs, u32 off)
{
	return mmio_read32(regs, off) | (u64)mmio_read32(regs, off + 4) << 32;
}

static void reg_write64(volatile u8 *regs, u32 off, u64 v)
{
	mmio_write32(regs, off, (u32)v);
	mmio_write32(regs, off + 4, (u32)(v >> 32));
}

/* ---- commands ---- */

/* Takes the completion at the queue's head and tells the controller. */
static void cq_advance(struct nvme_ctrl *c, struct nvme_queue *q)
{
	q->cq_head = (u16)((q->cq_head + 1) % QUEUE_ENTRIES);
	if (!q->cq_head)
		q->phase = !q->phase;
	mmio_write32(c->regs, q->cq_doorbell, q->cq_head);
}

/* Whether the completion for cid has come; *st says what it is. */
static bool completed(struct nvme_queue *q, u16 cid, enum nvme_cqe_state *st)
{
	u16 status;

	*st = nvme_cqe_check(q->cq + q->cq_head * CQE_DWORDS, cid, q->phase,
			     &status);
	return *st != NVME_CQE_NONE;
}

/* Submits e on q and polls for its completion for up to ms: 0 if it
   succeeded, -1 if it failed, timed out or another command id came
   back (the last two give the controller up). */
static int exec(struct nvme_ctrl *c, struct nvme_queue *q,
		struct nvme_sqe *e, u64 ms)
{
	u16 cid = c->next_cid++;
	enum nvme_cqe_state st;
	u64 when;

	if (c->failed)
		return -1;
	nvme_sqe_set_cid(e, cid);
	for (int i = 0; i < NVME_SQE_DWORDS; i++)
		q->sq[q->sq_tail * NVME_SQE_DWORDS + i] = e->dw[i];
	q->sq_tail = (u16)((q->sq_tail + 1) % QUEUE_ENTRIES);
	mmio_write32(c->regs, q->sq_doorbell, q->sq_tail);
	when = mmio_deadline(ms);
	while (!completed(q, cid, &st)) {
		if (mmio_expired(when) && !completed(q, cid, &st)) {
			c->failed = true;
			return -1;
		}
		mmio_relax();
	}
	cq_advance(c, q);
	if (st == NVME_CQE_WRONG_CID)
		c->failed = true;
	return st == NVME_CQE_OK ? 0 : -1;
}

/* ---- block device operations ---- */

static bool dma_direct_ok(const u8 *buf, u64 bytes)
{
	u64 a = (u64)(uintptr_t)buf;

	return a < IDENTITY_LIMIT && bytes <= IDENTITY_LIMIT - a &&
	       !(a & DWORD_ALIGN);
}

/* One READ or WRITE of count sectors at lba, data at buf (physical). */
static int rw_command(struct nvme_ns *ns, u8 opcode, u64 lba, u32 count,
		      u64 buf)
{
	struct nvme_ctrl *c = ns->c;
	struct nvme_sqe e;
	u64 prp1, prp2;

	if (!nvme_prp(buf, (u64)count * BLKDEV_SECTOR, c->prp_list,
		      (u64)(uintptr_t)c->prp_list, &prp1, &prp2))
		return -1;
	nvme_sqe_init(&e, opcode, ns->nsid, prp1, prp2);
	e.dw[NVME_SQE_CDW10] = (u32)lba;              /* SLBA */
	e.dw[NVME_SQE_CDW11] = (u32)(lba >> 32);
	e.dw[NVME_SQE_CDW12] = count - 1;             /* NLB, 0-based */
	return exec(c, &c->io, &e, CMD_TIMEOUT_MS);
}

static int nvme_rw(struct blkdev *d, u64 lba, u32 count, u8 *buf, bool write)
{
	struct nvme_ns *ns = d->priv;
	struct nvme_ctrl *c = ns->c;

	if (lba >= d->sectors || count > d->sectors - lba)
		return count ? -1 : 0;
	while (count) {
		u32 chunk = (u32)MIN(count, c->max_bytes / BLKDEV_SECTOR);
		bool direct = dma_direct_ok(buf, (u64)chunk * BLKDEV_SECTOR);
		u8 *data = direct ? buf : c->buf;

		if (!direct)
			chunk = MIN(chunk, (u32)(PAGE_SIZE / BLKDEV_SECTOR));
		if (write && !direct)
			memcpy(c->buf, buf, chunk * BLKDEV_SECTOR);
		if (rw_command(ns, write ? NVME_CMD_WRITE : NVME_CMD_READ, lba,
			       chunk, (u64)(uintptr_t)data))
			return -1;
		if (!write && !direct)
			memcpy(buf, c->buf, chunk * BLKDEV_SECTOR);
		buf += chunk * BLKDEV_SECTOR;
		lba += chunk;
		count -= chunk;
	}
	return 0;
}

static int nvme_read(struct blkdev *d, u64 lba, u32 count, void *buf)
{
	return nvme_rw(d, lba, count, buf, false);
}

static int nvme_write(struct blkdev *d, u64 lba, u32 count, const void *buf)
{
	/* Only read from in this direction. */
	return nvme_rw(d, lba, count, (u8 *)(uintptr_t)buf, true);
}

/* FLUSH (NVM Command Set §3.3.1): the volatile write cache reaches the
   medium; it completes at once on a controller without one. */
static int nvme_flush(struct blkdev *d)
{
	struct nvme_ns *ns = d->priv;
	struct nvme_sqe e;

	nvme_sqe_init(&e, NVME_CMD_FLUSH, ns->nsid, 0, 0);
	return exec(ns->c, &ns->c->io, &e, FLUSH_TIMEOUT_MS);
}

/* ---- bring-up (Base Specification §3.5.1) ---- */

/* Sets up queue qid's memory and doorbells (§3.1.1: 0x1000 + (2 qid)
   strides for the submission tail, one stride more for the head). */
static bool queue_init(struct nvme_queue *q, u16 qid, u64 cap,
		       u64 (*alloc_page)(void))
{
	u32 stride = DOORBELL_BYTES << NVME_CAP_DSTRD(cap);

	q->sq_phys = alloc_page();
	q->cq_phys = alloc_page();
	if (!q->sq_phys || !q->cq_phys || q->cq_phys >= IDENTITY_LIMIT ||
	    q->sq_phys >= IDENTITY_LIMIT)
		return false;
	q->sq = (volatile u32 *)(uintptr_t)q->sq_phys;
	q->cq = (volatile u32 *)(uintptr_t)q->cq_phys;
	memset((void *)(uintptr_t)q->cq_phys, 0, PAGE_SIZE);  /* phase 0 */
	q->sq_doorbell = NVME_REG_DOORBELLS + 2u * qid * stride;
	q->cq_doorbell = q->sq_doorbell + stride;
	q->sq_tail = q->cq_head = 0;
	q->phase = true;          /* the controller's first pass writes 1 */
	return true;
}

/* Clears or sets CC.EN and waits for CSTS.RDY to follow (CAP.TO). */
static bool ctrl_enable(struct nvme_ctrl *c, bool on)
{
	u32 cc = on ? NVME_CC_EN | NVME_CC_IOSQES(NVME_SQE_SIZE_LOG2) |
		      NVME_CC_IOCQES(NVME_CQE_SIZE_LOG2) : 0;

	mmio_write32(c->regs, NVME_REG_CC, cc);
	if (!mmio_wait32(c->regs, NVME_REG_CSTS, NVME_CSTS_RDY,
			 on ? NVME_CSTS_RDY : 0, c->ready_ms))
		return false;
	return !(mmio_read32(c->regs, NVME_REG_CSTS) & NVME_CSTS_CFS);
}

/* Identify (§5.17) into c->buf: CNS cns for namespace nsid. */
static int identify(struct nvme_ctrl *c, u32 cns, u32 nsid)
{
	struct nvme_sqe e;

	nvme_sqe_init(&e, NVME_ADMIN_IDENTIFY, nsid, (u64)(uintptr_t)c->buf, 0);
	e.dw[NVME_SQE_CDW10] = cns;
	return exec(c, &c->admin, &e, CMD_TIMEOUT_MS);
}

/* Creates the I/O completion queue, then its submission queue (§5.4,
   §5.5): physically contiguous, interrupts off. */
static int create_io_queues(struct nvme_ctrl *c)
{
	struct nvme_sqe e;

	nvme_sqe_init(&e, NVME_ADMIN_CREATE_CQ, 0, c->io.cq_phys, 0);
	e.dw[NVME_SQE_CDW10] = NVME_QUEUE_CDW10(IO_QID, QUEUE_ENTRIES);
	e.dw[NVME_SQE_CDW11] = NVME_QUEUE_PC;
	if (exec(c, &c->admin, &e, CMD_TIMEOUT_MS))
		return -1;
	nvme_sqe_init(&e, NVME_ADMIN_CREATE_SQ, 0, c->io.sq_phys, 0);
	e.dw[NVME_SQE_CDW10] = NVME_QUEUE_CDW10(IO_QID, QUEUE_ENTRIES);
	e.dw[NVME_SQE_CDW11] = NVME_SQ_CQID(IO_QID) | NVME_QUEUE_PC;
	return exec(c, &c->admin, &e, CMD_TIMEOUT_MS);
}

/* Resets the controller and brings up its admin and I/O queues; false
   if it cannot run uhv's way (no NVM command set, no 4 KiB pages). */
static bool ctrl_init(struct nvme_ctrl *c, u64 (*alloc_page)(void))
{
	u64 cap = reg_read64(c->regs, NVME_REG_CAP);
	u64 buf, list;

	/* uhv's queue pages are 4 KiB: the controller must take them */
	if (!(cap & NVME_CAP_CSS_NVM) || NVME_CAP_MPSMIN(cap) != 0 ||
	    NVME_CAP_MQES(cap) + 1 < QUEUE_ENTRIES)
		return false;
	c->ready_ms = (u64)(NVME_CAP_TO(cap) + 1) * NVME_TO_UNIT_MS;
	buf = alloc_page();
	list = alloc_page();
	if (!buf || !list || buf >= IDENTITY_LIMIT || list >= IDENTITY_LIMIT ||
	    !queue_init(&c->admin, ADMIN_QID, cap, alloc_page) ||
	    !queue_init(&c->io, IO_QID, cap, alloc_page))
		return false;
	c->buf = (u8 *)(uintptr_t)buf;
	c->prp_list = (u64 *)(uintptr_t)list;
	if (!ctrl_enable(c, false))
		return false;
	mmio_write32(c->regs, NVME_REG_AQA, NVME_AQA(QUEUE_ENTRIES, QUEUE_ENTRIES));
	reg_write64(c->regs, NVME_REG_ASQ, c->admin.sq_phys);
	reg_write64(c->regs, NVME_REG_ACQ, c->admin.cq_phys);
	mmio_write32(c->regs, NVME_REG_INTMS, ~0u);   /* uhv polls */
	return ctrl_enable(c, true) && create_io_queues(c) == 0;
}

/* The model number (space-padded ASCII) without its trailing blanks. */
static void model(const u8 *id, char *out, size_t size)
{
	size_t n = MIN((size_t)NVME_IDC_MN_LEN, size - 1);

	memcpy(out, id + NVME_IDC_MN, n);
	while (n && (out[n - 1] == ' ' || !out[n - 1]))
		n--;
	out[n] = 0;
}

/* "nvme<ctrl>n<nsid>" */
static void ns_name(char *s, int ctrl, u32 nsid)
{
	*s++ = 'n'; *s++ = 'v'; *s++ = 'm'; *s++ = 'e';
	*s++ = (char)('0' + ctrl);
	*s++ = 'n';
	if (nsid >= 10)
		*s++ = (char)('0' + nsid / 10);
	*s++ = (char)('0' + nsid % 10);
	*s = 0;
}

/* Namespace nsid as d, if it is active with 512-byte blocks. */
static bool probe_ns(struct nvme_ctrl *c, int ctrl, u32 nsid,
		     const char *mn, struct blkdev *d)
{
	struct nvme_ns *ns = &nvme_nss[nvme_nns];
	u64 blocks;
	u32 lbaf;

	if (identify(c, NVME_CNS_NAMESPACE, nsid))
		return false;
	blocks = le64_get(c->buf + NVME_IDN_NSZE);
	lbaf = le32_get(c->buf + NVME_IDN_LBAF +
		       4 * (c->buf[NVME_IDN_FLBAS] & NVME_IDN_FLBAS_MASK));
	if (!blocks || NVME_LBAF_LBADS(lbaf) != SECTOR_LBADS)
		return false;          /* inactive, or not 512-byte blocks */
	*ns = (struct nvme_ns){ c, nsid };
	memset(d, 0, sizeof(*d));
	ns_name(d->name, ctrl, nsid);
	d->sectors = blocks;
	memcpy(d->model, mn, sizeof(d->model));
	d->read = nvme_read;
	d->write = nvme_write;
	d->flush = nvme_flush;
	d->priv = ns;
	nvme_nns++;
	return true;
}

/* What nvme_probe's scan fills. */
struct nvme_scan {
	struct blkdev *devs;
	int max, found;
	u64 (*alloc_page)(void);
};

/* pci_find_class's callback: one controller's namespaces; true to go on. */
static bool probe_ctrl(const struct pci_fn *f, void *ctx)
{
	struct nvme_scan *sc = ctx;
	struct nvme_ctrl *c = &nvme_ctrls[nvme_nctrls];
	u64 bar = pci_bar_mem(f, NVME_PCI_BAR);
	char mn[sizeof(((struct blkdev *)0)->model)];
	u32 nn, mdts;

	if (!bar || bar >= IDENTITY_LIMIT || nvme_nctrls >= NVME_MAX_CTRLS)
		return sc->found < sc->max;
	*c = (struct nvme_ctrl){ .regs = (volatile u8 *)(uintptr_t)bar };
	pci_enable_dma(f);
	if (!ctrl_init(c, sc->alloc_page) || identify(c, NVME_CNS_CONTROLLER, 0))
		return sc->found < sc->max;
	model(c->buf, mn, sizeof(mn));
	mdts = c->buf[NVME_IDC_MDTS];
	nn = le32_get(c->buf + NVME_IDC_NN);
	c->max_bytes = NVME_PRP_MAX_BYTES;
	if (mdts && mdts < 32)
		c->max_bytes = MIN(c->max_bytes, (u64)NVME_PAGE << mdts);
	for (u32 nsid = 1; nsid <= MIN(nn, (u32)NVME_MAX_NS) &&
	     sc->found < sc->max && nvme_nns < BLKDEV_MAX; nsid++)
		if (probe_ns(c, nvme_nctrls, nsid, mn, &sc->devs[sc->found]))
			sc->found++;
	nvme_nctrls++;
	return sc->found < sc->max;
}

int nvme_probe(struct blkdev *devs, int max, u64 (*alloc_page)(void))
{
	struct nvme_scan sc = { devs, max, 0, alloc_page };

	nvme_nctrls = 0;
	nvme_nns = 0;
	if (max > 0)
		pci_find_class(NVME_PCI_CLASS, probe_ctrl, &sc);
	return sc.found;
}
