/*
 * Which webhook targets runneld may reach, so that whoever submits a job
 * cannot use runneld to reach internal services.  Three checks:
 *
 * - the URL's scheme is http or https;
 * - with an allow-list (--webhook-allow), the URL's host matches an entry:
 *   a host name matches a name entry (exact, case-insensitive, one trailing
 *   dot ignored) or a "*.domain" entry (any name ending in ".domain", not
 *   "domain" itself); a literal IP address matches an IP or CIDR entry;
 * - whatever the list, the address actually connected to (after DNS, at
 *   connect time: a name that resolves elsewhere later gains nothing) is
 *   refused when it is loopback, private, link-local, unspecified,
 *   multicast, reserved, CGNAT or an IPv6 form embedding such an IPv4
 *   address (hook_allow_addr_special has the table), unless an IP or CIDR
 *   entry holds it or the URL's host matched an exact host-name entry.  A
 *   "*.domain" entry never lets a name reach such an address: anyone who
 *   controls a name under the domain could point it inward.
 *
 * Entries: "hooks.example.com", "*.example.com", "203.0.113.7",
 * "10.1.0.0/16", "2001:db8::/32", "[fd00::1]".  Without a list every public
 * address may be reached and no special one.
 */
#ifndef RUNNEL_HOOK_ALLOW_H
#define RUNNEL_HOOK_ALLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

enum hook_allow_kind {
	HOOK_ALLOW_NAME,	/* exact host name */
	HOOK_ALLOW_SUFFIX,	/* "*.domain": name holds ".domain" */
	HOOK_ALLOW_NET		/* IP address or CIDR */
};

struct hook_allow_entry {
	enum hook_allow_kind	 kind;
	char			 name[256];	/* lowercase, no trailing dot */
	uint8_t			 addr[16];	/* IPv4 as ::ffff:a.b.c.d */
	unsigned		 prefix;	/* bits of addr that count */
};

struct hook_allow {
	struct hook_allow_entry	*v;
	size_t			 n, cap;
};

/* An empty list (everything public allowed). _clear frees what _add kept. */
void	hook_allow_init(struct hook_allow *);
void	hook_allow_clear(struct hook_allow *);

/*
 * Adds the entries of one --webhook-allow value: comma-separated, blanks
 * around an entry ignored.  All or nothing: on -EINVAL the list is as it
 * was and why says which entry is wrong and how.  -ENOMEM too.
 */
int	hook_allow_add(struct hook_allow *, const char *value, char *why,
	    size_t whylen);

/*
 * The check of a URL at submit time, without DNS: syntax, scheme, the list,
 * and a literal IP address's kind.  0 if it may be tried, -EINVAL if it is
 * no http(s) URL with a host, -EPERM if the policy refuses it; why (may be
 * NULL) gets a sentence for the submitter.  A 0 here can still be refused
 * at connect time, for the address the name leads to.
 */
int	hook_allow_url(const struct hook_allow *, const char *url, char *why,
	    size_t whylen);

/*
 * hook_allow_url, also telling in *named whether the host matched an exact
 * host-name entry (then every address it resolves to is allowed).
 */
int	hook_allow_target(const struct hook_allow *, const char *url,
	    bool *named, char *why, size_t whylen);

/*
 * The check at connect time: 0 if the address may be connected to, -EPERM
 * if not, why (may be NULL) saying so ("address 127.0.0.1 is loopback: not
 * allowed ..."); named is what hook_allow_target said of the URL's host.
 * Only AF_INET and AF_INET6 can be allowed.
 */
int	hook_allow_addr(const struct hook_allow *, const struct sockaddr *,
	    bool named, char *why, size_t whylen);

/*
 * 1 if the address (16 bytes, IPv4 mapped as ::ffff:a.b.c.d) is of a kind
 * refused unless allowed, with *what naming the kind ("loopback", ...);
 * 0 if public.
 */
int	hook_allow_addr_special(const uint8_t addr[16], const char **what);

/* The address in text, without brackets, into buf (at least 46 bytes). */
void	hook_allow_addr_text(const struct sockaddr *, char *buf, size_t len);

#endif
