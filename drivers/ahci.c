/*
 * Polled AHCI driver for SATA disks (register map and command structures:
 * Serial ATA AHCI 1.3.1; commands: ATA/ATAPI Command Set, ACS-3; the
 * Register Host-to-Device FIS: SATA 3.x §10.5.5). uhv takes no
 * interrupts, so each port runs one command at a time in command slot 0
 * and the driver polls PxCI. Every wait is bounded by the TSC; a command
 * that fails or times out is answered with -1 and the port goes through
 * the non-queued error recovery of AHCI §6.2.2.2 so that the next command
 * finds it idle.
 *
 * Memory per port, from the caller's page allocator (physical = virtual):
 *   page 0: command list at 0x000 (32 headers, 1 KiB aligned, §4.2.2),
 *           received-FIS area at 0x400 (256 B aligned, §4.2.1),
 *           command table of slot 0 at 0x800 (128 B aligned, §4.2.3);
 *   page 1: a bounce buffer (8 sectors) for IDENTIFY and for callers'
 *           buffers that are not in the identity-mapped lower half.
 */
#include "drivers/blkdev.h"
#include "drivers/mmio.h"
#include "drivers/pci.h"
#include "lib/string.h"

#define PCI_BAR_ABAR       5          /* AHCI §2.1.11: BAR5 is ABAR */
#define PCI_CLASS_AHCI     0x010601u  /* mass storage, SATA, AHCI 1.0 */

/* ---- HBA registers (AHCI §3) ---- */

#define HBA_CAP       0x00
#define HBA_GHC       0x04
#define HBA_IS        0x08
#define HBA_PI        0x0c
#define HBA_CAP2      0x24
#define HBA_BOHC      0x28
#define HBA_PORT(n)   (0x100 + (n) * 0x80)
#define HBA_MAX_PORTS 32

#define CAP_S64A      (1u << 31)  /* 64-bit addressing */
#define CAP_SSS       (1u << 27)  /* staggered spin-up: PxCMD.SUD matters */
#define CAP_SCLO      (1u << 24)  /* PxCMD.CLO works */
#define GHC_AE        (1u << 31)  /* AHCI enable */
#define GHC_IE        (1u << 1)   /* interrupt enable */
#define CAP2_BOH      (1u << 0)   /* BIOS/OS handoff implemented */
#define BOHC_BOS      (1u << 0)   /* BIOS owns the HBA */
#define BOHC_OOS      (1u << 1)   /* OS requests ownership */
#define BOHC_BB       (1u << 4)   /* BIOS busy: allow it 2 s (§10.6.3) */

/* Port registers, offsets from HBA_PORT(n) (AHCI §3.3). */
#define PxCLB    0x00
#define PxCLBU   0x04
#define PxFB     0x08
#define PxFBU    0x0c
#define PxIS     0x10
#define PxIE     0x14
#define PxCMD    0x18
#define PxTFD    0x20
#define PxSIG    0x24
#define PxSSTS   0x28
#define PxSCTL   0x2c
#define PxSERR   0x30
#define PxCI     0x38

#define CMD_ST   (1u << 0)    /* start processing the command list */
#define CMD_SUD  (1u << 1)    /* spin-up device */
#define CMD_CLO  (1u << 3)    /* command list override */
#define CMD_FRE  (1u << 4)    /* FIS receive enable */
#define CMD_FR   (1u << 14)   /* FIS receive running */
#define CMD_CR   (1u << 15)   /* command list running */

#define IS_TFES  (1u << 30)   /* task file error */
#define IS_HBFS  (1u << 29)   /* host bus fatal error */
#define IS_HBDS  (1u << 28)   /* host bus data error */
#define IS_IFS   (1u << 27)   /* interface fatal error */
#define IS_OFS   (1u << 24)   /* overflow: more data than the PRDT held */
#define IS_ERRORS (IS_TFES | IS_HBFS | IS_HBDS | IS_IFS | IS_OFS)

#define TFD_ERR  (1u << 0)    /* ATA status: error */
#define TFD_DRQ  (1u << 3)
#define TFD_DF   (1u << 5)    /* ATA status: device fault */
#define TFD_BSY  (1u << 7)

#define SSTS_DET_MASK    0xfu
#define SSTS_DET_PRESENT 3u   /* device present, PHY communication up */
#define SCTL_DET_MASK    0xfu
#define SCTL_DET_COMRESET 1u
#define SIG_ATA          0x00000101u  /* SATA disk (not ATAPI/PM/SEMB) */
#define SIG_NONE         0xffffffffu  /* no D2H register FIS seen yet */

