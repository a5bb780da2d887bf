/*
 * The names of the disks uhv found, as one line for messages: a VM's
 * config that names a disk the machine lacks ("host:ata0.1") is told
 * which disks there are. Pure C, so the host unit tests run it.
 */
#include "drivers/blkdev.h"
#include "lib/fmt.h"

#define NAMES_NONE "none"
#define NAMES_SEP  ", "

void blkdev_names(const struct blkdev *devs, int n, char *buf, size_t size)
{
	size_t len = 0;

	if (!size)
		return;
	buf[0] = 0;
	if (n <= 0) {
		fmt_sn(buf, size, "%s", NAMES_NONE);
		return;
	}
	for (int i = 0; i < n && len < size; i++)
		len += (size_t)fmt_sn(buf + len, size - len, "%s%s",
				      i ? NAMES_SEP : "", devs[i].name);
}
