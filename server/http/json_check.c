/* A recursive-descent JSON validator, depth-bounded, allocation-free. */
#include <errno.h>
#include <stdio.h>

#include "http/json_check.h"
#include "utf8.h"

struct jc {
	const unsigned char	*p;
	const unsigned char	*end;
	const char		*why;
	int			 depth;
	/* where we are at a spec's level, to name the holder of a \u0000 */
	int			 root_array;
	size_t			 index;		/* the top-level array's item */
	const unsigned char	*key;		/* the member's name, as written */
	size_t			 keylen;
	int			 in_key;
	int			 nul_seen;
	char			*nul;
	size_t			 nulsize;
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
	if (u == 0 && !c->nul_seen) {
		c->nul_seen = 1;
		if (c->in_key || c->key == NULL)
			snprintf(c->nul, c->nulsize, "%s", "");
		else if (c->root_array)
			snprintf(c->nul, c->nulsize, "[%zu].%.*s", c->index,
			    (int)c->keylen, (const char *)c->key);
		else
			snprintf(c->nul, c->nulsize, "%.*s", (int)c->keylen,
			    (const char *)c->key);
	}
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
	size_t n = utf8_seq(c->p, (size_t)(c->end - c->p));

	if (n == 0)
		return fail(c, "invalid UTF-8");
	c->p += n;
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
	unsigned char	 close = object ? '}' : ']';
	int		 spec_level;

	c->p++;
	if (++c->depth > JSON_CHECK_DEPTH)
		return fail(c, "nested too deep");
	if (c->depth == 1)
		c->root_array = !object;
	/* a spec's members: the top-level object, or a top-level array's */
	spec_level = object && c->depth == (c->root_array ? 2 : 1);
	ws(c);
	if (c->p < c->end && *c->p == close)
		goto done;
	for (;;) {
		ws(c);
		if (object) {
			const unsigned char *name = c->p + 1;

			if (c->p >= c->end || *c->p != '"')
				return fail(c, "member name expected");
			c->in_key = spec_level;
			if (string(c) < 0)
				return -1;
			c->in_key = 0;
			if (spec_level) {
				c->key = name;
				c->keylen = (size_t)(c->p - 1 - name);
			}
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
			if (!object && c->depth == 1) {
				c->index++;
				c->key = NULL;
			}
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
json_check(const char *text, size_t len, size_t *at, const char **why,
    char *nul, size_t nulsize)
{
	struct jc c = {.p = (const unsigned char *)text,
	    .end = (const unsigned char *)text + len, .nul = nul,
	    .nulsize = nulsize};

	if (value(&c) == 0) {
		ws(&c);
		if (c.p == c.end)
			return c.nul_seen;
		fail(&c, "trailing data after the value");
	}
	*at = (size_t)(c.p - (const unsigned char *)text);
	*why = c.why;
	return -EINVAL;
}
