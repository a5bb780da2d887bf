/*
 * vmm/ctl/agent.c: the agent channel's line protocol, driven byte by byte
 * with a fake clock (HZ ticks a second): heartbeats connect and their
 * absence loses the agent, requests go out framed and their answers come
 * back by id, and every kind of bad line is dropped whole and counted:
 * too long, over the rate limit, malformed, answering nothing. An answer
 * of arbitrary bytes still makes a valid agent_message event.
 */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "vmm/ctl/agent.h"

Suite *agent_suite(void);

#define HZ       1000000ULL
#define T0       (5 * HZ)           /* the clock does not start at 0 */
#define SENT_MAX 2048
#define LOG_KEEP 16

static struct agent a;

static struct {
	char sent[SENT_MAX];            /* what went to the guest */
	size_t sent_len;
	int send_ret;
	u64 ids[8];
	char data[8][CTL_AGENT_MAX + 8];
	size_t data_len[8];
	unsigned messages, lost, logs;
	char log[LOG_KEEP][160];
} fx;

static int fx_send(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	if (fx.send_ret)
		return fx.send_ret;
	ck_assert_uint_le(fx.sent_len + len, SENT_MAX);
	memcpy(fx.sent + fx.sent_len, data, len);
	fx.sent_len += len;
	return 0;
}

static void fx_message(void *ctx, u64 id, const char *data, size_t len)
{
	(void)ctx;
	ck_assert_uint_lt(fx.messages, 8);
	fx.ids[fx.messages] = id;
	memcpy(fx.data[fx.messages], data, len);
	fx.data_len[fx.messages++] = len;
}

static void fx_lost(void *ctx)
{
	(void)ctx;
	fx.lost++;
}

static void fx_log(void *ctx, const char *msg)
{
	(void)ctx;
	if (fx.logs < LOG_KEEP)
		strncpy(fx.log[fx.logs], msg, sizeof(fx.log[0]) - 1);
	fx.logs++;
}

static const struct agent_ops ops = { fx_send, fx_message, fx_lost, fx_log };

static void setup(void)
{
	memset(&fx, 0, sizeof(fx));
	agent_init(&a, &ops, NULL, HZ, T0);
}

/* Feeds a C string, one byte per call, as a slow guest might. */
static void feed(const char *s, u64 now)
{
	for (size_t i = 0; s[i]; i++)
		agent_input(&a, (const u8 *)s + i, 1, now);
}

static void connect_at(u64 now)
{
	feed("hb\n", now);
	ck_assert(agent_connected(&a));
}

static enum ctl_code request(u64 id, const char *data, u64 now)
{
	char msg[CTL_MSG_MAX] = "";

	return agent_request(&a, id, data, strlen(data), now, msg);
}

START_TEST(heartbeats_connect_and_their_absence_loses)
{
	ck_assert(!agent_connected(&a));
	agent_tick(&a, T0 + 10 * HZ);              /* never connected: no loss */
	ck_assert_uint_eq(fx.lost, 0);
	connect_at(T0 + 10 * HZ);
	ck_assert_str_eq(fx.log[0], "agent connected (heartbeats expected every "
			 "second, lost after 3 s without)");
	for (int s = 1; s <= 5; s++) {             /* one a second: stays */
		feed("hb\r\n", T0 + (10 + (u64)s) * HZ);
		agent_tick(&a, T0 + (10 + (u64)s) * HZ + HZ / 2);
	}
	ck_assert(agent_connected(&a));
	ck_assert_uint_eq(a.stats.heartbeats, 6);
	ck_assert_uint_eq(a.stats.connects, 1);
	ck_assert_uint_eq(fx.logs, 1);
	agent_tick(&a, T0 + 15 * HZ + 3 * HZ - 1); /* just under 3 s */
	ck_assert(agent_connected(&a));
	agent_tick(&a, T0 + 18 * HZ);
	ck_assert(!agent_connected(&a));
	ck_assert_uint_eq(fx.lost, 1);
	ck_assert_str_eq(fx.log[1], "agent lost (no heartbeat for 3 s)");
	agent_tick(&a, T0 + 30 * HZ);               /* lost once, not again */
	ck_assert_uint_eq(fx.lost, 1);
	connect_at(T0 + 31 * HZ);                   /* and back */
	ck_assert_uint_eq(a.stats.connects, 2);
	ck_assert_uint_eq(a.stats.losses, 1);
	/* a paused VM's silence is not the agent's */
	agent_hold(&a, T0 + 40 * HZ);
	agent_tick(&a, T0 + 42 * HZ);
	ck_assert(agent_connected(&a));
	agent_tick(&a, T0 + 43 * HZ);
	ck_assert(!agent_connected(&a));
}
END_TEST

