/*
 * mls_run.h - running a program as a child process (git's run-command.h).
 *
 *	struct mls_child c = MLS_CHILD_INIT;
 *	char *argv[] = { "sbatch", "--parsable", NULL };
 *
 *	c.argv = argv;
 *	c.out = MLS_CHILD_PIPE;
 *	if ((rc = mls_child_start(&c)) < 0)
 *		return rc;		(c.exit_code is 127 or 126 after an
 *					 exec failure, as sh(1) reports it)
 *	... read c.out_fd ...
 *	rc = mls_child_finish(&c);	(closes the pipes, waits)
 *	if (rc == 0 && c.exit_code != 0) ...
 *
 * mls_child_capture() (git's pipe_command()) feeds a child's stdin and
 * reads its stdout and stderr together through poll(2), so that none of
 * the three pipes can fill up and deadlock the two processes.
 *
 * The child is started with posix_spawn(3); every descriptor we open is
 * close-on-exec, so a child inherits only its stdin, stdout and stderr
 * (and what the caller left open without FD_CLOEXEC).
 */
#ifndef MLS_RUN_H
#define MLS_RUN_H

#include <stddef.h>
#include <sys/types.h>

#include "mls_buf.h"

/* What a child's stdin, stdout or stderr is. */
enum mls_child_io {
	MLS_CHILD_INHERIT = 0,	/* ours */
	MLS_CHILD_NULL,		/* /dev/null */
	MLS_CHILD_PIPE,		/* a pipe: our end in in_fd/out_fd/err_fd */
	MLS_CHILD_FD,		/* the caller's in_fd/out_fd/err_fd (kept open) */
};

enum mls_child_flags {
	MLS_CHILD_SETSID = 1 << 0,	/* a new session (and process group) */
	MLS_CHILD_SETPGID = 1 << 1,	/* a new process group */
	/* every signal at its default action and none blocked, as after a
	 * fresh login: nothing the parent ignores or blocks is inherited */
	MLS_CHILD_RESET_SIGNALS = 1 << 2,
	MLS_CHILD_ERR_TO_OUT = 1 << 3,	/* stderr goes where stdout goes */
	/*
	 * a file that is executable but not a program (ENOEXEC: no #! line)
	 * is run by /bin/sh as a shell script, as sh(1) and execvp(3) do
	 */
	MLS_CHILD_SH_FALLBACK = 1 << 4,
};

struct mls_child {
	/* set by the caller */
	char *const	*argv;
	const char	*file;	/* the program: NULL, argv[0]; without a '/' it
				   is looked up on PATH */
	char *const	*env;	/* NULL: ours; else its PATH is searched (none:
				   MLS_RUN_DEFAULT_PATH) */
	const char	*dir;	/* NULL: ours; relative names (PATH entries
				   too) are taken from there */
	enum mls_child_io in, out, err;
	int		 in_fd, out_fd, err_fd;
	unsigned	 flags;	/* enum mls_child_flags */

	/* set by mls_child_start() */
	pid_t		 pid;	/* -1 when none is running */
	/* set by mls_child_finish(), or by a failed exec (127 or 126) */
	int		 status;	/* the wait(2) status */
	int		 exit_code;	/* 0-255, or -1 when killed */
	int		 signal;	/* the signal that killed it, or 0 */
	/* set by mls_child_capture() */
	int		 out_truncated, err_truncated;
};
#define MLS_CHILD_INIT	{ .in_fd = -1, .out_fd = -1, .err_fd = -1, \
	.pid = -1, .status = -1, .exit_code = -1 }

#define MLS_RUN_DEFAULT_PATH	"/usr/local/bin:/usr/bin:/bin"

/*
 * Start c.  For each MLS_CHILD_PIPE, our end is left in c->in_fd,
 * c->out_fd or c->err_fd (close-on-exec).  When the program is not found
 * (MLS_EUNAVAIL, "command not found: NAME") or cannot be executed
 * (MLS_EIO, "cannot execute 'NAME': ..."), c->exit_code is 127 or 126,
 * as a shell reports it, and nothing is left to finish; a c->dir that is
 * missing is MLS_ENOTFOUND.  A caller that opened no pipes may reap
 * c->pid itself instead of calling mls_child_finish().
 *
 * The start costs one posix_spawn(3) (a vfork: nothing of ours is
 * copied) and, for a name looked up on a c->env's PATH, nothing more
 * while mls_run_which() remembers where it is.
 */
int	 mls_child_start(struct mls_child *c);
/*
 * Where the program name is found on path (NULL: MLS_RUN_DEFAULT_PATH),
 * an empty or relative entry taken from dir (NULL: ours): a new string in
 * *out (relative to dir, as the entry is), or NULL when it is nowhere.
 * The answer for a path of absolute entries only is remembered for a few
 * seconds, as a shell's hash table does, so that a child that runs for a
 * millisecond does not cost a stat(2) of every PATH entry.  Not safe to
 * call from two threads at once.  0, or MLS_ENOMEM.
 */
int	 mls_run_which(const char *name, const char *path, const char *dir,
	    char **out);

/*
 * Close our pipe ends, wait for the child and set status, exit_code and
 * signal.  0, or MLS_ERR if it cannot be waited for.  A no-op on a child
 * that was not started.
 */
int	 mls_child_finish(struct mls_child *c);

/*
 * Run c to its end: feed it inlen bytes of in on stdin (in NULL: c->in as
 * set), and read its stdout into out and its stderr into err (NULL: c->out,
 * c->err as set), max bytes at most each (0: MLS_RUN_CAPTURE_MAX): what
 * comes beyond is read and dropped, and out_truncated or err_truncated
 * set.  A child that stops reading its stdin early is not an error.
 * 0 when the child ran (whatever its exit status: see c->exit_code and
 * c->signal), or an error code, the child reaped.  out and err are
 * appended to.
 */
int	 mls_child_capture(struct mls_child *c, const void *in, size_t inlen,
	    struct mls_buf *out, struct mls_buf *err, size_t max);
#define MLS_RUN_CAPTURE_MAX	(16u << 20)

/*
 * Run argv (PATH search, our environment and directory) with the string
 * in on stdin (NULL: /dev/null), stdout into out and stderr into err
 * (NULL: /dev/null), each capped at MLS_RUN_CAPTURE_MAX.  *status is its
 * exit status, or 128 + the signal that killed it, as in sh(1).  0, or
 * an error code as for mls_child_start() and mls_child_capture().
 */
int	 mls_run_capture(char *const argv[], const char *in,
	    struct mls_buf *out, struct mls_buf *err, int *status);

#endif
