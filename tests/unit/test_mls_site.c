/*
 * test_mls_site.c - the generic site layer and the local site, end to end:
 * real jobs (sh -c ...) through the real scheduler (mls-runner from the
 * build tree) and the embedded wrapper, on a temporary data dir.
 */
#include "mls_site.h"

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_config.h"
#include "mls_error.h"
#include "mls_job.h"
#include "mls_record.h"
#include "mls_store.h"
#include "tap.h"

static struct mls_config cfg;
static struct mls_store *st;
static char tmpdir[] = "/tmp/test_mls_site.XXXXXX";

static void
nap(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

static json_t *
job(const char *site_name, const char *cmd, json_t *params, json_t *res,
    json_t *env)
{
	json_t *j = NULL, *argv = json_pack("[s,s,s]", "sh", "-c", cmd);

	if (mls_job_new(&j, site_name, NULL, NULL, argv, params, res, env,
	    NULL) < 0)
		printf("# mls_job_new: %s\n", mls_error_last());
	json_decref(argv);
	json_decref(params);
	json_decref(res);
	json_decref(env);
	return j;
}

static int
all_final(json_t **jobs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!mls_state_final(mls_state_parse(mls_record_str(jobs[i],
		    "state"))))
			return 0;
	return 1;
}

/* Poll until every job is final or timeout seconds pass; 1 if final. */
static int
wait_final(struct mls_site *s, json_t **jobs, size_t n, double timeout)
{
	double t0 = mls_time_now();

	while (mls_time_now() - t0 < timeout) {
		if (mls_site_poll(s, jobs, n) < 0) {
			printf("# poll: %s\n", mls_error_last());
			return 0;
		}
		if (all_final(jobs, n))
			return 1;
		nap(0.1);
	}
	return 0;
}

static int
wait_state(struct mls_site *s, json_t *j, const char *state, double timeout)
{
	double t0 = mls_time_now();

	while (mls_time_now() - t0 < timeout) {
		if (mls_site_poll(s, &j, 1) < 0)
			return 0;
		if (strcmp(mls_record_str(j, "state"), state) == 0)
			return 1;
		nap(0.05);
	}
	return 0;
}

/* A job's store object as a string (new), or NULL. */
static char *
get(const json_t *j, const char *file)
{
	struct mls_buf key = MLS_BUF_INIT, b = MLS_BUF_INIT;
	char *s = NULL;

	mls_buf_addf(&key, "jobs/%s/%s", mls_record_id(j), file);
	if (mls_store_get_buf(st, key.buf, &b, 1 << 20) == 0)
		s = mls_buf_detach(&b);
	mls_buf_release(&key);
	mls_buf_release(&b);
	return s;
}

static int
str_is(const json_t *j, const char *key, const char *want)
{
	const char *v = mls_record_str(j, key);

	if (v == NULL || strcmp(v, want) != 0) {
		printf("# %s: got '%s', want '%s'\n", key, v ? v : "(null)",
		    want);
		return 0;
	}
	return 1;
}

static int
file_is(const json_t *j, const char *file, const char *want)
{
	char *s = get(j, file);
	int r = s != NULL && strcmp(s, want) == 0;

	if (!r)
		printf("# %s: got '%s', want '%s'\n", file, s ? s : "(null)",
		    want);
	free(s);
	return r;
}

/* ---- pure functions -------------------------------------------------------- */

static void
test_expand(void)
{
	json_t *p = json_pack("{s:f,s:i,s:s,s:b,s:f,s:n}", "lr", 0.001,
	    "layers", 3, "act", "relu", "bn", 1, "third", 1.0 / 3, "none");
	char *s = NULL;
	int rc;

	rc = mls_job_expand("--lr={lr} --layers={layers} {act}/{bn}", p, &s);
	ok(rc == 0 && strcmp(s, "--lr=0.001 --layers=3 relu/true") == 0,
	    "expand: %s", s ? s : mls_error_last());
	free(s);
	rc = mls_job_expand("{third}|{none}", p, &s);
	ok(rc == 0 && strcmp(s, "0.3333333333333333|null") == 0,
	    "expand: doubles round-trip: %s", s);
	free(s);
	rc = mls_job_expand("{{lr} {{{lr}} a}b {", p, &s);
	ok(rc == 0 && strcmp(s, "{lr} {0.001} a}b {") == 0,
	    "expand: '{{' is a literal brace: %s", s ? s : mls_error_last());
	free(s);
	s = (char *)"unchanged";
	rc = mls_job_expand("x{foo}y", p, &s);
	ok(rc == MLS_EINPUT && s == NULL && strncmp(mls_error_last(),
	    "command: placeholder '{foo}' names no parameter", 46) == 0,
	    "expand: unknown name: %s", mls_error_last());
	json_decref(p);
}

