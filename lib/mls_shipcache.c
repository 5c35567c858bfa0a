/*
 * mls_shipcache.c - the stat cache of shipped trees (see mls_shipcache.h).
 *
 * File layout, integers little-endian:
 *	"MLSSHIPC" u32 version
 *	u64 stamp (ns since the epoch: when the run that wrote it began)
 *	u32 n, n bytes, NUL: the directory
 *	u32 n, n bytes, NUL: the libraries (libarchive's version details)
 *	u32 trees, u32 entries
 *	trees:   32 bytes key, 64 hex digits id, u64 archive size
 *	entries: u32 n, n bytes, NUL: path; u64 size, mtime ns, ctime ns,
 *		 inode, device; u32 mode; 32 bytes SHA-256
 *	32 bytes: SHA-256 of all the above
 * Entries are sorted by path (byte order).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>

#include "mls_alloc.h"
#include "mls_buf.h"
#include "mls_config.h"
#include "mls_digest.h"
#include "mls_error.h"
#include "mls_log.h"
#include "mls_pack.h"
#include "mls_shipcache.h"
#include "mls_tempfile.h"

#define MAGIC		"MLSSHIPC"
#define CACHE_VERSION		1u
#define MAX_PATH_LEN	4096u
#define MAX_FILE_BYTES	(512LL << 20)
#define RACY_NS		1000000000LL	/* git compares seconds; we take one */

struct sc_entry {
	char		*path;		/* owned in next; into blob in old */
	long long	 size, mtime, ctime;
	uint64_t	 ino, dev;
	uint32_t	 mode;
	unsigned char	 md[32];
};

struct sc_tree {
	unsigned char	 key[32];
	char		 id[72];	/* "sha256:" and 64 hex digits */
	long long	 size;
};

struct mls_shipcache {
	char		*path;		/* the cache file */
	char		*dir;		/* the tree it describes */
	char		*blob;		/* the file as read */
	long long	 stamp_old;	/* of the loaded file */
	long long	 stamp_new;	/* of this run */
	struct sc_entry	*old;
	size_t		 nold;
	struct sc_entry	*next;
	size_t		 nnext, capnext;
	struct sc_tree	 trees[MLS_SHIPCACHE_MAX_TREES];
	size_t		 ntrees, ntrees_old;
	int		 dirty;
};

/*
 * The archive's bytes depend on libarchive's and libzstd's versions, so
 * they are part of every key.  Not archive_version_details(): libarchive
 * 3.6 builds that string anew on each call and leaks the one before.
 */
static char libs_buf[128];
static pthread_once_t libs_once = PTHREAD_ONCE_INIT;

static void
libs_init(void)
{
	const char *a = archive_version_string();
	const char *z = archive_libzstd_version();

	snprintf(libs_buf, sizeof(libs_buf), "%s libzstd/%s",
	    a != NULL ? a : "libarchive ?", z != NULL ? z : "?");
}

static const char *
libs(void)
{
	pthread_once(&libs_once, libs_init);
	return libs_buf;
}

