/*
 * JSON for the management protocol: a strict one-line parser into a flat
 * token array, accessors that unescape on the fly, and a bounded writer.
 * The grammar is RFC 8259's; what is limited or left out, and why, is in
 * json.h.
 *
 * The parser is a loop over a small state machine (what may come next),
 * with an explicit stack of open containers instead of recursion, so its
 * stack use is fixed whatever the input.
 */
#include "lib/json.h"
#include "lib/string.h"

#define STR_(x) #x
#define STR(x) STR_(x)

#define S64_MAX_MAGNITUDE 0x7fffffffffffffffULL
#define S64_MIN_MAGNITUDE 0x8000000000000000ULL
#define UTF16_HIGH_FIRST 0xd800u      /* RFC 8259 §7: a character beyond */
#define UTF16_LOW_FIRST  0xdc00u      /* the BMP is a pair of \u escapes */
#define UTF16_LOW_LAST   0xdfffu
#define UNICODE_PLANE1   0x10000u

static const char *const messages[] = {
	[JSON_OK] = "no error",
	[JSON_E_EMPTY] = "no JSON value, only whitespace",
	[JSON_E_TOO_LONG] = "line longer than " STR(JSON_LINE_MAX) " bytes",
	[JSON_E_END] = "the text ends inside a value",
	[JSON_E_CHAR] = "expected a value (object, array, string, integer, "
			"true, false or null)",
	[JSON_E_TRAILING] = "unexpected text after the value",
	[JSON_E_EXPECT_KEY] = "expected a string as the member's name",
	[JSON_E_EXPECT_COLON] = "expected ':' after the member's name",
	[JSON_E_EXPECT_COMMA] = "expected ',' or the closing bracket",
	[JSON_E_LITERAL] = "not true, false or null",
	[JSON_E_NUMBER] = "'-' must be followed by a digit",
	[JSON_E_LEADING_ZERO] = "integers must not have leading zeros",
	[JSON_E_NOT_INTEGER] = "only integers are supported (no fraction "
			       "or exponent)",
	[JSON_E_RANGE] = "integer out of the 64-bit range",
	[JSON_E_CONTROL] = "raw control character in a string (escape it)",
	[JSON_E_ESCAPE] = "invalid escape sequence",
	[JSON_E_HEX] = "\\u must be followed by 4 hex digits",
	[JSON_E_SURROGATE] = "unpaired UTF-16 surrogate in a \\u escape",
	[JSON_E_UTF8] = "invalid UTF-8 in a string",
	[JSON_E_DEPTH] = "nested deeper than " STR(JSON_MAX_DEPTH) " levels",
	[JSON_E_TOKENS] = "more than " STR(JSON_MAX_TOKENS) " values",
	[JSON_E_TYPE] = "wrong type",
	[JSON_E_SPACE] = "string too long for its buffer",
	[JSON_E_NUL] = "string contains \\u0000",
};

const char *json_strerror(enum json_err e)
{
	if ((size_t)e >= ARRAY_SIZE(messages) || !messages[e])
		return "unknown error";
	return messages[e];
}

