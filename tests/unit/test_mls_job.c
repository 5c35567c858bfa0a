/*
 * test_mls_job.c - the job files contract: keys, result.json (writer and
 * validator), the metrics.jsonl rule, the stop marker and params.
 */
#include "mls_job.h"

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_error.h"
#include "mls_record.h"
#include "mls_store.h"
#include "tap.h"

static struct mls_store *st;
static char tmpdir[] = "/tmp/test_mls_job.XXXXXX";

static const char good_result[] = "{\"kind\":\"result\",\"id\":\"j-1\","
    "\"state\":\"failed\",\"exit_code\":3,\"reason\":\"exit status 3\","
    "\"started\":\"2026-01-01T00:00:00.000Z\",\"finished\":"
    "\"2026-01-01T00:00:01.000Z\",\"host\":\"h\",\"outputs\":null}";

static int
error_has(const char *s)
{
	return strstr(mls_error_last(), s) != NULL;
}

static void
test_keys(void)
{
	struct mls_buf k = MLS_BUF_INIT;
	unsigned f;

	ok(mls_job_key(&k, "j-1", MLS_JOB_RESULT) == 0 &&
	    strcmp(k.buf, "jobs/j-1/result.json") == 0, "result key");
	ok(mls_job_key(&k, "j-1", MLS_JOB_NFILES) == 0 &&
	    strcmp(k.buf, "jobs/j-1") == 0, "the job's directory");
	for (f = 0; f < MLS_JOB_NFILES; f++)
		if (mls_job_file_parse(mls_job_file_name(f)) != f)
			break;
	ok(f == MLS_JOB_NFILES, "every file name parses back");
	ok(mls_job_file_parse("spec.sh.bak") == MLS_JOB_NFILES,
	    "an unknown name is none");
	ok(mls_job_key(&k, "../x", MLS_JOB_STOP) == MLS_EINPUT &&
	    error_has("field 'id'"), "a leading dot is refused");
	ok(mls_job_key(&k, "a/b", MLS_JOB_STOP) == MLS_EINPUT, "a slash too");
	ok(mls_job_key(&k, "", MLS_JOB_STOP) == MLS_EINPUT, "an empty id too");
	ok(mls_job_key(&k, "a b", MLS_JOB_STOP) == MLS_EINPUT, "a space too");
	ok(mls_job_key(&k, NULL, MLS_JOB_STOP) == MLS_EINPUT, "no id too");
	mls_buf_release(&k);
}

static void
test_result_roundtrip(void)
{
	struct mls_job_result r, back;
	json_t *o = NULL;
	char *s = NULL;

	ok(mls_job_result_init(&r, "j-2", MLS_STATE_CANCELLED) == 0,
	    "init");
	r.exit_code = 143;
	r.signal = 15;
	mls_job_result_set_reason(&r, "stopped\nby\tuser");
	snprintf(r.started, sizeof(r.started), "2026-01-01T00:00:00.000Z");
	r.outputs = json_pack("{s:s,s:s,s:i}", "key",
	    "jobs/j-2/outputs.tar.zst", "digest", "sha256:"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "size", 0);
	ok(strcmp(r.reason, "stopped by user") == 0,
	    "control characters in the reason are flattened");
	ok(mls_job_result_to_json(&r, &o) == 0 && (s = json_dumps(o,
	    JSON_COMPACT)) != NULL, "to JSON");
	ok(s != NULL && mls_job_result_parse(s, strlen(s), "j-2", &back) == 0,
	    "what the writer writes validates");
	ok(back.state == MLS_STATE_CANCELLED && back.exit_code == 143 &&
	    back.signal == 15 && strcmp(back.reason, r.reason) == 0 &&
	    strcmp(back.started, r.started) == 0 &&
	    strcmp(back.finished, r.finished) == 0 &&
	    strcmp(back.host, r.host) == 0 && json_equal(back.outputs,
	    r.outputs), "and reads back the same");
	mls_job_result_release(&back);
	mls_job_result_release(&r);
	json_decref(o);
	free(s);
}

/* The validator names the field; *r is not touched on error. */
static void
bad(const char *text, const char *field, const char *name)
{
	struct mls_job_result r;
	int rc;

	memset(&r, 0x5a, sizeof(r));
	rc = mls_job_result_parse(text, strlen(text), "j-1", &r);
	ok(rc == MLS_EINPUT && error_has(field) && r.exit_code == 0x5a5a5a5a,
	    "refused: %s (%s)", name, mls_error_last());
}

