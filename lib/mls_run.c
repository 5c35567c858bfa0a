/*
 * mls_run.c - running a program as a child process: posix_spawn(3) with
 * pipes, a wait, and a capture loop that cannot deadlock.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mls_buf.h"
#include "mls_error.h"
#include "mls_run.h"
#include "mls_time.h"

extern char **environ;

/* Move fd above 0-2 (close-on-exec), so that no dup2 onto 0-2 hits it. */
static int
above_stdio(int *fd)
{
	int nfd;

	if (*fd > 2)
		return 0;
	if ((nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3)) == -1)
		return mls_error_set_errno(MLS_ERR, "dup");
	close(*fd);
	*fd = nfd;
	return 0;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/*
 * Arrange child descriptor target (0, 1 or 2) as mode says.  For a pipe
 * the two ends are left in p ([0] read, [1] write); for a caller's fd
 * below 3, a copy above them is left in *tmp.
 */
static int
setup_io(posix_spawn_file_actions_t *fa, int target, enum mls_child_io mode,
    int fd, int p[2], int *tmp)
{
	int e = 0, rc;

	switch (mode) {
	case MLS_CHILD_INHERIT:
		return 0;
	case MLS_CHILD_NULL:
		e = posix_spawn_file_actions_addopen(fa, target, "/dev/null",
		    target == 0 ? O_RDONLY : O_WRONLY, 0);
		break;
	case MLS_CHILD_PIPE:
		if (pipe2(p, O_CLOEXEC) == -1)
			return mls_error_set_errno(MLS_ERR, "pipe");
		if ((rc = above_stdio(&p[0])) < 0 || (rc = above_stdio(&p[1])) < 0)
			return rc;
		e = posix_spawn_file_actions_adddup2(fa, target == 0 ? p[0] : p[1],
		    target);
		break;
	case MLS_CHILD_FD:
		if (fd < 0)
			return mls_error_set(MLS_ERR, "run: no descriptor for "
			    "fd %d", target);
		if (fd < 3 && fd != target) {
			if ((*tmp = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1)
				return mls_error_set_errno(MLS_ERR, "dup");
			fd = *tmp;
		}
		e = posix_spawn_file_actions_adddup2(fa, fd, target);
		break;
	default:
		return mls_error_set(MLS_ERR, "run: bad mode for fd %d", target);
	}
	if (e != 0) {
		errno = e;
		return mls_error_set_errno(MLS_ENOMEM, "spawn file actions");
	}
	return 0;
}

static const char *
env_get(char *const env[], const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; env[i] != NULL; i++)
		if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
			return env[i] + len + 1;
	return NULL;
}

/*
 * mls_run_which()'s memory: (name, PATH) -> where, for WHICH_TTL_S.  A
 * program installed or removed meanwhile is seen that much later, as
 * with a shell's hash table.
 */
#define WHICH_MEMO	32
#define WHICH_TTL_S	5.0

static struct which {
	char	*name, *path, *found;	/* found NULL: nowhere */
	double	 at;
} which_memo[WHICH_MEMO];
static unsigned which_next;

static void
which_forget(struct which *w)
{
	free(w->name);
	free(w->path);
	free(w->found);
	memset(w, 0, sizeof(*w));
}

static void
which_remember(const char *name, const char *path, const char *found,
    double now)
{
	struct which *w = &which_memo[which_next++ % WHICH_MEMO];

	which_forget(w);
	w->name = strdup(name);
	w->path = strdup(path);
	w->found = found != NULL ? strdup(found) : NULL;
	if (w->name == NULL || w->path == NULL ||
	    (found != NULL && w->found == NULL))
		which_forget(w);	/* not remembered: no harm */
	else
		w->at = now;
}

