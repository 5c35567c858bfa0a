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
#include "mls_digest.h"
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

/*
 * The archive as mls packed it before the compressor got its own thread:
 * one libarchive writer, pax restricted + zstd level 3, the same entries.
 * The sandbox id is the digest of these bytes: they must not change.
 */
static int
reference_pack(const char *dir, const char *const *names, size_t n,
    const char *out)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	char full[1024], buf[65536], target[1024];
	struct stat sb;
	size_t i;
	ssize_t r;
	int fd, bad = 0;

	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_zstd(a);
	archive_write_set_filter_option(a, "zstd", "compression-level", "3");
	if (archive_write_open_filename(a, out) != ARCHIVE_OK)
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(full, sizeof(full), "%s/%s", dir, names[i]);
		lstat(full, &sb);
		archive_entry_clear(e);
		archive_entry_copy_pathname(e, names[i]);
		archive_entry_set_mtime(e, (time_t)MLS_PACK_MTIME, 0);
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		if (S_ISLNK(sb.st_mode)) {
			r = readlink(full, target, sizeof(target) - 1);
			target[r < 0 ? 0 : r] = '\0';
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_perm(e, 0777);
			archive_entry_copy_symlink(e, target);
			archive_entry_set_size(e, 0);
			bad |= archive_write_header(a, e) != ARCHIVE_OK;
			continue;
		}
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, (sb.st_mode & 0111) ? 0755 : 0644);
		archive_entry_set_size(e, (la_int64_t)sb.st_size);
		bad |= archive_write_header(a, e) != ARCHIVE_OK;
		fd = open(full, O_RDONLY);
		while ((r = read(fd, buf, sizeof(buf))) > 0)
			bad |= archive_write_data(a, buf, (size_t)r) != r;
		close(fd);
	}
	bad |= archive_write_close(a) != ARCHIVE_OK;
	archive_write_free(a);
	archive_entry_free(e);
	return bad ? -1 : 0;
}

/* Fill path with n bytes: half a pseudo-random stream, half text. */
static void
put_big(const char *rel, size_t n, unsigned seed)
{
	FILE *fp = fopen(at(rel), "w");
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		fputc(i % 4096 < 2048 ? (int)(seed >> 16) & 0xff :
		    "import torch\n"[i % 13], fp);
	}
	fclose(fp);
}

struct seen {
	int		 n, files, links, stable;
	char		 order[8][64];
	unsigned char	 md[32];	/* of "alpha\n" */
};

static int
on_entry(void *arg, const struct mls_pack_entry *pe)
{
	struct seen *s = arg;

	if (s->n < 8)
		snprintf(s->order[s->n], sizeof(s->order[0]), "%c %s",
		    pe->type, pe->path);
	s->n++;
	if (pe->type == 'f') {
		s->files++;
		s->stable += pe->stable && pe->st != NULL &&
		    pe->st->st_size == pe->size;
		if (strcmp(pe->path, "a.txt") == 0)
			memcpy(s->md, pe->sha256, 32);
	} else if (pe->type == 'l' && strcmp(pe->target, "../a.txt") == 0) {
		s->links++;
	}
	return 0;
}

static int
stop_at_b(void *arg, const struct mls_pack_entry *pe)
{
	(void)arg;
	if (strcmp(pe->path, "b.bin") == 0)
		return mls_error_set(MLS_ERR, "stopped at '%s'", pe->path);
	return 0;
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

	/* the same bytes as one pax+zstd writer, over many ring chunks */
	{
		static const char *const names[] = { "a.txt", "b.bin",
		    "bin/run.sh", "c.bin", "sub/data.csv", "sub/link" };
		json_t *l = json_pack("[s,s,s,s,s,s]", "sub/link", "c.bin",
		    "a.txt", "sub/data.csv", "b.bin", "bin/run.sh");
		struct mls_pack_result res = { "", -1 };
		struct seen sn;
		char hex[65], ahex[65];
		long long sz = -1;

		memset(&sn, 0, sizeof(sn));
		put_big("t/b.bin", 3u << 20, 7);	/* > RING_CHUNK * slots */
		put_big("t/c.bin", 100000, 9);
		rc = mls_pack_create_ex(at("t"), l, at("ex.tar.zst"), on_entry,
		    &sn, &res);
		ok(rc == 0, "pack_create_ex: %s", rc ? mls_error_last() : "");
		ok(reference_pack(at("t"), names, 6, at("ref.tar.zst")) == 0,
		    "reference archive");
		ok(same_file(at("ex.tar.zst"), at("ref.tar.zst")),
		    "byte-identical to one pax+zstd writer");
		ok(mls_digest_file(at("ex.tar.zst"), hex, &sz) == 0 &&
		    strcmp(hex, res.sha256) == 0 && sz == res.size,
		    "digest and size of the archive reported: %lld", res.size);
		ok(sn.n == 6 && strcmp(sn.order[0], "f a.txt") == 0 &&
		    strcmp(sn.order[5], "l sub/link") == 0,
		    "one call per entry, in archive order");
		ok(sn.files == 5 && sn.stable == 5 && sn.links == 1,
		    "files hashed, stable; link target given");
		ok(mls_digest_buf("alpha\n", 6, ahex) == 0 &&
		    (mls_digest_hex(sn.md, hex), strcmp(hex, ahex) == 0),
		    "a file's digest is that of its content");
		rc = mls_pack_create_ex(at("t"), l, at("stop.tar.zst"),
		    stop_at_b, NULL, NULL);
		ok(rc == MLS_ERR && has(mls_error_last(), "stopped at 'b.bin'"),
		    "the callback stops packing: %s", mls_error_last());
		json_decref(l);
		unlink(at("t/b.bin"));
		unlink(at("t/c.bin"));
	}

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