static long long
ns_of(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

/* ---- reading ----------------------------------------------------------- */

struct cur {
	const unsigned char *p, *end;
	int bad;
};

static const unsigned char *
take(struct cur *c, size_t n)
{
	const unsigned char *p = c->p;

	if (c->bad || (size_t)(c->end - c->p) < n) {
		c->bad = 1;
		return NULL;
	}
	c->p += n;
	return p;
}

static uint64_t
get_u(struct cur *c, int bytes)
{
	const unsigned char *p = take(c, (size_t)bytes);
	uint64_t v = 0;
	int i;

	if (p == NULL)
		return 0;
	for (i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* A u32-counted, NUL-terminated string, pointing into the blob. */
static const char *
get_str(struct cur *c)
{
	uint64_t n = get_u(c, 4);
	const unsigned char *p;

	if (n > MAX_PATH_LEN) {
		c->bad = 1;
		return NULL;
	}
	if ((p = take(c, (size_t)n + 1)) == NULL || p[n] != '\0' ||
	    memchr(p, '\0', (size_t)n) != NULL) {
		c->bad = 1;
		return NULL;
	}
	return (const char *)p;
}

/* Parse c->blob (len bytes); 0, or a reason why it is not usable. */
static const char *
parse(struct mls_shipcache *c, size_t len)
{
	const unsigned char *b = (const unsigned char *)c->blob;
	struct cur k = { b, b + len, 0 };
	unsigned char md[32];
	const unsigned char *p;
	const char *s;
	uint64_t ntrees, n, i;
	struct mls_digest d;

	if (len < 8 + 4 + 32)
		return "too short";
	if (mls_digest_init(&d) < 0 || mls_digest_update(&d, b, len - 32) < 0 ||
	    mls_digest_final_bin(&d, md) < 0) {
		mls_digest_release(&d);
		return "cannot hash";
	}
	if (memcmp(md, b + len - 32, 32) != 0)
		return "checksum mismatch";
	k.end -= 32;
	if ((p = take(&k, 8)) == NULL || memcmp(p, MAGIC, 8) != 0)
		return "not a ship cache";
	if (get_u(&k, 4) != CACHE_VERSION)
		return "another version";
	c->stamp_old = (long long)get_u(&k, 8);
	if ((s = get_str(&k)) == NULL || strcmp(s, c->dir) != 0)
		return "another directory";
	if ((s = get_str(&k)) == NULL || strcmp(s, libs()) != 0)
		return "other libraries";
	ntrees = get_u(&k, 4);
	n = get_u(&k, 4);
	if (k.bad || ntrees > MLS_SHIPCACHE_MAX_TREES ||
	    n > (uint64_t)MLS_PACK_DEFAULT_MAX_ENTRIES)
		return "bad counts";
	for (i = 0; i < ntrees; i++) {
		struct sc_tree *t = &c->trees[i];
		if ((p = take(&k, 32)) == NULL)
			return "truncated";
		memcpy(t->key, p, 32);
		if ((p = take(&k, 64)) == NULL)
			return "truncated";
		memcpy(t->id, "sha256:", 7);
		memcpy(t->id + 7, p, 64);
		t->id[71] = '\0';
		t->size = (long long)get_u(&k, 8);
	}
	if (n > 0 && (c->old = calloc((size_t)n, sizeof(*c->old))) == NULL)
		return "out of memory";
	for (i = 0; i < n; i++) {
		struct sc_entry *e = &c->old[i];
		if ((s = get_str(&k)) == NULL)
			return "truncated";
		e->path = (char *)(uintptr_t)s;
		e->size = (long long)get_u(&k, 8);
		e->mtime = (long long)get_u(&k, 8);
		e->ctime = (long long)get_u(&k, 8);
		e->ino = get_u(&k, 8);
		e->dev = get_u(&k, 8);
		e->mode = (uint32_t)get_u(&k, 4);
		if ((p = take(&k, 32)) == NULL)
			return "truncated";
		memcpy(e->md, p, 32);
		if (i > 0 && strcmp(c->old[i - 1].path, e->path) >= 0)
			return "entries not sorted";
	}
	if (k.bad || k.p != k.end)
		return "bad length";
	c->nold = (size_t)n;
	c->ntrees = c->ntrees_old = (size_t)ntrees;
	return NULL;
}

static void
load(struct mls_shipcache *c)
{
	const char *why = NULL;
	struct stat sb;
	size_t got = 0;
	ssize_t r;
	int fd;

	if ((fd = open(c->path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno != ENOENT)
			mls_debug("ship cache '%s': %s: ignored", c->path,
			    strerror(errno));
		return;
	}
	if (fstat(fd, &sb) == -1 || sb.st_size > MAX_FILE_BYTES ||
	    (c->blob = malloc((size_t)sb.st_size + 1)) == NULL) {
		why = "unreadable or too large";
		goto out;
	}
	while (got < (size_t)sb.st_size) {
		r = read(fd, c->blob + got, (size_t)sb.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got != (size_t)sb.st_size)
		why = "short read";
	else
		why = parse(c, got);
out:
	close(fd);
	if (why != NULL) {
		mls_debug("ship cache '%s': %s: ignored", c->path, why);
		free(c->old);
		c->old = NULL;
		c->nold = 0;
		c->ntrees = c->ntrees_old = 0;
		c->stamp_old = 0;
	}
}

int
mls_shipcache_open(const struct mls_config *cfg, const char *abs,
    struct mls_shipcache **out)
{
	struct mls_shipcache *c;
	struct mls_buf p = MLS_BUF_INIT;
	struct timespec now;
	char hex[65], *dir = NULL;
	int rc;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	clock_gettime(CLOCK_REALTIME, &now);
	c->stamp_new = ns_of(&now);
	if ((rc = mls_config_data_dir(cfg, MLS_SHIPCACHE_DIR, &dir)) < 0 ||
	    (rc = mls_digest_buf(abs, strlen(abs), hex)) < 0)
		goto out;
	mls_buf_addf(&p, "%s/%s", dir, hex);
	if ((rc = mls_buf_error(&p)) < 0)
		goto out;
	if ((c->dir = strdup(abs)) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	c->path = mls_buf_detach(&p);
	load(c);
	*out = c;
	c = NULL;
	rc = 0;
out:
	mls_shipcache_free(c);
	mls_buf_release(&p);
	free(dir);
	return rc;
}

void
mls_shipcache_free(struct mls_shipcache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nnext; i++)
		free(c->next[i].path);
	free(c->next);
	free(c->old);
	free(c->blob);
	free(c->path);
	free(c->dir);
	free(c);
}

size_t
mls_shipcache_loaded(const struct mls_shipcache *c)
{
	return c->nold + c->ntrees_old;
}

const char *
mls_shipcache_path(const struct mls_shipcache *c)
{
	return c->path;
}

void
mls_shipcache_set_stamp(struct mls_shipcache *c, long long ns)
{
	c->stamp_new = ns;
	c->dirty = 1;
}

static int
cmp_entry_path(const void *key, const void *elem)
{
	return strcmp(key, ((const struct sc_entry *)elem)->path);
}

int
mls_shipcache_lookup(const struct mls_shipcache *c, const char *path,
    const struct stat *st, unsigned char md[32])
{
	const struct sc_entry *e;
	long long mt = ns_of(&st->st_mtim), ct = ns_of(&st->st_ctim);

	if (c->nold == 0 ||
	    (e = bsearch(path, c->old, c->nold, sizeof(*c->old),
	    cmp_entry_path)) == NULL)
		return 0;
	if (e->size != (long long)st->st_size || e->mtime != mt ||
	    e->ctime != ct || e->ino != (uint64_t)st->st_ino ||
	    e->dev != (uint64_t)st->st_dev || e->mode != (uint32_t)st->st_mode)
		return 0;
	/* racily clean: changed in the second the cache was made? */
	if (mt >= c->stamp_old - RACY_NS || ct >= c->stamp_old - RACY_NS)
		return 0;
	memcpy(md, e->md, 32);
	return 1;
}

int
mls_shipcache_put(struct mls_shipcache *c, const char *path,
    const struct stat *st, const unsigned char md[32], int same)
{
	struct sc_entry *e;
	int rc;

	if ((rc = MLS_GROW(c->next, c->capnext, c->nnext + 1)) < 0)
		return rc;
	e = &c->next[c->nnext];
	if ((e->path = strdup(path)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	e->size = (long long)st->st_size;
	e->mtime = ns_of(&st->st_mtim);
	e->ctime = ns_of(&st->st_ctim);
	e->ino = (uint64_t)st->st_ino;
	e->dev = (uint64_t)st->st_dev;
	e->mode = (uint32_t)st->st_mode;
	memcpy(e->md, md, 32);
	c->nnext++;
	if (!same)
		c->dirty = 1;
	return 0;
}

void
mls_shipcache_forget(struct mls_shipcache *c)
{
	size_t i;

	for (i = 0; i < c->nnext; i++)
		free(c->next[i].path);
	c->nnext = 0;
}

int
mls_shipcache_tree_get(const struct mls_shipcache *c,
    const unsigned char key[32], char id[72], long long *size)
{
	size_t i;

	for (i = 0; i < c->ntrees; i++)
		if (memcmp(c->trees[i].key, key, 32) == 0) {
			memcpy(id, c->trees[i].id, 72);
			*size = c->trees[i].size;
			return 1;
		}
	return 0;
}

static int
valid_id(const char *id)
{
	size_t i;

	if (strncmp(id, "sha256:", 7) != 0 || strlen(id) != 71)
		return 0;
	for (i = 7; i < 71; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return 1;
}

int
mls_shipcache_tree_put(struct mls_shipcache *c, const unsigned char key[32],
    const char *id, long long size)
{
	struct sc_tree t;
	size_t i;

	if (!valid_id(id) || size < 0)
		return mls_error_set(MLS_ERR, "ship cache: bad id '%s'", id);
	memcpy(t.key, key, 32);
	memcpy(t.id, id, 72);
	t.size = size;
	/* most recent first; an older record of the key goes */
	for (i = 0; i < c->ntrees; i++)
		if (memcmp(c->trees[i].key, key, 32) == 0)
			break;
	if (i == c->ntrees && c->ntrees < MLS_SHIPCACHE_MAX_TREES)
		c->ntrees++;
	if (i == c->ntrees)
		i--;
	memmove(&c->trees[1], &c->trees[0], i * sizeof(t));
	c->trees[0] = t;
	c->dirty = 1;
	return 0;
}

/* ---- writing ----------------------------------------------------------- */

static void
put_u(struct mls_buf *b, uint64_t v, int bytes)
{
	unsigned char x[8];
	int i;

	for (i = 0; i < bytes; i++, v >>= 8)
		x[i] = (unsigned char)(v & 0xff);
	mls_buf_add(b, x, (size_t)bytes);
}

static void
put_str(struct mls_buf *b, const char *s)
{
	size_t n = strlen(s);

	put_u(b, n, 4);
	mls_buf_add(b, s, n + 1);
}

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct sc_entry *)a)->path,
	    ((const struct sc_entry *)b)->path);
}

/* Keep at most MLS_SHIPCACHE_MAX_FILES cache files: the oldest go. */
static void
prune(const char *path)
{
	char *dir = strdup(path), *slash;
	struct mls_buf f = MLS_BUF_INIT;
	struct dirent *de;
	struct stat sb;
	DIR *d;
	size_t n;
	long long oldest;
	char victim[80];

	if (dir == NULL || (slash = strrchr(dir, '/')) == NULL)
		goto out;
	*slash = '\0';
	for (;;) {
		if ((d = opendir(dir)) == NULL)
			goto out;
		n = 0;
		oldest = -1;
		victim[0] = '\0';
		while ((de = readdir(d)) != NULL) {
			if (strlen(de->d_name) != 64)
				continue;
			n++;
			mls_buf_reset(&f);
			mls_buf_addf(&f, "%s/%s", dir, de->d_name);
			if (mls_buf_error(&f) < 0 || stat(f.buf, &sb) == -1)
				continue;
			if (oldest < 0 || ns_of(&sb.st_mtim) < oldest) {
				oldest = ns_of(&sb.st_mtim);
				snprintf(victim, sizeof(victim), "%s", de->d_name);
			}
		}
		closedir(d);
		if (n <= MLS_SHIPCACHE_MAX_FILES || victim[0] == '\0')
			break;
		mls_buf_reset(&f);
		mls_buf_addf(&f, "%s/%s", dir, victim);
		if (mls_buf_error(&f) < 0 || unlink(f.buf) == -1)
			break;
		mls_debug("ship cache: dropped '%s' (over %d files)", f.buf,
		    MLS_SHIPCACHE_MAX_FILES);
	}
out:
	mls_buf_release(&f);
	free(dir);
}

int
mls_shipcache_save(struct mls_shipcache *c)
{
	struct mls_buf b = MLS_BUF_INIT;
	unsigned char md[32];
	struct mls_digest d;
	size_t i, j;
	int rc, sorted = 1;

	if (!c->dirty && c->nnext == c->nold)
		return 0;
	for (i = 1; i < c->nnext && sorted; i++)
		sorted = strcmp(c->next[i - 1].path, c->next[i].path) < 0;
	if (!sorted) {
		/* sorted, and a path put twice kept once */
		qsort(c->next, c->nnext, sizeof(*c->next), cmp_entry);
		for (i = 1, j = 1; i < c->nnext; i++) {
			if (strcmp(c->next[j - 1].path, c->next[i].path) == 0)
				free(c->next[i].path);
			else
				c->next[j++] = c->next[i];
		}
		if (c->nnext > 0)
			c->nnext = j;
	}
	mls_buf_add(&b, MAGIC, 8);
	put_u(&b, CACHE_VERSION, 4);
	put_u(&b, (uint64_t)c->stamp_new, 8);
	put_str(&b, c->dir);
	put_str(&b, libs());
	put_u(&b, c->ntrees, 4);
	put_u(&b, c->nnext, 4);
	for (i = 0; i < c->ntrees; i++) {
		mls_buf_add(&b, c->trees[i].key, 32);
		mls_buf_add(&b, c->trees[i].id + 7, 64);
		put_u(&b, (uint64_t)c->trees[i].size, 8);
	}
	for (i = 0; i < c->nnext; i++) {
		const struct sc_entry *e = &c->next[i];
		put_str(&b, e->path);
		put_u(&b, (uint64_t)e->size, 8);
		put_u(&b, (uint64_t)e->mtime, 8);
		put_u(&b, (uint64_t)e->ctime, 8);
		put_u(&b, e->ino, 8);
		put_u(&b, e->dev, 8);
		put_u(&b, e->mode, 4);
		mls_buf_add(&b, e->md, 32);
	}
	if ((rc = mls_buf_error(&b)) < 0)
		goto out;
	if ((rc = mls_digest_init(&d)) < 0)
		goto out;
	if ((rc = mls_digest_update(&d, b.buf, b.len)) < 0) {
		mls_digest_release(&d);
		goto out;
	}
	if ((rc = mls_digest_final_bin(&d, md)) < 0)
		goto out;
	mls_buf_add(&b, md, 32);
	if ((rc = mls_buf_error(&b)) < 0 ||
	    (rc = mls_write_file_atomic(c->path, b.buf, b.len, 0600, 0)) < 0)
		goto out;
	mls_debug("ship cache: wrote '%s' (%zu files, %zu trees)", c->path,
	    c->nnext, c->ntrees);
	c->dirty = 0;
	prune(c->path);
	rc = 0;
out:
	mls_buf_release(&b);
	return rc;
}

/* ---- the tree key ------------------------------------------------------ */

int
mls_treekey_init(struct mls_treekey *k)
{
	static const char head[] = "mls-ship tree 1; pax restricted; zstd 3; ";
	int rc;

	if ((rc = mls_digest_init(&k->d)) < 0)
		return rc;
	if ((rc = mls_digest_update(&k->d, head, sizeof(head))) < 0 ||
	    (rc = mls_digest_update(&k->d, libs(), strlen(libs()) + 1)) < 0)
		mls_digest_release(&k->d);
	return rc;
}

int
mls_treekey_add(struct mls_treekey *k, const struct mls_pack_entry *e)
{
	char head[48];
	int n, rc;

	/* type, mode bit, size, NUL; the digest; path, NUL; target, NUL */
	n = snprintf(head, sizeof(head), "%c%c%lld", e->type,
	    e->type == 'f' && e->exec ? 'x' : '-',
	    e->type == 'f' ? e->size : 0LL);
	if ((rc = mls_digest_update(&k->d, head, (size_t)n + 1)) < 0 ||
	    (e->type == 'f' &&
	    (rc = mls_digest_update(&k->d, e->sha256, 32)) < 0) ||
	    (rc = mls_digest_update(&k->d, e->path, strlen(e->path) + 1)) < 0 ||
	    (e->type == 'l' && (rc = mls_digest_update(&k->d, e->target,
	    strlen(e->target) + 1)) < 0))
		return rc;
	return 0;
}

int
mls_treekey_final(struct mls_treekey *k, unsigned char key[32])
{
	return mls_digest_final_bin(&k->d, key);
}
