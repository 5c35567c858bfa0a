/*
 * test_mls_run.c - children: exit status, signals, exec failures, pipes
 * that must not deadlock, stdin feeding and the capture cap.
 */
#include "config.h"

#include "mls_run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mls_buf.h"
#include "mls_error.h"
#include "tap.h"

#define BIG	(1024 * 1024)

static int
has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static int
all_bytes(const struct mls_buf *b, char c)
{
	for (size_t i = 0; i < b->len; i++)
		if (b->buf[i] != c)
			return 0;
	return 1;
}

static void
test_exit_status(void)
{
	char *argv[] = { "sh", "-c", "exit 3", NULL };
	struct mls_child c = MLS_CHILD_INIT;
	int status = -7, rc;

	c.argv = argv;
	ok(mls_child_start(&c) == 0 && c.pid > 0, "exit status: started");
	rc = mls_child_finish(&c);
	ok(rc == 0 && c.exit_code == 3 && c.signal == 0 && c.pid == -1,
	    "exit status: 3, no signal (%d, %d)", c.exit_code, c.signal);
	ok(mls_child_finish(&c) == 0 && c.exit_code == 3,
	    "exit status: finishing twice is a no-op");
	rc = mls_run_capture(argv, NULL, NULL, NULL, &status);
	ok(rc == 0 && status == 3, "exit status: mls_run_capture says 3 (%d)",
	    status);
	argv[2] = "exit 0";
	ok(mls_run_capture(argv, NULL, NULL, NULL, &status) == 0 && status == 0,
	    "exit status: 0");
}

static void
test_signal(void)
{
	char *argv[] = { "sh", "-c", "kill -TERM $$; sleep 5", NULL };
	struct mls_child c = MLS_CHILD_INIT;
	int status = -7, rc;

	c.argv = argv;
	rc = mls_child_capture(&c, NULL, 0, NULL, NULL, 0);
	ok(rc == 0 && c.signal == SIGTERM && c.exit_code == -1,
	    "signal: killed by SIGTERM (%d, %d)", c.signal, c.exit_code);
	rc = mls_run_capture(argv, NULL, NULL, NULL, &status);
	ok(rc == 0 && status == 128 + SIGTERM,
	    "signal: status 128+15 as sh says (%d)", status);
}

static void
test_exec_failure(void)
{
	char *argv[] = { "no-such-command-xyz", NULL };
	char *env[] = { "PATH=/nonexistent:/bin:/usr/bin", NULL };
	char *notx[] = { NULL, NULL };
	char path[] = "/tmp/test_mls_run.XXXXXX";
	struct mls_child c = MLS_CHILD_INIT;
	int fd, status = -7, rc;

	c.argv = argv;
	rc = mls_child_start(&c);
	ok(rc == MLS_EUNAVAIL && c.exit_code == 127 && c.pid == -1,
	    "exec failure: not found is MLS_EUNAVAIL, exit code 127");
	ok(strcmp(mls_error_last(), "command not found: no-such-command-xyz") == 0,
	    "exec failure: message as the executor's (%s)", mls_error_last());
	ok(mls_child_finish(&c) == 0, "exec failure: nothing to finish");

	c = (struct mls_child)MLS_CHILD_INIT;
	c.argv = argv;
	c.env = env;
	ok(mls_child_start(&c) == MLS_EUNAVAIL && c.exit_code == 127,
	    "exec failure: not found on the child's own PATH");

	ok(mls_run_capture(argv, NULL, NULL, NULL, &status) == MLS_EUNAVAIL &&
	    status == -7, "exec failure: mls_run_capture fails, status untouched");

	fd = mkstemp(path);
	ok(fd >= 0 && write(fd, "x\n", 2) == 2 && close(fd) == 0 &&
	    chmod(path, 0644) == 0, "exec failure: a file without x bit");
	notx[0] = path;
	c = (struct mls_child)MLS_CHILD_INIT;
	c.argv = notx;
	rc = mls_child_start(&c);
	ok(rc == MLS_EIO && c.exit_code == 126 &&
	    has_prefix(mls_error_last(), "cannot execute '"),
	    "exec failure: not executable is 126 (%s)", mls_error_last());
	unlink(path);

	c = (struct mls_child)MLS_CHILD_INIT;
	argv[0] = "true";
	c.argv = argv;
	c.dir = "/nonexistent-dir-xyz";
	ok(mls_child_start(&c) == MLS_ENOTFOUND && c.exit_code == -1 &&
	    strstr(mls_error_last(), "/nonexistent-dir-xyz") != NULL,
	    "exec failure: a missing directory is not 'command not found' (%s)",
	    mls_error_last());
}

