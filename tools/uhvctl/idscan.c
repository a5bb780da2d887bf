/*
 * The relay's id lookup (idscan.h) with uhv's own parser, lib/json.c: the
 * very code that will read the line in uhv, so the relay sees the id
 * exactly where uhv will, and leaves every other byte as the client sent
 * it (a duplicate member or a bad escape still reaches uhv as it was).
 */
#include "tools/uhvctl/idscan.h"
#include "lib/json.h"

bool relay_find_id(const char *line, size_t len, size_t *start, size_t *end,
		   uint64_t *value, bool *cmd_agent)
{
	static struct json_tok toks[JSON_MAX_TOKENS];
	struct json_error err;
	int id, cmd;

	if (len > JSON_LINE_MAX ||
	    json_parse(line, len, toks, JSON_MAX_TOKENS, &err) < 1 ||
	    toks[0].type != JSON_OBJECT)
		return false;
	id = json_member(line, toks, 0, "id");
	if (id < 0 || toks[id].type != JSON_INTEGER || toks[id].negative)
		return false;
	cmd = json_member(line, toks, 0, "cmd");
	if (cmd_agent)
		*cmd_agent = cmd >= 0 && toks[cmd].type == JSON_STRING &&
			     json_str_eq(line, &toks[cmd], "agent");
	*start = toks[id].start;
	*end = toks[id].end;
	*value = toks[id].magnitude;
	return true;
}
