/*
 * The local site's executor on its own: set-up, start, end, the pool of
 * scratch dirs; and the small library pieces it came with (the journal's
 * flush, mls_job_new_id, mls_store_batch_drop, mls_tracker_wait).
 */
#include "config.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_error.h"
#include "mls_journal.h"
#include "mls_local_exec.h"
#include "mls_record.h"
#include "mls_site.h"
#include "mls_store.h"
#include "mls_track.h"
#include "tap.h"

extern char **environ;

static char *
slurp(const char *dir, const char *name)
{
	struct mls_buf b = MLS_BUF_INIT;
	char buf[4096];
	size_t n;
	FILE *fp;

	mls_buf_addf(&b, "%s/%s", dir, name);
	fp = fopen(b.buf, "r");
	mls_buf_reset(&b);
	if (fp == NULL) {
		mls_buf_release(&b);
		return NULL;
	}
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		mls_buf_add(&b, buf, n);
	fclose(fp);
	mls_buf_addc(&b, '\0');
	return mls_buf_detach(&b);
}

static void
put(const char *dir, const char *name, const char *text)
{
	char path[1024];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) != NULL) {
		fputs(text, fp);
		fclose(fp);
	}
}

/* Entries of dir whose name starts with prefix. */
static int
count_prefix(const char *dir, const char *prefix)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

/* A queue entry for job id in store running argv (a JSON array). */
static json_t *
entry(const char *id, const char *store, json_t *argv)
{
	return json_pack("{s:s,s:s,s:{s:o,s:{s:s},s:n,s:n,s:i,s:i}}", "id", id,
	    "store", store, "job", "command", argv, "env", "FOO", "bar",
	    "sandbox", "image", "time_s", 0, "grace_s", 1);
}

/* Start the job of q with env, wait for it, end it: the result, or NULL. */
static json_t *
run_job_env(const char *data, const char *jobdir, json_t *q, int later,
    char *const env[], json_t **runp)
{
	json_t *run = NULL, *res;
	char *text;
	pid_t pid;
	int status = 0;

	if (mls_local_exec_start(data, q, env, &pid, &run) < 0)
		return NULL;
	if (pid > 0) {
		(void)waitpid(pid, &status, 0);
		json_object_set(run, "id", json_object_get(q, "id"));
		json_object_set(run, "store", json_object_get(q, "store"));
		json_object_set_new(run, "pid", json_integer(pid));
		if (mls_local_exec_end(run, status, NULL, NULL, later ?
		    MLS_LOCAL_EXEC_LATER : 0) < 0) {
			json_decref(run);
			return NULL;
		}
	}
	text = slurp(jobdir, "result.json");
	res = text != NULL ? json_loads(text, 0, NULL) : NULL;
	free(text);
	if (runp != NULL)
		*runp = run;
	else
		json_decref(run);
	return res;
}

/* The same with our environment. */
static json_t *
run_job(const char *data, const char *jobdir, json_t *q, int later,
    json_t **runp)
{
	return run_job_env(data, jobdir, q, later, environ, runp);
}

/*
 * The environment given (the submitter's) is the command's: its PATH is
 * the one a command is looked up on, never ours; -e variables replace
 * its own, and MLS_* replace both.
 */
static void
submitter_env(const char *tmp, const char *data, const char *url,
    const char *store)
{
	char bin[600], ours[600], jobdir[1024], path[700], *text, *old;
	char *env[] = { path, "FOO=sub", "BAR=sub", "MLS_JOB_ID=fake", NULL };
	json_t *q, *res;

	snprintf(bin, sizeof(bin), "%s/bin", tmp);
	snprintf(ours, sizeof(ours), "%s/ours", tmp);
	mkdir(bin, 0700);
	mkdir(ours, 0700);
	put(bin, "mls-unit-tool", "#!/bin/sh\necho tool\n");
	put(ours, "mls-unit-ours", "#!/bin/sh\necho ours\n");
	snprintf(jobdir, sizeof(jobdir), "%s/mls-unit-tool", bin);
	chmod(jobdir, 0755);
	snprintf(jobdir, sizeof(jobdir), "%s/mls-unit-ours", ours);
	chmod(jobdir, 0755);
	snprintf(path, sizeof(path), "PATH=%s:/usr/bin:/bin", bin);
	old = getenv("PATH") != NULL ? strdup(getenv("PATH")) : NULL;
	snprintf(jobdir, sizeof(jobdir), "%s:%s", ours, old ? old : "/bin");
	setenv("PATH", jobdir, 1);

	q = entry("j-env", url, json_pack("[s,s,s]", "sh", "-c",
	    "mls-unit-tool; echo \"$FOO $BAR $MLS_JOB_ID\""));
	snprintf(jobdir, sizeof(jobdir), "%s/jobs/j-env", store);
	mkdir(jobdir, 0700);
	res = run_job_env(data, jobdir, q, 0, env, NULL);
	text = slurp(jobdir, "stdout");
	ok(res != NULL && text != NULL &&
	    strcmp(text, "tool\nbar sub j-env\n") == 0,
	    "the given environment, its PATH, -e over it, MLS_* over both");
	free(text);
	json_decref(res);
	json_decref(q);

	q = entry("j-ours", url, json_pack("[s]", "mls-unit-ours"));
	snprintf(jobdir, sizeof(jobdir), "%s/jobs/j-ours", store);
	mkdir(jobdir, 0700);
	res = run_job_env(data, jobdir, q, 0, env, NULL);
	ok(res != NULL && mls_record_int(res, "exit_code", -1) == 127,
	    "a command on our PATH only is not found");
	json_decref(res);
	json_decref(q);
	if (old != NULL)
		setenv("PATH", old, 1);
	free(old);
}

