/*
 * Polled PIO ATA driver for the two legacy (compatibility-mode) IDE
 * channels of a PIIX-style controller: primary command block 0x1f0-0x1f7
 * with its control block at 0x3f6, secondary 0x170-0x177 / 0x376. Commands
 * and IDENTIFY DEVICE data follow ATA/ATAPI-8 ACS; the register protocols
 * (device selection, PIO data-in/out, non-data, software reset) follow
 * ATA/ATAPI-8 APT.
 *
 * uhv takes no interrupts: nIEN is set in the Device Control register and
 * every wait polls the Alternate Status register, which reports the same
 * bits as Status without side effects. Every wait is bounded by a count of
 * polls, so an absent, hung or broken disk costs a timeout (-1), never a
 * hang. Only 48-bit (LBA48) ATA disks are used; PACKET (ATAPI) devices are
 * recognised by their signature and skipped.
 */
#include "drivers/blkdev.h"
#include "arch/x86/cpu.h"
#include "lib/string.h"

/* Command block registers, offsets from the channel's base port. */
#define ATA_DATA      0   /* 16-bit PIO data */
#define ATA_ERROR     1   /* read */
#define ATA_FEATURES  1   /* write */
#define ATA_COUNT     2   /* sector count (two-deep FIFO for 48-bit) */
#define ATA_LBA_LOW   3
#define ATA_LBA_MID   4
#define ATA_LBA_HIGH  5
#define ATA_DEVICE    6
#define ATA_STATUS    7   /* read: clears a pending interrupt */
#define ATA_COMMAND   7   /* write */
/* Control block register (at the channel's control port). */
#define ATA_ALT_STATUS  0 /* read: Status without side effects */
#define ATA_DEV_CONTROL 0 /* write */

/* Status register. */
#define ST_ERR   0x01     /* the command ended in error (see Error) */
#define ST_DRQ   0x08     /* the device is ready to transfer a data block */
#define ST_DF    0x20     /* device fault */
#define ST_BSY   0x80
#define ST_FLOATING 0xff  /* nothing drives the bus: no controller/devices */

/* Device register: bit 6 LBA shall be one for 48-bit commands; bits 7 and
   5 are obsolete (set, as older devices expect); bit 4 selects device 1. */
#define DEV_BASE 0xe0
#define DEV_1    0x10

/* Device Control register. */
#define CTL_NIEN 0x02     /* no INTRQ from the device */
#define CTL_SRST 0x04     /* software reset of both devices on the channel */

/* Commands (ACS). */
#define CMD_READ_SECTORS_EXT  0x24
#define CMD_WRITE_SECTORS_EXT 0x34
#define CMD_FLUSH_CACHE_EXT   0xea
#define CMD_IDENTIFY_DEVICE   0xec

/* Signatures in LBA Mid/High after a PACKET device aborts IDENTIFY DEVICE
   (ACS: "Signature and persistence"); SATA bridges report 69h/96h. */
#define SIG_PATAPI_MID 0x14
#define SIG_PATAPI_HIGH 0xeb
#define SIG_SATAPI_MID 0x69
#define SIG_SATAPI_HIGH 0x96

/* IDENTIFY DEVICE data words (ACS 7.12.7). */
#define ID_GENERAL       0     /* bit 15: zero for an ATA device */
#define ID_GENERAL_NOT_ATA 0x8000
#define ID_MODEL         27    /* words 27-46: 40 ASCII chars, swapped */
#define ID_MODEL_WORDS   20
#define ID_CMDSET2       83    /* bit 10: 48-bit Address feature set */
#define ID_CMDSET2_VALID_MASK 0xc000  /* bits 15:14 = 01b: word is valid */
#define ID_CMDSET2_VALID 0x4000
#define ID_CMDSET2_LBA48 0x0400
#define ID_LBA48_SECTORS 100   /* words 100-103: max user LBA + 1 */

#define SECTOR_WORDS   (BLKDEV_SECTOR / 2)
#define MAX_PER_CMD    256     /* sectors per READ/WRITE SECTORS EXT here */
#define LBA48_LIMIT    (1ULL << 48)

