/*
 * Fuzz target: arbitrary bytes as a multipart/form-data body with the
 * boundary "b0undary", fed in pieces whose sizes come from the first
 * byte.  The parser must never read or write out of bounds, and every
 * part it reports must be whole (begin, data, end in order).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct state {
	int	 open;
	size_t	 bytes;
	int	 parts;
};

static int
begin(void *arg, const char *name, const char *filename, const char *type)
{
	struct state *s = arg;

	if (s->open || name == NULL || name[0] == '\0')
		abort();
	s->open = 1;
	s->bytes += strlen(name) + (filename ? strlen(filename) : 0) +
	    (type ? strlen(type) : 0);
	return 0;
}

static int
part_data(void *arg, const char *p, size_t n)
{
	struct state *s = arg;

	if (!s->open || n == 0)
		abort();
	s->bytes += n + (unsigned char)p[n - 1];
	return 0;
}

static int
end(void *arg)
{
	struct state *s = arg;

	if (!s->open)
		abort();
	s->open = 0;
	s->parts++;
	return 0;
}

static const struct multipart_cb cb = {begin, part_data, end};

/* Keeps the results observable so the optimiser keeps the parser. */
volatile size_t fuzz_multipart_sink;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct multipart	 m;
	struct state		 s = {0};
	size_t			 step, off = 1;
	int			 rc = 0;

	if (size == 0)
		return 0;
	step = data[0] % 17 + 1;
	if (multipart_init(&m, "b0undary", &cb, &s) != 0)
		abort();
	while (off < size && rc == 0) {
		size_t n = size - off < step ? size - off : step;

		rc = multipart_feed(&m, (const char *)data + off, n);
		off += n;
	}
	if (rc == 0 && multipart_finish(&m) == 0 && s.open)
		abort();	/* finished cleanly with a part still open */
	multipart_close(&m);
	fuzz_multipart_sink += s.bytes + (size_t)s.parts;
	return 0;
}
