/*
 * mls_store.h - where sandboxes and results live.
 *
 * Drivers: file:// (the embedded default, $XDG_DATA_HOME/mls/store) and
 * http(s):// (a WebDAV server such as nginx; lib/mls_http.c).  Keys are relative paths:
 *   sandboxes/sha256/<2 hex>/<64 hex>.tar.zst
 *   jobs/<job id>/{spec.sh,params.json,result.json,metrics.jsonl,stdout,
 *                  stderr,outputs.tar.zst,stop}
 * Writes are atomic: a reader never sees a half-written object.
 */
#ifndef MLS_STORE_H
#define MLS_STORE_H

#include <stddef.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_config.h"

struct mls_store;

/* Open the store at url (NULL: the configured one). */
int	 mls_store_open(struct mls_store **out, const struct mls_config *cfg,
	    const char *url);
void	 mls_store_free(struct mls_store *st);
/* 1 if url names a store on this file system (file://PATH, PATH), else 0. */
int	 mls_store_url_is_local(const char *url);
/* The store's base URL, ending in '/' (borrowed). */
const char *mls_store_url(const struct mls_store *st);
/* The full URL of key (new string). */
char	*mls_store_key_url(const struct mls_store *st, const char *key);
/* For a file:// store the local path of key (new string), else NULL. */
char	*mls_store_local_path(const struct mls_store *st, const char *key);

/* Store the file at path (atomic). */
int	 mls_store_put_file(struct mls_store *st, const char *key,
	    const char *path);
int	 mls_store_put_buf(struct mls_store *st, const char *key,
	    const void *data, size_t len);
/* Fetch key into path (atomic: written under a temp name, then renamed). */
int	 mls_store_get_file(struct mls_store *st, const char *key,
	    const char *path);
/* Fetch key into out (appended); MLS_EINPUT if larger than max bytes. */
int	 mls_store_get_buf(struct mls_store *st, const char *key,
	    struct mls_buf *out, size_t max);
/* 1 if key exists (its size in *size when size is not NULL), 0 if not. */
int	 mls_store_stat(struct mls_store *st, const char *key, long long *size);
/* Remove key (a missing key is not an error). */
int	 mls_store_delete(struct mls_store *st, const char *key);
/* Names one level below dir (new array of strings; empty if missing). */
int	 mls_store_list(struct mls_store *st, const char *dir, json_t **out);

/* Many downloads at once (curl_multi for http(s) stores). */
struct mls_store_get {
	const char	*key;		/* in */
	const char	*path;		/* in: written atomically */
	const char	*sha256;	/* in: expected hex digest, or NULL */
	int		 missing_ok;	/* in: a missing key gives found = 0 */
	int		 rc;		/* out: 0 or an MLS_E* code */
	int		 found;		/* out */
	long long	 size;		/* out */
	char		*error;		/* out: message when rc < 0 (owned) */
};
/* Bytes done and expected so far, for a progress bar (cmd/ draws). */
typedef void (*mls_store_progress_fn)(void *arg, long long done,
    long long total);
/*
 * Fetch g[0..n-1], at most jobs at a time; content-addressed keys are
 * verified against their digest as well as g[i].sha256.  Every g[i].rc is
 * set; returns 0 if all succeeded, else the first failure's code.
 */
int	 mls_store_get_files(struct mls_store *st, struct mls_store_get *g,
	    size_t n, int jobs, mls_store_progress_fn fn, void *arg);
/* Free the error strings of g[0..n-1]. */
void	 mls_store_get_release(struct mls_store_get *g, size_t n);

/*
 * A batch of small puts (a submission's spec files): inside it, the file
 * driver renames objects into place (visible at once, atomically) but
 * defers durability to one syncfs in mls_store_batch_end().  Batches nest.
 */
void	 mls_store_batch_begin(struct mls_store *st);
int	 mls_store_batch_end(struct mls_store *st);
/* End a batch without the sync: what it wrote may not be on disk yet. */
void	 mls_store_batch_drop(struct mls_store *st);

/* "sandboxes/sha256/ab/abcdef....tar.zst" for a "sha256:<hex>" id. */
int	 mls_store_sandbox_key(const char *sandbox_id, struct mls_buf *key);

#endif