/*
 * Poll bounds, in Alternate Status reads. A legacy-port read costs about a
 * microsecond on real chipsets (ISA-compatible timing) and more in a VM
 * exit, so POLL_LIMIT is several seconds there: ample for a data block of
 * a spinning disk. FLUSH CACHE EXT may write a whole cache: 8 times more.
 * APT wants 400 ns after a command or selection before Status is valid:
 * four reads (each at least 100 ns); and 5 us with SRST set, then 2 ms
 * before polling BSY after a reset: generous counts of reads again.
 */
#define POLL_LIMIT        4000000u
#define FLUSH_POLL_LIMIT  (8 * POLL_LIMIT)
#define RESET_POLL_LIMIT  (8 * POLL_LIMIT)  /* spin-up after reset */
#define DELAY_400NS_READS 4
#define DELAY_5US_READS   64
#define DELAY_2MS_READS   20000

struct ata_chan {
	u16 cmd;                 /* command block base */
	u16 ctl;                 /* control block (Alternate Status) */
};

struct ata_drive {
	const struct ata_chan *ch;
	u8 dev;                  /* 0 or 1 */
};

static const struct ata_chan chans[2] = {
	{ 0x1f0, 0x3f6 },        /* primary */
	{ 0x170, 0x376 },        /* secondary */
};
static struct ata_drive drives[4];

static u8 alt_status(const struct ata_chan *ch)
{
	return inb(ch->ctl + ATA_ALT_STATUS);
}

static void delay_reads(const struct ata_chan *ch, unsigned n)
{
	while (n--)
		(void)alt_status(ch);
}

/* Waits for BSY clear; returns the Status register (read once at the end
   to acknowledge the command), or -1 on timeout. */
static int wait_not_busy(const struct ata_chan *ch, u32 limit)
{
	for (u32 i = 0; i < limit; i++)
		if (!(alt_status(ch) & ST_BSY))
			return inb(ch->cmd + ATA_STATUS);
	return -1;
}

/* Software reset of a channel (APT): both devices, device 0 selected
   after it, nIEN kept set. Leaves a hung device usable again. */
static int chan_reset(const struct ata_chan *ch)
{
	outb(ch->ctl + ATA_DEV_CONTROL, CTL_NIEN | CTL_SRST);
	delay_reads(ch, DELAY_5US_READS);
	outb(ch->ctl + ATA_DEV_CONTROL, CTL_NIEN);
	delay_reads(ch, DELAY_2MS_READS);
	return wait_not_busy(ch, RESET_POLL_LIMIT) < 0 ? -1 : 0;
}

/*
 * Device selection (APT): BSY and DRQ clear, write Device, wait 400 ns,
 * wait for the selected device's BSY to clear. Returns its Status or -1.
 */
static int ata_select(const struct ata_chan *ch, u8 dev)
{
	int st = wait_not_busy(ch, POLL_LIMIT);

	if (st < 0 || (st & ST_DRQ)) {
		/* a transfer left half-done or a hung device: start over */
		if (chan_reset(ch))
			return -1;
	}
	outb(ch->cmd + ATA_DEVICE, DEV_BASE | (dev ? DEV_1 : 0));
	delay_reads(ch, DELAY_400NS_READS);
	return wait_not_busy(ch, POLL_LIMIT);
}

/* Selects the drive and writes a 48-bit command: the high ("previous")
   bytes first, then the low ("current") ones, then the command. */
static int issue48(const struct ata_drive *d, u8 cmd, u64 lba, u32 count)
{
	const struct ata_chan *ch = d->ch;
	u16 c = (u16)count;        /* 0 would mean 65536; callers pass 1..256 */

	if (ata_select(ch, d->dev) < 0)
		return -1;
	outb(ch->ctl + ATA_DEV_CONTROL, CTL_NIEN);
	outb(ch->cmd + ATA_COUNT, (u8)(c >> 8));
	outb(ch->cmd + ATA_LBA_LOW, (u8)(lba >> 24));
	outb(ch->cmd + ATA_LBA_MID, (u8)(lba >> 32));
	outb(ch->cmd + ATA_LBA_HIGH, (u8)(lba >> 40));
	outb(ch->cmd + ATA_COUNT, (u8)c);
	outb(ch->cmd + ATA_LBA_LOW, (u8)lba);
	outb(ch->cmd + ATA_LBA_MID, (u8)(lba >> 8));
	outb(ch->cmd + ATA_LBA_HIGH, (u8)(lba >> 16));
	outb(ch->cmd + ATA_COMMAND, cmd);
	delay_reads(ch, DELAY_400NS_READS);
	return 0;
}

