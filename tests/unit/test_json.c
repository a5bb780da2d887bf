/*
 * lib/json.c and lib/json_write.c: the strict JSON parser (RFC 8259) and
 * the writer. Good texts and their tokens, then every error with its
 * byte offset: truncation, nesting, number ranges, escapes, UTF-8,
 * garbage and size limits; the accessors; the writer's escaping and
 * bounds, and a round trip through both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "lib/json.h"

static struct json_tok toks[JSON_MAX_TOKENS];
static struct json_error jerr;

static int parse_n(const char *s, size_t n)
{
	return json_parse(s, n, toks, JSON_MAX_TOKENS, &jerr);
}

static int parse(const char *s)
{
	return parse_n(s, strlen(s));
}

/* Expects s (n bytes) to be rejected with error e at byte offset pos. */
#define expect_err_n(s, n, e, at) do {                                      \
	ck_assert_int_eq(parse_n((s), (n)), -1);                             \
	ck_assert_msg(jerr.code == (e), "'%s': error %d (%s), expected %d",  \
		      (s), jerr.code, json_strerror(jerr.code), (e));        \
	ck_assert_uint_eq(jerr.pos, (at));                                   \
} while (0)
#define expect_err(s, e, at) expect_err_n((s), strlen(s), (e), (at))

/* Copies string token i into a static buffer (it must succeed). */
static const char *str(const char *js, int i)
{
	static char buf[512];
	enum json_err e;

	ck_assert_int_ge(json_str_copy(js, &toks[i], buf, sizeof(buf), &e), 0);
	ck_assert_int_eq(e, JSON_OK);
	return buf;
}

START_TEST(scalars)
{
	u64 u;
	s64 v;

	ck_assert_int_eq(parse("true"), 1);
	ck_assert_int_eq(toks[0].type, JSON_TRUE);
	ck_assert_int_eq(toks[0].parent, -1);
	ck_assert_int_eq(parse(" false "), 1);
	ck_assert_int_eq(toks[0].type, JSON_FALSE);
	ck_assert_uint_eq(toks[0].start, 1);
	ck_assert_uint_eq(toks[0].end, 6);
	ck_assert_int_eq(parse("\t\r\n null\n"), 1);
	ck_assert_int_eq(toks[0].type, JSON_NULL);
	ck_assert_int_eq(parse("\"hi\""), 1);
	ck_assert_int_eq(toks[0].type, JSON_STRING);
	ck_assert_uint_eq(toks[0].start, 1);
	ck_assert_uint_eq(toks[0].end, 3);
	ck_assert_int_eq(parse("0"), 1);
	ck_assert_int_eq(json_get_u64(&toks[0], &u), JSON_OK);
	ck_assert_uint_eq(u, 0);
	ck_assert_int_eq(parse("-0"), 1);        /* valid JSON; it is zero */
	ck_assert_int_eq(json_get_u64(&toks[0], &u), JSON_OK);
	ck_assert_uint_eq(u, 0);
	ck_assert_int_eq(json_get_s64(&toks[0], &v), JSON_OK);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(parse("12345"), 1);
	ck_assert_int_eq(json_get_s64(&toks[0], &v), JSON_OK);
	ck_assert_int_eq(v, 12345);
	ck_assert_int_eq(parse("-42"), 1);
	ck_assert_int_eq(json_get_s64(&toks[0], &v), JSON_OK);
	ck_assert_int_eq(v, -42);
	ck_assert_int_eq(json_get_u64(&toks[0], &u), JSON_E_RANGE);
}
END_TEST

