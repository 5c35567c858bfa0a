/*
 * mls_input.c - what an input holds, seen without consuming it.
 *
 * A pipe is looked at with tee(2), which duplicates the bytes at the head
 * of the pipe into a pipe of our own and leaves them where they were; the
 * bytes are then read from our pipe.  tee(2) always starts at the head, so
 * each look sees the first bytes again, plus whatever the writer added.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mls_error.h"
#include "mls_input.h"

#define PEEK_MAX	4096	/* blanks beyond this: not a record stream */

/* The first byte of buf[0..n) that is not a blank, or -1. */
static int
first_byte(const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' &&
		    buf[i] != '\r')
			return (unsigned char)buf[i];
	return -1;
}

static enum mls_input
classify(int c)
{
	return c == '{' ? MLS_INPUT_RECORDS : MLS_INPUT_OTHER;
}

static void
nap(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* A regular file: pread(2) from its offset, which stays where it is. */
static int
peek_file(int fd, enum mls_input *what)
{
	char buf[PEEK_MAX];
	off_t off;
	ssize_t n;
	int c;

	if ((off = lseek(fd, 0, SEEK_CUR)) == -1)
		return mls_error_set_errno(MLS_EIO, "peek: lseek");
	for (;;) {
		if ((n = pread(fd, buf, sizeof(buf), off)) == -1) {
			if (errno == EINTR)
				continue;
			return mls_error_set_errno(MLS_EIO, "peek: read");
		}
		if (n == 0) {
			*what = MLS_INPUT_EMPTY;
			return 0;
		}
		if ((c = first_byte(buf, (size_t)n)) != -1) {
			*what = classify(c);
			return 0;
		}
		off += n;
	}
}

/*
 * Copy the bytes at the head of fd into buf without consuming them:
 * returns how many (0 at the end of the input), or -1 with errno set.
 */
typedef ssize_t (*peek_fn)(int fd, int tee_r, int tee_w, char *buf, size_t len);

static ssize_t
peek_socket(int fd, int tee_r, int tee_w, char *buf, size_t len)
{
	(void)tee_r;
	(void)tee_w;
	return recv(fd, buf, len, MSG_PEEK);
}

#ifdef __linux__
static ssize_t
peek_pipe(int fd, int tee_r, int tee_w, char *buf, size_t len)
{
	ssize_t n, got = 0, r;

	if ((n = tee(fd, tee_w, len, 0)) <= 0)
		return n;
	while (got < n) {
		if ((r = read(tee_r, buf + got, (size_t)(n - got))) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			errno = EIO;
			return -1;
		}
		got += r;
	}
	return n;
}
#endif

/*
 * A pipe or a stream socket: look until a byte that is not a blank shows
 * up or the writer is gone.  When only blanks are there so far, wait for
 * more (a hang-up with nothing new means the end).
 */
static int
peek_stream(int fd, peek_fn peek, int tee_r, int tee_w, enum mls_input *what)
{
	char buf[PEEK_MAX];
	struct pollfd pfd;
	ssize_t n, prev = -1;
	int c, hup = 0;

	for (;;) {
		if ((n = peek(fd, tee_r, tee_w, buf, sizeof(buf))) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				/* a non-blocking input: wait as a read would */
				pfd.fd = fd;
				pfd.events = POLLIN;
				if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
					return mls_error_set_errno(MLS_EIO,
					    "peek: poll");
				continue;
			}
			return mls_error_set_errno(MLS_EIO, "peek");
		}
		if (n == 0) {
			*what = MLS_INPUT_EMPTY;
			return 0;
		}
		if ((c = first_byte(buf, (size_t)n)) != -1) {
			*what = classify(c);
			return 0;
		}
		if ((size_t)n >= sizeof(buf)) {
			*what = MLS_INPUT_OTHER;
			return 0;
		}
		if (n == prev) {
			if (hup) {	/* nothing new after the writer left */
				*what = MLS_INPUT_EMPTY;
				return 0;
			}
			pfd.fd = fd;
			pfd.events = POLLIN;
			pfd.revents = 0;
			if (poll(&pfd, 1, 0) == -1 && errno != EINTR)
				return mls_error_set_errno(MLS_EIO, "peek: poll");
			if (pfd.revents & (POLLHUP | POLLERR))
				hup = 1;
			else
				nap();
		}
		prev = n;
	}
}

int
mls_input_peek(int fd, enum mls_input *what)
{
	struct stat sb;
	int rc;

	if (fstat(fd, &sb) == -1) {
		if (errno == EBADF) {	/* closed: nothing to read */
			*what = MLS_INPUT_NONE;
			return 0;
		}
		return mls_error_set_errno(MLS_EIO, "peek: fstat");
	}
	if (S_ISREG(sb.st_mode))
		return peek_file(fd, what);
	if (S_ISSOCK(sb.st_mode))
		return peek_stream(fd, peek_socket, -1, -1, what);
	if (S_ISFIFO(sb.st_mode)) {
#ifdef __linux__
		int p[2];

		if (pipe2(p, O_CLOEXEC) == -1)
			return mls_error_set_errno(MLS_EIO, "pipe");
		rc = peek_stream(fd, peek_pipe, p[0], p[1], what);
		close(p[0]);
		close(p[1]);
		return rc;
#else
		*what = MLS_INPUT_UNKNOWN;
		return 0;
#endif
	}
	(void)rc;
	*what = MLS_INPUT_NONE;	/* a terminal, /dev/null, a directory */
	return 0;
}
