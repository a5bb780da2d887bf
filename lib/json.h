/*
 * A strict, bounded JSON parser and writer (RFC 8259) for uhv's management
 * protocol (vmm/ctl/ctl.c, docs/protocol.md): one line of JSON text in, one
 * line out. Pure C with no allocation, so the host tests and the fuzzer
 * run it on hostile input.
 *
 * The parser turns one line into a flat array of tokens in a buffer the
 * caller provides (as jsmn does): a container is followed by its children,
 * in order, and each token records where its subtree ends, so a lookup
 * walks siblings without recursion. Limits are fixed (JSON_MAX_*): RFC 8259
 * §9 lets a parser limit the size of texts, the depth of nesting and the
 * range of numbers.
 *
 * What is accepted, strictly by RFC 8259:
 * - exactly one value, with optional whitespace (space, tab, CR, LF) around;
 * - strings that are valid UTF-8 (§8.1) with no raw control characters
 *   (§7); escapes \" \\ \/ \b \f \n \r \t \uXXXX, a surrogate pair in two
 *   \u escapes being one character and a lone surrogate an error;
 * - numbers that are integers: the §6 grammar without fraction or exponent,
 *   in the range of s64 (negative) or u64. "1.5" and "1e3" are valid JSON
 *   but are rejected with JSON_E_NOT_INTEGER: nothing in the protocol is
 *   fractional, and rejecting them is better than rounding them;
 * - true, false, null.
 * Duplicate object keys are not rejected here (§4 says names SHOULD be
 * unique); the dispatcher rejects them for the fields it knows.
 */
#ifndef UHV_VMM_JSON_H
#define UHV_VMM_JSON_H

#include "lib/types.h"

#define JSON_MAX_DEPTH  8       /* nested objects/arrays, the root being 1 */
#define JSON_MAX_TOKENS 128     /* values and keys in one text */
#define JSON_LINE_MAX   4096    /* bytes in one text, without its newline */

enum json_type {
	JSON_OBJECT = 1,
	JSON_ARRAY,
	JSON_STRING,            /* a key or a string value */
	JSON_INTEGER,
	JSON_TRUE,
	JSON_FALSE,
	JSON_NULL,
};

/*
 * One value (or object key). Offsets are into the parsed text. A string's
 * start..end is its raw contents between the quotes, escapes still in;
 * a container's runs from its opening to past its closing bracket.
 * An object's children are key, value, key, value...: both have the object
 * as parent, and size counts members (pairs). An array's size counts
 * elements. next is the index of the first token after this token's
 * subtree: the sibling that follows, if any.
 */
struct json_tok {
	u8 type;                /* enum json_type */
	bool negative;          /* an integer with a minus sign */
	u16 start, end;
	int parent;             /* -1 for the root */
	u16 size;
	u16 next;
	u64 magnitude;          /* an integer's absolute value */
};

enum json_err {
	JSON_OK,
	JSON_E_EMPTY,           /* no value, only whitespace */
	JSON_E_TOO_LONG,        /* text longer than JSON_LINE_MAX */
	JSON_E_END,             /* the text ends inside a value */
	JSON_E_CHAR,            /* a byte that cannot start a value */
	JSON_E_TRAILING,        /* something after the value */
	JSON_E_EXPECT_KEY,      /* an object member must start with a string */
	JSON_E_EXPECT_COLON,
	JSON_E_EXPECT_COMMA,    /* ',' or the container's closing bracket */
	JSON_E_LITERAL,         /* a misspelt true, false or null */
	JSON_E_NUMBER,          /* '-' without digits */
	JSON_E_LEADING_ZERO,
	JSON_E_NOT_INTEGER,     /* a fraction or an exponent */
	JSON_E_RANGE,           /* an integer beyond 64 bits */
	JSON_E_CONTROL,         /* a raw control character in a string */
	JSON_E_ESCAPE,          /* a backslash followed by something else */
	JSON_E_HEX,             /* \u not followed by 4 hex digits */
	JSON_E_SURROGATE,       /* a lone or reversed UTF-16 surrogate */
	JSON_E_UTF8,            /* a string that is not valid UTF-8 */
	JSON_E_DEPTH,           /* nesting deeper than JSON_MAX_DEPTH */
	JSON_E_TOKENS,          /* more than the token buffer holds */
	/* from the accessors below, not the parser */
	JSON_E_TYPE,            /* the token is not of the type asked for */
	JSON_E_SPACE,           /* the destination buffer is too small */
	JSON_E_NUL,             /* a string with \u0000 copied to a C string */
};

struct json_error {
	enum json_err code;
	size_t pos;             /* byte offset of the offending byte */
};

/* A sentence naming the error, e.g. "invalid escape sequence". */
const char *json_strerror(enum json_err e);

