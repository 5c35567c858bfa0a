#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mls_alloc.h"
#include "mls_buf.h"
#include "mls_error.h"

char mls_buf_empty_[1];

void
mls_buf_init(struct mls_buf *b)
{
	b->buf = mls_buf_empty_;
	b->len = b->cap = 0;
	b->err = 0;
}

void
mls_buf_release(struct mls_buf *b)
{
	if (b->cap > 0)
		free(b->buf);
	mls_buf_init(b);
}

void
mls_buf_reset(struct mls_buf *b)
{
	b->len = 0;
	if (b->cap > 0)
		b->buf[0] = '\0';
	b->err = 0;
}

int
mls_buf_grow(struct mls_buf *b, size_t extra)
{
	size_t want, cap;
	char *p;

	if (b->err)
		return MLS_ENOMEM;
	/* more than half the address space is refused without asking */
	if (extra > (size_t)-1 / 2 - b->len - 1)
		goto oom;
	want = b->len + extra + 1;
	if (want <= b->cap)
		return 0;
	/* b->buf is the static "" until the first allocation */
	if (mls_grow_cap(b->cap > 0 ? b->cap : 64, want, 1, &cap) < 0 ||
	    (p = realloc(b->cap > 0 ? b->buf : NULL, cap)) == NULL)
		goto oom;
	if (b->cap == 0)
		p[0] = '\0';
	b->buf = p;
	b->cap = cap;
	return 0;
oom:
	b->err = MLS_ENOMEM;
	return MLS_ENOMEM;
}

void
mls_buf_add(struct mls_buf *b, const void *data, size_t len)
{
	if (mls_buf_grow(b, len) < 0)
		return;
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
}

void
mls_buf_adds(struct mls_buf *b, const char *s)
{
	mls_buf_add(b, s, strlen(s));
}

void
mls_buf_addc(struct mls_buf *b, char c)
{
	mls_buf_add(b, &c, 1);
}

void
mls_buf_vaddf(struct mls_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	if (b->err)
		return;
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || mls_buf_grow(b, (size_t)n) < 0) {
		b->err = MLS_ENOMEM;
		return;
	}
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
mls_buf_addf(struct mls_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mls_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void
mls_buf_add_shquoted(struct mls_buf *b, const char *s)
{
	mls_buf_addc(b, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			mls_buf_adds(b, "'\\''");
		else
			mls_buf_addc(b, *s);
	}
	mls_buf_addc(b, '\'');
}

int
mls_buf_error(const struct mls_buf *b)
{
	if (b->err)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	return 0;
}

char *
mls_buf_detach(struct mls_buf *b)
{
	char *p;

	if (b->err) {
		mls_buf_release(b);
		return NULL;
	}
	if (b->cap == 0)
		p = strdup("");
	else
		p = b->buf;
	mls_buf_init(b);
	return p;
}
