/*
 * test_mls_site_slurm.c - the slurm driver's pure parts: parsing of
 * squeue, sacct and slurmrestd output (samples from Slurm 22.05.8), the
 * mapping of Slurm states, the batch script and the submit options.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_error.h"
#include "mls_jobwrap.h"
#include "mls_record.h"
#include "mls_site_slurm.h"
#include "mls_site_slurm_int.h"
#include "tap.h"

static const char *
field(const json_t *map, const char *key, const char *f)
{
	return mls_record_str(json_object_get(map, key), f);
}

static int
has_arg(const json_t *a, const char *s)
{
	size_t i;

	for (i = 0; i < json_array_size(a); i++)
		if (strcmp(json_string_value(json_array_get(a, i)), s) == 0)
			return 1;
	return 0;
}

static void
test_squeue(void)
{
	static const char out[] =
	    "1|wrap|COMPLETED|None\n"
	    "3|mls-j-single|FAILED|NonZeroExitCode\n"
	    "2_2|mls-j-test|PENDING|JobArrayTaskLimit\n"
	    "2_0|mls-j-test|RUNNING|None\n"
	    "9|mls-a|b|TIMEOUT|TimeLimit\n";
	json_t *m = NULL;
	int rc;

	rc = mls_slurm_parse_squeue(out, strlen(out), 1, &m);
	ok(rc == 0, "squeue: parses");
	ok(json_object_size(m) == 4, "squeue: the 4 mls jobs, not 'wrap'");
	ok(json_object_get(m, "1") == NULL, "squeue: mls_only drops others");
	ok(strcmp(field(m, "2_2", "state"), "PENDING") == 0 &&
	    strcmp(field(m, "2_2", "reason"), "JobArrayTaskLimit") == 0,
	    "squeue: an array task's state and reason");
	ok(mls_record_int(json_object_get(m, "2_0"), "job", 0) == 2 &&
	    mls_record_int(json_object_get(m, "2_0"), "task", 0) == 0,
	    "squeue: array job and task ids");
	ok(mls_record_int(json_object_get(m, "3"), "task", 0) == -1,
	    "squeue: a plain job has task -1");
	ok(strcmp(field(m, "9", "name"), "mls-a|b") == 0 &&
	    strcmp(field(m, "9", "state"), "TIMEOUT") == 0,
	    "squeue: a name holding '|' is kept whole");
	json_decref(m);

	rc = mls_slurm_parse_squeue(out, strlen(out), 0, &m);
	ok(rc == 0 && json_object_size(m) == 5, "squeue: all jobs without "
	    "mls_only");
	json_decref(m);

	m = (json_t *)1;
	rc = mls_slurm_parse_squeue("x|y\n", 4, 1, &m);
	ok(rc == MLS_EPROTO && m == NULL, "squeue: a bad line is MLS_EPROTO, "
	    "out NULL");
	ok(strncmp(mls_error_last(), "squeue: line 1: expected", 24) == 0,
	    "squeue: the message names the line (%s)", mls_error_last());
	rc = mls_slurm_parse_squeue("abc|n|RUNNING|None\n", 19, 1, &m);
	ok(rc == MLS_EPROTO, "squeue: a non-numeric id is MLS_EPROTO");
	rc = mls_slurm_parse_squeue("", 0, 1, &m);
	ok(rc == 0 && json_object_size(m) == 0, "squeue: empty output");
	json_decref(m);
}

static void
test_sacct(void)
{
	static const char out[] =
	    "2|mls-j-bad|FAILED|5:0\n"
	    "3_1|mls-j-arr|CANCELLED by 0|0:15\n"
	    "3_[2-9]|mls-j-arr|PENDING|0:0\n"
	    "4|mls-j-t|TIMEOUT|0:15\n";
	json_t *m = NULL;

	ok(mls_slurm_parse_sacct(out, strlen(out), 1, &m) == 0, "sacct: "
	    "parses");
	ok(json_object_size(m) == 3, "sacct: folded pending tasks skipped");
	ok(strcmp(field(m, "3_1", "state"), "CANCELLED") == 0,
	    "sacct: 'CANCELLED by 0' is CANCELLED");
	ok(strcmp(field(m, "2", "reason"), "exit code 5:0") == 0,
	    "sacct: the exit code goes to the reason");
	json_decref(m);
	m = (json_t *)1;
	ok(mls_slurm_parse_sacct("nonsense\n", 9, 1, &m) == MLS_EPROTO &&
	    m == NULL, "sacct: a bad line is MLS_EPROTO, out NULL");
}

static void
test_rest(void)
{
	static const char body[] = "{\"meta\":{},\"errors\":[],\"jobs\":["
	    "{\"job_id\":1,\"array_job_id\":0,\"array_task_id\":null,"
	    "\"array_task_string\":\"\",\"name\":\"wrap\",\"job_state\":"
	    "\"COMPLETED\",\"state_reason\":\"None\"},"
	    "{\"job_id\":3,\"array_job_id\":0,\"array_task_id\":null,"
	    "\"array_task_string\":\"\",\"name\":\"mls-j-s\",\"job_state\":"
	    "\"FAILED\",\"state_reason\":\"NonZeroExitCode\"},"
	    "{\"job_id\":4,\"array_job_id\":2,\"array_task_id\":0,"
	    "\"array_task_string\":\"\",\"name\":\"mls-j-t\",\"job_state\":"
	    "\"COMPLETED\",\"state_reason\":\"None\"},"
	    "{\"job_id\":8,\"array_job_id\":8,\"array_task_id\":null,"
	    "\"array_task_string\":\"0-5%2\",\"name\":\"mls-j-h\","
	    "\"job_state\":\"PENDING\",\"state_reason\":\"JobHeldUser\"},"
	    "{\"job_id\":10,\"array_job_id\":10,\"array_task_id\":null,"
	    "\"array_task_string\":\"1,4-8:2\",\"name\":\"mls-j-x\","
	    "\"job_state\":\"PENDING\",\"state_reason\":\"Priority\"}]}";
	static const char bad[] = "{\"jobs\":[{\"job_id\":1,"
	    "\"array_job_id\":1,\"array_task_string\":\"3-1\",\"name\":"
	    "\"mls-x\",\"job_state\":\"PENDING\"}]}";
	json_t *m = NULL;

	ok(mls_slurm_parse_rest_jobs(body, strlen(body), 1, &m) == 0,
	    "rest: parses");
	ok(json_object_get(m, "3") != NULL && json_object_get(m, "2_0") !=
	    NULL, "rest: a plain job by id, an array task as A_K");
	ok(json_object_get(m, "8_0") && json_object_get(m, "8_5") &&
	    !json_object_get(m, "8_6") && !json_object_get(m, "8"),
	    "rest: '0-5%%2' expands to tasks 0..5");
	ok(strcmp(field(m, "8_3", "reason"), "JobHeldUser") == 0,
	    "rest: expanded tasks carry the reason");
	ok(json_object_get(m, "10_1") && json_object_get(m, "10_4") &&
	    json_object_get(m, "10_6") && json_object_get(m, "10_8") &&
	    !json_object_get(m, "10_5"), "rest: '1,4-8:2' has steps");
	ok(json_object_size(m) == 2 + 6 + 4, "rest: %zu entries",
	    json_object_size(m));
	json_decref(m);

	m = (json_t *)1;
	ok(mls_slurm_parse_rest_jobs("{\"jobs\":5}", 10, 1, &m) ==
	    MLS_EPROTO && m == NULL, "rest: 'jobs' not a list is MLS_EPROTO");
	ok(mls_slurm_parse_rest_jobs("Authentication failure", 22, 1, &m) ==
	    MLS_EPROTO, "rest: a text body is MLS_EPROTO");
	ok(mls_slurm_parse_rest_jobs(bad, strlen(bad), 1, &m) ==
	    MLS_EPROTO, "rest: a bad range is MLS_EPROTO");
	ok(strstr(mls_error_last(), "'3-1'") != NULL, "rest: the message "
	    "names the range (%s)", mls_error_last());
}

static json_t *
entry(const char *state, const char *reason)
{
	return json_pack("{s:s,s:s,s:s}", "name", "mls-x", "state", state,
	    "reason", reason);
}

static void
test_apply(void)
{
	static const struct {
		const char *slurm, *state, *why;
	} t[] = {
		{ "PENDING", "queued", NULL },
		{ "RUNNING", "running", NULL },
		{ "COMPLETING", "running", NULL },
		{ "TIMEOUT", "failed", "TIMEOUT" },
		{ "OUT_OF_MEMORY", "failed", "OUT_OF_MEMORY" },
		{ "CANCELLED", "cancelled", "CANCELLED" },
		{ "NODE_FAIL", "lost", "NODE_FAIL" },
		{ "PREEMPTED", "lost", "PREEMPTED" },
		{ "FAILED", "failed", "FAILED" },
		{ "COMPLETED", "lost", "without a result" },
	};
	json_t *job, *e;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		job = json_pack("{s:s,s:s}", "id", "j-1", "site_id", "5_1");
		e = entry(t[i].slurm, "None");
		ok(mls_slurm_apply(job, e, "hpc") == 0 &&
		    strcmp(mls_record_str(job, "state"), t[i].state) == 0,
		    "apply: %s -> %s", t[i].slurm, t[i].state);
		if (t[i].why != NULL)
			ok(mls_record_str(job, "reason") != NULL &&
			    strstr(mls_record_str(job, "reason"), t[i].why),
			    "apply: %s: reason '%s'", t[i].slurm,
			    mls_record_str(job, "reason"));
		else
			ok(json_object_get(job, "reason") == NULL,
			    "apply: %s: no reason while not final", t[i].slurm);
		json_decref(e);
		json_decref(job);
	}
	job = json_pack("{s:s,s:s}", "id", "j-1", "site_id", "5_1");
	e = entry("TIMEOUT", "TimeLimit");
	mls_slurm_apply(job, e, "hpc");
	ok(strcmp(mls_record_str(job, "reason"), "TIMEOUT: time limit reached "
	    "(TimeLimit)") == 0, "apply: Slurm's reason is kept (%s)",
	    mls_record_str(job, "reason"));
	json_decref(e);
	mls_slurm_apply(job, NULL, "hpc");
	ok(strcmp(mls_record_str(job, "state"), "lost") == 0 &&
	    strstr(mls_record_str(job, "reason"), "does not know job 5_1"),
	    "apply: unknown to Slurm is lost (%s)",
	    mls_record_str(job, "reason"));
	json_object_set_new(job, "state", json_string("running"));
	e = entry("SOMETHING_NEW", "");
	ok(mls_slurm_apply(job, e, "hpc") == 0 &&
	    strcmp(mls_record_str(job, "state"), "running") == 0,
	    "apply: an unknown state leaves the job as it was");
	json_decref(e);
	json_decref(job);
}

/* Run the generated script with sh, task K, a fake wrapper store. */
static void
test_script(void)
{
	const char *ids[] = { "j-aaa", "j-b'b", "j-ccc" };
	struct mls_buf b = MLS_BUF_INIT;
	char dir[] = "/tmp/test-slurm-XXXXXX", cmd[512], out[256];
	FILE *fp;

	ok(mls_slurm_script(ids, 3, "file:///nonexistent/store", "/scratch",
	    NULL, NULL, &b) == 0, "script: built");
	ok(strncmp(b.buf, "#!/bin/sh\n", 10) == 0, "script: starts with #!");
	ok(strstr(b.buf, "set -- 'j-aaa' 'j-b'\\''b' 'j-ccc'") != NULL,
	    "script: ids are single-quoted");
	ok(strstr(b.buf, "MLS_SCRATCH='/scratch'") != NULL,
	    "script: workdir is the wrapper's scratch");
	ok(strstr(b.buf, mls_jobwrap_sh) != NULL, "script: embeds the wrapper");
	ok(strstr(b.buf, "\nMLS_STORE_TOKEN_FILE=") == NULL, "script: no token "
	    "file unless configured");
	/* the id selection, with a stand-in for the wrapper */
	if (mkdtemp(dir) != NULL) {
		char *p = strstr(b.buf, "w=${TMPDIR");
		if (p != NULL) {
			*p = '\0';
			b.len = (size_t)(p - b.buf);
		}
		mls_buf_adds(&b, "echo \"$id\"\n");
		snprintf(cmd, sizeof(cmd), "%s/s.sh", dir);
		fp = fopen(cmd, "w");
		fputs(b.buf, fp);
		fclose(fp);
		snprintf(cmd, sizeof(cmd), "SLURM_ARRAY_TASK_ID=1 sh %s/s.sh",
		    dir);
		fp = popen(cmd, "r");
		out[0] = '\0';
		if (fgets(out, sizeof(out), fp) == NULL)
			out[0] = '\0';
		pclose(fp);
		ok(strcmp(out, "j-b'b\n") == 0, "script: task 1 runs the 2nd "
		    "id (%s)", out);
		snprintf(cmd, sizeof(cmd), "SLURM_ARRAY_TASK_ID=3 sh %s/s.sh "
		    "2>/dev/null", dir);
		ok(WEXITSTATUS(system(cmd)) == 64, "script: task past the "
		    "end exits 64");
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		(void)system(cmd);
	}
	mls_buf_release(&b);

	ok(mls_slurm_script(ids, 0, "file:///s", NULL, NULL, NULL, &b) ==
	    MLS_EINPUT, "script: no ids is MLS_EINPUT");
	ids[1] = "../x";
	ok(mls_slurm_script(ids, 3, "file:///s", NULL, NULL, NULL, &b) ==
	    MLS_EINPUT, "script: a bad id is MLS_EINPUT");
	mls_buf_release(&b);
}

