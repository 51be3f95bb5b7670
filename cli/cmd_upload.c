/*
 * runnel upload: a local file as an upload job.  The file is read twice,
 * never held: once for its SHA-256, which goes with it so that the server
 * checks what it stored, then streamed as the multipart body's file part
 * (POST /api/v1/uploads).  A progress bar goes to a terminal's stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "spec.h"
#include "submit.h"
#include "term.h"

#define HASH_CHUNK	(1u << 20)

enum { OPT_AS = 0x300, OPT_NO_PROGRESS };

struct progress {
	int		 on;
	const char	*what;
	int64_t		 last_ms;
	int64_t		 t0_ms;
};

static void
progress_draw(struct progress *p, uint64_t done, uint64_t total, int last)
{
	int64_t	now = term_now_ms();
	double	frac = total ? (double)done / (double)total : 1;
	double	secs = (double)(now - p->t0_ms) / 1000;
	char	bar[31];
	int	fill = (int)(frac * 30);

	if (!p->on || (!last && now - p->last_ms < 100))
		return;
	p->last_ms = now;
	for (int i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	fprintf(stderr, "\r%-9s [%s] %3d%%  %.1f/%.1f MiB  %.1f MiB/s ", p->what,
	    bar, (int)(frac * 100), done / 1048576.0, total / 1048576.0,
	    secs > 0 ? done / 1048576.0 / secs : 0.0);
	if (last)
		fputc('\n', stderr);
}

/* The hex SHA-256 of fd's bytes, read from the start. */
static int
file_sha256(int fd, uint64_t size, struct progress *p, char hex[65])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	EVP_MD_CTX	*ctx = EVP_MD_CTX_new();
	char		*buf = malloc(HASH_CHUNK);
	uint64_t	 done = 0;
	ssize_t		 n;
	int		 rc = EXIT_FAIL;

	if (ctx == NULL || buf == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	p->what = "checksum";
	p->t0_ms = term_now_ms();
	while ((n = read(fd, buf, HASH_CHUNK)) != 0) {
		if (n < 0 && errno == EINTR && !term_interrupted())
			continue;
		if (n < 0 || term_interrupted()) {
			rc = term_interrupted() ? 128 + term_interrupted() :
			    EXIT_FAIL;
			if (n < 0 && !term_interrupted())
				cli_warnx("reading: %s", strerror(errno));
			goto out;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		done += (uint64_t)n;
		progress_draw(p, done, size, 0);
	}
	progress_draw(p, done, size, 1);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	for (unsigned int i = 0; i < mdlen; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	if (done != size) {
		cli_warnx("the file changed size while it was read");
		goto out;
	}
	rc = 0;
out:
	free(buf);
	EVP_MD_CTX_free(ctx);
	return rc;
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct progress *p = arg;

	if (term_interrupted())
		return 1;	/* aborts: the server keeps nothing */
	if (ultotal > 0)
		progress_draw(p, (uint64_t)ulnow, (uint64_t)ultotal, 0);
	return 0;
}

/* The multipart form: job (when there is a spec), sha256, file. */
static curl_mime *
form_new(CURL *h, struct spec *s, const char *path, const char *name,
    const char *hex)
{
	curl_mime	*mime = curl_mime_init(h);
	curl_mimepart	*part;
	char		*spec = NULL;

	if (mime == NULL)
		return NULL;
	if (cJSON_GetArraySize(s->json) > 0) {
		if ((spec = cJSON_PrintUnformatted(s->json)) == NULL ||
		    (part = curl_mime_addpart(mime)) == NULL)
			goto fail;
		curl_mime_name(part, "job");
		curl_mime_type(part, "application/json");
		curl_mime_data(part, spec, CURL_ZERO_TERMINATED);
		cJSON_free(spec);
		spec = NULL;
	}
	if ((part = curl_mime_addpart(mime)) == NULL)
		goto fail;
	curl_mime_name(part, "sha256");
	curl_mime_data(part, hex, CURL_ZERO_TERMINATED);
	if ((part = curl_mime_addpart(mime)) == NULL ||
	    curl_mime_name(part, "file") != CURLE_OK ||
	    curl_mime_filedata(part, path) != CURLE_OK ||
	    curl_mime_filename(part, name) != CURLE_OK)
		goto fail;
	curl_mime_type(part, "application/octet-stream");
	return mime;
fail:
	cJSON_free(spec);
	curl_mime_free(mime);
	return NULL;
}

static size_t
on_answer(char *data, size_t size, size_t n, void *arg)
{
	struct reply	*r = arg;
	size_t		 len = size * n;
	char		*p;

	if (r->len + len > (1u << 20) ||
	    (p = realloc(r->body, r->len + len + 1)) == NULL)
		return 0;
	memcpy(p + r->len, data, len);
	r->body = p;
	r->len += len;
	p[r->len] = '\0';
	return len;
}

/* Sends the form; 0 with the answer in *r, or an exit status. */
static int
upload_send(struct cli *cli, struct spec *s, const char *path,
    const char *name, const char *hex, struct progress *p, struct reply *r)
{
	struct curl_slist	*hdrs = NULL;
	curl_mime		*mime = NULL;
	char			 url[4096], line[300];
	CURL			*h = cli->client.curl;
	CURLcode		 cc;
	int			 rc = EXIT_FAIL;

	memset(r, 0, sizeof(*r));
	curl_easy_reset(h);
	client_setup(&cli->client, h);
	for (struct curl_slist *l = cli->client.headers; l; l = l->next)
		hdrs = curl_slist_append(hdrs, l->data);
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (s->idem_key != NULL) {
		snprintf(line, sizeof(line), "Idempotency-Key: %s", s->idem_key);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (hdrs == NULL || client_url(&cli->client, "/api/v1/uploads", url,
	    sizeof(url)) < 0 || (mime = form_new(h, s, path, name, hex)) == NULL)
		goto out;
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, p);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cli->client.err);
	cli->client.err[0] = '\0';
	p->what = "upload";
	p->t0_ms = term_now_ms();
	cc = curl_easy_perform(h);
	if (cc == CURLE_ABORTED_BY_CALLBACK) {
		rc = 128 + term_interrupted();
		goto out;
	}
	if (cc != CURLE_OK) {
		cli_warnx("upload to %s: %s", cli->client.url,
		    cli->client.err[0] ? cli->client.err : curl_easy_strerror(cc));
		rc = EXIT_UNREACHABLE;
		goto out;
	}
	{
		curl_off_t sent = 0;

		curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &sent);
		progress_draw(p, (uint64_t)sent, (uint64_t)sent, 1);
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->body != NULL)
		r->json = cJSON_ParseWithLength(r->body, r->len);
	rc = 0;
out:
	curl_mime_free(mime);
	curl_slist_free_all(hdrs);
	if (rc != 0) {
		free(r->body);
		memset(r, 0, sizeof(*r));
	}
	return rc;
}