static void
test_result_validator(void)
{
	struct mls_job_result r;
	char buf[1024];

	ok(mls_job_result_parse(good_result, strlen(good_result), "j-1",
	    &r) == 0 && r.state == MLS_STATE_FAILED && r.exit_code == 3,
	    "a failed result");
	mls_job_result_release(&r);
	ok(mls_job_result_parse(good_result, strlen(good_result), NULL,
	    &r) == 0 && strcmp(r.id, "j-1") == 0, "any id when none is asked");
	mls_job_result_release(&r);
	/* the exit status decides between succeeded and failed */
	snprintf(buf, sizeof(buf), "{\"kind\":\"result\",\"id\":\"j-1\","
	    "\"state\":\"succeeded\",\"exit_code\":2,\"finished\":"
	    "\"2026-01-01T00:00:01Z\"}");
	ok(mls_job_result_parse(buf, strlen(buf), "j-1", &r) == 0 &&
	    r.state == MLS_STATE_FAILED, "succeeded with exit 2 is failed");
	mls_job_result_release(&r);

	bad("{\"kind\":", "result.json of job 'j-1'", "not JSON");
	bad("[1]", "expected an object", "not an object");
	bad("{\"kind\":\"job\",\"id\":\"j-1\"}", "field 'kind'", "kind");
	bad("{\"kind\":\"result\",\"id\":\"j-9\",\"state\":\"failed\","
	    "\"exit_code\":1,\"finished\":\"2026-01-01T00:00:01Z\"}",
	    "field 'id'", "another job's result");
	bad("{\"kind\":\"result\",\"id\":\"j-1\",\"state\":\"running\","
	    "\"exit_code\":1,\"finished\":\"2026-01-01T00:00:01Z\"}",
	    "field 'state'", "a state that is not final");
	bad("{\"kind\":\"result\",\"id\":\"j-1\",\"state\":\"failed\","
	    "\"exit_code\":300,\"finished\":\"2026-01-01T00:00:01Z\"}",
	    "field 'exit_code'", "an exit code over 255");
	bad("{\"kind\":\"result\",\"id\":\"j-1\",\"state\":\"failed\","
	    "\"finished\":\"2026-01-01T00:00:01Z\"}",
	    "field 'exit_code'", "no exit code");
	bad("{\"kind\":\"result\",\"id\":\"j-1\",\"state\":\"failed\","
	    "\"exit_code\":1,\"signal\":0,\"finished\":\"2026-01-01T00:00:01Z\"}",
	    "field 'signal'", "signal 0");
	bad("{\"kind\":\"result\",\"id\":\"j-1\",\"state\":\"failed\","
	    "\"exit_code\":1,\"finished\":\"yesterday\"}",
	    "field 'finished'", "a time that is not RFC 3339");
	bad("{\"kind\":\"result\",\"id\":\"j-1\",\"state\":\"failed\","
	    "\"exit_code\":1}", "field 'finished'", "no finished time");
	bad("{\"kind\":\"result\",\"id\":\"j-1\",\"state\":\"failed\","
	    "\"exit_code\":1,\"finished\":\"2026-01-01T00:00:01Z\","
	    "\"outputs\":{\"key\":\"jobs/j-1/outputs.tar.zst\",\"digest\":"
	    "\"md5:00\",\"size\":1}}", "field 'outputs'", "a digest not sha256");
	bad("{\"kind\":\"result\",\"id\":\"j-1\",\"id\":\"j-1\"}",
	    "duplicate", "a key given twice");
}

static void
test_result_store(void)
{
	struct mls_job_result r, got;
	struct mls_buf b = MLS_BUF_INIT;

	mls_job_result_init(&r, "j-3", MLS_STATE_LOST);
	mls_job_result_set_reason(&r, "the runner died");
	ok(mls_job_result_get(st, "j-3", &got) == 0, "no result yet: 0");
	ok(mls_job_result_put(st, &r, MLS_JOB_RESULT_IF_NONE) == 0,
	    "the first result is written");
	r.state = MLS_STATE_FAILED;
	ok(mls_job_result_put(st, &r, MLS_JOB_RESULT_IF_NONE) == 1,
	    "IF_NONE keeps the one there");
	ok(mls_job_result_get(st, "j-3", &got) == 1 &&
	    got.state == MLS_STATE_LOST && got.exit_code == -1 &&
	    strcmp(got.reason, "the runner died") == 0, "and it reads back");
	mls_job_result_release(&got);
	ok(mls_job_put(st, "j-4", MLS_JOB_RESULT, "{\"kind\":\"other\"}",
	    16) == 0 && mls_job_result_get(st, "j-4", &got) == 1 &&
	    got.state == MLS_STATE_FAILED && got.exit_code == -1 &&
	    strcmp(got.id, "j-4") == 0 && strstr(got.reason, "result.json of "
	    "job 'j-4': field 'kind'") == got.reason && mls_error_code() == 0,
	    "a result that does not validate: the job failed, naming it (%s)",
	    got.reason);
	mls_job_result_release(&got);
	ok(mls_job_get(st, "j-5", MLS_JOB_STDOUT, &b, 0) == 0 && b.len == 0,
	    "a missing file is 0, not an error");
	mls_job_result_release(&r);
	mls_buf_release(&b);
}

