#include "config.h"

#include "mls_http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mls_buf.h"
#include "mls_error.h"
#include "tap.h"

/*
 * A scripted HTTP server in a child process: connection i gets answer
 * script[i] (one request per connection); "RANGE" answers 206 with the
 * rest of BODY from the requested offset.  Requests are logged to a file.
 */
#define BODY	"0123456789abcdefghij"

static pid_t srv_pid;
static int srv_port;
static char srv_log[256];

static void
serve(int ls, const char *const *script, int n)
{
	char req[4096], resp[4096];
	int i, c, off;
	ssize_t r;
	FILE *log = fopen(srv_log, "w");

	for (i = 0; i < n; i++) {
		if ((c = accept(ls, NULL, NULL)) < 0)
			_exit(1);
		r = 0;
		while (r < (ssize_t)sizeof(req) - 1) {
			ssize_t k = read(c, req + r, sizeof(req) - 1 - (size_t)r);
			if (k <= 0)
				break;
			r += k;
			req[r] = '\0';
			if (strstr(req, "\r\n\r\n") != NULL)
				break;
		}
		req[r > 0 ? r : 0] = '\0';
		if (log != NULL) {
			fprintf(log, "%s\n", req);
			fflush(log);
		}
		if (strcmp(script[i], "RANGE") == 0) {
			const char *h = strstr(req, "Range: bytes=");
			off = h != NULL ? atoi(h + 13) : 0;
			snprintf(resp, sizeof(resp), "HTTP/1.1 206 Partial\r\n"
			    "Content-Range: bytes %d-%d/%d\r\nContent-Length: %d\r\n"
			    "Connection: close\r\n\r\n%s", off, (int)strlen(BODY) - 1,
			    (int)strlen(BODY), (int)strlen(BODY) - off, BODY + off);
		} else {
			snprintf(resp, sizeof(resp), "%s", script[i]);
		}
		(void)!write(c, resp, strlen(resp));
		close(c);
	}
	if (log != NULL)
		fclose(log);
	_exit(0);
}

static void
server_start(const char *const *script, int n)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(ls, 16) != 0)
		exit(2);
	getsockname(ls, (struct sockaddr *)&a, &al);
	srv_port = ntohs(a.sin_port);
	fflush(stdout);
	if ((srv_pid = fork()) == 0)
		serve(ls, script, n);
	close(ls);
}

static void
server_stop(void)
{
	kill(srv_pid, SIGKILL);
	waitpid(srv_pid, NULL, 0);
}

static int
has(const char *s, const char *sub)
{
	return s != NULL && strstr(s, sub) != NULL;
}

static char *
slurp(const char *path)
{
	static char buf[16384];
	FILE *fp = fopen(path, "r");
	size_t n = 0;

	buf[0] = '\0';
	if (fp != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, fp);
		fclose(fp);
	}
	buf[n] = '\0';
	return buf;
}

static void
write_file(const char *path, const char *text, int mode)
{
	FILE *fp = fopen(path, "w");

	fputs(text, fp);
	fclose(fp);
	chmod(path, (mode_t)mode);
}

