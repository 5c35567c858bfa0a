/*
 * fuzz_condor.c - the HTCondor site's readers of HTCondor's output: the
 * job event log, condor_q/condor_history -af:t lines, condor_submit
 * -terse and the classification of its messages; each entry read is
 * applied to a job record with mls_condor_apply (issue 16).
 */
#include "fuzz_util.h"

#include "mls_record.h"
#include "mls_site_condor.h"

static void
apply_all(const json_t *view)
{
	const char *key;
	json_t *e, *job;
	int remove;

	json_object_foreach((json_t *)view, key, e) {
		job = json_pack("{s:s, s:s, s:s, s:s}", "kind", "job", "id",
		    "j-fuzz", "site", "osg", "state", "queued");
		if (job == NULL)
			abort();
		remove = 0;
		(void)mls_condor_apply(job, e, "osg", 3600, 1.8e9, &remove);
		json_decref(job);
	}
	(void)key;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	json_t *view;
	size_t used = 0;
	char *s;

	if ((view = json_object()) == NULL)
		abort();
	if (mls_condor_parse_log(text, size, view, &used) == 0 && used > size)
		abort();
	apply_all(view);
	json_decref(view);

	if ((view = json_object()) == NULL)
		abort();
	(void)mls_condor_parse_af(text, size, view);
	apply_all(view);
	json_decref(view);

	s = fuzz_str(data, size);
	(void)mls_condor_parse_terse(s);
	(void)mls_condor_classify(s);
	free(s);
	return 0;
}
