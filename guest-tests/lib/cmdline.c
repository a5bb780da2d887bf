/* cmdline.c - option lookup in a space-separated command line.  Callers
 * search the whole line, so it does not matter whether the loader put the
 * image name in front (QEMU does, uhv may not). */
#include "cmdline.h"
#include "util.h"

#define HEX_PREFIX_LEN 2    /* "0x" */
#define ASCII_LOWER  0x20   /* OR-ing it lowercases an ASCII letter */
#define HEX_LETTER_BASE 10  /* value of hex digit "a" */

/* Find the word starting with prefix, ending at a space, NUL or (when
 * is_key) at '='.  Returns the char after the prefix or NULL. */
static const char *find_word(const char *s, const char *prefix, bool is_key)
{
    size_t n = strlen(prefix);
    while (*s) {
        while (*s == ' ')
            s++;
        const char *w = s;
        while (*s && *s != ' ')
            s++;
        if ((size_t)(s - w) < n || memcmp(w, prefix, n))
            continue;
        char after = w[n];
        if (is_key ? after == '=' : (after == ' ' || after == '\0'))
            return w + n;
    }
    return NULL;
}

/* Value of the digit c in base 10 or 16, or -1 if it is not one. */
static int digit_value(char c, u32 base)
{
    char lower = (char)(c | ASCII_LOWER);
    if (c >= '0' && c <= '9')
        return c - '0';
    if (base == 16 && lower >= 'a' && lower <= 'f')
        return lower - 'a' + HEX_LETTER_BASE;
    return -1;
}

/* True if word appears as a whole word (e.g. "expect-preempt"). */
bool cmdline_has(const char *cmdline, const char *word)
{
    return find_word(cmdline, word, false) != NULL;
}

/* Value of key=N, N decimal or 0x-hex; def if absent or not a number. */
u64 cmdline_u64(const char *cmdline, const char *key, u64 def)
{
    const char *p = find_word(cmdline, key, true);
    if (!p)
        return def;
    p++;                                    /* skip '=' */
    u32 base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += HEX_PREFIX_LEN;
    }
    u64 v = 0;
    int digits = 0;
    for (; *p && *p != ' '; p++, digits++) {
        int d = digit_value(*p, base);
        if (d < 0)
            return def;
        v = v * base + (u32)d;
    }
    return digits ? v : def;
}
