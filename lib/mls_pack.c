/*
 * mls_pack.c - deterministic tar+zstd archives and safe extraction.
 *
 * Every entry gets mtime MLS_PACK_MTIME (1980-01-01, not 0: Python's
 * zipfile, and so wheel builds from a shipped tree, refuse times before
 * 1980), uid/gid 0 with empty names, and mode 0644 or 0755.  Nothing of
 * the packing machine (atime, ctime, inode, owner) gets into the bytes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "mls_buf.h"
#include "mls_config.h"
#include "mls_digest.h"
#include "mls_error.h"
#include "mls_log.h"
#include "mls_pack.h"

/* The one place libarchive errors become ours. */
static int
arch_error(struct archive *a, int code, const char *what, const char *name)
{
	const char *m = archive_error_string(a);

	return mls_error_set(code, "%s '%s': %s", what, name,
	    m != NULL ? m : "unknown libarchive error");
}

int
mls_pack_check_name(const char *name)
{
	const char *p, *e;
	size_t n;

	if (name == NULL || *name == '\0')
		return mls_error_set(MLS_EINPUT, "entry '': empty name");
	if (*name == '/')
		return mls_error_set(MLS_EINPUT, "entry '%s': absolute path", name);
	for (p = name; ; p = e + 1) {
		e = strchr(p, '/');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return mls_error_set(MLS_EINPUT,
			    "entry '%s': '..' in path", name);
		if (e == NULL)
			break;
	}
	return 0;
}

int
mls_pack_link_inside(const char *path, const char *target)
{
	const char *p, *e;
	long depth = 0;
	size_t n;
	int names = 0;

	if (target == NULL || *target == '\0' || *target == '/')
		return 0;
	/* the directory depth of the link itself */
	for (p = path; (e = strchr(p, '/')) != NULL; p = e + 1)
		if (e > p && !(e - p == 1 && p[0] == '.'))
			depth++;
	for (p = target; ; p = e + 1) {
		e = strchr(p, '/');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* "a//b", "./a": nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (names || --depth < 0)
				return 0;
		} else {
			names = 1;
		}
		if (e == NULL)
			break;
	}
	return 1;
}

/* ---- creation --------------------------------------------------------- */

/*
 * Two stages, two threads.  This one reads the files, hashes them and
 * writes the uncompressed tar stream (libarchive, no filter) into a ring
 * of chunks; the compressor thread feeds the chunks to a second
 * libarchive writer, format "raw" with the zstd filter, whose output is
 * hashed and written to the archive file.  zstd's single-threaded stream
 * does not depend on how its input is cut, so the bytes are those of one
 * pax+zstd writer (the test pins this).  No thread: the same, inline.
 */
#define RING_SLOTS	4
#define RING_CHUNK	(512 * 1024)

struct zpipe {
	pthread_mutex_t	 mu;
	pthread_cond_t	 data;		/* a chunk queued, or eof/stop */
	pthread_cond_t	 space;		/* a slot freed, or failed */
	char		*buf[RING_SLOTS];
	size_t		 len[RING_SLOTS];
	size_t		 head, tail, count;	/* queued: tail .. tail+count-1 */
	size_t		 fill;		/* bytes in buf[head] being filled */
	int		 eof, stop, failed, threaded;
	int		 discard;	/* failing: both writers' output dropped */
	/* the compressor's side */
	struct archive	*z;
	struct mls_digest d;
	int		 fd;
	long long	 out;
	int		 err;		/* MLS_E* when failed */
	char		 msg[512];
};

static void
zfail(struct zpipe *p, int code, const char *msg)
{
	if (p->threaded)
		pthread_mutex_lock(&p->mu);
	if (!p->failed) {
		p->failed = 1;
		p->err = code;
		snprintf(p->msg, sizeof(p->msg), "%s", msg);
	}
	if (p->threaded) {
		pthread_cond_broadcast(&p->space);
		pthread_mutex_unlock(&p->mu);
	}
}