/*
 * The length of the valid UTF-8 sequence at s (n > 0 bytes available), or
 * 0 if there is none: RFC 3629 §4's table, which rules out overlong forms,
 * encoded surrogates and code points beyond U+10FFFF.
 */
size_t json_utf8_len(const u8 *s, size_t n);

/*
 * Parses len bytes of text (need not be NUL-terminated, must not hold the
 * line's newline) into toks[0..max). Returns the number of tokens (>= 1,
 * the root first), or -1 with err set to the first problem and its byte
 * offset. Never reads beyond text[len - 1].
 */
int json_parse(const char *text, size_t len, struct json_tok *toks, int max,
	       struct json_error *err);

/*
 * The accessors take the text and tokens json_parse accepted. An index i
 * is a token's position in toks.
 */

/* The index of obj's value for key (compared after unescaping: "\u0069d"
   is "id"), the first if it repeats; -1 if none or obj is no object. */
int json_member(const char *text, const struct json_tok *toks, int obj,
		const char *key);
/* True if string token i, unescaped, equals the C string s. */
bool json_str_eq(const char *text, const struct json_tok *t, const char *s);
/*
 * Copies string token t, unescaped, into dst[0..size) with a NUL. Returns
 * the length, or -1 and *e: JSON_E_TYPE (not a string), JSON_E_SPACE (does
 * not fit; dst holds a truncated prefix) or JSON_E_NUL (it holds \u0000).
 */
int json_str_copy(const char *text, const struct json_tok *t, char *dst,
		  size_t size, enum json_err *e);
/*
 * Bytes as a JSON string, for byte pipes (the management protocol's gdb
 * data): byte b is the character U+00bb (ISO 8859-1), so any byte, NUL
 * included, goes through and back unchanged. json_str_bytes copies
 * string token t into dst[0..size) (no NUL added); the byte count, or
 * -1 and *e: JSON_E_TYPE (not a string), JSON_E_SPACE (does not fit) or
 * JSON_E_RANGE (a character beyond U+00FF).
 */
#define JSON_LATIN1_FIRST    0x80      /* the first byte sent as 2 of UTF-8 */
#define JSON_LATIN1_LEAD_MIN 0xc0      /* UTF-8 lead bytes of U+0080..U+00FF */
#define JSON_LATIN1_LEAD_MAX 0xc3
#define JSON_ESCAPE_MAX      6         /* the longest escape: \u001f */
int json_str_bytes(const char *text, const struct json_tok *t, u8 *dst,
		   size_t size, enum json_err *e);
/* An integer token's value: 0, or JSON_E_TYPE / JSON_E_RANGE. */
enum json_err json_get_u64(const struct json_tok *t, u64 *v);
enum json_err json_get_s64(const struct json_tok *t, s64 *v);

/*
 * The writer (json_write.c): builds one JSON text in a bounded buffer.
 * Commas and colons are placed for the caller. Strings are escaped as RFC 8259 §7 requires,
 * and bytes that are not valid UTF-8 become U+FFFD, so whatever a guest
 * puts in a string, the output is valid JSON. Once the buffer is full
 * every call is a no-op and json_w_end reports the overflow.
 */
struct json_writer {
	char *buf;
	size_t size, len;
	bool overflow;
	bool after_key;         /* the next value completes a member */
	u8 depth;
	u16 nonempty;           /* bit d: the container at depth d has items */
};

void json_w_init(struct json_writer *w, char *buf, size_t size);
/* Returns the text's length (buf is NUL-terminated), or -1 if it did not
   fit or its containers are not all closed. */
int json_w_end(struct json_writer *w);
/* json_w_end, with a newline after the text: a protocol line. */
int json_w_end_line(struct json_writer *w);
void json_w_object(struct json_writer *w);
void json_w_object_end(struct json_writer *w);
void json_w_array(struct json_writer *w);
void json_w_array_end(struct json_writer *w);
void json_w_key(struct json_writer *w, const char *key);
void json_w_str(struct json_writer *w, const char *s);
void json_w_strn(struct json_writer *w, const char *s, size_t n);
void json_w_u64(struct json_writer *w, u64 v);
void json_w_s64(struct json_writer *w, s64 v);
void json_w_bool(struct json_writer *w, bool v);
void json_w_null(struct json_writer *w);
/* Bytes, each as the character of its value (json_str_bytes). */
void json_w_bytes(struct json_writer *w, const u8 *s, size_t n);
/* What json_w_bytes writes for s[0..n), quotes aside: at most
   n * JSON_ESCAPE_MAX bytes. */
size_t json_bytes_len(const u8 *s, size_t n);
/* key and value in one call, for the common members */
void json_w_kstr(struct json_writer *w, const char *key, const char *s);
void json_w_ku64(struct json_writer *w, const char *key, u64 v);
void json_w_kbool(struct json_writer *w, const char *key, bool v);

#endif