/* Command header DW0 (AHCI §4.2.2). */
#define CH_CFL(dw)   ((dw) & 0x1f)     /* command FIS length in DWORDs */
#define CH_WRITE     (1u << 6)
#define CH_PRDTL(n)  ((u32)(n) << 16)

/* Command table (AHCI §4.2.3) and PRD entry (§4.2.3.3). */
#define CT_CFIS      0x00
#define CT_PRDT      0x80
#define PRD_DBC_MAX  (4u << 20)         /* bytes per entry; DBC is 22 bits */

/* Register Host-to-Device FIS (SATA §10.5.5). */
#define FIS_TYPE_REG_H2D 0x27
#define FIS_H2D_COMMAND  0x80           /* C bit: the command register */
#define FIS_H2D_DWORDS   5
#define ATA_DEV_LBA      0x40

/* ATA commands (ACS-3 §7). */
#define ATA_READ_DMA         0xc8
#define ATA_READ_DMA_EXT     0x25
#define ATA_WRITE_DMA        0xca
#define ATA_WRITE_DMA_EXT    0x35
#define ATA_FLUSH_CACHE      0xe7
#define ATA_FLUSH_CACHE_EXT  0xea
#define ATA_IDENTIFY_DEVICE  0xec

/* IDENTIFY DEVICE data words (ACS-3 §7.12.7). */
#define ID_GENERAL        0     /* bit 15 set: not an ATA device */
#define ID_MODEL          27    /* 20 words, two characters each */
#define ID_MODEL_WORDS    20
#define ID_LBA28_SECTORS  60    /* 2 words */
#define ID_CMDSET2        83    /* bit 10: 48-bit address feature set */
#define ID_CMDSET2_ENA    86    /* bit 10: ... and enabled */
#define ID_LBA48_SECTORS  100   /* 4 words */
#define ID_SECTOR_SIZE    106   /* bit 12 (if 15:14 == 01): words 117-118 */
#define ID_LBA48          (1u << 10)

/* Layout inside the port's two pages (see the top of the file). */
#define OFF_CMD_LIST   0x000
#define OFF_FIS        0x400
#define OFF_CMD_TABLE  0x800
#define BOUNCE_SECTORS (PAGE_SIZE / BLKDEV_SECTOR)
#define LBA48_CHUNK    (PRD_DBC_MAX / BLKDEV_SECTOR)  /* one PRD entry */
#define LBA28_CHUNK    256

/* Time limits (mmio.h: they assume a TSC of at most 4 GHz). */
#define STOP_TIMEOUT_MS     500    /* CR, FR clear (AHCI §10.1.2) */
#define BOHC_TIMEOUT_MS     25     /* BOS clear (AHCI §10.6.3) */
#define BOHC_BUSY_MS        2000
#define SPINUP_TIMEOUT_MS   50     /* DET = 3 after PxCMD.SUD */
#define COMRESET_HOLD_MS    1      /* DET = 1 for at least 1 ms (§10.4.2) */
#define READY_TIMEOUT_MS    5000   /* BSY/DRQ clear after reset/spin-up */
#define CMD_TIMEOUT_MS      10000
#define FLUSH_TIMEOUT_MS    30000

/* Lower-half addresses are identity mapped in uhv (physical = virtual);
   the core's own image lives at -2 GiB and is not. */
#define IDENTITY_LIMIT      (1ULL << 47)
#define DMA32_LIMIT         (1ULL << 32)

struct ahci_port {
	volatile u8 *regs;       /* the port's register block in ABAR */
	u8 *mem;                 /* command list, received FIS, command table */
	u8 *bounce;              /* page-sized DMA buffer */
	u32 cap;                 /* HBA CAP */
	bool lba48;
};

static struct ahci_port ahci_ports[BLKDEV_MAX];
static int ahci_nports;
static int ahci_nhbas;

/* ---- port state (AHCI §10.1.2, §10.3.1) ---- */

static bool port_device_present(volatile u8 *r)
{
	return (mmio_read32(r, PxSSTS) & SSTS_DET_MASK) == SSTS_DET_PRESENT;
}

/* Clears ST and waits for CR, so the HBA has let go of the command list. */
static bool port_stop_cmd(volatile u8 *r)
{
	u32 cmd = mmio_read32(r, PxCMD);

	if (cmd & CMD_ST)
		mmio_write32(r, PxCMD, cmd & ~CMD_ST);
	return mmio_wait32(r, PxCMD, CMD_CR, 0, STOP_TIMEOUT_MS);
}

