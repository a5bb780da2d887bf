/* cmdline.h - looking up options in the Multiboot command line.
 * The line is split on spaces; options are bare words or key=value. */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include "types.h"

bool cmdline_has(const char *cmdline, const char *word);
u64 cmdline_u64(const char *cmdline, const char *key, u64 def);

#endif
