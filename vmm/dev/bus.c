#include "vmm/dev/bus.h"
#include "lib/bytes.h"

int bus_register(struct bus *b, const struct bus_device *d)
{
	if (b->nr == BUS_MAX_DEVICES || !d->len)
		return -1;
	for (int i = 0; i < b->nr; i++)
		if (d->base < b->devs[i].base + b->devs[i].len &&
		    b->devs[i].base < d->base + d->len)
			return -1;
	b->devs[b->nr++] = *d;
	return 0;
}

struct bus_device *bus_find(struct bus *b, u64 addr, unsigned size)
{
	for (int i = 0; i < b->nr; i++) {
		struct bus_device *d = &b->devs[i];

		if (addr >= d->base && addr - d->base < d->len &&
		    size <= d->len - (addr - d->base))
			return d;
	}
	return NULL;
}

u64 bus_read(struct bus *b, u64 addr, unsigned size)
{
	struct bus_device *d = bus_find(b, addr, size);

	if (!d || !d->read) {
		b->unclaimed_reads++;
		return size_mask(size);
	}
	d->accesses++;
	return d->read(d->dev, addr - d->base, size) & size_mask(size);
}

void bus_write(struct bus *b, u64 addr, unsigned size, u64 val)
{
	struct bus_device *d = bus_find(b, addr, size);

	if (!d || !d->write) {
		b->unclaimed_writes++;
		return;
	}
	d->accesses++;
	d->write(d->dev, addr - d->base, size, val & size_mask(size));
}