/* Waits for the next data block: BSY clear, no ERR/DF, DRQ set. */
static int wait_drq(const struct ata_chan *ch)
{
	int st = wait_not_busy(ch, POLL_LIMIT);

	if (st < 0 || (st & (ST_ERR | ST_DF)) || !(st & ST_DRQ))
		return -1;
	return 0;
}

/* The end of a command: BSY clear, no ERR/DF, no data left (DRQ clear). */
static int wait_done(const struct ata_chan *ch, u32 limit)
{
	int st = wait_not_busy(ch, limit);

	if (st < 0 || (st & (ST_ERR | ST_DF | ST_DRQ)))
		return -1;
	return 0;
}

static bool in_range(const struct blkdev *bd, u64 lba, u32 count)
{
	return lba < bd->sectors && count <= bd->sectors - lba;
}

/* PIO data-in, one DRQ block per sector (READ SECTORS EXT). */
static int ata_read(struct blkdev *bd, u64 lba, u32 count, void *buf)
{
	const struct ata_drive *d = bd->priv;
	u8 *p = buf;

	if (!in_range(bd, lba, count))
		return -1;
	while (count) {
		u32 n = MIN(count, MAX_PER_CMD);

		if (issue48(d, CMD_READ_SECTORS_EXT, lba, n))
			return -1;
		for (u32 s = 0; s < n; s++) {
			if (wait_drq(d->ch))
				return -1;
			insw(d->ch->cmd + ATA_DATA, p, SECTOR_WORDS);
			p += BLKDEV_SECTOR;
		}
		delay_reads(d->ch, DELAY_400NS_READS);
		if (wait_done(d->ch, POLL_LIMIT))
			return -1;
		lba += n;
		count -= n;
	}
	return 0;
}

/* PIO data-out (WRITE SECTORS EXT): after each block the device goes BSY
   while it takes the data; after the last one the status is final. */
static int ata_write(struct blkdev *bd, u64 lba, u32 count, const void *buf)
{
	const struct ata_drive *d = bd->priv;
	const u8 *p = buf;

	if (!in_range(bd, lba, count))
		return -1;
	while (count) {
		u32 n = MIN(count, MAX_PER_CMD);

		if (issue48(d, CMD_WRITE_SECTORS_EXT, lba, n))
			return -1;
		for (u32 s = 0; s < n; s++) {
			if (wait_drq(d->ch))
				return -1;
			outsw(d->ch->cmd + ATA_DATA, p, SECTOR_WORDS);
			p += BLKDEV_SECTOR;
			delay_reads(d->ch, DELAY_400NS_READS);
		}
		if (wait_done(d->ch, POLL_LIMIT))
			return -1;
		lba += n;
		count -= n;
	}
	return 0;
}

/* Non-data command: FLUSH CACHE EXT, which may take a while. */
static int ata_flush(struct blkdev *bd)
{
	const struct ata_drive *d = bd->priv;

	if (issue48(d, CMD_FLUSH_CACHE_EXT, 0, 0))
		return -1;
	return wait_done(d->ch, FLUSH_POLL_LIMIT);
}

/* Model string: two ASCII characters per word, the first in the high
   byte; padded with spaces, trimmed here on both ends. */
static void id_model(const u16 *id, char *out)
{
	char m[ID_MODEL_WORDS * 2 + 1];
	int start = 0, end = ID_MODEL_WORDS * 2;

	for (int i = 0; i < ID_MODEL_WORDS; i++) {
		m[2 * i] = (char)(id[ID_MODEL + i] >> 8);
		m[2 * i + 1] = (char)id[ID_MODEL + i];
	}
	while (end > 0 && (m[end - 1] == ' ' || m[end - 1] == '\0'))
		end--;
	while (start < end && m[start] == ' ')
		start++;
	m[end] = '\0';
	str_copy(out, m + start, 41);
}

