/*
 * uhv's names: a VM's, a network's, a bridge port's. 1 to 15 of A-Z a-z
 * 0-9 - _, so a name is safe to print anywhere (a console line, a JSON
 * string, a log) and to compare byte for byte. The config parser and the
 * bridge both check names with name_valid.
 */
#ifndef UHV_LIB_NAME_H
#define UHV_LIB_NAME_H

#include "lib/types.h"

#define UHV_NAME_MAX 16           /* bytes of a name, with the NUL */

static inline bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Whether s is a name as above; reads at most UHV_NAME_MAX bytes of s. */
static inline bool name_valid(const char *s)
{
	size_t n;

	for (n = 0; s[n]; n++)
		if (n == UHV_NAME_MAX - 1 || !name_char(s[n]))
			return false;
	return n > 0;
}

#endif