size_t json_utf8_len(const u8 *s, size_t n)
{
	u8 c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c < 0xc2)           /* a continuation byte, or overlong */
		return 0;
	if (c < 0xe0) {
		len = 2;
	} else if (c < 0xf0) {
		len = 3;
		lo = c == 0xe0 ? 0xa0 : lo;
		hi = c == 0xed ? 0x9f : hi;     /* U+D800..DFFF */
	} else if (c < 0xf5) {
		len = 4;
		lo = c == 0xf0 ? 0x90 : lo;
		hi = c == 0xf4 ? 0x8f : hi;     /* beyond U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* The value of 4 hex digits at s, or -1. */
static int hex4(const char *s)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* ---- the parser ---- */

enum want {
	W_VALUE,
	W_VALUE_OR_CLOSE,       /* just after '[' */
	W_KEY,
	W_KEY_OR_CLOSE,         /* just after '{' */
	W_COLON,
	W_COMMA_OR_CLOSE,
	W_DONE,
};

struct parser {
	const char *s;
	size_t len, pos;
	struct json_tok *toks;
	int max, n;
	int depth;
	int open[JSON_MAX_DEPTH];       /* open containers, innermost last */
	enum want want;
	struct json_error *err;
};

static int fail(struct parser *p, enum json_err e, size_t pos)
{
	p->err->code = e;
	p->err->pos = pos;
	return -1;
}

static int top(const struct parser *p)
{
	return p->depth ? p->open[p->depth - 1] : -1;
}

/* Adds a token starting at p->pos; its index, or -1 if toks is full. */
static int new_tok(struct parser *p, enum json_type type)
{
	int parent = top(p);

	if (p->n == p->max)
		return fail(p, JSON_E_TOKENS, p->pos);
	p->toks[p->n] = (struct json_tok){
		.type = (u8)type, .start = (u16)p->pos, .end = (u16)p->pos,
		.parent = parent, .next = (u16)(p->n + 1),
	};
	if (parent >= 0 && p->toks[parent].type == JSON_ARRAY)
		p->toks[parent].size++;
	return p->n++;
}

/* A value is complete: what may follow depends on where it was. */
static void after_value(struct parser *p)
{
	p->want = p->depth ? W_COMMA_OR_CLOSE : W_DONE;
}

/* Reports a bad escape; 0, as check_escape returns then. */
static size_t fail_esc(struct parser *p, enum json_err e, size_t pos)
{
	fail(p, e, pos);
	return 0;
}

/*
 * Checks the escape at s[i] (a backslash); returns its length in bytes,
 * 12 for a surrogate pair, or 0 after reporting the problem.
 */
static size_t check_escape(struct parser *p, size_t i)
{
	int cp, lo;

	if (i + 1 >= p->len)
		return fail_esc(p, JSON_E_END, p->len);
	switch (p->s[i + 1]) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n':
	case 'r': case 't':
		return 2;
	case 'u':
		break;
	default:
		return fail_esc(p, JSON_E_ESCAPE, i);
	}
	if (i + 6 > p->len)
		return fail_esc(p, JSON_E_END, p->len);
	if ((cp = hex4(p->s + i + 2)) < 0)
		return fail_esc(p, JSON_E_HEX, i);
	if ((u32)cp < UTF16_HIGH_FIRST || (u32)cp > UTF16_LOW_LAST)
		return 6;
	if ((u32)cp >= UTF16_LOW_FIRST)
		return fail_esc(p, JSON_E_SURROGATE, i);
	/* a high surrogate: the low half must follow at once */
	if (i + 12 > p->len || p->s[i + 6] != '\\' || p->s[i + 7] != 'u')
		return fail_esc(p, JSON_E_SURROGATE, i);
	if ((lo = hex4(p->s + i + 8)) < 0)
		return fail_esc(p, JSON_E_HEX, i + 6);
	if ((u32)lo < UTF16_LOW_FIRST || (u32)lo > UTF16_LOW_LAST)
		return fail_esc(p, JSON_E_SURROGATE, i + 6);
	return 12;
}

