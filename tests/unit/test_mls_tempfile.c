/*
 * test_mls_tempfile.c - atomic writes: the file appears whole or not at
 * all, with its mode, and a failure leaves nothing behind.
 */
#include "config.h"

#include "mls_tempfile.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mls_buf.h"
#include "mls_error.h"
#include "tap.h"

static char root[] = "/tmp/test_mls_tempfile.XXXXXX";

/* Entries of dir other than . and .. */
static int
count_entries(const char *dir)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static int
file_is(const char *path, const char *text)
{
	char buf[256];
	FILE *fp = fopen(path, "r");
	size_t n;

	if (fp == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return strcmp(buf, text) == 0;
}

static int
mode_of(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (int)(sb.st_mode & 07777) : -1;
}

/* A fresh empty directory under root. */
static void
subdir(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", root, name);
	mkdir(out, 0700);
}

static void
test_success(void)
{
	struct mls_tempfile t = MLS_TEMPFILE_INIT;
	char dir[512], dest[600], tmpname[600];

	subdir(dir, sizeof(dir), "ok");
	snprintf(dest, sizeof(dest), "%s/out.json", dir);
	ok(mls_tempfile_open(&t, dest) == 0 && t.fd >= 0 && t.path != NULL,
	    "success: open");
	snprintf(tmpname, sizeof(tmpname), "%s", t.path);
	ok(strncmp(tmpname, dir, strlen(dir)) == 0 &&
	    strstr(tmpname, "/" MLS_TEMPFILE_PREFIX) != NULL,
	    "success: the temporary file is beside dest, hidden (%s)", tmpname);
	ok(access(dest, F_OK) == -1, "success: nothing at dest before commit");
	ok(mls_tempfile_write(&t, "hello ", 6) == 0 &&
	    mls_tempfile_write(&t, "world\n", 6) == 0, "success: write");
	ok(mls_tempfile_commit(&t, dest, 0644, MLS_TEMPFILE_FSYNC |
	    MLS_TEMPFILE_SYNC_DIR) == 0, "success: commit");
	ok(file_is(dest, "hello world\n"), "success: dest has it all");
	ok(t.fd == -1 && t.path == NULL && access(tmpname, F_OK) == -1 &&
	    count_entries(dir) == 1, "success: the temporary name is gone");
	mls_tempfile_abort(&t);
	ok(file_is(dest, "hello world\n"), "success: abort after commit is a no-op");

	ok(mls_write_atomic(dest, "new", 3, 1) == 0 && file_is(dest, "new") &&
	    count_entries(dir) == 1, "success: mls_write_atomic replaces it");
}

static void
test_failure_leaves_nothing(void)
{
	struct mls_tempfile t = MLS_TEMPFILE_INIT, poison = MLS_TEMPFILE_INIT;
	char dir[512], dest[600], sub[600];
	int rc;

	subdir(dir, sizeof(dir), "fail");
	snprintf(dest, sizeof(dest), "%s/out", dir);
	ok(mls_tempfile_open(&t, dest) == 0 && mls_tempfile_write(&t, "x", 1) == 0,
	    "failure: open, write");
	mls_tempfile_abort(&t);
	ok(count_entries(dir) == 0 && t.path == NULL && t.fd == -1,
	    "failure: abort removes the temporary file");
	mls_tempfile_abort(&t);
	ok(1, "failure: abort twice is fine");

	/* rename onto a non-empty directory fails after the data is written */
	snprintf(sub, sizeof(sub), "%s/busy", dir);
	mkdir(sub, 0700);
	snprintf(dest, sizeof(dest), "%s/busy/x", dir);
	mkdir(dest, 0700);
	ok(mls_tempfile_open(&t, sub) == 0 &&
	    mls_tempfile_write(&t, "data", 4) == 0, "failure: written");
	rc = mls_tempfile_commit(&t, sub, 0644, 0);
	ok(rc == MLS_EIO && strncmp(mls_error_last(), "rename '", 8) == 0,
	    "failure: rename refused: MLS_EIO (%s)", mls_error_last());
	ok(count_entries(dir) == 1 && count_entries(sub) == 1 && t.path == NULL &&
	    t.fd == -1, "failure: only what was there before is left");

	ok(mls_write_atomic("/nonexistent-dir-xyz/x", "a", 1, 1) == MLS_EIO,
	    "failure: a missing directory is MLS_EIO");
	poison.fd = 12345;
	ok(mls_tempfile_open(&poison, "/nonexistent-dir-xyz/x") == MLS_EIO &&
	    poison.fd == 12345 && poison.path == NULL,
	    "failure: a failed open leaves t untouched");
	snprintf(dest, sizeof(dest), "%s/never", dir);
	ok(mls_tempfile_commit(&t, dest, 0644, 0) == MLS_ERR &&
	    access(dest, F_OK) == -1, "failure: commit with nothing open");
}

static void
test_mode(void)
{
	char dir[512], dest[600];
	mode_t old = umask(077);

	subdir(dir, sizeof(dir), "mode");
	snprintf(dest, sizeof(dest), "%s/script.sh", dir);
	ok(mls_write_file_atomic(dest, "#!/bin/sh\n", 10, 0755, 0) == 0 &&
	    mode_of(dest) == 0755, "mode: 0755 whatever the umask");
	ok(mls_write_file_atomic(dest, "x", 1, 0600, 0) == 0 &&
	    mode_of(dest) == 0600, "mode: replaced with 0600");
	ok(mls_write_atomic(dest, "y", 1, 0) == 0 && mode_of(dest) == 0644,
	    "mode: mls_write_atomic writes 0644");
	umask(old);
}

static void
test_template(void)
{
	struct mls_tempfile t = MLS_TEMPFILE_INIT;
	char tmpl[600], dest[600], dir[512];

	subdir(dir, sizeof(dir), "tmpl");
	snprintf(tmpl, sizeof(tmpl), "%s/.mine-XXXXXX", dir);
	snprintf(dest, sizeof(dest), "%s/f", dir);
	ok(mls_tempfile_open_template(&t, tmpl) == 0 &&
	    strncmp(t.path, tmpl, strlen(tmpl) - 6) == 0 &&
	    strcmp(tmpl + strlen(tmpl) - 6, "XXXXXX") == 0,
	    "template: our name, the template itself untouched");
	ok(mls_tempfile_write(&t, "t", 1) == 0 &&
	    mls_tempfile_commit(&t, dest, 0644, 0) == 0 && file_is(dest, "t") &&
	    count_entries(dir) == 1, "template: committed");
}

int
main(void)
{
	if (mkdtemp(root) == NULL)
		return 1;
	test_success();
	test_failure_leaves_nothing();
	test_mode();
	test_template();
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			ok(0, "cleanup");
	}
	return done_testing();
}
