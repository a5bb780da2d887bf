/*
 * The bounded byte FIFO (bytering.h).
 */
#include "lib/bytering.h"
#include "lib/string.h"

void bytering_init(struct bytering *r, u8 *buf, u32 size)
{
	r->buf = buf;
	r->size = size;
	r->head = r->tail = 0;
}

u32 bytering_used(const struct bytering *r)
{
	return r->head - r->tail;
}

u32 bytering_room(const struct bytering *r)
{
	return r->size - bytering_used(r);
}

bool bytering_put(struct bytering *r, const void *p, u32 len)
{
	u32 off = r->head & (r->size - 1);
	u32 first = MIN(len, r->size - off);

	if (len > bytering_room(r))
		return false;
	memcpy(&r->buf[off], p, first);
	memcpy(r->buf, (const u8 *)p + first, len - first);
	r->head += len;
	return true;
}

u32 bytering_peek_at(const struct bytering *r, u32 skip, const u8 **p)
{
	u32 off = (r->tail + skip) & (r->size - 1);
	u32 left = skip < bytering_used(r) ? bytering_used(r) - skip : 0;

	*p = &r->buf[off];
	return MIN(left, r->size - off);
}

u32 bytering_peek(const struct bytering *r, const u8 **p)
{
	return bytering_peek_at(r, 0, p);
}

void bytering_consume(struct bytering *r, u32 n)
{
	r->tail += MIN(n, bytering_used(r));
}
