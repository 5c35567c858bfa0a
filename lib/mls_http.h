/*
 * mls_http.h - HTTP(S) transfers with libcurl: connection reuse, timeouts,
 * retries with exponential backoff and jitter, Range resume of downloads,
 * parallel transfers with curl_multi, bearer tokens, TLS always verified.
 *
 *	struct mls_http *h;
 *	struct mls_http_opts o = { .name = url, .token_file = tf, .ca_file = ca };
 *	mls_http_new(&h, &o);
 *	struct mls_http_xfer x = { .method = MLS_HTTP_GET, .url = u, .path = p };
 *	rc = mls_http_run(h, &x, 1, 1, NULL, NULL);
 *	mls_http_xfer_release(&x, 1);
 *	mls_http_free(h);
 *
 * Errors (STYLE 3): connect errors, timeouts, resets and 5xx are retried and
 * then give MLS_ENET naming the URL; 401/403 give MLS_EAUTH naming the
 * store (opts.name); a certificate that does not verify gives MLS_ECONFIG
 * naming the host and the CA file; 404 gives MLS_ENOTFOUND; other 4xx give
 * MLS_EPROTO and are never retried.  The token never appears in a message.
 *
 * Environment (for tests and slow links): MLS_HTTP_RETRIES (5),
 * MLS_HTTP_BACKOFF_MS (250, doubled per attempt, capped at 8 s, jittered),
 * MLS_HTTP_CONNECT_TIMEOUT (10 s), MLS_HTTP_STALL_S (30: a transfer
 * below 1 byte/s for that long is dropped and retried), MLS_HTTP_TRACE=1
 * (libcurl's trace to mls_debug, Authorization redacted).
 */
#ifndef MLS_HTTP_H
#define MLS_HTTP_H

#include <stddef.h>

#include "mls_buf.h"

struct mls_http;

struct mls_http_opts {
	const char	*name;		/* named in messages: the store's URL */
	const char	*token_file;	/* bearer token; NULL: none */
	const char	*ca_file;	/* NULL: the system's CA certificates */
	int		 retries;	/* retries after the first attempt; <0: default */
	long		 backoff_ms;	/* first backoff; 0: default */
	long		 connect_timeout_s;	/* 0: default */
	long		 stall_s;	/* 0: default */
};

enum mls_http_method {
	MLS_HTTP_GET = 0, MLS_HTTP_PUT, MLS_HTTP_HEAD, MLS_HTTP_DELETE,
};

/* One transfer.  Fill the "in" fields; zero the rest. */
struct mls_http_xfer {
	/* in */
	int		 method;
	const char	*url;
	const char	*path;		/* GET: written atomically; PUT: read */
	const void	*data;		/* PUT from memory when path is NULL */
	size_t		 len;
	struct mls_buf	*out;		/* GET into memory when path is NULL */
	size_t		 max;		/* cap on *out growth (0: 16 MiB) */
	const char	*sha256;	/* expected hex digest of the body */
	int		 missing_ok;	/* 404: found = 0, rc = 0 */
	/* out */
	int		 rc;		/* 0 or a negative MLS_E* code */
	char		*error;		/* message when rc < 0 (owned; release) */
	int		 found;		/* 1 unless a 404 was allowed */
	long		 status;	/* last HTTP status */
	long long	 size;		/* bytes of the object */
	int		 attempts;	/* requests made */
	int		 resumed;	/* downloads resumed with Range */
};

/* Progress over a whole run: bytes done and expected so far. */
typedef void (*mls_http_progress_fn)(void *arg, long long done,
    long long total);

/*
 * A client.  Reads and checks the token file (MLS_EAUTH when it is
 * readable by group or others, missing or empty).
 */
int	 mls_http_new(struct mls_http **out, const struct mls_http_opts *o);
void	 mls_http_free(struct mls_http *h);

/*
 * Run n transfers, at most jobs at a time (curl_multi), retrying each as
 * above.  Every x[i].rc/error is set; returns 0 when all succeeded, else
 * the code of the first failed one (its message is mls_error_last()).
 * fn (may be NULL) is called at most every 100 ms and once at the end.
 */
int	 mls_http_run(struct mls_http *h, struct mls_http_xfer *x, size_t n,
	    int jobs, mls_http_progress_fn fn, void *arg);
/* Free the error strings of x[0..n-1]. */
void	 mls_http_xfer_release(struct mls_http_xfer *x, size_t n);

/* Read a bearer token from path (new string); refuses mode & 077. */
int	 mls_http_read_token(const char *path, char **out);
/* The host of url (new string), or NULL. */
char	*mls_http_url_host(const char *url);
/* The backoff before retry number attempt (1, 2, ...), jittered, in ms. */
long	 mls_http_backoff_ms(const struct mls_http *h, int attempt);

#endif
