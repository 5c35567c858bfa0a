#include "config.h"

#include "mls_gitinfo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mls_buf.h"
#include "mls_error.h"
#include "mls_log.h"
#include "tap.h"

static char *root;
static char warned[1024];

static void
on_log(int level, const char *msg, void *arg)
{
	(void)arg;
	if (level == MLS_LOG_WARN)
		snprintf(warned, sizeof(warned), "%s", msg);
}

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
put(const char *rel, const char *text)
{
	FILE *fp = fopen(at(rel), "w");

	fputs(text, fp);
	fclose(fp);
}

static int
sh(const char *fmt, const char *arg)
{
	struct mls_buf b = MLS_BUF_INIT;
	int rc;

	mls_buf_addf(&b, fmt, arg);
	rc = system(b.buf);
	mls_buf_release(&b);
	return rc;
}

/* The listed paths joined with spaces (new string). */
static char *
paths(const json_t *files)
{
	struct mls_buf b = MLS_BUF_INIT;
	const json_t *v;
	size_t i;

	json_array_foreach(files, i, v)
		mls_buf_addf(&b, "%s%s", i ? " " : "",
		    json_string_value(json_object_get(v, "path")));
	return mls_buf_detach(&b);
}

static int
listing_is(const char *dir, const char *want)
{
	json_t *files = NULL;
	char *got;
	int rc, same;

	rc = mls_gitinfo_files(dir, &files);
	if (rc < 0) {
		printf("# files: %s\n", mls_error_last());
		return 0;
	}
	got = paths(files);
	same = strcmp(got, want) == 0;
	if (!same)
		printf("# got:  %s\n# want: %s\n", got, want);
	free(got);
	json_decref(files);
	return same;
}