static void
test_job_new(void)
{
	json_t *argv = json_pack("[s,s,s]", "train", "--seed={index}",
	    "--out={id}");
	json_t *params = json_pack("{s:i}", "index", 7), *j = NULL, *res;
	const char *id;
	char want[128];
	int rc;

	rc = mls_job_new(&j, "local", NULL, "img:1", argv, params, NULL, NULL,
	    "n1");
	ok(rc == 0 && j != NULL, "job_new");
	id = mls_record_id(j);
	ok(id != NULL && strncmp(id, "j-", 2) == 0 && strlen(id) == 28,
	    "job id is j-<ulid>: %s", id);
	snprintf(want, sizeof(want), "--out=%s", id);
	ok(strcmp(json_string_value(json_array_get(json_object_get(j,
	    "command"), 1)), "--seed=7") == 0 && strcmp(json_string_value(
	    json_array_get(json_object_get(j, "command"), 2)), want) == 0,
	    "{index} and {id} expanded");
	res = json_object_get(j, "resources");
	ok(mls_record_int(res, "cpus", -1) == 1 && mls_record_int(res, "gpus",
	    -1) == 0 && json_is_null(json_object_get(res, "mem_mb")) &&
	    json_is_null(json_object_get(res, "time_s")), "default resources");
	ok(str_is(j, "kind", "job") && str_is(j, "image", "img:1") &&
	    str_is(j, "name", "n1") && json_is_null(json_object_get(j,
	    "state")) && json_is_null(json_object_get(j, "sandbox")) &&
	    json_is_null(json_object_get(j, "submitted")),
	    "record fields");
	ok(mls_record_check(j, "job") == 0, "a valid job record: %s",
	    mls_error_last());
	json_decref(j);
	j = (json_t *)1;
	json_array_append_new(argv, json_string("{nope}"));
	rc = mls_job_new(&j, "local", NULL, NULL, argv, params, NULL, NULL,
	    NULL);
	ok(rc == MLS_EINPUT && j == NULL, "unknown placeholder: %s",
	    mls_error_last());
	j = (json_t *)1;
	res = json_pack("{s:i}", "gpus", -1);
	rc = mls_job_new(&j, "local", NULL, NULL, argv, params, res, NULL,
	    NULL);
	ok(rc == MLS_EINPUT && j == NULL && strstr(mls_error_last(), "gpus"),
	    "negative gpus: %s", mls_error_last());
	json_decref(res);
	json_decref(argv);
	json_decref(params);
}

static void
test_open_errors(void)
{
	struct mls_site *s = (struct mls_site *)1;
	int rc;

	rc = mls_site_open(&s, &cfg, st, "nowhere");
	ok(rc == MLS_ECONFIG && s == NULL && strncmp(mls_error_last(),
	    "site 'nowhere': not configured", 30) == 0, "unknown site: %s",
	    mls_error_last());
	s = (struct mls_site *)1;
	rc = mls_site_open(&s, &cfg, st, "hpc");
	ok(rc == MLS_ECONFIG && s == NULL && strcmp(mls_error_last(),
	    "site 'hpc': type 'htcondor' is not supported yet") == 0,
	    "unsupported type: %s", mls_error_last());
}

