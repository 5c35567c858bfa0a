/*
 * mls_log.h - debug messages from lib/, delivered through a hook.
 *
 * lib/ never prints: mls_debug() does nothing until cmd/ installs a handler
 * (for -v or MLS_DEBUG=1), as util-linux does with LIBMOUNT_DEBUG.
 */
#ifndef MLS_LOG_H
#define MLS_LOG_H

enum mls_log_level { MLS_LOG_DEBUG = 0, MLS_LOG_INFO = 1, MLS_LOG_WARN = 2 };

typedef void (*mls_log_fn)(int level, const char *msg, void *arg);

void	 mls_log_set_handler(mls_log_fn fn, void *arg);
void	 mls_log(int level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
#define mls_debug(...)	mls_log(MLS_LOG_DEBUG, __VA_ARGS__)
#define mls_info(...)	mls_log(MLS_LOG_INFO, __VA_ARGS__)
#define mls_warn(...)	mls_log(MLS_LOG_WARN, __VA_ARGS__)

#endif