/* Idle: ST, CR, FRE and FR all clear; CLB/FB may be changed after this. */
static bool port_stop(volatile u8 *r)
{
	u32 cmd;

	if (!port_stop_cmd(r))
		return false;
	cmd = mmio_read32(r, PxCMD);
	if (cmd & CMD_FRE)
		mmio_write32(r, PxCMD, cmd & ~CMD_FRE);
	return mmio_wait32(r, PxCMD, CMD_FR, 0, STOP_TIMEOUT_MS);
}

static bool port_ready(volatile u8 *r, u64 ms)
{
	return mmio_wait32(r, PxTFD, TFD_BSY | TFD_DRQ, 0, ms);
}

/* With ST clear: gets the device out of BSY/DRQ by a command list
   override if the HBA has one, else by a COMRESET (§10.4.2). */
static bool port_unstick(struct ahci_port *p)
{
	volatile u8 *r = p->regs;

	if (!(mmio_read32(r, PxTFD) & (TFD_BSY | TFD_DRQ)))
		return true;
	if (p->cap & CAP_SCLO) {
		mmio_write32(r, PxCMD, mmio_read32(r, PxCMD) | CMD_CLO);
		if (mmio_wait32(r, PxCMD, CMD_CLO, 0, STOP_TIMEOUT_MS) &&
		    !(mmio_read32(r, PxTFD) & (TFD_BSY | TFD_DRQ)))
			return true;
	}
	mmio_write32(r, PxSCTL,
		   (mmio_read32(r, PxSCTL) & ~SCTL_DET_MASK) | SCTL_DET_COMRESET);
	mmio_delay_ms(COMRESET_HOLD_MS);
	mmio_write32(r, PxSCTL, mmio_read32(r, PxSCTL) & ~SCTL_DET_MASK);
	if (!mmio_wait32(r, PxSSTS, SSTS_DET_MASK, SSTS_DET_PRESENT,
		      READY_TIMEOUT_MS))
		return false;
	mmio_write32(r, PxSERR, ~0u);   /* the reset sets SError.DIAG.X */
	return port_ready(r, READY_TIMEOUT_MS);
}

/* ST may only be set with FRE set, BSY/DRQ clear and DET = 3 (§10.3.1). */
static bool port_start(struct ahci_port *p)
{
	volatile u8 *r = p->regs;

	if (!port_device_present(r) || !port_ready(r, 0))
		return false;
	mmio_write32(r, PxCMD, mmio_read32(r, PxCMD) | CMD_FRE);
	mmio_write32(r, PxCMD, mmio_read32(r, PxCMD) | CMD_ST);
	return true;
}

/* Non-queued error recovery (§6.2.2.2): stop, clear errors, unstick the
   device, start again. The port is left stopped if that fails, and the
   next command fails fast. */
static void port_recover(struct ahci_port *p)
{
	volatile u8 *r = p->regs;

	if (!port_stop_cmd(r))
		return;
	mmio_write32(r, PxSERR, ~0u);
	mmio_write32(r, PxIS, ~0u);
	if (port_unstick(p)) {
		mmio_write32(r, PxIS, ~0u);
		port_start(p);
	}
}

/* ---- commands ---- */

struct ata_cmd {
	u8 command;
	u64 lba;
	u32 count;       /* sectors; 0 for a command without a count */
	u64 dma;         /* physical address of the data, 0 for none */
	u32 bytes;
	bool write;
	u64 timeout_ms;
};

static void build_fis(const struct ata_cmd *c, u8 *fis)
{
	bool ext = c->command == ATA_READ_DMA_EXT ||
		   c->command == ATA_WRITE_DMA_EXT;
	bool lba28 = c->command == ATA_READ_DMA || c->command == ATA_WRITE_DMA;

	memset(fis, 0, 64);
	fis[0] = FIS_TYPE_REG_H2D;
	fis[1] = FIS_H2D_COMMAND;
	fis[2] = c->command;
	fis[4] = (u8)c->lba;
	fis[5] = (u8)(c->lba >> 8);
	fis[6] = (u8)(c->lba >> 16);
	if (ext) {
		fis[7] = ATA_DEV_LBA;
		fis[8] = (u8)(c->lba >> 24);
		fis[9] = (u8)(c->lba >> 32);
		fis[10] = (u8)(c->lba >> 40);
		fis[12] = (u8)c->count;          /* 65536 would be 0: never sent */
		fis[13] = (u8)(c->count >> 8);
	} else if (lba28) {
		fis[7] = ATA_DEV_LBA | (u8)((c->lba >> 24) & 0xf);
		fis[12] = (u8)c->count;          /* 256 is sent as 0 */
	}
}

