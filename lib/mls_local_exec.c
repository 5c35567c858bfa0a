/*
 * mls_local_exec.c - lib/jobwrap.sh in C, for the local site (see
 * mls_local_exec.h).  A trial of a few milliseconds paid ~60 ms for the
 * wrapper's twenty short-lived processes; here the command is the only
 * program started, so a trivial trial costs about what its fork and exec
 * cost.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_alloc.h"
#include "mls_buf.h"
#include "mls_config.h"
#include "mls_digest.h"
#include "mls_error.h"
#include "mls_job.h"
#include "mls_jobwrap.h"
#include "mls_local_exec.h"
#include "mls_log.h"
#include "mls_pack.h"
#include "mls_record.h"
#include "mls_run.h"
#include "mls_store.h"
#include "mls_tempfile.h"

#define TICK_NS		(200L * 1000 * 1000)	/* the wrapper's 0.2 s */
#define TMP_NAME	".mls-tmp-XXXXXX"	/* the store's temp names */

struct xjob {
	const char	*id;
	const json_t	*job;		/* the queue entry's "job" */
	struct mls_store *st;		/* the job's store, a file store */
	char		*jobdir;	/* its jobs/ID, a local directory */
	char		*work;		/* the scratch dir: SCRATCH/mls-ID */
	char		 started[32];
	int		 have_started;
	int		 pooled;	/* may use the pool of scratch dirs */
	int		 no_outputs;	/* outputs/ known to be empty */
};

static char *
pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
pathf(const char *fmt, ...)
{
	struct mls_buf b = MLS_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	mls_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return mls_buf_detach(&b);
}

/*
 * Open the store of a queue entry (its "store" URL): 0 when it is a store
 * on this file system, as the executor needs, else < 0.  Its writes are
 * not fsynced (a batch never ended), as the wrapper's cp+mv were not: a
 * crash that loses them ends the job too.
 */
static int
open_store(const json_t *e, struct mls_store **out)
{
	struct mls_store *st = NULL;
	char *root = NULL;
	int rc;

	*out = NULL;
	if ((rc = mls_store_open(&st, NULL, mls_record_str(e, "store"))) < 0)
		return rc;
	if ((root = mls_store_local_path(st, "")) == NULL) {
		rc = mls_error_set(MLS_EINPUT, "store '%s': not on this file "
		    "system", mls_store_url(st));
		mls_store_free(st);
		return rc;
	}
	free(root);
	mls_store_batch_begin(st);
	*out = st;
	return 0;
}

static void
close_store(struct mls_store *st)
{
	if (st == NULL)
		return;
	mls_store_batch_drop(st);
	mls_store_free(st);
}

int
mls_local_exec_eligible(const json_t *q)
{
	const json_t *job = json_object_get(q, "job");
	const char *image = mls_record_str(job, "image");
	const char *url = mls_record_str(q, "store");

	if (!json_is_object(job) || !json_is_array(json_object_get(job,
	    "command")) || json_array_size(json_object_get(job, "command")) == 0)
		return 0;
	if (image != NULL && *image != '\0' && strcmp(image, "none") != 0)
		return 0;
	return mls_store_url_is_local(url);
}

/* ---- files ------------------------------------------------------------ */