int
main(void)
{
	char tmpl[] = "/tmp/mls-gitinfo-XXXXXX";
	json_t *files = (json_t *)1, *g = NULL, *v;
	char *s;
	int rc;

	mls_log_set_handler(on_log, NULL);
	root = mkdtemp(tmpl);
	ok(root != NULL, "temp dir");
	setenv("HOME", root, 1);		/* no global git config */
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);

	/* the .mlsignore matcher */
	ok(mls_gitinfo_ignore_match("*.pyc\n", "a/b/x.pyc", 0) == 1, "basename glob at depth");
	ok(mls_gitinfo_ignore_match("*.pyc\n", "x.py", 0) == 0, "no match");
	ok(mls_gitinfo_ignore_match("/data\n", "data", 1) == 1, "anchored");
	ok(mls_gitinfo_ignore_match("/data\n", "sub/data", 1) == 0, "anchored not deep");
	ok(mls_gitinfo_ignore_match("data\n", "sub/data", 1) == 1, "unanchored deep");
	ok(mls_gitinfo_ignore_match("logs/\n", "logs", 0) == 0, "dir rule, a file");
	ok(mls_gitinfo_ignore_match("logs/\n", "x/logs", 1) == 1, "dir rule, a dir");
	ok(mls_gitinfo_ignore_match("a/*/c\n", "a/b/c", 0) == 1, "inner slash anchors");
	ok(mls_gitinfo_ignore_match("a/*/c\n", "a/b/d/c", 0) == 0, "* stops at /");
	ok(mls_gitinfo_ignore_match("a/**/c\n", "a/c", 0) == 1, "** zero dirs");
	ok(mls_gitinfo_ignore_match("a/**/c\n", "a/b/d/c", 0) == 1, "** many dirs");
	ok(mls_gitinfo_ignore_match("**/c\n", "x/y/c", 0) == 1, "leading **");
	ok(mls_gitinfo_ignore_match("a/**\n", "a/x/y", 0) == 1 &&
	    mls_gitinfo_ignore_match("a/**\n", "a", 1) == 0, "trailing **");
	ok(mls_gitinfo_ignore_match("*.csv\n!keep.csv\n", "keep.csv", 0) == -1,
	    "negation re-includes");
	ok(mls_gitinfo_ignore_match("!keep.csv\n*.csv\n", "keep.csv", 0) == 1,
	    "last rule wins");
	ok(mls_gitinfo_ignore_match("# *.csv\n\n  \n", "x.csv", 0) == 0,
	    "comments and blank lines");
	ok(mls_gitinfo_ignore_match("\\#x\n", "#x", 0) == 1, "escaped #");
	ok(mls_gitinfo_ignore_match("x.txt   \r\n", "x.txt", 0) == 1,
	    "trailing blanks and CR");
	ok(mls_gitinfo_ignore_match("[ab].txt\n", "b.txt", 0) == 1, "classes");

	/* outside a repository: .mlsignore only, .gitignore is just a file */
	mkdir(at("plain"), 0755);
	mkdir(at("plain/data"), 0755);
	mkdir(at("plain/src"), 0755);
	mkdir(at("plain/.git"), 0755);
	put("plain/.git/config", "x");
	put("plain/train.py", "print(1)\n");
	put("plain/data/big.bin", "0123456789");
	put("plain/src/m.py", "");
	put("plain/src/m.pyc", "");
	put("plain/src/.mlsignore", "*.tmp\n");
	put("plain/src/x.tmp", "");
	put("plain/x.tmp", "");
	put("plain/.gitignore", "train.py\n");
	put("plain/.mlsignore", "data/\n*.pyc\n");
	symlink("src/m.py", at("plain/link.py"));
	ok(listing_is(at("plain"), ".gitignore .mlsignore link.py src/.mlsignore "
	    "src/m.py train.py x.tmp"), "outside a repo: .mlsignore, nested "
	    ".mlsignore, never .git");
	rc = mls_gitinfo_files(at("plain"), &files);
	v = json_array_get(files, 5);		/* train.py */
	ok(rc == 0 && strcmp(json_string_value(json_object_get(v, "type")), "file") == 0 &&
	    json_integer_value(json_object_get(v, "size")) == 9, "size and type");
	v = json_array_get(files, 2);
	ok(strcmp(json_string_value(json_object_get(v, "type")), "link") == 0,
	    "symlink listed as a link");
	json_decref(files);
	ok(mls_gitinfo_describe(at("plain"), &g) == 0 && json_is_null(g),
	    "no repo: git is null");
	json_decref(g);

	/* refusals and skips */
	symlink("../../etc/passwd", at("plain/src/evil"));
	files = (json_t *)1;
	rc = mls_gitinfo_files(at("plain"), &files);
	ok(rc == MLS_EINPUT && files == NULL && strncmp(mls_error_last(),
	    "symlink 'src/evil' -> '../../etc/passwd'", 40) == 0,
	    "link out refused: %s", mls_error_last());
	put("plain/.mlsignore", "data/\n*.pyc\nevil\n");
	ok(listing_is(at("plain"), ".gitignore .mlsignore link.py src/.mlsignore "
	    "src/m.py train.py x.tmp"), "an ignored outside link is fine");
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", at("plain/sock"));
		ok(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
		    "socket made");
		warned[0] = '\0';
		ok(listing_is(at("plain"), ".gitignore .mlsignore link.py "
		    "src/.mlsignore src/m.py train.py x.tmp"), "socket not listed");
		ok(strcmp(warned, "skipping socket 'sock'") == 0, "warned: %s",
		    warned);
		close(fd);
	}
	files = (json_t *)1;
	ok(mls_gitinfo_files(at("nope"), &files) == MLS_ENOTFOUND && files == NULL,
	    "missing dir: %s", mls_error_last());
	ok(mls_gitinfo_files(at("plain/train.py"), &files) == MLS_EINPUT,
	    "not a directory");

	/* inside a repository */
	if (sh("cd '%s' && mkdir repo && cd repo && git init -q -b main && "
	    "git config user.email t@e && git config user.name t && "
	    "mkdir -p pkg/out sub && echo '*.log' > .gitignore && "
	    "echo 'out/' > pkg/.gitignore && echo a > pkg/a.py && "
	    "echo o > pkg/out/x && echo l > pkg/run.log && echo t > tracked.log && "
	    "git add -f .gitignore pkg/.gitignore pkg/a.py tracked.log && "
	    "git commit -q -m init && "
	    "git remote add origin https://alice:s3cret@git.example/r.git",
	    root) != 0) {
		ok(0, "git repo made");
		goto done;
	}
	ok(listing_is(at("repo"), ".gitignore pkg/.gitignore pkg/a.py tracked.log"),
	    "nested .gitignore respected, tracked-but-ignored shipped");
	ok(mls_gitinfo_describe(at("repo"), &g) == 0 && json_is_object(g),
	    "describe in a repo");
	s = json_dumps(g, JSON_COMPACT);
	ok(strlen(json_string_value(json_object_get(g, "commit"))) == 40 &&
	    strcmp(json_string_value(json_object_get(g, "branch")), "main") == 0 &&
	    json_is_false(json_object_get(g, "dirty")) &&
	    strcmp(json_string_value(json_object_get(g, "remote")),
	    "https://git.example/r.git") == 0, "facts, password stripped: %s", s);
	free(s);
	json_decref(g);

	put("repo/new.py", "untracked\n");
	put("repo/.mlsignore", "tracked.log\n!pkg/run.log\n");
	ok(listing_is(at("repo"), ".gitignore .mlsignore new.py pkg/.gitignore "
	    "pkg/a.py pkg/run.log"), "untracked shipped, .mlsignore in a repo, "
	    "negation re-includes a git-ignored file");
	ok(listing_is(at("repo/pkg"), ".gitignore a.py"),
	    "a subdirectory: the repo's rules apply, the parent .mlsignore not");
	ok(mls_gitinfo_describe(at("repo"), &g) == 0 &&
	    json_is_true(json_object_get(g, "dirty")), "untracked file: dirty");
	json_decref(g);
	ok(mls_gitinfo_describe(at("repo/pkg"), &g) == 0 &&
	    json_is_false(json_object_get(g, "dirty")), "clean subdirectory");
	json_decref(g);
	sh("cd '%s/repo' && git checkout -q --detach HEAD", root);
	ok(mls_gitinfo_describe(at("repo"), &g) == 0 &&
	    json_is_null(json_object_get(g, "branch")) &&
	    json_is_string(json_object_get(g, "commit")), "detached: branch null");
	json_decref(g);
	sh("cd '%s' && mkdir fresh && cd fresh && git init -q -b dev", root);
	ok(mls_gitinfo_describe(at("fresh"), &g) == 0 &&
	    json_is_null(json_object_get(g, "commit")) &&
	    strcmp(json_string_value(json_object_get(g, "branch")), "dev") == 0 &&
	    json_is_null(json_object_get(g, "remote")), "no commit yet");
	json_decref(g);

	/* URLs */
	s = mls_gitinfo_strip_url("https://tok@github.com/o/r.git");
	ok(strcmp(s, "https://github.com/o/r.git") == 0, "http token: %s", s);
	free(s);
	s = mls_gitinfo_strip_url("ssh://git@host:22/r.git");
	ok(strcmp(s, "ssh://git@host:22/r.git") == 0, "ssh user kept: %s", s);
	free(s);
	s = mls_gitinfo_strip_url("ssh://u:pw@host/r.git");
	ok(strcmp(s, "ssh://host/r.git") == 0, "ssh password dropped: %s", s);
	free(s);
	s = mls_gitinfo_strip_url("git@github.com:o/r.git");
	ok(strcmp(s, "git@github.com:o/r.git") == 0, "scp-like kept");
	free(s);
	s = mls_gitinfo_strip_url("https://h/p@q");
	ok(strcmp(s, "https://h/p@q") == 0, "@ in the path kept: %s", s);
	free(s);
done:
	sh("rm -rf '%s'", root);
	return done_testing();
}
