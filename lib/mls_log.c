#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "mls_log.h"

static mls_log_fn handler;
static void *handler_arg;

void
mls_log_set_handler(mls_log_fn fn, void *arg)
{
	handler = fn;
	handler_arg = arg;
}

void
mls_log(int level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (handler == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	handler(level, msg, handler_arg);
}