/* The zstd writer's output: hash it, write it. */
static la_ssize_t
zout(struct archive *z, void *arg, const void *buf, size_t len)
{
	struct zpipe *p = arg;
	const char *b = buf;
	size_t left = len;
	ssize_t n;

	(void)z;
	if (p->discard)
		return (la_ssize_t)len;
	if (mls_digest_update(&p->d, buf, len) < 0)
		return -1;
	while (left > 0) {
		n = write(p->fd, b, left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += n;
		left -= (size_t)n;
	}
	p->out += (long long)len;
	return (la_ssize_t)len;
}

static void
zfeed(struct zpipe *p, const char *buf, size_t len)
{
	char m[256];

	if (archive_write_data(p->z, buf, len) != (la_ssize_t)len) {
		snprintf(m, sizeof(m), "compress: %s", archive_error_string(p->z)
		    ? archive_error_string(p->z) : strerror(errno));
		zfail(p, MLS_EIO, m);
	}
}

static void *
zthread(void *arg)
{
	struct zpipe *p = arg;
	size_t i;
	int skip;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->count == 0 && !p->eof && !p->stop)
			pthread_cond_wait(&p->data, &p->mu);
		if (p->count == 0) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		i = p->tail;
		skip = p->failed || p->stop;
		pthread_mutex_unlock(&p->mu);
		if (!skip)
			zfeed(p, p->buf[i], p->len[i]);
		pthread_mutex_lock(&p->mu);
		p->tail = (p->tail + 1) % RING_SLOTS;
		p->count--;
		pthread_cond_signal(&p->space);
		pthread_mutex_unlock(&p->mu);
	}
	return NULL;
}

