/*
 * A small vsnprintf. Output goes through struct out so that truncation is
 * handled in exactly one place (out_put).
 */
#include "lib/fmt.h"

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void out_put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

struct spec {
	bool zero, left;
	int width;
};

static void out_padded(struct out *o, const char *s, size_t n,
		       const struct spec *sp)
{
	int pad = sp->width > (int)n ? sp->width - (int)n : 0;
	char fill = sp->zero && !sp->left ? '0' : ' ';

	if (!sp->left)
		while (pad-- > 0)
			out_put(o, fill);
	while (n--)
		out_put(o, *s++);
	if (sp->left)
		while (pad-- > 0)
			out_put(o, ' ');
}

static void out_number(struct out *o, u64 v, bool neg, unsigned base,
		       bool upper, const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int i = sizeof(tmp);

	do {
		tmp[--i] = digits[v % base];
		v /= base;
	} while (v);
	if (neg && sp->zero && !sp->left) {
		/* the sign goes before the zeros: "-0042" */
		struct spec rest = *sp;

		out_put(o, '-');
		rest.width = sp->width > 0 ? sp->width - 1 : 0;
		out_padded(o, tmp + i, sizeof(tmp) - i, &rest);
		return;
	}
	if (neg)
		tmp[--i] = '-';
	out_padded(o, tmp + i, sizeof(tmp) - i, sp);
}

/* Reads an integer argument of the given length class (0 int, 1 long, 2 ll). */
static u64 arg_uint(va_list *ap, int lng, bool is_signed, bool *neg)
{
	s64 s;

	*neg = false;
	if (!is_signed)
		return lng ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned);
	s = lng ? va_arg(*ap, long) : va_arg(*ap, int);
	if (s < 0) {
		*neg = true;
		return (u64)0 - (u64)s;
	}
	return (u64)s;
}

static const char *parse_spec(const char *f, struct spec *sp, int *lng)
{
	*sp = (struct spec){ 0 };
	*lng = 0;
	for (;; f++) {
		if (*f == '0')
			sp->zero = true;
		else if (*f == '-')
			sp->left = true;
		else
			break;
	}
	while (*f >= '0' && *f <= '9')
		sp->width = sp->width * 10 + (*f++ - '0');
	while (*f == 'l' || *f == 'z')
		*lng += 1, f++;
	return f;
}

int fmt_vsn(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	struct spec sp;
	va_list aq;
	int lng;
	bool neg;

	va_copy(aq, ap);
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			out_put(&o, *f);
			continue;
		}
		f = parse_spec(f + 1, &sp, &lng);
		switch (*f) {
		case 's': {
			const char *s = va_arg(aq, const char *);
			size_t n = 0;

			if (!s)
				s = "(null)";
			while (s[n])
				n++;
			out_padded(&o, s, n, &sp);
			break;
		}
		case 'c': {
			char c = (char)va_arg(aq, int);

			out_padded(&o, &c, 1, &sp);
			break;
		}
		case 'd':
		case 'i':
		case 'u': {
			u64 v = arg_uint(&aq, lng, *f != 'u', &neg);

			out_number(&o, v, neg, 10, false, &sp);
			break;
		}
		case 'x':
		case 'X':
			out_number(&o, arg_uint(&aq, lng, false, &neg), false, 16,
				   *f == 'X', &sp);
			break;
		case 'p':
			out_put(&o, '0');
			out_put(&o, 'x');
			out_number(&o, (u64)(uintptr_t)va_arg(aq, void *), false,
				   16, false, &sp);
			break;
		case '%':
			out_put(&o, '%');
			break;
		default: /* unknown conversion: show it rather than guess */
			out_put(&o, '%');
			if (!*f)
				f--;
			else
				out_put(&o, *f);
		}
	}
	va_end(aq);
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}

int fmt_sn(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsn(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