static bool is_packet_signature(const struct ata_chan *ch)
{
	u8 mid = inb(ch->cmd + ATA_LBA_MID), high = inb(ch->cmd + ATA_LBA_HIGH);

	return (mid == SIG_PATAPI_MID && high == SIG_PATAPI_HIGH) ||
	       (mid == SIG_SATAPI_MID && high == SIG_SATAPI_HIGH);
}

/*
 * IDENTIFY DEVICE on one position (PIO data-in, one block). Returns 0 with
 * the 256 words in id for an ATA device; -1 for no device, a PACKET
 * device (its signature from the channel reset is in LBA Mid/High, and it
 * would abort the command anyway), or an error. Runs after chan_reset.
 */
static int identify(const struct ata_chan *ch, u8 dev, u16 *id)
{
	int st = ata_select(ch, dev);

	if (st < 0 || st == ST_FLOATING)
		return -1;
	/* the reset left each device's signature: skip PACKET devices */
	if (is_packet_signature(ch))
		return -1;
	outb(ch->ctl + ATA_DEV_CONTROL, CTL_NIEN);
	outb(ch->cmd + ATA_COUNT, 0);
	outb(ch->cmd + ATA_LBA_LOW, 0);
	outb(ch->cmd + ATA_LBA_MID, 0);
	outb(ch->cmd + ATA_LBA_HIGH, 0);
	outb(ch->cmd + ATA_COMMAND, CMD_IDENTIFY_DEVICE);
	delay_reads(ch, DELAY_400NS_READS);
	/* no device answers: nothing drives Status (0) or the bus floats */
	st = alt_status(ch);
	if (st == 0 || st == ST_FLOATING)
		return -1;
	st = wait_not_busy(ch, POLL_LIMIT);
	if (st < 0)
		return -1;
	/* a PACKET device aborts with its signature; skipped like any other
	   device that fails IDENTIFY DEVICE */
	if (st & (ST_ERR | ST_DF) || !(st & ST_DRQ))
		return -1;
	insw(ch->cmd + ATA_DATA, id, SECTOR_WORDS);
	delay_reads(ch, DELAY_400NS_READS);
	return wait_done(ch, POLL_LIMIT);
}

/*
 * Probes the four legacy positions (primary/secondary x device 0/1) and
 * fills devs with the LBA48 ATA disks found, named "ataC.D"; returns how
 * many (at most max).
 */
int ata_probe(struct blkdev *devs, int max)
{
	static u16 id[SECTOR_WORDS];
	int n = 0;

	for (int c = 0; c < 2; c++) {
		const struct ata_chan *ch = &chans[c];

		/* nothing decodes the ports: no compatibility-mode channel */
		if (inb(ch->cmd + ATA_STATUS) == ST_FLOATING &&
		    alt_status(ch) == ST_FLOATING)
			continue;
		if (chan_reset(ch))
			continue;
		for (u8 dev = 0; dev < 2 && n < max; dev++) {
			struct ata_drive *d = &drives[c * 2 + dev];
			struct blkdev *bd = &devs[n];
			u64 sectors = 0;

			if (identify(ch, dev, id))
				continue;
			if (id[ID_GENERAL] & ID_GENERAL_NOT_ATA)
				continue;
			if ((id[ID_CMDSET2] & ID_CMDSET2_VALID_MASK) != ID_CMDSET2_VALID ||
			    !(id[ID_CMDSET2] & ID_CMDSET2_LBA48))
				continue;
			for (int w = 3; w >= 0; w--)
				sectors = sectors << 16 | id[ID_LBA48_SECTORS + w];
			if (!sectors || sectors > LBA48_LIMIT)
				continue;

			d->ch = ch;
			d->dev = dev;
			memset(bd, 0, sizeof(*bd));
			str_copy(bd->name, "ata0.0", sizeof(bd->name));
			bd->name[3] = (char)('0' + c);
			bd->name[5] = (char)('0' + dev);
			bd->sectors = sectors;
			id_model(id, bd->model);
			bd->read = ata_read;
			bd->write = ata_write;
			bd->flush = ata_flush;
			bd->priv = d;
			n++;
		}
	}
	return n;
}
