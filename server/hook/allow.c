/*
 * The webhook target policy (allow.h): --webhook-allow's entries, the URL
 * check without DNS, and the address check that net.c runs on every
 * socket it opens.  URLs are taken apart by libcurl's own parser (CURLU),
 * so the host checked here is the host libcurl will connect to.  Every
 * address is held as 16 bytes, IPv4 mapped into IPv6, so one prefix match
 * serves both families and mapped forms cannot slip past.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "vec.h"
#include "hook/allow.h"

#define URL_MAX		4096	/* longer URLs are refused unparsed */
#define NAME_MAX_LEN	253

struct special {
	uint8_t		 addr[16];
	unsigned	 prefix;
	const char	*what;
};

#define V4(a, b, c, d)	{ 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff, a,b,c,d }

/* IPv4, mapped (prefix + 96), then IPv6: what is refused unless allowed. */
static const struct special specials[] = {
	{ V4(0, 0, 0, 0),	96 + 8,		"unspecified" },
	{ V4(10, 0, 0, 0),	96 + 8,		"private" },
	{ V4(100, 64, 0, 0),	96 + 10,	"shared (CGNAT)" },
	{ V4(127, 0, 0, 0),	96 + 8,		"loopback" },
	{ V4(169, 254, 0, 0),	96 + 16,	"link-local" },
	{ V4(172, 16, 0, 0),	96 + 12,	"private" },
	{ V4(192, 0, 0, 0),	96 + 24,	"reserved" },
	{ V4(192, 168, 0, 0),	96 + 16,	"private" },
	{ V4(198, 18, 0, 0),	96 + 15,	"reserved" },
	{ V4(224, 0, 0, 0),	96 + 4,		"multicast" },
	{ V4(240, 0, 0, 0),	96 + 4,		"reserved" },
	{ { 0 },		128,		"unspecified" },
	{ { [15] = 1 },		128,		"loopback" },
	{ { 0 },		96,		"IPv4-compatible" },
	{ { 0x00, 0x64, 0xff, 0x9b, 0, 1 }, 48,	"NAT64 local" },
	{ { 0x01, 0x00 },	64,		"discard" },
	{ { 0x20, 0x01, 0x00, 0x00 }, 32,	"Teredo" },
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32,	"documentation" },
	{ { 0xfc },		7,		"private" },
	{ { 0xfe, 0x80 },	10,		"link-local" },
	{ { 0xfe, 0xc0 },	10,		"site-local" },
	{ { 0xff },		8,		"multicast" },
};

static const uint8_t mapped_prefix[12] = { [10] = 0xff, [11] = 0xff };
static const uint8_t nat64_prefix[12] = { 0x00, 0x64, 0xff, 0x9b };

static void
say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	 ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static int
prefix_has(const uint8_t net[16], unsigned prefix, const uint8_t a[16])
{
	unsigned	 bytes = prefix / 8, bits = prefix % 8;

	if (memcmp(net, a, bytes) != 0)
		return 0;
	if (bits == 0)
		return 1;
	return ((net[bytes] ^ a[bytes]) & (0xff00 >> bits)) == 0;
}

static int
special_v4(const uint8_t v4[4], const char **what)
{
	uint8_t	 a[16] = V4(v4[0], v4[1], v4[2], v4[3]);

	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
		if (specials[i].prefix > 96 &&
		    prefix_has(specials[i].addr, specials[i].prefix, a)) {
			*what = specials[i].what;
			return 1;
		}
	return 0;
}

int
hook_allow_addr_special(const uint8_t addr[16], const char **what)
{
	const char	*dummy;

	if (what == NULL)
		what = &dummy;
	/* Forms that carry an IPv4 address: judged by that address. */
	if (memcmp(addr, mapped_prefix, 12) == 0 ||
	    memcmp(addr, nat64_prefix, 12) == 0)
		return special_v4(addr + 12, what);
	if (addr[0] == 0x20 && addr[1] == 0x02)		/* 6to4 */
		return special_v4(addr + 2, what);
	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
		if (prefix_has(specials[i].addr, specials[i].prefix, addr)) {
			*what = specials[i].what;
			return 1;
		}
	return 0;
}

/* text as an address (v4 mapped): 1, or 0 if it is none. */
static int
addr_parse(const char *text, uint8_t out[16])
{
	struct in_addr	 a4;

	if (inet_pton(AF_INET, text, &a4) == 1) {
		memcpy(out, mapped_prefix, 12);
		memcpy(out + 12, &a4, 4);
		return 1;
	}
	return inet_pton(AF_INET6, text, out) == 1;
}

