/*
 * mls_gitinfo.c - the files to ship (git ignore rules, .mlsignore) and
 * the git facts of a directory, through libgit2.
 *
 * .gitignore is left to libgit2 (nested files, info/exclude and
 * core.excludesFile included).  .mlsignore must work outside a
 * repository too, so it has its own small matcher: gitignore syntax
 * (#, !, trailing /, leading or inner / anchors, **), each segment
 * matched with fnmatch(3).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>
#include <jansson.h>

#include "mls_alloc.h"
#include "mls_buf.h"
#include "mls_error.h"
#include "mls_gitinfo.h"
#include "mls_log.h"
#include "mls_pack.h"

#define IGNORE_FILE	".mlsignore"
#define IGNORE_MAX	(1 << 20)	/* bytes of one .mlsignore */

/* The one place libgit2 errors become ours. */
static int
git_fail(int code, const char *what)
{
	const git_error *e = git_error_last();

	return mls_error_set(code, "%s: %s", what,
	    e != NULL && e->message != NULL ? e->message : "libgit2 error");
}

/* ---- .mlsignore ------------------------------------------------------- */

struct rule {
	char	*base;		/* "" or "sub/dir/": where the file was */
	char	*pat;		/* segments separated by '/', no leading '/' */
	int	 neg, dir_only;
};

struct rules {
	struct rule	*v;
	size_t		 n, cap;
};

static void
rules_truncate(struct rules *r, size_t n)
{
	while (r->n > n) {
		r->n--;
		free(r->v[r->n].base);
		free(r->v[r->n].pat);
	}
}

static void
rules_release(struct rules *r)
{
	rules_truncate(r, 0);
	free(r->v);
	r->v = NULL;
	r->cap = 0;
}

static int
rules_add_line(struct rules *r, const char *line, size_t len, const char *base)
{
	struct mls_buf pat = MLS_BUF_INIT;
	struct rule ru = { 0 };
	int rc;

	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' ||
	    line[len - 1] == '\r'))
		len--;
	if (len == 0 || line[0] == '#')
		return 0;
	if (line[0] == '!') {
		ru.neg = 1;
		line++;
		len--;
	} else if (line[0] == '\\' && len > 1 && (line[1] == '#' ||
	    line[1] == '!')) {
		line++;
		len--;
	}
	if (len > 0 && line[len - 1] == '/') {
		ru.dir_only = 1;
		while (len > 0 && line[len - 1] == '/')
			len--;
	}
	if (len == 0)
		return 0;
	/* no '/' left: it matches at any level below base */
	if (memchr(line, '/', len) == NULL)
		mls_buf_adds(&pat, "**/");
	while (len > 0 && line[0] == '/') {
		line++;
		len--;
	}
	mls_buf_add(&pat, line, len);
	if ((rc = mls_buf_error(&pat)) < 0)
		return rc;
	if ((rc = MLS_GROW(r->v, r->cap, r->n + 1)) < 0) {
		mls_buf_release(&pat);
		return rc;
	}
	ru.pat = mls_buf_detach(&pat);
	ru.base = strdup(base);
	if (ru.pat == NULL || ru.base == NULL) {
		free(ru.pat);
		free(ru.base);
		return mls_error_set(MLS_ENOMEM, "out of memory");
	}
	r->v[r->n++] = ru;
	return 0;
}

