/*
 * The relay's look into a request line (idscan.c), apart from json-c:
 * uhv's own parser (lib/json.h) names its types as json-c does.
 */
#ifndef UHVCTL_IDSCAN_H
#define UHVCTL_IDSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Where the top-level "id" member's integer value lies in line: bytes
 * *start..*end are its digits, *value its value. False if line is not a
 * JSON object as uhv reads it (docs/protocol.md, The JSON uhv accepts) or
 * its id is not a non-negative integer. *cmd_agent (if not NULL): its
 * "cmd" is "agent".
 */
bool relay_find_id(const char *line, size_t len, size_t *start, size_t *end,
		   uint64_t *value, bool *cmd_agent);

#endif