/*
 * More than a pipe holds on stderr before anything on stdout: a reader
 * that drained stdout first would wait forever (alarm() ends the test).
 */
static void
test_large_output(void)
{
	char *argv[] = { "sh", "-c", "head -c 1048576 /dev/zero | tr '\\0' e >&2; "
	    "head -c 1048576 /dev/zero | tr '\\0' o; "
	    "head -c 1048576 /dev/zero | tr '\\0' e >&2", NULL };
	struct mls_buf out = MLS_BUF_INIT, err = MLS_BUF_INIT;
	int status = -1;

	ok(mls_run_capture(argv, NULL, &out, &err, &status) == 0 && status == 0,
	    "large output: ran");
	ok(out.len == BIG && all_bytes(&out, 'o'), "large output: all of stdout "
	    "(%zu bytes)", out.len);
	ok(err.len == 2 * BIG && all_bytes(&err, 'e'), "large output: all of "
	    "stderr (%zu bytes)", err.len);
	mls_buf_release(&out);
	mls_buf_release(&err);
}

/* cat echoes while it is fed: feeding all first would deadlock. */
static void
test_stdin_feeding(void)
{
	char *argv[] = { "sh", "-c", "head -c 300000 /dev/zero >&2; cat; "
	    "echo done >&2", NULL };
	char *tru[] = { "true", NULL };
	struct mls_child c = MLS_CHILD_INIT;
	struct mls_buf out = MLS_BUF_INIT, err = MLS_BUF_INIT;
	char *in;
	size_t i;
	int status = -1;

	if ((in = malloc(2 * BIG)) == NULL)
		return;
	for (i = 0; i < 2 * BIG; i++)
		in[i] = (char)('a' + i % 26);
	c.argv = argv;
	ok(mls_child_capture(&c, in, 2 * BIG, &out, &err, 0) == 0 &&
	    c.exit_code == 0, "stdin: ran");
	ok(out.len == 2 * BIG && memcmp(out.buf, in, out.len) == 0,
	    "stdin: 2 MiB fed and echoed back in order (%zu)", out.len);
	ok(err.len == 300005 && strcmp(err.buf + 300000, "done\n") == 0,
	    "stdin: stderr read meanwhile, 'done' after the input ended");

	/* a child that reads nothing: no SIGPIPE here, no error */
	in[BIG] = '\0';
	ok(mls_run_capture(tru, in, NULL, NULL, &status) == 0 && status == 0,
	    "stdin: a child that does not read its input is fine");
	ok(mls_run_capture(argv, "", &out, NULL, &status) == 0 && status == 0,
	    "stdin: empty input is an immediate end of file");
	free(in);
	mls_buf_release(&out);
	mls_buf_release(&err);
}

static void
test_capture_cap(void)
{
	char *argv[] = { "sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x; "
	    "echo tail >&2; exit 4", NULL };
	struct mls_child c = MLS_CHILD_INIT;
	struct mls_buf out = MLS_BUF_INIT, err = MLS_BUF_INIT;

	mls_buf_adds(&out, "kept:");
	c.argv = argv;
	ok(mls_child_capture(&c, NULL, 0, &out, &err, 1000) == 0,
	    "cap: ran");
	ok(out.len == 5 + 1000 && has_prefix(out.buf, "kept:x") &&
	    c.out_truncated == 1, "cap: 1000 bytes appended, truncation said");
	ok(strcmp(err.buf, "tail\n") == 0 && c.err_truncated == 0,
	    "cap: stderr whole, under the cap");
	ok(c.exit_code == 4 && c.signal == 0,
	    "cap: the child was read to its end, not killed by SIGPIPE");
	mls_buf_release(&out);
	mls_buf_release(&err);
}

