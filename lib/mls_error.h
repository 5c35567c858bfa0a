/*
 * mls_error.h - error codes and the last error message of this thread.
 *
 * Every lib/ function that can fail returns 0 (or a count) on success and
 * one of the negative codes below on failure, after setting a message with
 * mls_error_set().  cmd/ maps codes to exit statuses in cli_exit_code().
 */
#ifndef MLS_ERROR_H
#define MLS_ERROR_H

enum mls_err {
	MLS_OK = 0,
	MLS_ERR = -1,		/* internal error, a bug */
	MLS_ENOMEM = -2,
	MLS_EIO = -3,		/* local read/write failed */
	MLS_EINPUT = -4,	/* invalid input line, space or value */
	MLS_ENOTFOUND = -5,	/* file, job or object does not exist */
	MLS_ENET = -6,		/* network, 5xx after retries */
	MLS_EPROTO = -7,	/* the peer answered nonsense */
	MLS_EAUTH = -8,		/* 401/403, bad credentials */
	MLS_ECONFIG = -9,	/* bad configuration */
	MLS_EUNAVAIL = -10,	/* a needed program or service is missing */
	MLS_EAMBIG = -11,	/* an id prefix matches several objects */
};

/* Set the message (printf-style) and return code. */
int		 mls_error_set(int code, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* As mls_error_set(), appending ": strerror(errno)". */
int		 mls_error_set_errno(int code, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* Prefix the current message with "PREFIX: "; returns the current code. */
int		 mls_error_prefix(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
/* The last message of this thread (borrowed, never NULL). */
const char	*mls_error_last(void);
/* The last code of this thread. */
int		 mls_error_code(void);
/* Clear the message and the code. */
void		 mls_error_clear(void);

#endif