static void
test_args(void)
{
	json_t *conf = json_pack("{s:s,s:s,s:s,s:s,s:s}", "name", "hpc",
	    "partition", "gpu", "account", "m1234", "workdir", "/scr",
	    "extra", " --constraint=a100  --exclusive ");
	json_t *job = json_pack("{s:s,s:{s:i,s:i,s:i,s:i}}", "id", "j-1",
	    "resources", "cpus", 4, "gpus", 1, "mem_mb", 2048, "time_s", 60);
	json_t *a = NULL, *body = NULL, *j;

	ok(mls_slurm_sbatch_args(conf, job, "mls-j-1", 200, 16, &a) == 0,
	    "sbatch args: built");
	ok(has_arg(a, "--job-name=mls-j-1") && has_arg(a, "--parsable"),
	    "sbatch args: name, parsable");
	ok(has_arg(a, "--array=0-199%16"), "sbatch args: array with %%P");
	ok(has_arg(a, "--cpus-per-task=4") && has_arg(a, "--gpus=1") &&
	    has_arg(a, "--mem=2048M"), "sbatch args: resources");
	ok(has_arg(a, "--time=2"), "sbatch args: 60 s + grace -> 2 minutes");
	ok(has_arg(a, "--partition=gpu") && has_arg(a, "--account=m1234") &&
	    !has_arg(a, "--qos="), "sbatch args: partition, account");
	ok(has_arg(a, "--constraint=a100") && has_arg(a, "--exclusive"),
	    "sbatch args: extra split at blanks");
	ok(has_arg(a, "--chdir=/scr") &&
	    has_arg(a, "--output=/scr/slurm-%x-%A_%a.out"),
	    "sbatch args: workdir is cwd and log dir");
	json_decref(a);
	ok(mls_slurm_sbatch_args(conf, job, "mls-j-1", 1, 16, &a) == 0 &&
	    !has_arg(a, "--array=0-0"), "sbatch args: no array for one job");
	json_decref(a);
	ok(mls_slurm_sbatch_args(conf, job, "mls-j-1", 8, 16, &a) == 0 &&
	    has_arg(a, "--array=0-7"), "sbatch args: throttle above n is "
	    "dropped");
	json_decref(a);
	json_object_set_new(json_object_get(job, "resources"), "cpus",
	    json_integer(-2));
	a = (json_t *)1;
	ok(mls_slurm_sbatch_args(conf, job, "n", 1, 0, &a) == MLS_EINPUT &&
	    a == NULL, "sbatch args: negative cpus is MLS_EINPUT, out NULL");
	json_object_set_new(json_object_get(job, "resources"), "cpus",
	    json_integer(4));

	json_object_del(conf, "extra");
	ok(mls_slurm_rest_body(conf, job, "mls-j-1", 10, 3, "#!/bin/sh\n",
	    &body) == 0, "rest body: built");
	j = json_object_get(body, "job");
	ok(strcmp(mls_record_str(body, "script"), "#!/bin/sh\n") == 0,
	    "rest body: script");
	ok(strcmp(mls_record_str(j, "array"), "0-9%3") == 0 &&
	    strcmp(mls_record_str(j, "gpus"), "1") == 0 &&
	    mls_record_int(j, "memory_per_node", 0) == 2048 &&
	    mls_record_int(j, "time_limit", 0) == 2 &&
	    mls_record_int(j, "cpus_per_task", 0) == 4,
	    "rest body: array, gpus, memory, time, cpus");
	ok(json_object_size(json_object_get(j, "environment")) > 0,
	    "rest body: a non-empty environment (slurmrestd needs one)");
	ok(strcmp(mls_record_str(j, "partition"), "gpu") == 0 &&
	    strcmp(mls_record_str(j, "current_working_directory"), "/scr") == 0,
	    "rest body: partition, cwd");
	json_decref(body);
	json_object_set_new(conf, "extra", json_string("{\"constraints\":"
	    "\"a100\"}"));
	ok(mls_slurm_rest_body(conf, job, "n", 1, 0, "x", &body) == 0 &&
	    strcmp(mls_record_str(json_object_get(body, "job"), "constraints"),
	    "a100") == 0, "rest body: extra JSON merged into job");
	json_decref(body);
	json_object_set_new(conf, "extra", json_string("--constraint=a100"));
	body = (json_t *)1;
	ok(mls_slurm_rest_body(conf, job, "n", 1, 0, "x", &body) ==
	    MLS_ECONFIG && body == NULL, "rest body: extra not JSON is "
	    "MLS_ECONFIG");
	json_decref(conf);
	json_decref(job);
}

