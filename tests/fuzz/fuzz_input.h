/*
 * What the virtio device harnesses (fuzz_virtio_blk.c, fuzz_virtio_net.c,
 * fuzz_virtio_console.c) share: the fuzzer's bytes read as a stream of
 * little-endian values, copies of input bytes into guest RAM, and the
 * transport accesses any driver can make (BAR MMIO of any width at any
 * offset, device-config reads and writes through tests/unit's driver).
 */
#ifndef UHV_TESTS_FUZZ_INPUT_H
#define UHV_TESTS_FUZZ_INPUT_H

#include <string.h>
#include "../unit/virtio_driver.h"

struct input {
	const u8 *p;
	size_t n;
};

/* The next bytes (at most 8) of the input as a little-endian value; 0s
   once the input is used up. */
static inline u64 take(struct input *in, unsigned bytes)
{
	u64 v = 0;

	for (unsigned i = 0; i < bytes && in->n; i++, in->n--)
		v |= (u64)*in->p++ << (8 * i);
	return v;
}

/* Copies up to 255 input bytes into ram (size bytes) at a chosen offset. */
static inline void fuzz_poke(struct input *in, u8 *ram, u64 size)
{
	u64 at = take(in, 3) % size;
	size_t len = (size_t)take(in, 1);

	len = MIN(MIN(len, in->n), size - at);
	memcpy(ram + at, in->p, len);
	in->p += len;
	in->n -= len;
}

/* A BAR access: offset, width 1, 2, 4 or 8, and for a write the value. */
static inline void fuzz_mmio(struct input *in, struct vdrv *d, bool write)
{
	u64 off = take(in, 2);
	unsigned size = 1U << (take(in, 1) & 3);

	if (write)
		vd_wr(d, off, size, take(in, 8));
	else
		vd_rd(d, off, size);
}

/* A device-config access of width 1, 2 or 4 within its cfg_bytes. */
static inline void fuzz_cfg(struct input *in, struct vdrv *d,
			    unsigned cfg_bytes, bool write)
{
	u64 off = take(in, 1);
	unsigned size = 1U << (take(in, 1) % 3);

	if (off + size > cfg_bytes)
		return;
	if (write)
		vd_cfg_write(d, (unsigned)off, size, (u32)take(in, 4));
	else
		vd_cfg_read(d, (unsigned)off, size);
}

#endif