START_TEST(integer_limits)
{
	u64 u;
	s64 v;

	ck_assert_int_eq(parse("18446744073709551615"), 1);
	ck_assert_int_eq(json_get_u64(&toks[0], &u), JSON_OK);
	ck_assert_uint_eq(u, UINT64_MAX);
	ck_assert_int_eq(json_get_s64(&toks[0], &v), JSON_E_RANGE);
	ck_assert_int_eq(parse("9223372036854775807"), 1);
	ck_assert_int_eq(json_get_s64(&toks[0], &v), JSON_OK);
	ck_assert_int_eq(v, INT64_MAX);
	ck_assert_int_eq(parse("9223372036854775808"), 1);
	ck_assert_int_eq(json_get_s64(&toks[0], &v), JSON_E_RANGE);
	ck_assert_int_eq(parse("-9223372036854775808"), 1);
	ck_assert_int_eq(json_get_s64(&toks[0], &v), JSON_OK);
	ck_assert_int_eq(v, INT64_MIN);
	expect_err("18446744073709551616", JSON_E_RANGE, 0);
	expect_err("[99999999999999999999999999]", JSON_E_RANGE, 1);
	expect_err("-9223372036854775809", JSON_E_RANGE, 0);
	expect_err("-18446744073709551616", JSON_E_RANGE, 0);
	ck_assert_int_eq(parse("\"x\""), 1);
	ck_assert_int_eq(json_get_u64(&toks[0], &u), JSON_E_TYPE);
	ck_assert_int_eq(json_get_s64(&toks[0], &v), JSON_E_TYPE);
}
END_TEST

START_TEST(numbers_strict)
{
	expect_err("01", JSON_E_LEADING_ZERO, 0);
	expect_err("-01", JSON_E_LEADING_ZERO, 1);
	expect_err("-", JSON_E_END, 1);
	expect_err("-a", JSON_E_NUMBER, 1);
	expect_err("- 1", JSON_E_NUMBER, 1);
	expect_err("1.5", JSON_E_NOT_INTEGER, 1);
	expect_err("1.", JSON_E_NOT_INTEGER, 1);
	expect_err("10e3", JSON_E_NOT_INTEGER, 2);
	expect_err("1E+3", JSON_E_NOT_INTEGER, 1);
	expect_err("[0.0]", JSON_E_NOT_INTEGER, 2);
	expect_err("+1", JSON_E_CHAR, 0);
	expect_err(".5", JSON_E_CHAR, 0);
	expect_err("0x10", JSON_E_TRAILING, 1);
	expect_err("1 2", JSON_E_TRAILING, 2);
	expect_err("Infinity", JSON_E_CHAR, 0);
	expect_err("NaN", JSON_E_CHAR, 0);
}
END_TEST

START_TEST(tree_shape)
{
	const char *js = "{\"a\": [1, {\"b\": null}, []], \"c\": {}, \"d\": \"x\"}";

	ck_assert_int_eq(parse(js), 12);
	/* 0 {  1 "a"  2 [  3 1  4 {  5 "b"  6 null  7 []  8 "c"  9 {}
	   10 "d"  11 "x" */
	ck_assert_int_eq(toks[0].type, JSON_OBJECT);
	ck_assert_uint_eq(toks[0].size, 3);
	ck_assert_uint_eq(toks[0].next, 12);
	ck_assert_uint_eq(toks[0].end, strlen(js));
	ck_assert_int_eq(toks[1].parent, 0);
	ck_assert_int_eq(toks[2].type, JSON_ARRAY);
	ck_assert_int_eq(toks[2].parent, 0);
	ck_assert_uint_eq(toks[2].size, 3);
	ck_assert_uint_eq(toks[2].next, 8);
	ck_assert_int_eq(toks[3].parent, 2);
	ck_assert_int_eq(toks[4].type, JSON_OBJECT);
	ck_assert_uint_eq(toks[4].size, 1);
	ck_assert_uint_eq(toks[4].next, 7);
	ck_assert_int_eq(toks[6].parent, 4);
	ck_assert_int_eq(toks[7].type, JSON_ARRAY);
	ck_assert_uint_eq(toks[7].size, 0);
	ck_assert_uint_eq(toks[7].next, 8);
	ck_assert_uint_eq(toks[9].size, 0);
	ck_assert_int_eq(json_member(js, toks, 0, "a"), 2);
	ck_assert_int_eq(json_member(js, toks, 0, "c"), 9);
	ck_assert_int_eq(json_member(js, toks, 0, "d"), 11);
	ck_assert_int_eq(json_member(js, toks, 0, "e"), -1);
	ck_assert_int_eq(json_member(js, toks, 0, ""), -1);
	ck_assert_int_eq(json_member(js, toks, 4, "b"), 6);
	ck_assert_int_eq(json_member(js, toks, 2, "a"), -1);  /* an array */
	ck_assert_str_eq(str(js, 11), "x");
}
END_TEST