/* A DNS name as curl would take it: letters, digits, '-', '_', dots. */
static int
name_ok(const char *s)
{
	size_t		 len = strlen(s), label = 0;
	const char	*last;

	if (len == 0 || len > NAME_MAX_LEN || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (const char *p = s; *p; p++) {
		if (*p == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return 0;
		if (++label > 63)
			return 0;
	}
	/* A numeric last label is an IPv4 number in some form, never a TLD. */
	last = strrchr(s, '.');
	last = last ? last + 1 : s;
	if (strspn(last, "0123456789") == strlen(last) ||
	    strncasecmp(last, "0x", 2) == 0)
		return 0;
	return 1;
}

/* s lowercased into out (256 bytes), one trailing dot dropped. */
static void
name_fold(const char *s, char out[256])
{
	size_t	 n = 0;

	for (; s[n] && n < 255; n++)
		out[n] = (char)tolower((unsigned char)s[n]);
	if (n > 0 && out[n - 1] == '.')
		n--;
	out[n] = '\0';
}

/* The prefix after ip's "/" (NULL: a single address) into e. */
static int
net_prefix(struct hook_allow_entry *e, const char *text, const char *ip,
    const char *prefix, char *why, size_t whylen)
{
	unsigned long	 bits;
	char		*end;
	int		 v6 = strchr(ip, ':') != NULL;

	e->kind = HOOK_ALLOW_NET;
	e->prefix = 128;
	if (prefix == NULL)
		return 0;
	errno = 0;
	bits = strtoul(prefix, &end, 10);
	if (!isdigit((unsigned char)prefix[0]) || *end != '\0' || errno != 0 ||
	    bits > (v6 ? 128u : 32u))
		return say(why, whylen, "\"%s\": bad prefix length", text),
		    -EINVAL;
	e->prefix = (unsigned)bits + (v6 ? 0 : 96);
	for (unsigned i = e->prefix; i < 128; i++)
		if (e->addr[i / 8] & (0x80 >> (i % 8)))
			return say(why, whylen, "\"%s\": bits set past the "
			    "prefix (the network is not %s)", text, ip), -EINVAL;
	return 0;
}

static int
entry_parse(const char *text, struct hook_allow_entry *e, char *why,
    size_t whylen)
{
	char		 buf[256], *slash;
	const char	*ip = buf;
	size_t		 len = strlen(text);

	memset(e, 0, sizeof(*e));
	if (len == 0)
		return say(why, whylen, "empty entry"), -EINVAL;
	if (len >= sizeof(buf))
		return say(why, whylen, "entry longer than %d bytes",
		    NAME_MAX_LEN), -EINVAL;
	memcpy(buf, text, len + 1);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (buf[0] == '[') {
		len = strlen(buf);
		if (len < 3 || buf[len - 1] != ']')
			goto bad;
		buf[len - 1] = '\0';
		ip = buf + 1;
		if (strchr(ip, ':') == NULL)
			goto bad;
	}
	if (addr_parse(ip, e->addr))
		return net_prefix(e, text, ip, slash, why, whylen);
	if (slash != NULL || ip != buf)
		goto bad;
	if (buf[0] == '*') {
		if (buf[1] != '.' || !name_ok(buf + 2))
			goto bad;
		e->kind = HOOK_ALLOW_SUFFIX;
		name_fold(buf + 1, e->name);	/* ".domain" */
		return 0;
	}
	if (buf[len - 1] == '.')
		buf[len - 1] = '\0';
	if (!name_ok(buf))
		goto bad;
	e->kind = HOOK_ALLOW_NAME;
	name_fold(buf, e->name);
	return 0;
bad:
	say(why, whylen, "\"%s\" is no host name, *.domain, IP address or CIDR",
	    text);
	return -EINVAL;
}

void
hook_allow_init(struct hook_allow *a)
{
	memset(a, 0, sizeof(*a));
}

void
hook_allow_clear(struct hook_allow *a)
{
	free(a->v);
	memset(a, 0, sizeof(*a));
}

int
hook_allow_add(struct hook_allow *a, const char *value, char *why,
    size_t whylen)
{
	size_t		 was = a->n;
	const char	*p = value, *end;
	char		 item[300];
	int		 rc = 0;

	if (value == NULL)
		return say(why, whylen, "no value"), -EINVAL;
	for (;;) {
		size_t	 len;

		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		while (len > 0 && isspace((unsigned char)*p))
			p++, len--;
		while (len > 0 && isspace((unsigned char)p[len - 1]))
			len--;
		if (len >= sizeof(item)) {
			say(why, whylen, "entry longer than %d bytes",
			    NAME_MAX_LEN);
			rc = -EINVAL;
			goto out;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		if ((rc = vec_grow(&a->v, &a->cap, a->n + 1, sizeof(*a->v))) != 0)
			goto out;
		if ((rc = entry_parse(item, &a->v[a->n], why, whylen)) != 0)
			goto out;
		a->n++;
		if (end == NULL)
			break;
		p = end + 1;
	}
out:
	if (rc != 0)
		a->n = was;
	return rc;
}

static int
net_holds(const struct hook_allow *a, const uint8_t addr[16])
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].kind == HOOK_ALLOW_NET &&
		    prefix_has(a->v[i].addr, a->v[i].prefix, addr))
			return 1;
	return 0;
}

