/*
 * fuzz_slurm.c - the Slurm site's readers of Slurm's output: squeue and
 * sacct listings (cli transport), slurmrestd's job list and error bodies
 * (rest transport), sbatch's last line; each entry read is applied to a
 * job record with mls_slurm_apply (issue 16).
 */
#include "fuzz_util.h"

#include "mls_buf.h"
#include "mls_record.h"
#include "mls_site_slurm.h"
#include "mls_site_slurm_int.h"

static void
apply_all(const json_t *list)
{
	const char *key;
	json_t *e, *job;

	json_object_foreach((json_t *)list, key, e) {
		job = json_pack("{s:s, s:s, s:s, s:s}", "kind", "job", "id",
		    "j-fuzz", "site", "slurm", "state", "queued");
		if (job == NULL)
			abort();
		(void)mls_slurm_apply(job, e, "slurm");
		json_decref(job);
	}
	(void)key;
	if ((e = mls_slurm_names_of(list)) != NULL)
		json_decref(e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int (*const parsers[])(const char *, size_t, int, json_t **) = {
		mls_slurm_parse_squeue, mls_slurm_parse_sacct,
		mls_slurm_parse_rest_jobs,
	};
	const char *text = (const char *)data;
	struct mls_buf b = MLS_BUF_INIT;
	json_t *list;
	char *s;

	for (size_t i = 0; i < sizeof(parsers) / sizeof(parsers[0]); i++)
		for (int mls_only = 0; mls_only <= 1; mls_only++) {
			list = NULL;
			if (parsers[i](text, size, mls_only, &list) == 0) {
				if (!json_is_object(list))
					abort();
				apply_all(list);
				json_decref(list);
			}
		}
	mls_slurm_rest_message(text, size, &b);
	(void)mls_slurm_rest_has_errors(text, size);
	s = fuzz_str(data, size);
	mls_slurm_last_line(s, &b);
	mls_slurm_rtrim(&b);
	mls_buf_release(&b);
	free(s);
	return 0;
}