int
main(void)
{
	char dir[] = "/tmp/test_mls_http.XXXXXX", path[512], url[256], *tok;
	struct mls_http_opts o = { .name = "http://store/", .retries = 3,
	    .backoff_ms = 5, .stall_s = 2 };
	struct mls_http *h = NULL;
	struct mls_buf b = MLS_BUF_INIT;
	long ms;
	int rc, i, okb = 1;

	if (mkdtemp(dir) == NULL)
		return 2;
	snprintf(srv_log, sizeof(srv_log), "%s/requests", dir);

	/* the token file */
	snprintf(path, sizeof(path), "%s/token", dir);
	write_file(path, "s3cret-token\n", 0644);
	tok = (char *)1;
	rc = mls_http_read_token(path, &tok);
	ok(rc == MLS_EAUTH && tok == NULL, "a token readable by others: EAUTH, out NULL");
	ok(has(mls_error_last(), "readable by group or others (mode 644)") &&
	    !has(mls_error_last(), "s3cret"), "the message says why, not the token");
	chmod(path, 0600);
	ok(mls_http_read_token(path, &tok) == 0 && strcmp(tok, "s3cret-token") == 0,
	    "mode 600: read, newline stripped");
	free(tok);
	write_file(path, "\n", 0600);
	ok(mls_http_read_token(path, &tok) == MLS_EAUTH &&
	    has(mls_error_last(), "empty"), "an empty token: EAUTH");
	write_file(path, "a b\n", 0600);
	ok(mls_http_read_token(path, &tok) == MLS_EAUTH, "a token with a space: EAUTH");
	snprintf(path, sizeof(path), "%s/none", dir);
	ok(mls_http_read_token(path, &tok) == MLS_EAUTH, "a missing token file: EAUTH");
	o.token_file = path;
	ok(mls_http_new(&h, &o) == MLS_EAUTH && h == NULL &&
	    has(mls_error_last(), "store 'http://store/'"),
	    "mls_http_new refuses a bad token file, naming the store");
	o.token_file = NULL;

	tok = mls_http_url_host("https://127.0.0.1:8443/store/x");
	ok(tok != NULL && strcmp(tok, "127.0.0.1") == 0, "url host");
	free(tok);

	ok(mls_http_new(&h, &o) == 0 && h != NULL, "a client");
	for (i = 1; i <= 12; i++) {
		ms = mls_http_backoff_ms(h, i);
		if (ms < 0 || ms > 8000)
			okb = 0;
	}
	ms = mls_http_backoff_ms(h, 3);
	ok(okb && ms >= 10 && ms <= 20, "backoff doubles, jitters, is capped (%ld)", ms);

	/* 500, then a body cut short, then the rest with Range */
	{
		static const char *const script[] = {
			"HTTP/1.1 500 Oops\r\nContent-Length: 4\r\nConnection: close\r\n\r\noops",
			"HTTP/1.1 200 OK\r\nContent-Length: 20\r\nETag: \"e1\"\r\n"
			    "Connection: close\r\n\r\n0123456789",
			"RANGE",
		};
		struct mls_http_xfer x = { .method = MLS_HTTP_GET };
		server_start(script, 3);
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/k", srv_port);
		snprintf(path, sizeof(path), "%s/k", dir);
		x.url = url;
		x.path = path;
		/* sha256 of BODY */
		x.sha256 = "6bc14bdc4517a7a682c6910de2e2946eb8e1ecd04090728fef6d092a7ceb62c5";
		rc = mls_http_run(h, &x, 1, 1, NULL, NULL);
		server_stop();
		ok(x.attempts == 3 && x.resumed == 1, "retried a 500, resumed a drop "
		    "(attempts %d, resumed %d)", x.attempts, x.resumed);
		ok(has(slurp(srv_log), "Range: bytes=10-") &&
		    has(slurp(srv_log), "If-Range: \"e1\""), "asked for the rest with If-Range");
		ok(rc == 0, "the whole body arrived, digest verified: %s",
		    x.error ? x.error : "");
		mls_http_xfer_release(&x, 1);
		ok(strcmp(slurp(path), BODY) == 0, "the file is the whole object");
	}
	/* 401: EAUTH naming the store, never retried */
	{
		static const char *const script[] = {
			"HTTP/1.1 401 No\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		};
		struct mls_http_xfer x = { .method = MLS_HTTP_GET, .out = &b };
		server_start(script, 1);
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/k", srv_port);
		x.url = url;
		rc = mls_http_run(h, &x, 1, 1, NULL, NULL);
		server_stop();
		ok(rc == MLS_EAUTH && x.attempts == 1 && b.len == 0,
		    "401: EAUTH after one attempt, no body kept");
		ok(has(mls_error_last(), "store 'http://store/': HTTP 401"),
		    "401 names the store: %s", mls_error_last());
		mls_http_xfer_release(&x, 1);
	}
	/* 400: EPROTO, never retried; 404: ENOTFOUND or found = 0 */
	{
		static const char *const script[] = {
			"HTTP/1.1 400 Bad\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
			"HTTP/1.1 404 No\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
			"HTTP/1.1 404 No\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		};
		struct mls_http_xfer x = { .method = MLS_HTTP_GET, .out = &b };
		server_start(script, 3);
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/k", srv_port);
		x.url = url;
		rc = mls_http_run(h, &x, 1, 1, NULL, NULL);
		ok(rc == MLS_EPROTO && x.attempts == 1, "400: EPROTO, not retried");
		rc = mls_http_run(h, &x, 1, 1, NULL, NULL);
		ok(rc == MLS_ENOTFOUND && has(x.error, "not found"), "404: ENOTFOUND");
		x.missing_ok = 1;
		rc = mls_http_run(h, &x, 1, 1, NULL, NULL);
		ok(rc == 0 && x.found == 0, "404 with missing_ok: found 0");
		server_stop();
		mls_http_xfer_release(&x, 1);
	}
	/* nobody listening: ENET naming the URL after all attempts */
	{
		struct mls_http_xfer x = { .method = MLS_HTTP_HEAD };
		server_start(NULL, 0);	/* a port that was free a moment ago */
		server_stop();
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/k", srv_port);
		x.url = url;
		rc = mls_http_run(h, &x, 1, 1, NULL, NULL);
		ok(rc == MLS_ENET && x.attempts == 4, "connection refused: ENET after "
		    "1 + 3 attempts (%d)", x.attempts);
		ok(has(mls_error_last(), url) && has(mls_error_last(), "after 4 attempts"),
		    "the message names the URL: %s", mls_error_last());
		mls_http_xfer_release(&x, 1);
	}
	mls_http_free(h);
	mls_buf_release(&b);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	(void)!system(path);
	return done_testing();
}