/* A file over its cap: MLS_EINPUT naming the file and the limit. */
static void
test_too_large(void)
{
	struct mls_job_result got;
	struct mls_buf b = MLS_BUF_INIT, big = MLS_BUF_INIT;
	size_t i;

	for (i = 0; i <= MLS_JOB_RESULT_MAX; i++)
		mls_buf_addc(&big, ' ');
	ok(mls_job_put(st, "j-6", MLS_JOB_RESULT, big.buf, big.len) == 0 &&
	    mls_job_put(st, "j-6", MLS_JOB_STDOUT, "12345", 5) == 0,
	    "put a result.json of 1 MiB + 1");
	mls_buf_adds(&b, "left");
	ok(mls_job_get(st, "j-6", MLS_JOB_RESULT, &b, 0) == MLS_EINPUT &&
	    b.len == 0 && strcmp(mls_error_last(), "result.json of job 'j-6': "
	    "larger than 1 MiB") == 0, "mls_job_get: %s", mls_error_last());
	ok(mls_job_get(st, "j-6", MLS_JOB_STDOUT, &b, 4) == MLS_EINPUT &&
	    strcmp(mls_error_last(), "stdout of job 'j-6': larger than "
	    "4 bytes") == 0, "a max given: %s", mls_error_last());
	ok(mls_job_get(st, "j-6", MLS_JOB_STDOUT, &b, 5) == 1 && b.len == 5,
	    "exactly max is read");
	mls_error_clear();
	ok(mls_job_result_get(st, "j-6", &got) == 1 &&
	    got.state == MLS_STATE_FAILED && got.exit_code == -1 &&
	    strcmp(got.reason, "result.json of job 'j-6': larger than "
	    "1 MiB") == 0 && mls_error_code() == 0,
	    "mls_job_result_get: the job failed, the reason says why (%s)",
	    got.reason);
	mls_job_result_release(&got);
	mls_buf_release(&b);
	mls_buf_release(&big);
}

static int
count_one(const json_t *obj, size_t index, void *arg)
{
	size_t *n = arg;

	(void)obj;
	*n = index + 1;
	return 0;
}

static void
test_metrics_rule(void)
{
	static const char text[] = "{\"step\":1,\"loss\":0.9}\n\n"
	    "garbage\n[1,2]\n42\n{\"step\":2,\"loss\":0.5,\"acc\":0.7}\r\n"
	    "{\"step\":3,\"acc\":0.8}\n{\"loss\":0.25}";
	static const char torn[] = "{\"step\":1,\"loss\":0.9}\n{\"loss\":0.2";
	json_t *m = NULL;
	double *v = NULL;
	long *steps = NULL;
	size_t n = 0;

	ok(mls_job_metrics_each(text, strlen(text), count_one, &n) == 0 &&
	    n == 4, "four objects count, the rest is skipped");
	ok(mls_job_metrics_last(text, strlen(text), &m) == 0 &&
	    mls_record_num(m, "loss", 0) == 0.25 && mls_record_int(m, "step",
	    0) == 3 && mls_record_num(m, "acc", 0) == 0.8,
	    "a last line with no newline counts (last values)");
	json_decref(m);
	ok(mls_job_metrics_last(torn, strlen(torn), &m) == 0 &&
	    mls_record_num(m, "loss", 0) == 0.9,
	    "a torn last line does not");
	json_decref(m);
	ok(mls_job_metrics_last("", 0, &m) == 0 && m == NULL,
	    "no metrics: NULL");
	ok(mls_job_metrics_series(text, strlen(text), "loss", &v, &steps,
	    &n) == 0 && n == 3 && v[0] == 0.9 && v[2] == 0.25 &&
	    steps[0] == 1 && steps[1] == 2 && steps[2] == 3,
	    "a series: values with their step, else their index");
	free(v);
	free(steps);
	ok(mls_job_metrics_series(text, strlen(text), "none", &v, &steps,
	    &n) == 0 && n == 0 && v == NULL, "an absent metric: empty");
}

static void
test_stop_params(void)
{
	json_t *p = json_pack("{s:f,s:s}", "lr", 0.5, "act", "relu"), *q;

	ok(mls_job_stopped(st, "j-6") == 0, "not stopped");
	ok(mls_job_stop(st, "j-6") == 0 && mls_job_stopped(st, "j-6") == 1,
	    "stopped");
	ok(mls_job_params_put(st, "j-6", p) == 0 &&
	    mls_job_params_get(st, "j-6", &q) == 1 && json_equal(p, q),
	    "params round trip");
	json_decref(q);
	ok(mls_job_params_get(st, "j-7", &q) == 0 && q == NULL,
	    "no params: 0");
	json_decref(p);
}

int
main(void)
{
	struct mls_buf url = MLS_BUF_INIT;
	int rc;

	if (mkdtemp(tmpdir) == NULL)
		return 99;
	mls_buf_addf(&url, "file://%s/store", tmpdir);
	if (mls_store_open(&st, NULL, url.buf) < 0) {
		printf("Bail out! %s\n", mls_error_last());
		return 99;
	}
	test_keys();
	test_result_roundtrip();
	test_result_validator();
	test_result_store();
	test_too_large();
	test_metrics_rule();
	test_stop_params();
	mls_store_free(st);
	mls_buf_release(&url);
	{
		char cmd[256];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", tmpdir);
	}
	rc = done_testing();
	return rc;
}