static void
test_dir_env_fds(void)
{
	char *pwd[] = { "pwd", NULL };
	char *echo[] = { "sh", "-c", "echo \"$MLS_T\"; echo err >&2", NULL };
	char *env[] = { "PATH=/usr/bin:/bin", "MLS_T=from env", NULL };
	char path[] = "/tmp/test_mls_run.XXXXXX", buf[64];
	struct mls_child c = MLS_CHILD_INIT;
	struct mls_buf out = MLS_BUF_INIT;
	ssize_t n;
	int fd;

	c.argv = pwd;
	c.dir = "/";
	ok(mls_child_capture(&c, NULL, 0, &out, NULL, 0) == 0 &&
	    strcmp(out.buf, "/\n") == 0, "dir: the child starts there");
	mls_buf_reset(&out);

	c = (struct mls_child)MLS_CHILD_INIT;
	c.argv = echo;
	c.env = env;
	c.flags = MLS_CHILD_ERR_TO_OUT;
	ok(mls_child_capture(&c, NULL, 0, &out, NULL, 0) == 0 &&
	    strcmp(out.buf, "from env\nerr\n") == 0,
	    "env: its own environment; stderr joined to stdout");
	mls_buf_release(&out);

	fd = mkstemp(path);
	c = (struct mls_child)MLS_CHILD_INIT;
	c.argv = echo;
	c.env = env;
	c.in = MLS_CHILD_NULL;
	c.out = MLS_CHILD_FD;
	c.out_fd = fd;
	c.err = MLS_CHILD_NULL;
	ok(fd >= 0 && mls_child_start(&c) == 0 && mls_child_finish(&c) == 0 &&
	    c.exit_code == 0 && c.out_fd == fd, "fd: stdout to our file, kept open");
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	ok(n == 9 && memcmp(buf, "from env\n", 9) == 0, "fd: written there");
	close(fd);
	unlink(path);
}

static void
test_session(void)
{
	char *argv[] = { "cat", NULL };
	struct mls_child c = MLS_CHILD_INIT;
	pid_t pid;

	c.argv = argv;
	c.in = MLS_CHILD_PIPE;
	c.out = c.err = MLS_CHILD_NULL;
	c.flags = MLS_CHILD_SETSID;
	ok(mls_child_start(&c) == 0 && c.in_fd > 2, "setsid: started, stdin a pipe");
	pid = c.pid;
	ok(getsid(pid) == pid && getpgid(pid) == pid,
	    "setsid: its own session and process group");
	ok(mls_child_finish(&c) == 0 && c.exit_code == 0 && c.in_fd == -1,
	    "setsid: finish closes stdin, so cat ends");

	c = (struct mls_child)MLS_CHILD_INIT;
	c.argv = argv;
	c.in = MLS_CHILD_PIPE;
	c.flags = MLS_CHILD_SETPGID;
	ok(mls_child_start(&c) == 0, "setpgid: started");
	pid = c.pid;
	ok(getpgid(pid) == pid && getsid(pid) == getsid(0),
	    "setpgid: its own group, our session");
	ok(mls_child_finish(&c) == 0 && c.exit_code == 0, "setpgid: ended");
}