/* poll takes result.json and metrics.jsonl from the store */
static void
test_poll_store(struct mls_site *s)
{
	json_t *j = job("local", "true", NULL, NULL, NULL), *m;
	struct mls_buf key = MLS_BUF_INIT;
	static const char metrics[] = "{\"step\":1,\"loss\":0.9}\n"
	    "garbage\n[1,2]\n{\"step\":2,\"loss\":0.5,\"acc\":0.7}\n"
	    "{\"step\":3,\"acc\":0.8}\n{\"torn\":";
	static const char result[] = "{\"kind\":\"result\",\"id\":\"%s\","
	    "\"state\":\"succeeded\",\"exit_code\":2,\"reason\":\"exit status 2\","
	    "\"started\":\"2026-01-01T00:00:00.000Z\",\"finished\":"
	    "\"2026-01-01T00:00:01.000Z\",\"host\":\"h\"}";
	struct mls_buf res = MLS_BUF_INIT;

	mls_buf_addf(&key, "jobs/%s/metrics.jsonl", mls_record_id(j));
	mls_store_put_buf(st, key.buf, metrics, strlen(metrics));
	mls_buf_reset(&key);
	mls_buf_addf(&key, "jobs/%s/result.json", mls_record_id(j));
	mls_buf_addf(&res, result, mls_record_id(j));
	mls_store_put_buf(st, key.buf, res.buf, res.len);
	mls_buf_release(&res);
	ok(mls_site_poll(s, &j, 1) == 0, "poll a job with a result");
	ok(str_is(j, "state", "failed") && mls_record_int(j, "exit_code",
	    -1) == 2 && str_is(j, "reason", "exit status 2") &&
	    str_is(j, "host", "h") && str_is(j, "finished",
	    "2026-01-01T00:00:01.000Z"), "result applied; failed as exit != 0");
	m = json_object_get(j, "metrics");
	ok(json_is_object(m) && mls_record_int(m, "step", 0) == 3 &&
	    mls_record_num(m, "loss", 0) == 0.5 && mls_record_num(m, "acc",
	    0) == 0.8 && json_object_size(m) == 3,
	    "metrics: last value per key, bad lines ignored");
	json_decref(j);
	mls_buf_release(&key);
}

/* put FILE of job j from data, or len bytes of metrics lines if data NULL */
static void
put_file(const json_t *j, const char *file, const char *data, size_t len)
{
	static const char line[] = "{\"step\":1,\"loss\":0.5}\n";
	struct mls_buf key = MLS_BUF_INIT;
	char *big = NULL;
	size_t i;

	if (data == NULL) {
		if ((big = malloc(len)) == NULL)
			return;
		for (i = 0; i < len; i++)
			big[i] = line[i % (sizeof(line) - 1)];
		data = big;
	}
	mls_buf_addf(&key, "jobs/%s/%s", mls_record_id(j), file);
	mls_store_put_buf(st, key.buf, data, len);
	mls_buf_release(&key);
	free(big);
}

/*
 * A job's own bad files fail that job with a reason naming the file and
 * the limit; the other jobs of the poll are read as usual.
 */
