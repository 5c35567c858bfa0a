/*
 * test_mls_site_condor.c - the condor driver's pure parts: the job event
 * log (a sample written by HTCondor 23.9.6), condor_q/condor_history
 * -af:t lines, the mapping to job states, the submit description and the
 * classification of HTCondor's messages.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_error.h"
#include "mls_record.h"
#include "mls_site_condor.h"
#include "tap.h"

static const char log_text[] =
    "035 (012.-01.000) 2026-12-07 12:53:42 Cluster submitted from host: <127.0.0.1:40520>\n"
    "...\n"
    "000 (012.000.000) 2026-12-07 12:53:42 Job submitted from host: <127.0.0.1:40520?addrs=127.0.0.1-40520>\n"
    "...\n"
    "000 (012.001.000) 2026-12-07 12:53:42 Job submitted from host: <127.0.0.1:40520>\n"
    "...\n"
    "001 (012.000.000) 2026-12-07 12:53:45 Job executing on host: <127.0.0.1:40520>\n"
    "\tSlotName: slot1_1@vm\n"
    "\tCpus = 1\n"
    "...\n"
    "006 (012.000.000) 2026-12-07 12:53:45 Image size of job updated: 150\n"
    "\t5  -  MemoryUsage of job (MB)\n"
    "...\n"
    "005 (012.000.000) 2026-12-07 12:53:46 Job terminated.\n"
    "\t(1) Normal termination (return value 3)\n"
    "\t\tUsr 0 00:00:00, Sys 0 00:00:00  -  Run Remote Usage\n"
    "...\n"
    "012 (012.001.000) 2026-12-07 12:53:47 Job was held.\n"
    "\tvia condor_hold (by user condoruser)\n"
    "\tCode 1 Subcode 0\n"
    "...\n"
    "009 (012.001.000) 2026-12-07 12:53:50 Job was aborted.\n"
    "\tvia condor_rm (by user condoruser)\n"
    "...\n"
    "000 (012.002.000) 2026-12-07 12:53:51 Job submitted from host: <127.0.0.1:40520>\n"
    "...\n"
    "001 (012.002.000) 2026-12-07 12:53:52 Job executing on host: <127.0.0.1:40520>\n"
    "...\n"
    "004 (012.002.000) 2026-12-07 12:53:53 Job was evicted.\n"
    "\t(0) Job was not checkpointed.\n"
    "...\n"
    "001 (012.002.000) 2026-12-07 12:53:54 Job executing on host: <127.0.0.1:40520>\n"
    "...\n"
    "005 (012.002.000) 2026-12-07 12:53:5";	/* still being written */

static void
test_log(void)
{
	json_t *view = json_object(), *e;
	size_t used = 0, len = strlen(log_text);

	ok(mls_condor_parse_log(log_text, len, view, &used) == 0, "log parses");
	ok(used < len && strncmp(log_text + used, "005 (012.002", 12) == 0,
	    "a torn last event is left for the next read");
	e = json_object_get(view, "12.0");
	ok(mls_record_int(e, "status", 0) == MLS_CONDOR_COMPLETED &&
	    mls_record_int(e, "exit", -1) == 3, "terminated, return value 3");
	e = json_object_get(view, "12.1");
	ok(mls_record_int(e, "status", 0) == MLS_CONDOR_REMOVED &&
	    mls_record_int(e, "was_held", 0) == 1 &&
	    strcmp(mls_record_str(e, "reason"),
	    "via condor_hold (by user condoruser)") == 0,
	    "removed while held keeps the hold reason");
	e = json_object_get(view, "12.2");
	ok(mls_record_int(e, "status", 0) == MLS_CONDOR_RUNNING,
	    "evicted, then running again: running once");
	/* the rest, appended: read from where the first read stopped */
	{
		static const char rest[] = "005 (012.002.000) 2026-12-07 12:53:58 Job terminated.\n"
		    "\t(0) Abnormal termination (signal 9)\n...\n";
		size_t u2 = 0;

		ok(mls_condor_parse_log(rest, strlen(rest), view, &u2) == 0 &&
		    u2 == strlen(rest), "the rest parses");
		e = json_object_get(view, "12.2");
		ok(mls_record_int(e, "status", 0) == MLS_CONDOR_COMPLETED &&
		    mls_record_int(e, "signal", 0) == 9, "killed by signal 9");
	}
	ok(mls_condor_parse_log("garbage\n...\n", 12, view, &used) ==
	    MLS_EPROTO, "a malformed event is MLS_EPROTO");
	json_decref(view);
}