/* A string at p->pos (its opening quote): a key or a value. */
static int parse_string(struct parser *p)
{
	int t = new_tok(p, JSON_STRING);
	size_t i = p->pos + 1, n;

	if (t < 0)
		return -1;
	p->toks[t].start = (u16)i;
	while (i < p->len) {
		u8 c = (u8)p->s[i];

		if (c == '"') {
			p->toks[t].end = (u16)i;
			p->pos = i + 1;
			return t;
		}
		if (c < 0x20)
			return fail(p, JSON_E_CONTROL, i);
		if (c == '\\')
			n = check_escape(p, i);
		else if (!(n = json_utf8_len((const u8 *)p->s + i, p->len - i)))
			return fail(p, JSON_E_UTF8, i);
		if (!n)
			return -1;
		i += n;
	}
	return fail(p, JSON_E_END, p->len);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* An integer at p->pos: RFC 8259 §6 less fraction and exponent. */
static int parse_number(struct parser *p)
{
	size_t i = p->pos, start = p->pos;
	bool neg = p->s[i] == '-';
	u64 v = 0;
	int t;

	i += neg;
	if (i == p->len)
		return fail(p, JSON_E_END, i);
	if (!is_digit(p->s[i]))
		return fail(p, JSON_E_NUMBER, i);
	if (p->s[i] == '0' && i + 1 < p->len && is_digit(p->s[i + 1]))
		return fail(p, JSON_E_LEADING_ZERO, i);
	for (; i < p->len && is_digit(p->s[i]); i++) {
		u64 d = (u64)(p->s[i] - '0');

		if (v > (~0ULL - d) / 10)
			return fail(p, JSON_E_RANGE, start);
		v = v * 10 + d;
	}
	if (i < p->len && (p->s[i] == '.' || p->s[i] == 'e' || p->s[i] == 'E'))
		return fail(p, JSON_E_NOT_INTEGER, i);
	if (neg && v > S64_MIN_MAGNITUDE)
		return fail(p, JSON_E_RANGE, start);
	if ((t = new_tok(p, JSON_INTEGER)) < 0)
		return -1;
	p->toks[t].negative = neg;
	p->toks[t].magnitude = v;
	p->toks[t].end = (u16)i;
	p->pos = i;
	return t;
}

/* true, false or null at p->pos. */
static int parse_literal(struct parser *p)
{
	static const struct {
		const char *word;
		enum json_type type;
	} lits[] = {
		{ "true", JSON_TRUE },
		{ "false", JSON_FALSE },
		{ "null", JSON_NULL },
	};
	size_t i;
	int t;

	for (i = 0; i < ARRAY_SIZE(lits); i++)
		if (lits[i].word[0] == p->s[p->pos])
			break;
	for (const char *w = lits[i].word; *w; w++) {
		size_t at = p->pos + (size_t)(w - lits[i].word);

		if (at == p->len)
			return fail(p, JSON_E_END, at);
		if (p->s[at] != *w)
			return fail(p, JSON_E_LITERAL, p->pos);
	}
	if ((t = new_tok(p, lits[i].type)) < 0)
		return -1;
	p->pos += strlen(lits[i].word);
	p->toks[t].end = (u16)p->pos;
	return t;
}

static int open_container(struct parser *p, enum json_type type)
{
	int t;

	if (p->depth == JSON_MAX_DEPTH)
		return fail(p, JSON_E_DEPTH, p->pos);
	if ((t = new_tok(p, type)) < 0)
		return -1;
	p->open[p->depth++] = t;
	p->pos++;
	p->want = type == JSON_OBJECT ? W_KEY_OR_CLOSE : W_VALUE_OR_CLOSE;
	return 0;
}

/* The closing bracket c at p->pos: it must match the open container. */
static int close_container(struct parser *p, char c)
{
	struct json_tok *t = &p->toks[top(p)];

	if (c != (t->type == JSON_OBJECT ? '}' : ']'))
		return fail(p, JSON_E_EXPECT_COMMA, p->pos);
	p->pos++;
	t->end = (u16)p->pos;
	t->next = (u16)p->n;
	p->depth--;
	after_value(p);
	return 0;
}

static int parse_value(struct parser *p)
{
	char c = p->s[p->pos];
	int t;

	if (c == '{' || c == '[')
		return open_container(p, c == '{' ? JSON_OBJECT : JSON_ARRAY);
	if (c == '"')
		t = parse_string(p);
	else if (c == '-' || is_digit(c))
		t = parse_number(p);
	else if (c == 't' || c == 'f' || c == 'n')
		t = parse_literal(p);
	else
		return fail(p, JSON_E_CHAR, p->pos);
	if (t < 0)
		return -1;
	after_value(p);
	return 0;
}

/* Consumes what comes at p->pos (not whitespace), given p->want. */
static int step(struct parser *p)
{
	char c = p->s[p->pos];

	switch (p->want) {
	case W_DONE:
		return fail(p, JSON_E_TRAILING, p->pos);
	case W_COLON:
		if (c != ':')
			return fail(p, JSON_E_EXPECT_COLON, p->pos);
		p->pos++;
		p->want = W_VALUE;
		return 0;
	case W_KEY_OR_CLOSE:
		if (c == '}')
			return close_container(p, c);
		/* fall through */
	case W_KEY:
		if (c != '"')
			return fail(p, JSON_E_EXPECT_KEY, p->pos);
		if (parse_string(p) < 0)
			return -1;
		p->toks[top(p)].size++;
		p->want = W_COLON;
		return 0;
	case W_COMMA_OR_CLOSE:
		if (c == '}' || c == ']')
			return close_container(p, c);
		if (c != ',')
			return fail(p, JSON_E_EXPECT_COMMA, p->pos);
		p->pos++;
		p->want = p->toks[top(p)].type == JSON_OBJECT ? W_KEY : W_VALUE;
		return 0;
	case W_VALUE_OR_CLOSE:
		if (c == ']')
			return close_container(p, c);
		/* fall through */
	case W_VALUE:
		break;
	}
	return parse_value(p);
}

/* RFC 8259 §2: the four whitespace characters. */
static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int json_parse(const char *text, size_t len, struct json_tok *toks, int max,
	       struct json_error *err)
{
	struct parser p = {
		.s = text, .len = len, .toks = toks, .max = max, .err = err,
		.want = W_VALUE,
	};

	err->code = JSON_OK;
	err->pos = 0;
	if (len > JSON_LINE_MAX)
		return fail(&p, JSON_E_TOO_LONG, JSON_LINE_MAX);
	for (;;) {
		while (p.pos < len && is_ws(text[p.pos]))
			p.pos++;
		if (p.pos == len)
			break;
		if (step(&p))
			return -1;
	}
	if (p.want == W_DONE)
		return p.n;
	return fail(&p, p.n ? JSON_E_END : JSON_E_EMPTY, len);
}

/* ---- accessors ---- */

/* Encodes code point cp (at most U+10FFFF) as UTF-8; returns the length. */
static size_t utf8_put(u32 cp, u8 out[4])
{
	static const u8 lead[] = { 0, 0, 0xc0, 0xe0, 0xf0 };
	size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < UNICODE_PLANE1 ? 3 : 4;

	for (size_t k = n - 1; k > 0; k--, cp >>= 6)
		out[k] = (u8)(0x80 | (cp & 0x3f));
	out[0] = (u8)(lead[n] | cp);
	return n;
}

/* A \u escape at s[*i] (the backslash), pair included, as a code point. */
static u32 unescape_u(const char *s, size_t *i, size_t end)
{
	int cp = *i + 6 <= end ? hex4(s + *i + 2) : -1;
	int lo;

	if (cp < 0) {           /* not from json_parse: pass the byte on */
		*i += 1;
		return '\\';
	}
	*i += 6;
	if ((u32)cp < UTF16_HIGH_FIRST || (u32)cp >= UTF16_LOW_FIRST)
		return (u32)cp;
	if (*i + 6 > end || s[*i] != '\\' || (lo = hex4(s + *i + 2)) < 0)
		return (u32)cp;
	*i += 6;
	return UNICODE_PLANE1 + (((u32)cp - UTF16_HIGH_FIRST) << 10) +
	       ((u32)lo - UTF16_LOW_FIRST);
}

/*
 * The next character of a string token, from s[*i] (below end): its bytes
 * unescaped in out, their number returned. Raw bytes go one at a time.
 */
static size_t next_char(const char *s, size_t *i, size_t end, u8 out[4])
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";

	if (s[*i] != '\\' || *i + 1 >= end) {
		out[0] = (u8)s[(*i)++];
		return 1;
	}
	if (s[*i + 1] == 'u')
		return utf8_put(unescape_u(s, i, end), out);
	for (size_t k = 0; from[k]; k++) {
		if (s[*i + 1] == from[k]) {
			*i += 2;
			out[0] = (u8)to[k];
			return 1;
		}
	}
	out[0] = (u8)s[(*i)++];
	return 1;
}