static void
test_poll_oversize(struct mls_site *s)
{
	json_t *j[4], *m;
	struct mls_buf res[4] = { MLS_BUF_INIT, MLS_BUF_INIT, MLS_BUF_INIT,
	    MLS_BUF_INIT };
	static const char result[] = "{\"kind\":\"result\",\"id\":\"%s\","
	    "\"state\":\"%s\",\"exit_code\":%d,\"reason\":\"%s\","
	    "\"started\":\"2026-01-01T00:00:00.000Z\",\"finished\":"
	    "\"2026-01-01T00:00:01.000Z\",\"host\":\"h\"}";
	static const char metrics[] = "{\"step\":1,\"loss\":0.5}\n";
	char want[200];
	size_t i;

	for (i = 0; i < 4; i++)
		j[i] = job("local", "true", NULL, NULL, NULL);
	/* 0: succeeded, metrics one byte over; 1: failed, metrics over */
	mls_buf_addf(&res[0], result, mls_record_id(j[0]), "succeeded", 0, "");
	mls_buf_addf(&res[1], result, mls_record_id(j[1]), "failed", 3,
	    "exit status 3");
	put_file(j[0], "metrics.jsonl", NULL, MLS_JOB_METRICS_MAX + 1);
	put_file(j[1], "metrics.jsonl", NULL, MLS_JOB_METRICS_MAX + 1);
	/* 2: a result.json that does not validate; 3: a good job */
	mls_buf_adds(&res[2], "{\"kind\":\"other\"}");
	mls_buf_addf(&res[3], result, mls_record_id(j[3]), "succeeded", 0, "");
	put_file(j[3], "metrics.jsonl", metrics, strlen(metrics));
	for (i = 0; i < 4; i++)
		put_file(j[i], "result.json", res[i].buf, res[i].len);
	ok(mls_site_poll(s, j, 4) == 0, "poll: bad files are no error of the "
	    "poll: %s", mls_error_last());
	snprintf(want, sizeof(want), "metrics.jsonl of job '%s': larger than "
	    "64 MiB", mls_record_id(j[0]));
	ok(str_is(j[0], "state", "failed") && str_is(j[0], "reason", want) &&
	    mls_record_int(j[0], "exit_code", -1) == 0 &&
	    json_is_object(json_object_get(j[0], "metrics")),
	    "succeeded with metrics over 64 MiB: failed, the reason says why");
	ok(str_is(j[1], "state", "failed") && str_is(j[1], "reason",
	    "exit status 3"), "failed with metrics over 64 MiB: its own reason "
	    "stays");
	ok(str_is(j[2], "state", "failed") && mls_record_str(j[2],
	    "reason") != NULL && strncmp(mls_record_str(j[2], "reason"),
	    "result.json of job '", 20) == 0 && json_is_null(json_object_get(
	    j[2], "exit_code")), "a result.json that does not validate: "
	    "failed, naming it: %s", mls_record_str(j[2], "reason"));
	m = json_object_get(j[3], "metrics");
	ok(str_is(j[3], "state", "succeeded") && mls_record_num(m, "loss",
	    0) == 0.5, "the good job of the same poll: succeeded, metrics read");
	/* a later poll leaves them as they are */
	ok(mls_site_poll(s, j, 4) == 0 && str_is(j[0], "state", "failed") &&
	    str_is(j[0], "reason", want), "a later poll: the same");
	/* over 1 MiB of result.json */
	mls_buf_reset(&res[3]);
	mls_buf_addf(&res[3], "{\"kind\":\"result\",\"id\":\"%s\",\"pad\":\"",
	    mls_record_id(j[3]));
	for (i = 0; i < MLS_JOB_RESULT_MAX; i++)
		mls_buf_addc(&res[3], 'x');
	mls_buf_adds(&res[3], "\"}");
	put_file(j[3], "result.json", res[3].buf, res[3].len);
	json_object_set_new(j[3], "state", json_string("running"));
	snprintf(want, sizeof(want), "result.json of job '%s': larger than "
	    "1 MiB", mls_record_id(j[3]));
	ok(mls_site_poll(s, &j[3], 1) == 0 && str_is(j[3], "state", "failed") &&
	    str_is(j[3], "reason", want), "result.json over 1 MiB: failed, "
	    "the reason says so");
	for (i = 0; i < 4; i++) {
		json_decref(j[i]);
		mls_buf_release(&res[i]);
	}
}

/* ---- real jobs ------------------------------------------------------------- */