int
mls_run_which(const char *name, const char *path, const char *dir,
    char **out)
{
	struct mls_buf cand = MLS_BUF_INIT, probe = MLS_BUF_INIT;
	const char *p, *end;
	struct which *w;
	struct stat sb;
	double now = mls_time_mono();
	char *found = NULL;
	int rc = 0, rel = 0;
	size_t i;

	if (path == NULL)
		path = MLS_RUN_DEFAULT_PATH;
	/* an empty or relative entry depends on dir: not remembered */
	for (p = path;; p = end + 1) {
		if (*p != '/')
			rel = 1;
		if ((end = strchr(p, ':')) == NULL)
			break;
	}
	for (i = 0; !rel && i < WHICH_MEMO; i++) {
		w = &which_memo[i];
		if (w->name == NULL || now - w->at >= WHICH_TTL_S ||
		    strcmp(w->name, name) != 0 || strcmp(w->path, path) != 0)
			continue;
		if (w->found != NULL && (found = strdup(w->found)) == NULL)
			return mls_error_set(MLS_ENOMEM, "out of memory");
		*out = found;
		return 0;
	}
	for (p = path;; p = end + 1) {
		if ((end = strchr(p, ':')) == NULL)
			end = p + strlen(p);
		mls_buf_reset(&cand);
		if (end == p)
			mls_buf_adds(&cand, ".");
		else
			mls_buf_add(&cand, p, (size_t)(end - p));
		mls_buf_addf(&cand, "/%s", name);
		mls_buf_reset(&probe);
		if (dir != NULL && cand.buf[0] != '/')
			mls_buf_addf(&probe, "%s/", dir);
		mls_buf_adds(&probe, cand.buf);
		if ((rc = mls_buf_error(&cand)) < 0 ||
		    (rc = mls_buf_error(&probe)) < 0)
			goto out;
		if (stat(probe.buf, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    access(probe.buf, X_OK) == 0) {
			if ((found = mls_buf_detach(&cand)) == NULL) {
				rc = mls_error_set(MLS_ENOMEM, "out of memory");
				goto out;
			}
			break;
		}
		if (*end == '\0')
			break;
	}
	if (!rel)
		which_remember(name, path, found, now);
	*out = found;
	found = NULL;
	rc = 0;
out:
	free(found);
	mls_buf_release(&cand);
	mls_buf_release(&probe);
	return rc;
}

static int
setup_attr(posix_spawnattr_t *attr, unsigned flags)
{
	sigset_t none, dfl;
	short sf = 0;
	int sig, e;

	if (flags & MLS_CHILD_SETSID)
		sf |= POSIX_SPAWN_SETSID;
	if (flags & MLS_CHILD_SETPGID) {
		sf |= POSIX_SPAWN_SETPGROUP;
		if ((e = posix_spawnattr_setpgroup(attr, 0)) != 0)
			goto fail;
	}
	if (flags & MLS_CHILD_RESET_SIGNALS) {
		sigemptyset(&none);
		sigemptyset(&dfl);
		for (sig = 1; sig < NSIG; sig++)
			if (sig != SIGKILL && sig != SIGSTOP)
				sigaddset(&dfl, sig);
		if ((e = posix_spawnattr_setsigmask(attr, &none)) != 0 ||
		    (e = posix_spawnattr_setsigdefault(attr, &dfl)) != 0)
			goto fail;
		sf |= POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
	}
	if ((e = posix_spawnattr_setflags(attr, sf)) != 0)
		goto fail;
	return 0;
fail:
	errno = e;
	return mls_error_set_errno(MLS_ERR, "spawn attributes");
}

/*
 * A spawn that failed with ENOENT or ENOTDIR may have failed on the
 * chdir, not the exec: a missing dir is not "command not found".  Looked
 * at only then, so that a start costs no stat(2) of it.
 */
static int
check_dir(const char *name, const char *dir)
{
	struct stat sb;

	if (stat(dir, &sb) == -1)
		return mls_error_set_errno(MLS_ENOTFOUND, "run '%s': "
		    "directory '%s'", name, dir);
	if (!S_ISDIR(sb.st_mode))
		return mls_error_set(MLS_ENOTFOUND, "run '%s': '%s' is not a "
		    "directory", name, dir);
	return 0;
}

/*
 * Run the executable file path, which is not a program (ENOEXEC), as a
 * shell script: /bin/sh path argv[1]...  An errno value, as posix_spawn.
 */
static int
spawn_sh(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
    const posix_spawnattr_t *attr, char *const argv[], char *const env[])
{
	char **av;
	size_t n;
	int e;

	for (n = 0; argv[n] != NULL; n++)
		;
	if ((av = calloc(n + 2, sizeof(*av))) == NULL)
		return ENOMEM;
	av[0] = "/bin/sh";
	av[1] = (char *)path;
	if (n > 1)
		memcpy(av + 2, argv + 1, (n - 1) * sizeof(*av));
	e = posix_spawn(pid, av[0], fa, attr, av, env);
	free(av);
	return e;
}

int
mls_child_start(struct mls_child *c)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	int tin = -1, tout = -1, terr = -1, fa_ok = 0, attr_ok = 0, e, rc;
	char *const *env = c->env != NULL ? c->env : environ;
	const char *name, *path;
	char *found = NULL;
	pid_t pid;

	c->pid = -1;
	c->status = -1;
	c->exit_code = -1;
	c->signal = 0;
	c->out_truncated = c->err_truncated = 0;
	if (c->argv == NULL || c->argv[0] == NULL)
		return mls_error_set(MLS_ERR, "run: no command");
	name = c->file != NULL ? c->file : c->argv[0];
	if (name[0] == '\0')
		return mls_error_set(MLS_ERR, "run: no command");
	if ((e = posix_spawn_file_actions_init(&fa)) != 0) {
		errno = e;
		return mls_error_set_errno(MLS_ENOMEM, "spawn file actions");
	}
	fa_ok = 1;
	if ((e = posix_spawnattr_init(&attr)) != 0) {
		errno = e;
		rc = mls_error_set_errno(MLS_ENOMEM, "spawn attributes");
		goto out;
	}
	attr_ok = 1;
	if (c->dir != NULL &&
	    (e = posix_spawn_file_actions_addchdir_np(&fa, c->dir)) != 0) {
		errno = e;
		rc = mls_error_set_errno(MLS_ENOMEM, "spawn file actions");
		goto out;
	}
	if ((rc = setup_io(&fa, 0, c->in, c->in_fd, pin, &tin)) < 0 ||
	    (rc = setup_io(&fa, 1, c->out, c->out_fd, pout, &tout)) < 0)
		goto out;
	if (c->flags & MLS_CHILD_ERR_TO_OUT) {
		if ((e = posix_spawn_file_actions_adddup2(&fa, 1, 2)) != 0) {
			errno = e;
			rc = mls_error_set_errno(MLS_ENOMEM, "spawn file actions");
			goto out;
		}
	} else if ((rc = setup_io(&fa, 2, c->err, c->err_fd, perr, &terr)) < 0) {
		goto out;
	}
	if ((rc = setup_attr(&attr, c->flags)) < 0)
		goto out;
	/*
	 * posix_spawnp searches our PATH; a child with its own environment
	 * is looked up on its own PATH, as the shell would.
	 */
	path = name;
	if (c->env != NULL && strchr(name, '/') == NULL) {
		if ((rc = mls_run_which(name, env_get(c->env, "PATH"), c->dir,
		    &found)) < 0)
			goto out;
		path = found;
		e = found != NULL ? posix_spawn(&pid, found, &fa, &attr,
		    c->argv, env) : ENOENT;
	} else {
		e = posix_spawnp(&pid, name, &fa, &attr, c->argv, env);
	}
	if (e == ENOEXEC && (c->flags & MLS_CHILD_SH_FALLBACK)) {
		/* posix_spawnp found it on our PATH: where? */
		if (path == name && strchr(name, '/') == NULL) {
			if ((rc = mls_run_which(name, getenv("PATH"), c->dir,
			    &found)) < 0)
				goto out;
			path = found;
		}
		if (path != NULL)
			e = spawn_sh(&pid, path, &fa, &attr, c->argv, env);
	}
	if (e != 0 && c->dir != NULL && (rc = check_dir(name, c->dir)) < 0)
		goto out;
	if (e == ENOENT) {
		c->exit_code = 127;
		rc = mls_error_set(MLS_EUNAVAIL, "command not found: %s", name);
		goto out;
	}
	if (e == EAGAIN || e == ENOMEM) {
		errno = e;
		rc = mls_error_set_errno(MLS_ERR, "spawn '%s'", name);
		goto out;
	}
	if (e != 0) {
		c->exit_code = 126;
		rc = mls_error_set(MLS_EIO, "cannot execute '%s': %s", name,
		    strerror(e));
		goto out;
	}
	c->pid = pid;
	if (c->in == MLS_CHILD_PIPE) {
		c->in_fd = pin[1];
		pin[1] = -1;
	}
	if (c->out == MLS_CHILD_PIPE) {
		c->out_fd = pout[0];
		pout[0] = -1;
	}
	if (c->err == MLS_CHILD_PIPE && !(c->flags & MLS_CHILD_ERR_TO_OUT)) {
		c->err_fd = perr[0];
		perr[0] = -1;
	}
	rc = 0;
out:
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	if (attr_ok)
		posix_spawnattr_destroy(&attr);
	close_fd(&pin[0]);
	close_fd(&pin[1]);
	close_fd(&pout[0]);
	close_fd(&pout[1]);
	close_fd(&perr[0]);
	close_fd(&perr[1]);
	close_fd(&tin);
	close_fd(&tout);
	close_fd(&terr);
	free(found);
	return rc;
}

