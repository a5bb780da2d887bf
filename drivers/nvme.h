/*
 * NVM Express: the register map, queue entries and commands uhv's NVMe
 * driver uses (NVM Express Base Specification 2.0: §3.1 controller
 * registers, §4.2 submission and §4.6 completion queue entries, §5
 * admin commands; NVM Command Set Specification 1.0 §3.2, §4 for I/O),
 * and the driver's pure helpers (nvme_cmd.c), which the host unit tests
 * run: building commands, reading completions, PRP lists.
 */
#ifndef UHV_DRIVERS_NVME_H
#define UHV_DRIVERS_NVME_H

#include "lib/types.h"

/* PCI class code: mass storage, non-volatile memory, NVM Express. */
#define NVME_PCI_CLASS      0x010802u
#define NVME_PCI_BAR        0          /* MLBAR/MUBAR: 64-bit, BAR0-1 */

/* Controller registers (§3.1.1). */
#define NVME_REG_CAP        0x00       /* 64 bits */
#define NVME_REG_VS         0x08
#define NVME_REG_INTMS      0x0c       /* interrupt mask set */
#define NVME_REG_CC         0x14
#define NVME_REG_CSTS       0x1c
#define NVME_REG_AQA        0x24
#define NVME_REG_ASQ        0x28       /* 64 bits */
#define NVME_REG_ACQ        0x30       /* 64 bits */
#define NVME_REG_DOORBELLS  0x1000

/* CAP fields (§3.1.1.1). */
#define NVME_CAP_MQES(c)    ((u32)((c) & 0xffff))        /* 0-based */
#define NVME_CAP_TO(c)      ((u32)(((c) >> 24) & 0xff))  /* 500 ms units */
#define NVME_CAP_DSTRD(c)   ((u32)(((c) >> 32) & 0xf))
#define NVME_CAP_CSS_NVM    BIT(37)    /* the NVM command set */
#define NVME_CAP_MPSMIN(c)  ((u32)(((c) >> 48) & 0xf))   /* 2^(12+n) */
#define NVME_TO_UNIT_MS     500

/* CC (§3.1.1.5): enable, NVM command set, 4 KiB pages (MPS 0), entry
   sizes as powers of two. */
#define NVME_CC_EN          BIT(0)
#define NVME_CC_IOSQES(n)   ((u32)(n) << 16)
#define NVME_CC_IOCQES(n)   ((u32)(n) << 20)
#define NVME_CSTS_RDY       BIT(0)
#define NVME_CSTS_CFS       BIT(1)     /* controller fatal status */

/* AQA (§3.1.1.8): 0-based admin queue sizes. */
#define NVME_AQA(sq, cq)    ((u32)((sq) - 1) | (u32)((cq) - 1) << 16)

/* Queue entries (§4.2, §4.6). */
#define NVME_SQE_SIZE       64
#define NVME_SQE_SIZE_LOG2  6
#define NVME_CQE_SIZE       16
#define NVME_CQE_SIZE_LOG2  4
#define NVME_PAGE           4096       /* the memory page size uhv sets */

/* Submission queue entry dwords (§4.2, Figure 92). */
#define NVME_SQE_CDW0       0          /* opcode 7:0, command id 31:16 */
#define NVME_SQE_NSID       1
#define NVME_SQE_PRP1       6          /* 64 bits: dwords 6-7 */
#define NVME_SQE_PRP2       8          /* 64 bits: dwords 8-9 */
#define NVME_SQE_CDW10      10
#define NVME_SQE_CDW11      11
#define NVME_SQE_CDW12      12
#define NVME_SQE_DWORDS     16
#define NVME_CID_SHIFT      16
#define NVME_SQE_OPCODE_MASK 0xffu

/* Completion queue entry dword 3 (§4.6, Figure 97): command id 15:0,
   phase tag 16, status 31:17 (status code 24:17, its type 27:25). */
