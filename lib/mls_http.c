/*
 * mls_http.c - libcurl transfers for the store: one curl_multi handle per
 * client (its connection cache makes reuse work across calls), a share
 * handle for TLS sessions and DNS, a pool of easy handles reused with
 * curl_easy_reset().  Every transfer, single or many, goes through
 * mls_http_run(); retries are scheduled in its loop, so a transfer that
 * waits for its backoff never holds up the others.
 *
 * Downloads to a file go to a temporary file next to it (mls_tempfile.h)
 * that is renamed over the destination only once it is complete and, when
 * a digest is known, verified.  After a drop the next attempt asks for the
 * rest with "Range: bytes=N-" (and If-Range with the ETag when there was
 * one); a server that answers 200 instead makes the file start again.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "mls_alloc.h"
#include "mls_buf.h"
#include "mls_digest.h"
#include "mls_error.h"
#include "mls_http.h"
#include "mls_log.h"
#include "mls_tempfile.h"
#include "mls_time.h"

#define BACKOFF_CAP_MS	8000L
#define DEFAULT_MAX	(16UL << 20)

struct mls_http {
	char		*name;
	char		*ca_file;
	char		*token_file;
	struct curl_slist *auth;	/* "Authorization: Bearer ..." */
	CURLM		*multi;
	CURLSH		*share;
	CURL		**pool;
	size_t		 npool, cappool;
	int		 retries;
	long		 backoff_ms, connect_timeout_s, stall_s;
	int		 trace;
	unsigned long long rnd;
	pid_t		 pid;		/* the process that made the handles */
};

/* Per-transfer state while a run lasts. */
struct slot {
	struct mls_http_xfer *x;
	struct mls_http	*h;
	CURL		*e;
	struct curl_slist *hdrs;
	int		 active, done;
	double		 not_before;	/* monotonic seconds */
	/* GET */
	struct mls_tempfile tf;		/* the file being downloaded */
	size_t		 buf_start;	/* out->len when the transfer started */
	long long	 off;		/* body bytes kept so far */
	int		 range_asked, first_byte;
	char		 etag[128];
	/* PUT */
	int		 in_fd;
	long long	 in_size, in_pos;
	struct mls_digest dg;
	int		 dg_on;
	/* progress */
	long long	 now, total;
	/* an error found by a callback */
	int		 cb_rc;
	char		 cb_msg[256];
	char		 errbuf[CURL_ERROR_SIZE];
};

static int curl_inited;

static long
env_long(const char *name, long def, long min, long max)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return def;
	return n;
}

int
mls_http_read_token(const char *path, char **out)
{
	struct mls_buf b = MLS_BUF_INIT;
	struct stat sb;
	char buf[4096];
	ssize_t n;
	size_t i;
	int fd = -1, rc;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return mls_error_set_errno(MLS_EAUTH, "token file '%s'", path);
	if (fstat(fd, &sb) == -1) {
		rc = mls_error_set_errno(MLS_EAUTH, "token file '%s'", path);
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = mls_error_set(MLS_EAUTH, "token file '%s': not a regular "
		    "file", path);
		goto out;
	}
	if ((sb.st_mode & 077) != 0) {
		rc = mls_error_set(MLS_EAUTH, "token file '%s': readable by "
		    "group or others (mode %03o); run 'chmod 600 %s'", path,
		    (unsigned)(sb.st_mode & 0777), path);
		goto out;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = mls_error_set_errno(MLS_EAUTH, "token file '%s'",
			    path);
			goto out;
		}
		if (b.len + (size_t)n > 65536) {
			rc = mls_error_set(MLS_EAUTH, "token file '%s': larger "
			    "than 64 KiB", path);
			goto out;
		}
		mls_buf_add(&b, buf, (size_t)n);
	}
	if ((rc = mls_buf_error(&b)) < 0)
		goto out;
	while (b.len > 0 && (b.buf[b.len - 1] == '\n' ||
	    b.buf[b.len - 1] == '\r' || b.buf[b.len - 1] == ' ' ||
	    b.buf[b.len - 1] == '\t'))
		b.buf[--b.len] = '\0';
	if (b.len == 0) {
		rc = mls_error_set(MLS_EAUTH, "token file '%s': empty", path);
		goto out;
	}
	for (i = 0; i < b.len; i++) {
		if ((unsigned char)b.buf[i] < 0x21 ||
		    (unsigned char)b.buf[i] > 0x7e) {
			rc = mls_error_set(MLS_EAUTH, "token file '%s': the "
			    "token has a space or a control character", path);
			goto out;
		}
	}
	*out = mls_buf_detach(&b);
	rc = *out != NULL ? 0 : mls_error_set(MLS_ENOMEM, "out of memory");