static void
test_classify(void)
{
	ok(mls_slurm_classify("Batch job submission failed: Unable to "
	    "contact slurm controller (connect failure)", 0) == MLS_ENET,
	    "classify: controller down is MLS_ENET");
	ok(mls_slurm_classify("Batch job submission failed: Invalid partition "
	    "name specified", 0) == MLS_ECONFIG, "classify: a bad partition "
	    "of the site is MLS_ECONFIG");
	ok(mls_slurm_classify("Batch job submission failed: Invalid account or "
	    "account/partition combination specified", 0) == MLS_ECONFIG,
	    "classify: a bad account of the site is MLS_ECONFIG");
	ok(mls_slurm_classify("sbatch: fatal: Could not establish a "
	    "configuration source", 0) == MLS_ECONFIG, "classify: Slurm's own "
	    "configuration missing is MLS_ECONFIG");
	ok(mls_slurm_classify("Batch job submission failed: Requested node "
	    "configuration is not available", 0) == MLS_EINPUT, "classify: a "
	    "refusal of the job's request is MLS_EINPUT");
	ok(mls_slurm_classify("Authentication failure", 401) == MLS_EAUTH,
	    "classify: 401 is MLS_EAUTH");
	ok(mls_slurm_classify("Zero Bytes were transmitted or received",
	    500) == MLS_EAUTH, "classify: slurmrestd's answer to a bad JWT "
	    "is MLS_EAUTH");
	ok(mls_slurm_classify("Couldn't connect to server", 0) == MLS_ENET,
	    "classify: curl's connect error is MLS_ENET");
	{
		struct mls_buf o = MLS_BUF_INIT, e = MLS_BUF_INIT;
		char *argv[] = { "mls-no-such-sbatch", NULL };
		const char *want = "'mls-no-such-sbatch': not found in PATH";
		int st = 0;
		ok(mls_slurm_run_prog(argv, &o, &e, &st) == MLS_EUNAVAIL &&
		    strncmp(mls_error_last(), want, strlen(want)) == 0,
		    "run_prog: a program not in PATH is MLS_EUNAVAIL");
		mls_buf_release(&o);
		mls_buf_release(&e);
	}
	ok(mls_slurm_minutes(5, 10) == 1 && mls_slurm_minutes(3600, 10) == 61,
	    "minutes: the wrapper's limit comes first");
}

int
main(void)
{
	test_squeue();
	test_sacct();
	test_rest();
	test_apply();
	test_script();
	test_args();
	test_classify();
	return done_testing();
}
