/*
 * mls_ship.c - the ship operation: list, pack, digest, upload, describe.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_config.h"
#include "mls_digest.h"
#include "mls_error.h"
#include "mls_gitinfo.h"
#include "mls_log.h"
#include "mls_pack.h"
#include "mls_ship.h"
#include "mls_shipcache.h"
#include "mls_store.h"
#include "mls_time.h"

#define LARGEST_SHOWN	5

void
mls_ship_human_size(long long n, char out[32])
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(out, 32, "%lld B", n);
		return;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, 32, "%.1f %s", v, units[u]);
}

static long long
entry_size(const json_t *e)
{
	return (long long)json_integer_value(json_object_get(e, "size"));
}

/* Largest first; equal sizes by path, so the order is stable. */
static int
cmp_largest(const void *a, const void *b)
{
	const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
	long long sx = entry_size(x), sy = entry_size(y);

	if (sx != sy)
		return sx > sy ? -1 : 1;
	return strcmp(json_string_value(json_object_get(x, "path")),
	    json_string_value(json_object_get(y, "path")));
}

/* The files sorted largest first (new array of {"path","size"}). */
static json_t *
largest_first(const json_t *files)
{
	size_t n = json_array_size(files), i;
	const json_t **v;
	json_t *arr = NULL, *o;

	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		v[i] = json_array_get(files, i);
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_largest);
	if ((arr = json_array()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		o = json_pack("{s:O,s:I}", "path", json_object_get(v[i], "path"),
		    "size", (json_int_t)entry_size(v[i]));
		if (o == NULL || json_array_append_new(arr, o) == -1) {
			json_decref(arr);
			arr = NULL;
			goto out;
		}
	}
out:
	free(v);
	return arr;
}