/* Issues c in slot 0 and polls for it. 0, or -1 after recovery. */
static int port_exec(struct ahci_port *p, const struct ata_cmd *c)
{
	volatile u8 *r = p->regs;
	u32 *hdr = (u32 *)(p->mem + OFF_CMD_LIST);
	u8 *table = p->mem + OFF_CMD_TABLE;
	u32 *prd = (u32 *)(table + CT_PRDT);
	u64 ctba = (u64)(uintptr_t)table;
	u64 when;
	u32 is, tfd;

	if (!(mmio_read32(r, PxCMD) & CMD_ST)) {   /* a failed recovery */
		port_recover(p);
		if (!(mmio_read32(r, PxCMD) & CMD_ST))
			return -1;
	}
	if (mmio_read32(r, PxCI) & 1)
		return -1;

	build_fis(c, table + CT_CFIS);
	hdr[0] = CH_CFL(FIS_H2D_DWORDS) | (c->write ? CH_WRITE : 0) |
		 CH_PRDTL(c->bytes ? 1 : 0);
	hdr[1] = 0;                              /* PRDBC, written by the HBA */
	hdr[2] = (u32)ctba;
	hdr[3] = (u32)(ctba >> 32);
	if (c->bytes) {
		prd[0] = (u32)c->dma;
		prd[1] = (u32)(c->dma >> 32);
		prd[2] = 0;
		prd[3] = c->bytes - 1;           /* DBC: byte count - 1, I = 0 */
	}

	mmio_write32(r, PxIS, ~0u);
	mmio_write32(r, PxCI, 1);

	when = mmio_deadline(c->timeout_ms);
	for (;;) {
		is = mmio_read32(r, PxIS);
		if (is & IS_ERRORS)
			break;
		if (!(mmio_read32(r, PxCI) & 1))
			break;
		if (mmio_expired(when)) {
			is |= IS_TFES;   /* treat as failed: recover below */
			break;
		}
		mmio_relax();
	}
	is |= mmio_read32(r, PxIS);
	tfd = mmio_read32(r, PxTFD);
	if ((is & IS_ERRORS) || (mmio_read32(r, PxCI) & 1) ||
	    (tfd & (TFD_ERR | TFD_DF | TFD_BSY | TFD_DRQ))) {
		port_recover(p);
		return -1;
	}
	mmio_write32(r, PxIS, ~0u);
	return 0;
}

static bool dma_direct_ok(const struct ahci_port *p, const void *buf, u64 bytes)
{
	u64 a = (u64)(uintptr_t)buf;

	if (a >= IDENTITY_LIMIT || bytes > IDENTITY_LIMIT - a || (a & 1))
		return false;
	return (p->cap & CAP_S64A) || a + bytes <= DMA32_LIMIT;
}

static int ahci_rw(struct blkdev *d, u64 lba, u32 count, u8 *buf, bool write)
{
	struct ahci_port *p = d->priv;

	if (lba >= d->sectors || count > d->sectors - lba)
		return count ? -1 : 0;
	while (count) {
		u32 chunk = p->lba48 ? LBA48_CHUNK : LBA28_CHUNK;
		struct ata_cmd c = {
			.lba = lba, .write = write, .timeout_ms = CMD_TIMEOUT_MS,
		};
		bool direct;

		chunk = MIN(chunk, count);
		direct = dma_direct_ok(p, buf, (u64)chunk * BLKDEV_SECTOR);
		if (!direct)
			chunk = MIN(chunk, (u32)BOUNCE_SECTORS);
		c.count = chunk;
		c.bytes = chunk * BLKDEV_SECTOR;
		c.dma = direct ? (u64)(uintptr_t)buf : (u64)(uintptr_t)p->bounce;
		if (p->lba48)
			c.command = write ? ATA_WRITE_DMA_EXT : ATA_READ_DMA_EXT;
		else
			c.command = write ? ATA_WRITE_DMA : ATA_READ_DMA;

		if (write && !direct)
			memcpy(p->bounce, buf, c.bytes);
		if (port_exec(p, &c))
			return -1;
		if (!write && !direct)
			memcpy(buf, p->bounce, c.bytes);
		buf += c.bytes;
		lba += chunk;
		count -= chunk;
	}
	return 0;
}

