/*
 * The JSON writer: replies and events of the management protocol, built
 * in a bounded buffer. It places commas and colons itself and tracks
 * nesting, so a caller cannot produce malformed JSON; anything that would
 * (a value where a key is due is not checked, but an unclosed container
 * or a full buffer is) makes json_w_end fail instead of returning a text.
 */
#include "lib/json.h"
#include "lib/string.h"

#define U64_DIGITS_MAX 20       /* 18446744073709551615 */

void json_w_init(struct json_writer *w, char *buf, size_t size)
{
	*w = (struct json_writer){
		.buf = buf, .size = size, .overflow = !size,
	};
	if (size)
		buf[0] = 0;
}

int json_w_end(struct json_writer *w)
{
	if (w->overflow || w->depth || w->after_key)
		return -1;
	return (int)w->len;
}

static void put(struct json_writer *w, const char *s, size_t n);

int json_w_end_line(struct json_writer *w)
{
	if (json_w_end(w) < 0)
		return -1;
	put(w, "\n", 1);
	return w->overflow ? -1 : (int)w->len;
}

/* Appends n bytes, keeping the text NUL-terminated, or marks overflow. */
static void put(struct json_writer *w, const char *s, size_t n)
{
	if (w->overflow || n >= w->size - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = 0;
}

/* Before a value or a key: the comma that separates it from the last. */
static void separate(struct json_writer *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->nonempty & BIT(w->depth))
		put(w, ",", 1);
	w->nonempty |= (u16)BIT(w->depth);
}

static void open_container(struct json_writer *w, const char *bracket)
{
	separate(w);
	put(w, bracket, 1);
	if (w->depth == JSON_MAX_DEPTH) {   /* deeper than a reader takes */
		w->overflow = true;
		return;
	}
	w->depth++;
	w->nonempty &= (u16)~BIT(w->depth);
}

static void close_container(struct json_writer *w, const char *bracket)
{
	if (!w->depth || w->after_key) {
		w->overflow = true;
		return;
	}
	w->depth--;
	put(w, bracket, 1);
}

void json_w_object(struct json_writer *w)
{
	open_container(w, "{");
}

void json_w_object_end(struct json_writer *w)
{
	close_container(w, "}");
}

void json_w_array(struct json_writer *w)
{
	open_container(w, "[");
}

void json_w_array_end(struct json_writer *w)
{
	close_container(w, "]");
}

/* The escape for byte c (RFC 8259 §7), written to esc; its length or 0. */
static size_t escape(u8 c, char esc[6])
{
	static const char hex[] = "0123456789abcdef";
	static const char from[] = "\"\\\b\f\n\r\t", to[] = "\"\\bfnrt";

	esc[0] = '\\';
	for (size_t k = 0; k < sizeof(from) - 1; k++) {
		if (c == (u8)from[k]) {
			esc[1] = to[k];
			return 2;
		}
	}
	if (c >= 0x20)
		return 0;
	esc[1] = 'u';
	esc[2] = '0';
	esc[3] = '0';
	esc[4] = hex[c >> 4];
	esc[5] = hex[c & 0xf];
	return 6;
}

/*
 * A string, quoted: quote, backslash and control characters escaped, and
 * each byte that is not part of valid UTF-8 replaced with \ufffd (the
 * replacement character), so the text stays valid UTF-8 (RFC 8259 §8.1)
 * whatever bytes a guest put in a message.
 */
static void put_string(struct json_writer *w, const char *s, size_t n)
{
	size_t i = 0, k;
	char esc[6];

	put(w, "\"", 1);
	while (i < n) {
		if ((k = escape((u8)s[i], esc))) {
			put(w, esc, k);
			i++;
		} else if ((k = json_utf8_len((const u8 *)s + i, n - i))) {
			put(w, s + i, k);
			i += k;
		} else {
			put(w, "\\ufffd", 6);
			i++;
		}
	}
	put(w, "\"", 1);
}

/* Byte c as ISO 8859-1 text: its escape, its UTF-8 (two bytes from
   0x80), or 0 when it stands for itself. */
static size_t latin1(u8 c, char esc[6])
{
	size_t k = escape(c, esc);

	if (k || c < JSON_LATIN1_FIRST)
		return k;
	esc[0] = (char)(JSON_LATIN1_LEAD_MIN | c >> 6);
	esc[1] = (char)(0x80 | (c & 0x3f));
	return 2;
}

void json_w_bytes(struct json_writer *w, const u8 *s, size_t n)
{
	char esc[6];
	size_t k;

	separate(w);
	put(w, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		if ((k = latin1(s[i], esc)))
			put(w, esc, k);
		else
			put(w, (const char *)s + i, 1);
	}
	put(w, "\"", 1);
}

size_t json_bytes_len(const u8 *s, size_t n)
{
	char esc[6];
	size_t len = 0, k;

	for (size_t i = 0; i < n; i++)
		len += (k = latin1(s[i], esc)) ? k : 1;
	return len;
}

void json_w_key(struct json_writer *w, const char *key)
{
	separate(w);
	put_string(w, key, strlen(key));
	put(w, ":", 1);
	w->after_key = true;
}

void json_w_strn(struct json_writer *w, const char *s, size_t n)
{
	separate(w);
	put_string(w, s, n);
}

void json_w_str(struct json_writer *w, const char *s)
{
	json_w_strn(w, s, strlen(s));
}

/* The digits of v, and a minus sign before them if neg. */
static void put_integer(struct json_writer *w, u64 v, bool neg)
{
	char tmp[U64_DIGITS_MAX + 1];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (neg)
		tmp[--i] = '-';
	separate(w);
	put(w, tmp + i, sizeof(tmp) - i);
}

void json_w_u64(struct json_writer *w, u64 v)
{
	put_integer(w, v, false);
}

void json_w_s64(struct json_writer *w, s64 v)
{
	/* the magnitude of -(2^63) only fits in a u64 */
	put_integer(w, v < 0 ? (u64)0 - (u64)v : (u64)v, v < 0);
}

void json_w_bool(struct json_writer *w, bool v)
{
	separate(w);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void json_w_null(struct json_writer *w)
{
	separate(w);
	put(w, "null", 4);
}

void json_w_kstr(struct json_writer *w, const char *key, const char *s)
{
	json_w_key(w, key);
	json_w_str(w, s);
}

void json_w_ku64(struct json_writer *w, const char *key, u64 v)
{
	json_w_key(w, key);
	json_w_u64(w, v);
}

void json_w_kbool(struct json_writer *w, const char *key, bool v)
{
	json_w_key(w, key);
	json_w_bool(w, v);
}
