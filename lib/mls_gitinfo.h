/*
 * mls_gitinfo.h - what to ship from a directory, and its git facts
 * (libgit2).
 *
 * The working tree is what runs, so untracked files are shipped unless
 * ignored.  A path is left out when
 *   - it is named .git (any level, directory or file), or
 *   - DIR is inside a git repository, the path is ignored by git
 *     (.gitignore at any level, .git/info/exclude, core.excludesFile) and
 *     is not tracked, or
 *   - a .mlsignore file (gitignore syntax, in DIR or any directory below
 *     it, inside a repository or not) excludes it.
 * A negated .mlsignore rule ("!weights.pt") ships a path that git ignores.
 */
#ifndef MLS_GITINFO_H
#define MLS_GITINFO_H

#include <jansson.h>

/*
 * The files to ship under dir: a new array of {"path","size","type"}
 * objects sorted by path (byte order), type "file" or "link" (size 0).
 * Directories are implied by their files.  A symlink whose target leaves
 * dir is refused with MLS_EINPUT naming it; sockets, fifos and devices are
 * skipped with a warning (mls_warn).  MLS_ENOTFOUND when dir is missing.
 */
int	 mls_gitinfo_files(const char *dir, json_t **out);

/*
 * The git facts of dir in *out (new reference): json null when dir is
 * not inside a repository, else {"commit": hex or null (no commit yet),
 * "branch": name or null (detached HEAD), "dirty": any modified, staged
 * or untracked-not-ignored file under dir, "remote": the origin URL with
 * any user:password@ removed, or null}.
 */
int	 mls_gitinfo_describe(const char *dir, json_t **out);

/*
 * The .mlsignore matcher, for tests and other callers: 1 if rules (the
 * text of a .mlsignore file) exclude path (relative to the file's
 * directory; is_dir for directories), 0 if no rule matches, -1 if a
 * negated rule re-includes it.
 */
int	 mls_gitinfo_ignore_match(const char *rules, const char *path,
	    int is_dir);

/* url with any "user:password@" (and, for http(s), "token@") removed
 * (new string). */
char	*mls_gitinfo_strip_url(const char *url);

#endif