/* Queue buf[head] (fill bytes). */
static void
zpublish(struct zpipe *p)
{
	if (p->fill == 0)
		return;
	if (!p->threaded) {
		if (!p->failed)
			zfeed(p, p->buf[0], p->fill);
		p->fill = 0;
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->len[p->head] = p->fill;
	p->head = (p->head + 1) % RING_SLOTS;
	p->count++;
	p->fill = 0;
	pthread_cond_signal(&p->data);
	pthread_mutex_unlock(&p->mu);
}

static int
zfailed(struct zpipe *p)
{
	int failed;

	if (!p->threaded)
		return p->failed;
	pthread_mutex_lock(&p->mu);
	failed = p->failed;
	pthread_mutex_unlock(&p->mu);
	return failed;
}

/* Wait until buf[head] is free to fill; 1 when the compressor failed. */
static int
zwait_slot(struct zpipe *p)
{
	int failed;

	if (!p->threaded)
		return p->failed;
	pthread_mutex_lock(&p->mu);
	while (p->count == RING_SLOTS && !p->failed)
		pthread_cond_wait(&p->space, &p->mu);
	failed = p->failed;
	pthread_mutex_unlock(&p->mu);
	return failed;
}

/* The tar writer's output: into the ring. */
static la_ssize_t
tar_out(struct archive *a, void *arg, const void *buf, size_t len)
{
	struct zpipe *p = arg;
	const char *b = buf;
	size_t left = len, n;

	(void)a;
	if (p->discard)
		return (la_ssize_t)len;
	while (left > 0) {
		if (p->fill == 0 && zwait_slot(p))
			return -1;
		n = RING_CHUNK - p->fill;
		if (n > left)
			n = left;
		memcpy(p->buf[p->threaded ? p->head : 0] + p->fill, b, n);
		p->fill += n;
		b += n;
		left -= n;
		if (p->fill == RING_CHUNK)
			zpublish(p);
	}
	return (la_ssize_t)len;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Copy size bytes of fd into the archive, hashing them. */
static int
add_data(struct archive *a, int fd, const char *name, long long size,
    char *buf, size_t bufsz, struct mls_digest *d)
{
	long long left = size;
	ssize_t n;
	size_t want;
	int rc;

	while (left > 0) {
		want = left < (long long)bufsz ? (size_t)left : bufsz;
		n = read(fd, buf, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return mls_error_set_errno(MLS_EIO, "read '%s'", name);
		}
		if (n == 0)
			return mls_error_set(MLS_EIO,
			    "'%s': file shrank while being packed", name);
		if ((rc = mls_digest_update(d, buf, (size_t)n)) < 0)
			return rc;
		if (archive_write_data(a, buf, (size_t)n) != n)
			return arch_error(a, MLS_EIO, "write entry", name);
		left -= n;
	}
	return 0;
}

static int
same_stat(const struct stat *x, const struct stat *y)
{
	return x->st_size == y->st_size && x->st_ino == y->st_ino &&
	    x->st_dev == y->st_dev && x->st_mode == y->st_mode &&
	    x->st_mtim.tv_sec == y->st_mtim.tv_sec &&
	    x->st_mtim.tv_nsec == y->st_mtim.tv_nsec &&
	    x->st_ctim.tv_sec == y->st_ctim.tv_sec &&
	    x->st_ctim.tv_nsec == y->st_ctim.tv_nsec;
}

static int
add_one(struct archive *a, struct archive_entry *e, const char *root,
    const char *rel, char *buf, size_t bufsz, mls_pack_entry_fn fn, void *arg)
{
	struct mls_buf full = MLS_BUF_INIT;
	struct mls_pack_entry pe;
	struct mls_digest d = { NULL, 0 };
	char target[PATH_MAX];
	struct stat sb, after;
	ssize_t tn;
	int fd = -1, rc;

	if ((rc = mls_pack_check_name(rel)) < 0)
		return rc;
	mls_buf_addf(&full, "%s/%s", root, rel);
	if ((rc = mls_buf_error(&full)) < 0)
		goto out;
	memset(&pe, 0, sizeof(pe));
	pe.path = rel;
	archive_entry_clear(e);
	archive_entry_copy_pathname(e, rel);
	archive_entry_set_mtime(e, (time_t)MLS_PACK_MTIME, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	/*
	 * Open first: one lookup for the common case.  O_NOFOLLOW fails on
	 * a symlink (ELOOP); O_NONBLOCK keeps a fifo from blocking.
	 */
	fd = open(full.buf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd < 0 && errno != ELOOP) {
		rc = mls_error_set_errno(errno == ENOENT ? MLS_ENOTFOUND : MLS_EIO,
		    errno == ENOENT ? "stat '%s'" : "open '%s'", full.buf);
		goto out;
	}
	if (fd < 0 ? lstat(full.buf, &sb) == -1 : fstat(fd, &sb) == -1) {
		rc = mls_error_set_errno(errno == ENOENT ? MLS_ENOTFOUND : MLS_EIO,
		    "stat '%s'", full.buf);
		goto out;
	}
	if (S_ISLNK(sb.st_mode)) {
		if ((tn = readlink(full.buf, target, sizeof(target) - 1)) < 0) {
			rc = mls_error_set_errno(MLS_EIO, "readlink '%s'", full.buf);
			goto out;
		}
		target[tn] = '\0';
		if (!mls_pack_link_inside(rel, target)) {
			rc = mls_error_set(MLS_EINPUT, "symlink '%s' -> '%s': "
			    "target leaves the tree", rel, target);
			goto out;
		}
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_set_perm(e, 0777);
		archive_entry_copy_symlink(e, target);
		archive_entry_set_size(e, 0);
		if (archive_write_header(a, e) != ARCHIVE_OK) {
			rc = arch_error(a, MLS_EIO, "write entry", rel);
			goto out;
		}
		pe.type = 'l';
		pe.target = target;
	} else if (fd < 0) {
		/* ELOOP on something that is no longer a symlink */
		rc = mls_error_set(MLS_EIO, "'%s': changed while being packed",
		    full.buf);
		goto out;
	} else if (S_ISDIR(sb.st_mode)) {
		archive_entry_set_filetype(e, AE_IFDIR);
		archive_entry_set_perm(e, 0755);
		archive_entry_set_size(e, 0);
		if (archive_write_header(a, e) != ARCHIVE_OK) {
			rc = arch_error(a, MLS_EIO, "write entry", rel);
			goto out;
		}
		pe.type = 'd';
	} else if (S_ISREG(sb.st_mode)) {
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, (sb.st_mode & 0111) ? 0755 : 0644);
		archive_entry_set_size(e, (la_int64_t)sb.st_size);
		if (archive_write_header(a, e) != ARCHIVE_OK) {
			rc = arch_error(a, MLS_EIO, "write entry", rel);
			goto out;
		}
		if ((rc = mls_digest_init(&d)) < 0 ||
		    (rc = add_data(a, fd, full.buf, (long long)sb.st_size,
		    buf, bufsz, &d)) < 0 ||
		    (rc = mls_digest_final_bin(&d, pe.sha256)) < 0)
			goto out;
		pe.type = 'f';
		pe.exec = (sb.st_mode & 0111) != 0;
		pe.size = (long long)sb.st_size;
		pe.st = &sb;
		pe.stable = fstat(fd, &after) == 0 && same_stat(&sb, &after);
	} else {
		rc = mls_error_set(MLS_EINPUT, "'%s': not a regular file, "
		    "directory or symlink", rel);
		goto out;
	}
	rc = fn != NULL ? fn(arg, &pe) : 0;
out:
	mls_digest_release(&d);
	if (fd >= 0)
		close(fd);
	mls_buf_release(&full);
	return rc;
}

/* The compressing writer: raw format, zstd level 3, output to p. */
static int
zopen(struct zpipe *p, const char *path)
{
	struct archive_entry *re;
	int ok;

	if ((p->z = archive_write_new()) == NULL ||
	    (re = archive_entry_new()) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	archive_entry_copy_pathname(re, "tar");
	archive_entry_set_filetype(re, AE_IFREG);
	ok = archive_write_set_format_raw(p->z) == ARCHIVE_OK &&
	    archive_write_add_filter_zstd(p->z) == ARCHIVE_OK &&
	    archive_write_set_filter_option(p->z, "zstd", "compression-level",
	    "3") == ARCHIVE_OK &&
	    archive_write_set_bytes_per_block(p->z, 0) == ARCHIVE_OK &&
	    archive_write_set_bytes_in_last_block(p->z, 1) == ARCHIVE_OK &&
	    archive_write_open(p->z, p, NULL, zout, NULL) == ARCHIVE_OK &&
	    archive_write_header(p->z, re) == ARCHIVE_OK;
	archive_entry_free(re);
	if (!ok)
		return arch_error(p->z, MLS_EIO, "create archive", path);
	return 0;
}

int
mls_pack_create_ex(const char *root, const json_t *files, const char *path,
    mls_pack_entry_fn fn, void *arg, struct mls_pack_result *res)
{
	struct zpipe p;
	pthread_t tid;
	struct archive *a = NULL;
	struct archive_entry *e = NULL;
	const char **names = NULL;
	const size_t bufsz = 256 * 1024;
	char *buf = NULL;
	const json_t *v;
	size_t n, i;
	int rc, started = 0, zclosed = 0;

	memset(&p, 0, sizeof(p));
	p.fd = -1;
	if (!json_is_array(files))
		return mls_error_set(MLS_ERR, "pack: files is not an array");
	n = json_array_size(files);
	if ((names = calloc(n + 1, sizeof(*names))) == NULL ||
	    (buf = malloc(bufsz)) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < RING_SLOTS; i++)
		if ((p.buf[i] = malloc(RING_CHUNK)) == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
	json_array_foreach(files, i, v) {
		names[i] = json_is_string(v) ? json_string_value(v) :
		    json_string_value(json_object_get(v, "path"));
		if (names[i] == NULL) {
			rc = mls_error_set(MLS_ERR, "pack: entry %zu has no path", i);
			goto out;
		}
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_str);

	if ((p.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) < 0) {
		rc = mls_error_set_errno(MLS_EIO, "create '%s'", path);
		goto out;
	}
	if ((rc = mls_digest_init(&p.d)) < 0 || (rc = zopen(&p, path)) < 0)
		goto out;
	if ((a = archive_write_new()) == NULL || (e = archive_entry_new()) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, &p, NULL, tar_out, NULL) != ARCHIVE_OK) {
		rc = arch_error(a, MLS_EIO, "create archive", path);
		goto out;
	}
	if (pthread_mutex_init(&p.mu, NULL) == 0) {
		if (pthread_cond_init(&p.data, NULL) == 0) {
			if (pthread_cond_init(&p.space, NULL) == 0) {
				if (pthread_create(&tid, NULL, zthread, &p) == 0)
					started = 1;
				else
					pthread_cond_destroy(&p.space);
			}
			if (!started)
				pthread_cond_destroy(&p.data);
		}
		if (!started)
			pthread_mutex_destroy(&p.mu);
	}
	p.threaded = started;
	if (!started)
		mls_debug("pack: no compressor thread; compressing inline");
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
			continue;	/* listed twice */
		if ((rc = add_one(a, e, root, names[i], buf, bufsz, fn, arg)) < 0) {
			if (zfailed(&p))	/* the cause is the compressor's */
				rc = mls_error_set(p.err, "write archive '%s': "
				    "%s", path, p.msg);
			goto out;
		}
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		rc = zfailed(&p) ? mls_error_set(p.err, "write archive "
		    "'%s': %s", path, p.msg) : arch_error(a, MLS_EIO,
		    "write archive", path);
		goto out;
	}
	zpublish(&p);
	if (started) {
		pthread_mutex_lock(&p.mu);
		p.eof = 1;
		pthread_cond_signal(&p.data);
		pthread_mutex_unlock(&p.mu);
		pthread_join(tid, NULL);
		started = 0;
	}
	zclosed = 1;
	if (!p.failed && archive_write_close(p.z) != ARCHIVE_OK)
		zfail(&p, MLS_EIO, archive_error_string(p.z) ?
		    archive_error_string(p.z) : "unknown libarchive error");
	if (p.failed) {
		rc = mls_error_set(p.err, "write archive '%s': %s", path, p.msg);
		goto out;
	}
	if (close(p.fd) == -1) {
		p.fd = -1;
		rc = mls_error_set_errno(MLS_EIO, "close '%s'", path);
		goto out;
	}
	p.fd = -1;
	if (res != NULL) {
		if ((rc = mls_digest_final(&p.d, res->sha256)) < 0)
			goto out;
		res->size = p.out;
	}
	mls_debug("pack: %zu entries from '%s' into '%s' (%s)", n, root, path,
	    p.threaded ? "two threads" : "one thread");
	rc = 0;
out:
	if (started) {
		pthread_mutex_lock(&p.mu);
		p.stop = 1;
		pthread_cond_signal(&p.data);
		pthread_mutex_unlock(&p.mu);
		pthread_join(tid, NULL);
	}
	if (p.threaded) {
		pthread_cond_destroy(&p.space);
		pthread_cond_destroy(&p.data);
		pthread_mutex_destroy(&p.mu);
	}
	/*
	 * On failure both writers are closed with their output dropped, not
	 * archive_write_fail()ed: libarchive 3.6 frees the state of an output
	 * callback in close only, so a failed writer leaks it.
	 */
	p.discard = 1;
	if (rc < 0 && a != NULL)
		archive_write_close(a);
	if (!zclosed && p.z != NULL)
		archive_write_close(p.z);
	archive_entry_free(e);
	archive_write_free(a);
	archive_write_free(p.z);
	mls_digest_release(&p.d);
	if (p.fd >= 0)
		close(p.fd);
	for (i = 0; i < RING_SLOTS; i++)
		free(p.buf[i]);
	free(names);
	free(buf);
	return rc;
}

int
mls_pack_create(const char *root, const json_t *files, const char *path)
{
	return mls_pack_create_ex(root, files, path, NULL, NULL, NULL);
}

/* ---- extraction ------------------------------------------------------- */

/* Strip leading "./" components; what remains is the name to check. */
static const char *
skip_dot(const char *name)
{
	while (name[0] == '.' && name[1] == '/') {
		name += 2;
		while (*name == '/')
			name++;
	}
	return name;
}

/* The most an extraction writes, and which limit that is. */
struct cap {
	long long	 bytes;
	long long	 ratio;		/* 0: the size limit is the lower */
};

static int
too_big(const char *archive, const char *name, const struct cap *max)
{
	if (max->ratio > 0)
		return mls_error_set(MLS_EINPUT, "archive '%s': entry '%s': "
		    "more than %lld bytes in all, %lld times the archive's size "
		    "(extract_max_ratio)", archive, name, max->bytes, max->ratio);
	return mls_error_set(MLS_EINPUT, "archive '%s': entry '%s': more than "
	    "%lld bytes in all (extract_max_size)", archive, name, max->bytes);
}

/* Copy the current entry's data from r to w, counting bytes. */
static int
copy_entry(struct archive *r, struct archive *w, const char *archive,
    const char *name, long long *total, const struct cap *max)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int st;

	for (;;) {
		st = archive_read_data_block(r, &buf, &len, &off);
		if (st == ARCHIVE_EOF)
			return 0;
		if (st < ARCHIVE_WARN)
			return arch_error(r, MLS_EINPUT, "archive", archive);
		*total += (long long)len;
		if (*total > max->bytes)
			return too_big(archive, name, max);
		if (archive_write_data_block(w, buf, len, off) < ARCHIVE_WARN)
			return arch_error(w, MLS_EIO, "extract", name);
	}
}

int
mls_pack_extract(const char *archive, const char *dest,
    const struct mls_pack_limits *lim)
{
	struct archive *r = NULL, *w = NULL;
	struct archive_entry *e;
	struct mls_buf full = MLS_BUF_INIT, rel = MLS_BUF_INIT;
	long long max_bytes = MLS_PACK_DEFAULT_MAX_BYTES;
	long long max_entries = MLS_PACK_DEFAULT_MAX_ENTRIES;
	long long max_ratio = MLS_PACK_DEFAULT_MAX_RATIO;
	struct cap cap;
	struct stat sb;
	long long total = 0, declared = 0, count = 0;
	char *root = NULL;
	const char *name, *link;
	unsigned int ft;
	int st, rc;

	if (lim != NULL && lim->max_bytes > 0)
		max_bytes = lim->max_bytes;
	if (lim != NULL && lim->max_entries > 0)
		max_entries = lim->max_entries;
	if (lim != NULL && lim->max_ratio > 0)
		max_ratio = lim->max_ratio;
	if (access(archive, R_OK) == -1 || stat(archive, &sb) == -1)
		return mls_error_set_errno(errno == ENOENT ? MLS_ENOTFOUND :
		    MLS_EIO, "archive '%s'", archive);
	/* a bomb (1 GiB of zeros is 100 KB of zstd) stops at the ratio */
	cap.bytes = max_bytes;
	cap.ratio = 0;
	if ((long long)sb.st_size < (max_bytes - MLS_PACK_RATIO_SLACK) / max_ratio) {
		cap.bytes = (long long)sb.st_size * max_ratio + MLS_PACK_RATIO_SLACK;
		cap.ratio = max_ratio;
	}
	if ((rc = mls_mkdirs(dest, 0755)) < 0)
		return rc;
	/*
	 * libarchive's SECURE_SYMLINKS refuses any symlink on the path,
	 * including those above dest (/tmp -> /private/tmp): resolve dest.
	 */
	if ((root = realpath(dest, NULL)) == NULL)
		return mls_error_set_errno(MLS_EIO, "'%s'", dest);

	if ((r = archive_read_new()) == NULL || (w = archive_write_disk_new()) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	archive_read_support_filter_all(r);
	archive_read_support_format_tar(r);
	archive_read_support_format_empty(r);
	archive_write_disk_set_options(w, ARCHIVE_EXTRACT_TIME |
	    ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS);
	if (archive_read_open_filename(r, archive, 64 * 1024) != ARCHIVE_OK) {
		rc = arch_error(r, MLS_EINPUT, "archive", archive);
		goto out;
	}
	for (;;) {
		st = archive_read_next_header(r, &e);
		if (st == ARCHIVE_EOF)
			break;
		if (st < ARCHIVE_WARN) {
			rc = arch_error(r, MLS_EINPUT, "archive", archive);
			goto out;
		}
		name = archive_entry_pathname(e);
		if (name == NULL) {
			rc = mls_error_set(MLS_EINPUT, "archive '%s': entry "
			    "without a name", archive);
			goto out;
		}
		if (++count > max_entries) {
			rc = mls_error_set(MLS_EINPUT, "archive '%s': entry '%s': "
			    "more than %lld entries (extract_max_files)", archive,
			    name, max_entries);
			goto out;
		}
		/* "./" or ".": the root itself, which dest already is */
		if (*name != '/' && (*skip_dot(name) == '\0' ||
		    strcmp(skip_dot(name), ".") == 0)) {
			archive_read_data_skip(r);
			continue;
		}
		if (*name == '/' || mls_pack_check_name(skip_dot(name)) < 0) {
			rc = mls_error_set(MLS_EINPUT, "archive '%s': entry '%s': "
			    "%s", archive, name, *name == '/' ? "absolute path" :
			    "'..' in path");
			goto out;
		}
		/* a copy: setting the pathname below frees the entry's own */
		mls_buf_reset(&rel);
		mls_buf_adds(&rel, skip_dot(name));
		if ((rc = mls_buf_error(&rel)) < 0)
			goto out;
		name = rel.buf;
		ft = archive_entry_filetype(e);
		link = archive_entry_hardlink(e);
		if (link != NULL) {
			if (*link == '/' || mls_pack_check_name(skip_dot(link)) < 0 ||
			    *skip_dot(link) == '\0') {
				rc = mls_error_set(MLS_EINPUT, "archive '%s': entry "
				    "'%s': hard link to '%s' leaves the tree",
				    archive, name, link);
				goto out;
			}
		} else if (ft == AE_IFLNK) {
			link = archive_entry_symlink(e);
			if (link == NULL || !mls_pack_link_inside(name, link)) {
				rc = mls_error_set(MLS_EINPUT, "archive '%s': entry "
				    "'%s': symlink to '%s' leaves the tree",
				    archive, name, link ? link : "");
				goto out;
			}
			link = NULL;
		} else if (ft != AE_IFREG && ft != AE_IFDIR) {
			rc = mls_error_set(MLS_EINPUT, "archive '%s': entry '%s': "
			    "%s refused", archive, name,
			    ft == AE_IFCHR || ft == AE_IFBLK ? "device" :
			    ft == AE_IFIFO ? "fifo" : ft == AE_IFSOCK ? "socket" :
			    "unknown entry type");
			goto out;
		}
		if (*name == '\0') {
			if (ft == AE_IFDIR)
				continue;	/* "./" itself */
			rc = mls_error_set(MLS_EINPUT, "archive '%s': entry '%s': "
			    "empty name", archive, archive_entry_pathname(e));
			goto out;
		}
		if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0) {
			declared += archive_entry_size(e);
			if (declared > cap.bytes) {
				rc = too_big(archive, name, &cap);
				goto out;
			}
		}
		/* only under dest, and without setuid/setgid/sticky bits */
		mls_buf_reset(&full);
		mls_buf_addf(&full, "%s/%s", root, name);
		if ((rc = mls_buf_error(&full)) < 0)
			goto out;
		archive_entry_copy_pathname(e, full.buf);
		if (link != NULL) {
			mls_buf_reset(&full);
			mls_buf_addf(&full, "%s/%s", root, skip_dot(link));
			if ((rc = mls_buf_error(&full)) < 0)
				goto out;
			archive_entry_copy_hardlink(e, full.buf);
		}
		archive_entry_set_perm(e, archive_entry_perm(e) & 0777);
		st = archive_write_header(w, e);
		if (st < ARCHIVE_WARN) {
			rc = arch_error(w, st == ARCHIVE_FATAL ? MLS_EIO :
			    MLS_EINPUT, "extract", name);
			goto out;
		}
		if (archive_entry_size(e) > 0 && (rc = copy_entry(r, w, archive,
		    name, &total, &cap)) < 0)
			goto out;
		if (archive_write_finish_entry(w) < ARCHIVE_WARN) {
			rc = arch_error(w, MLS_EIO, "extract", name);
			goto out;
		}
	}
	if (archive_write_close(w) != ARCHIVE_OK) {
		rc = arch_error(w, MLS_EIO, "extract into", root);
		goto out;
	}
	mls_debug("pack: extracted %lld entries, %lld bytes from '%s' into '%s'",
	    count, total, archive, root);
	rc = 0;
out:
	archive_read_free(r);
	archive_write_free(w);
	mls_buf_release(&full);
	mls_buf_release(&rel);
	free(root);
	return rc;
}
