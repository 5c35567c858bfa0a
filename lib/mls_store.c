/*
 * mls_store.c - the store: a table of drivers keyed by URL scheme.
 *
 * file:// writes go to a temporary file in the destination directory
 * (mls_tempfile), are fsync'ed and then renamed over the key, so a reader never
 * sees a half-written object.  http(s):// goes through lib/mls_http.c.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_alloc.h"
#include "mls_buf.h"
#include "mls_config.h"
#include "mls_digest.h"
#include "mls_error.h"
#include "mls_http.h"
#include "mls_log.h"
#include "mls_store.h"
#include "mls_tempfile.h"

/* Temporary files start with this; list() never shows them. */
#define TMP_PREFIX	MLS_TEMPFILE_PREFIX

struct store_driver {
	const char *name;
	int	(*open)(struct mls_store *st, const struct mls_config *cfg,
		    const char *url);
	void	(*close)(struct mls_store *st);
	char	*(*local_path)(const struct mls_store *st, const char *key);
	int	(*put_file)(struct mls_store *st, const char *key, const char *path);
	int	(*put_buf)(struct mls_store *st, const char *key, const void *data,
		    size_t len);
	int	(*get_file)(struct mls_store *st, const char *key, const char *path);
	int	(*get_buf)(struct mls_store *st, const char *key,
		    struct mls_buf *out, size_t max);
	int	(*stat)(struct mls_store *st, const char *key, long long *size);
	int	(*del)(struct mls_store *st, const char *key);
	int	(*list)(struct mls_store *st, const char *dir, json_t **out);
};

struct mls_store {
	const struct store_driver *drv;
	char	*url;		/* base URL, ending in '/' */
	char	*base;		/* file driver: the directory, no trailing '/' */
	void	*priv;		/* driver data */
	int	 batch;		/* > 0: puts skip fsync until batch_end */
	int	 unsynced;	/* puts made durable by the next batch_end */
};

/* ---- helpers shared by the drivers ----------------------------------- */

/*
 * A key is a relative path of non-empty components, none "." or "..".
 * With allow_empty the empty key (the store's root) is accepted too.
 */
static int
check_key(const char *key, int allow_empty)
{
	const char *p, *e;
	size_t n;

	if (key == NULL || *key == '\0') {
		if (allow_empty && key != NULL)
			return 0;
		return mls_error_set(MLS_EINPUT, "store key '': empty");
	}
	if (*key == '/')
		return mls_error_set(MLS_EINPUT, "store key '%s': absolute", key);
	for (p = key; ; p = e + 1) {
		e = strchr(p, '/');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == 0)
			return mls_error_set(MLS_EINPUT,
			    "store key '%s': empty component", key);
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' &&
		    p[1] == '.'))
			return mls_error_set(MLS_EINPUT,
			    "store key '%s': '.' or '..' component", key);
		if (e == NULL)
			break;
	}
	return 0;
}

/* Write all of buf to fd. */
static int
write_all(int fd, const void *buf, size_t len, const char *name)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return mls_error_set_errno(MLS_EIO, "write '%s'", name);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Copy from fd in to fd out. */
static int
copy_fd(int in, const char *inname, int out, const char *outname)
{
	char buf[65536];
	ssize_t n;
	int rc;

	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return mls_error_set_errno(MLS_EIO, "read '%s'", inname);
		}
		if (n == 0)
			return 0;
		if ((rc = write_all(out, buf, (size_t)n, outname)) < 0)
			return rc;
	}
}

/* The directory part of path (new string); "." when there is none. */
static char *
dir_of(const char *path)
{
	const char *s = strrchr(path, '/');
	struct mls_buf b = MLS_BUF_INIT;

	if (s == NULL)
		mls_buf_adds(&b, ".");
	else if (s == path)
		mls_buf_adds(&b, "/");
	else
		mls_buf_add(&b, path, (size_t)(s - path));
	return mls_buf_detach(&b);
}

/*
 * An atomic write of dest (see mls_tempfile.h): a temporary file next to
 * it, the parent directories created with dirmode.
 */