static void
test_basic(struct mls_site *s)
{
	json_t *jobs[5], *m, *out;
	char *o, cmd[512];
	FILE *p;

	jobs[0] = job("local", "echo out; echo err >&2; "
	    "cp \"$MLS_PARAMS\" \"$MLS_OUTPUT_DIR/p.json\"; "
	    "cp input.json \"$MLS_OUTPUT_DIR/i.json\"; "
	    "printf '{{\"step\":1,\"loss\":0.5}\\n{{\"step\":2,\"acc\":0.9}\\n' "
	    ">>\"$MLS_METRICS\"; echo '{{\"status\":0,\"loss\":0.25}' >output.json",
	    json_pack("{s:f,s:s}", "lr", 0.5, "act", "it's"), NULL, NULL);
	jobs[1] = job("local", "exit 3", NULL, NULL, NULL);
	jobs[2] = NULL;
	{
		json_t *argv = json_pack("[s,s]", "nosuch-cmd-xyz", "a");
		mls_job_new(&jobs[2], "local", NULL, NULL, argv, NULL, NULL,
		    NULL, NULL);
		json_decref(argv);
	}
	jobs[3] = job("local", "printf '%s|%s' \"$FOO\" \"$CUDA_VISIBLE_DEVICES\"",
	    NULL, NULL, json_pack("{s:s}", "FOO", "a b'c"));
	jobs[4] = job("local", "kill -9 $$", NULL, NULL, NULL);
	ok(mls_site_submit(s, jobs, 5) == 0, "submit 5 jobs: %s",
	    mls_error_last());
	ok(str_is(jobs[0], "state", "queued") && str_is(jobs[0], "site",
	    "local") && mls_record_str(jobs[0], "site_id") != NULL &&
	    mls_record_str(jobs[0], "submitted") != NULL,
	    "submitted records are queued, with site_id and submitted");
	ok(wait_final(s, jobs, 5, 30), "all 5 finish");

	ok(str_is(jobs[0], "state", "succeeded") &&
	    mls_record_int(jobs[0], "exit_code", -1) == 0, "success");
	ok(file_is(jobs[0], "stdout", "out\n") &&
	    file_is(jobs[0], "stderr", "err\n"), "stdout and stderr stored");
	ok(file_is(jobs[0], "output.json", "{\"status\":0,\"loss\":0.25}\n"),
	    "phpo output.json stored");
	m = json_object_get(jobs[0], "metrics");
	ok(json_is_object(m) && mls_record_int(m, "step", 0) == 2 &&
	    mls_record_num(m, "loss", 0) == 0.5 && mls_record_num(m, "acc",
	    0) == 0.9, "metrics pushed and merged");
	out = json_object_get(jobs[0], "outputs");
	ok(json_is_object(out) && strncmp(mls_record_str(out, "digest"),
	    "sha256:", 7) == 0 && mls_record_int(out, "size", 0) > 0,
	    "outputs described in the result");
	o = mls_store_local_path(st, mls_record_str(out, "key"));
	snprintf(cmd, sizeof(cmd), "zstd -dc '%s' | tar -xOf - --wildcards '*p.json' '*i.json'",
	    o != NULL ? o : "/nonexistent");
	free(o);
	if ((p = popen(cmd, "r")) != NULL) {
		char buf[256] = "";
		size_t n = fread(buf, 1, sizeof(buf) - 1, p);
		buf[n] = '\0';
		pclose(p);
		ok(strcmp(buf, "{\"lr\":0.5,\"act\":\"it's\"}"
		    "{\"lr\":0.5,\"act\":\"it's\"}") == 0,
		    "params in MLS_PARAMS and input.json reached the outputs: %s",
		    buf);
	} else {
		ok(0, "popen");
	}

	ok(str_is(jobs[1], "state", "failed") && mls_record_int(jobs[1],
	    "exit_code", -1) == 3 && str_is(jobs[1], "reason",
	    "exit status 3"), "failure keeps the exit code");
	ok(str_is(jobs[2], "state", "failed") && mls_record_int(jobs[2],
	    "exit_code", -1) == 127 && str_is(jobs[2], "reason",
	    "command not found: nosuch-cmd-xyz"), "command not found");
	ok(str_is(jobs[3], "state", "succeeded") && file_is(jobs[3], "stdout",
	    "a b'c|"), "env reaches the job; no GPU -> empty "
	    "CUDA_VISIBLE_DEVICES");
	ok(str_is(jobs[4], "state", "failed") && mls_record_int(jobs[4],
	    "signal", 0) == 9 && str_is(jobs[4], "reason",
	    "killed by signal 9"), "a job killed by a signal");

	/* a resumed driver submits the same records again: nothing reruns */
	{
		json_t *again = json_deep_copy(jobs[0]);
		json_object_set_new(again, "state", json_null());
		json_object_set_new(again, "metrics", json_null());
		ok(mls_site_submit(s, &again, 1) == 0 && str_is(again, "state",
		    "succeeded") && json_is_object(json_object_get(again,
		    "metrics")), "resubmitting a finished job adopts its result");
		json_decref(again);
	}
	for (size_t i = 0; i < 5; i++)
		json_decref(jobs[i]);
}

