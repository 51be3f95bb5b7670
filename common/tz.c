/*
 * Time zones: TZif decoding (v1, and v2+ with 64-bit times and the TZ
 * rule footer), loading a zone by name from the zoneinfo directory, and
 * the offset, span and local-to-UTC questions asked of a zone.  The file
 * is treated as hostile: every count is checked against its size first.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tz.h"
#include "tz_rule.h"

#define TZ_DIR_DEFAULT	"/usr/share/zoneinfo"
#define TZIF_HEADER	44

struct tz {
	char		*name;
	int64_t		*trans;		/* transition instants, ascending */
	uint8_t		*idx;		/* type of each transition */
	int32_t		*utoff;		/* offset of each type */
	size_t		 ntrans;
	size_t		 ntypes;
	int		 has_rule;	/* rule governs after the last transition */
	struct tz_rule	 rule;
};

struct tzif_counts {
	uint32_t	isut, isstd, leap, time, type, chars;
};

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int64_t
get64(const unsigned char *p)
{
	return (int64_t)((uint64_t)get32(p) << 32 | get32(p + 4));
}

static struct tz *
tz_alloc(const char *name)
{
	struct tz *tz;

	if ((tz = calloc(1, sizeof(*tz))) == NULL)
		return NULL;
	if ((tz->name = strdup(name)) == NULL) {
		free(tz);
		return NULL;
	}
	return tz;
}

void
tz_free(struct tz *tz)
{
	if (tz == NULL)
		return;
	free(tz->name);
	free(tz->trans);
	free(tz->idx);
	free(tz->utoff);
	free(tz);
}

const char *
tz_name(const struct tz *tz)
{
	return tz->name;
}

/*
 * Reads the header at p (size bytes left) and returns the size of the
 * data block after it for times of tsize bytes, or -EPROTO.
 */
static int64_t
tzif_header(const unsigned char *p, size_t size, int tsize,
    struct tzif_counts *c)
{
	uint64_t block;

	if (size < TZIF_HEADER || memcmp(p, "TZif", 4) != 0)
		return -EPROTO;
	c->isut = get32(p + 20);
	c->isstd = get32(p + 24);
	c->leap = get32(p + 28);
	c->time = get32(p + 32);
	c->type = get32(p + 36);
	c->chars = get32(p + 40);
	if (c->type == 0 || c->type > 256 || c->chars == 0 ||
	    (c->isut != 0 && c->isut != c->type) ||
	    (c->isstd != 0 && c->isstd != c->type))
		return -EPROTO;
	/* counts are 32-bit: no product below overflows 64 bits */
	block = (uint64_t)c->time * (uint64_t)(tsize + 1) +
	    (uint64_t)c->type * 6 + c->chars +
	    (uint64_t)c->leap * (uint64_t)(tsize + 4) + c->isstd + c->isut;
	if (block > size - TZIF_HEADER)
		return -EPROTO;
	return (int64_t)block;
}

/* Copies the transitions and types of the data block at p into tz. */
static int
tzif_block(struct tz *tz, const unsigned char *p, int tsize,
    const struct tzif_counts *c)
{
	const unsigned char	*idx = p + (size_t)c->time * tsize;
	const unsigned char	*types = idx + c->time;

	if (c->leap != 0)
		return -ENOTSUP;
	tz->ntrans = c->time;
	tz->ntypes = c->type;
	tz->trans = malloc(c->time ? c->time * sizeof(*tz->trans) : 1);
	tz->idx = malloc(c->time ? c->time : 1);
	tz->utoff = malloc(c->type * sizeof(*tz->utoff));
	if (tz->trans == NULL || tz->idx == NULL || tz->utoff == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->time; i++) {
		tz->trans[i] = tsize == 8 ? get64(p + 8 * (size_t)i) :
		    (int64_t)(int32_t)get32(p + 4 * (size_t)i);
		if (i > 0 && tz->trans[i] <= tz->trans[i - 1])
			return -EPROTO;
		if ((tz->idx[i] = idx[i]) >= c->type)
			return -EPROTO;
	}
	for (uint32_t i = 0; i < c->type; i++) {
		const unsigned char *t = types + 6 * (size_t)i;
		int32_t utoff = (int32_t)get32(t);

		if (utoff < -TZ_UTOFF_MAX || utoff > TZ_UTOFF_MAX ||
		    t[4] > 1 || t[5] >= c->chars)
			return -EPROTO;
		tz->utoff[i] = utoff;
	}
	return 0;
}

