/* Idempotency-Key checks and request digests (the records: the store). */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "api/idem.h"
#include "http/reply.h"
#include "http/request.h"

int
idem_key_check(struct request *req)
{
	const char	*k = req->idempotency_key;
	size_t		 n;

	if (k == NULL)
		return 1;
	n = strlen(k);
	for (size_t i = 0; i < n && n <= 200; i++)
		if (k[i] < 0x21 || k[i] > 0x7e)
			n = 0;
	if (n >= 1 && n <= 200)
		return 1;
	reply_fail(req, 400, "invalid_field", "Idempotency-Key",
	    "Idempotency-Key must be 1 to 200 printable ASCII characters");
	return 0;
}

void
idem_sha(const void *p, size_t n, char out[65])
{
	unsigned char	 md[32];
	unsigned int	 len = 0;

	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	idem_hex(md, out);
}

void
idem_hex(const unsigned char md[32], char out[65])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[64] = '\0';
}