#define NVME_CQE_DW3        3
#define NVME_CQE_CID(dw3)   ((u16)((dw3) & 0xffff))
#define NVME_CQE_PHASE      BIT(16)
#define NVME_CQE_STATUS(dw3) ((u16)((dw3) >> 17))
#define NVME_STATUS_SC(s)   ((s) & 0xff)
#define NVME_STATUS_SCT(s)  (((s) >> 8) & 0x7)

/* Admin commands (§5, Figure 138) and their dwords. */
#define NVME_ADMIN_CREATE_SQ   0x01
#define NVME_ADMIN_CREATE_CQ   0x05
#define NVME_ADMIN_IDENTIFY    0x06
#define NVME_QUEUE_CDW10(qid, entries) ((u32)(qid) | (u32)((entries) - 1) << 16)
#define NVME_QUEUE_PC       BIT(0)     /* physically contiguous */
#define NVME_SQ_CQID(cqid)  ((u32)(cqid) << 16)
#define NVME_CNS_NAMESPACE  0x00       /* Identify CNS values (§5.17.1) */
#define NVME_CNS_CONTROLLER 0x01

/* Identify Controller data (§5.17.2.1, Figure 275): byte offsets. */
#define NVME_IDC_MN         24         /* model number, 40 ASCII bytes */
#define NVME_IDC_MN_LEN     40
#define NVME_IDC_MDTS       77         /* max transfer: 2^n min pages */
#define NVME_IDC_NN         516        /* number of namespaces, 32 bits */
/* Identify Namespace data (NVM Command Set §4.1.5.1, Figure 97). */
#define NVME_IDN_NSZE       0          /* size in logical blocks, 64 bits */
#define NVME_IDN_FLBAS      26         /* bits 3:0: the LBA format in use */
#define NVME_IDN_FLBAS_MASK 0xf
#define NVME_IDN_LBAF       128        /* 4 bytes a format */
#define NVME_LBAF_LBADS(f)  (((f) >> 16) & 0xff)   /* 2^n bytes a block */

/* I/O commands (NVM Command Set §3.3, Figure 20). */
#define NVME_CMD_FLUSH      0x00
#define NVME_CMD_WRITE      0x01
#define NVME_CMD_READ       0x02

/* A submission queue entry being built: sixteen dwords. */
struct nvme_sqe {
	u32 dw[NVME_SQE_DWORDS];
};

/* What one completion queue entry says about the command in flight. */
enum nvme_cqe_state {
	NVME_CQE_NONE,       /* phase tag not flipped yet: still running */
	NVME_CQE_OK,
	NVME_CQE_WRONG_CID,  /* a completion for a command not in flight */
	NVME_CQE_ERROR,      /* status code nonzero */
};

/* The command opcode for namespace nsid (0: none), data at prp1/prp2;
   its command id is set when it is submitted (nvme_sqe_set_cid). */
void nvme_sqe_init(struct nvme_sqe *e, u8 opcode, u32 nsid, u64 prp1,
		   u64 prp2);
void nvme_sqe_set_cid(struct nvme_sqe *e, u16 cid);

/* Reads the completion entry at cqe (16 bytes, as the controller wrote
   it) for the command cid, expecting phase tag phase; *status gets the
   status field (0 is success). */
enum nvme_cqe_state nvme_cqe_check(const volatile u32 *cqe, u16 cid,
				   bool phase, u16 *status);

/*
 * The data pointer of a transfer of bytes at physical address buf (§4.1.1,
 * PRP entries): prp1 is buf; prp2 is 0 (one page), the second page (two),
 * or list_phys, whose list (list, one page of entries) then holds the
 * pages after the first. buf must be dword aligned; bytes at most
 * NVME_PRP_MAX_BYTES. Returns false if the transfer does not fit.
 */
#define NVME_PRP_LIST_ENTRIES (NVME_PAGE / 8)
#define NVME_PRP_MAX_BYTES    ((u64)NVME_PRP_LIST_ENTRIES * NVME_PAGE)
bool nvme_prp(u64 buf, u64 bytes, u64 *list, u64 list_phys, u64 *prp1,
	      u64 *prp2);

#endif