int json_member(const char *text, const struct json_tok *toks, int obj,
		const char *key)
{
	int i = obj + 1;

	if (toks[obj].type != JSON_OBJECT)
		return -1;
	for (u16 m = 0; m < toks[obj].size; m++) {
		if (json_str_eq(text, &toks[i], key))
			return i + 1;
		i = toks[i + 1].next;
	}
	return -1;
}

bool json_str_eq(const char *text, const struct json_tok *t, const char *s)
{
	size_t i = t->start, k = 0;
	u8 out[4];

	if (t->type != JSON_STRING)
		return false;
	while (i < t->end) {
		size_t n = next_char(text, &i, t->end, out);

		for (size_t j = 0; j < n; j++, k++)
			if (!s[k] || (u8)s[k] != out[j])
				return false;
	}
	return !s[k];
}

int json_str_copy(const char *text, const struct json_tok *t, char *dst,
		  size_t size, enum json_err *e)
{
	size_t i = t->start, len = 0;
	u8 out[4];

	*e = JSON_OK;
	if (size)
		dst[0] = 0;
	if (t->type != JSON_STRING)
		*e = JSON_E_TYPE;
	while (!*e && i < t->end) {
		size_t n = next_char(text, &i, t->end, out);

		if (out[0] == 0)
			*e = JSON_E_NUL;
		else if (len + n >= size)
			*e = JSON_E_SPACE;
		else
			memcpy(dst + len, out, n);
		len += *e ? 0 : n;
		if (size)
			dst[len] = 0;
	}
	return *e ? -1 : (int)len;
}