static void
test_cancel(struct mls_site *s, struct mls_site *one)
{
	json_t *j = job("local", "sleep 30", NULL, NULL, NULL);
	json_t *a = job("one", "sleep 30", NULL, NULL, NULL);
	json_t *b = job("one", "echo never", NULL, NULL, NULL);
	double t0;

	ok(mls_site_submit(s, &j, 1) == 0, "submit a long job");
	ok(wait_state(s, j, "running", 20), "it runs");
	ok(mls_record_str(j, "started") != NULL, "running job has 'started'");
	nap(1.0);		/* let the wrapper start the command */
	t0 = mls_time_now();
	ok(mls_site_cancel(s, j) == 0, "cancel it: %s", mls_error_last());
	ok(wait_final(s, &j, 1, 20) && str_is(j, "state", "cancelled") &&
	    str_is(j, "reason", "stopped"), "stop marker -> cancelled");
	ok(mls_time_now() - t0 < 8, "it stopped in %.1fs",
	    mls_time_now() - t0);

	ok(mls_site_submit(one, &a, 1) == 0 && mls_site_submit(one, &b, 1) ==
	    0, "two jobs on a 1-cpu site");
	ok(wait_state(one, a, "running", 20), "the first runs");
	ok(mls_site_poll(one, &b, 1) == 0 && str_is(b, "state", "queued"),
	    "the second waits");
	ok(mls_site_cancel(one, b) == 0 && str_is(b, "state", "cancelled") &&
	    str_is(b, "reason", "cancelled before it started"),
	    "cancel a queued job");
	json_object_set_new(b, "state", json_string("queued"));
	ok(mls_site_poll(one, &b, 1) == 0 && str_is(b, "state", "cancelled"),
	    "its result.json says cancelled");
	ok(mls_site_cancel(one, a) == 0 && wait_final(one, &a, 1, 20) &&
	    str_is(a, "state", "cancelled"), "cancel the running one");
	ok(file_is(b, "stdout", "") == 0, "the cancelled queued job never ran");
	json_decref(j);
	json_decref(a);
	json_decref(b);
}

static int
cmp_started(const void *x, const void *y)
{
	return strcmp(mls_record_str(*(json_t *const *)x, "started"),
	    mls_record_str(*(json_t *const *)y, "started"));
}

static void
test_slots(struct mls_site *one)
{
	json_t *jobs[3];
	int i, ordered = 1;

	for (i = 0; i < 3; i++)
		jobs[i] = job("one", "sleep 0.4", NULL, NULL, NULL);
	ok(mls_site_submit(one, jobs, 3) == 0, "3 jobs on a 1-cpu site");
	ok(wait_final(one, jobs, 3, 40), "all finish");
	ok(str_is(jobs[0], "state", "succeeded") && str_is(jobs[1], "state",
	    "succeeded") && str_is(jobs[2], "state", "succeeded"),
	    "all succeed");
	qsort(jobs, 3, sizeof(jobs[0]), cmp_started);
	for (i = 0; i < 2; i++) {
		printf("# %s..%s\n", mls_record_str(jobs[i], "started"),
		    mls_record_str(jobs[i], "finished"));
		if (strcmp(mls_record_str(jobs[i], "finished"),
		    mls_record_str(jobs[i + 1], "started")) > 0)
			ordered = 0;
	}
	ok(ordered, "they ran one at a time");
	for (i = 0; i < 3; i++)
		json_decref(jobs[i]);
}

