/* A recursive-descent JSON validator, depth-bounded, allocation-free. */
#include <errno.h>

#include "jcheck.h"

struct jc {
	const unsigned char	*p;
	const unsigned char	*end;
	const char		*why;
	int			 depth;
};

static int	value(struct jc *);

static int
fail(struct jc *c, const char *why)
{
	if (c->why == NULL)
		c->why = why;
	return -1;
}

static void
ws(struct jc *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
	    *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static int
lit(struct jc *c, const char *word)
{
	for (; *word; word++, c->p++)
		if (c->p >= c->end || *c->p != (unsigned char)*word)
			return fail(c, "unknown literal");
	return 0;
}

static int
digits(struct jc *c)
{
	const unsigned char *start = c->p;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
		c->p++;
	return c->p > start ? 0 : fail(c, "digit expected");
}

static int
number(struct jc *c)
{
	if (*c->p == '-')
		c->p++;
	if (c->p < c->end && *c->p == '0') {
		c->p++;
		if (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			return fail(c, "leading zero in a number");
	} else if (digits(c) < 0) {
		return -1;
	}
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (digits(c) < 0)
			return -1;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (digits(c) < 0)
			return -1;
	}
	return 0;
}

static int
hex4(struct jc *c, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++, c->p++) {
		unsigned d;

		if (c->p >= c->end)
			return fail(c, "short \\u escape");
		d = *c->p;
		if (d >= '0' && d <= '9')
			d -= '0';
		else if ((d | 0x20) >= 'a' && (d | 0x20) <= 'f')
			d = (d | 0x20) - 'a' + 10;
		else
			return fail(c, "bad \\u escape");
		*v = *v << 4 | d;
	}
	return 0;
}

static int
escape(struct jc *c)
{
	unsigned u, lo;

	if (c->p >= c->end)
		return fail(c, "unterminated string");
	switch (*c->p++) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n':
	case 'r': case 't':
		return 0;
	case 'u':
		break;
	default:
		return fail(c, "bad escape");
	}
	if (hex4(c, &u) < 0)
		return -1;
	if (u == 0)
		return fail(c, "\\u0000 is not allowed");
	if (u >= 0xdc00 && u <= 0xdfff)
		return fail(c, "lone low surrogate");
	if (u < 0xd800 || u > 0xdbff)
		return 0;
	if (c->end - c->p < 2 || c->p[0] != '\\' || c->p[1] != 'u')
		return fail(c, "lone high surrogate");
	c->p += 2;
	if (hex4(c, &lo) < 0)
		return -1;
	return lo >= 0xdc00 && lo <= 0xdfff ? 0 : fail(c, "bad surrogate pair");
}

/* One UTF-8 sequence starting at a byte >= 0x80. */
static int
utf8(struct jc *c)
{
	const unsigned char	*p = c->p;
	unsigned		 b = *p;
	int			 n;

	if (b >= 0xc2 && b <= 0xdf)
		n = 1;
	else if (b >= 0xe0 && b <= 0xef)
		n = 2;
	else if (b >= 0xf0 && b <= 0xf4)
		n = 3;
	else
		return fail(c, "invalid UTF-8");
	if (c->end - p <= n)
		return fail(c, "invalid UTF-8");
	for (int i = 1; i <= n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return fail(c, "invalid UTF-8");
	/* overlong forms, surrogates and code points past U+10FFFF */
	if ((b == 0xe0 && p[1] < 0xa0) || (b == 0xed && p[1] > 0x9f) ||
	    (b == 0xf0 && p[1] < 0x90) || (b == 0xf4 && p[1] > 0x8f))
		return fail(c, "invalid UTF-8");
	c->p += n + 1;
	return 0;
}

static int
string(struct jc *c)
{
	c->p++;		/* the opening quote */
	while (c->p < c->end) {
		unsigned char ch = *c->p;

		if (ch == '"') {
			c->p++;
			return 0;
		}
		if (ch < 0x20)
			return fail(c, "control character in a string");
		if (ch == '\\') {
			c->p++;
			if (escape(c) < 0)
				return -1;
		} else if (ch >= 0x80) {
			if (utf8(c) < 0)
				return -1;
		} else {
			c->p++;
		}
	}
	return fail(c, "unterminated string");
}

/* The members of an object or array, after its opening bracket. */
static int
members(struct jc *c, int object)
{
	unsigned char close = object ? '}' : ']';

	c->p++;
	if (++c->depth > JCHECK_DEPTH)
		return fail(c, "nested too deep");
	ws(c);
	if (c->p < c->end && *c->p == close)
		goto done;
	for (;;) {
		ws(c);
		if (object) {
			if (c->p >= c->end || *c->p != '"')
				return fail(c, "member name expected");
			if (string(c) < 0)
				return -1;
			ws(c);
			if (c->p >= c->end || *c->p != ':')
				return fail(c, "':' expected");
			c->p++;
		}
		if (value(c) < 0)
			return -1;
		ws(c);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == close)
			break;
		return fail(c, object ? "',' or '}' expected" :
		    "',' or ']' expected");
	}
done:
	c->p++;
	c->depth--;
	return 0;
}

static int
value(struct jc *c)
{
	ws(c);
	if (c->p >= c->end)
		return fail(c, "value expected");
	switch (*c->p) {
	case '{':
		return members(c, 1);
	case '[':
		return members(c, 0);
	case '"':
		return string(c);
	case 't':
		return lit(c, "true");
	case 'f':
		return lit(c, "false");
	case 'n':
		return lit(c, "null");
	default:
		if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))
			return number(c);
		return fail(c, "value expected");
	}
}

int
jcheck(const char *text, size_t len, size_t *at, const char **why)
{
	struct jc c = {(const unsigned char *)text,
	    (const unsigned char *)text + len, NULL, 0};

	if (value(&c) == 0) {
		ws(&c);
		if (c.p == c.end)
			return 0;
		fail(&c, "trailing data after the value");
	}
	*at = (size_t)(c.p - (const unsigned char *)text);
	*why = c.why;
	return -EINVAL;
}