static void
executor(const char *tmp)
{
	char store[512], url[600], data[1024], scratch[600], jobdir[1024];
	char *text, *work;
	json_t *q, *res, *run = NULL;
	struct stat sb;

	snprintf(store, sizeof(store), "%s/store", tmp);
	snprintf(url, sizeof(url), "file://%s", store);
	snprintf(data, sizeof(data), "%s/data", tmp);
	snprintf(scratch, sizeof(scratch), "%s/scratch", tmp);
	setenv("MLS_SCRATCH", scratch, 1);
	unsetenv("MLS_KEEP_WORK");
	mkdir(data, 0700);

	q = entry("j-a", url, json_pack("[s,s,s]", "sh", "-c",
	    "echo \"out $FOO $MLS_JOB_ID\"; echo err >&2; cat input.json; "
	    "echo kept > \"$MLS_OUTPUT_DIR/o\"; exit 3"));
	ok(mls_local_exec_eligible(q) && mls_local_exec_light(q),
	    "a job with no image on a file store: the executor's, light");
	snprintf(jobdir, sizeof(jobdir), "%s/jobs/j-a", store);
	mkdir(store, 0700);
	snprintf(data, sizeof(data), "%s/jobs", store);
	mkdir(data, 0700);
	mkdir(jobdir, 0700);
	snprintf(data, sizeof(data), "%s/data", tmp);
	put(jobdir, "params.json", "{\"lr\":0.5}\n");
	res = run_job(data, jobdir, q, 1, &run);
	ok(res != NULL && strcmp(mls_record_str(res, "state"), "failed") == 0 &&
	    mls_record_int(res, "exit_code", -1) == 3 &&
	    strcmp(mls_record_str(res, "reason"), "exit status 3") == 0,
	    "exit status 3: failed, with the reason");
	ok(json_is_object(json_object_get(res, "outputs")) &&
	    strncmp(mls_record_str(json_object_get(res, "outputs"), "digest"),
	    "sha256:", 7) == 0, "outputs/ packed and described");
	text = slurp(jobdir, "stdout");
	ok(text != NULL && strcmp(text, "out bar j-a\n{\"lr\":0.5}\n") == 0,
	    "stdout in the store, env and input.json seen");
	free(text);
	text = slurp(jobdir, "stderr");
	ok(text != NULL && strcmp(text, "err\n") == 0, "stderr in the store");
	free(text);
	work = run != NULL ? strdup(mls_record_str(run, "work")) : NULL;
	ok(work != NULL && stat(work, &sb) == 0,
	    "with later set the scratch dir stays for the caller");
	mls_local_exec_cleanup(run);
	ok(work != NULL && stat(work, &sb) == -1 &&
	    count_prefix(scratch, "mls-pool-") == 1,
	    "cleanup empties it into the pool");
	free(work);
	json_decref(run);
	json_decref(res);
	json_decref(q);

	/* the next job takes the pooled dir, clean */
	q = entry("j-b", url, json_pack("[s,s,s]", "sh", "-c",
	    "ls -A; test ! -e outputs/o"));
	snprintf(jobdir, sizeof(jobdir), "%s/jobs/j-b", store);
	mkdir(jobdir, 0700);
	res = run_job(data, jobdir, q, 0, NULL);
	ok(res != NULL && strcmp(mls_record_str(res, "state"), "succeeded") == 0 &&
	    json_is_null(json_object_get(res, "outputs")),
	    "a pooled dir is handed over empty; no outputs: null");
	ok(count_prefix(scratch, "mls-pool-") == 0, "the pool gave it away");
	text = slurp(jobdir, "stdout");
	ok(text != NULL && strcmp(text, "input.json\noutputs\nparams.json\n") == 0,
	    "only outputs/, params.json, input.json");
	free(text);
	json_decref(res);
	json_decref(q);

	q = entry("j-c", url, json_pack("[s]", "no-such-command-xyz"));
	snprintf(jobdir, sizeof(jobdir), "%s/jobs/j-c", store);
	mkdir(jobdir, 0700);
	res = run_job(data, jobdir, q, 0, NULL);
	ok(res != NULL && mls_record_int(res, "exit_code", -1) == 127 &&
	    strcmp(mls_record_str(res, "reason"),
	    "command not found: no-such-command-xyz") == 0,
	    "a command not found: 127, said so (%s)", res ? mls_record_str(res, "reason") : "none");
	json_decref(res);
	json_decref(q);

	submitter_env(tmp, data, url, store);

	q = entry("j-d", url, json_pack("[s]", "true"));
	snprintf(jobdir, sizeof(jobdir), "%s/jobs/j-d", store);
	mkdir(jobdir, 0700);
	put(jobdir, "stop", "now\n");
	ok(mls_local_exec_stopped(q), "the stop marker is seen");
	res = run_job(data, jobdir, q, 0, NULL);
	ok(res != NULL && strcmp(mls_record_str(res, "state"), "cancelled") == 0 &&
	    json_is_null(json_object_get(res, "exit_code")),
	    "a job stopped before it started never runs");
	json_decref(res);
	json_decref(q);

	q = json_pack("{s:s,s:s,s:{s:[s],s:s}}", "id", "j-e", "store",
	    "https://example.org/store/", "job", "command", "true", "image",
	    "none");
	ok(!mls_local_exec_eligible(q), "an http store is the wrapper's");
	json_decref(q);
	q = json_pack("{s:s,s:s,s:{s:[s],s:s}}", "id", "j-e", "store", url,
	    "job", "command", "true", "image", "python:3");
	ok(!mls_local_exec_eligible(q), "so is a job with an image");
	json_decref(q);
	mls_local_exec_pool_drain();
}