static int ahci_read(struct blkdev *d, u64 lba, u32 count, void *buf)
{
	return ahci_rw(d, lba, count, buf, false);
}

static int ahci_write(struct blkdev *d, u64 lba, u32 count, const void *buf)
{
	/* Only read from in this direction. */
	return ahci_rw(d, lba, count, (u8 *)(uintptr_t)buf, true);
}

static int ahci_flush(struct blkdev *d)
{
	struct ahci_port *p = d->priv;
	struct ata_cmd c = {
		.command = p->lba48 ? ATA_FLUSH_CACHE_EXT : ATA_FLUSH_CACHE,
		.timeout_ms = FLUSH_TIMEOUT_MS,
	};

	return port_exec(p, &c);
}

/* ---- discovery ---- */

static u16 id_word(const u8 *id, int w)
{
	return (u16)(id[2 * w] | id[2 * w + 1] << 8);
}

/* ATA strings hold two characters a word, the first in the high byte. */
static void id_model(const u8 *id, char *out)
{
	int n = 0;

	for (int w = 0; w < ID_MODEL_WORDS; w++) {
		u16 v = id_word(id, ID_MODEL + w);

		out[n++] = (char)(v >> 8);
		out[n++] = (char)v;
	}
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == 0))
		n--;
	out[n] = 0;
}

/* Fills d from IDENTIFY DEVICE; false for devices uhv cannot use. */
static bool parse_identify(struct ahci_port *p, const u8 *id, struct blkdev *d)
{
	u16 ss = id_word(id, ID_SECTOR_SIZE);

	if (id_word(id, ID_GENERAL) & 0x8000)
		return false;
	/* Logical sectors longer than 512 bytes (ACS-3 word 106 bit 12). */
	if ((ss & 0xc000) == 0x4000 && (ss & (1u << 12)))
		return false;
	p->lba48 = (id_word(id, ID_CMDSET2) & ID_LBA48) &&
		   (id_word(id, ID_CMDSET2_ENA) & ID_LBA48);
	if (p->lba48) {
		d->sectors = 0;
		for (int i = 3; i >= 0; i--)
			d->sectors = d->sectors << 16 |
				     id_word(id, ID_LBA48_SECTORS + i);
	} else {
		d->sectors = (u64)id_word(id, ID_LBA28_SECTORS) |
			     (u64)id_word(id, ID_LBA28_SECTORS + 1) << 16;
	}
	if (!d->sectors)
		return false;
	id_model(id, d->model);
	return true;
}

static void port_name(char *out, int hba, int port)
{
	char *s = out;

	memcpy(s, "ahci", 4);
	s += 4;
	if (hba > 0) {
		if (hba >= 10)
			*s++ = (char)('0' + hba / 10 % 10);
		*s++ = (char)('0' + hba % 10);
	}
	*s++ = '.';
	*s++ = 'p';
	if (port >= 10)
		*s++ = (char)('0' + port / 10);
	*s++ = (char)('0' + port % 10);
	*s = 0;
}

static bool page_ok(const struct ahci_port *p, u64 page)
{
	return page && page < IDENTITY_LIMIT &&
	       ((p->cap & CAP_S64A) || page + PAGE_SIZE <= DMA32_LIMIT);
}

/* Brings up one implemented port; true if d now describes a disk. */
static bool probe_port(volatile u8 *abar, u32 cap, int hba, int port,
		       struct blkdev *d, u64 (*alloc_page)(void))
{
	struct ahci_port *p = &ahci_ports[ahci_nports];
	volatile u8 *r = abar + HBA_PORT(port);
	u32 sig, cmd;
	u64 mem, bounce, a;
	struct ata_cmd id = {
		.command = ATA_IDENTIFY_DEVICE, .bytes = BLKDEV_SECTOR,
		.timeout_ms = CMD_TIMEOUT_MS,
	};

	*p = (struct ahci_port){ .regs = r, .cap = cap };

	cmd = mmio_read32(r, PxCMD);
	if ((cap & CAP_SSS) && !(cmd & CMD_SUD)) {
		mmio_write32(r, PxCMD, cmd | CMD_SUD);
		mmio_wait32(r, PxSSTS, SSTS_DET_MASK, SSTS_DET_PRESENT,
			 SPINUP_TIMEOUT_MS);
	}
	if (!port_device_present(r))
		return false;
	sig = mmio_read32(r, PxSIG);
	if (sig != SIG_ATA && sig != SIG_NONE)
		return false;          /* ATAPI, port multiplier, enclosure */