static void
test_gpus(void)
{
	struct mls_site *g = NULL;
	json_t *jobs[2], *big;
	char *a, *b;
	int i;

	setenv("MLS_LOCAL_GPUS", "2", 1);
	ok(mls_site_open(&g, &cfg, st, "fakegpu") == 0, "open fakegpu: %s",
	    mls_error_last());
	for (i = 0; i < 2; i++)
		jobs[i] = job("fakegpu", "printf %s \"$CUDA_VISIBLE_DEVICES\"; "
		    "sleep 0.5", NULL, json_pack("{s:i}", "gpus", 1), NULL);
	big = job("fakegpu", "true", NULL, json_pack("{s:i}", "gpus", 4), NULL);
	ok(mls_site_submit(g, &big, 1) == MLS_EINPUT && strcmp(mls_error_last(),
	    "job needs 4 GPUs; site 'fakegpu' has 2") == 0,
	    "a job needing more GPUs than the site has: %s", mls_error_last());
	ok(mls_site_submit(g, jobs, 2) == 0 && wait_final(g, jobs, 2, 30),
	    "two 1-GPU jobs");
	a = get(jobs[0], "stdout");
	b = get(jobs[1], "stdout");
	ok(a != NULL && b != NULL && ((strcmp(a, "0") == 0 && strcmp(b,
	    "1") == 0) || (strcmp(a, "1") == 0 && strcmp(b, "0") == 0)),
	    "they got CUDA_VISIBLE_DEVICES 0 and 1: '%s' '%s'", a, b);
	free(a);
	free(b);
	for (i = 0; i < 2; i++)
		json_decref(jobs[i]);
	json_decref(big);
	mls_site_free(g);
	unsetenv("MLS_LOCAL_GPUS");
}

static pid_t
runner_pid(const char *site_dir)
{
	char path[512];
	long pid = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s/runner.pid", cfg.data_home,
	    site_dir);
	if ((fp = fopen(path, "r")) != NULL) {
		if (fscanf(fp, "%ld", &pid) != 1)
			pid = 0;
		fclose(fp);
	}
	return (pid_t)pid;
}

static void
test_runner_killed(struct mls_site *s)
{
	json_t *j = job("local", "sleep 1; echo survived", NULL, NULL, NULL);
	json_t *k = job("local", "echo later", NULL, NULL, NULL);
	pid_t pid;

	ok(mls_site_submit(s, &j, 1) == 0 && wait_state(s, j, "running", 20),
	    "a job runs");
	pid = runner_pid("local");
	ok(pid > 0 && kill(pid, SIGKILL) == 0, "kill -9 the runner (%ld)",
	    (long)pid);
	ok(wait_final(s, &j, 1, 20) && str_is(j, "state", "succeeded") &&
	    file_is(j, "stdout", "survived\n"),
	    "the job completed and a later poll sees it");
	ok(mls_site_submit(s, &k, 1) == 0 && wait_final(s, &k, 1, 20) &&
	    str_is(k, "state", "succeeded"), "a new runner takes new jobs");
	json_decref(j);
	json_decref(k);
}

static void
test_sandbox(struct mls_site *s)
{
	json_t *good = NULL, *bad = NULL, *argv;
	struct mls_buf key = MLS_BUF_INIT;
	char cmd[4096], hex[65] = "", path[600];
	FILE *p;
	int rc;

	snprintf(path, sizeof(path), "%s/sb.tar.zst", tmpdir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/sb && echo hi >%s/sb/hello.txt"
	    " && tar -C %s/sb -cf - . | zstd -q -c >%s && sha256sum %s",
	    tmpdir, tmpdir, tmpdir, path, path);
	if ((p = popen(cmd, "r")) != NULL) {
		if (fread(hex, 1, 64, p) != 64)
			hex[0] = '\0';
		hex[64] = '\0';
		pclose(p);
	}
	ok(strlen(hex) == 64, "made a sandbox");
	snprintf(cmd, sizeof(cmd), "sha256:%s", hex);
	mls_store_sandbox_key(cmd, &key);
	rc = mls_store_put_file(st, key.buf, path);
	argv = json_pack("[s,s]", "cat", "hello.txt");
	mls_job_new(&good, "local", cmd, NULL, argv, NULL, NULL, NULL, NULL);
	/* a sandbox whose content does not match its name */
	mls_buf_reset(&key);
	mls_store_sandbox_key("sha256:0000000000000000000000000000000000000000"
	    "000000000000000000000000", &key);
	rc |= mls_store_put_buf(st, key.buf, "junk", 4);
	mls_job_new(&bad, "local", "sha256:0000000000000000000000000000000000"
	    "000000000000000000000000000000", NULL, argv, NULL, NULL, NULL,
	    NULL);
	json_decref(argv);
	ok(rc == 0 && mls_site_submit(s, &good, 1) == 0 &&
	    mls_site_submit(s, &bad, 1) == 0 && wait_final(s, &good, 1, 20) &&
	    wait_final(s, &bad, 1, 20), "sandbox jobs finish");
	ok(str_is(good, "state", "succeeded") && file_is(good, "stdout",
	    "hi\n"), "the sandbox is unpacked in the work dir");
	ok(str_is(bad, "state", "failed") && mls_record_str(bad, "reason") !=
	    NULL && strstr(mls_record_str(bad, "reason"), "digest mismatch") !=
	    NULL && json_is_null(json_object_get(bad,
	    "exit_code")), "a sandbox digest mismatch fails the job");
	json_decref(good);
	json_decref(bad);
	mls_buf_release(&key);
}

