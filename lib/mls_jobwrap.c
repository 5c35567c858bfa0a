/*
 * mls_jobwrap.c - the spec.sh of a job and the embedded wrapper script.
 *
 * The user's environment variables go into a function, mls_user_env, that
 * the wrapper calls in the command's subshell only, so that a variable
 * named like one of the wrapper's own (PATH, work, ...) changes the
 * command's environment and nothing else.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_config.h"
#include "mls_error.h"
#include "mls_jobwrap.h"
#include "mls_record.h"
#include "mls_store.h"
#include "mls_tempfile.h"

int
mls_jobwrap_env_name_ok(const char *name)
{
	const char *p;

	if (name == NULL || !((*name >= 'A' && *name <= 'Z') ||
	    (*name >= 'a' && *name <= 'z') || *name == '_'))
		return 0;
	for (p = name + 1; *p != '\0'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return 1;
}

static void
assign(struct mls_buf *out, const char *name, const char *value)
{
	mls_buf_adds(out, name);
	mls_buf_addc(out, '=');
	mls_buf_add_shquoted(out, value != NULL ? value : "");
	mls_buf_addc(out, '\n');
}

int
mls_jobwrap_spec(const json_t *job, int grace_s,
    const struct mls_pack_limits *lim, struct mls_buf *out)
{
	struct mls_buf key = MLS_BUF_INIT, names = MLS_BUF_INIT;
	const char *id = mls_record_id(job), *sandbox, *k;
	const json_t *argv, *env, *res, *v;
	char num[32];
	size_t i;
	int rc;

	if (id == NULL || *id == '\0')
		return mls_error_set(MLS_EINPUT, "job record: field 'id': missing");
	argv = json_object_get(job, "command");
	if (!json_is_array(argv) || json_array_size(argv) == 0)
		return mls_error_set(MLS_EINPUT, "job '%s': field 'command': "
		    "expected a non-empty array of strings", id);
	json_array_foreach(argv, i, v) {
		if (!json_is_string(v))
			return mls_error_set(MLS_EINPUT, "job '%s': field "
			    "'command': argument %zu is not a string", id, i);
	}
	env = json_object_get(job, "env");
	if (env != NULL && !json_is_null(env) && !json_is_object(env))
		return mls_error_set(MLS_EINPUT, "job '%s': field 'env': "
		    "expected an object", id);
	json_object_foreach((json_t *)env, k, v) {
		if (!mls_jobwrap_env_name_ok(k))
			return mls_error_set(MLS_EINPUT, "job '%s': env '%s': "
			    "not a valid variable name", id, k);
		if (!json_is_string(v))
			return mls_error_set(MLS_EINPUT, "job '%s': env '%s': "
			    "expected a string", id, k);
	}
	sandbox = mls_record_str(job, "sandbox");
	if (sandbox != NULL && *sandbox != '\0' &&
	    (rc = mls_store_sandbox_key(sandbox, &key)) < 0)
		goto out;

	mls_buf_adds(out, "# mls job spec: sourced by the job wrapper\n");
	assign(out, "MLS_JOB_ID", id);
	assign(out, "MLS_SANDBOX", sandbox);
	assign(out, "MLS_SANDBOX_KEY", key.buf);
	assign(out, "MLS_IMAGE", mls_record_str(job, "image"));
	snprintf(num, sizeof(num), "%d", grace_s >= 0 ? grace_s : 10);
	assign(out, "MLS_GRACE_S", num);
	res = json_object_get(job, "resources");
	v = json_object_get(res, "time_s");
	num[0] = '\0';
	if (json_is_number(v) && json_number_value(v) > 0)
		snprintf(num, sizeof(num), "%lld",
		    (long long)(json_number_value(v) + 0.999));
	assign(out, "MLS_TIME_S", num);
	/* the executor's extraction limits (mls_pack_extract), for tar */
	snprintf(num, sizeof(num), "%lld", lim != NULL && lim->max_bytes > 0 ?
	    lim->max_bytes : MLS_PACK_DEFAULT_MAX_BYTES);
	assign(out, "MLS_EXTRACT_MAX_SIZE", num);
	snprintf(num, sizeof(num), "%lld", lim != NULL && lim->max_entries > 0 ?
	    lim->max_entries : MLS_PACK_DEFAULT_MAX_ENTRIES);
	assign(out, "MLS_EXTRACT_MAX_FILES", num);
	snprintf(num, sizeof(num), "%lld", lim != NULL && lim->max_ratio > 0 ?
	    lim->max_ratio : MLS_PACK_DEFAULT_MAX_RATIO);
	assign(out, "MLS_EXTRACT_MAX_RATIO", num);
	mls_buf_adds(out, "mls_user_env() {\n\t:\n");
	json_object_foreach((json_t *)env, k, v) {
		mls_buf_adds(out, "\texport ");
		assign(out, k, json_string_value(v));
		mls_buf_addf(&names, "%s%s", names.len ? " " : "", k);
	}
	mls_buf_adds(out, "}\n");
	assign(out, "MLS_ENV_NAMES", names.buf);
	mls_buf_adds(out, "set --");
	json_array_foreach(argv, i, v) {
		mls_buf_addc(out, ' ');
		mls_buf_add_shquoted(out, json_string_value(v));
	}
	mls_buf_addc(out, '\n');
	rc = mls_buf_error(out);
	if (rc == 0)
		rc = mls_buf_error(&names);
out:
	mls_buf_release(&key);
	mls_buf_release(&names);
	return rc;
}

/* FNV-1a, 64 bits: names the installed copy after its content. */
static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

int
mls_jobwrap_install(const char *dir, char **out)
{
	struct mls_buf path = MLS_BUF_INIT;
	size_t len = strlen(mls_jobwrap_sh);
	struct stat sb;
	int rc;

	*out = NULL;
	mls_buf_addf(&path, "%s/jobwrap-%016llx.sh", dir,
	    (unsigned long long)fnv1a(mls_jobwrap_sh));
	if ((rc = mls_buf_error(&path)) < 0)
		goto out;
	if (stat(path.buf, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (size_t)sb.st_size == len)
		goto done;
	if ((rc = mls_mkdirs(dir, 0700)) < 0 ||
	    (rc = mls_write_file_atomic(path.buf, mls_jobwrap_sh, len, 0755,
	    0)) < 0)
		goto out;
done:
	*out = mls_buf_detach(&path);
	rc = *out != NULL ? 0 : mls_error_set(MLS_ENOMEM, "out of memory");
out:
	mls_buf_release(&path);
	return rc;
}
