/*
 * The narrow interface through which device models, loaders and the
 * instruction emulator reach a guest's RAM: a host mapping of the guest's
 * physical range [0, size), with every access bounds-checked. In uhv the
 * base is the identity-mapped host address of the VM's RAM; in host tests
 * and fuzzers it is a malloc'd buffer.
 */
#ifndef UHV_VMM_GMEM_H
#define UHV_VMM_GMEM_H

#include "lib/string.h"
#include "lib/types.h"

struct gmem {
	u8 *base;
	u64 size;
};

/* True if [gpa, gpa+len) lies inside guest RAM (no overflow). */
static inline bool gmem_ok(const struct gmem *m, u64 gpa, u64 len)
{
	return len <= m->size && gpa <= m->size - len;
}

/* A host pointer to [gpa, gpa+len), or NULL if any byte is outside RAM. */
static inline void *gmem_ptr(const struct gmem *m, u64 gpa, u64 len)
{
	return gmem_ok(m, gpa, len) ? m->base + gpa : NULL;
}

static inline bool gmem_read(const struct gmem *m, u64 gpa, void *dst, u64 len)
{
	void *p = gmem_ptr(m, gpa, len);

	if (p)
		memcpy(dst, p, len);
	return p != NULL;
}

static inline bool gmem_write(const struct gmem *m, u64 gpa, const void *src,
			      u64 len)
{
	void *p = gmem_ptr(m, gpa, len);

	if (p)
		memcpy(p, src, len);
	return p != NULL;
}

#endif