START_TEST(requests_are_framed_and_answers_matched_by_id)
{
	ck_assert_int_eq(request(7, "ping", T0), CTL_E_STATE);
	ck_assert_uint_eq(fx.sent_len, 0);
	connect_at(T0);
	ck_assert_int_eq(request(7, "ping", T0), CTL_OK);
	ck_assert_int_eq(request(9007199254740991ULL, "info", T0), CTL_OK);
	fx.sent[fx.sent_len] = 0;
	ck_assert_str_eq(fx.sent, "7 ping\n9007199254740991 info\n");
	feed("9007199254740991 {\"kernel\":\"6.1\"}\n7 {\"pong\":true}\r\n", T0);
	ck_assert_uint_eq(fx.messages, 2);
	ck_assert_uint_eq(fx.ids[0], 9007199254740991ULL);
	ck_assert_uint_eq(fx.data_len[0], strlen("{\"kernel\":\"6.1\"}"));
	ck_assert(!memcmp(fx.data[0], "{\"kernel\":\"6.1\"}", fx.data_len[0]));
	ck_assert_uint_eq(fx.ids[1], 7);
	ck_assert_uint_eq(fx.data_len[1], strlen("{\"pong\":true}"));
	/* a second answer to 7, and one to a request never made */
	feed("7 again\n8 {}\n", T0);
	ck_assert_uint_eq(fx.messages, 2);
	ck_assert_uint_eq(a.stats.drops[AGENT_DROP_UNKNOWN_ID], 2);
	/* an id alone is an empty answer */
	ck_assert_int_eq(request(3, "x", T0), CTL_OK);
	feed("3\n", T0);
	ck_assert_uint_eq(fx.messages, 3);
	ck_assert_uint_eq(fx.data_len[2], 0);
	ck_assert_uint_eq(a.stats.requests, 3);
	ck_assert_uint_eq(a.stats.answers, 3);
}
END_TEST

START_TEST(requests_the_framing_cannot_carry_are_refused)
{
	char big[CTL_AGENT_MAX + 2], msg[CTL_MSG_MAX];

	connect_at(T0);
	ck_assert_int_eq(request(1, "a\nb", T0), CTL_E_VALUE);
	ck_assert_int_eq(request(1, "a\rb", T0), CTL_E_VALUE);
	ck_assert_int_eq(agent_request(&a, 1, "a\0b", 3, T0, msg), CTL_E_VALUE);
	ck_assert_str_eq(msg, "'data' must not contain a line break or NUL "
			 "(the agent reads lines)");
	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(agent_request(&a, 1, big, CTL_AGENT_MAX + 1, T0, msg),
			 CTL_E_VALUE);
	ck_assert_str_eq(msg, "'data' is longer than 512 bytes");
	ck_assert_uint_eq(fx.sent_len, 0);
	ck_assert_int_eq(agent_request(&a, 1, big, CTL_AGENT_MAX, T0, msg), CTL_OK);
	ck_assert_uint_eq(fx.sent_len, 2 + CTL_AGENT_MAX + 1);
	/* a full channel: refused, and no id left waiting */
	fx.send_ret = -1;
	ck_assert_int_eq(agent_request(&a, 2, "ping", 4, T0, msg), CTL_E_STATE);
	ck_assert_str_eq(msg, "the agent channel is full (the guest is not "
			 "reading it)");
	fx.send_ret = 0;
	feed("2 late\n", T0);
	ck_assert_uint_eq(a.stats.drops[AGENT_DROP_UNKNOWN_ID], 1);
	/* at most 8 outstanding */
	for (u64 id = 10; id < 10 + AGENT_MAX_PENDING - 1; id++)
		ck_assert_int_eq(request(id, "ping", T0), CTL_OK);
	ck_assert_int_eq(request(99, "ping", T0), CTL_E_STATE);
	feed("10 pong\n", T0);
	ck_assert_int_eq(request(99, "ping", T0), CTL_OK);
}
END_TEST

