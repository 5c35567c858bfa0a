/*
 * mls_buf.h - a growable string buffer with a sticky out-of-memory flag.
 */
#ifndef MLS_BUF_H
#define MLS_BUF_H

#include <stdarg.h>
#include <stddef.h>

extern char mls_buf_empty_[];

struct mls_buf {
	char	*buf;	/* never NULL: MLS_BUF_INIT points at a static "" */
	size_t	 len, cap;
	int	 err;	/* sticky MLS_ENOMEM */
};
#define MLS_BUF_INIT { .buf = mls_buf_empty_, .len = 0, .cap = 0, .err = 0 }

void	 mls_buf_init(struct mls_buf *b);
/* Free the memory; b is re-initialised. */
void	 mls_buf_release(struct mls_buf *b);
/* Empty b, keeping its memory. */
void	 mls_buf_reset(struct mls_buf *b);
void	 mls_buf_add(struct mls_buf *b, const void *data, size_t len);
void	 mls_buf_adds(struct mls_buf *b, const char *s);
void	 mls_buf_addc(struct mls_buf *b, char c);
void	 mls_buf_addf(struct mls_buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 mls_buf_vaddf(struct mls_buf *b, const char *fmt, va_list ap);
/* Append s quoted for a POSIX shell ('...' with '\'' for quotes). */
void	 mls_buf_add_shquoted(struct mls_buf *b, const char *s);
/* Make room for extra more bytes; returns 0 or MLS_ENOMEM. */
int	 mls_buf_grow(struct mls_buf *b, size_t extra);
/* 0, or MLS_ENOMEM (with the message set) if an append failed. */
int	 mls_buf_error(const struct mls_buf *b);
/* Hand the string to the caller (free() it); NULL if out of memory. */
char	*mls_buf_detach(struct mls_buf *b);

#endif
