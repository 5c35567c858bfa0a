#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mls_error.h"

static _Thread_local struct {
	int	 code;
	char	 msg[1024];
} last;

int
mls_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last.msg, sizeof(last.msg), fmt, ap);
	va_end(ap);
	last.code = code;
	return code;
}

int
mls_error_set_errno(int code, const char *fmt, ...)
{
	int saved = errno;
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last.msg, sizeof(last.msg), fmt, ap);
	va_end(ap);
	len = strlen(last.msg);
	snprintf(last.msg + len, sizeof(last.msg) - len, ": %s", strerror(saved));
	last.code = code;
	errno = saved;
	return code;
}

int
mls_error_prefix(const char *fmt, ...)
{
	char pre[512], old[sizeof(last.msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	size_t n, m;

	memcpy(old, last.msg, sizeof(old));
	n = strlen(pre);
	if (n > sizeof(last.msg) - 3)
		n = sizeof(last.msg) - 3;
	memcpy(last.msg, pre, n);
	memcpy(last.msg + n, ": ", 2);
	n += 2;
	m = strlen(old);
	if (m > sizeof(last.msg) - 1 - n)
		m = sizeof(last.msg) - 1 - n;	/* truncated: the message is bounded */
	memcpy(last.msg + n, old, m);
	last.msg[n + m] = '\0';
	return last.code;
}

const char *
mls_error_last(void)
{
	return last.msg[0] != '\0' ? last.msg : "unknown error";
}

int
mls_error_code(void)
{
	return last.code;
}

void
mls_error_clear(void)
{
	last.code = 0;
	last.msg[0] = '\0';
}