START_TEST(long_lines_are_dropped_whole)
{
	static char line[3 * AGENT_LINE_MAX];

	connect_at(T0);
	ck_assert_int_eq(request(5, "info", T0), CTL_OK);
	/* an answer of exactly AGENT_LINE_MAX bytes passes */
	memset(line, 'a', AGENT_LINE_MAX);
	memcpy(line, "5 ", 2);
	line[AGENT_LINE_MAX] = '\n';
	agent_input(&a, (const u8 *)line, AGENT_LINE_MAX + 1, T0);
	ck_assert_uint_eq(fx.messages, 1);
	ck_assert_uint_eq(fx.data_len[0], AGENT_LINE_MAX - 2);
	/* one byte more: dropped whole, even though it starts well */
	ck_assert_int_eq(request(5, "info", T0), CTL_OK);
	memset(line, 'b', sizeof(line));
	memcpy(line, "5 ", 2);
	line[AGENT_LINE_MAX + 1] = '\n';
	agent_input(&a, (const u8 *)line, AGENT_LINE_MAX + 2, T0);
	ck_assert_uint_eq(fx.messages, 1);
	ck_assert_uint_eq(a.stats.drops[AGENT_DROP_TOO_LONG], 1);
	/* far longer, in pieces: one drop; the next line is read afresh */
	line[AGENT_LINE_MAX + 1] = 'b';
	agent_input(&a, (const u8 *)line, sizeof(line), T0);
	agent_input(&a, (const u8 *)line, sizeof(line), T0);
	feed("\n5 ok\n", T0);
	ck_assert_uint_eq(a.stats.drops[AGENT_DROP_TOO_LONG], 2);
	ck_assert_uint_eq(fx.messages, 2);
	ck_assert(!memcmp(fx.data[1], "ok", 2));
}
END_TEST

START_TEST(malformed_lines_are_dropped)
{
	static const char *bad[] = {
		"\n", "hbx\n", "HB\n", "x 1\n", " 1 a\n", "1x\n", "-1 a\n",
		"12345678901234567 a\n",          /* 17 digits */
		"9007199254740992 a\n",           /* CTL_ID_MAX + 1 */
	};

	connect_at(T0);
	ck_assert_int_eq(request(1, "ping", T0), CTL_OK);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		feed(bad[i], T0 + i);
	ck_assert_uint_eq(a.stats.drops[AGENT_DROP_MALFORMED], ARRAY_SIZE(bad));
	ck_assert_uint_eq(fx.messages, 0);
	/* logged three times, the third saying the rest are not */
	ck_assert_uint_eq(fx.logs, 1 + AGENT_LOG_LIMIT);
	ck_assert_str_eq(fx.log[3], "agent: dropped a line that is neither 'hb' "
			 "nor '<id> <answer>' (3 so far); further ones are "
			 "only counted");
	ck_assert(agent_connected(&a));
}
END_TEST

START_TEST(rate_limit_is_a_token_bucket)
{
	unsigned passed = 0;

	/* a burst of 40 at one instant passes, the 41st does not */
	for (int i = 0; i < AGENT_BURST + 1; i++)
		feed("hb\n", T0);
	ck_assert_uint_eq(a.stats.heartbeats, AGENT_BURST);
	ck_assert_uint_eq(a.stats.drops[AGENT_DROP_RATE], 1);
	/* 1/20 s later, one more */
	feed("hb\n", T0 + HZ / AGENT_RATE_PER_S);
	ck_assert_uint_eq(a.stats.heartbeats, AGENT_BURST + 1);
	/* 100 lines a second for 10 s: 20 a second get through */
	for (u64 t = 0; t < 1000; t++) {
		u64 before = a.stats.heartbeats;

		feed("hb\n", T0 + HZ + t * HZ / 100);
		passed += a.stats.heartbeats > before;
	}
	ck_assert_uint_ge(passed, 10 * AGENT_RATE_PER_S);
	ck_assert_uint_le(passed, 10 * AGENT_RATE_PER_S + AGENT_BURST + 1);
}
END_TEST

