/*
 * The signature of a webhook, as Stripe signs its events: HMAC-SHA-256,
 * under the secret configured on the server, of "<timestamp>.<body>", the
 * timestamp in decimal Unix seconds and the body byte for byte.  A receiver
 * recomputes it from the X-Runnel-Timestamp header and the raw body,
 * compares in constant time, and refuses timestamps too far from its clock
 * (replays).  The headers a delivery carries:
 *
 *	Content-Type: application/json
 *	User-Agent: runnel-webhook/1
 *	X-Runnel-Delivery: <delivery id, the same on every retry: de-duplicate>
 *	X-Runnel-Event: <event, e.g. job.failed>
 *	X-Runnel-Timestamp: <unix seconds of this attempt>
 *	X-Runnel-Signature: sha256=<64 lowercase hex digits>
 *
 * With no secret configured there is no X-Runnel-Signature header at all
 * (not an empty one): the receiver cannot tell a delivery from a forgery.
 */
#ifndef RUNNEL_HOOK_SIGN_H
#define RUNNEL_HOOK_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define HOOK_SIGN_HEX_LEN	64	/* digits, without the terminating NUL */

/*
 * Writes the lowercase hex HMAC-SHA-256 of "<timestamp_sec>.<body>" under
 * secret into out_hex (HOOK_SIGN_HEX_LEN + 1 bytes, NUL-terminated).
 * secret_len must be at least 1; body may be NULL when len is 0.  Returns 0,
 * -EINVAL (no secret, negative timestamp), or -EIO if OpenSSL fails (logged).
 */
int	hook_sign(const void *secret, size_t secret_len, int64_t timestamp_sec,
	    const void *body, size_t len, char out_hex[HOOK_SIGN_HEX_LEN + 1]);

#endif