static void
test_af(void)
{
	static const char text[] =
	    "7\t0\t2\t1796648025\tundefined\tundefined\tundefined\tundefined\tundefined\n"
	    "7\t1\t5\t1796648000\tundefined\tfalse\tundefined\t1\tvia condor_hold (by user alice)\n"
	    "7\t2\t4\t1796648030\t0\tfalse\tundefined\tundefined\tundefined\n";
	json_t *view = json_object(), *e;

	ok(mls_condor_parse_af(text, strlen(text), view) == 0, "-af:t parses");
	ok(mls_record_int(json_object_get(view, "7.0"), "status", 0) == 2,
	    "7.0 running");
	e = json_object_get(view, "7.1");
	ok(mls_record_int(e, "status", 0) == 5 &&
	    mls_record_num(e, "since", 0) == 1796648000.0 &&
	    strcmp(mls_record_str(e, "reason"),
	    "via condor_hold (by user alice)") == 0, "7.1 held, with reason");
	ok(mls_record_int(json_object_get(view, "7.2"), "exit", -1) == 0,
	    "7.2 completed, exit 0");
	ok(mls_condor_parse_af("x\ty\n", 4, view) == MLS_EPROTO,
	    "a bad line is MLS_EPROTO");
	json_decref(view);
}

static const char *
apply(const char *entry, double hold_timeout, double now, int *remove)
{
	static char out[512];
	json_t *job = json_pack("{s:s,s:s}", "id", "j-1", "site_id", "7.1");
	json_t *e = entry != NULL ? json_loads(entry, 0, NULL) : NULL;

	out[0] = '\0';
	if (mls_condor_apply(job, e, "osg", hold_timeout, now, remove) == 0)
		snprintf(out, sizeof(out), "%s|%s",
		    mls_record_str(job, "state"),
		    mls_record_str(job, "reason") ? mls_record_str(job,
		    "reason") : "");
	json_decref(job);
	json_decref(e);
	return out;
}

static void
test_apply(void)
{
	int rm;

	ok(strcmp(apply("{\"status\":1}", 600, 0, &rm), "queued|") == 0 &&
	    !rm, "idle: queued");
	ok(strcmp(apply("{\"status\":2}", 600, 0, &rm), "running|") == 0,
	    "running");
	ok(strcmp(apply("{\"status\":5,\"since\":1000,\"reason\":\"r\"}", 600,
	    1100, &rm), "queued|held: r") == 0 && !rm, "held: reported");
	ok(strcmp(apply("{\"status\":5,\"since\":1000,\"reason\":\"r\"}", 600,
	    1601, &rm), "failed|held for more than 600s: r") == 0 && rm,
	    "held past hold_timeout: failed, removed");
	ok(strncmp(apply("{\"status\":5,\"since\":1000,\"code\":46,"
	    "\"reason\":\"The job exceeded allowed job duration of 43\"}", 600,
	    1001, &rm), "failed|time limit reached", 25) == 0 && rm,
	    "a time-limit hold: failed at once");
	ok(strncmp(apply("{\"status\":3,\"reason\":\"via condor_rm\"}", 600, 0,
	    &rm), "cancelled|", 10) == 0, "removed: cancelled");
	ok(strcmp(apply("{\"status\":3,\"was_held\":1,\"reason\":\"r\"}", 600,
	    0, &rm), "failed|held, then removed: r") == 0,
	    "removed while held: failed");
	ok(strcmp(apply("{\"status\":4,\"exit\":3}", 600, 0, &rm),
	    "lost|ended without a result from the job wrapper (exit 3)") == 0,
	    "completed without a result: lost");
	ok(strncmp(apply(NULL, 600, 0, &rm), "lost|HTCondor on site 'osg'",
	    27) == 0, "unknown: lost");
}