static int
rules_parse(struct rules *r, const char *text, const char *base)
{
	const char *p = text, *e;
	int rc;

	while (*p != '\0') {
		e = strchr(p, '\n');
		if ((rc = rules_add_line(r, p, e ? (size_t)(e - p) : strlen(p),
		    base)) < 0)
			return rc;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return 0;
}

/* Match '/'-separated pattern segments against path segments. */
static int
match_segs(const char *pat, const char *path)
{
	char ps[NAME_MAX + 1], xs[NAME_MAX + 1];
	const char *pe, *xe;
	size_t pn, xn;

	if (*pat == '\0')
		return *path == '\0';
	pe = strchr(pat, '/');
	pn = pe ? (size_t)(pe - pat) : strlen(pat);
	if (pn == 2 && pat[0] == '*' && pat[1] == '*') {
		if (pe == NULL)			/* trailing **: anything inside */
			return *path != '\0';
		for (;;) {			/* zero or more directories */
			if (match_segs(pe + 1, path))
				return 1;
			if ((path = strchr(path, '/')) == NULL)
				return 0;
			path++;
		}
	}
	if (*path == '\0')
		return 0;
	xe = strchr(path, '/');
	xn = xe ? (size_t)(xe - path) : strlen(path);
	if (pn > NAME_MAX || xn > NAME_MAX)
		return 0;
	memcpy(ps, pat, pn);
	ps[pn] = '\0';
	memcpy(xs, path, xn);
	xs[xn] = '\0';
	if (fnmatch(ps, xs, 0) != 0)
		return 0;
	if (pe == NULL)
		return xe == NULL;
	if (xe == NULL)
		return 0;
	return match_segs(pe + 1, xe + 1);
}

/* 1 excluded, -1 re-included by a negation, 0 no rule. */
static int
rules_match(const struct rules *r, const char *path, int is_dir)
{
	const struct rule *ru;
	size_t i, bl;
	int res = 0;

	for (i = 0; i < r->n; i++) {
		ru = &r->v[i];
		if (ru->dir_only && !is_dir)
			continue;
		bl = strlen(ru->base);
		if (strncmp(path, ru->base, bl) != 0)
			continue;
		if (match_segs(ru->pat, path + bl))
			res = ru->neg ? -1 : 1;
	}
	return res;
}

int
mls_gitinfo_ignore_match(const char *text, const char *path, int is_dir)
{
	struct rules r = { 0 };
	int res;

	if ((res = rules_parse(&r, text, "")) < 0) {
		rules_release(&r);
		return res;
	}
	res = rules_match(&r, path, is_dir);
	rules_release(&r);
	return res;
}

/* Read dir/.mlsignore (when there is one) into r with base. */
static int
rules_load(struct rules *r, const char *dirpath, const char *base)
{
	struct mls_buf path = MLS_BUF_INIT, text = MLS_BUF_INIT;
	char buf[8192];
	FILE *fp = NULL;
	size_t n;
	int rc = 0;

	mls_buf_addf(&path, "%s/%s", dirpath, IGNORE_FILE);
	if ((rc = mls_buf_error(&path)) < 0)
		goto out;
	if ((fp = fopen(path.buf, "r")) == NULL) {
		if (errno != ENOENT)
			rc = mls_error_set_errno(MLS_EIO, "open '%s'", path.buf);
		goto out;
	}
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		mls_buf_add(&text, buf, n);
		if (text.len > IGNORE_MAX) {
			rc = mls_error_set(MLS_EINPUT, "'%s': larger than %d "
			    "bytes", path.buf, IGNORE_MAX);
			goto out;
		}
	}
	if (ferror(fp)) {
		rc = mls_error_set_errno(MLS_EIO, "read '%s'", path.buf);
		goto out;
	}
	if ((rc = mls_buf_error(&text)) < 0)
		goto out;
	rc = rules_parse(r, text.buf, base);
out:
	if (fp != NULL)
		fclose(fp);
	mls_buf_release(&path);
	mls_buf_release(&text);
	return rc;
}

/* ---- the walk --------------------------------------------------------- */