static int
write_all(int fd, const char *p, size_t len, const char *name)
{
	ssize_t w;

	while (len > 0) {
		if ((w = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return mls_error_set_errno(MLS_EIO, "write '%s'", name);
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Copy the file src to the open fd out; MLS_ENOTFOUND if src is missing. */
static int
copy_into(const char *src, int out, const char *outname)
{
	char buf[65536];
	ssize_t n;
	int in, rc = 0;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return mls_error_set_errno(errno == ENOENT ? MLS_ENOTFOUND :
		    MLS_EIO, "open '%s'", src);
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = mls_error_set_errno(MLS_EIO, "read '%s'", src);
			break;
		}
		if ((rc = write_all(out, buf, (size_t)n, outname)) < 0)
			break;
	}
	close(in);
	return rc;
}

/*
 * Open the scratch dir's file dst to write it from the start: one of ours
 * a pooled dir kept (a regular file of our user with no other link, so
 * that writing it can change nothing outside the dir) is reused, to be
 * written over and cut to size (cut_to); anything else there is removed
 * and the file made anew with mode.  -1 with errno on error.
 */
static int
open_own(const char *dst, mode_t mode)
{
	struct stat sb;
	int fd;

	if ((fd = open(dst, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    sb.st_nlink == 1 && sb.st_uid == geteuid())
			return fd;
		close(fd);
		(void)unlink(dst);
	} else if (errno != ENOENT)
		(void)unlink(dst);	/* a link, or not writable */
	return open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
}

/*
 * End a file written from offset 0 at its current offset: a reused one
 * may be longer (written over, not truncated first, so that a file of the
 * same size costs no block freed and allocated again).
 */
static int
cut_to(int fd, const char *name)
{
	struct stat sb;
	off_t end = lseek(fd, 0, SEEK_CUR);

	if (end < 0 || fstat(fd, &sb) == -1)
		return mls_error_set_errno(MLS_EIO, "write '%s'", name);
	if (sb.st_size > end && ftruncate(fd, end) == -1)
		return mls_error_set_errno(MLS_EIO, "write '%s'", name);
	return 0;
}

/* Copy src to the file dst in the scratch dir. */
static int
copy_file(const char *src, const char *dst)
{
	int fd, rc;

	if ((fd = open_own(dst, 0644)) < 0)
		return mls_error_set_errno(MLS_EIO, "create '%s'", dst);
	rc = copy_into(src, fd, dst);
	if (rc == 0)
		rc = cut_to(fd, dst);
	if (close(fd) == -1 && rc == 0)
		rc = mls_error_set_errno(MLS_EIO, "write '%s'", dst);
	if (rc < 0)
		(void)unlink(dst);
	return rc;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		(void)rmdir(path);
	else
		(void)unlink(path);
	return 0;
}

/* rm -rf path (no error: what cannot be removed stays). */
static void
rm_tree(const char *path)
{
	struct stat sb;

	if (lstat(path, &sb) == -1)
		return;
	if (!S_ISDIR(sb.st_mode)) {
		(void)unlink(path);
		return;
	}
	(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* 1 if the directory path has no entry or is not there. */
static int
dir_empty(const char *path)
{
	struct dirent *de;
	DIR *d;
	int empty = 1;

	if ((d = opendir(path)) == NULL)
		return errno == ENOENT;
	while (empty && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

/* ---- outputs ------------------------------------------------------------ */

static json_t *walk_files;	/* nftw has no user argument */
static size_t walk_root_len;

static int
collect_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag != FTW_F && flag != FTW_SL && flag != FTW_SLN)
		return 0;
	if (strlen(path) <= walk_root_len + 1)
		return 0;
	return json_array_append_new(walk_files, json_string(path +
	    walk_root_len + 1)) == 0 ? 0 : -1;
}

/*
 * Pack work/outputs into jobs/ID/outputs.tar.zst; *out the result's
 * "outputs" object, or NULL when outputs/ holds no file (nothing packed).
 */
static int
pack_outputs(struct xjob *x, json_t **out)
{
	char *root = pathf("%s/outputs", x->work), *tmp = NULL;
	int fd, rc;

	*out = NULL;
	walk_files = json_array();
	if (root == NULL || walk_files == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	if (dir_empty(root)) {		/* the usual case */
		rc = 0;
		goto out;
	}
	walk_root_len = strlen(root);
	if (nftw(root, collect_one, 16, FTW_PHYS) == -1 && errno != ENOENT) {
		rc = mls_error_set_errno(MLS_EIO, "read '%s'", root);
		goto out;
	}
	if (json_array_size(walk_files) == 0) {
		rc = 0;
		goto out;
	}
	if ((tmp = pathf("%s/" TMP_NAME, x->work)) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		rc = mls_error_set_errno(MLS_EIO, "create '%s'", tmp);
		goto out;
	}
	close(fd);
	rc = mls_pack_create(root, walk_files, tmp);
	if (rc == 0)
		rc = mls_job_outputs_put(x->st, x->id, MLS_JOB_OUTPUTS, tmp,
		    out);
	(void)unlink(tmp);
out:
	json_decref(walk_files);
	walk_files = NULL;
	free(root);
	free(tmp);
	return rc;
}

/* ---- sandboxes ------------------------------------------------------------ */

/*
 * A sandbox is verified against its digest and unpacked once per DATA dir,
 * into DATA/sandboxes/HEX/ (renamed into place when complete), and its
 * tree is remembered here; each job gets a copy of that tree.  Copying a
 * few files is much cheaper than unpacking the archive (libarchive, zstd)
 * for every trial, and the copy keeps jobs from changing each other's
 * files.  Unused unpacked sandboxes are removed after SANDBOX_KEEP_S.
 */
#define SANDBOX_KEEP_S	(7 * 24 * 3600)
#define SANDBOX_MEMO	16

struct sb_entry {
	char	*rel;
	char	*target;	/* symlinks */
	mode_t	 mode;
	char	 type;		/* 'd', 'f' or 'l' */
};

struct sb_tree {
	char		 hex[65];
	char		*root;
	struct sb_entry	*e;
	size_t		 n, cap;
	unsigned long	 used;
	time_t		 touched;	/* its dir's mtime set then */
};

static struct sb_tree memo[SANDBOX_MEMO];
static unsigned long memo_clock;
static struct sb_tree *walk_tree;

static void
tree_release(struct sb_tree *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->e[i].rel);
		free(t->e[i].target);
	}
	free(t->e);
	free(t->root);
	memset(t, 0, sizeof(*t));
}

static int
tree_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	struct sb_tree *t = walk_tree;
	struct sb_entry *e;
	size_t rl = strlen(t->root);
	char buf[4096];
	ssize_t n;

	(void)ftw;
	if (strlen(path) <= rl + 1)
		return 0;		/* the root itself */
	if (MLS_GROW(t->e, t->cap, t->n + 1) < 0)
		return -1;
	e = &t->e[t->n];
	memset(e, 0, sizeof(*e));
	e->mode = sb->st_mode & 0777;
	if (flag == FTW_D)
		e->type = 'd';
	else if (flag == FTW_SL) {
		e->type = 'l';
		if ((n = readlink(path, buf, sizeof(buf) - 1)) < 0)
			return -1;
		buf[n] = '\0';
		if ((e->target = strdup(buf)) == NULL)
			return -1;
	} else if (flag == FTW_F && S_ISREG(sb->st_mode))
		e->type = 'f';
	else
		return 0;		/* nothing else is unpacked */
	if ((e->rel = strdup(path + rl + 1)) == NULL) {
		free(e->target);
		return -1;
	}
	t->n++;
	return 0;
}

static int
rm_old_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	time_t now = time(NULL);

	if (ftw->level != 1)
		return 0;
	if (flag == FTW_D && now - sb->st_mtime > SANDBOX_KEEP_S)
		rm_tree(path);
	return FTW_SKIP_SUBTREE;
}

/* Verify and unpack the sandbox id (archive at path) into DATA/sandboxes/HEX. */
static int
unpack_once(const char *dir, const char *final, const char *id,
    const char *archive, const struct mls_pack_limits *lim)
{
	char hex[65], *tmp = NULL;
	long long size;
	int rc;

	if ((rc = mls_mkdirs(dir, 0700)) < 0)
		return rc;
	/* sandboxes nobody used for a week go (their digest dirs' mtime) */
	(void)nftw(dir, rm_old_one, 8, FTW_PHYS | FTW_ACTIONRETVAL);
	if ((rc = mls_digest_file(archive, hex, &size)) < 0)
		return rc;
	if (strcmp(hex, id + 7) != 0)
		return mls_error_set(MLS_EPROTO, "sandbox '%s': digest mismatch "
		    "(the store's file is sha256:%s)", id, hex);
	if ((tmp = pathf("%s/.tmp-%s-%ld", dir, id + 7, (long)getpid())) ==
	    NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	rm_tree(tmp);
	if ((rc = mls_mkdirs(tmp, 0700)) < 0 ||
	    (rc = mls_pack_extract(archive, tmp, lim)) < 0) {
		mls_error_prefix("sandbox '%s': cannot unpack", id);
		goto out;
	}
	if (rename(tmp, final) == -1 && errno != EEXIST && errno != ENOTEMPTY)
		rc = mls_error_set_errno(MLS_EIO, "rename '%s'", tmp);
out:
	rm_tree(tmp);		/* gone already when renamed */
	free(tmp);
	return rc;
}

static int
cmp_rel(const void *a, const void *b)
{
	return strcmp(((const struct sb_entry *)a)->rel,
	    ((const struct sb_entry *)b)->rel);
}

/* The hex digest of a job's sandbox, or "" for none. */
static const char *
sandbox_hex(const json_t *job)
{
	const char *id = mls_record_str(job, "sandbox");

	return id != NULL && strncmp(id, "sha256:", 7) == 0 ? id + 7 : "";
}

/* The tree of sandbox id, unpacked if need be; NULL on error. */
static struct sb_tree *
sandbox_tree(const char *data, struct mls_store *st, const char *id,
    const struct mls_pack_limits *lim)
{
	struct mls_buf key = MLS_BUF_INIT;
	struct sb_tree *t = NULL, *slot = &memo[0];
	char *dir = NULL, *final = NULL, *archive = NULL;
	struct stat sb;
	size_t i;

	for (i = 0; i < SANDBOX_MEMO; i++) {
		if (memo[i].root != NULL && strcmp(memo[i].hex, id + 7) == 0) {
			/* in use: not to be swept (rm_old_one), and still there */
			if (time(NULL) - memo[i].touched >= 3600) {
				if (utimensat(AT_FDCWD, memo[i].root, NULL,
				    0) == -1) {
					tree_release(&memo[i]);
					slot = &memo[i];
					break;
				}
				memo[i].touched = time(NULL);
			}
			memo[i].used = ++memo_clock;
			return &memo[i];
		}
		if (memo[i].used < slot->used)
			slot = &memo[i];
	}
	if (mls_store_sandbox_key(id, &key) < 0)
		goto out;
	dir = pathf("%s/sandboxes", data);
	final = pathf("%s/sandboxes/%s", data, id + 7);
	archive = mls_store_local_path(st, key.buf);
	if (dir == NULL || final == NULL || archive == NULL) {
		mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	if (stat(final, &sb) == -1) {
		if (access(archive, F_OK) == -1) {
			mls_error_set(MLS_ENOTFOUND, "sandbox '%s': not in "
			    "store", id);
			goto out;
		}
		if (unpack_once(dir, final, id, archive, lim) < 0)
			goto out;
	} else
		(void)utimensat(AT_FDCWD, final, NULL, 0);	/* in use */
	tree_release(slot);
	memcpy(slot->hex, id + 7, 64);
	if ((slot->root = strdup(final)) == NULL) {
		mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	walk_tree = slot;
	if (nftw(final, tree_one, 16, FTW_PHYS) != 0) {
		mls_error_set_errno(MLS_EIO, "read '%s'", final);
		tree_release(slot);
		goto out;
	}
	/* sorted by path: parents first, and bsearch (keep_one) */
	if (slot->n > 1)
		qsort(slot->e, slot->n, sizeof(*slot->e), cmp_rel);
	slot->used = ++memo_clock;
	slot->touched = time(NULL);
	t = slot;
out:
	walk_tree = NULL;
	mls_buf_release(&key);
	free(dir);
	free(final);
	free(archive);
	return t;
}

/* Copy the regular file src to dst (created, or truncated) with mode. */
static int
copy_new(const char *src, const char *dst, mode_t mode)
{
	struct stat sb;
	ssize_t n;
	int in, out, rc = 0;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return mls_error_set_errno(MLS_EIO, "open '%s'", src);
	if ((out = open_own(dst, mode)) < 0) {
		close(in);
		return mls_error_set_errno(MLS_EIO, "create '%s'", dst);
	}
	if (fstat(in, &sb) == 0 && sb.st_size > 0) {
		do {
			n = copy_file_range(in, NULL, out, NULL, (size_t)1 << 30,
			    0);
		} while (n > 0);
		if (n < 0) {
			/* another file system, or an old kernel: by hand */
			if (lseek(out, 0, SEEK_SET) == -1 ||
			    lseek(in, 0, SEEK_SET) == -1)
				rc = mls_error_set_errno(MLS_EIO, "write '%s'",
				    dst);
			else
				rc = copy_into(src, out, dst);
		}
	}
	if (rc == 0)
		rc = cut_to(out, dst);
	if (fchmod(out, mode) == -1 && rc == 0)	/* the umask took bits */
		rc = mls_error_set_errno(MLS_EIO, "chmod '%s'", dst);
	if (close(out) == -1 && rc == 0)
		rc = mls_error_set_errno(MLS_EIO, "write '%s'", dst);
	close(in);
	return rc;
}

/* The sandbox's files into work. */
static int
sandbox(struct xjob *x, const char *data)
{
	const json_t *ex = json_object_get(x->job, "extract");
	const struct mls_pack_limits lim = {
		mls_record_int(ex, "max_size", 0),
		mls_record_int(ex, "max_files", 0),
		mls_record_int(ex, "max_ratio", 0),
	};
	const char *id = mls_record_str(x->job, "sandbox");
	struct sb_tree *t;
	struct mls_buf src = MLS_BUF_INIT, dst = MLS_BUF_INIT;
	size_t i;
	int rc = 0, retried = 0;

	if (id == NULL || *id == '\0')
		return 0;
	if (mls_store_sandbox_key(id, &src) < 0)
		return MLS_EINPUT;
	mls_buf_reset(&src);
again:
	if ((t = sandbox_tree(data, x->st, id, &lim)) == NULL)
		return mls_error_code();
	for (i = 0; i < t->n && rc == 0; i++) {
		const struct sb_entry *e = &t->e[i];
		mls_buf_reset(&src);
		mls_buf_reset(&dst);
		mls_buf_addf(&src, "%s/%s", t->root, e->rel);
		mls_buf_addf(&dst, "%s/%s", x->work, e->rel);
		if ((rc = mls_buf_error(&src)) < 0 ||
		    (rc = mls_buf_error(&dst)) < 0)
			break;
		if (e->type == 'd') {
			struct stat sb;
			int made = mkdir(dst.buf, e->mode | 0700) == 0;
			/* a pooled dir's: our own real dir, or it goes */
			if (!made && errno == EEXIST) {
				if (lstat(dst.buf, &sb) == 0 &&
				    S_ISDIR(sb.st_mode) &&
				    sb.st_uid == geteuid())
					made = chmod(dst.buf, e->mode |
					    0700) == 0;
				else if (unlink(dst.buf) == 0)
					made = mkdir(dst.buf, e->mode |
					    0700) == 0;
			}
			if (!made)
				rc = mls_error_set_errno(MLS_EIO, "mkdir '%s'",
				    dst.buf);
		} else if (e->type == 'l') {
			(void)unlink(dst.buf);	/* a pooled dir's */
			if (symlink(e->target, dst.buf) == -1)
				rc = mls_error_set_errno(MLS_EIO, "symlink "
				    "'%s'", dst.buf);
		} else
			rc = copy_new(src.buf, dst.buf, e->mode);
	}
	if (rc < 0 && !retried) {
		/* its unpacked tree went (removed by hand?): unpack it again */
		retried = 1;
		rm_tree(t->root);
		tree_release(t);
		rc = 0;
		goto again;
	}
	if (rc < 0)
		mls_error_prefix("sandbox '%s'", id);
	mls_buf_release(&src);
	mls_buf_release(&dst);
	return rc;
}

/*
 * Where scratch dirs go: $MLS_SCRATCH as it is, else mls-UID under
 * $TMPDIR or /tmp, made mode 0700 and checked to be ours, so that on a
 * shared /tmp no other user can see, swap or remove what is in it.
 */
static char *checked_root;
static double checked_at;

static int
scratch_root(char **out)
{
	const char *base = getenv("MLS_SCRATCH");
	struct stat sb;
	char *root;
	int rc;

	*out = NULL;
	if (base != NULL && *base != '\0') {
		if ((rc = mls_mkdirs(base, 0755)) < 0)
			return rc;
		return (*out = strdup(base)) != NULL ? 0 :
		    mls_error_set(MLS_ENOMEM, "out of memory");
	}
	base = getenv("TMPDIR");
	if (base == NULL || *base == '\0')
		base = "/tmp";
	if ((root = pathf("%s/mls-%ld", base, (long)geteuid())) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	/* checked a moment ago (a scheduler starts many jobs a second) */
	if (checked_root != NULL && strcmp(checked_root, root) == 0 &&
	    mls_time_now() - checked_at < 10.0) {
		*out = root;
		return 0;
	}
	if (mkdir(root, 0700) == -1 && errno == ENOENT &&
	    mls_mkdirs(base, 0755) == 0)
		(void)mkdir(root, 0700);
	if (lstat(root, &sb) == -1 || !S_ISDIR(sb.st_mode) ||
	    sb.st_uid != geteuid() || (sb.st_mode & 077) != 0) {
		rc = mls_error_set(MLS_EIO, "scratch dir '%s': not a directory "
		    "of this user with mode 0700", root);
		free(root);
		return rc;
	}
	free(checked_root);
	checked_root = strdup(root);
	checked_at = mls_time_now();
	*out = root;
	return 0;
}

/* ---- the pool of scratch dirs ---------------------------------------------- */

/*
 * Making a scratch dir (the dir, outputs/, the sandbox's files) and
 * removing it costs more than all the rest of a trivial trial on ext4,
 * the more so as the file system slows down the allocation of inodes
 * near many recently deleted ones.  So the dirs of ended jobs are kept:
 * emptied of everything but outputs/ (itself emptied), params.json,
 * input.json and the sandbox's own files and dirs, and renamed to
 * SCRATCH/mls-pool-PID-N; a job with the same sandbox gets one renamed
 * to SCRATCH/mls-ID, and its files are written over in place (the same
 * inodes).  The pool lives in the scheduler's process.
 */
#define POOL_MAX	64

static struct pooled {
	char	*root;		/* the scratch root of the dir */
	char	 hex[65];	/* its sandbox, "" none */
	char	*dir;
} pool[POOL_MAX];
static size_t npool;
static unsigned long pool_seq;
static const struct sb_tree *keep_tree;
static size_t keep_base;

static void
pooled_free(size_t i)
{
	free(pool[i].root);
	free(pool[i].dir);
	pool[i] = pool[--npool];
}

/* Take a pooled dir of sandbox hex for work: 1, or 0 if none. */
static int
pool_take(const char *root, const char *hex, const char *work)
{
	size_t i;

	for (i = npool; i-- > 0; ) {
		if (strcmp(pool[i].root, root) != 0 ||
		    strcmp(pool[i].hex, hex) != 0)
			continue;
		if (rename(pool[i].dir, work) == -1) {
			rm_tree(pool[i].dir);
			pooled_free(i);
			continue;
		}
		pooled_free(i);
		return 1;
	}
	return 0;
}

static int
cmp_entry(const void *key, const void *elem)
{
	return strcmp(key, ((const struct sb_entry *)elem)->rel);
}

static int
keep_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	const char *rel = path + keep_base;
	const struct sb_entry *e = NULL;

	if (ftw->level == 0)
		return 0;
	/* only files of our user with no other link: see open_own() */
	if (flag == FTW_F && (!S_ISREG(sb->st_mode) || sb->st_nlink != 1 ||
	    sb->st_uid != geteuid()))
		return unlink(path) == -1 ? -1 : 0;
	if (ftw->level == 1 && ((flag == FTW_DP && strcmp(rel, "outputs") ==
	    0) || (flag == FTW_F && strcmp(rel, "params.json") == 0)))
		return 0;
	if (keep_tree != NULL && keep_tree->n > 0 &&
	    strncmp(rel, "outputs/", 8) != 0)
		e = bsearch(rel, keep_tree->e, keep_tree->n, sizeof(*e),
		    cmp_entry);
	if (e != NULL && ((e->type == 'd' && flag == FTW_DP &&
	    sb->st_uid == geteuid()) || (e->type == 'f' && flag == FTW_F)))
		return 0;
	if (flag == FTW_DP || flag == FTW_D)
		return rmdir(path) == -1 ? -1 : 0;
	return unlink(path) == -1 ? -1 : 0;
}

/* Empty work as said above and pool it: 1, or 0 if it was not. */
static int
pool_put(const char *work, const char *hex)
{
	const char *slash = strrchr(work, '/');
	char *root = NULL, *dir = NULL, *out = NULL;
	struct stat sb;
	size_t i;
	int ok = 0;

	keep_tree = NULL;
	for (i = 0; hex[0] != '\0' && i < SANDBOX_MEMO; i++)
		if (memo[i].root != NULL && strcmp(memo[i].hex, hex) == 0)
			keep_tree = &memo[i];
	if (hex[0] != '\0' && keep_tree == NULL)
		return 0;	/* its sandbox is no longer known here */
	keep_base = strlen(work) + 1;
	/* input.json goes (a second link to params.json), see keep_one */
	if ((out = pathf("%s/input.json", work)) != NULL)
		(void)unlink(out);
	free(out);
	out = NULL;
	if (npool < POOL_MAX && slash != NULL && slash != work &&
	    (out = pathf("%s/outputs", work)) != NULL &&
	    lstat(out, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    nftw(work, keep_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == 0 &&
	    (root = strndup(work, (size_t)(slash - work))) != NULL &&
	    (dir = pathf("%s/mls-pool-%ld-%lu", root, (long)getpid(),
	    ++pool_seq)) != NULL && rename(work, dir) == 0) {
		pool[npool].root = root;
		pool[npool].dir = dir;
		snprintf(pool[npool].hex, sizeof(pool[npool].hex), "%s", hex);
		npool++;
		root = dir = NULL;
		ok = 1;
	}
	keep_tree = NULL;
	free(out);
	free(root);
	free(dir);
	return ok;
}

/* Remove the pooled dirs a dead scheduler left in the scratch root. */
void
mls_local_exec_pool_reap(void)
{
	struct dirent *de;
	struct stat sb;
	char *root, *path;
	long pid;
	DIR *d;

	if (scratch_root(&root) < 0) {
		mls_error_clear();
		return;
	}
	if ((d = opendir(root)) == NULL) {
		free(root);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "mls-pool-", 9) != 0 ||
		    (pid = strtol(de->d_name + 9, NULL, 10)) <= 1 ||
		    pid == (long)getpid() || kill((pid_t)pid, 0) == 0 ||
		    errno != ESRCH)
			continue;
		if ((path = pathf("%s/%s", root, de->d_name)) != NULL &&
		    lstat(path, &sb) == 0 && sb.st_uid == geteuid())
			rm_tree(path);
		free(path);
	}
	closedir(d);
	free(root);
}

void
mls_local_exec_pool_drain(void)
{
	while (npool > 0) {
		rm_tree(pool[npool - 1].dir);
		pooled_free(npool - 1);
	}
}

/* Scratch dir, outputs/, the sandbox, params.json and input.json. */
static int
prepare(struct xjob *x, const char *data)
{
	char *scratch = NULL, *p = NULL, *q = NULL;
	int rc;

	if ((rc = scratch_root(&scratch)) < 0)
		goto out;
	if ((x->work = pathf("%s/mls-%s", scratch, x->id)) == NULL ||
	    (p = pathf("%s/outputs", x->work)) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	rm_tree(x->work);
	if (!(x->pooled && pool_take(scratch, sandbox_hex(x->job), x->work))) {
		if (mkdir(x->work, 0700) == -1) {
			rc = mls_error_set_errno(MLS_EIO, "scratch dir '%s'",
			    x->work);
			goto out;
		}
		if (mkdir(p, 0755) == -1) {
			rc = mls_error_set_errno(MLS_EIO, "create '%s'", p);
			goto out;
		}
	}
	free(p);
	p = NULL;
	if ((rc = sandbox(x, data)) < 0)
		goto out;
	/* MLS_PARAMS, and phpo's input.json (the params unless given) */
	p = mls_job_local_path(x->st, x->id, MLS_JOB_PARAMS);
	q = pathf("%s/params.json", x->work);
	if (p == NULL || q == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	/* none: an empty one (not fsynced, as the wrapper's cp+mv was not) */
	if ((rc = copy_file(p, q)) == MLS_ENOTFOUND)
		rc = mls_write_file_atomic(q, "{}\n", 3, 0644, 0);
	if (rc < 0)
		goto out;
	free(p);
	free(q);
	p = mls_job_local_path(x->st, x->id, MLS_JOB_INPUT_JSON);
	q = pathf("%s/input.json", x->work);
	if (p == NULL || q == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	if (access(p, F_OK) == 0)
		rc = copy_file(p, q);
	else {
		/* the usual case: the params, as a second name of the copy */
		struct stat a, b;
		free(p);
		if ((p = pathf("%s/params.json", x->work)) == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
		rc = 0;
		if (lstat(q, &a) == 0 && stat(p, &b) == 0 &&
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			goto out;	/* so it is, in a pooled dir */
		(void)unlink(q);
		if (link(p, q) == -1)
			rc = copy_file(p, q);
	}
out:
	free(scratch);
	free(p);
	free(q);
	return rc;
}

/* ---- the end ------------------------------------------------------------ */

/* Control characters become spaces, as the wrapper's tr does. */
/*
 * Publish output.json and outputs/, then result.json (last): state, the
 * exit code (or -1: the command never ran), the signal, the reason.
 */
static int
finish(struct xjob *x, const char *state, int code, int sig,
    const char *reason)
{
	struct mls_job_result r;
	char *p = NULL;
	int rc;

	if ((rc = mls_job_result_init(&r, x->id, mls_state_parse(state))) < 0)
		return rc;
	if (x->work != NULL) {
		if ((p = pathf("%s/output.json", x->work)) != NULL &&
		    access(p, F_OK) == 0 && mls_job_put_file(x->st, x->id,
		    MLS_JOB_OUTPUT_JSON, p) < 0)
			mls_warn("job '%s': output.json: %s", x->id,
			    mls_error_last());
		if (!x->no_outputs && pack_outputs(x, &r.outputs) < 0)
			mls_warn("job '%s': outputs not stored: %s", x->id,
			    mls_error_last());
	}
	r.exit_code = code;
	r.signal = sig > 0 ? sig : 0;
	mls_job_result_set_reason(&r, reason);
	if (x->have_started)
		snprintf(r.started, sizeof(r.started), "%s", x->started);
	if ((rc = mls_job_result_put(x->st, &r, 0)) < 0)
		mls_warn("job '%s': result.json: upload failed: %s", x->id,
		    mls_error_last());
	mls_job_result_release(&r);
	free(p);
	return rc;
}

static void
cleanup(struct xjob *x)
{
	const char *keep = getenv("MLS_KEEP_WORK");

	if (x->work != NULL && (keep == NULL || strcmp(keep, "1") != 0))
		rm_tree(x->work);
}

static void
xjob_release(struct xjob *x)
{
	close_store(x->st);
	free(x->jobdir);
	free(x->work);
}

/* Fill x from an entry with "id" and "store"; 0 or MLS_EINPUT. */
static int
xjob_init(struct xjob *x, const json_t *e)
{
	const char *id = mls_record_id(e);

	memset(x, 0, sizeof(*x));
	x->id = id;
	x->job = json_object_get(e, "job");
	if (mls_job_check_id(id) < 0 || open_store(e, &x->st) < 0)
		return mls_error_set(MLS_EINPUT, "entry '%s': not a job for "
		    "the executor", id != NULL ? id : "");
	if ((x->jobdir = mls_job_local_path(x->st, id, MLS_JOB_NFILES)) ==
	    NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	return 0;
}

/* ---- the command -------------------------------------------------------- */

static int
stop_marker(const struct xjob *x)
{
	return mls_job_stopped(x->st, x->id) == 1;
}

/* NAME=value, owned. */
static char *
env_pair(const char *name, const char *value)
{
	return pathf("%s=%s", name, value);
}

static int
env_named(const char *entry, const char *const *names, size_t n)
{
	size_t i, len;

	for (i = 0; i < n; i++) {
		len = strlen(names[i]);
		if (strncmp(entry, names[i], len) == 0 && entry[len] == '=')
			return 1;
	}
	return 0;
}

/* Free the strings of env from index owned on (those before are borrowed). */
static void
env_free(char **env, size_t owned)
{
	size_t i;

	for (i = owned; env != NULL && env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/*
 * The command's environment: base (its submitter's, see job_env() in
 * mls_site_local.c), then the job's own variables (-e: a later one
 * replaces an earlier one of the same name), then MLS_JOB_ID, MLS_PARAMS,
 * MLS_METRICS, MLS_OUTPUT_DIR, MLS_WORK_DIR and PWD, which always win.
 * The entries of base are borrowed, the others owned from index *owned
 * on.
 */
#define NOURS	6

static char **
job_environ(struct xjob *x, char *const base[], size_t *owned)
{
	const json_t *uenv = json_object_get(x->job, "env"), *v;
	const char *mls[NOURS] = { "MLS_JOB_ID", "MLS_PARAMS", "MLS_METRICS",
	    "MLS_OUTPUT_DIR", "MLS_WORK_DIR", "PWD" };
	const char **names;
	size_t nb = 0, nu = json_object_size(uenv), nn = 0, k = 0, i;
	const char *key;
	char **env;

	*owned = 0;
	while (base != NULL && base[nb] != NULL)
		nb++;
	if ((names = calloc(nu + NOURS, sizeof(*names))) == NULL ||
	    (env = calloc(nb + nu + NOURS + 1, sizeof(*env))) == NULL) {
		free(names);
		return NULL;
	}
	for (i = 0; i < NOURS; i++)
		names[nn++] = mls[i];
	json_object_foreach((json_t *)uenv, key, v)
		if (mls_jobwrap_env_name_ok(key) && json_is_string(v))
			names[nn++] = key;
	for (i = 0; i < nb; i++)
		if (!env_named(base[i], names, nn))
			env[k++] = base[i];
	*owned = k;
	if ((env[k++] = env_pair("MLS_JOB_ID", x->id)) == NULL ||
	    (env[k++] = pathf("MLS_PARAMS=%s/params.json", x->work)) == NULL ||
	    (env[k++] = pathf("MLS_METRICS=%s/metrics.jsonl", x->jobdir)) ==
	    NULL || (env[k++] = pathf("MLS_OUTPUT_DIR=%s/outputs/", x->work)) ==
	    NULL || (env[k++] = env_pair("MLS_WORK_DIR", x->work)) == NULL ||
	    (env[k++] = env_pair("PWD", x->work)) == NULL)
		goto nomem;
	/* the job's own, except a name given twice: MLS_* stays ours */
	json_object_foreach((json_t *)uenv, key, v) {
		if (!mls_jobwrap_env_name_ok(key) || !json_is_string(v))
			continue;
		for (i = 0; i < NOURS && strcmp(key, mls[i]) != 0; i++)
			;
		if (i < NOURS)
			continue;
		if ((env[k++] = env_pair(key, json_string_value(v))) == NULL)
			goto nomem;
	}
	free(names);
	return env;
nomem:
	free(names);
	env_free(env, *owned);
	return NULL;
}

/* A failure before the command could run: a failed result. */
static int
fail_start(struct xjob *x, const char *what)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s", what);
	mls_warn("job '%s': %s", x->id, msg);
	return finish(x, "failed", -1, 0, msg);
}

/* Open jobs/ID/NAME for the command to write, truncated; -1 on error. */
static int
open_out(const struct xjob *x, enum mls_job_file f)
{
	char *p = mls_job_local_path(x->st, x->id, f);
	int fd = -1;

	if (p != NULL && (fd = open(p, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0644)) < 0)
		mls_error_set_errno(MLS_EIO, "create '%s'", p);
	free(p);
	return fd;
}

/* 1 if the command name a0 can be run (from work for a relative path). */
static int
findable(const char *a0, const char *work)
{
	char *p;
	int r;

	if (strchr(a0, '/') == NULL) {
		if (mls_run_which(a0, getenv("PATH"), work, &p) < 0)
			return 1;	/* do not know: say nothing */
		r = p != NULL;
		free(p);
		return r;
	}
	if (a0[0] == '/' || work == NULL)
		return access(a0, X_OK) == 0;
	if ((p = pathf("%s/%s", work, a0)) == NULL)
		return 1;
	r = access(p, X_OK) == 0;
	free(p);
	return r;
}

/*
 * Start the command in work, in its own session (its pid is the group
 * id), stdin /dev/null, stdout and stderr into the store: *pid, or 0
 * with finish() called when it could not be started.
 */
static int
spawn_command(struct xjob *x, char *const base[], pid_t *pid)
{
	const json_t *argvj = json_object_get(x->job, "command"), *v;
	size_t i, argc = json_array_size(argvj);
	struct mls_child c = MLS_CHILD_INIT;
	char **argv = NULL, **env = NULL, msg[300];
	size_t owned = 0;
	int out = -1, errfd = -1, rc;

	*pid = 0;
	if ((argv = calloc(argc + 1, sizeof(*argv))) == NULL ||
	    (env = job_environ(x, base, &owned)) == NULL) {
		rc = fail_start(x, "out of memory");
		goto out;
	}
	json_array_foreach(argvj, i, v)
		if ((argv[i] = (char *)json_string_value(v)) == NULL) {
			rc = fail_start(x, "spec: the command has a "
			    "non-string argument");
			goto out;
		}
	if (argc == 0) {
		rc = fail_start(x, "spec: no command");
		goto out;
	}
	/* MLS_METRICS is created by the command's first line, if any */
	if ((out = open_out(x, MLS_JOB_STDOUT)) < 0 ||
	    (errfd = open_out(x, MLS_JOB_STDERR)) < 0) {
		rc = fail_start(x, mls_error_last());
		goto out;
	}
	/* a cancel that came while it was set up */
	if (stop_marker(x)) {
		rc = finish(x, "cancelled", -1, 0, "stopped before it started");
		goto out;
	}
	/*
	 * A name is looked up on the job's PATH, never on ours (that of
	 * whoever started the scheduler); argv[0] with a slash is relative
	 * to work.  A file with no #! line is run as sh would, as a shell
	 * script.
	 */
	c.argv = argv;
	c.env = env;
	c.dir = x->work;
	c.in = MLS_CHILD_NULL;
	c.out = c.err = MLS_CHILD_FD;
	c.out_fd = out;
	c.err_fd = errfd;
	c.flags = MLS_CHILD_SETSID | MLS_CHILD_RESET_SIGNALS |
	    MLS_CHILD_SH_FALLBACK;
	mls_time_format(x->started, mls_time_now());
	x->have_started = 1;
	if (mls_child_start(&c) == 0) {
		*pid = c.pid;	/* the scheduler reaps it: no finish */
		rc = 0;
		goto out;
	}
	/* 127 not found, 126 not runnable; anything else is as good as 126 */
	snprintf(msg, sizeof(msg), "%s", mls_error_last());
	rc = finish(x, "failed", c.exit_code == 127 ? 127 : 126, 0, msg);
out:
	if (out >= 0)
		close(out);
	if (errfd >= 0)
		close(errfd);
	free(argv);
	env_free(env, owned);
	return rc;
}

/* ---- the interface ------------------------------------------------------ */

/* The sandbox archive of a queue entry in its store: size, or -1. */
static long long
sandbox_size(const json_t *q)
{
	const char *id = mls_record_str(json_object_get(q, "job"), "sandbox");
	struct mls_buf key = MLS_BUF_INIT;
	struct mls_store *st = NULL;
	long long size = -1;

	if (id == NULL || *id == '\0') {
		size = 0;
		goto out;
	}
	if (open_store(q, &st) < 0 || mls_store_sandbox_key(id, &key) < 0 ||
	    mls_store_stat(st, key.buf, &size) != 1)
		size = -1;
out:
	mls_error_clear();
	mls_buf_release(&key);
	close_store(st);
	return size;
}

int
mls_local_exec_light(const json_t *q)
{
	long long size = sandbox_size(q);

	return size >= 0 && size <= MLS_LOCAL_EXEC_LIGHT_MAX;
}

int
mls_local_exec_start(const char *data, const json_t *q, char *const env[],
    pid_t *pid, json_t **run)
{
	struct xjob x;
	int rc;

	*pid = 0;
	*run = NULL;
	if ((rc = xjob_init(&x, q)) < 0 || !json_is_object(x.job))
		goto out;
	x.pooled = 1;
	if ((rc = prepare(&x, data)) < 0) {
		rc = fail_start(&x, mls_error_last());
		cleanup(&x);
		goto out;
	}
	if ((rc = spawn_command(&x, env, pid)) < 0 || *pid == 0) {
		cleanup(&x);
		goto out;
	}
	*run = json_pack("{s:s,s:s,s:s,s:s?,s:s?,s:I,s:I}", "mode", "spawn",
	    "work", x.work, "started", x.started, "sandbox",
	    mls_record_str(x.job, "sandbox"), "argv0", json_string_value(
	    json_array_get(json_object_get(x.job, "command"), 0)), "grace_s",
	    (json_int_t)
	    mls_record_int(x.job, "grace_s", 10), "time_s", (json_int_t)
	    mls_record_int(x.job, "time_s", 0));
	if (*run == NULL) {
		/* nothing could follow it: stop it now, and say why */
		(void)kill(-*pid, SIGKILL);
		(void)waitpid(*pid, NULL, 0);
		*pid = 0;
		rc = finish(&x, "failed", -1, 0, "out of memory");
		cleanup(&x);
	}
out:
	xjob_release(&x);
	return rc;
}

int
mls_local_exec_end(const json_t *run, int status, const char *stop,
    const char *why, int flags)
{
	struct xjob x;
	const char *a0;
	char reason[200];
	int rc, code, sig = 0;

	if ((rc = xjob_init(&x, run)) < 0)
		goto out;
	if (mls_record_str(run, "work") != NULL &&
	    (x.work = strdup(mls_record_str(run, "work"))) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	x.no_outputs = (flags & MLS_LOCAL_EXEC_NO_OUTPUTS) != 0;
	if (mls_record_str(run, "started") != NULL) {
		snprintf(x.started, sizeof(x.started), "%s",
		    mls_record_str(run, "started"));
		x.have_started = 1;
	}
	if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		code = 128 + sig;
		snprintf(reason, sizeof(reason), "killed by signal %d", sig);
	} else {
		code = WEXITSTATUS(status);
		snprintf(reason, sizeof(reason), "exit status %d", code);
		/* an exec that failed in the child (not told to the parent) */
		if (code == 127 && (a0 = mls_record_str(run, "argv0")) != NULL &&
		    !findable(a0, x.work))
			snprintf(reason, sizeof(reason), "command not found: %s",
			    a0);
	}
	/* a cancel whose stopper died meanwhile is still a cancel */
	if (stop == NULL && code != 0 && stop_marker(&x)) {
		stop = "cancel";
		why = "stopped";
	}
	if (stop != NULL && strcmp(stop, "time") == 0)
		rc = finish(&x, "failed", code, sig, why);
	else if (stop != NULL)
		rc = finish(&x, "cancelled", code, sig, why != NULL ? why :
		    "stopped");
	else if (code == 0)
		rc = finish(&x, "succeeded", 0, 0, "");
	else
		rc = finish(&x, "failed", code, sig, reason);
	if (!(flags & MLS_LOCAL_EXEC_LATER))
		cleanup(&x);
out:
	xjob_release(&x);
	return rc;
}

int
mls_local_exec_run(const char *data, const json_t *q, char *const env[])
{
	struct timespec tick = { 0, TICK_NS };
	json_t *run = NULL;
	const char *stop = NULL;
	char why[320];
	sigset_t set;
	siginfo_t si;
	double deadline = 0, killat = 0, grace;
	long time_s;
	int status = 0, sig, killed = 0;
	pid_t pid, w;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	(void)signal(SIGUSR1, SIG_IGN);
	if (mls_local_exec_start(data, q, env, &pid, &run) < 0)
		return 75;
	if (pid == 0)
		return 0;	/* it did not start; its result is written */
	time_s = (long)mls_record_int(run, "time_s", 0);
	grace = (double)mls_record_int(run, "grace_s", 10);
	if (time_s > 0)
		deadline = mls_time_now() + (double)time_s;
	for (;;) {
		if ((w = waitpid(pid, &status, WNOHANG)) == pid) {
			(void)kill(-pid, SIGKILL);	/* what it left */
			break;
		}
		if (w == -1 && errno != EINTR) {
			status = 137 << 8;	/* gone without a status */
			break;
		}
		sig = sigtimedwait(&set, &si, &tick);
		if (stop == NULL && (sig == SIGTERM || sig == SIGINT ||
		    sig == SIGHUP)) {
			stop = "cancel";
			snprintf(why, sizeof(why), "%s", "terminated");
		}
		if (stop == NULL && deadline > 0 && mls_time_now() >= deadline) {
			stop = "time";
			snprintf(why, sizeof(why), "time limit of %lds exceeded "
			    "(TIMEOUT)", time_s);
		}
		if (stop == NULL && sig != SIGCHLD && mls_local_exec_stopped(q)) {
			stop = "cancel";
			snprintf(why, sizeof(why), "%s", "stopped");
		}
		if (stop != NULL && killat == 0) {
			mls_info("job '%s': stopping: %s", mls_record_id(q), why);
			(void)kill(-pid, SIGTERM);
			killat = mls_time_now() + grace;
		}
		if (killat > 0 && !killed && mls_time_now() >= killat) {
			(void)kill(-pid, SIGKILL);
			killed = 1;
		}
	}
	if (stop != NULL && strcmp(stop, "cancel") == 0 &&
	    strcmp(why, "terminated") == 0 && mls_local_exec_stopped(q))
		snprintf(why, sizeof(why), "%s", "stopped");
	json_object_set(run, "id", json_object_get(q, "id"));
	json_object_set(run, "store", json_object_get(q, "store"));
	sig = mls_local_exec_end(run, status, stop, stop != NULL ? why : NULL,
	    0);
	json_decref(run);
	return sig < 0 ? 75 : 0;
}

int
mls_local_exec_stopped(const json_t *e)
{
	struct mls_store *st = NULL;
	int r = 0;

	if (open_store(e, &st) == 0)
		r = mls_job_stopped(st, mls_record_id(e)) == 1;
	mls_error_clear();
	close_store(st);
	return r;
}

int
mls_local_exec_has_outputs(const json_t *run)
{
	const char *work = mls_record_str(run, "work");
	char *p;
	int r = 0;

	if (work != NULL && (p = pathf("%s/outputs", work)) != NULL) {
		r = !dir_empty(p);
		free(p);
	}
	return r;
}

void
mls_local_exec_cleanup(const json_t *run)
{
	const char *keep = getenv("MLS_KEEP_WORK");
	const char *work = mls_record_str(run, "work");
	pid_t pg = (pid_t)mls_record_int(run, "pid", 0);
	struct xjob x;

	if (work == NULL || (keep != NULL && strcmp(keep, "1") == 0))
		return;
	/* pooled only when nothing of the job can still touch it */
	if ((pg <= 1 || (kill(-pg, 0) == -1 && errno == ESRCH)) &&
	    pool_put(work, sandbox_hex(run)))
		return;
	memset(&x, 0, sizeof(x));
	x.work = (char *)work;
	cleanup(&x);
}
