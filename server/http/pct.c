/* Percent-encoding: one escape's byte. */
#include "http/pct.h"

static int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

int
pct_byte(const char *s)
{
	int hi, lo;

	if (s[0] != '%' || (hi = hex_digit((unsigned char)s[1])) < 0 ||
	    (lo = hex_digit((unsigned char)s[2])) < 0)
		return -1;
	return hi << 4 | lo;
}