struct walk {
	const char	*root;		/* dir as given */
	git_repository	*repo;		/* NULL outside a repository */
	git_index	*idx;
	char		*prefix;	/* root relative to the workdir: "" or "a/" */
	struct rules	 rules;
	json_t		*files;
	struct mls_buf	 gp;		/* scratch: repo-relative path */
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* 1 if git ignores rel (relative to root) and it is not tracked. */
static int
git_ignored(struct walk *w, const char *rel, int is_dir)
{
	int ignored = 0;

	if (w->repo == NULL)
		return 0;
	mls_buf_reset(&w->gp);
	mls_buf_adds(&w->gp, w->prefix);
	mls_buf_adds(&w->gp, rel);
	if (mls_buf_error(&w->gp) < 0)
		return MLS_ENOMEM;
	if (git_ignore_path_is_ignored(&ignored, w->repo, w->gp.buf) < 0)
		return git_fail(MLS_ERR, "git ignore rules");
	if (!ignored || w->idx == NULL)
		return ignored;
	/* tracked files are shipped even when a rule matches them */
	if (is_dir) {
		mls_buf_addc(&w->gp, '/');
		if (mls_buf_error(&w->gp) < 0)
			return MLS_ENOMEM;
		return git_index_find_prefix(NULL, w->idx, w->gp.buf) == 0 ? 0 : 1;
	}
	return git_index_get_bypath(w->idx, w->gp.buf, 0) != NULL ? 0 : 1;
}

static int
add_file(struct walk *w, const char *rel, const char *type, long long size)
{
	json_t *o = json_pack("{s:s,s:I,s:s}", "path", rel, "size",
	    (json_int_t)size, "type", type);

	if (o == NULL || json_array_append_new(w->files, o) == -1)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	return 0;
}

static int
walk_dir(struct walk *w, const char *rel)
{
	struct mls_buf dpath = MLS_BUF_INIT, child = MLS_BUF_INIT,
	    full = MLS_BUF_INIT;
	char target[PATH_MAX];
	size_t nrules = w->rules.n, n = 0, cap = 0, i;
	char **names = NULL;
	struct dirent *de;
	struct stat sb;
	DIR *d = NULL;
	ssize_t tn;
	int rc = 0, m, ig;

	mls_buf_addf(&dpath, "%s/%s", w->root, rel);
	if ((rc = mls_buf_error(&dpath)) < 0)
		goto out;
	if ((d = opendir(dpath.buf)) == NULL) {
		rc = mls_error_set_errno(errno == ENOENT ? MLS_ENOTFOUND :
		    MLS_EIO, "open '%s'", dpath.buf);
		goto out;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, ".git") == 0)
			continue;
		if ((rc = MLS_GROW(names, cap, n + 1)) < 0)
			goto out;
		if ((names[n] = strdup(de->d_name)) == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	if (errno != 0) {
		rc = mls_error_set_errno(MLS_EIO, "read '%s'", dpath.buf);
		goto out;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_str);
	if ((rc = rules_load(&w->rules, dpath.buf, rel)) < 0)
		goto out;

	for (i = 0; i < n; i++) {
		mls_buf_reset(&child);
		mls_buf_addf(&child, "%s%s", rel, names[i]);
		mls_buf_reset(&full);
		mls_buf_addf(&full, "%s/%s", w->root, child.buf);
		if ((rc = mls_buf_error(&child)) < 0 ||
		    (rc = mls_buf_error(&full)) < 0)
			goto out;
		if (lstat(full.buf, &sb) == -1) {
			if (errno == ENOENT)
				continue;	/* gone meanwhile */
			rc = mls_error_set_errno(MLS_EIO, "stat '%s'", full.buf);
			goto out;
		}
		m = rules_match(&w->rules, child.buf, S_ISDIR(sb.st_mode));
		if (m == 1)
			continue;
		if (m == 0) {
			if ((ig = git_ignored(w, child.buf,
			    S_ISDIR(sb.st_mode))) < 0) {
				rc = ig;
				goto out;
			}
			if (ig)
				continue;
		}
		if (S_ISDIR(sb.st_mode)) {
			mls_buf_addc(&child, '/');
			if ((rc = mls_buf_error(&child)) < 0 ||
			    (rc = walk_dir(w, child.buf)) < 0)
				goto out;
		} else if (S_ISREG(sb.st_mode)) {
			if ((rc = add_file(w, child.buf, "file",
			    (long long)sb.st_size)) < 0)
				goto out;
		} else if (S_ISLNK(sb.st_mode)) {
			if ((tn = readlink(full.buf, target, sizeof(target) - 1)) < 0) {
				rc = mls_error_set_errno(MLS_EIO, "readlink '%s'",
				    full.buf);
				goto out;
			}
			target[tn] = '\0';
			if (!mls_pack_link_inside(child.buf, target)) {
				rc = mls_error_set(MLS_EINPUT, "symlink '%s' -> '%s': "
				    "target leaves '%s'", child.buf, target, w->root);
				goto out;
			}
			if ((rc = add_file(w, child.buf, "link", 0)) < 0)
				goto out;
		} else {
			mls_warn("skipping %s '%s'", S_ISSOCK(sb.st_mode) ?
			    "socket" : S_ISFIFO(sb.st_mode) ? "fifo" :
			    "device", child.buf);
		}
	}
	rc = 0;
out:
	rules_truncate(&w->rules, nrules);
	if (d != NULL)
		closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	mls_buf_release(&dpath);
	mls_buf_release(&child);
	mls_buf_release(&full);
	return rc;
}

/*
 * Open the repository containing dir; 0 with *repo NULL when there is
 * none.  *prefix: dir relative to the work tree ("" or "sub/").
 */
static int
repo_open(const char *dir, git_repository **repo, char **prefix)
{
	const char *wd;
	char *rdir = NULL, *rwd = NULL;
	size_t wl;
	int rc, e;

	*repo = NULL;
	*prefix = NULL;
	e = git_repository_open_ext(repo, dir, 0, NULL);
	if (e == GIT_ENOTFOUND) {
		*repo = NULL;
		return 0;
	}
	if (e < 0) {
		/* an unsafe owner or a broken .git: ship without git */
		mls_warn("'%s': not using git: %s", dir, git_error_last() ?
		    git_error_last()->message : "cannot open the repository");
		*repo = NULL;
		return 0;
	}
	if ((wd = git_repository_workdir(*repo)) == NULL) {
		git_repository_free(*repo);	/* bare: nothing to say */
		*repo = NULL;
		return 0;
	}
	rdir = realpath(dir, NULL);
	rwd = realpath(wd, NULL);
	if (rdir == NULL || rwd == NULL) {
		rc = mls_error_set_errno(MLS_EIO, "'%s'", rdir ? wd : dir);
		goto fail;
	}
	wl = strlen(rwd);
	if (strncmp(rdir, rwd, wl) != 0 || (rdir[wl] != '/' && rdir[wl] != '\0')) {
		rc = mls_error_set(MLS_ERR, "'%s': not under the work tree '%s'",
		    rdir, rwd);
		goto fail;
	}
	{
		struct mls_buf b = MLS_BUF_INIT;
		const char *p = rdir + wl;
		while (*p == '/')
			p++;
		if (*p != '\0') {
			mls_buf_adds(&b, p);
			mls_buf_addc(&b, '/');
		}
		if ((rc = mls_buf_error(&b)) < 0)
			goto fail;
		*prefix = mls_buf_detach(&b);
	}
	free(rdir);
	free(rwd);
	return 0;
fail:
	free(rdir);
	free(rwd);
	git_repository_free(*repo);
	*repo = NULL;
	return rc;
}

int
mls_gitinfo_files(const char *dir, json_t **out)
{
	struct walk w = { 0 };
	struct stat sb;
	int rc;

	*out = NULL;
	mls_buf_init(&w.gp);
	if (stat(dir, &sb) == -1)
		return mls_error_set_errno(errno == ENOENT ? MLS_ENOTFOUND :
		    MLS_EIO, "'%s'", dir);
	if (!S_ISDIR(sb.st_mode))
		return mls_error_set(MLS_EINPUT, "'%s': not a directory", dir);
	git_libgit2_init();
	w.root = dir;
	if ((rc = repo_open(dir, &w.repo, &w.prefix)) < 0)
		goto out;
	if (w.repo != NULL && git_repository_index(&w.idx, w.repo) < 0) {
		rc = git_fail(MLS_ERR, "git index");
		goto out;
	}
	if ((w.files = json_array()) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = walk_dir(&w, "")) < 0)
		goto out;
	*out = w.files;
	w.files = NULL;
	rc = 0;
out:
	json_decref(w.files);
	rules_release(&w.rules);
	mls_buf_release(&w.gp);
	free(w.prefix);
	git_index_free(w.idx);
	git_repository_free(w.repo);
	git_libgit2_shutdown();
	return rc;
}