static int
upload_file(struct cli *cli, struct spec *s, const char *path,
    const char *name, struct progress *p)
{
	struct reply	 r;
	struct stat	 st;
	char		 hex[65];
	char		*text;
	int		 fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0 ||
	    !S_ISREG(st.st_mode)) {
		cli_warnx("%s: %s", path, fd < 0 ? strerror(errno) :
		    "not a regular file");
		if (fd >= 0)
			close(fd);
		return EXIT_USAGE;
	}
	rc = file_sha256(fd, (uint64_t)st.st_size, p, hex);
	close(fd);
	if (rc != 0 || (rc = cli_connect(cli)) != 0 ||
	    (rc = upload_send(cli, s, path, name, hex, p, &r)) != 0)
		return rc;
	if (r.status != 200 && r.status != 201)
		rc = client_fail(&r, "upload");
	else if (cli->json) {
		if ((text = cJSON_PrintUnformatted(r.json)) != NULL)
			printf("%s\n", text);
		cJSON_free(text);
	} else
		printf("%lld\n", job_int(r.json, "id"));
	reply_clear(&r);
	return rc;
}

int
cmd_upload(struct cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{"url", required_argument, NULL, CLI_OPT_URL},
		{"json", no_argument, NULL, CLI_OPT_JSON},
		{"as", required_argument, NULL, OPT_AS},
		{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
		{NULL, 0, NULL, 0},
	};
	struct option	 opts[SPEC_OPTIONS + 6];
	struct progress	 p = {.on = isatty(2)};
	struct spec	 s;
	const char	*file = NULL, *name = NULL;
	int		 c, rc;

	if (spec_init(&s) < 0)
		return EXIT_FAIL;
	spec_options_with(own, opts, sizeof(opts) / sizeof(opts[0]));
	optind = 1;
	/* FILE may come before, among or after the options, not after -- */
	for (;;) {
		c = getopt_long(argc, argv, "+" SPEC_SHORT, opts, NULL);
		if (c == -1) {
			if (file != NULL || optind >= argc ||
			    strcmp(argv[optind - 1], "--") == 0)
				break;
			file = argv[optind++];
			continue;
		}
		if (c == CLI_OPT_URL)
			cli->url_flag = optarg;
		else if (c == CLI_OPT_JSON)
			cli->json = 1;
		else if (c == OPT_AS)
			name = optarg;
		else if (c == OPT_NO_PROGRESS)
			p.on = 0;
		else if ((rc = spec_option(&s, c, optarg, "upload")) != 0) {
			if (rc == 1)
				rc = cli_usage("upload", NULL);
			goto out;
		}
	}
	rc = EXIT_USAGE;
	if (file == NULL) {
		cli_usage("upload", "which file? runnel upload FILE");
		goto out;
	}
	if (optind < argc &&
	    (rc = spec_command(&s, argc - optind, argv + optind, "upload")) != 0)
		goto out;
	if (name == NULL)
		name = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	rc = upload_file(cli, &s, file, name, &p);
out:
	spec_clear(&s);
	return rc;
}