/* The footer "\n<rule>\n" that ends a v2+ file exactly; empty: no rule. */
static int
tzif_footer(struct tz *tz, const unsigned char *p, size_t size)
{
	const unsigned char *nl;

	if (size < 2 || p[0] != '\n' || p[size - 1] != '\n')
		return -EPROTO;
	nl = memchr(p + 1, '\n', size - 1);
	if (nl != p + size - 1)
		return -EPROTO;
	if (size == 2)
		return 0;
	if (tz_rule_parse((const char *)p + 1, size - 2, &tz->rule) != 0)
		return -EPROTO;
	tz->has_rule = 1;
	return 0;
}

int
tz_decode(const void *data, size_t size, const char *name, struct tz **out)
{
	const unsigned char	*p = data;
	struct tzif_counts	 c;
	struct tz		*tz = NULL;
	int64_t			 block;
	size_t			 off = 0;
	int			 rc, v2;

	*out = NULL;
	if ((tz = tz_alloc(name)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((block = tzif_header(p, size, 4, &c)) < 0) {
		rc = (int)block;
		goto out;
	}
	v2 = p[4] >= '2';
	if (v2) {
		off = TZIF_HEADER + (size_t)block;
		if ((block = tzif_header(p + off, size - off, 8, &c)) < 0) {
			rc = (int)block;
			goto out;
		}
	}
	if ((rc = tzif_block(tz, p + off + TZIF_HEADER, v2 ? 8 : 4, &c)) != 0)
		goto out;
	off += TZIF_HEADER + (size_t)block;
	if (v2 && (rc = tzif_footer(tz, p + off, size - off)) != 0)
		goto out;
	*out = tz;
	tz = NULL;
out:
	if (rc != 0)
		log_debug("tz: zone=%s error=%s", name,
		    rc == -ENOTSUP ? "leap seconds" : "malformed TZif");
	tz_free(tz);
	return rc;
}

int
tz_parse_rule(const char *rule, struct tz **out)
{
	struct tz	*tz;

	*out = NULL;
	if ((tz = tz_alloc(rule)) == NULL)
		return -ENOMEM;
	if (tz_rule_parse(rule, strlen(rule), &tz->rule) != 0) {
		tz_free(tz);
		return -EINVAL;
	}
	if ((tz->utoff = malloc(sizeof(*tz->utoff))) == NULL) {
		tz_free(tz);
		return -ENOMEM;
	}
	tz->utoff[0] = tz->rule.std_utoff;
	tz->ntypes = 1;
	tz->has_rule = 1;
	*out = tz;
	return 0;
}

/* Relative, no "..", only [A-Za-z0-9_+-./]. */
static int
name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > TZ_NAME_MAX || name[0] == '/')
		return 0;
	for (const char *p = name; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("_+-./", ch) != NULL))
			return 0;
		if (ch == '.' && p[1] == '.' && (p == name || p[-1] == '/') &&
		    (p[2] == '/' || p[2] == '\0'))
			return 0;
	}
	return 1;
}

static int
tz_utc(const char *name, struct tz **out)
{
	struct tz *tz;

	if ((tz = tz_alloc(name)) == NULL)
		return -ENOMEM;
	tz->ntypes = 1;
	if ((tz->utoff = calloc(1, sizeof(*tz->utoff))) == NULL) {
		tz_free(tz);
		return -ENOMEM;
	}
	*out = tz;
	return 0;
}

/*
 * Reads the regular file at fd, at most TZ_FILE_MAX bytes, into *buf
 * (the caller frees it) and its size into *size.
 */
