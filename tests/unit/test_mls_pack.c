#include "config.h"

#include "mls_pack.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "mls_buf.h"
#include "mls_error.h"
#include "tap.h"

static char *root;

static char *
at(const char *rel)
{
	static char path[4][1024];
	static int k;

	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s", root, rel);
	return path[k];
}

static void
put(const char *rel, const char *text, int mode)
{
	FILE *fp = fopen(at(rel), "w");

	fputs(text, fp);
	fclose(fp);
	chmod(at(rel), (mode_t)mode);
}

static char *
slurp(const char *path, size_t *len)
{
	struct mls_buf b = MLS_BUF_INIT;
	char buf[4096];
	FILE *fp = fopen(path, "rb");
	size_t n;

	if (fp == NULL)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		mls_buf_add(&b, buf, n);
	fclose(fp);
	*len = b.len;
	return mls_buf_detach(&b);
}

static int
same_file(const char *a, const char *b)
{
	size_t la = 0, lb = 0;
	char *x = slurp(a, &la), *y = slurp(b, &lb);
	int same = x != NULL && y != NULL && la == lb && memcmp(x, y, la) == 0;

	free(x);
	free(y);
	return same;
}

static int
has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* One entry of a crafted archive. */
struct craft {
	const char	*name;
	unsigned int	 type;
	int		 perm;
	const char	*data;		/* file content */
	const char	*link;		/* symlink target */
	const char	*hardlink;
};

static int
write_tar(const char *path, const struct craft *c, size_t n, int gzip)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t i;

	archive_write_set_format_pax_restricted(a);
	if (gzip)
		archive_write_add_filter_gzip(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK)
		return -1;
	for (i = 0; i < n; i++) {
		archive_entry_clear(e);
		archive_entry_copy_pathname(e, c[i].name);
		archive_entry_set_filetype(e, c[i].type);
		archive_entry_set_perm(e, (mode_t)c[i].perm);
		archive_entry_set_size(e, c[i].data ? (la_int64_t)strlen(c[i].data) : 0);
		if (c[i].link)
			archive_entry_copy_symlink(e, c[i].link);
		if (c[i].hardlink)
			archive_entry_copy_hardlink(e, c[i].hardlink);
		if (archive_write_header(a, e) != ARCHIVE_OK)
			return -1;
		if (c[i].data)
			archive_write_data(a, c[i].data, strlen(c[i].data));
	}
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	return 0;
}

/* Extract a crafted archive into a fresh dest under root. */
static int
try_extract(const struct craft *c, size_t n, const char *dest,
    const struct mls_pack_limits *lim)
{
	char *tar = at("crafted.tar");

	if (write_tar(tar, c, n, 0) < 0)
		return -100;
	return mls_pack_extract(tar, at(dest), lim);
}

