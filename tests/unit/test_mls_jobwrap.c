/*
 * test_mls_jobwrap.c - spec.sh quoting survives a real /bin/sh, the
 * embedded wrapper installs once, bad fields are refused.
 */
#include "mls_jobwrap.h"

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_error.h"
#include "tap.h"

/* Run sh on script (a file) and capture stdout into out. */
static int
run_sh(const char *sh, const char *script, struct mls_buf *out)
{
	char cmd[512], buf[4096];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "%s %s", sh, script);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		mls_buf_add(out, buf, n);
	return pclose(p);
}

static void
roundtrip(const char *sh, const char *dir)
{
	static const char *const args[] = {
		"python3", "train.py", "--name=it's a \"test\"", "$HOME",
		"`id`", "a\\b", "two  spaces", "", "new\nline", "{x}", "*",
	};
	struct mls_buf spec = MLS_BUF_INIT, want = MLS_BUF_INIT,
	    got = MLS_BUF_INIT, path = MLS_BUF_INIT;
	json_t *job, *argv;
	size_t i;
	FILE *fp;
	int rc;

	if (access(sh, X_OK) != 0) {
		ok(1, "# SKIP %s not installed", sh);
		return;
	}
	argv = json_array();
	for (i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		json_array_append_new(argv, json_string(args[i]));
		mls_buf_addf(&want, "[%s]", args[i]);
	}
	job = json_pack("{s:s,s:s,s:o,s:s,s:{s:s,s:s},s:{s:i}}", "kind", "job",
	    "id", "j-1", "command", argv, "image", "img 'x'", "env",
	    "FOO", "a'b $c", "BAR_2", "", "resources", "time_s", 90);
	rc = mls_jobwrap_spec(job, 7, NULL, &spec);
	ok(rc == 0, "%s: spec built", sh);
	mls_buf_addf(&path, "%s/spec.sh", dir);
	fp = fopen(path.buf, "w");
	fputs(spec.buf, fp);
	fputs("mls_user_env\n"
	    "printf '%s|%s|%s|%s|%s|%s\\n' \"$MLS_JOB_ID\" \"$MLS_IMAGE\" "
	    "\"$MLS_GRACE_S\" \"$MLS_TIME_S\" \"$FOO\" \"$MLS_ENV_NAMES\"\n"
	    "for a in \"$@\"; do printf '[%s]' \"$a\"; done\n", fp);
	fclose(fp);
	rc = run_sh(sh, path.buf, &got);
	ok(rc == 0, "%s: spec.sh sources cleanly", sh);
	ok(strncmp(got.buf, "j-1|img 'x'|7|90|a'b $c|FOO BAR_2\n", 33) == 0 ||
	    strncmp(got.buf, "j-1|img 'x'|7|90|a'b $c|BAR_2 FOO\n", 33) == 0,
	    "%s: variables round-trip: %.33s", sh, got.buf);
	{
		const char *nl = strchr(got.buf, '\n');
		ok(nl != NULL && strcmp(nl + 1, want.buf) == 0,
		    "%s: argv round-trips exactly", sh);
	}
	json_decref(job);
	mls_buf_release(&spec);
	mls_buf_release(&want);
	mls_buf_release(&got);
	mls_buf_release(&path);
}

int
main(void)
{
	struct mls_buf spec = MLS_BUF_INIT;
	char tmpl[] = "/tmp/test_jobwrap.XXXXXX", *dir, *p1 = NULL, *p2 = NULL;
	struct stat sb;
	json_t *job;
	int rc;

	dir = mkdtemp(tmpl);
	ok(dir != NULL, "temp dir");
	roundtrip("/bin/sh", dir);
	roundtrip("/bin/dash", dir);
	roundtrip("/bin/bash", dir);

	ok(mls_jobwrap_env_name_ok("_A1") && !mls_jobwrap_env_name_ok("1A") &&
	    !mls_jobwrap_env_name_ok("A-B") && !mls_jobwrap_env_name_ok(""),
	    "env names are checked");

	job = json_pack("{s:s,s:[]}", "id", "j-2", "command");
	rc = mls_jobwrap_spec(job, 10, NULL, &spec);
	ok(rc == MLS_EINPUT && strstr(mls_error_last(), "'command'") != NULL,
	    "empty command refused: %s", mls_error_last());
	json_decref(job);
	job = json_pack("{s:s,s:[s],s:{s:s}}", "id", "j-3", "command", "x",
	    "env", "BAD NAME", "v");
	rc = mls_jobwrap_spec(job, 10, NULL, &spec);
	ok(rc == MLS_EINPUT && strcmp(mls_error_last(),
	    "job 'j-3': env 'BAD NAME': not a valid variable name") == 0,
	    "bad env name refused: %s", mls_error_last());
	json_decref(job);
	job = json_pack("{s:s,s:[s],s:s}", "id", "j-4", "command", "x",
	    "sandbox", "sha256:nothex");
	rc = mls_jobwrap_spec(job, 10, NULL, &spec);
	ok(rc == MLS_EINPUT && strstr(mls_error_last(), "sandbox") != NULL,
	    "bad sandbox id refused: %s", mls_error_last());
	json_decref(job);

	rc = mls_jobwrap_install(dir, &p1);
	ok(rc == 0 && p1 != NULL && stat(p1, &sb) == 0 &&
	    (size_t)sb.st_size == strlen(mls_jobwrap_sh) &&
	    (sb.st_mode & 0777) == 0755, "wrapper installed: %s",
	    p1 ? p1 : "(null)");
	rc = mls_jobwrap_install(dir, &p2);
	ok(rc == 0 && p2 != NULL && strcmp(p1, p2) == 0,
	    "second install finds the same file");
	ok(strncmp(mls_jobwrap_sh, "#!/bin/sh\n", 10) == 0,
	    "embedded wrapper is the sh script");
	free(p2);
	rc = mls_jobwrap_install("/proc/nonexistent/dir", &p2);
	ok(rc < 0 && p2 == NULL, "install into a bad dir fails, out NULL");
	if (p1 != NULL)
		unlink(p1);
	free(p1);
	{
		char spec_path[64];
		snprintf(spec_path, sizeof(spec_path), "%s/spec.sh", dir);
		unlink(spec_path);
	}
	ok(rmdir(dir) == 0, "nothing left in the temp dir");
	mls_buf_release(&spec);
	return done_testing();
}