static int
too_large(const char *dir, const json_t *files, long long bytes, long long max)
{
	struct mls_buf msg = MLS_BUF_INIT;
	char a[32], b[32];
	json_t *big, *e;
	size_t i;
	int rc;

	if ((big = largest_first(files)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	mls_ship_human_size(bytes, a);
	mls_ship_human_size(max, b);
	mls_buf_addf(&msg, "'%s': %s of files is over the maximum of %s "
	    "(--max-size); largest:", dir, a, b);
	json_array_foreach(big, i, e) {
		if (i == LARGEST_SHOWN)
			break;
		mls_ship_human_size(entry_size(e), a);
		mls_buf_addf(&msg, "%s '%s' (%s)", i ? "," : "",
		    json_string_value(json_object_get(e, "path")), a);
	}
	json_decref(big);
	if ((rc = mls_buf_error(&msg)) < 0)
		return rc;
	rc = mls_error_set(MLS_EINPUT, "%s", msg.buf);
	mls_buf_release(&msg);
	return rc;
}

/* Set the record's id, url, size and uploaded. */
static int
describe(struct mls_store *st, json_t *rec, const char *id, const char *key,
    long long size, int uploaded)
{
	char *url;

	if ((url = mls_store_key_url(st, key)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	json_object_set_new(rec, "id", json_string(id));
	json_object_set_new(rec, "url", json_string(url));
	json_object_set_new(rec, "size", json_integer((json_int_t)size));
	json_object_set_new(rec, "uploaded", json_boolean(uploaded));
	free(url);
	return 0;
}

/* What packing tells the cache: each entry's digest, the tree key. */
struct packed {
	struct mls_shipcache *cache;	/* or NULL */
	struct mls_treekey key;
};

static int
on_packed(void *arg, const struct mls_pack_entry *e)
{
	struct packed *p = arg;
	int rc;

	if ((rc = mls_treekey_add(&p->key, e)) < 0)
		return rc;
	if (p->cache != NULL && e->type == 'f' && e->stable)
		return mls_shipcache_put(p->cache, e->path, e->st, e->sha256, 0);
	return 0;
}

/* Pack into a temp file (digesting it on the way), upload unless present. */
static int
pack_upload(const struct mls_config *cfg, struct mls_store *st,
    const char *dir, const json_t *files, struct mls_shipcache *cache,
    json_t *rec)
{
	struct mls_buf key = MLS_BUF_INIT, id = MLS_BUF_INIT,
	    tmp = MLS_BUF_INIT;
	struct mls_pack_result res;
	struct packed pk;
	unsigned char tkey[32];
	char *tmpdir = NULL;
	long long size = 0, have = -1;
	double t0, t1;
	int fd, rc, made = 0, uploaded = 0, keyed = 0;

	if (st == NULL) {
		rc = mls_error_set(MLS_ERR, "ship: no store");
		goto out;
	}
	pk.cache = cache;
	if ((rc = mls_treekey_init(&pk.key)) < 0)
		goto out;
	keyed = 1;
	if ((rc = mls_config_data_dir(cfg, "tmp", &tmpdir)) < 0)
		goto out;
	mls_buf_addf(&tmp, "%s/ship-XXXXXX.tar.zst", tmpdir);
	if ((rc = mls_buf_error(&tmp)) < 0)
		goto out;
	if ((fd = mkostemps(tmp.buf, 8, O_CLOEXEC)) < 0) {
		rc = mls_error_set_errno(MLS_EIO, "create '%s'", tmp.buf);
		goto out;
	}
	close(fd);
	made = 1;
	t0 = mls_time_mono();
	if ((rc = mls_pack_create_ex(dir, files, tmp.buf, on_packed, &pk,
	    &res)) < 0)
		goto out;
	t1 = mls_time_mono();
	keyed = 0;
	if ((rc = mls_treekey_final(&pk.key, tkey)) < 0)
		goto out;
	size = res.size;
	mls_buf_addf(&id, "sha256:%s", res.sha256);
	if ((rc = mls_buf_error(&id)) < 0 ||
	    (rc = mls_store_sandbox_key(id.buf, &key)) < 0)
		goto out;
	if ((rc = mls_store_stat(st, key.buf, &have)) < 0)
		goto out;
	if (rc == 0 || have != size) {
		/* absent, or a torn leftover of another size: (re)upload */
		if ((rc = mls_store_put_file(st, key.buf, tmp.buf)) < 0)
			goto out;
		uploaded = 1;
	}
	mls_debug("ship: %s %s (%lld bytes); packed in %.0f ms, stored in "
	    "%.0f ms", id.buf, uploaded ? "uploaded" : "already in the store",
	    size, (t1 - t0) * 1e3, (mls_time_mono() - t1) * 1e3);
	if ((rc = describe(st, rec, id.buf, key.buf, size, uploaded)) < 0)
		goto out;
	if (cache != NULL &&
	    (rc = mls_shipcache_tree_put(cache, tkey, id.buf, size)) < 0)
		goto out;
	rc = 0;
out:
	if (keyed)
		mls_digest_release(&pk.key.d);
	if (made)
		(void)unlink(tmp.buf);
	free(tmpdir);
	mls_buf_release(&key);
	mls_buf_release(&id);
	mls_buf_release(&tmp);
	return rc;
}

/*
 * Hash the regular file at full (lstat'ed as sb) for the cache: 1 with
 * md set when it stayed the same file with the same stat while read, 0
 * when not (packing will see it), < 0 on error.
 */
static int
hash_file(const char *full, const struct stat *sb, unsigned char md[32])
{
	struct mls_digest d = { NULL, 0 };
	unsigned char buf[128 * 1024];
	struct stat a;
	ssize_t n;
	int fd, rc = 0;

	if ((fd = open(full, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) < 0)
		return 0;
	if (fstat(fd, &a) == -1 || a.st_ino != sb->st_ino ||
	    a.st_dev != sb->st_dev || !S_ISREG(a.st_mode))
		goto out;
	if ((rc = mls_digest_init(&d)) < 0)
		goto out;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto out;	/* rc 0: packing says what is wrong */
		}
		if ((rc = mls_digest_update(&d, buf, (size_t)n)) < 0)
			goto out;
	}
	if (d.size != (long long)sb->st_size || fstat(fd, &a) == -1 ||
	    a.st_size != sb->st_size ||
	    a.st_mtim.tv_sec != sb->st_mtim.tv_sec ||
	    a.st_mtim.tv_nsec != sb->st_mtim.tv_nsec ||
	    a.st_ctim.tv_sec != sb->st_ctim.tv_sec ||
	    a.st_ctim.tv_nsec != sb->st_ctim.tv_nsec)
		goto out;
	if ((rc = mls_digest_final_bin(&d, md)) == 0)
		rc = 1;
out:
	mls_digest_release(&d);
	close(fd);
	return rc;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The tree's key from the cache, without packing: every file's stat
 * found clean in the cache, or (when a cache was loaded) the file hashed
 * again while no more than a quarter of the bytes need it.  1 with tkey
 * set, 0 when packing must tell (nothing put in the cache then), < 0 on
 * error.
 */
static int
key_from_cache(const char *abs, const json_t *files, long long bytes,
    struct mls_shipcache *cache, unsigned char tkey[32])
{
	struct mls_buf full = MLS_BUF_INIT;
	struct mls_pack_entry pe;
	struct mls_treekey k;
	const char **names = NULL;
	char target[PATH_MAX];
	long long budget = bytes / 4, hashed = 0;
	int loaded = mls_shipcache_loaded(cache) > 0, rc, keyed = 0, same;
	int rootfd = -1;
	size_t n = json_array_size(files), i;
	struct stat sb;
	ssize_t tn;

	if (!loaded)
		return 0;	/* a first ship: packing hashes the files */
	if (budget < (1LL << 20))
		budget = 1LL << 20;
	if ((names = calloc(n + 1, sizeof(*names))) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((names[i] = json_string_value(json_object_get(
		    json_array_get(files, i), "path"))) == NULL) {
			rc = 0;
			goto out;
		}
	qsort(names, n, sizeof(*names), cmp_name);
	if ((rootfd = open(abs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = 0;
		goto out;
	}
	if ((rc = mls_treekey_init(&k)) < 0)
		goto out;
	keyed = 1;
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
			continue;	/* as packing does */
		rc = 0;
		if (fstatat(rootfd, names[i], &sb, AT_SYMLINK_NOFOLLOW) == -1)
			goto out;
		memset(&pe, 0, sizeof(pe));
		pe.path = names[i];
		if (S_ISREG(sb.st_mode)) {
			pe.type = 'f';
			pe.exec = (sb.st_mode & 0111) != 0;
			pe.size = (long long)sb.st_size;
			same = mls_shipcache_lookup(cache, names[i], &sb,
			    pe.sha256);
			if (!same) {
				hashed += pe.size;
				if (hashed > budget)
					goto out;	/* cheaper to pack */
				mls_buf_reset(&full);
				mls_buf_addf(&full, "%s/%s", abs, names[i]);
				if ((rc = mls_buf_error(&full)) < 0 ||
				    (rc = hash_file(full.buf, &sb,
				    pe.sha256)) <= 0)
					goto out;
				mls_debug("ship: '%s' changed", names[i]);
			}
			if ((rc = mls_shipcache_put(cache, names[i], &sb,
			    pe.sha256, same)) < 0)
				goto out;
		} else if (S_ISLNK(sb.st_mode)) {
			if ((tn = readlinkat(rootfd, names[i], target,
			    sizeof(target) - 1)) < 0)
				goto out;
			target[tn] = '\0';
			if (!mls_pack_link_inside(names[i], target))
				goto out;	/* packing refuses it */
			pe.type = 'l';
			pe.target = target;
		} else if (S_ISDIR(sb.st_mode)) {
			pe.type = 'd';
		} else {
			goto out;
		}
		if ((rc = mls_treekey_add(&k, &pe)) < 0)
			goto out;
	}
	keyed = 0;
	if ((rc = mls_treekey_final(&k, tkey)) < 0)
		goto out;
	rc = 1;
out:
	if (keyed)
		mls_digest_release(&k.d);
	if (rc <= 0)
		mls_shipcache_forget(cache);
	if (rootfd >= 0)
		close(rootfd);
	mls_buf_release(&full);
	free(names);
	return rc;
}

/*
 * Ship without packing when the cache knows the tree and the store holds
 * its archive: 1 with rec described, else 0.
 */
static int
ship_known(struct mls_store *st, const char *abs, const json_t *files,
    long long bytes, struct mls_shipcache *cache, json_t *rec)
{
	struct mls_buf key = MLS_BUF_INIT;
	unsigned char tkey[32];
	char id[72];
	long long size = -1, have = -1;
	int rc;

	if (st == NULL || cache == NULL)
		return 0;
	if ((rc = key_from_cache(abs, files, bytes, cache, tkey)) <= 0)
		return rc;
	if (!mls_shipcache_tree_get(cache, tkey, id, &size)) {
		/* a new tree: packing puts every file again */
		mls_shipcache_forget(cache);
		return 0;
	}
	if ((rc = mls_store_sandbox_key(id, &key)) < 0)
		goto out;
	if ((rc = mls_store_stat(st, key.buf, &have)) < 0)
		goto out;
	if (rc == 0 || have != size) {
		mls_debug("ship: %s known but not in the store", id);
		mls_shipcache_forget(cache);
		rc = 0;
		goto out;
	}
	mls_debug("ship: %s known from the cache, already in the store "
	    "(%lld bytes)", id, size);
	if ((rc = describe(st, rec, id, key.buf, size, 0)) < 0)
		goto out;
	rc = 1;
out:
	mls_buf_release(&key);
	return rc;
}

/*
 * mls's own data directory (the store, the journals) never ships, even
 * when it lies inside the tree (MLS_DATA_HOME=./data, say).
 */
static void
drop_data_home(const struct mls_config *cfg, const char *abs, json_t *files)
{
	char *dh = realpath(cfg->data_home, NULL);
	size_t alen = strlen(abs), plen;
	const char *rel;
	size_t i;

	if (dh == NULL)
		return;
	if (strncmp(dh, abs, alen) == 0 && dh[alen] == '/') {
		rel = dh + alen + 1;
		plen = strlen(rel);
		for (i = json_array_size(files); i-- > 0;) {
			const char *p = json_string_value(json_object_get(
			    json_array_get(files, i), "path"));
			if (p != NULL && strncmp(p, rel, plen) == 0 &&
			    (p[plen] == '/' || p[plen] == '\0'))
				json_array_remove(files, i);
		}
	}
	free(dh);
}

int
mls_ship(const struct mls_config *cfg, struct mls_store *st, const char *dir,
    const struct mls_ship_opts *o, json_t **out)
{
	static const struct mls_ship_opts defaults = { 0 };
	struct mls_shipcache *cache = NULL;
	json_t *files = NULL, *git = NULL, *rec = NULL, *e;
	long long bytes = 0, max;
	double tl, t0;
	char created[32];
	char *abs = NULL;
	struct stat sb;
	size_t i;
	int rc;

	*out = NULL;
	if (o == NULL)
		o = &defaults;
	max = o->max_size > 0 ? o->max_size : MLS_SHIP_DEFAULT_MAX_SIZE;
	if ((abs = realpath(dir, NULL)) == NULL) {
		rc = mls_error_set_errno(errno == ENOENT || errno == ENOTDIR ?
		    MLS_ENOTFOUND : MLS_EIO, "'%s'", dir);
		goto out;
	}
	if (stat(abs, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		rc = mls_error_set(MLS_EINPUT, "'%s': not a directory", dir);
		goto out;
	}
	tl = mls_time_mono();
	if ((rc = mls_gitinfo_files(abs, &files)) < 0)
		goto out;
	drop_data_home(cfg, abs, files);
	json_array_foreach(files, i, e)
		bytes += entry_size(e);
	if (bytes > max) {
		rc = too_large(abs, files, bytes, max);
		goto out;
	}
	if ((rc = mls_gitinfo_describe(abs, &git)) < 0)
		goto out;

	mls_time_format(created, mls_time_now());
	rec = json_pack("{s:s,s:n,s:n,s:n,s:I,s:I,s:s?,s:O,s:s,s:s,s:b}",
	    "kind", "sandbox", "id", "url", "size",
	    "files", (json_int_t)json_array_size(files),
	    "bytes", (json_int_t)bytes, "image", o->image, "git", git,
	    "dir", abs, "created", created, "uploaded", 0);
	if (rec == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	if (o->dry_run) {
		json_t *listing = largest_first(files);
		if (listing == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
		json_object_set_new(rec, "dry_run", json_true());
		json_object_set_new(rec, "listing", listing);
	} else {
		if (st != NULL && mls_shipcache_open(cfg, abs, &cache) < 0)
			mls_debug("ship: no cache: %s", mls_error_last());
		t0 = mls_time_mono();
		if ((rc = ship_known(st, abs, files, bytes, cache, rec)) < 0)
			goto out;
		mls_debug("ship: listed in %.1f ms, cache checked in %.1f ms",
		    (t0 - tl) * 1e3, (mls_time_mono() - t0) * 1e3);
		if (rc == 0 && (rc = pack_upload(cfg, st, abs, files, cache,
		    rec)) < 0)
			goto out;
		if (cache != NULL && mls_shipcache_save(cache) < 0)
			mls_debug("ship: cache not saved: %s", mls_error_last());
	}
	*out = rec;
	rec = NULL;
	rc = 0;
out:
	mls_shipcache_free(cache);
	json_decref(rec);
	json_decref(git);
	json_decref(files);
	free(abs);
	return rc;
}
