/*
 * mls_jobwrap.h - the worker-side job wrapper (lib/jobwrap.sh, embedded)
 * and the spec.sh it sources.
 *
 * The wrapper is run as "sh jobwrap.sh STORE_URL JOB_ID" on any site.  It
 * fetches jobs/ID/spec.sh from the store: POSIX sh assignments (every value
 * single-quoted) of MLS_JOB_ID, MLS_SANDBOX, MLS_SANDBOX_KEY, MLS_IMAGE,
 * MLS_GRACE_S, MLS_TIME_S, the user's exported variables (their names in
 * MLS_ENV_NAMES), and "set -- ARGV..." for the command.
 */
#ifndef MLS_JOBWRAP_H
#define MLS_JOBWRAP_H

#include <jansson.h>

#include "mls_buf.h"
#include "mls_pack.h"

/* The wrapper script's text (generated from lib/jobwrap.sh). */
extern const char mls_jobwrap_sh[];

/*
 * Append the spec.sh of job (a "job" record: id, sandbox, image, command,
 * env, resources.time_s) to out.  grace_s is the stop grace period; lim
 * (NULL: the defaults) what unpacking the sandbox may write.
 * MLS_EINPUT names a bad field: an empty command, a non-string argument,
 * an environment name that is not [A-Za-z_][A-Za-z0-9_]*.
 */
int	 mls_jobwrap_spec(const json_t *job, int grace_s,
	    const struct mls_pack_limits *lim, struct mls_buf *out);

/* 1 if name is a valid environment variable name, else 0. */
int	 mls_jobwrap_env_name_ok(const char *name);

/*
 * Write the wrapper into dir as jobwrap-<hash of its text>.sh unless it
 * is there already; its path in *out (new string).
 */
int	 mls_jobwrap_install(const char *dir, char **out);

#endif