int
main(void)
{
	struct mls_site *s = NULL, *one = NULL;
	char conf[600], runner[600], data[600];
	const char *top = getenv("top_builddir");
	FILE *fp;

	if (mkdtemp(tmpdir) == NULL)
		return 99;
	snprintf(conf, sizeof(conf), "%s/config", tmpdir);
	snprintf(data, sizeof(data), "%s/data", tmpdir);
	fp = fopen(conf, "w");
	fputs("[site \"hpc\"]\ntype = htcondor\n"
	    "[site \"one\"]\ntype = local\ncpus = 1\ngrace = 1\n"
	    "[site \"fakegpu\"]\ntype = local\n"
	    "[site \"local\"]\ngrace = 2\n", fp);
	fclose(fp);
	snprintf(runner, sizeof(runner), "%s/mls-runner", top ? top : ".");
	setenv("MLS_RUNNER", runner, 1);
	setenv("MLS_DATA_HOME", data, 1);
	setenv("MLS_LOCAL_CPUS", "2", 1);
	unsetenv("MLS_STORE");
	unsetenv("CUDA_VISIBLE_DEVICES");
	unsetenv("MLS_LOCAL_GPUS");
	setenv("MLS_PUSH_INTERVAL", "1", 1);
	if (mls_config_load_file(&cfg, conf) < 0 ||
	    mls_store_open(&st, &cfg, NULL) < 0) {
		printf("Bail out! %s\n", mls_error_last());
		return 99;
	}

	test_expand();
	test_job_new();
	test_open_errors();
	ok(mls_site_open(&s, &cfg, st, NULL) == 0, "open the default site: %s",
	    mls_error_last());
	ok(mls_site_open(&one, &cfg, st, "one") == 0, "open site 'one': %s",
	    mls_error_last());
	if (s == NULL || one == NULL)
		return done_testing();
	test_poll_store(s);
	test_poll_oversize(s);
	test_basic(s);
	test_cancel(s, one);
	test_slots(one);
	test_gpus();
	test_runner_killed(s);
	test_sandbox(s);

	mls_site_free(s);
	mls_site_free(one);
	mls_store_free(st);
	mls_config_release(&cfg);
	if (getenv("MLS_KEEP_TEST") == NULL) {
		static const char *const dirs[] = { "local", "local-one",
		    "local-fakegpu" };
		char rm[700];
		int fd;

		/* wait for the runners to see the empty queue and exit */
		for (size_t i = 0; i < 3; i++) {
			snprintf(rm, sizeof(rm), "%s/%s/sched.lock", data,
			    dirs[i]);
			if ((fd = open(rm, O_RDWR)) >= 0) {
				(void)flock(fd, LOCK_EX);
				close(fd);
			}
		}
		snprintf(rm, sizeof(rm), "rm -rf '%s'", tmpdir);
		if (system(rm) != 0)
			printf("# could not remove %s\n", tmpdir);
	}
	return done_testing();
}