int
main(void)
{
	char tmpl[] = "/tmp/mls-pack-XXXXXX";
	struct mls_buf cmd = MLS_BUF_INIT;
	struct stat sb;
	json_t *files, *rev;
	struct timeval tv[2] = { { 1000, 0 }, { 2000, 0 } };
	char longname[300], buf[64];
	ssize_t n;
	pid_t pid;
	int rc, status;

	root = mkdtemp(tmpl);
	ok(root != NULL, "temp dir");
	mkdir(at("t"), 0755);
	mkdir(at("t/bin"), 0700);
	mkdir(at("t/sub"), 0755);
	put("t/a.txt", "alpha\n", 0600);
	put("t/bin/run.sh", "#!/bin/sh\necho hi\n", 0700);
	put("t/sub/data.csv", "1,2,3\n", 0664);
	symlink("../a.txt", at("t/sub/link"));
	memset(longname, 'x', sizeof(longname));
	memcpy(longname, "t/sub/", 6);
	memcpy(longname + 150, ".py", 4);
	put(longname, "long\n", 0644);

	files = json_pack("[s,s,s,s,{s:s}]", "a.txt", "bin/run.sh",
	    "sub/data.csv", "sub/link", "path", longname + 2);
	rev = json_pack("[{s:s},s,s,s,s]", "path", longname + 2, "sub/link",
	    "sub/data.csv", "bin/run.sh", "a.txt");

	/* creation and determinism */
	rc = mls_pack_create(at("t"), files, at("one.tar.zst"));
	ok(rc == 0, "pack created: %s", rc ? mls_error_last() : "");
	pid = fork();
	if (pid == 0) {
		/* another process, another umask, other mtimes and modes */
		umask(077);
		utimes(at("t/a.txt"), tv);
		utimes(at("t/bin/run.sh"), tv);
		chmod(at("t/a.txt"), 0640);
		chmod(at("t/bin/run.sh"), 0750);
		_exit(mls_pack_create(at("t"), rev, at("two.tar.zst")) == 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "packed in a child");
	ok(same_file(at("one.tar.zst"), at("two.tar.zst")),
	    "byte-identical despite mtimes, modes, umask, order, process");
	ok(stat(at("one.tar.zst"), &sb) == 0 && sb.st_size > 0, "non-empty");
	{
		size_t len = 0;
		char *z = slurp(at("one.tar.zst"), &len);
		ok(z != NULL && len > 4 && (unsigned char)z[0] == 0x28 &&
		    (unsigned char)z[1] == 0xb5 && (unsigned char)z[2] == 0x2f &&
		    (unsigned char)z[3] == 0xfd, "zstd magic");
		free(z);
	}
	/* content change changes the bytes */
	put("t/a.txt", "alpha!\n", 0600);
	ok(mls_pack_create(at("t"), files, at("three.tar.zst")) == 0 &&
	    !same_file(at("one.tar.zst"), at("three.tar.zst")),
	    "a content change shows");
	put("t/a.txt", "alpha\n", 0600);

	/* the archive as tar(1) sees it */
	mls_buf_addf(&cmd, "cd '%s' && zstd -dc one.tar.zst | tar -tvf - "
	    "--numeric-owner > listing.txt", root);
	ok(system(cmd.buf) == 0, "tar reads it");
	{
		size_t len = 0;
		char *l = slurp(at("listing.txt"), &len);
		ok(l && has(l, "-rw-r--r-- 0/0") && has(l, "-rwxr-xr-x 0/0") &&
		    has(l, "1980-01-01") && has(l, "sub/link -> ../a.txt"),
		    "modes 0644/0755, uid 0, mtime 1980, symlink kept");
		ok(l && strstr(l, "a.txt") < strstr(l, "bin/run.sh") &&
		    strstr(l, "bin/run.sh") < strstr(l, "sub/data.csv"), "sorted");
		ok(l && !has(l, "PaxHeader"), "no pax headers listed as files");
		free(l);
	}

	/* refusals at creation */
	symlink("../../etc/passwd", at("t/evil"));
	json_decref(rev);
	rev = json_pack("[s,s]", "a.txt", "evil");
	rc = mls_pack_create(at("t"), rev, at("bad.tar.zst"));
	ok(rc == MLS_EINPUT && has(mls_error_last(), "symlink 'evil'"),
	    "link out of the tree refused: %s", mls_error_last());
	json_decref(rev);
	rev = json_pack("[s]", "../t/a.txt");
	ok(mls_pack_create(at("t"), rev, at("bad.tar.zst")) == MLS_EINPUT,
	    "'..' in a listed path refused");
	json_decref(rev);
	rev = json_pack("[s]", "missing.txt");
	ok(mls_pack_create(at("t"), rev, at("bad.tar.zst")) == MLS_ENOTFOUND,
	    "missing file: %s", mls_error_last());
	ok(mls_pack_create(at("t"), files, at("no/such/dir/x.tar.zst")) == MLS_EIO,
	    "unwritable archive path: %s", mls_error_last());

	/* link_inside */
	ok(mls_pack_link_inside("sub/link", "../a.txt") == 1, "../a from sub/");
	ok(mls_pack_link_inside("link", "sub/./x") == 1, "downward");
	ok(mls_pack_link_inside("link", ".") == 1, "the root itself");
	ok(mls_pack_link_inside("link", "../a") == 0, "up from the top");
	ok(mls_pack_link_inside("a/b/l", "../../../x") == 0, "too far up");
	ok(mls_pack_link_inside("a/b/l", "x/../../y") == 0, "'..' after a name");
	ok(mls_pack_link_inside("l", "/etc/passwd") == 0, "absolute");
	ok(mls_pack_link_inside("l", "") == 0, "empty");

	/* round trip */
	rc = mls_pack_extract(at("one.tar.zst"), at("out"), NULL);
	ok(rc == 0, "extracted: %s", rc ? mls_error_last() : "");
	ok(same_file(at("t/a.txt"), at("out/a.txt")) &&
	    same_file(at("t/bin/run.sh"), at("out/bin/run.sh")), "content kept");
	ok(stat(at("out/bin/run.sh"), &sb) == 0 && (sb.st_mode & 0111) != 0,
	    "executable stays executable");
	n = readlink(at("out/sub/link"), buf, sizeof(buf) - 1);
	ok(n == 8 && memcmp(buf, "../a.txt", 8) == 0, "symlink restored");
	{
		char p[1024];
		snprintf(p, sizeof(p), "%s/out/%s", root, longname + 2);
		ok(stat(p, &sb) == 0 && sb.st_size == 5, "long name restored");
	}

	/* gzip and plain tar are accepted */
	{
		struct craft c[] = {
			{ "./d/", AE_IFDIR, 0755, NULL, NULL, NULL },
			{ "./d/f.txt", AE_IFREG, 06755, "x", NULL, NULL },
			{ "d/hard", AE_IFREG, 0644, NULL, NULL, "d/f.txt" },
			{ "d/sticky", AE_IFDIR, 01777, NULL, NULL, NULL },
		};
		ok(write_tar(at("g.tar.gz"), c, 4, 1) == 0 &&
		    mls_pack_extract(at("g.tar.gz"), at("g"), NULL) == 0,
		    "gzip tar extracted: %s", mls_error_last());
		ok(stat(at("g/d/f.txt"), &sb) == 0 &&
		    (sb.st_mode & (S_ISUID | S_ISGID)) == 0 &&
		    (sb.st_mode & 0100) != 0, "setuid/setgid dropped, x kept");
		ok(stat(at("g/d/sticky"), &sb) == 0 && (sb.st_mode & S_ISVTX) == 0,
		    "sticky dropped");
		ok(stat(at("g/d/hard"), &sb) == 0 && sb.st_nlink == 2,
		    "hard link inside the tree");
		ok(try_extract(c, 2, "p", NULL) == 0 && access(at("p/d/f.txt"),
		    F_OK) == 0, "plain tar extracted");
	}

	/* malicious archives */
	mkdir(at("victim"), 0755);
	{
		struct craft c[] = {
			{ "ok.txt", AE_IFREG, 0644, "fine", NULL, NULL },
			{ "../x", AE_IFREG, 0644, "evil", NULL, NULL },
		};
		rc = try_extract(c, 2, "victim/d1", NULL);
		ok(rc == MLS_EINPUT && has(mls_error_last(), "entry '../x'"),
		    "'../x' refused: %s", mls_error_last());
		ok(access(at("victim/x"), F_OK) == -1, "nothing written outside");
		ok(access(at("victim/d1/ok.txt"), F_OK) == 0, "earlier entry inside");
	}
	{
		struct craft c[] = {
			{ "a/../../y", AE_IFREG, 0644, "evil", NULL, NULL },
		};
		rc = try_extract(c, 1, "victim/d2", NULL);
		ok(rc == MLS_EINPUT && has(mls_error_last(), "'a/../../y'"),
		    "embedded '..' refused");
		ok(access(at("victim/y"), F_OK) == -1, "nothing outside");
	}
	{
		char abs[1024];
		struct craft c[] = {
			{ abs, AE_IFREG, 0644, "evil", NULL, NULL },
		};
		snprintf(abs, sizeof(abs), "%s/victim/abs.txt", root);
		rc = try_extract(c, 1, "victim/d3", NULL);
		ok(rc == MLS_EINPUT && has(mls_error_last(), "absolute path"),
		    "absolute path refused: %s", mls_error_last());
		ok(access(at("victim/abs.txt"), F_OK) == -1, "nothing outside");
	}
	{
		struct craft c[] = {
			{ "passwd", AE_IFLNK, 0777, NULL, "/etc/passwd", NULL },
			{ "passwd", AE_IFREG, 0644, "evil", NULL, NULL },
		};
		rc = try_extract(c, 2, "victim/d4", NULL);
		ok(rc == MLS_EINPUT && has(mls_error_last(), "entry 'passwd'") &&
		    has(mls_error_last(), "symlink to '/etc/passwd'"),
		    "absolute symlink refused: %s", mls_error_last());
		ok(lstat(at("victim/d4/passwd"), &sb) == -1, "link not created");
	}
	{
		struct craft c[] = {
			{ "up", AE_IFLNK, 0777, NULL, "..", NULL },
			{ "up/z", AE_IFREG, 0644, "evil", NULL, NULL },
		};
		rc = try_extract(c, 2, "victim/d5", NULL);
		ok(rc == MLS_EINPUT && has(mls_error_last(), "entry 'up'"),
		    "symlink to '..' refused: %s", mls_error_last());
		ok(access(at("victim/z"), F_OK) == -1, "nothing outside");
	}
	{
		struct craft c[] = {
			{ "l", AE_IFLNK, 0777, NULL, "sub", NULL },
			{ "l/f", AE_IFREG, 0644, "through", NULL, NULL },
		};
		mkdir(at("victim/d6"), 0755);
		mkdir(at("victim/d6/sub"), 0755);
		rc = try_extract(c, 2, "victim/d6", NULL);
		ok(rc == MLS_EINPUT && has(mls_error_last(), "extract 'l/f'"),
		    "writing through a symlink refused: %s", mls_error_last());
		ok(access(at("victim/d6/sub/f"), F_OK) == -1, "not written");
	}
	{
		struct craft c[] = {
			{ "h", AE_IFREG, 0644, NULL, NULL, "../victim/secret" },
		};
		put("victim/secret", "s", 0600);
		rc = try_extract(c, 1, "victim/d7", NULL);
		ok(rc == MLS_EINPUT && has(mls_error_last(), "hard link"),
		    "hard link out refused: %s", mls_error_last());
		ok(access(at("victim/d7/h"), F_OK) == -1, "no link made");
	}
	{
		struct craft c[] = {
			{ "h", AE_IFREG, 0644, NULL, NULL, "/etc/passwd" },
		};
		rc = try_extract(c, 1, "victim/d7b", NULL);
		ok(rc == MLS_EINPUT && has(mls_error_last(), "hard link"),
		    "absolute hard link refused");
	}
	{
		struct craft c[] = {
			{ "fifo", AE_IFIFO, 0644, NULL, NULL, NULL },
		};
		rc = try_extract(c, 1, "victim/d8", NULL);
		ok(rc == MLS_EINPUT && has(mls_error_last(), "'fifo': fifo refused"),
		    "fifo refused: %s", mls_error_last());
		c[0].name = "dev";
		c[0].type = AE_IFCHR;
		rc = try_extract(c, 1, "victim/d8", NULL);
		ok(rc == MLS_EINPUT && has(mls_error_last(), "'dev': device refused"),
		    "device refused: %s", mls_error_last());
		c[0].name = "blk";
		c[0].type = AE_IFBLK;
		rc = try_extract(c, 1, "victim/d8", NULL);
		ok(rc == MLS_EINPUT && has(mls_error_last(), "'blk': device refused"),
		    "block device refused: %s", mls_error_last());
		ok(lstat(at("victim/d8/fifo"), &sb) == -1 &&
		    lstat(at("victim/d8/dev"), &sb) == -1, "none created");
	}

	/* limits */
	{
		struct craft c[] = {
			{ "1", AE_IFREG, 0644, "aaaa", NULL, NULL },
			{ "2", AE_IFREG, 0644, "bbbb", NULL, NULL },
			{ "3", AE_IFREG, 0644, "cccc", NULL, NULL },
		};
		struct mls_pack_limits lim = { .max_bytes = 0, .max_entries = 2 };
		rc = try_extract(c, 3, "lim1", &lim);
		ok(rc == MLS_EINPUT && has(mls_error_last(), "entry '3'") &&
		    has(mls_error_last(), "more than 2 entries"),
		    "entry cap: %s", mls_error_last());
		ok(access(at("lim1/3"), F_OK) == -1, "capped entry not written");
		lim.max_entries = 0;
		lim.max_bytes = 10;
		rc = try_extract(c, 3, "lim2", &lim);
		ok(rc == MLS_EINPUT && has(mls_error_last(), "entry '3'") &&
		    has(mls_error_last(), "more than 10 bytes"),
		    "byte cap: %s", mls_error_last());
		lim.max_bytes = 12;
		ok(try_extract(c, 3, "lim3", &lim) == 0, "exactly at the cap");
	}

	/* not an archive, missing */
	put("junk.tar", "this is not a tar archive, not at all, no no no", 0644);
	rc = mls_pack_extract(at("junk.tar"), at("junk"), NULL);
	ok(rc == MLS_EINPUT && has(mls_error_last(), "archive '"),
	    "junk refused: %s", mls_error_last());
	rc = mls_pack_extract(at("none.tar"), at("none"), NULL);
	ok(rc == MLS_ENOTFOUND, "missing archive: %s", mls_error_last());

	/* check_name */
	ok(mls_pack_check_name("a/b") == 0, "plain name");
	ok(mls_pack_check_name("a..b/..c") == 0, "dots inside names are fine");
	ok(mls_pack_check_name("") == MLS_EINPUT, "empty");
	ok(mls_pack_check_name("/a") == MLS_EINPUT, "absolute");
	ok(mls_pack_check_name("a/..") == MLS_EINPUT, "'..' at the end");

	json_decref(files);
	json_decref(rev);
	mls_buf_reset(&cmd);
	mls_buf_addf(&cmd, "rm -rf '%s'", root);
	if (system(cmd.buf) != 0)
		ok(0, "cleanup");
	mls_buf_release(&cmd);
	return done_testing();
}
