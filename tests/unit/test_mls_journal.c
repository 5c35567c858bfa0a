#include "config.h"

#include "mls_journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mls_error.h"
#include "tap.h"

static int
collect(json_t *ev, void *arg)
{
	json_array_append(arg, ev);
	return 0;
}

static int
stop_at_two(json_t *ev, void *arg)
{
	(void)arg;
	return json_integer_value(json_object_get(ev, "n")) == 2 ? 7 : 0;
}

int
main(void)
{
	char dir[] = "/tmp/mls-journal-XXXXXX", path[256];
	struct mls_journal *j = NULL;
	json_t *ev, *all;
	FILE *fp;
	int rc, i;

	mkdtemp(dir);
	snprintf(path, sizeof(path), "%s/sub/journal.jsonl", dir);
	ok(mls_journal_open(&j, path) == 0 && j != NULL, "open creates the directory");
	for (i = 0; i < 3; i++) {
		ev = json_pack("{s:s,s:i}", "ev", "x", "n", i);
		ok(mls_journal_append(j, ev) == 0, "append %d", i);
		json_decref(ev);
	}
	all = json_array();
	mls_journal_replay(path, collect, all);
	ok(json_array_size(all) == 0, "nothing on disk before sync (group commit)");
	json_decref(all);
	ok(mls_journal_sync(j) == 0, "sync");
	ok(mls_journal_count(j) == 3, "count");
	ok(mls_journal_close(j) == 0, "close");

	/* a torn last line: the writer died mid-write */
	fp = fopen(path, "a");
	fputs("{\"ev\":\"x\",\"n\":", fp);
	fclose(fp);
	all = json_array();
	rc = mls_journal_replay(path, collect, all);
	ok(rc == 0 && json_array_size(all) == 3, "torn last line ignored");
	ok(json_object_get(json_array_get(all, 0), "t") != NULL, "events are timestamped");
	json_decref(all);
	ok(mls_journal_replay(path, stop_at_two, NULL) == 7, "callback stops the replay");

	/* a reopened journal appends after the torn line? it must not merge */
	fp = fopen(path, "w");
	fputs("{\"ev\":\"a\"}\nnot json\n{\"ev\":\"b\"}\n", fp);
	fclose(fp);
	all = json_array();
	rc = mls_journal_replay(path, collect, all);
	ok(rc == MLS_EINPUT && strstr(mls_error_last(), ":2:") != NULL,
	    "a bad line in the middle is an error naming it: %s", mls_error_last());
	json_decref(all);
	ok(mls_journal_replay("/nonexistent/j", collect, NULL) == MLS_ENOTFOUND,
	    "missing journal");
	ok(mls_journal_open(&j, "/proc/forbidden/j") < 0 && j == NULL, "open failure");
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	system(path);
	return done_testing();
}