static void
test_reset_signals(void)
{
	char *argv[] = { "sh", "-c", "kill -USR1 $$; exit 0", NULL };
	struct mls_child c = MLS_CHILD_INIT;
	sigset_t set, old;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	c.argv = argv;
	c.flags = MLS_CHILD_RESET_SIGNALS;
	ok(mls_child_capture(&c, NULL, 0, NULL, NULL, 0) == 0 &&
	    c.signal == SIGUSR1, "reset signals: a signal we block reaches it");
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* The program apart from argv[0]; a file with no #! line run by sh. */
static void
test_file_and_sh_fallback(void)
{
	char dir[] = "/tmp/test_mls_run.XXXXXX", script[64], *oldpath, *p;
	char *named[] = { "my-name", "-c", "echo \"$0\"", NULL };
	char *byslash[] = { script, "x", NULL };
	char *byname[] = { "noshebang", "y", NULL };
	char *relative[] = { "./noshebang", "w", NULL };
	char envpath[96], *env[] = { envpath, NULL };
	struct mls_child c = MLS_CHILD_INIT;
	struct mls_buf out = MLS_BUF_INIT, path = MLS_BUF_INIT;
	int fd;

	c.file = "/bin/sh";
	c.argv = named;
	ok(mls_child_capture(&c, NULL, 0, &out, NULL, 0) == 0 &&
	    strcmp(out.buf, "my-name\n") == 0,
	    "file: /bin/sh runs, with argv[0] as given");
	mls_buf_reset(&out);

	ok(mkdtemp(dir) != NULL, "fallback: a dir");
	snprintf(script, sizeof(script), "%s/noshebang", dir);
	snprintf(envpath, sizeof(envpath), "PATH=/nonexistent:%s", dir);
	fd = open(script, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	ok(fd >= 0 && write(fd, "echo \"script:$1\"\n", 17) == 17 &&
	    close(fd) == 0, "fallback: an executable script with no #! line");

	c = (struct mls_child)MLS_CHILD_INIT;
	c.argv = byslash;
	ok(mls_child_start(&c) == MLS_EIO && c.exit_code == 126 &&
	    has_prefix(mls_error_last(), "cannot execute '"),
	    "fallback: not asked for, it cannot be executed");

	c = (struct mls_child)MLS_CHILD_INIT;
	c.argv = byslash;
	c.flags = MLS_CHILD_SH_FALLBACK;
	ok(mls_child_capture(&c, NULL, 0, &out, NULL, 0) == 0 &&
	    c.exit_code == 0 && strcmp(out.buf, "script:x\n") == 0,
	    "fallback: a path is run by sh with its arguments");
	mls_buf_reset(&out);

	c = (struct mls_child)MLS_CHILD_INIT;
	c.argv = byname;
	c.env = env;
	c.flags = MLS_CHILD_SH_FALLBACK;
	ok(mls_child_capture(&c, NULL, 0, &out, NULL, 0) == 0 &&
	    strcmp(out.buf, "script:y\n") == 0,
	    "fallback: a name found on the child's PATH");
	mls_buf_reset(&out);

	c = (struct mls_child)MLS_CHILD_INIT;
	c.argv = relative;
	c.env = env;
	c.dir = dir;
	c.flags = MLS_CHILD_SH_FALLBACK;
	ok(mls_child_capture(&c, NULL, 0, &out, NULL, 0) == 0 &&
	    strcmp(out.buf, "script:w\n") == 0,
	    "fallback: a relative path from the child's dir");
	mls_buf_reset(&out);

	/* a name posix_spawnp found on our PATH */
	oldpath = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	mls_buf_addf(&path, "%s:%s", dir, oldpath);
	setenv("PATH", path.buf, 1);
	byname[1] = "z";
	c = (struct mls_child)MLS_CHILD_INIT;
	c.argv = byname;
	c.flags = MLS_CHILD_SH_FALLBACK;
	ok(mls_child_capture(&c, NULL, 0, &out, NULL, 0) == 0 &&
	    strcmp(out.buf, "script:z\n") == 0,
	    "fallback: a name found on our PATH");
	setenv("PATH", oldpath, 1);
	free(oldpath);
	mls_buf_release(&path);
	mls_buf_release(&out);

	/* where: absolute entries remembered, relative ones looked at again */
	ok(mls_run_which("noshebang", envpath + 5, NULL, &p) == 0 &&
	    p != NULL && strcmp(p, script) == 0, "which: found on a PATH");
	free(p);
	ok(mls_run_which("noshebang", ":/nonexistent", dir, &p) == 0 &&
	    p != NULL && strcmp(p, "./noshebang") == 0,
	    "which: an empty entry is the dir, named as the entry is");
	free(p);
	unlink(script);
	ok(mls_run_which("noshebang", envpath + 5, NULL, &p) == 0 &&
	    p != NULL && strcmp(p, script) == 0,
	    "which: remembered for a while, as a shell's hash table");
	free(p);
	ok(mls_run_which("noshebang", ":/nonexistent", dir, &p) == 0 &&
	    p == NULL, "which: a relative entry is looked at every time");
	ok(mls_run_which("sh", NULL, NULL, &p) == 0 && p != NULL &&
	    has_prefix(p, "/") && strcmp(p + strlen(p) - 3, "/sh") == 0,
	    "which: no PATH is " MLS_RUN_DEFAULT_PATH);
	free(p);

	c = (struct mls_child)MLS_CHILD_INIT;
	c.argv = byname;
	c.env = env;
	c.dir = "/nonexistent-dir-xyz";
	ok(mls_child_start(&c) == MLS_ENOTFOUND && c.exit_code == -1 &&
	    strstr(mls_error_last(), "/nonexistent-dir-xyz") != NULL,
	    "exec failure: a missing directory, with a PATH of the child's");
	rmdir(dir);
}

int
main(void)
{
	alarm(120);	/* a deadlock fails the test instead of hanging it */
	test_exit_status();
	test_signal();
	test_exec_failure();
	test_large_output();
	test_stdin_feeding();
	test_capture_cap();
	test_dir_env_fds();
	test_session();
	test_reset_signals();
	test_file_and_sh_fallback();
	return done_testing();
}