/* ---- git facts -------------------------------------------------------- */

char *
mls_gitinfo_strip_url(const char *url)
{
	struct mls_buf b = MLS_BUF_INIT;
	const char *s, *at, *host, *end;

	/* only scheme://userinfo@host/...; scp-like user@host:path stays */
	if ((s = strstr(url, "://")) == NULL)
		return strdup(url);
	host = s + 3;
	end = host + strcspn(host, "/?#");
	at = NULL;
	for (const char *p = host; p < end; p++)
		if (*p == '@')
			at = p;
	if (at == NULL)
		return strdup(url);
	mls_buf_add(&b, url, (size_t)(host - url));
	/*
	 * user:password@ always goes; a bare user stays for ssh (git@) but
	 * not for http(s), where it is usually a token.
	 */
	if (memchr(host, ':', (size_t)(at - host)) == NULL &&
	    strncmp(url, "http", 4) != 0)
		mls_buf_add(&b, host, (size_t)(at - host + 1));
	mls_buf_adds(&b, at + 1);
	return mls_buf_detach(&b);
}

static int
head_facts(git_repository *repo, json_t *g)
{
	git_reference *head = NULL, *sym = NULL;
	const git_oid *oid;
	char hex[GIT_OID_HEXSZ + 1];
	const char *t;
	int e, rc = 0;

	e = git_repository_head(&head, repo);
	if (e == GIT_EUNBORNBRANCH || e == GIT_ENOTFOUND) {
		/* no commit yet: the branch HEAD names */
		json_object_set_new(g, "commit", json_null());
		if (git_reference_lookup(&sym, repo, "HEAD") == 0 &&
		    (t = git_reference_symbolic_target(sym)) != NULL &&
		    strncmp(t, "refs/heads/", 11) == 0)
			json_object_set_new(g, "branch", json_string(t + 11));
		else
			json_object_set_new(g, "branch", json_null());
		goto out;
	}
	if (e < 0) {
		rc = git_fail(MLS_ERR, "git HEAD");
		goto out;
	}
	if ((oid = git_reference_target(head)) == NULL) {
		rc = mls_error_set(MLS_ERR, "git HEAD: not a direct reference");
		goto out;
	}
	git_oid_tostr(hex, sizeof(hex), oid);
	json_object_set_new(g, "commit", json_string(hex));
	if (git_repository_head_detached(repo) == 1 ||
	    !git_reference_is_branch(head))
		json_object_set_new(g, "branch", json_null());
	else
		json_object_set_new(g, "branch",
		    json_string(git_reference_shorthand(head)));
out:
	git_reference_free(sym);
	git_reference_free(head);
	return rc;
}