/*
 * A raw lead byte of UTF-8 (the parser let only valid UTF-8 through): its
 * continuation byte joins it, so that out holds the character whole.
 */
static size_t next_raw_char(const char *s, size_t *i, size_t end, u8 out[4])
{
	size_t n = next_char(s, i, end, out);

	if (n == 1 && out[0] >= JSON_LATIN1_LEAD_MIN && *i < end) {
		out[1] = (u8)s[(*i)++];
		n = 2;
	}
	return n;
}

int json_str_bytes(const char *text, const struct json_tok *t, u8 *dst,
		   size_t size, enum json_err *e)
{
	size_t i = t->start, len = 0;
	u8 out[4];

	*e = t->type == JSON_STRING ? JSON_OK : JSON_E_TYPE;
	while (!*e && i < t->end) {
		size_t n = next_raw_char(text, &i, t->end, out);

		if (n > 2 || (n == 2 && out[0] > JSON_LATIN1_LEAD_MAX))
			*e = JSON_E_RANGE;
		else if (len >= size)
			*e = JSON_E_SPACE;
		else
			dst[len++] = n == 1 ? out[0] :
				(u8)((out[0] & 0x1f) << 6 | (out[1] & 0x3f));
	}
	return *e ? -1 : (int)len;
}

enum json_err json_get_u64(const struct json_tok *t, u64 *v)
{
	if (t->type != JSON_INTEGER)
		return JSON_E_TYPE;
	if (t->negative && t->magnitude)
		return JSON_E_RANGE;
	*v = t->magnitude;
	return JSON_OK;
}

enum json_err json_get_s64(const struct json_tok *t, s64 *v)
{
	if (t->type != JSON_INTEGER)
		return JSON_E_TYPE;
	if (t->magnitude > (t->negative ? S64_MIN_MAGNITUDE :
			    S64_MAX_MAGNITUDE))
		return JSON_E_RANGE;
	/* -(2^63) has no positive twin: negate magnitude - 1, then step */
	*v = t->negative && t->magnitude ? -(s64)(t->magnitude - 1) - 1 :
		(s64)t->magnitude;
	return JSON_OK;
}

