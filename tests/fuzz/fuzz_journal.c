/*
 * fuzz_journal.c - journal replay: the input as a journal file read by
 * mls_journal_replay, and as a campaign's journal
 * (DATA/campaigns/ID/journal.jsonl) rebuilt by mls_campaign_load, the
 * path of mls-search --resume and mls-status (issue 16).
 */
#include "fuzz_util.h"

#include "mls_campaign.h"
#include "mls_config.h"
#include "mls_error.h"
#include "mls_journal.h"

/* the campaign of tests/fuzz/corpus/journal/campaign.jsonl */
#define ID	"c-01m99d92qeg2debwkxfxs6yxvc"

static struct mls_config cfg;
static char jpath[512];

static void
fuzz_release_cfg(void)
{
	mls_config_release(&cfg);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const vars[] = { "MLS_CONFIG", "MLS_SITE",
	    "MLS_STORE", "MLS_STORE_TOKEN_FILE", "MLS_STORE_CA_FILE",
	    "XDG_DATA_HOME", "XDG_CONFIG_HOME" };
	char dir[512];

	(void)argc; (void)argv;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	setenv("HOME", fuzz_tmpdir(), 1);
	setenv("MLS_DATA_HOME", fuzz_tmpdir(), 1);
	if (mls_config_load_file(&cfg, NULL) < 0)
		abort();
	snprintf(dir, sizeof(dir), "%s/campaigns/%s", fuzz_tmpdir(), ID);
	if (mls_mkdirs(dir, 0700) < 0)
		abort();
	snprintf(jpath, sizeof(jpath), "%s/journal.jsonl", dir);
	atexit(fuzz_release_cfg);
	return 0;
}

static int
each(json_t *ev, void *arg)
{
	size_t *n = arg;

	if (ev == NULL)
		abort();
	(*n)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *campaign = NULL, *trials = NULL;
	FILE *fp;
	size_t n = 0;

	if ((fp = fopen(jpath, "wb")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, fp) != size)
		abort();
	if (fclose(fp) != 0)
		abort();
	(void)mls_journal_replay(jpath, each, &n);
	if (mls_campaign_load(&cfg, ID, &campaign, &trials) == 0) {
		json_decref(campaign);
		json_decref(trials);
	} else if (getenv("FUZZ_DEBUG") != NULL) {
		fprintf(stderr, "mls_campaign_load: %s\n", mls_error_last());
	}
	return 0;
}