static void
pieces(const char *tmp)
{
	struct mls_journal *j = NULL;
	struct mls_tracker *tr = NULL;
	struct mls_config cfg;
	struct mls_store *st = NULL;
	char path[512], url[600], *text;
	json_t *job = NULL, *ev, *argv;
	double t0;

	snprintf(path, sizeof(path), "%s/journal.jsonl", tmp);
	ok(mls_journal_open(&j, path) == 0, "journal opened");
	ev = json_pack("{s:s}", "ev", "x");
	mls_journal_append(j, ev);
	json_decref(ev);
	text = slurp(tmp, "journal.jsonl");
	ok(text != NULL && *text == '\0', "appended events are buffered");
	free(text);
	ok(mls_journal_flush(j) == 0, "flush");
	text = slurp(tmp, "journal.jsonl");
	ok(text != NULL && strstr(text, "\"ev\":\"x\"") != NULL,
	    "a flush writes them (no fsync needed to read them)");
	free(text);
	ok(mls_journal_sync(j) == 0 && mls_journal_close(j) == 0,
	    "a sync after a flush, and close");

	argv = json_pack("[s,s]", "echo", "{id}");
	ok(mls_job_new_id(&job, "j-given", "local", NULL, NULL, argv, NULL,
	    NULL, NULL, NULL) == 0 &&
	    strcmp(mls_record_id(job), "j-given") == 0 &&
	    strcmp(json_string_value(json_array_get(json_object_get(job,
	    "command"), 1)), "j-given") == 0,
	    "mls_job_new_id: the given id, also in {id}");
	json_decref(job);
	json_decref(argv);

	snprintf(url, sizeof(url), "file://%s/st2", tmp);
	ok(mls_store_open(&st, NULL, url) == 0, "store opened");
	mls_store_batch_begin(st);
	ok(mls_store_put_buf(st, "a/b", "x", 1) == 0, "a put in a batch");
	mls_store_batch_drop(st);
	ok(mls_store_stat(st, "a/b", NULL) == 1,
	    "a dropped batch keeps what it wrote");
	mls_store_free(st);

	memset(&cfg, 0, sizeof(cfg));
	ok(mls_tracker_new(&tr, &cfg, NULL) == 0, "tracker");
	t0 = mls_time_now();
	ok(mls_tracker_wait(tr, 0.05, NULL) == 0 && mls_time_now() - t0 >= 0.04,
	    "with no site to wake it, a wait sleeps its time");
	mls_tracker_free(tr);
}

int
main(void)
{
	char tmpl[] = "/tmp/test_local_exec.XXXXXX", *tmp;
	char cmd[512];

	tmp = mkdtemp(tmpl);
	ok(tmp != NULL, "temp dir");
	if (tmp == NULL)
		return done_testing();
	executor(tmp);
	pieces(tmp);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	ok(system(cmd) == 0, "cleaned up");
	return done_testing();
}