static void
test_desc(void)
{
	struct mls_condor_batch b = { .tag = "b0-j-1", .wrapper = "/d/bin/w.sh",
	    .store_url = "file:///s/it's/", .items = "/d/b0-j-1.items",
	    .log = "/d/b0-j-1.log", .outdir = "/d/out", .site = "osg",
	    .grace_s = 10 };
	struct mls_buf out = MLS_BUF_INIT;
	json_t *conf = json_pack("{s:s,s:s,s:s}", "requirements",
	    "OpSysMajorVer == 9", "extra", "+ProjectName = \"ml\"; getenv = true",
	    "accounting_group", "group_ml.alice");
	json_t *job = json_pack("{s:s,s:s,s:{s:i,s:i,s:i,s:i}}", "id", "j-1",
	    "campaign", "c-\"x\"", "resources", "cpus", 4, "gpus", 1, "mem_mb",
	    2048, "time_s", 60);

	ok(mls_condor_submit_desc(conf, job, &b, &out) == 0, "description");
	ok(strstr(out.buf, "universe = vanilla\n") != NULL, "vanilla");
	ok(strstr(out.buf, "arguments = \"'file:///s/it''s/' '$(MlsId)'\"\n") !=
	    NULL, "arguments quoted in the new syntax");
	ok(strstr(out.buf, "request_cpus = 4\nrequest_gpus = 1\n"
	    "request_memory = 2048\nallowed_job_duration = 100\n") != NULL,
	    "resources");
	ok(strstr(out.buf, "+MlsCampaign = \"c-\\\"x\\\"\"\n") != NULL,
	    "campaign as a ClassAd string");
	ok(strstr(out.buf, "requirements = OpSysMajorVer == 9\n") != NULL &&
	    strstr(out.buf, "accounting_group = group_ml.alice\n") != NULL,
	    "requirements, accounting_group");
	ok(strstr(out.buf, "+ProjectName = \"ml\"\ngetenv = true\n") != NULL,
	    "extra lines");
	ok(strstr(out.buf, "queue MlsId from /d/b0-j-1.items\n") != NULL,
	    "queue from itemdata, last");
	mls_buf_reset(&out);
	json_object_set_new(job, "image", json_string("docker://python:3.12"));
	ok(mls_condor_submit_desc(conf, job, &b, &out) == 0 &&
	    strstr(out.buf, "universe = container\ncontainer_image = "
	    "docker://python:3.12\n") != NULL, "an image: container universe");
	mls_buf_reset(&out);
	json_object_set_new(conf, "extra", json_string("queue 3"));
	ok(mls_condor_submit_desc(conf, job, &b, &out) == MLS_ECONFIG,
	    "a queue line in extra is refused");
	mls_buf_release(&out);
	json_decref(conf);
	json_decref(job);
}

static void
test_misc(void)
{
	ok(mls_condor_parse_terse("12.0 - 12.19\n") == 12, "terse: cluster");
	ok(mls_condor_parse_terse("ERROR\n") == -1, "terse: none");
	ok(mls_condor_classify("ERROR: Can't find address of schedd x") ==
	    MLS_ENET, "no schedd: ENET");
	ok(mls_condor_classify("AUTHENTICATE:1003:Failed to authenticate "
	    "with any method") == MLS_EAUTH, "token refused: EAUTH");
	ok(mls_condor_classify("ERROR: on Line 3 of submit file: bad") ==
	    MLS_EINPUT, "a bad description: EINPUT");
}

int
main(void)
{
	test_log();
	test_af();
	test_apply();
	test_desc();
	test_misc();
	return done_testing();
}