int
mls_gitinfo_describe(const char *dir, json_t **out)
{
	git_status_options so;
	git_repository *repo = NULL;
	git_status_list *sl = NULL;
	git_config *cfg = NULL;
	const char *rurl = NULL;
	json_t *g = NULL;
	char *prefix = NULL, *url;
	char *spec[1];
	int rc;

	*out = NULL;
	git_libgit2_init();
	if ((rc = repo_open(dir, &repo, &prefix)) < 0)
		goto out;
	if (repo == NULL) {
		*out = json_null();
		rc = 0;
		goto out;
	}
	if ((g = json_object()) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = head_facts(repo, g)) < 0)
		goto out;

	if (git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION) < 0) {
		rc = git_fail(MLS_ERR, "git status");
		goto out;
	}
	so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED |
	    GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (*prefix != '\0') {
		spec[0] = prefix;
		so.pathspec.strings = spec;
		so.pathspec.count = 1;
	}
	if (git_status_list_new(&sl, repo, &so) < 0) {
		rc = git_fail(MLS_ERR, "git status");
		goto out;
	}
	json_object_set_new(g, "dirty", json_boolean(git_status_list_entrycount(sl) > 0));

	/*
	 * remote.origin.url straight from the config: git_remote_lookup()
	 * of libgit2 1.5 leaks pcre2 match data on every call.
	 */
	if (git_repository_config_snapshot(&cfg, repo) == 0 &&
	    git_config_get_string(&rurl, cfg, "remote.origin.url") == 0) {
		if ((url = mls_gitinfo_strip_url(rurl)) == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
		json_object_set_new(g, "remote", json_string(url));
		free(url);
	} else {
		json_object_set_new(g, "remote", json_null());
	}
	*out = g;
	g = NULL;
	rc = 0;
out:
	json_decref(g);
	git_config_free(cfg);
	git_status_list_free(sl);
	git_repository_free(repo);
	free(prefix);
	git_libgit2_shutdown();
	return rc;
}