/* The program's name, for messages. */
static const char *
prog_name(const struct mls_child *c)
{
	return c->file != NULL ? c->file : c->argv[0];
}

/* Close the ends of pipes that mls_child_start() made. */
static void
close_pipes(struct mls_child *c)
{
	if (c->in == MLS_CHILD_PIPE)
		close_fd(&c->in_fd);
	if (c->out == MLS_CHILD_PIPE)
		close_fd(&c->out_fd);
	if (c->err == MLS_CHILD_PIPE)
		close_fd(&c->err_fd);
}

int
mls_child_finish(struct mls_child *c)
{
	pid_t w;
	int st;

	close_pipes(c);
	if (c->pid <= 0)
		return 0;
	while ((w = waitpid(c->pid, &st, 0)) == -1 && errno == EINTR)
		;
	c->pid = -1;
	if (w == -1)
		return mls_error_set_errno(MLS_ERR, "wait for '%s'",
		    prog_name(c));
	c->status = st;
	if (WIFEXITED(st)) {
		c->exit_code = WEXITSTATUS(st);
		c->signal = 0;
	} else {
		c->exit_code = -1;
		c->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	}
	return 0;
}

/*
 * write(2) without SIGPIPE when the reader has gone: block it in this
 * thread, and take back the one the write raised.  The process's own
 * disposition (the tools leave it at the default) is not changed.
 */