START_TEST(unanswered_requests_expire_and_loss_forgets_them)
{
	connect_at(T0);
	ck_assert_int_eq(request(1, "ping", T0), CTL_OK);
	feed("hb\n", T0 + 29 * HZ);
	agent_tick(&a, T0 + 29 * HZ);
	ck_assert_uint_eq(a.stats.expired, 0);
	feed("hb\n", T0 + 30 * HZ);
	agent_tick(&a, T0 + 30 * HZ);
	ck_assert_uint_eq(a.stats.expired, 1);
	feed("1 pong\n", T0 + 30 * HZ);
	ck_assert_uint_eq(fx.messages, 0);
	ck_assert_int_eq(request(2, "ping", T0 + 30 * HZ), CTL_OK);
	agent_tick(&a, T0 + 40 * HZ);               /* lost */
	ck_assert_int_eq(request(3, "ping", T0 + 40 * HZ), CTL_E_STATE);
	connect_at(T0 + 41 * HZ);
	feed("2 pong\n", T0 + 41 * HZ);
	ck_assert_uint_eq(fx.messages, 0);
	ck_assert_uint_eq(a.stats.drops[AGENT_DROP_UNKNOWN_ID], 2);
}
END_TEST

START_TEST(any_answer_bytes_make_a_valid_event)
{
	static const char answer[] = "4 \xff\xfe\"\\\x01\xc0\x80\xed\xa0\x80"
				     "\xf4\x90\x80\x80 ok \xe2\x82\xac\x00z\n";
	static struct json_tok toks[JSON_MAX_TOKENS];
	struct json_error jerr;
	char out[CTL_REPLY_MAX], data[CTL_AGENT_MAX];
	enum json_err e;
	int n, len;

	connect_at(T0);
	ck_assert_int_eq(request(4, "info", T0), CTL_OK);
	agent_input(&a, (const u8 *)answer, sizeof(answer) - 1, T0);
	ck_assert_uint_eq(fx.messages, 1);
	len = ctl_event_agent_message(out, sizeof(out), "vm1", fx.ids[0],
				      fx.data[0], fx.data_len[0]);
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(out[len - 1], '\n');
	n = json_parse(out, (size_t)len - 1, toks, JSON_MAX_TOKENS, &jerr);
	ck_assert_int_gt(n, 0);
	ck_assert_int_ge(json_member(out, toks, 0, "data"), 0);
	/* \u0000 is in it, escaped: copy refuses it, so check the escape */
	ck_assert(strstr(out, "\\u0000z") != NULL);
	ck_assert(strstr(out, "\\ufffd\\ufffd\\\"\\\\\\u0001") != NULL);
	ck_assert(strstr(out, " ok \xe2\x82\xac") != NULL);
	ck_assert_int_lt(json_str_copy(out, &toks[json_member(out, toks, 0,
			 "data")], data, sizeof(data), &e), 0);
	ck_assert_int_eq(e, JSON_E_NUL);
}
END_TEST

Suite *agent_suite(void)
{
	Suite *s = suite_create("agent");
	TCase *tc = tcase_create("channel");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, heartbeats_connect_and_their_absence_loses);
	tcase_add_test(tc, requests_are_framed_and_answers_matched_by_id);
	tcase_add_test(tc, requests_the_framing_cannot_carry_are_refused);
	tcase_add_test(tc, long_lines_are_dropped_whole);
	tcase_add_test(tc, malformed_lines_are_dropped);
	tcase_add_test(tc, rate_limit_is_a_token_bucket);
	tcase_add_test(tc, unanswered_requests_expire_and_loss_forgets_them);
	tcase_add_test(tc, any_answer_bytes_make_a_valid_event);
	suite_add_tcase(s, tc);
	return s;
}