out:
	if (b.cap > 0)
		explicit_bzero(b.buf, b.cap);
	mls_buf_release(&b);
	explicit_bzero(buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	return rc;
}

char *
mls_http_url_host(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL, *r = NULL;

	if (u == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		r = strdup(host);
	curl_free(host);
	curl_url_cleanup(u);
	return r;
}

static unsigned long long
rnd_next(struct mls_http *h)
{
	/* xorshift64*: jitter only, not security */
	h->rnd ^= h->rnd >> 12;
	h->rnd ^= h->rnd << 25;
	h->rnd ^= h->rnd >> 27;
	return h->rnd * 2685821657736338717ULL;
}

long
mls_http_backoff_ms(const struct mls_http *hc, int attempt)
{
	struct mls_http *h = (struct mls_http *)hc;
	long d = h->backoff_ms;
	int i;

	for (i = 1; i < attempt && d < BACKOFF_CAP_MS; i++)
		d *= 2;
	if (d > BACKOFF_CAP_MS)
		d = BACKOFF_CAP_MS;
	/* "equal jitter": half fixed, half random */
	return d / 2 + (long)(rnd_next(h) % (unsigned long long)(d / 2 + 1));
}

int
mls_http_new(struct mls_http **out, const struct mls_http_opts *o)
{
	struct mls_buf hdr = MLS_BUF_INIT;
	struct mls_http *h = NULL;
	char *tok = NULL;
	int rc;

	*out = NULL;
	if (!curl_inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return mls_error_set(MLS_ERR, "libcurl: cannot initialise");
		curl_inited = 1;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	h->name = strdup(o->name != NULL ? o->name : "");
	if (h->name == NULL || (o->ca_file != NULL &&
	    (h->ca_file = strdup(o->ca_file)) == NULL) ||
	    (o->token_file != NULL &&
	    (h->token_file = strdup(o->token_file)) == NULL)) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	h->retries = o->retries >= 0 ? o->retries :
	    (int)env_long("MLS_HTTP_RETRIES", 5, 0, 100);
	h->backoff_ms = o->backoff_ms > 0 ? o->backoff_ms :
	    env_long("MLS_HTTP_BACKOFF_MS", 250, 1, 60000);
	h->connect_timeout_s = o->connect_timeout_s > 0 ? o->connect_timeout_s :
	    env_long("MLS_HTTP_CONNECT_TIMEOUT", 10, 1, 3600);
	h->stall_s = o->stall_s > 0 ? o->stall_s :
	    env_long("MLS_HTTP_STALL_S", 30, 1, 86400);
	h->trace = env_long("MLS_HTTP_TRACE", 0, 0, 1) == 1;
	h->rnd = ((unsigned long long)time(NULL) << 20) ^
	    (unsigned long long)getpid() ^ (unsigned long long)(size_t)h;
	if (h->rnd == 0)
		h->rnd = 88172645463325252ULL;
	if (o->token_file != NULL) {
		if ((rc = mls_http_read_token(o->token_file, &tok)) < 0) {
			mls_error_prefix("store '%s'", h->name);
			goto out;
		}
		mls_buf_addf(&hdr, "Authorization: Bearer %s", tok);
		if ((rc = mls_buf_error(&hdr)) < 0)
			goto out;
		if ((h->auth = curl_slist_append(NULL, hdr.buf)) == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
	}
	if ((h->multi = curl_multi_init()) == NULL ||
	    (h->share = curl_share_init()) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 64L);
	h->pid = getpid();
	*out = h;
	h = NULL;
	rc = 0;
out:
	if (tok != NULL) {
		explicit_bzero(tok, strlen(tok));
		free(tok);
	}
	if (hdr.cap > 0)
		explicit_bzero(hdr.buf, hdr.cap);
	mls_buf_release(&hdr);
	mls_http_free(h);
	return rc;
}

void
mls_http_free(struct mls_http *h)
{
	struct curl_slist *s;
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->npool; i++)
		curl_easy_cleanup(h->pool[i]);
	free(h->pool);
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	if (h->share != NULL)
		curl_share_cleanup(h->share);
	for (s = h->auth; s != NULL; s = s->next)
		explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(h->auth);
	free(h->name);
	free(h->ca_file);
	free(h->token_file);
	free(h);
}

void
mls_http_xfer_release(struct mls_http_xfer *x, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(x[i].error);
		x[i].error = NULL;
	}
}

/* ---- callbacks ----------------------------------------------------------- */

static int
on_trace(CURL *e, curl_infotype type, char *data, size_t size, void *arg)
{
	size_t n = size;

	(void)e;
	(void)arg;
	if (type != CURLINFO_TEXT && type != CURLINFO_HEADER_IN &&
	    type != CURLINFO_HEADER_OUT)
		return 0;
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		n--;
	if (type == CURLINFO_HEADER_OUT) {
		/* one block with all request headers: print the request line */
		const char *nl = memchr(data, '\r', n);
		mls_debug("http> %.*s%s", (int)(nl ? (size_t)(nl - data) : n),
		    data, nl ? " [headers, Authorization redacted]" : "");
		return 0;
	}
	if (n >= 14 && strncasecmp(data, "authorization:", 14) == 0)
		return 0;
	mls_debug("http%c %.*s", type == CURLINFO_TEXT ? '*' : '<', (int)n,
	    data);
	return 0;
}

static void
buf_truncate(struct mls_buf *b, size_t len)
{
	if (b->cap > 0 && len < b->len) {
		b->len = len;
		b->buf[len] = '\0';
	}
}

static int
cb_fail(struct slot *s, int code, const char *msg)
{
	s->cb_rc = code;
	snprintf(s->cb_msg, sizeof(s->cb_msg), "%s", msg);
	return 0;
}

static long
status_of(struct slot *s)
{
	long code = 0;

	curl_easy_getinfo(s->e, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static size_t
on_write(char *p, size_t sz, size_t nm, void *arg)
{
	struct slot *s = arg;
	struct mls_http_xfer *x = s->x;
	size_t n = sz * nm, max;
	long code = status_of(s);

	if (code < 200 || code >= 300)
		return n;		/* an error page is not the object */
	if (!s->first_byte) {
		s->first_byte = 1;
		if (s->off > 0 && code != 206) {
			/* no range support, or the object changed: restart */
			mls_debug("http: '%s': server sent the whole object; "
			    "starting again", x->url);
			s->off = 0;
			if (s->tf.fd >= 0 && (ftruncate(s->tf.fd, 0) == -1 ||
			    lseek(s->tf.fd, 0, SEEK_SET) == -1)) {
				cb_fail(s, MLS_EIO, strerror(errno));
				return 0;
			}
			if (s->tf.fd < 0 && x->out != NULL)
				buf_truncate(x->out, s->buf_start);
		}
	}
	if (s->tf.fd >= 0) {
		if (write_all(s->tf.fd, p, n) == -1) {
			char m[200];
			snprintf(m, sizeof(m), "write '%s': %s", s->tf.path,
			    strerror(errno));
			cb_fail(s, MLS_EIO, m);
			return 0;
		}
	} else if (x->out != NULL) {
		max = x->max ? x->max : DEFAULT_MAX;
		if ((size_t)s->off + n > max) {
			char m[200];
			snprintf(m, sizeof(m), "larger than %zu bytes", max);
			cb_fail(s, MLS_EINPUT, m);
			return 0;
		}
		mls_buf_add(x->out, p, n);
		if (mls_buf_error(x->out) < 0) {
			cb_fail(s, MLS_ENOMEM, "out of memory");
			return 0;
		}
	}
	s->off += (long long)n;
	return n;
}

static size_t
on_header(char *p, size_t sz, size_t nm, void *arg)
{
	struct slot *s = arg;
	size_t n = sz * nm, i, j;
	long code;

	if (n > 5 && strncasecmp(p, "etag:", 5) == 0) {
		code = status_of(s);
		if (code == 200 || code == 206) {
			for (i = 5; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
				;
			for (j = n; j > i && (p[j - 1] == '\r' ||
			    p[j - 1] == '\n' || p[j - 1] == ' '); j--)
				;
			if (j - i < sizeof(s->etag) && p[i] == '"') {
				memcpy(s->etag, p + i, j - i);
				s->etag[j - i] = '\0';
			}
		}
	}
	return n;
}

static size_t
on_read(char *p, size_t sz, size_t nm, void *arg)
{
	struct slot *s = arg;
	struct mls_http_xfer *x = s->x;
	size_t want = sz * nm;
	ssize_t n;

	if (s->in_fd >= 0) {
		do
			n = read(s->in_fd, p, want);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			char m[200];
			snprintf(m, sizeof(m), "read '%s': %s", x->path,
			    strerror(errno));
			cb_fail(s, MLS_EIO, m);
			return CURL_READFUNC_ABORT;
		}
	} else {
		n = (ssize_t)(x->len - (size_t)s->in_pos);
		if ((size_t)n > want)
			n = (ssize_t)want;
		memcpy(p, (const char *)x->data + s->in_pos, (size_t)n);
	}
	if (s->dg_on && n > 0)
		mls_digest_update(&s->dg, p, (size_t)n);
	s->in_pos += n;
	return (size_t)n;
}

/* Back to the start of the body (a retry, or curl rewinding). */
static int
rewind_input(struct slot *s)
{
	if (s->in_fd >= 0 && lseek(s->in_fd, 0, SEEK_SET) == -1)
		return -1;
	s->in_pos = 0;
	if (s->dg_on) {
		mls_digest_release(&s->dg);
		s->dg_on = 0;
	}
	if (s->x->sha256 != NULL) {
		if (mls_digest_init(&s->dg) < 0)
			return -1;
		s->dg_on = 1;
	}
	return 0;
}

static int
on_seek(void *arg, curl_off_t offset, int origin)
{
	struct slot *s = arg;

	if (offset != 0 || origin != SEEK_SET)
		return CURL_SEEKFUNC_CANTSEEK;
	return rewind_input(s) == 0 ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_FAIL;
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct slot *s = arg;

	if (s->x->method == MLS_HTTP_PUT) {
		s->now = ulnow;
		s->total = ultotal > 0 ? ultotal : s->in_size;
	} else if (s->x->method == MLS_HTTP_GET && status_of(s) / 100 == 2) {
		s->now = s->off;
		s->total = dltotal > 0 ? dltotal + (s->range_asked ?
		    s->off - dlnow : 0) : 0;
	}
	return 0;
}

/* ---- one attempt ----------------------------------------------------------- */

static CURL *
pool_get(struct mls_http *h)
{
	if (h->npool > 0)
		return h->pool[--h->npool];
	return curl_easy_init();
}

static void
pool_put(struct mls_http *h, CURL *e)
{
	if (MLS_GROW(h->pool, h->cappool, h->npool + 1) < 0) {
		curl_easy_cleanup(e);	/* a pool of fewer handles */
		return;
	}
	curl_easy_reset(e);
	h->pool[h->npool++] = e;
}


/* Set up s->e for the next attempt of s->x. */
static int
attempt_setup(struct slot *s)
{
	struct mls_http *h = s->h;
	struct mls_http_xfer *x = s->x;
	struct mls_buf b = MLS_BUF_INIT;
	struct curl_slist *l;
	struct stat sb;
	int rc;

	if ((s->e = pool_get(h)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	curl_slist_free_all(s->hdrs);
	s->hdrs = NULL;
	s->errbuf[0] = '\0';
	s->first_byte = 0;
	s->range_asked = 0;
	s->now = s->total = 0;
	curl_easy_setopt(s->e, CURLOPT_URL, x->url);
	curl_easy_setopt(s->e, CURLOPT_PRIVATE, s);
	curl_easy_setopt(s->e, CURLOPT_SHARE, h->share);
	curl_easy_setopt(s->e, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(s->e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(s->e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(s->e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(s->e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_file != NULL)
		curl_easy_setopt(s->e, CURLOPT_CAINFO, h->ca_file);
	curl_easy_setopt(s->e, CURLOPT_CONNECTTIMEOUT, h->connect_timeout_s);
	curl_easy_setopt(s->e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(s->e, CURLOPT_LOW_SPEED_TIME, h->stall_s);
	curl_easy_setopt(s->e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(s->e, CURLOPT_USERAGENT, "mls/" PACKAGE_VERSION);
	curl_easy_setopt(s->e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(s->e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(s->e, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(s->e, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(s->e, CURLOPT_XFERINFODATA, s);
	curl_easy_setopt(s->e, CURLOPT_NOPROGRESS, 0L);
	if (h->trace) {
		curl_easy_setopt(s->e, CURLOPT_DEBUGFUNCTION, on_trace);
		curl_easy_setopt(s->e, CURLOPT_VERBOSE, 1L);
	}
	for (l = h->auth; l != NULL; l = l->next)
		if ((s->hdrs = curl_slist_append(s->hdrs, l->data)) == NULL)
			goto nomem;
	switch (x->method) {
	case MLS_HTTP_HEAD:
		curl_easy_setopt(s->e, CURLOPT_NOBODY, 1L);
		break;
	case MLS_HTTP_DELETE:
		curl_easy_setopt(s->e, CURLOPT_CUSTOMREQUEST, "DELETE");
		curl_easy_setopt(s->e, CURLOPT_NOBODY, 1L);
		break;
	case MLS_HTTP_PUT:
		if (x->path != NULL && s->in_fd < 0) {
			if ((s->in_fd = open(x->path, O_RDONLY | O_CLOEXEC)) < 0)
				return mls_error_set_errno(errno == ENOENT ?
				    MLS_ENOTFOUND : MLS_EIO, "open '%s'", x->path);
			if (fstat(s->in_fd, &sb) == -1)
				return mls_error_set_errno(MLS_EIO, "stat '%s'",
				    x->path);
			s->in_size = (long long)sb.st_size;
		} else if (x->path == NULL) {
			s->in_size = (long long)x->len;
		}
		if (rewind_input(s) < 0)
			return mls_error_set_errno(MLS_EIO, "rewind '%s'",
			    x->path ? x->path : x->url);
		curl_easy_setopt(s->e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(s->e, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
		curl_easy_setopt(s->e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(s->e, CURLOPT_READDATA, s);
		curl_easy_setopt(s->e, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(s->e, CURLOPT_SEEKDATA, s);
		curl_easy_setopt(s->e, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)s->in_size);
		break;
	default:	/* GET */
		if (x->path != NULL && s->tf.fd < 0 && (rc = mls_tempfile_open(&s->tf, x->path)) < 0)
			return rc;
		if (s->off > 0) {
			mls_buf_addf(&b, "%lld-", s->off);
			if (mls_buf_error(&b) < 0)
				goto nomem;
			curl_easy_setopt(s->e, CURLOPT_RANGE, b.buf);
			mls_buf_reset(&b);
			s->range_asked = 1;
			x->resumed++;
			if (s->etag[0] != '\0') {
				mls_buf_addf(&b, "If-Range: %s", s->etag);
				if (mls_buf_error(&b) < 0 || (s->hdrs =
				    curl_slist_append(s->hdrs, b.buf)) == NULL)
					goto nomem;
			}
			mls_debug("http: '%s': resuming at byte %lld", x->url,
			    s->off);
		}
		break;
	}
	if (s->hdrs != NULL)
		curl_easy_setopt(s->e, CURLOPT_HTTPHEADER, s->hdrs);
	mls_buf_release(&b);
	x->attempts++;
	return 0;
nomem:
	mls_buf_release(&b);
	return mls_error_set(MLS_ENOMEM, "out of memory");
}

static int
retryable_curl(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static int
tls_verify_error(CURLcode c)
{
	return c == CURLE_PEER_FAILED_VERIFICATION ||
	    c == CURLE_SSL_CACERT_BADFILE || c == CURLE_SSL_ISSUER_ERROR ||
	    c == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
}

/* Verify and publish a finished download; 0 or an error code. */
static int
finish_get(struct slot *s)
{
	struct mls_http_xfer *x = s->x;
	char hex[65];
	int rc;

	x->size = s->off;
	if (x->sha256 != NULL) {
		if (s->tf.fd >= 0)
			rc = mls_digest_file(s->tf.path, hex, NULL);
		else
			rc = mls_digest_buf(x->out->buf + s->buf_start,
			    x->out->len - s->buf_start, hex);
		if (rc < 0)
			return rc;
		if (strcmp(hex, x->sha256) != 0)
			return mls_error_set(MLS_EPROTO, "'%s': digest sha256:%s "
			    "does not match the expected sha256:%s", x->url,
			    hex, x->sha256);
	}
	if (s->tf.fd >= 0) {
		if ((rc = mls_tempfile_commit(&s->tf, x->path, 0644, 0)) < 0)
			return rc;
	}
	return 0;
}

/*
 * Judge a finished attempt: 0 done, 1 retry, or an error code (final).
 * The message is set in every case but 0.
 */
static int
judge(struct slot *s, CURLcode res)
{
	struct mls_http *h = s->h;
	struct mls_http_xfer *x = s->x;
	const char *why = s->errbuf[0] ? s->errbuf : curl_easy_strerror(res);
	char hex[65], *host;
	long code;
	int rc;

	if (s->cb_rc < 0) {
		rc = mls_error_set(s->cb_rc, "'%s': %s", x->url, s->cb_msg);
		s->cb_rc = 0;
		return rc;
	}
	if (res != CURLE_OK) {
		if (tls_verify_error(res)) {
			host = mls_http_url_host(x->url);
			rc = mls_error_set(MLS_ECONFIG, "store '%s': the TLS "
			    "certificate of host '%s' does not verify against %s%s%s "
			    "(set ca_file in [store] or MLS_STORE_CA_FILE): %s",
			    h->name, host ? host : "?", h->ca_file ?
			    "CA file '" : "the system CA certificates",
			    h->ca_file ? h->ca_file : "", h->ca_file ? "'" : "",
			    why);
			free(host);
			return rc;
		}
		if (res == CURLE_URL_MALFORMAT ||
		    res == CURLE_UNSUPPORTED_PROTOCOL)
			return mls_error_set(MLS_ECONFIG, "store '%s': '%s': %s",
			    h->name, x->url, why);
		mls_error_set(MLS_ENET, "'%s': %s", x->url, why);
		return retryable_curl(res) ? 1 : MLS_ENET;
	}
	code = status_of(s);
	x->status = code;
	if (code >= 200 && code < 300) {
		switch (x->method) {
		case MLS_HTTP_GET:
			return finish_get(s);
		case MLS_HTTP_HEAD: {
			curl_off_t cl = -1;
			curl_easy_getinfo(s->e,
			    CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
			x->size = cl;
			return 0;
		}
		case MLS_HTTP_PUT:
			if (s->in_pos != s->in_size)
				return mls_error_set(MLS_EIO, "'%s': sent %lld "
				    "bytes of %lld", x->url, s->in_pos, s->in_size);
			x->size = s->in_size;
			if (s->dg_on) {
				s->dg_on = 0;
				if ((rc = mls_digest_final(&s->dg, hex)) < 0)
					return rc;
				if (strcmp(hex, x->sha256) != 0)
					return mls_error_set(MLS_EIO, "'%s': the "
					    "bytes sent have digest sha256:%s, not "
					    "sha256:%s (file changed while "
					    "uploading?)", x->url, hex, x->sha256);
			}
			return 0;
		default:
			return 0;
		}
	}
	if (code == 404 && (x->missing_ok || x->method == MLS_HTTP_HEAD ||
	    x->method == MLS_HTTP_DELETE)) {
		x->found = 0;
		return 0;
	}
	if (code == 401 || code == 403)
		return mls_error_set(MLS_EAUTH, "store '%s': HTTP %ld for '%s': "
		    "%s (token file: %s)", h->name, code, x->url,
		    code == 401 ? "not authorised" : "forbidden",
		    h->token_file ? h->token_file : "none set; set token_file "
		    "in [store] or MLS_STORE_TOKEN_FILE");
	if (code == 404)
		return mls_error_set(MLS_ENOTFOUND, "'%s': not found", x->url);
	if (code == 416 && s->off > 0) {
		/* the partial file is not a prefix of the object: start again */
		s->off = 0;
		if (s->tf.fd >= 0 && (ftruncate(s->tf.fd, 0) == -1 ||
		    lseek(s->tf.fd, 0, SEEK_SET) == -1))
			return mls_error_set_errno(MLS_EIO, "truncate '%s'",
			    s->tf.path);
		if (s->tf.fd < 0 && x->out != NULL)
			buf_truncate(x->out, s->buf_start);
		mls_error_set(MLS_ENET, "'%s': HTTP 416 on resume", x->url);
		return 1;
	}
	if (code >= 500) {
		mls_error_set(MLS_ENET, "'%s': HTTP %ld", x->url, code);
		return 1;
	}
	return mls_error_set(MLS_EPROTO, "'%s': HTTP %ld", x->url, code);
}

static const char *
method_name(int m)
{
	static const char *const names[] = { "GET", "PUT", "HEAD", "DELETE" };

	return m >= 0 && m <= MLS_HTTP_DELETE ? names[m] : "?";
}

static void
slot_cleanup(struct slot *s)
{
	mls_tempfile_abort(&s->tf);
	if (s->in_fd >= 0) {
		close(s->in_fd);
		s->in_fd = -1;
	}
	if (s->dg_on) {
		mls_digest_release(&s->dg);
		s->dg_on = 0;
	}
	curl_slist_free_all(s->hdrs);
	s->hdrs = NULL;
}

static void
slot_finish(struct slot *s, int rc)
{
	struct mls_http_xfer *x = s->x;

	s->done = 1;
	x->rc = rc;
	if (rc < 0) {
		free(x->error);
		x->error = strdup(mls_error_last());
	}
	slot_cleanup(s);
}

int
mls_http_run(struct mls_http *h, struct mls_http_xfer *x, size_t n,
    int jobs, mls_http_progress_fn fn, void *arg)
{
	struct slot *sl = NULL, *s;
	struct CURLMsg *m;
	size_t i, ndone = 0, nactive = 0;
	double t, wake, last_prog = 0;
	long long pdone, ptotal;
	int running, left, rc, first_rc = 0, timeout_ms, finished;
	char first_msg[1024] = "";

	if (n == 0)
		return 0;
	if (jobs < 1)
		jobs = 1;
	if (h->pid != getpid()) {
		/*
		 * A forked child: the connections (and TLS state) belong to
		 * the parent.  Start afresh and leave the old handles alone;
		 * cleaning them up would write on the parent's sockets.
		 */
		h->npool = 0;
		if ((h->multi = curl_multi_init()) == NULL ||
		    (h->share = curl_share_init()) == NULL)
			return mls_error_set(MLS_ENOMEM, "out of memory");
		curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
		curl_share_setopt(h->share, CURLSHOPT_SHARE,
		    CURL_LOCK_DATA_SSL_SESSION);
		h->pid = getpid();
	}
	if ((sl = calloc(n, sizeof(*sl))) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		sl[i].x = &x[i];
		sl[i].h = h;
		sl[i].tf = (struct mls_tempfile)MLS_TEMPFILE_INIT;
		sl[i].in_fd = -1;
		x[i].rc = 0;
		x[i].found = 1;
		x[i].status = 0;
		x[i].size = -1;
		x[i].attempts = x[i].resumed = 0;
		free(x[i].error);
		x[i].error = NULL;
		if (x[i].out != NULL)
			sl[i].buf_start = x[i].out->len;
	}
	while (ndone < n) {
		/* start what may start: the queue in order, retries when due */
		t = mls_time_mono();
		wake = t + 0.1;
		for (i = 0; i < n && nactive < (size_t)jobs; i++) {
			s = &sl[i];
			if (s->done || s->active)
				continue;
			if (s->not_before > t) {
				if (s->not_before < wake)
					wake = s->not_before;
				continue;
			}
			if ((rc = attempt_setup(s)) < 0 ||
			    curl_multi_add_handle(h->multi, s->e) != CURLM_OK) {
				if (rc >= 0)
					rc = mls_error_set(MLS_ERR,
					    "curl_multi_add_handle failed");
				if (s->e != NULL) {
					pool_put(h, s->e);
					s->e = NULL;
				}
				slot_finish(s, rc);
				ndone++;
				continue;
			}
			s->active = 1;
			nactive++;
		}
		if (ndone == n)
			break;
		curl_multi_perform(h->multi, &running);
		finished = 0;
		while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			s = NULL;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
			    (char **)&s);
			if (s == NULL)
				continue;
			finished = 1;
			rc = judge(s, m->data.result);
			curl_multi_remove_handle(h->multi, s->e);
			pool_put(h, s->e);
			s->e = NULL;
			s->active = 0;
			nactive--;
			if (rc == 1 && s->x->attempts <= h->retries) {
				long ms = mls_http_backoff_ms(h, s->x->attempts);
				mls_debug("http: %s; retry %d of %d in %ld ms",
				    mls_error_last(), s->x->attempts, h->retries,
				    ms);
				s->not_before = mls_time_mono() + (double)ms / 1000.0;
				s->first_byte = 0;
				continue;
			}
			if (rc == 1) {
				char msg[900];
				rc = mls_error_code();
				snprintf(msg, sizeof(msg), "%s", mls_error_last());
				mls_error_set(rc, "%s (after %d attempts)", msg,
				    s->x->attempts);
			}
			if (rc == 0)
				mls_debug("http: %s '%s': %ld, %lld bytes",
				    method_name(s->x->method), s->x->url,
				    s->x->status, s->x->size);
			slot_finish(s, rc);
			ndone++;
			if (rc < 0 && first_rc == 0) {
				first_rc = rc;
				snprintf(first_msg, sizeof(first_msg), "%s",
				    mls_error_last());
			}
		}
		if (fn != NULL) {
			t = mls_time_mono();
			if (t - last_prog >= 0.1) {
				last_prog = t;
				pdone = ptotal = 0;
				for (i = 0; i < n; i++) {
					pdone += sl[i].done ? (sl[i].x->size > 0 ?
					    sl[i].x->size : 0) : sl[i].now;
					ptotal += sl[i].done ? (sl[i].x->size > 0 ?
					    sl[i].x->size : 0) : sl[i].total;
				}
				fn(arg, pdone, ptotal);
			}
		}
		if (ndone == n)
			break;
		if (finished)
			continue;	/* start the next ones at once */
		t = mls_time_mono();
		timeout_ms = (int)((wake - t) * 1000.0);
		if (timeout_ms < 1)
			timeout_ms = 1;
		if (timeout_ms > 100)
			timeout_ms = 100;
		curl_multi_poll(h->multi, NULL, 0, timeout_ms, NULL);
	}
	if (fn != NULL) {
		pdone = 0;
		for (i = 0; i < n; i++)
			pdone += x[i].size > 0 ? x[i].size : 0;
		fn(arg, pdone, pdone);
	}
	for (i = 0; i < n; i++)
		slot_cleanup(&sl[i]);
	free(sl);
	if (first_rc < 0)
		return mls_error_set(first_rc, "%s", first_msg);
	return 0;
}
