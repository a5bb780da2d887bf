/*
 * The storage self-test (config: selftest = storage / storage-verify). It
 * exercises uhv's own disk drivers before anything needs VMX, so it runs
 * under QEMU TCG (AHCI) as well as Bochs (ATA): write a pattern, flush,
 * read it back; on a later boot, verify that the flushed data survived.
 * It only writes disks that are blank or carry its own marker in sector
 * 0, never a disk with anything else on it (the boot disk, say).
 */
#include "drivers/blkdev.h"
#include "drivers/console.h"
#include "lib/string.h"

#define TEST_SECTORS   2048          /* 1 MiB after the marker sector */
#define CHUNK          8             /* sectors per request: one page */
#define PATTERN_SEED   0x9e3779b97f4a7c15ULL
static const char marker[8] = { 'U', 'H', 'V', 'T', 'E', 'S', 'T', '!' };

/* The 64-bit word w of sector lba: unique per place and position. */
static u64 pattern(u64 lba, u64 w)
{
	return ((lba << 32) | w) ^ PATTERN_SEED;
}

static void fill(u64 *buf, u64 lba, u32 count)
{
	for (u32 s = 0; s < count; s++)
		for (u64 w = 0; w < BLKDEV_SECTOR / 8; w++)
			buf[s * (BLKDEV_SECTOR / 8) + w] = pattern(lba + s, w);
}

static bool check(const u64 *buf, u64 lba, u32 count)
{
	for (u32 s = 0; s < count; s++)
		for (u64 w = 0; w < BLKDEV_SECTOR / 8; w++)
			if (buf[s * (BLKDEV_SECTOR / 8) + w] != pattern(lba + s, w))
				return false;
	return true;
}

/* A disk may be written if sector 0 is all zeros or our marker. */
static bool is_test_disk(struct blkdev *d, u8 *buf)
{
	if (d->read(d, 0, 1, buf))
		return false;
	if (!memcmp(buf, marker, sizeof(marker)))
		return true;
	for (int i = 0; i < BLKDEV_SECTOR; i++)
		if (buf[i])
			return false;
	return true;
}

/* Pass 1: write, flush, read back. Pass 2 (verify): read back only. */
static const char *run(struct blkdev *d, u64 *buf, u64 n, bool verify)
{
	for (u64 lba = 1; !verify && lba <= n; lba += CHUNK) {
		fill(buf, lba, CHUNK);
		if (d->write(d, lba, CHUNK, buf))
			return "write failed";
	}
	if (!verify) {
		memset(buf, 0, BLKDEV_SECTOR);
		memcpy(buf, marker, sizeof(marker));
		if (d->write(d, 0, 1, buf) || d->flush(d))
			return "marker write or flush failed";
		/* The storage tests cut the power at this line: all written
		   so far must be on the disk once the flush has completed. */
		printk("uhv: storage selftest %s: flushed\n", d->name);
	}
	if (d->read(d, 0, 1, buf) || memcmp(buf, marker, sizeof(marker)))
		return verify ? "no marker: nothing was written before" : "marker lost";
	for (u64 lba = 1; lba <= n; lba += CHUNK) {
		if (d->read(d, lba, CHUNK, buf))
			return "read failed";
		if (!check(buf, lba, CHUNK))
			return "data differs from the pattern";
	}
	return NULL;
}

int storage_selftest(bool verify, u64 (*alloc_page)(void))
{
	struct blkdev devs[BLKDEV_MAX];
	u64 *buf = (u64 *)(uintptr_t)alloc_page();
	int n = blkdev_probe(devs, BLKDEV_MAX, alloc_page), tested = 0, failed = 0;

	printk("uhv: storage selftest (%s): %d disk(s) found\n",
	       verify ? "verify" : "write", n);
	for (int i = 0; i < n && buf; i++) {
		struct blkdev *d = &devs[i];
		u64 sectors = MIN(TEST_SECTORS, d->sectors ? d->sectors - 1 : 0);
		const char *why;

		printk("uhv: storage: %s '%s', %llu sectors\n", d->name, d->model,
		       (unsigned long long)d->sectors);
		if (!is_test_disk(d, (u8 *)buf)) {
			printk("uhv: storage: %s holds data: not a test disk, skipped\n",
			       d->name);
			continue;
		}
		tested++;
		sectors = ALIGN_DOWN(sectors, CHUNK);
		why = run(d, buf, sectors, verify);
		failed += why != NULL;
		printk("uhv: storage selftest %s: %s %llu sectors%s: %s%s\n", d->name,
		       verify ? "verified" : "wrote, flushed and read back",
		       (unsigned long long)sectors,
		       verify ? " written by an earlier boot" : "",
		       why ? "FAIL: " : "PASS", why ? why : "");
	}
	printk("uhv: storage selftest: %d disk(s) tested, %d failed\n", tested, failed);
	return failed || !tested ? -1 : 0;
}
