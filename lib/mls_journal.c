#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_config.h"
#include "mls_error.h"
#include "mls_journal.h"
#include "mls_record.h"

struct mls_journal {
	int		 fd;
	char		*path;
	struct mls_buf	 pending;
	unsigned long	 count;
	int		 unsynced;	/* written, not fsynced yet */
};

int
mls_journal_open(struct mls_journal **out, const char *path)
{
	struct mls_journal *j = NULL;
	char *dir = NULL, *slash;
	int rc;

	*out = NULL;
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->path = strdup(path)) == NULL || (dir = strdup(path)) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	mls_buf_init(&j->pending);
	j->fd = -1;
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if ((rc = mls_mkdirs(dir, 0700)) < 0)
			goto out;
	}
	j->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (j->fd == -1) {
		rc = mls_error_set_errno(MLS_EIO, "open journal '%s'", path);
		goto out;
	}
	*out = j;
	j = NULL;
	rc = 0;
out:
	free(dir);
	if (j != NULL) {
		if (j->fd != -1)
			close(j->fd);
		free(j->path);
		free(j);
	}
	return rc;
}

int
mls_journal_append(struct mls_journal *j, json_t *ev)
{
	char ts[32], *line;

	if (json_object_get(ev, "t") == NULL) {
		mls_time_format(ts, mls_time_now());
		json_object_set_new(ev, "t", json_string(ts));
	}
	if ((line = json_dumps(ev, MLS_JSON_COMPACT)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	mls_buf_adds(&j->pending, line);
	mls_buf_addc(&j->pending, '\n');
	free(line);
	j->count++;
	return mls_buf_error(&j->pending);
}

int
mls_journal_flush(struct mls_journal *j)
{
	const char *p = j->pending.buf;
	size_t left = j->pending.len;
	ssize_t n;

	while (left > 0) {
		if ((n = write(j->fd, p, left)) < 0) {
			if (errno == EINTR)
				continue;
			return mls_error_set_errno(MLS_EIO, "write journal '%s'", j->path);
		}
		p += n;
		left -= (size_t)n;
		j->unsynced = 1;
	}
	mls_buf_reset(&j->pending);
	return 0;
}

int
mls_journal_sync(struct mls_journal *j)
{
	int rc;

	if ((rc = mls_journal_flush(j)) < 0)
		return rc;
	if (!j->unsynced)
		return 0;
	if (fdatasync(j->fd) == -1)
		return mls_error_set_errno(MLS_EIO, "sync journal '%s'", j->path);
	j->unsynced = 0;
	return 0;
}

unsigned long
mls_journal_count(const struct mls_journal *j)
{
	return j->count;
}

int
mls_journal_close(struct mls_journal *j)
{
	int rc = 0;

	if (j == NULL)
		return 0;
	rc = mls_journal_sync(j);
	if (close(j->fd) == -1 && rc == 0)
		rc = mls_error_set_errno(MLS_EIO, "close journal '%s'", j->path);
	mls_buf_release(&j->pending);
	free(j->path);
	free(j);
	return rc;
}

int
mls_journal_replay(const char *path, int (*fn)(json_t *ev, void *arg), void *arg)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned long lineno = 0;
	ssize_t n;
	json_t *ev;
	FILE *fp;
	int rc = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return mls_error_set_errno(errno == ENOENT ? MLS_ENOTFOUND : MLS_EIO,
		    "open journal '%s'", path);
	while ((n = getline(&line, &cap, fp)) > 0) {
		lineno++;
		if (line[n - 1] != '\n')
			break;		/* torn last line: the writer died mid-write */
		if (n == 1)
			continue;
		if ((rc = mls_jsonl_parse(line, (size_t)n, path, lineno, &ev)) < 0)
			break;
		rc = fn(ev, arg);
		json_decref(ev);
		if (rc < 0)	/* the event was refused: say where it is */
			mls_error_prefix("%s:%lu", path, lineno);
		if (rc != 0)
			break;
	}
	if (rc == 0 && ferror(fp))
		rc = mls_error_set_errno(MLS_EIO, "read journal '%s'", path);
	free(line);
	fclose(fp);
	return rc;
}
