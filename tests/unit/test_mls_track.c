#include "config.h"

#include "mls_track.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mls_config.h"
#include "mls_error.h"
#include "mls_log.h"
#include "mls_record.h"
#include "mls_site.h"
#include "mls_store.h"
#include "tap.h"

static int logged;
static char last_msg[256];

static void
on_log(int level, const char *msg, void *arg)
{
	(void)arg;
	if (level == MLS_LOG_WARN) {
		logged++;
		snprintf(last_msg, sizeof(last_msg), "%s", msg);
	}
}

static json_t *
job(const char *site, const char *cmd)
{
	json_t *argv = json_pack("[s,s,s]", "sh", "-c", cmd), *params = json_object();
	json_t *j = NULL;

	mls_job_new(&j, site, NULL, NULL, argv, params, NULL, NULL, NULL);
	json_decref(argv);
	json_decref(params);
	return j;
}

int
main(void)
{
	char dir[] = "/tmp/mls-track-XXXXXX", cmd[256];
	struct mls_config cfg;
	struct mls_store *st = NULL;
	struct mls_tracker *t = NULL;
	struct mls_site *s = NULL, *s2 = NULL;
	json_t *jobs = json_array(), *batch[3];
	size_t c[7];
	int rc, i;

	/* the log hook: nothing without a handler, then the handler */
	mls_warn("not delivered");
	mls_log_set_handler(on_log, NULL);
	mls_warn("site '%s': paused", "x");
	mls_debug("debug is not a warning");
	ok(logged == 1 && strcmp(last_msg, "site 'x': paused") == 0,
	    "log handler gets formatted warnings: %s", last_msg);
	mls_log_set_handler(NULL, NULL);

	mkdtemp(dir);
	snprintf(cmd, sizeof(cmd), "%s/mls-runner", getenv("top_builddir") ?
	    getenv("top_builddir") : ".");
	setenv("MLS_RUNNER", cmd, 1);	/* the build tree's runner */
	setenv("MLS_DATA_HOME", dir, 1);
	setenv("MLS_LOCAL_CPUS", "2", 1);
	unsetenv("MLS_STORE");
	unsetenv("MLS_SITE");
	ok(mls_config_load_file(&cfg, NULL) == 0, "config");
	ok(mls_store_open(&st, &cfg, NULL) == 0, "store");
	ok(mls_tracker_new(&t, &cfg, st) == 0, "tracker");
	ok(mls_tracker_site(t, "nowhere", &s) == MLS_ECONFIG && s == NULL,
	    "an unknown site: %s", mls_error_last());
	ok(mls_tracker_site(t, NULL, &s) == 0 && strcmp(s->name, "local") == 0,
	    "the default site is local");
	ok(mls_tracker_site(t, "local", &s2) == 0 && s2 == s, "sites are opened once");

	batch[0] = job("local", "exit 0");
	batch[1] = job("local", "exit 3");
	batch[2] = job("local", "sleep 30");
	ok(mls_site_submit(s, batch, 3) == 0, "submit three jobs: %s",
	    mls_error_last());
	for (i = 0; i < 3; i++)
		json_array_append_new(jobs, batch[i]);
	json_array_append_new(jobs, json_pack("{s:s,s:s}", "kind", "sandbox", "id",
	    "sha256:00"));
	/* poll until the two short jobs end */
	for (i = 0; i < 200; i++) {
		if ((rc = mls_tracker_poll(t, jobs)) < 0)
			break;
		mls_track_count(jobs, c);
		if (c[MLS_STATE_SUCCEEDED] + c[MLS_STATE_FAILED] == 2 &&
		    c[MLS_STATE_RUNNING] == 1)
			break;
		usleep(50 * 1000);
	}
	mls_track_count(jobs, c);
	ok(c[MLS_STATE_SUCCEEDED] == 1 && c[MLS_STATE_FAILED] == 1 &&
	    c[MLS_STATE_RUNNING] == 1, "one batch poll per cycle: succeeded %zu, "
	    "failed %zu, running %zu", c[MLS_STATE_SUCCEEDED], c[MLS_STATE_FAILED],
	    c[MLS_STATE_RUNNING]);
	ok(!mls_track_is_job(json_array_get(jobs, 3)) &&
	    mls_track_is_job(json_array_get(jobs, 0)), "only job-like records are polled");
	ok(mls_record_int(json_array_get(jobs, 1), "exit_code", -1) == 3,
	    "the failed job keeps its exit code");
	ok(mls_tracker_poll(t, jobs) == 0, "a poll with no change reports 0 changes");
	ok(mls_tracker_cancel(t, json_array_get(jobs, 2)) >= 0, "cancel the running job");
	for (i = 0; i < 300; i++) {
		mls_tracker_poll(t, jobs);
		if (mls_state_final(mls_state_parse(mls_record_str(json_array_get(jobs, 2),
		    "state"))))
			break;
		usleep(50 * 1000);
	}
	ok(strcmp(mls_record_str(json_array_get(jobs, 2), "state"), "cancelled") == 0,
	    "it ends cancelled");
	ok(mls_tracker_cancel(t, json_array_get(jobs, 0)) == 0,
	    "cancelling a finished job is a no-op");

	json_decref(jobs);
	mls_tracker_free(t);
	mls_tracker_free(NULL);
	mls_store_free(st);
	mls_config_release(&cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	system(cmd);
	return done_testing();
}
