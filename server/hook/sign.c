/*
 * The HMAC-SHA-256 of a webhook's body (sign.h has the scheme), through
 * EVP_DigestSign with an HMAC key: one pass over timestamp, dot and body
 * without copying the body, on OpenSSL 1.1 and 3 alike.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <openssl/evp.h>

#include "log.h"
#include "hook/sign.h"

int
hook_sign(const void *secret, size_t secret_len, int64_t timestamp_sec,
    const void *body, size_t len, char out_hex[HOOK_SIGN_HEX_LEN + 1])
{
	static const char	 hex[] = "0123456789abcdef";
	EVP_PKEY		*key = NULL;
	EVP_MD_CTX		*md = NULL;
	unsigned char		 mac[32];
	size_t			 maclen = sizeof(mac);
	char			 ts[32];
	int			 n, rc = -EIO;

	out_hex[0] = '\0';
	if (secret == NULL || secret_len == 0 || timestamp_sec < 0 ||
	    (body == NULL && len > 0))
		return -EINVAL;
	n = snprintf(ts, sizeof(ts), "%" PRId64 ".", timestamp_sec);
	if ((key = EVP_PKEY_new_raw_private_key(EVP_PKEY_HMAC, NULL,
	    secret, secret_len)) == NULL || (md = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSignUpdate(md, ts, (size_t)n) != 1 ||
	    (len > 0 && EVP_DigestSignUpdate(md, body, len) != 1) ||
	    EVP_DigestSignFinal(md, mac, &maclen) != 1 || maclen != sizeof(mac))
		goto out;
	for (size_t i = 0; i < sizeof(mac); i++) {
		out_hex[2 * i] = hex[mac[i] >> 4];
		out_hex[2 * i + 1] = hex[mac[i] & 15];
	}
	out_hex[HOOK_SIGN_HEX_LEN] = '\0';
	rc = 0;
out:
	if (rc != 0)
		log_error("hook: HMAC-SHA-256 failed in OpenSSL");
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	return rc;
}
