/*
 * mls_store.c - the store: a table of drivers keyed by URL scheme.
 *
 * Only the file:// driver exists so far.  Its writes go to a temporary
 * file in the destination directory (mkstemp), are fsync'ed and then
 * renamed over the key, so a reader never sees a half-written object.
 * http(s):// slots into the same table later.
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

#include "mls_buf.h"
#include "mls_config.h"
#include "mls_error.h"
#include "mls_log.h"
#include "mls_store.h"

/* Temporary files start with this; list() never shows them. */
#define TMP_PREFIX	".mls-tmp-"

struct store_driver {
	const char *name;
	int	(*open)(struct mls_store *st, const char *url);
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

/* fsync a directory so that a rename in it is durable (best effort). */
static void
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/*
 * An atomic write of dest: open a temporary file next to it (creating the
 * parent directories with dirmode), then commit or abort.
 */
struct atomic {
	char	*dir;
	char	*tmp;
	int	 fd;
};

static int
atomic_open(struct atomic *a, const char *dest, int dirmode)
{
	struct mls_buf b = MLS_BUF_INIT;
	int rc;

	a->dir = NULL;
	a->tmp = NULL;
	a->fd = -1;
	if ((a->dir = dir_of(dest)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	if ((rc = mls_mkdirs(a->dir, dirmode)) < 0)
		goto fail;
	mls_buf_addf(&b, "%s/" TMP_PREFIX "XXXXXX", a->dir);
	if ((rc = mls_buf_error(&b)) < 0)
		goto fail;
	a->tmp = mls_buf_detach(&b);
	if ((a->fd = mkostemp(a->tmp, O_CLOEXEC)) < 0) {
		rc = mls_error_set_errno(MLS_EIO, "create '%s'", a->tmp);
		goto fail;
	}
	return 0;
fail:
	free(a->dir);
	free(a->tmp);
	a->dir = a->tmp = NULL;
	return rc;
}

static void
atomic_abort(struct atomic *a)
{
	if (a->fd >= 0) {
		close(a->fd);
		a->fd = -1;
	}
	if (a->tmp != NULL)
		(void)unlink(a->tmp);
	free(a->tmp);
	free(a->dir);
	a->tmp = a->dir = NULL;
}

static int
atomic_commit(struct atomic *a, const char *dest)
{
	int rc = 0;

	if (fchmod(a->fd, 0644) == -1)
		rc = mls_error_set_errno(MLS_EIO, "chmod '%s'", a->tmp);
	else if (fsync(a->fd) == -1)
		rc = mls_error_set_errno(MLS_EIO, "fsync '%s'", a->tmp);
	if (close(a->fd) == -1 && rc == 0)
		rc = mls_error_set_errno(MLS_EIO, "close '%s'", a->tmp);
	a->fd = -1;
	if (rc == 0 && rename(a->tmp, dest) == -1)
		rc = mls_error_set_errno(MLS_EIO, "rename '%s' to '%s'",
		    a->tmp, dest);
	if (rc == 0) {
		sync_dir(a->dir);
		free(a->tmp);
		a->tmp = NULL;
	}
	atomic_abort(a);
	return rc;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---- the file:// driver ---------------------------------------------- */

static int
file_open(struct mls_store *st, const char *url)
{
	struct mls_buf b = MLS_BUF_INIT;
	const char *path = url;
	size_t n;
	int rc;

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

static int
file_write(struct mls_store *st, const char *key, int srcfd,
    const char *srcname, const void *data, size_t len)
{
	struct atomic a;
	char *dest;
	int rc;

	if ((dest = file_local_path(st, key)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	if ((rc = atomic_open(&a, dest, 0700)) < 0)
		goto out;
	if (srcfd >= 0)
		rc = copy_fd(srcfd, srcname, a.fd, a.tmp);
	else
		rc = write_all(a.fd, data, len, a.tmp);
	if (rc < 0) {
		atomic_abort(&a);
		goto out;
	}
	rc = atomic_commit(&a, dest);
	if (rc == 0)
		mls_debug("store: put '%s'", dest);
out:
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
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0) {
		int e = errno;
		free(p);
		if (e == ENOENT || e == ENOTDIR)
			return mls_error_set(MLS_ENOTFOUND,
			    "store '%s': '%s': not found", st->url, key);
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
	struct atomic a;
	char *src = NULL;
	int fd = -1, rc;

	if ((rc = file_open_key(st, key, &fd, &src)) < 0)
		return rc;
	if ((rc = atomic_open(&a, path, 0755)) < 0)
		goto out;
	if ((rc = copy_fd(fd, src, a.fd, a.tmp)) < 0) {
		atomic_abort(&a);
		goto out;
	}
	rc = atomic_commit(&a, path);
out:
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
	char **names = NULL, **tmp;
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
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((tmp = realloc(names, cap * sizeof(*names))) == NULL) {
				rc = mls_error_set(MLS_ENOMEM, "out of memory");
				break;
			}
			names = tmp;
		}
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

/* ---- the http(s):// driver: not yet (another issue) ------------------- */

static int
http_open(struct mls_store *st, const char *url)
{
	(void)st;
	return mls_error_set(MLS_ECONFIG,
	    "store '%s': http(s) stores are not supported yet", url);
}

static const struct store_driver http_driver = {
	.name = "http",
	.open = http_open,
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
	if ((rc = st->drv->open(st, url)) < 0)
		goto out;
	*out = st;
	st = NULL;
	rc = 0;
out:
	mls_store_free(st);		/* NULL-safe, frees partial objects */
	return rc;
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
	/* "jobs/" and "jobs" name the same directory */
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
