/*
 * mls_tempfile.c - atomic file writes: a temporary file beside the final
 * name, renamed into place.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mls_buf.h"
#include "mls_error.h"
#include "mls_tempfile.h"

int
mls_tempfile_open_template(struct mls_tempfile *t, const char *tmpl)
{
	char *path;
	int fd;

	if ((path = strdup(tmpl)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	if ((fd = mkostemp(path, O_CLOEXEC)) == -1) {
		int rc = mls_error_set_errno(MLS_EIO, "create '%s'", path);
		free(path);
		return rc;
	}
	t->path = path;
	t->fd = fd;
	return 0;
}

int
mls_tempfile_open(struct mls_tempfile *t, const char *dest)
{
	struct mls_buf b = MLS_BUF_INIT;
	const char *sl = strrchr(dest, '/');
	int rc;

	if (sl == NULL)
		mls_buf_adds(&b, MLS_TEMPFILE_PREFIX "XXXXXX");
	else
		mls_buf_addf(&b, "%.*s/" MLS_TEMPFILE_PREFIX "XXXXXX",
		    (int)(sl - dest), dest);
	if ((rc = mls_buf_error(&b)) == 0)
		rc = mls_tempfile_open_template(t, b.buf);
	mls_buf_release(&b);
	return rc;
}

int
mls_tempfile_write(struct mls_tempfile *t, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		if ((n = write(t->fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return mls_error_set_errno(MLS_EIO, "write '%s'", t->path);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * fsync the directory of path so that a rename in it is durable: best
 * effort, as the file is in place already (some file systems refuse).
 */
static void
sync_dir_of(const char *path)
{
	struct mls_buf b = MLS_BUF_INIT;
	const char *sl = strrchr(path, '/');
	int fd;

	if (sl == NULL)
		mls_buf_adds(&b, ".");
	else if (sl == path)
		mls_buf_adds(&b, "/");
	else
		mls_buf_add(&b, path, (size_t)(sl - path));
	if (mls_buf_error(&b) == 0 &&
	    (fd = open(b.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
	mls_buf_release(&b);
}

int
mls_tempfile_commit(struct mls_tempfile *t, const char *dest, mode_t mode,
    unsigned flags)
{
	int rc = 0;

	if (t->path == NULL || t->fd < 0) {
		rc = mls_error_set(MLS_ERR, "commit '%s': no temporary file open",
		    dest);
		goto out;
	}
	if (fchmod(t->fd, mode) == -1)
		rc = mls_error_set_errno(MLS_EIO, "chmod '%s'", t->path);
	else if ((flags & MLS_TEMPFILE_FSYNC) && fsync(t->fd) == -1)
		rc = mls_error_set_errno(MLS_EIO, "fsync '%s'", t->path);
	if (close(t->fd) == -1 && rc == 0)
		rc = mls_error_set_errno(MLS_EIO, "close '%s'", t->path);
	t->fd = -1;
	if (rc < 0)
		goto out;
	if (rename(t->path, dest) == -1) {
		rc = mls_error_set_errno(MLS_EIO, "rename '%s' to '%s'", t->path,
		    dest);
		goto out;
	}
	free(t->path);
	t->path = NULL;		/* it is dest now: nothing to remove */
	if (flags & MLS_TEMPFILE_SYNC_DIR)
		sync_dir_of(dest);
	rc = 0;
out:
	mls_tempfile_abort(t);
	return rc;
}

void
mls_tempfile_abort(struct mls_tempfile *t)
{
	int e = errno;

	if (t->fd >= 0)
		close(t->fd);
	if (t->path != NULL)
		(void)unlink(t->path);
	free(t->path);
	t->path = NULL;
	t->fd = -1;
	errno = e;
}

int
mls_write_file_atomic(const char *path, const void *data, size_t len,
    mode_t mode, unsigned flags)
{
	struct mls_tempfile t = MLS_TEMPFILE_INIT;
	int rc;

	if ((rc = mls_tempfile_open(&t, path)) == 0 &&
	    (rc = mls_tempfile_write(&t, data, len)) == 0)
		rc = mls_tempfile_commit(&t, path, mode, flags);
	mls_tempfile_abort(&t);
	return rc;
}

int
mls_write_atomic(const char *path, const void *data, size_t len, int sync)
{
	return mls_write_file_atomic(path, data, len, 0644,
	    sync ? MLS_TEMPFILE_FSYNC : 0);
}
