/*
 * mls_tempfile.h - atomic file writes (git's tempfile.h and lockfile.h).
 *
 * A file is written under a temporary name in the directory of its final
 * name, then renamed over it: a reader sees the old file or the new one,
 * never a part.  Temporary names start with MLS_TEMPFILE_PREFIX (hidden),
 * so that listings skip them.  Any failure removes the temporary file.
 *
 *	struct mls_tempfile t = MLS_TEMPFILE_INIT;
 *
 *	if ((rc = mls_tempfile_open(&t, path)) < 0 ||
 *	    (rc = mls_tempfile_write(&t, data, len)) < 0 ||
 *	    (rc = mls_tempfile_commit(&t, path, 0644, MLS_TEMPFILE_FSYNC)) < 0)
 *		goto out;
 *	...
 * out:
 *	mls_tempfile_abort(&t);		(nothing left behind; a no-op after commit)
 *
 * A process killed between open and commit leaves its temporary file
 * behind: the library installs no signal handlers.
 */
#ifndef MLS_TEMPFILE_H
#define MLS_TEMPFILE_H

#include <stddef.h>
#include <sys/types.h>

#define MLS_TEMPFILE_PREFIX	".mls-tmp-"

struct mls_tempfile {
	char	*path;	/* the temporary file; NULL when none */
	int	 fd;	/* open for writing; -1 when none */
};
#define MLS_TEMPFILE_INIT	{ .path = NULL, .fd = -1 }

enum mls_tempfile_flags {
	MLS_TEMPFILE_FSYNC = 1 << 0,	/* fsync the data before the rename */
	MLS_TEMPFILE_SYNC_DIR = 1 << 1,	/* then the directory (best effort) */
};

/*
 * Create DIR/.mls-tmp-XXXXXX (mode 0600, close-on-exec) where DIR is the
 * directory of dest, which must exist.  t must be MLS_TEMPFILE_INIT or
 * released.  MLS_EIO on failure, t untouched.
 */
int	 mls_tempfile_open(struct mls_tempfile *t, const char *dest);
/* The same with a mkostemp(3) template (ending in XXXXXX). */
int	 mls_tempfile_open_template(struct mls_tempfile *t, const char *tmpl);
/* Write all of data at the current offset; MLS_EIO on failure. */
int	 mls_tempfile_write(struct mls_tempfile *t, const void *data, size_t len);
/*
 * Set mode, fsync as flags ask, close and rename the temporary file over
 * dest.  0, or MLS_EIO with the temporary file removed.  Either way t is
 * released.
 */
int	 mls_tempfile_commit(struct mls_tempfile *t, const char *dest,
	    mode_t mode, unsigned flags);
/* Close and remove the temporary file, if any; t is re-initialised. */
void	 mls_tempfile_abort(struct mls_tempfile *t);

/*
 * Write data to path atomically (see above): mode, flags as for
 * mls_tempfile_commit().
 */
int	 mls_write_file_atomic(const char *path, const void *data, size_t len,
	    mode_t mode, unsigned flags);
/* The same, mode 0644, fsynced when sync is set. */
int	 mls_write_atomic(const char *path, const void *data, size_t len,
	    int sync);

#endif
