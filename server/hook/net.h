/*
 * Webhook POSTs on libcurl's multi interface, driven by the libuv loop: a
 * uv_poll_t per socket libcurl opens, one uv_timer_t for its timeouts, so
 * no call here waits on the network (names resolve on libcurl's resolver
 * thread).  Each POST is one attempt: no retries, no redirects followed,
 * no proxy, http and https only, and every socket's address is checked
 * against the policy (allow.h) before it connects.  Deciding when a
 * delivery is due, building its body, signing it (sign.h) and retrying
 * are the caller's:
 *
 *	hook_sign(secret, n, now_sec, body, len, hex);
 *	hooknet_post(net, url, body, len, &(struct hook_headers){
 *	    .delivery_id = id, .event = "job.failed",
 *	    .timestamp_sec = now_sec, .signature_hex = hex }, done, d);
 *	...
 *	done(d, status, error, resp, n): 2xx delivered; else schedule a retry
 */
#ifndef RUNNEL_HOOK_NET_H
#define RUNNEL_HOOK_NET_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct hook_allow;
struct hooknet;

#define HOOKNET_CONNECT_MS	5000	/* default connect timeout */
#define HOOKNET_TOTAL_MS	10000	/* default timeout of a whole POST */
#define HOOKNET_KEEP_BYTES	1024	/* default bytes of a response kept */
#define HOOKNET_BODY_MAX	(16u << 20)	/* larger bodies are refused */

struct hooknet_opts {
	int64_t	 connect_ms;	/* 0: HOOKNET_CONNECT_MS */
	int64_t	 total_ms;	/* 0: HOOKNET_TOTAL_MS */
	size_t	 keep_bytes;	/* 0: HOOKNET_KEEP_BYTES */
};

/* What a delivery says of itself (sign.h lists the headers). */
struct hook_headers {
	const char	*delivery_id;	/* X-Runnel-Delivery, required */
	const char	*event;		/* X-Runnel-Event, required */
	int64_t		 timestamp_sec;	/* X-Runnel-Timestamp, the signed one */
	const char	*signature_hex;	/* from hook_sign; NULL: no header */
};

/*
 * The end of one POST, called exactly once, from the loop (never from
 * within hooknet_post).  status is the HTTP status, or 0 if there was no
 * answer; error is NULL when an answer came (whatever its status), else a
 * short sentence ("timed out", "address 127.0.0.1 is loopback: not
 * allowed", "canceled", libcurl's words).  resp holds the first bytes of the
 * response body (at most keep_bytes, not NUL-terminated); all three are
 * valid during the call only.
 */
typedef void (*hooknet_done_cb)(void *arg, int status, const char *error,
    const char *resp, size_t resp_len);

/*
 * curl_global_init, once per process: call it at start-up before any
 * thread starts (hooknet_new calls it too, for tests).  Warns once when
 * libcurl resolves names synchronously (no AsynchDNS): then a slow DNS
 * server would hold the loop.  0 or -EIO.
 */
int	hooknet_global_init(void);

/*
 * A POST engine on loop.  allow is borrowed: it must outlive the engine,
 * unchanged.  opts may be NULL (the defaults).  0, -ENOMEM or -EIO.
 */
int	hooknet_new(uv_loop_t *loop, const struct hook_allow *allow,
	    const struct hooknet_opts *opts, struct hooknet **out);

/*
 * Starts one POST of body (len bytes, copied) to url with h's headers.
 * 0: cb will be called once with arg.  Otherwise cb is never called:
 * -EINVAL (no id or event, a header value with CR, LF or other control
 * bytes, a bad URL), -EMSGSIZE (body over HOOKNET_BODY_MAX), -EPERM (the policy refuses
 * the URL: hook_allow_url says why), -ESHUTDOWN (closing), -ENOMEM, -EIO.
 */
int	hooknet_post(struct hooknet *, const char *url, const char *body,
	    size_t len, const struct hook_headers *h, hooknet_done_cb cb,
	    void *arg);

/* POSTs started whose cb has not been called yet. */
size_t	hooknet_inflight(const struct hooknet *);

/*
 * Cancels every POST in flight (their cb gets status 0, error "canceled")
 * and closes the engine; its memory goes when the last of its libuv
 * handles has closed, so run the loop after.  May be called from a cb.
 * NULL is ignored.
 */
void	hooknet_free(struct hooknet *);

#endif