static int
atomic_open(struct mls_tempfile *t, const char *dest, int dirmode)
{
	char *dir;
	int rc;

	if ((dir = dir_of(dest)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	if ((rc = mls_mkdirs(dir, dirmode)) == 0)
		rc = mls_tempfile_open(t, dest);
	free(dir);
	return rc;
}

/* Publish it, fsynced with its directory unless sync is 0 (a batch). */
static int
atomic_commit(struct mls_tempfile *t, const char *dest, int sync)
{
	return mls_tempfile_commit(t, dest, 0644, sync ?
	    MLS_TEMPFILE_FSYNC | MLS_TEMPFILE_SYNC_DIR : 0);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---- the file:// driver ---------------------------------------------- */

static int
file_open(struct mls_store *st, const struct mls_config *cfg, const char *url)
{
	struct mls_buf b = MLS_BUF_INIT;
	const char *path = url;
	size_t n;
	int rc;

	(void)cfg;
	if (strncmp(url, "file://", 7) == 0)
		path = url + 7;
	if (*path != '/')
		return mls_error_set(MLS_ECONFIG,
		    "store '%s': file stores need an absolute path", url);
	n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	mls_buf_add(&b, path, n);
	if ((rc = mls_buf_error(&b)) < 0)
		return rc;
	st->base = mls_buf_detach(&b);
	mls_buf_addf(&b, "file://%s%s", strcmp(st->base, "/") == 0 ? "" :
	    st->base, "/");
	if ((rc = mls_buf_error(&b)) < 0)
		return rc;
	st->url = mls_buf_detach(&b);
	if ((rc = mls_mkdirs(st->base, 0700)) < 0)
		return mls_error_prefix("store '%s'", st->url);
	return 0;
}

static void
file_close(struct mls_store *st)
{
	(void)st;
}

static char *
file_local_path(const struct mls_store *st, const char *key)
{
	struct mls_buf b = MLS_BUF_INIT;

	mls_buf_adds(&b, st->base);
	if (*key != '\0') {
		if (strcmp(st->base, "/") != 0)
			mls_buf_addc(&b, '/');
		mls_buf_adds(&b, key);
	}
	return mls_buf_detach(&b);
}

/*
 * The directory that will hold key, opened from the store's base one
 * component at a time without following a symbolic link, and created
 * (mode 0700) where missing: a link planted in a shared store, such as
 * sandboxes/sha256/ab -> /elsewhere, cannot send a write outside it.
 * *dfd and the key's last component in *last; -1 with errno on failure.
 */
static int
file_dirat(const struct mls_store *st, const char *key, int *dfd,
    const char **last)
{
	struct mls_buf c = MLS_BUF_INIT;
	const char *p = key, *slash;
	int d, fd, e = 0;

	if ((d = open(st->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	while ((slash = strchr(p, '/')) != NULL) {
		mls_buf_reset(&c);
		mls_buf_add(&c, p, (size_t)(slash - p));
		if (mls_buf_error(&c) < 0 || c.len == 0 ||
		    strcmp(c.buf, ".") == 0 || strcmp(c.buf, "..") == 0) {
			e = c.len == 0 || c.buf[0] == '.' ? EINVAL : ENOMEM;
			break;
		}
		fd = openat(d, c.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
		    O_NOFOLLOW);
		if (fd < 0 && errno == ENOENT && (mkdirat(d, c.buf, 0700) == 0 ||
		    errno == EEXIST))
			fd = openat(d, c.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
			    O_NOFOLLOW);
		if (fd < 0) {
			e = errno;
			break;
		}
		close(d);
		d = fd;
		p = slash + 1;
	}
	mls_buf_release(&c);
	if (e != 0 || *p == '\0' || strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
		close(d);
		errno = e != 0 ? e : EINVAL;
		return -1;
	}
	*dfd = d;
	*last = p;
	return 0;
}

static int
file_write(struct mls_store *st, const char *key, int srcfd,
    const char *srcname, const void *data, size_t len)
{
	struct mls_tempfile t = MLS_TEMPFILE_INIT;
	struct mls_buf at = MLS_BUF_INIT;
	const char *last, *final;
	char *dest;
	int rc, dfd = -1;

	if ((dest = file_local_path(st, key)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	if (file_dirat(st, key, &dfd, &last) < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			rc = mls_error_set(MLS_EPROTO, "store: '%s': a directory "
			    "on its path is a symbolic link or not a directory; "
			    "refused", dest);
		else
			rc = mls_error_set_errno(MLS_EIO, "store: '%s'", dest);
		goto out;
	}
	/*
	 * Written through the directory just opened (/proc/self/fd names it,
	 * whatever its path now resolves to); without /proc, by its path.
	 */
	mls_buf_addf(&at, "/proc/self/fd/%d", dfd);
	if (mls_buf_error(&at) == 0 && access(at.buf, X_OK) == 0) {
		mls_buf_addf(&at, "/%s", last);
		if ((rc = mls_buf_error(&at)) < 0)
			goto out;
		final = at.buf;
		rc = mls_tempfile_open(&t, final);
	} else {
		final = dest;
		rc = atomic_open(&t, dest, 0700);
	}
	if (rc < 0)
		goto out;
	if (srcfd >= 0)
		rc = copy_fd(srcfd, srcname, t.fd, t.path);
	else
		rc = mls_tempfile_write(&t, data, len);
	if (rc < 0)
		goto out;
	rc = atomic_commit(&t, final, st->batch == 0);
	if (rc == 0 && st->batch > 0)
		st->unsynced++;
	if (rc == 0)
		mls_debug("store: put '%s'", dest);
out:
	mls_tempfile_abort(&t);
	if (dfd >= 0)
		close(dfd);
	mls_buf_release(&at);
	free(dest);
	return rc;
}

static int
file_put_file(struct mls_store *st, const char *key, const char *path)
{
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return mls_error_set_errno(errno == ENOENT ? MLS_ENOTFOUND :
		    MLS_EIO, "open '%s'", path);
	rc = file_write(st, key, fd, path, NULL, 0);
	close(fd);
	return rc;
}

static int
file_put_buf(struct mls_store *st, const char *key, const void *data,
    size_t len)
{
	return file_write(st, key, -1, NULL, data, len);
}

/*
 * Open key below the store's base one component at a time, following no
 * symbolic link (a shared store is not trusted: a link planted at
 * jobs/ID/params.json must not read /etc/shadow), and without blocking on
 * a FIFO.  -1 with errno set on failure.
 */
static int
file_openat(const struct mls_store *st, const char *key)
{
	struct mls_buf c = MLS_BUF_INIT;
	const char *p = key, *slash;
	int dfd, fd = -1, e;

	if ((dfd = open(st->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	for (;;) {
		slash = strchr(p, '/');
		mls_buf_reset(&c);
		mls_buf_add(&c, p, slash != NULL ? (size_t)(slash - p) :
		    strlen(p));
		if (mls_buf_error(&c) < 0) {
			errno = ENOMEM;
			break;
		}
		if (c.len == 0 || strcmp(c.buf, ".") == 0 ||
		    strcmp(c.buf, "..") == 0) {
			errno = EINVAL;
			break;
		}
		if (slash == NULL) {
			fd = openat(dfd, c.buf, O_RDONLY | O_CLOEXEC |
			    O_NOFOLLOW | O_NONBLOCK);
			break;
		}
		fd = openat(dfd, c.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
		    O_NOFOLLOW);
		if (fd < 0)
			break;
		close(dfd);
		dfd = fd;
		fd = -1;
		p = slash + 1;
	}
	e = errno;
	close(dfd);
	mls_buf_release(&c);
	errno = e;
	return fd;
}

/* Open the object at key for reading; MLS_ENOTFOUND when missing. */
static int
file_open_key(struct mls_store *st, const char *key, int *fdp, char **pathp)
{
	struct stat sb;
	char *p;
	int fd;

	*fdp = -1;
	*pathp = NULL;
	if ((p = file_local_path(st, key)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	if ((fd = file_openat(st, key)) < 0) {
		int e = errno;
		free(p);
		if (e == ENOENT)
			return mls_error_set(MLS_ENOTFOUND,
			    "store '%s': '%s': not found", st->url, key);
		if (e == ELOOP || e == ENOTDIR)
			return mls_error_set(MLS_EPROTO, "store '%s': '%s': a "
			    "symbolic link or not a directory on its path; "
			    "refused", st->url, key);
		errno = e;
		return mls_error_set_errno(MLS_EIO, "store '%s': open '%s'",
		    st->url, key);
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		free(p);
		return mls_error_set(MLS_ENOTFOUND,
		    "store '%s': '%s': not a file", st->url, key);
	}
	*fdp = fd;
	*pathp = p;
	return 0;
}

static int
file_get_file(struct mls_store *st, const char *key, const char *path)
{
	struct mls_tempfile t = MLS_TEMPFILE_INIT;
	char *src = NULL;
	int fd = -1, rc;

	if ((rc = file_open_key(st, key, &fd, &src)) < 0)
		return rc;
	if ((rc = atomic_open(&t, path, 0755)) < 0)
		goto out;
	if ((rc = copy_fd(fd, src, t.fd, t.path)) < 0)
		goto out;
	rc = atomic_commit(&t, path, 1);
out:
	mls_tempfile_abort(&t);
	if (fd >= 0)
		close(fd);
	free(src);
	return rc;
}

static int
file_get_buf(struct mls_store *st, const char *key, struct mls_buf *out,
    size_t max)
{
	char buf[65536];
	char *src = NULL;
	size_t total = 0;
	ssize_t n;
	int fd = -1, rc;

	if ((rc = file_open_key(st, key, &fd, &src)) < 0)
		return rc;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = mls_error_set_errno(MLS_EIO, "read '%s'", src);
			goto out;
		}
		if (n == 0)
			break;
		if ((size_t)n > max - total) {
			rc = mls_error_set(MLS_EINPUT,
			    "store '%s': '%s': larger than %zu bytes",
			    st->url, key, max);
			goto out;
		}
		total += (size_t)n;
		mls_buf_add(out, buf, (size_t)n);
		if ((rc = mls_buf_error(out)) < 0)
			goto out;
	}
	rc = 0;
out:
	close(fd);
	free(src);
	return rc;
}

static int
file_stat(struct mls_store *st, const char *key, long long *size)
{
	struct stat sb;
	char *p;
	int rc;

	if ((p = file_local_path(st, key)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	if (stat(p, &sb) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			rc = 0;
		else
			rc = mls_error_set_errno(MLS_EIO, "stat '%s'", p);
	} else if (!S_ISREG(sb.st_mode)) {
		rc = 0;
	} else {
		if (size != NULL)
			*size = (long long)sb.st_size;
		rc = 1;
	}
	free(p);
	return rc;
}

static int
file_delete(struct mls_store *st, const char *key)
{
	char *p;
	int rc = 0;

	if ((p = file_local_path(st, key)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	if (unlink(p) == -1 && errno != ENOENT && errno != ENOTDIR)
		rc = mls_error_set_errno(MLS_EIO, "remove '%s'", p);
	free(p);
	return rc;
}

static int
file_list(struct mls_store *st, const char *dir, json_t **out)
{
	struct dirent *de;
	json_t *arr = NULL;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	char *p;
	DIR *d;
	int rc = 0;

	if ((p = file_local_path(st, dir)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	if ((arr = json_array()) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	if ((d = opendir(p)) == NULL) {
		if (errno != ENOENT && errno != ENOTDIR)
			rc = mls_error_set_errno(MLS_EIO, "open '%s'", p);
		goto out;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0)
			continue;
		if ((rc = MLS_GROW(names, cap, n + 1)) < 0)
			break;
		if ((names[n] = strdup(de->d_name)) == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			break;
		}
		n++;
	}
	if (rc == 0 && errno != 0)
		rc = mls_error_set_errno(MLS_EIO, "read '%s'", p);
	closedir(d);
	if (rc < 0)
		goto out;
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		if (json_array_append_new(arr, json_string(names[i])) == -1) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(p);
	if (rc == 0) {
		*out = arr;
		arr = NULL;
	}
	json_decref(arr);
	return rc;
}

static const struct store_driver file_driver = {
	.name = "file",
	.open = file_open,
	.close = file_close,
	.local_path = file_local_path,
	.put_file = file_put_file,
	.put_buf = file_put_buf,
	.get_file = file_get_file,
	.get_buf = file_get_buf,
	.stat = file_stat,
	.del = file_delete,
	.list = file_list,
};

/* ---- the http(s):// driver ------------------------------------------------ */

/*
 * Plain HTTP verbs on a WebDAV server (nginx: dav_methods PUT DELETE,
 * autoindex_format json).  Publication: nginx writes a PUT's body to a
 * temporary file and renames it over the key once the whole body has
 * arrived, so a reader never sees a half-written object; a PUT cut short
 * leaves nothing.  We then HEAD the key and compare its size.  Keys that
 * are content addressed (sandboxes/sha256/...) are checked against their
 * digest on the way up (the bytes sent) and on the way down.
 */
struct http_store {
	struct mls_http *h;
};

/* The hex digest a content-addressed key names, else "" (returns 1/0). */
static int
key_sha256(const char *key, char hex[65])
{
	static const char pfx[] = "sandboxes/sha256/";
	const char *p;
	size_t i;

	hex[0] = '\0';
	if (strncmp(key, pfx, sizeof(pfx) - 1) != 0)
		return 0;
	p = strrchr(key, '/') + 1;
	for (i = 0; i < 64; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	if (strcmp(p + 64, ".tar.zst") != 0)
		return 0;
	memcpy(hex, p, 64);
	hex[64] = '\0';
	return 1;
}

/* The URL of key, percent-encoding what is not unreserved (new string). */
static char *
http_url(const struct mls_store *st, const char *key)
{
	static const char hexd[] = "0123456789ABCDEF";
	struct mls_buf b = MLS_BUF_INIT;
	const unsigned char *p;

	mls_buf_adds(&b, st->url);
	for (p = (const unsigned char *)key; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p) != NULL) {
			mls_buf_addc(&b, (char)*p);
		} else {
			mls_buf_addc(&b, '%');
			mls_buf_addc(&b, hexd[*p >> 4]);
			mls_buf_addc(&b, hexd[*p & 15]);
		}
	}
	return mls_buf_detach(&b);
}

static int
http_open(struct mls_store *st, const struct mls_config *cfg, const char *url)
{
	struct mls_config own = { 0 };
	struct mls_http_opts o = { 0 };
	struct http_store *hs = NULL;
	struct mls_buf b = MLS_BUF_INIT;
	int rc;

	/* a caller without a configuration (the local runner) loads one */
	if (cfg == NULL) {
		if ((rc = mls_config_load(&own)) < 0)
			goto out;
		cfg = &own;
	}
	mls_buf_adds(&b, url);
	if (b.len == 0 || b.buf[b.len - 1] != '/')
		mls_buf_addc(&b, '/');
	if ((rc = mls_buf_error(&b)) < 0)
		goto out;
	st->url = mls_buf_detach(&b);
	if ((hs = calloc(1, sizeof(*hs))) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	o.name = st->url;
	o.token_file = cfg->store_token_file;
	o.ca_file = cfg->store_ca_file;
	o.retries = -1;
	if ((rc = mls_http_new(&hs->h, &o)) < 0)
		goto out;
	st->priv = hs;
	hs = NULL;
	rc = 0;
out:
	if (hs != NULL)
		mls_http_free(hs->h);
	free(hs);
	mls_buf_release(&b);
	if (cfg == &own)
		mls_config_release(&own);
	return rc;
}

static void
http_close(struct mls_store *st)
{
	struct http_store *hs = st->priv;

	if (hs != NULL) {
		mls_http_free(hs->h);
		free(hs);
		st->priv = NULL;
	}
}

/* One transfer of key; url owned by the caller. */
static int
http_one(struct mls_store *st, struct mls_http_xfer *x, const char *key)
{
	struct http_store *hs = st->priv;
	int rc;

	if ((x->url = http_url(st, key)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	rc = mls_http_run(hs->h, x, 1, 1, NULL, NULL);
	free((char *)x->url);
	x->url = NULL;
	mls_http_xfer_release(x, 1);
	return rc;
}

/* After a PUT: the key must be there with the size sent. */
static int
http_verify_put(struct mls_store *st, const char *key, long long size)
{
	struct mls_http_xfer x = { .method = MLS_HTTP_HEAD };
	int rc;

	if ((rc = http_one(st, &x, key)) < 0)
		return rc;
	if (!x.found || x.size != size)
		return mls_error_set(MLS_EPROTO, "store '%s': '%s': %s after "
		    "upload (sent %lld bytes, the server has %lld)", st->url,
		    key, x.found ? "wrong size" : "missing", size,
		    x.found ? x.size : -1LL);
	return 0;
}

static int
http_put_file(struct mls_store *st, const char *key, const char *path)
{
	struct mls_http_xfer x = { .method = MLS_HTTP_PUT, .path = path };
	char want[65], hex[65];
	long long size;
	int rc;

	if (key_sha256(key, want)) {
		if ((rc = mls_digest_file(path, hex, &size)) < 0)
			return rc;
		if (strcmp(hex, want) != 0)
			return mls_error_set(MLS_EINPUT, "'%s': digest sha256:%s "
			    "does not match key '%s'", path, hex, key);
		x.sha256 = want;
	}
	if ((rc = http_one(st, &x, key)) < 0)
		return rc;
	return http_verify_put(st, key, x.size);
}

static int
http_put_buf(struct mls_store *st, const char *key, const void *data,
    size_t len)
{
	struct mls_http_xfer x = { .method = MLS_HTTP_PUT, .data = data,
	    .len = len };
	char want[65];
	int rc;

	if (key_sha256(key, want))
		x.sha256 = want;
	if ((rc = http_one(st, &x, key)) < 0)
		return rc;
	return http_verify_put(st, key, (long long)len);
}

static int
http_get_file(struct mls_store *st, const char *key, const char *path)
{
	struct mls_http_xfer x = { .method = MLS_HTTP_GET, .path = path };
	char want[65];
	char *dir;
	int rc;

	if (key_sha256(key, want))
		x.sha256 = want;
	if ((dir = dir_of(path)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	rc = mls_mkdirs(dir, 0755);
	free(dir);
	if (rc < 0)
		return rc;
	return http_one(st, &x, key);
}

static int
http_get_buf(struct mls_store *st, const char *key, struct mls_buf *out,
    size_t max)
{
	struct mls_http_xfer x = { .method = MLS_HTTP_GET, .out = out,
	    .max = max };
	char want[65];

	if (key_sha256(key, want))
		x.sha256 = want;
	return http_one(st, &x, key);
}

static int
http_stat(struct mls_store *st, const char *key, long long *size)
{
	struct mls_http_xfer x = { .method = MLS_HTTP_HEAD };
	int rc;

	if ((rc = http_one(st, &x, key)) < 0)
		return rc;
	if (x.found && size != NULL)
		*size = x.size;
	return x.found;
}

static int
http_delete(struct mls_store *st, const char *key)
{
	struct mls_http_xfer x = { .method = MLS_HTTP_DELETE };

	return http_one(st, &x, key);
}

static int
http_list(struct mls_store *st, const char *dir, json_t **out)
{
	struct mls_http_xfer x = { .method = MLS_HTTP_GET, .missing_ok = 1,
	    .max = 64UL << 20 };
	struct mls_buf body = MLS_BUF_INIT, d = MLS_BUF_INIT;
	json_t *doc = NULL, *arr = NULL, *v;
	json_error_t jerr;
	const char *name;
	char **names = NULL;
	size_t i, n = 0;
	int rc;

	/* nginx lists a directory only with the trailing slash */
	mls_buf_adds(&d, dir);
	if (d.len > 0)
		mls_buf_addc(&d, '/');
	if ((rc = mls_buf_error(&d)) < 0)
		goto out;
	x.out = &body;
	if ((rc = http_one(st, &x, d.buf)) < 0)
		goto out;
	if ((arr = json_array()) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	if (!x.found)
		goto done;
	doc = json_loadb(body.buf, body.len, 0, &jerr);
	if (!json_is_array(doc)) {
		rc = mls_error_set(MLS_EPROTO, "store '%s': listing of '%s' is "
		    "not a JSON array (autoindex_format json?)", st->url, d.buf);
		goto out;
	}
	if ((names = calloc(json_array_size(doc) + 1, sizeof(*names))) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(doc, i, v) {
		name = json_string_value(json_object_get(v, "name"));
		if (name == NULL || *name == '\0' ||
		    strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0)
			continue;
		names[n++] = (char *)name;	/* borrowed from doc */
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		if (json_array_append_new(arr, json_string(names[i])) == -1) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
	}
done:
	*out = arr;
	arr = NULL;
	rc = 0;
out:
	free(names);
	json_decref(doc);
	json_decref(arr);
	mls_buf_release(&body);
	mls_buf_release(&d);
	return rc;
}

static const struct store_driver http_driver = {
	.name = "http",
	.open = http_open,
	.close = http_close,
	.local_path = NULL,
	.put_file = http_put_file,
	.put_buf = http_put_buf,
	.get_file = http_get_file,
	.get_buf = http_get_buf,
	.stat = http_stat,
	.del = http_delete,
	.list = http_list,
};

/* ---- the table ------------------------------------------------------- */

static const struct {
	const char			*prefix;
	const struct store_driver	*drv;
} drivers[] = {
	{ "file://", &file_driver },
	{ "/", &file_driver },		/* a plain absolute path */
	{ "http://", &http_driver },
	{ "https://", &http_driver },
};

int
mls_store_open(struct mls_store **out, const struct mls_config *cfg,
    const char *url)
{
	struct mls_store *st = NULL;
	size_t i;
	int rc;

	*out = NULL;
	if (url == NULL)
		url = cfg != NULL ? cfg->store_url : NULL;
	if (url == NULL || *url == '\0')
		return mls_error_set(MLS_ECONFIG, "store: no URL configured");
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	for (i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		if (strncmp(url, drivers[i].prefix,
		    strlen(drivers[i].prefix)) == 0) {
			st->drv = drivers[i].drv;
			break;
		}
	}
	if (st->drv == NULL) {
		rc = mls_error_set(MLS_ECONFIG, "store '%s': unknown URL "
		    "scheme (expected file://, http:// or https://)", url);
		goto out;
	}
	if ((rc = st->drv->open(st, cfg, url)) < 0)
		goto out;
	*out = st;
	st = NULL;
	rc = 0;
out:
	mls_store_free(st);		/* NULL-safe, frees partial objects */
	return rc;
}

int
mls_store_url_is_local(const char *url)
{
	size_t i;

	for (i = 0; url != NULL && i < sizeof(drivers) / sizeof(drivers[0]);
	    i++)
		if (strncmp(url, drivers[i].prefix,
		    strlen(drivers[i].prefix)) == 0)
			return drivers[i].drv == &file_driver &&
			    url[strlen(drivers[i].prefix)] != '\0' &&
			    (url[0] == '/' || url[7] == '/');
	return 0;
}

void
mls_store_free(struct mls_store *st)
{
	if (st == NULL)
		return;
	if (st->drv != NULL && st->drv->close != NULL && st->url != NULL)
		st->drv->close(st);
	free(st->url);
	free(st->base);
	free(st);
}

const char *
mls_store_url(const struct mls_store *st)
{
	return st->url;
}

char *
mls_store_key_url(const struct mls_store *st, const char *key)
{
	struct mls_buf b = MLS_BUF_INIT;

	if (check_key(key, 1) < 0)
		return NULL;
	mls_buf_adds(&b, st->url);
	mls_buf_adds(&b, key);
	return mls_buf_detach(&b);
}

char *
mls_store_local_path(const struct mls_store *st, const char *key)
{
	if (st->drv->local_path == NULL || check_key(key, 1) < 0)
		return NULL;
	return st->drv->local_path(st, key);
}

int
mls_store_put_file(struct mls_store *st, const char *key, const char *path)
{
	int rc;

	if ((rc = check_key(key, 0)) < 0)
		return rc;
	return st->drv->put_file(st, key, path);
}

int
mls_store_put_buf(struct mls_store *st, const char *key, const void *data,
    size_t len)
{
	int rc;

	if ((rc = check_key(key, 0)) < 0)
		return rc;
	return st->drv->put_buf(st, key, data, len);
}

int
mls_store_get_file(struct mls_store *st, const char *key, const char *path)
{
	int rc;

	if ((rc = check_key(key, 0)) < 0)
		return rc;
	return st->drv->get_file(st, key, path);
}

int
mls_store_get_buf(struct mls_store *st, const char *key, struct mls_buf *out,
    size_t max)
{
	int rc;

	if ((rc = check_key(key, 0)) < 0)
		return rc;
	return st->drv->get_buf(st, key, out, max);
}

int
mls_store_stat(struct mls_store *st, const char *key, long long *size)
{
	int rc;

	if ((rc = check_key(key, 0)) < 0)
		return rc;
	return st->drv->stat(st, key, size);
}

int
mls_store_delete(struct mls_store *st, const char *key)
{
	int rc;

	if ((rc = check_key(key, 0)) < 0)
		return rc;
	return st->drv->del(st, key);
}

int
mls_store_list(struct mls_store *st, const char *dir, json_t **out)
{
	struct mls_buf d = MLS_BUF_INIT;
	int rc;

	*out = NULL;
	if (dir == NULL)
		dir = "";
	/* "DIR/" and "DIR" name the same directory */
	mls_buf_adds(&d, dir);
	while (d.len > 0 && d.buf[d.len - 1] == '/')
		d.buf[--d.len] = '\0';
	if ((rc = mls_buf_error(&d)) < 0)
		goto out;
	if (d.len == 0 && *dir == '/') {
		rc = mls_error_set(MLS_EINPUT, "store key '%s': absolute", dir);
		goto out;
	}
	if ((rc = check_key(d.buf, 1)) < 0)
		goto out;
	rc = st->drv->list(st, d.buf, out);
out:
	mls_buf_release(&d);
	return rc;
}

int
mls_store_sandbox_key(const char *sandbox_id, struct mls_buf *key)
{
	const char *hex;
	size_t i;

	if (sandbox_id == NULL || strncmp(sandbox_id, "sha256:", 7) != 0)
		goto bad;
	hex = sandbox_id + 7;
	for (i = 0; i < 64; i++) {
		if (!((hex[i] >= '0' && hex[i] <= '9') ||
		    (hex[i] >= 'a' && hex[i] <= 'f')))
			goto bad;
	}
	if (hex[64] != '\0')
		goto bad;
	mls_buf_addf(key, "sandboxes/sha256/%.2s/%s.tar.zst", hex, hex);
	return mls_buf_error(key);
bad:
	return mls_error_set(MLS_EINPUT, "sandbox '%s': not a sha256:<64 hex> id",
	    sandbox_id != NULL ? sandbox_id : "");
}

/* ---- many downloads at once ------------------------------------------- */

void
mls_store_get_release(struct mls_store_get *g, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(g[i].error);
		g[i].error = NULL;
	}
}

/* One by one through the driver (the file:// store). */
static int
get_files_serial(struct mls_store *st, struct mls_store_get *g, size_t n,
    mls_store_progress_fn fn, void *arg)
{
	long long done = 0, size = 0;
	char hex[65];
	size_t i;
	int rc, first = 0;

	for (i = 0; i < n; i++) {
		g[i].found = 1;
		g[i].size = -1;
		if ((rc = check_key(g[i].key, 0)) < 0)
			goto fail;
		if (g[i].missing_ok) {
			if ((rc = st->drv->stat(st, g[i].key, &size)) < 0)
				goto fail;
			if (rc == 0) {
				g[i].found = 0;
				g[i].rc = 0;
				continue;
			}
		}
		if ((rc = st->drv->get_file(st, g[i].key, g[i].path)) < 0)
			goto fail;
		if (g[i].sha256 != NULL || key_sha256(g[i].key, hex)) {
			const char *want = g[i].sha256 ? g[i].sha256 : hex;
			char got[65];
			if ((rc = mls_digest_file(g[i].path, got, &size)) < 0)
				goto fail;
			if (strcmp(got, want) != 0) {
				(void)unlink(g[i].path);
				rc = mls_error_set(MLS_EPROTO, "store '%s': '%s': "
				    "digest sha256:%s does not match the "
				    "expected sha256:%s", st->url, g[i].key, got,
				    want);
				goto fail;
			}
		} else if (st->drv->stat(st, g[i].key, &size) < 0) {
			size = 0;
		}
		g[i].size = size;
		g[i].rc = 0;
		done += size;
		if (fn != NULL)
			fn(arg, done, done);
		continue;
fail:
		g[i].rc = rc;
		free(g[i].error);
		g[i].error = strdup(mls_error_last());
		if (first == 0)
			first = i + 1;
	}
	if (first > 0)
		return mls_error_set(g[first - 1].rc, "%s", g[first - 1].error ?
		    g[first - 1].error : "out of memory");
	return 0;
}

int
mls_store_get_files(struct mls_store *st, struct mls_store_get *g, size_t n,
    int jobs, mls_store_progress_fn fn, void *arg)
{
	struct http_store *hs = st->priv;
	struct mls_http_xfer *x = NULL;
	char (*want)[65] = NULL;
	char *dir;
	size_t i;
	int rc = 0;

	if (st->drv != &http_driver)
		return get_files_serial(st, g, n, fn, arg);
	if (n == 0)
		return 0;
	if ((x = calloc(n, sizeof(*x))) == NULL ||
	    (want = calloc(n, sizeof(*want))) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((rc = check_key(g[i].key, 0)) < 0)
			goto out;
		x[i].method = MLS_HTTP_GET;
		x[i].path = g[i].path;
		x[i].missing_ok = g[i].missing_ok;
		x[i].sha256 = g[i].sha256;
		if (x[i].sha256 == NULL && key_sha256(g[i].key, want[i]))
			x[i].sha256 = want[i];
		if ((x[i].url = http_url(st, g[i].key)) == NULL ||
		    (dir = dir_of(g[i].path)) == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
		rc = mls_mkdirs(dir, 0755);
		free(dir);
		if (rc < 0)
			goto out;
	}
	rc = mls_http_run(hs->h, x, n, jobs, fn, arg);
	for (i = 0; i < n; i++) {
		g[i].rc = x[i].rc;
		g[i].found = x[i].found;
		g[i].size = x[i].size;
		free(g[i].error);
		g[i].error = x[i].error;
		x[i].error = NULL;
	}
out:
	if (x != NULL) {
		for (i = 0; i < n; i++)
			free((char *)x[i].url);
		mls_http_xfer_release(x, n);
	}
	free(x);
	free(want);
	return rc;
}

void
mls_store_batch_begin(struct mls_store *st)
{
	st->batch++;
}

void
mls_store_batch_drop(struct mls_store *st)
{
	if (st->batch > 0)
		st->batch--;
	if (st->batch == 0)
		st->unsynced = 0;
}

int
mls_store_batch_end(struct mls_store *st)
{
	int fd, rc = 0;

	if (st->batch > 0)
		st->batch--;
	if (st->batch > 0 || st->unsynced == 0)
		return 0;
	st->unsynced = 0;
	/* One syncfs for the whole batch instead of two fsyncs per object. */
	if (st->base != NULL &&
	    (fd = open(st->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (syncfs(fd) == -1)
			rc = mls_error_set_errno(MLS_EIO, "sync store '%s'",
			    st->base);
		close(fd);
	}
	return rc;
}