/* 0 none, 1 a "*.domain" entry, 2 an exact name entry. */
static int
name_match(const struct hook_allow *a, const char *host)
{
	size_t	 hl = strlen(host);
	int	 best = 0;

	for (size_t i = 0; i < a->n; i++) {
		const struct hook_allow_entry *e = &a->v[i];
		size_t el = strlen(e->name);

		if (e->kind == HOOK_ALLOW_NAME && strcmp(e->name, host) == 0)
			return 2;
		if (e->kind == HOOK_ALLOW_SUFFIX && hl > el &&
		    strcmp(host + hl - el, e->name) == 0)
			best = 1;
	}
	return best;
}

/* The literal host checked: an address of a special kind needs an entry. */
static int
check_ip(const struct hook_allow *a, const char *host, const uint8_t ip[16],
    char *why, size_t whylen)
{
	const char	*what;

	if (net_holds(a, ip))
		return 0;
	if (a->n > 0)
		return say(why, whylen, "webhook host %s is not in "
		    "--webhook-allow", host), -EPERM;
	if (hook_allow_addr_special(ip, &what))
		return say(why, whylen, "webhook address %s is %s: not "
		    "allowed (see --webhook-allow)", host, what), -EPERM;
	return 0;
}

static int
check_host(const struct hook_allow *a, const char *host, bool *named,
    char *why, size_t whylen)
{
	char		 name[256], inner[64];
	uint8_t		 ip[16];
	size_t		 len = strlen(host);
	int		 m;

	if (host[0] == '[') {	/* CURLU keeps an IPv6 host's brackets */
		if (len < 3 || len - 2 >= sizeof(inner) || host[len - 1] != ']')
			goto bad;
		memcpy(inner, host + 1, len - 2);
		inner[len - 2] = '\0';
		if (inet_pton(AF_INET6, inner, ip) != 1)
			goto bad;
		return check_ip(a, host, ip, why, whylen);
	}
	if (addr_parse(host, ip))
		return check_ip(a, host, ip, why, whylen);
	if (len > NAME_MAX_LEN + 1)
		goto bad;
	name_fold(host, name);
	if (!name_ok(name))
		goto bad;
	if (a->n == 0)
		return 0;
	if ((m = name_match(a, name)) == 0)
		return say(why, whylen, "webhook host %s is not in "
		    "--webhook-allow", name), -EPERM;
	*named = m == 2;
	return 0;
bad:
	say(why, whylen, "webhook URL has a bad host (an ASCII host name or an "
	    "IP address is needed)");
	return -EINVAL;
}

int
hook_allow_target(const struct hook_allow *a, const char *url, bool *named,
    char *why, size_t whylen)
{
	CURLU	*u = NULL;
	char	*scheme = NULL, *host = NULL, *zone = NULL;
	bool	 dummy;
	int	 rc = -EINVAL;

	if (named == NULL)
		named = &dummy;
	*named = false;
	say(why, whylen, "webhook URL is no http:// or https:// URL with a host");
	if (url == NULL || strlen(url) > URL_MAX)
		goto out;
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			goto out;
	if ((u = curl_url()) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) !=
	    CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		goto out;
	if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
		say(why, whylen, "webhook URL scheme %.16s is not allowed: "
		    "http or https only", scheme);
		rc = -EPERM;
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    host[0] == '\0')
		goto out;
	if (curl_url_get(u, CURLUPART_ZONEID, &zone, 0) == CURLUE_OK) {
		say(why, whylen, "webhook URL has a zone id: not allowed");
		rc = -EPERM;
		goto out;
	}
	rc = check_host(a, host, named, why, whylen);
	if (rc == 0)
		say(why, whylen, "ok");
out:
	curl_free(zone);
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

int
hook_allow_url(const struct hook_allow *a, const char *url, char *why,
    size_t whylen)
{
	return hook_allow_target(a, url, NULL, why, whylen);
}

/* sa's address as 16 bytes; 0, or -EAFNOSUPPORT. */
static int
sockaddr_bytes(const struct sockaddr *sa, uint8_t out[16])
{
	if (sa->sa_family == AF_INET) {
		memcpy(out, mapped_prefix, 12);
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return 0;
	}
	return -EAFNOSUPPORT;
}

int
hook_allow_addr(const struct hook_allow *a, const struct sockaddr *sa,
    bool named, char *why, size_t whylen)
{
	uint8_t		 ip[16];
	char		 text[INET6_ADDRSTRLEN];
	const char	*what;

	if (sockaddr_bytes(sa, ip) != 0)
		return say(why, whylen, "address family %d: not allowed",
		    sa->sa_family), -EPERM;
	if (net_holds(a, ip) || named || !hook_allow_addr_special(ip, &what))
		return 0;
	hook_allow_addr_text(sa, text, sizeof(text));
	say(why, whylen, "address %s is %s: not allowed (see --webhook-allow)",
	    text, what);
	return -EPERM;
}

void
hook_allow_addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	const void	*p = NULL;

	if (sa->sa_family == AF_INET)
		p = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		p = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (p == NULL || inet_ntop(sa->sa_family, p, buf, (socklen_t)len) ==
	    NULL)
		snprintf(buf, len, "(family %d)", sa->sa_family);
}