static int
read_zone_file(int fd, unsigned char **buf, size_t *size)
{
	struct stat	st;
	size_t		got = 0;
	ssize_t		n;

	if (fstat(fd, &st) != 0)
		return -EIO;
	if (!S_ISREG(st.st_mode))
		return -ENOENT;
	if (st.st_size > TZ_FILE_MAX)
		return -EPROTO;
	if ((*buf = malloc((size_t)st.st_size + 1)) == NULL)
		return -ENOMEM;
	/* one byte more than fstat said, to see a file that grew */
	while (got <= (size_t)st.st_size) {
		n = read(fd, *buf + got, (size_t)st.st_size + 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -EIO;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > (size_t)st.st_size)
		return -EPROTO;
	*size = got;
	return 0;
}

int
tz_load(const char *name, struct tz **out)
{
	char		 path[PATH_MAX];
	const char	*dir = getenv("TZDIR");
	unsigned char	*buf = NULL;
	size_t		 size = 0;
	int		 fd = -1, rc;

	*out = NULL;
	if (!name_ok(name))
		return -EINVAL;
	if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0)
		return tz_utc(name, out);
	if (dir == NULL || dir[0] == '\0')
		dir = TZ_DIR_DEFAULT;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return -ENOENT;
	/* O_NONBLOCK: a FIFO planted under that name must not hang us */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		rc = errno == EACCES ? -EACCES : errno == ENOMEM ? -ENOMEM :
		    -ENOENT;
		goto out;
	}
	if ((rc = read_zone_file(fd, &buf, &size)) != 0)
		goto out;
	rc = tz_decode(buf, size, name, out);
out:
	if (fd != -1)
		close(fd);
	free(buf);
	return rc;
}

/* Index of the last transition at or before t; ntrans is 0 here. */
static size_t
last_at_or_before(const struct tz *tz, int64_t t)
{
	size_t lo = 0, hi = tz->ntrans;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (tz->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

void
tz_span_at(const struct tz *tz, int64_t utc_sec, struct tz_span *out)
{
	int64_t	 rs, re;
	int32_t	 ru, rp;
	size_t	 i;

	out->start_sec = INT64_MIN;
	out->end_sec = INT64_MAX;
	out->utoff = out->prev_utoff = tz->utoff[0];
	if (tz->ntrans == 0 || utc_sec < tz->trans[0]) {
		if (tz->ntrans > 0)
			out->end_sec = tz->trans[0];
		else if (tz->has_rule) {
			tz_rule_span(&tz->rule, utc_sec, &out->start_sec,
			    &out->end_sec, &out->utoff, &out->prev_utoff);
		}
		return;
	}
	i = last_at_or_before(tz, utc_sec);
	out->start_sec = tz->trans[i];
	out->utoff = tz->utoff[tz->idx[i]];
	out->prev_utoff = i > 0 ? tz->utoff[tz->idx[i - 1]] : tz->utoff[0];
	if (i + 1 < tz->ntrans) {
		out->end_sec = tz->trans[i + 1];
		return;
	}
	if (!tz->has_rule)
		return;
	tz_rule_span(&tz->rule, utc_sec, &rs, &re, &ru, &rp);
	out->utoff = ru;
	out->end_sec = re;
	if (rs > out->start_sec) {
		out->start_sec = rs;
		out->prev_utoff = rp;
	}
}

int32_t
tz_offset(const struct tz *tz, int64_t utc_sec)
{
	struct tz_span s;

	tz_span_at(tz, utc_sec, &s);
	return s.utoff;
}

int
tz_to_utc(const struct tz *tz, int64_t local_sec, int64_t utc_sec[2])
{
	struct tz_span	 s;
	int64_t		 t, u, hi;
	int		 n = 0, gap = 0;

	/* beyond ±2^60 s the zone's offset is taken as the nearest one's */
	if (local_sec > ((int64_t)1 << 60))
		local_sec = (int64_t)1 << 60;
	if (local_sec < -((int64_t)1 << 60))
		local_sec = -((int64_t)1 << 60);
	t = local_sec - TZ_UTOFF_MAX - 1;
	hi = local_sec + TZ_UTOFF_MAX + 1;
	utc_sec[0] = utc_sec[1] = local_sec - tz_offset(tz, local_sec);
	for (;;) {
		tz_span_at(tz, t, &s);
		u = local_sec - s.utoff;
		if (u >= s.start_sec && u < s.end_sec) {
			if (n < 2)
				utc_sec[n] = u;
			n++;
		} else if (n == 0 && !gap && s.start_sec != INT64_MIN &&
		    local_sec < s.start_sec + s.utoff) {
			/* the clocks jumped from below local_sec past it */
			utc_sec[0] = s.start_sec;
			gap = 1;
		}
		if (s.end_sec >= hi)
			break;
		t = s.end_sec;
	}
	return n > 2 ? 2 : n;
}
