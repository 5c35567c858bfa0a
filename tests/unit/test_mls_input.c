/*
 * test_mls_input.c - peeking at an input without consuming it.
 */
#include "config.h"

#include "mls_input.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

/* Read fd to its end into buf (NUL-terminated); the count. */
static size_t
slurp(int fd, char *buf, size_t size)
{
	size_t got = 0;
	ssize_t n;

	while (got + 1 < size && (n = read(fd, buf + got, size - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	return got;
}

/* A pipe holding text with its writer closed: what the peek says. */
static enum mls_input
peek_pipe_text(const char *label, const char *text, char *after, size_t size)
{
	enum mls_input w = MLS_INPUT_UNKNOWN;
	int p[2], rc;

	if (pipe(p) == -1)
		return MLS_INPUT_UNKNOWN;
	if (write(p[1], text, strlen(text)) != (ssize_t)strlen(text))
		return MLS_INPUT_UNKNOWN;
	close(p[1]);
	rc = mls_input_peek(p[0], &w);
	ok(rc == 0, "pipe, %s: peek returns 0", label);
	slurp(p[0], after, size);
	close(p[0]);
	return w;
}

static void
test_pipe(void)
{
	const char *rec = "  \n{\"kind\":\"params\",\"lr\":0.1}\n{\"kind\":\"params\"}\n";
	const char *sh = "mls-submit -- true\necho last line\n";
	char after[256];

	ok(peek_pipe_text("records", rec, after, sizeof(after)) == MLS_INPUT_RECORDS,
	    "pipe: records after blanks");
	ok(strcmp(after, rec) == 0, "pipe: the records are all still there");

	ok(peek_pipe_text("shell text", sh, after, sizeof(after)) == MLS_INPUT_OTHER,
	    "pipe: shell text is other");
	ok(strcmp(after, sh) == 0, "pipe: the shell text stays readable, whole");

	ok(peek_pipe_text("a while-read line", "adam 0.1\n", after, sizeof(after)) == MLS_INPUT_OTHER,
	    "pipe: a while-read line is other");
	ok(peek_pipe_text("empty", "", after, sizeof(after)) == MLS_INPUT_EMPTY,
	    "pipe: empty, writer gone");
	ok(peek_pipe_text("blanks", " \n\t\n", after, sizeof(after)) == MLS_INPUT_EMPTY,
	    "pipe: only blanks, writer gone");
	ok(strcmp(after, " \n\t\n") == 0, "pipe: the blanks are still there");
}

/* A writer that sends blanks first and the record later. */
static void
test_pipe_slow_writer(void)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	enum mls_input w = MLS_INPUT_UNKNOWN;
	char after[64];
	int p[2], st;
	pid_t pid;

	if (pipe(p) == -1 || (pid = fork()) == -1) {
		ok(0, "slow writer: pipe/fork");
		return;
	}
	if (pid == 0) {
		close(p[0]);
		if (write(p[1], "\n \n", 3) != 3)
			_exit(1);
		nanosleep(&ts, NULL);
		if (write(p[1], "{}\n", 3) != 3)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	ok(mls_input_peek(p[0], &w) == 0 && w == MLS_INPUT_RECORDS,
	    "slow writer: blanks, then a record: records");
	slurp(p[0], after, sizeof(after));
	ok(strcmp(after, "\n \n{}\n") == 0, "slow writer: nothing consumed");
	close(p[0]);
	waitpid(pid, &st, 0);
}

static void
test_file(void)
{
	char path[] = "/tmp/test_mls_input.XXXXXX";
	const char *text = "#!/bin/sh\n{\"kind\":\"params\"}\n";
	enum mls_input w = MLS_INPUT_UNKNOWN;
	char after[64];
	int fd;

	if ((fd = mkstemp(path)) == -1) {
		ok(0, "file: mkstemp");
		return;
	}
	unlink(path);
	ok(mls_input_peek(fd, &w) == 0 && w == MLS_INPUT_EMPTY, "file: empty");
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		ok(0, "file: write");
	lseek(fd, 0, SEEK_SET);
	ok(mls_input_peek(fd, &w) == 0 && w == MLS_INPUT_OTHER,
	    "file: a script is other");
	ok(lseek(fd, 0, SEEK_CUR) == 0, "file: the offset is where it was");
	lseek(fd, 10, SEEK_SET);	/* past "#!/bin/sh\n" */
	ok(mls_input_peek(fd, &w) == 0 && w == MLS_INPUT_RECORDS,
	    "file: records from the current offset");
	ok(lseek(fd, 0, SEEK_CUR) == 10, "file: the offset stays at 10");
	slurp(fd, after, sizeof(after));
	ok(strcmp(after, "{\"kind\":\"params\"}\n") == 0,
	    "file: the records read whole after the peek");
	close(fd);
}

static void
test_socket(void)
{
	enum mls_input w = MLS_INPUT_UNKNOWN;
	const char *rec = "{\"kind\":\"sandbox\"}\n";
	char after[64];
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		ok(0, "socket: socketpair");
		return;
	}
	if (write(sv[1], rec, strlen(rec)) != (ssize_t)strlen(rec))
		ok(0, "socket: write");
	close(sv[1]);
	ok(mls_input_peek(sv[0], &w) == 0 && w == MLS_INPUT_RECORDS,
	    "socket: records");
	slurp(sv[0], after, sizeof(after));
	ok(strcmp(after, rec) == 0, "socket: nothing consumed");
	close(sv[0]);
}

static void
test_none(void)
{
	enum mls_input w = MLS_INPUT_UNKNOWN;
	int fd;

	if ((fd = open("/dev/null", O_RDONLY)) != -1) {
		ok(mls_input_peek(fd, &w) == 0 && w == MLS_INPUT_NONE,
		    "/dev/null: none");
		close(fd);
	}
	w = MLS_INPUT_UNKNOWN;
	if ((fd = posix_openpt(O_RDWR | O_NOCTTY)) != -1) {
		ok(mls_input_peek(fd, &w) == 0 && w == MLS_INPUT_NONE,
		    "a terminal: none, and no wait for input");
		close(fd);
	} else {
		ok(1, "# skip: no pseudo-terminal here");
	}
	w = MLS_INPUT_UNKNOWN;
	ok(mls_input_peek(1000, &w) == 0 && w == MLS_INPUT_NONE,
	    "a closed descriptor: none");
}

int
main(void)
{
	test_pipe();
	test_pipe_slow_writer();
	test_file();
	test_socket();
	test_none();
	return done_testing();
}
