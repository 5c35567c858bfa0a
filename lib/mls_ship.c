/*
 * mls_ship.c - the ship operation: list, pack, digest, upload, describe.
 */
#include "config.h"

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
#include "mls_digest.h"
#include "mls_error.h"
#include "mls_gitinfo.h"
#include "mls_log.h"
#include "mls_pack.h"
#include "mls_ship.h"
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

/* Pack into a temp file, digest it, upload unless present. */
static int
pack_upload(const struct mls_config *cfg, struct mls_store *st,
    const char *dir, const json_t *files, json_t *rec)
{
	struct mls_buf key = MLS_BUF_INIT, id = MLS_BUF_INIT,
	    tmp = MLS_BUF_INIT;
	struct mls_pack_result res;
	char *tmpdir = NULL, *url = NULL;
	long long size = 0, have = -1;
	int fd, rc, made = 0, uploaded = 0;

	if (st == NULL) {
		rc = mls_error_set(MLS_ERR, "ship: no store");
		goto out;
	}
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
	if ((rc = mls_pack_create_ex(dir, files, tmp.buf, NULL, NULL,
	    &res)) < 0)
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
	mls_debug("ship: %s %s (%lld bytes)", id.buf, uploaded ? "uploaded" :
	    "already in the store", size);
	if ((url = mls_store_key_url(st, key.buf)) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	json_object_set_new(rec, "id", json_string(id.buf));
	json_object_set_new(rec, "url", json_string(url));
	json_object_set_new(rec, "size", json_integer((json_int_t)size));
	json_object_set_new(rec, "uploaded", json_boolean(uploaded));
	rc = 0;
out:
	if (made)
		(void)unlink(tmp.buf);
	free(tmpdir);
	free(url);
	mls_buf_release(&key);
	mls_buf_release(&id);
	mls_buf_release(&tmp);
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
	json_t *files = NULL, *git = NULL, *rec = NULL, *e;
	long long bytes = 0, max;
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
	} else if ((rc = pack_upload(cfg, st, abs, files, rec)) < 0) {
		goto out;
	}
	*out = rec;
	rec = NULL;
	rc = 0;
out:
	json_decref(rec);
	json_decref(git);
	json_decref(files);
	free(abs);
	return rc;
}