START_TEST(string_escapes)
{
	const char *js = "[\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\", "
			 "\"\\u0041\\u00e9\\u20ac\\ud83d\\ude00\", "
			 "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\", \"\"]";

	ck_assert_int_eq(parse(js), 5);
	ck_assert_str_eq(str(js, 1), "a\"b\\c/d\be\ff\ng\rh\ti");
	ck_assert_str_eq(str(js, 2), "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	ck_assert_str_eq(str(js, 3), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	ck_assert_str_eq(str(js, 4), "");
	ck_assert(json_str_eq(js, &toks[2], "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
	ck_assert(!json_str_eq(js, &toks[2], "A"));
	ck_assert(!json_str_eq(js, &toks[4], "A"));
	ck_assert(json_str_eq(js, &toks[4], ""));
	ck_assert(!json_str_eq(js, &toks[0], ""));            /* not a string */
	/* upper-case hex, and the highest code point */
	ck_assert_int_eq(parse("\"\\u00E9\\uDBFF\\uDFFF\""), 1);
	ck_assert_str_eq(str("\"\\u00E9\\uDBFF\\uDFFF\"", 0),
			 "\xc3\xa9\xf4\x8f\xbf\xbf");
	/* keys compare unescaped */
	js = "{\"\\u0069d\": 7}";
	ck_assert_int_eq(parse(js), 3);
	ck_assert_int_eq(json_member(js, toks, 0, "id"), 2);
}
END_TEST

START_TEST(string_errors)
{
	expect_err("\"abc", JSON_E_END, 4);
	expect_err("\"a\x01\"", JSON_E_CONTROL, 2);
	expect_err("\"a\tb\"", JSON_E_CONTROL, 2);     /* raw tab: escape it */
	expect_err("\"a\nb\"", JSON_E_CONTROL, 2);
	expect_err_n("\"a\0b\"", 5, JSON_E_CONTROL, 2);
	expect_err("\"\\x\"", JSON_E_ESCAPE, 1);
	expect_err("\"\\U0041\"", JSON_E_ESCAPE, 1);
	expect_err("\"\\'\"", JSON_E_ESCAPE, 1);
	expect_err("\"\\", JSON_E_END, 2);
	expect_err("\"\\u12G4\"", JSON_E_HEX, 1);
	expect_err("\"\\u-123\"", JSON_E_HEX, 1);
	expect_err("\"\\u12", JSON_E_END, 5);
	expect_err("\"\\u12\"", JSON_E_END, 6);
	/* surrogates: lone high, high then no \u, high then not low, lone
	   low, reversed pair, high at the end */
	expect_err("\"\\ud800\"", JSON_E_SURROGATE, 1);
	expect_err("\"\\ud800x\\udc00\"", JSON_E_SURROGATE, 1);
	expect_err("\"\\ud800\\u0041\"", JSON_E_SURROGATE, 7);
	expect_err("\"\\ud800\\ud800\"", JSON_E_SURROGATE, 7);
	expect_err("\"\\udc00\"", JSON_E_SURROGATE, 1);
	expect_err("\"\\udfff\\ud800\"", JSON_E_SURROGATE, 1);
	expect_err("\"\\ud800\\uZZZZ\"", JSON_E_HEX, 7);
	expect_err("\"\\ud800", JSON_E_SURROGATE, 1);
}
END_TEST

START_TEST(utf8_errors)
{
	expect_err("\"\x80\"", JSON_E_UTF8, 1);             /* continuation */
	expect_err("\"\xc0\x80\"", JSON_E_UTF8, 1);         /* overlong NUL */
	expect_err("\"\xc1\xbf\"", JSON_E_UTF8, 1);
	expect_err("\"\xe0\x80\x80\"", JSON_E_UTF8, 1);     /* overlong */
	expect_err("\"\xed\xa0\x80\"", JSON_E_UTF8, 1);     /* U+D800 */
	expect_err("\"\xf0\x80\x80\x80\"", JSON_E_UTF8, 1); /* overlong */
	expect_err("\"\xf4\x90\x80\x80\"", JSON_E_UTF8, 1); /* > U+10FFFF */
	expect_err("\"\xf5\x80\x80\x80\"", JSON_E_UTF8, 1);
	expect_err("\"\xff\"", JSON_E_UTF8, 1);
	expect_err("\"ab\xe2\x82\"", JSON_E_UTF8, 3);      /* cut short */
	expect_err("\"\xe2\x82", JSON_E_UTF8, 1);
	expect_err("\"\xc3\"", JSON_E_UTF8, 1);
	expect_err("\"\xe2(\xa1\"", JSON_E_UTF8, 1);
	/* the largest of each length is fine */
	ck_assert_int_eq(parse("\"\x7f\xdf\xbf\xef\xbf\xbf\xf4\x8f\xbf\xbf\""), 1);
	/* outside strings, non-ASCII is simply not JSON */
	expect_err("\xef\xbb\xbf{}", JSON_E_CHAR, 0);     /* a BOM */
}
END_TEST

START_TEST(structure_errors)
{
	expect_err("", JSON_E_EMPTY, 0);
	expect_err("   \t ", JSON_E_EMPTY, 5);
	expect_err("{", JSON_E_END, 1);
	expect_err("[", JSON_E_END, 1);
	expect_err("[1", JSON_E_END, 2);
	expect_err("[1,", JSON_E_END, 3);
	expect_err("{\"a\"", JSON_E_END, 4);
	expect_err("{\"a\":", JSON_E_END, 5);
	expect_err("{\"a\":1", JSON_E_END, 6);
	expect_err("{\"a\" 1}", JSON_E_EXPECT_COLON, 5);
	expect_err("{\"a\":1 \"b\":2}", JSON_E_EXPECT_COMMA, 7);
	expect_err("{\"a\":1,}", JSON_E_EXPECT_KEY, 7);
	expect_err("{,}", JSON_E_EXPECT_KEY, 1);
	expect_err("{1:2}", JSON_E_EXPECT_KEY, 1);
	expect_err("{a:1}", JSON_E_EXPECT_KEY, 1);
	expect_err("[1,]", JSON_E_CHAR, 3);
	expect_err("[,1]", JSON_E_CHAR, 1);
	expect_err("[1}", JSON_E_EXPECT_COMMA, 2);
	expect_err("{\"a\":1]", JSON_E_EXPECT_COMMA, 6);
	expect_err("]", JSON_E_CHAR, 0);
	expect_err("}", JSON_E_CHAR, 0);
	expect_err("{} {}", JSON_E_TRAILING, 3);
	expect_err("[] x", JSON_E_TRAILING, 3);
	expect_err("tru", JSON_E_END, 3);
	expect_err("trux", JSON_E_LITERAL, 0);
	expect_err("truex", JSON_E_TRAILING, 4);
	expect_err("[nul]", JSON_E_LITERAL, 1);
	expect_err("fals", JSON_E_END, 4);
	expect_err("True", JSON_E_CHAR, 0);
	expect_err("'a'", JSON_E_CHAR, 0);
	expect_err_n("\0", 1, JSON_E_CHAR, 0);
	expect_err_n("{}\0", 3, JSON_E_TRAILING, 2);
	expect_err("{\"a\":1}\v", JSON_E_TRAILING, 7);   /* not JSON space */
	expect_err("/* c */ 1", JSON_E_CHAR, 0);
}
END_TEST

/* Every proper prefix of a valid text is an error, never a crash. */
START_TEST(every_truncation)
{
	const char *js = "{\"id\":12,\"cmd\":\"create\",\"a\":[true,false,null,"
			 "-7,{\"x\":\"\\u00e9\\ud83d\\ude00\\n\"}],\"b\":{}}";
	size_t n = strlen(js);

	ck_assert_int_gt(parse(js), 0);
	for (size_t k = 0; k < n; k++) {
		char *cut = malloc(k ? k : 1);  /* exact size: ASan sees overreads */

		memcpy(cut, js, k);
		ck_assert_msg(parse_n(cut, k) == -1, "prefix %zu accepted", k);
		ck_assert_uint_le(jerr.pos, k);
		free(cut);
	}
}
END_TEST

START_TEST(depth_limit)
{
	char js[64] = "";
	char deep[64] = "";

	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		strcat(js, i % 2 ? "{\"k\":" : "[");
	strcat(js, "1");
	for (int i = JSON_MAX_DEPTH - 1; i >= 0; i--)
		strcat(js, i % 2 ? "}" : "]");
	ck_assert_int_eq(parse(js), JSON_MAX_DEPTH * 3 / 2 + 1);
	memset(deep, '[', JSON_MAX_DEPTH + 1);
	expect_err(deep, JSON_E_DEPTH, JSON_MAX_DEPTH);
	/* a thousand brackets: still one error, at the ninth */
	{
		char many[1000];

		memset(many, '[', sizeof(many));
		expect_err_n(many, sizeof(many), JSON_E_DEPTH, JSON_MAX_DEPTH);
	}
}
END_TEST

START_TEST(token_limit)
{
	static const char *const more[] = { "2", "\"s\"", "null", "[]", "{}" };
	char js[1024];
	size_t n = 0;
	struct json_tok few[3];

	js[n++] = '[';
	for (int i = 0; i < JSON_MAX_TOKENS - 1; i++)
		n += (size_t)sprintf(js + n, "%s1", i ? "," : "");
	js[n++] = ']';
	ck_assert_int_eq(parse_n(js, n), JSON_MAX_TOKENS);
	ck_assert_uint_eq(toks[0].size, JSON_MAX_TOKENS - 1);
	/* one more value of each kind is one too many, at its first byte */
	for (size_t k = 0; k < sizeof(more) / sizeof(more[0]); k++) {
		size_t m = n - 1;

		m += (size_t)sprintf(js + m, ",%s]", more[k]);
		expect_err_n(js, m, JSON_E_TOKENS, n);
	}
	/* a smaller buffer is honoured */
	ck_assert_int_eq(json_parse("[1,2]", 5, few, 3, &jerr), 3);
	ck_assert_int_eq(json_parse("[1,2,3]", 7, few, 3, &jerr), -1);
	ck_assert_int_eq(jerr.code, JSON_E_TOKENS);
	ck_assert_uint_eq(jerr.pos, 5);
	ck_assert_int_eq(json_parse("1", 1, few, 0, &jerr), -1);
	ck_assert_int_eq(jerr.code, JSON_E_TOKENS);
}
END_TEST

START_TEST(line_limit)
{
	static char js[JSON_LINE_MAX + 2];

	memset(js, ' ', sizeof(js));
	js[0] = '"';
	js[JSON_LINE_MAX - 1] = '"';
	ck_assert_int_eq(parse_n(js, JSON_LINE_MAX), 1);
	ck_assert_uint_eq(toks[0].end, JSON_LINE_MAX - 1);
	js[JSON_LINE_MAX - 1] = ' ';
	js[JSON_LINE_MAX] = '"';
	expect_err_n(js, JSON_LINE_MAX + 1, JSON_E_TOO_LONG, JSON_LINE_MAX);
}
END_TEST

/* Random bytes, and random mutations of a good text: no crash, and an
   accepted text's tokens stay inside it. */
START_TEST(garbage)
{
	const char *good = "{\"id\":1,\"cmd\":\"info\",\"vm\":\"a\\u00e9\","
			   "\"n\":[1,-2,{\"x\":null}]}";
	unsigned seed = 12345;
	char buf[128];

	for (int round = 0; round < 20000; round++) {
		size_t n = strlen(good);

		memcpy(buf, good, n);
		for (int k = 0; k < 1 + round % 4; k++) {
			seed = seed * 1103515245 + 12345;
			buf[(seed >> 8) % n] = (char)(seed >> 20);
		}
		if (round % 5 == 0)
			n = (seed >> 4) % n;
		if (parse_n(buf, n) > 0)
			for (int t = 0; t < toks[0].next; t++)
				ck_assert_uint_le(toks[t].end, n);
		else
			ck_assert_uint_le(jerr.pos, n);
	}
}
END_TEST

START_TEST(copy_errors)
{
	const char *js = "[\"abcdef\", \"a\\u0000b\", 5, \"\\u00e9\"]";
	char buf[8];
	enum json_err e;

	ck_assert_int_eq(parse(js), 5);
	ck_assert_int_eq(json_str_copy(js, &toks[1], buf, 7, &e), 6);
	ck_assert_int_eq(e, JSON_OK);
	ck_assert_int_eq(json_str_copy(js, &toks[1], buf, 6, &e), -1);
	ck_assert_int_eq(e, JSON_E_SPACE);
	ck_assert_str_eq(buf, "abcde");         /* a terminated prefix */
	ck_assert_int_eq(json_str_copy(js, &toks[1], buf, 0, &e), -1);
	ck_assert_int_eq(e, JSON_E_SPACE);
	ck_assert_int_eq(json_str_copy(js, &toks[2], buf, sizeof(buf), &e), -1);
	ck_assert_int_eq(e, JSON_E_NUL);
	ck_assert_str_eq(buf, "a");
	ck_assert_int_eq(json_str_copy(js, &toks[3], buf, sizeof(buf), &e), -1);
	ck_assert_int_eq(e, JSON_E_TYPE);
	ck_assert_str_eq(buf, "");
	/* a 2-byte character does not fit in 2 bytes with the NUL */
	ck_assert_int_eq(json_str_copy(js, &toks[4], buf, 2, &e), -1);
	ck_assert_int_eq(e, JSON_E_SPACE);
	ck_assert_int_eq(json_str_copy(js, &toks[4], buf, 3, &e), 2);
	ck_assert(!json_str_eq(js, &toks[2], "a"));
	ck_assert(!json_str_eq(js, &toks[1], "abcdefg"));
}
END_TEST

START_TEST(error_messages)
{
	for (int e = JSON_OK; e <= JSON_E_NUL; e++) {
		const char *m = json_strerror((enum json_err)e);

		ck_assert_ptr_nonnull(m);
		ck_assert_str_ne(m, "unknown error");
		for (int f = JSON_OK; f < e; f++)
			ck_assert_str_ne(m, json_strerror((enum json_err)f));
	}
	ck_assert_str_eq(json_strerror((enum json_err)999), "unknown error");
	ck_assert_str_eq(json_strerror(JSON_E_DEPTH), "nested deeper than 8 levels");
}
END_TEST

/* ---- the writer ---- */

static char out[256];
static struct json_writer w;

START_TEST(writer_basic)
{
	json_w_init(&w, out, sizeof(out));
	json_w_object(&w);
	json_w_ku64(&w, "id", 18446744073709551615ULL);
	json_w_kbool(&w, "ok", true);
	json_w_key(&w, "list");
	json_w_array(&w);
	json_w_s64(&w, INT64_MIN);
	json_w_s64(&w, 0);
	json_w_null(&w);
	json_w_bool(&w, false);
	json_w_object(&w);
	json_w_object_end(&w);
	json_w_array(&w);
	json_w_array_end(&w);
	json_w_array_end(&w);
	json_w_kstr(&w, "s", "x");
	json_w_object_end(&w);
	ck_assert_int_eq(json_w_end(&w), (int)strlen(out));
	ck_assert_str_eq(out, "{\"id\":18446744073709551615,\"ok\":true,\"list\":"
			 "[-9223372036854775808,0,null,false,{},[]],\"s\":\"x\"}");
	ck_assert_int_eq(json_w_end_line(&w), (int)strlen(out));
	ck_assert_uint_eq(out[strlen(out) - 1], '\n');
}
END_TEST

START_TEST(writer_escapes)
{
	const char raw[] = "q\"b\\s/\b\f\n\r\t\x01\x1f\x7f"
			   "\xc3\xa9\xf0\x9f\x98\x80|\xff|\xc3|\xed\xa0\x80|";

	json_w_init(&w, out, sizeof(out));
	json_w_strn(&w, raw, sizeof(raw) - 1);
	ck_assert_int_ge(json_w_end(&w), 0);
	ck_assert_str_eq(out, "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f"
			 "\xc3\xa9\xf0\x9f\x98\x80|\\ufffd|\\ufffd|"
			 "\\ufffd\\ufffd\\ufffd|\"");
	json_w_init(&w, out, sizeof(out));
	json_w_strn(&w, "a\0b", 3);
	ck_assert_int_ge(json_w_end(&w), 0);
	ck_assert_str_eq(out, "\"a\\u0000b\"");
}
END_TEST

START_TEST(writer_bounds)
{
	char small[8];

	/* "[1,2]" needs 6 bytes with its NUL; 5 is one short */
	json_w_init(&w, small, 6);
	json_w_array(&w);
	json_w_u64(&w, 1);
	json_w_u64(&w, 2);
	json_w_array_end(&w);
	ck_assert_int_eq(json_w_end(&w), 5);
	ck_assert_int_eq(json_w_end_line(&w), -1);     /* no room for \n */
	json_w_init(&w, small, 5);
	json_w_array(&w);
	json_w_u64(&w, 1);
	json_w_u64(&w, 2);
	json_w_array_end(&w);
	ck_assert_int_eq(json_w_end(&w), -1);
	ck_assert_uint_lt(strlen(small), 5);            /* still terminated */
	json_w_init(&w, small, 0);
	json_w_null(&w);
	ck_assert_int_eq(json_w_end(&w), -1);
	/* unbalanced use is reported, not written */
	json_w_init(&w, out, sizeof(out));
	json_w_object(&w);
	ck_assert_int_eq(json_w_end(&w), -1);
	json_w_key(&w, "k");
	json_w_object_end(&w);
	ck_assert_int_eq(json_w_end(&w), -1);
	json_w_init(&w, out, sizeof(out));
	json_w_array_end(&w);
	ck_assert_int_eq(json_w_end(&w), -1);
	/* the writer nests no deeper than the parser reads */
	json_w_init(&w, out, sizeof(out));
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		json_w_array(&w);
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		json_w_array_end(&w);
	ck_assert_int_eq(json_w_end(&w), 2 * JSON_MAX_DEPTH);
	json_w_init(&w, out, sizeof(out));
	for (int i = 0; i <= JSON_MAX_DEPTH; i++)
		json_w_array(&w);
	ck_assert_int_eq(json_w_end(&w), -1);
}
END_TEST

/* What the writer writes, the parser reads back unchanged. */
START_TEST(round_trip)
{
	const char *strings[] = {
		"", "plain", "q\"b\\s/", "\b\f\n\r\t\x01\x1f", "caf\xc3\xa9",
		"\xf0\x9f\x98\x80 \xef\xbf\xbf", "\x7f",
	};

	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		int n;

		json_w_init(&w, out, sizeof(out));
		json_w_object(&w);
		json_w_kstr(&w, strings[i], strings[i]);
		json_w_key(&w, "n");
		json_w_s64(&w, -(s64)i);
		json_w_object_end(&w);
		ck_assert_int_gt(n = json_w_end(&w), 0);
		ck_assert_int_eq(parse_n(out, (size_t)n), 5);
		ck_assert(json_str_eq(out, &toks[1], strings[i]));
		ck_assert_str_eq(str(out, 2), strings[i]);
		ck_assert_int_eq(json_member(out, toks, 0, strings[i]), 2);
	}
}
END_TEST

Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("parser");

	tcase_add_test(tc, scalars);
	tcase_add_test(tc, integer_limits);
	tcase_add_test(tc, numbers_strict);
	tcase_add_test(tc, tree_shape);
	tcase_add_test(tc, string_escapes);
	tcase_add_test(tc, string_errors);
	tcase_add_test(tc, utf8_errors);
	tcase_add_test(tc, structure_errors);
	tcase_add_test(tc, every_truncation);
	tcase_add_test(tc, depth_limit);
	tcase_add_test(tc, token_limit);
	tcase_add_test(tc, line_limit);
	tcase_add_test(tc, garbage);
	tcase_add_test(tc, copy_errors);
	tcase_add_test(tc, error_messages);
	suite_add_tcase(s, tc);
	tc = tcase_create("writer");
	tcase_add_test(tc, writer_basic);
	tcase_add_test(tc, writer_escapes);
	tcase_add_test(tc, writer_bounds);
	tcase_add_test(tc, round_trip);
	suite_add_tcase(s, tc);
	return s;
}