static ssize_t
write_nosigpipe(int fd, const void *p, size_t n)
{
	static const struct timespec zero = { 0, 0 };
	sigset_t set, old, pending;
	int was_pending, e;
	ssize_t r;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	r = write(fd, p, n);
	e = errno;
	if (r < 0 && e == EPIPE && !was_pending)
		while (sigtimedwait(&set, NULL, &zero) == -1 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return r;
}

/* Read what fd has into b (at most max bytes in all); 1 at its end. */
static int
drain(int fd, struct mls_buf *b, size_t *got, size_t max, int *truncated)
{
	char buf[16384];
	ssize_t r;
	size_t keep;

	if ((r = read(fd, buf, sizeof(buf))) < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		return mls_error_set_errno(MLS_EIO, "read from child");
	}
	if (r == 0)
		return 1;
	keep = max - *got < (size_t)r ? max - *got : (size_t)r;
	if (keep < (size_t)r)
		*truncated = 1;
	mls_buf_add(b, buf, keep);
	*got += keep;
	return mls_buf_error(b);
}

int
mls_child_capture(struct mls_child *c, const void *in, size_t inlen,
    struct mls_buf *out, struct mls_buf *err, size_t max)
{
	const char *inp = in;
	size_t inoff = 0, gotout = 0, goterr = 0;
	struct pollfd pfd[3];
	int rc, n, i, r, done[3];
	ssize_t w;

	if (max == 0)
		max = MLS_RUN_CAPTURE_MAX;
	/* a pipe with no buffer to drain it into would block the child */
	if (in != NULL)
		c->in = MLS_CHILD_PIPE;
	else if (c->in == MLS_CHILD_PIPE)
		c->in = MLS_CHILD_NULL;
	if (out != NULL)
		c->out = MLS_CHILD_PIPE;
	else if (c->out == MLS_CHILD_PIPE)
		c->out = MLS_CHILD_NULL;
	if (err != NULL && !(c->flags & MLS_CHILD_ERR_TO_OUT))
		c->err = MLS_CHILD_PIPE;
	else if (c->err == MLS_CHILD_PIPE)
		c->err = MLS_CHILD_NULL;
	if ((rc = mls_child_start(c)) < 0)
		return rc;
	if (in != NULL && (inlen == 0 ||
	    fcntl(c->in_fd, F_SETFL, fcntl(c->in_fd, F_GETFL) | O_NONBLOCK) == -1))
		close_fd(&c->in_fd);	/* nothing to feed, or it gets EOF now */
	for (;;) {
		/* the pollfd slots: 0 stdin, 1 stdout, 2 stderr */
		pfd[0].fd = in != NULL ? c->in_fd : -1;
		pfd[1].fd = out != NULL ? c->out_fd : -1;
		pfd[2].fd = err != NULL && c->err == MLS_CHILD_PIPE ? c->err_fd : -1;
		pfd[0].events = POLLOUT;
		pfd[1].events = pfd[2].events = POLLIN;
		for (i = n = 0; i < 3; i++) {
			pfd[i].revents = 0;
			done[i] = 0;
			n += pfd[i].fd >= 0;
		}
		if (n == 0)
			break;
		if (poll(pfd, 3, -1) == -1) {
			if (errno == EINTR)
				continue;
			rc = mls_error_set_errno(MLS_ERR, "poll");
			goto out;
		}
		if (pfd[0].fd >= 0 && pfd[0].revents != 0) {
			w = write_nosigpipe(c->in_fd, inp + inoff, inlen - inoff);
			if (w >= 0)
				inoff += (size_t)w;
			else if (errno == EPIPE)
				inoff = inlen;	/* it stopped reading: fine */
			else if (errno != EINTR && errno != EAGAIN) {
				rc = mls_error_set_errno(MLS_EIO, "write to '%s'",
				    prog_name(c));
				goto out;
			}
			done[0] = inoff == inlen;
		}
		if (pfd[1].fd >= 0 && pfd[1].revents != 0) {
			if ((r = drain(c->out_fd, out, &gotout, max,
			    &c->out_truncated)) < 0) {
				rc = r;
				goto out;
			}
			done[1] = r;
		}
		if (pfd[2].fd >= 0 && pfd[2].revents != 0) {
			if ((r = drain(c->err_fd, err, &goterr, max,
			    &c->err_truncated)) < 0) {
				rc = r;
				goto out;
			}
			done[2] = r;
		}
		if (done[0])
			close_fd(&c->in_fd);
		if (done[1])
			close_fd(&c->out_fd);
		if (done[2])
			close_fd(&c->err_fd);
	}
	rc = 0;
out:
	/* on an error, the closed pipes end a child that writes or reads */
	if ((r = mls_child_finish(c)) < 0 && rc == 0)
		rc = r;
	return rc;
}

int
mls_run_capture(char *const argv[], const char *in, struct mls_buf *out,
    struct mls_buf *err, int *status)
{
	struct mls_child c = MLS_CHILD_INIT;
	int rc;

	c.argv = argv;
	c.in = c.out = c.err = MLS_CHILD_NULL;
	if ((rc = mls_child_capture(&c, in, in != NULL ? strlen(in) : 0, out,
	    err, 0)) < 0)
		return rc;
	*status = c.exit_code >= 0 ? c.exit_code : 128 + c.signal;
	return 0;
}