	if (!port_stop(r))
		return false;
	mem = alloc_page();
	if (!page_ok(p, mem))
		return false;
	bounce = alloc_page();
	if (!page_ok(p, bounce))
		return false;
	p->mem = (u8 *)(uintptr_t)mem;
	p->bounce = (u8 *)(uintptr_t)bounce;
	memset(p->mem, 0, PAGE_SIZE);

	a = mem + OFF_CMD_LIST;
	mmio_write32(r, PxCLB, (u32)a);
	if (cap & CAP_S64A)
		mmio_write32(r, PxCLBU, (u32)(a >> 32));
	a = mem + OFF_FIS;
	mmio_write32(r, PxFB, (u32)a);
	if (cap & CAP_S64A)
		mmio_write32(r, PxFBU, (u32)(a >> 32));
	mmio_write32(r, PxIE, 0);
	mmio_write32(r, PxSERR, ~0u);
	mmio_write32(r, PxIS, ~0u);
	mmio_write32(r, PxCMD, mmio_read32(r, PxCMD) | CMD_FRE);

	if (!port_ready(r, READY_TIMEOUT_MS) && !port_unstick(p))
		goto off;
	if (mmio_read32(r, PxSIG) != SIG_ATA)
		goto off;
	mmio_write32(r, PxSERR, ~0u);
	mmio_write32(r, PxIS, ~0u);
	if (!port_start(p))
		goto off;

	id.dma = bounce;
	if (port_exec(p, &id) || !parse_identify(p, p->bounce, d))
		goto off;
	port_name(d->name, hba, port);
	d->read = ahci_read;
	d->write = ahci_write;
	d->flush = ahci_flush;
	d->priv = p;
	ahci_nports++;
	return true;
off:
	port_stop(r);
	return false;
}

/* Takes the HBA from the firmware if it supports the handoff (§10.6.3). */
static void bios_handoff(volatile u8 *abar)
{
	if (!(mmio_read32(abar, HBA_CAP2) & CAP2_BOH))
		return;
	mmio_write32(abar, HBA_BOHC, mmio_read32(abar, HBA_BOHC) | BOHC_OOS);
	if (!mmio_wait32(abar, HBA_BOHC, BOHC_BOS, 0, BOHC_TIMEOUT_MS) &&
	    (mmio_read32(abar, HBA_BOHC) & BOHC_BB))
		mmio_wait32(abar, HBA_BOHC, BOHC_BOS, 0, BOHC_BUSY_MS);
}

/* What ahci_probe's scan fills. */
struct ahci_scan {
	struct blkdev *devs;
	int max, found;
	u64 (*alloc_page)(void);
};

/* pci_find_class's callback: the disks of one HBA; true to go on. */
static bool probe_hba(const struct pci_fn *f, void *ctx)
{
	struct ahci_scan *sc = ctx;
	u64 bar = pci_bar_mem(f, PCI_BAR_ABAR);
	volatile u8 *abar = (volatile u8 *)(uintptr_t)bar;
	u32 cap, pi;
	int hba = ahci_nhbas++;

	if (!bar)
		return true;
	pci_enable_dma(f);
	bios_handoff(abar);
	/* AE first: port registers are only defined with it set (§3.1.2). */
	mmio_write32(abar, HBA_GHC, mmio_read32(abar, HBA_GHC) | GHC_AE);
	mmio_write32(abar, HBA_GHC, (mmio_read32(abar, HBA_GHC) | GHC_AE) & ~GHC_IE);
	cap = mmio_read32(abar, HBA_CAP);
	pi = mmio_read32(abar, HBA_PI);

	for (int port = 0; port < HBA_MAX_PORTS && sc->found < sc->max; port++) {
		if (!(pi & (1u << port)) || ahci_nports >= BLKDEV_MAX)
			continue;
		if (probe_port(abar, cap, hba, port, &sc->devs[sc->found],
			       sc->alloc_page))
			sc->found++;
	}
	return sc->found < sc->max;
}

int ahci_probe(struct blkdev *devs, int max, u64 (*alloc_page)(void))
{
	struct ahci_scan sc = { devs, max, 0, alloc_page };

	ahci_nports = 0;
	ahci_nhbas = 0;
	if (max > 0)
		pci_find_class(PCI_CLASS_AHCI, probe_hba, &sc);
	return sc.found;
}
