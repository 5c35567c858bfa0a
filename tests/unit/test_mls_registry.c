#include "config.h"

#include "mls_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mls_config.h"
#include "mls_error.h"
#include "mls_record.h"
#include "mls_store.h"
#include "tap.h"

#define CAMP	"c-01m0000000aaaaaaaaaaaaaaaa"
#define BROKEN	"c-01m0000000bbbbbbbbbbbbbbbb"
#define ENS	"e-01m0000002eeeeeeeeeeeeeeee"
#define T0	"j-01m0000001tttttttt00000000"
#define T1	"j-01m0000001tttttttt00000001"
#define M0	"j-01m0000003mmmmmmmm00000000"

static void
write_file(const char *dir, const char *sub, const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "mkdir -p %s/campaigns/%s", dir, sub);
	system(path);
	snprintf(path, sizeof(path), "%s/campaigns/%s/journal.jsonl", dir, sub);
	fp = fopen(path, "w");
	fputs(text, fp);
	fclose(fp);
}

/* A campaign and an ensemble whose trial and member ids only their journals hold. */
static void
test_lookup(struct mls_config *cfg, const char *dir)
{
	struct mls_registry_match m = { (char *)"poison", MLS_ID_JOB, NULL };
	json_t *rec = NULL;
	char *id = NULL;
	int rc;

	write_file(dir, CAMP,
	    "{\"ev\":\"start\",\"spec\":{\"kind\":\"campaign\",\"id\":\"" CAMP "\","
	    "\"command\":[\"true\"],\"sites\":[{\"name\":\"local\"}]}}\n"
	    "{\"ev\":\"submit\",\"number\":0,\"job\":{\"kind\":\"trial\",\"id\":\"" T0 "\","
	    "\"site\":\"local\",\"number\":0}}\n"
	    "{\"ev\":\"submit\",\"number\":1,\"job\":{\"kind\":\"trial\",\"id\":\"" T1 "\","
	    "\"site\":\"local\",\"number\":1}}\n");
	write_file(dir, ENS,
	    "{\"ev\":\"start\",\"spec\":{\"kind\":\"ensemble\",\"id\":\"" ENS "\",\"members\":1,"
	    "\"command\":[\"true\"],\"sites\":[{\"name\":\"local\"}]}}\n"
	    "{\"ev\":\"submit\",\"number\":0,\"job\":{\"kind\":\"member\",\"id\":\"" M0 "\","
	    "\"site\":\"local\",\"number\":0}}\n");
	write_file(dir, BROKEN, "{\"ev\":\"start\",\"spec\":{}}\n");

	rc = mls_registry_lookup(cfg, MLS_ID_ANY, T1, &m);
	ok(rc == 0 && m.kind == MLS_ID_JOB && strcmp(m.id, T1) == 0 &&
	    mls_record_int(m.job, "number", -1) == 1,
	    "a trial id resolves from its campaign's journal, with its record");
	mls_registry_match_release(&m);
	ok(m.id == NULL && m.job == NULL, "release clears");
	rc = mls_registry_lookup(cfg, MLS_ID_JOB, T0 + 2, &m);
	ok(rc == 0 && strcmp(m.id, T0) == 0, "without its j-");
	mls_registry_match_release(&m);
	rc = mls_registry_lookup(cfg, MLS_ID_ANY, "j-01m0000003", &m);
	ok(rc == 0 && strcmp(m.id, M0) == 0 &&
	    strcmp(mls_record_str(m.job, "kind"), "member") == 0,
	    "a member by a prefix: %s", rc ? mls_error_last() : m.id);
	mls_registry_match_release(&m);
	ok(mls_registry_get(cfg, T1 + 2, &rec) == 0 &&
	    strcmp(mls_record_id(rec), T1) == 0, "mls_registry_get finds trials too");
	json_decref(rec);

	m.id = (char *)"poison";
	rc = mls_registry_lookup(cfg, MLS_ID_ANY, "01m0000001", &m);
	ok(rc == MLS_EAMBIG && m.id == NULL, "two trials: ambiguous");
	ok(strstr(mls_error_last(), "'01m0000001': ambiguous id prefix (2 matches: "
	    T1 ", " T0 ")") != NULL, "candidates named, newest first: %s",
	    mls_error_last());
	rc = mls_registry_lookup(cfg, MLS_ID_ANY, "01m", &m);
	ok(rc == MLS_EAMBIG && strstr(mls_error_last(), "'01m': ambiguous id prefix "
	    "(6 matches: " M0 ", " ENS ", " T1 ", " T0 ", " BROKEN ", ...)") != NULL,
	    "across kinds, newest first, a broken journal skipped: %s",
	    mls_error_last());

	rc = mls_registry_lookup(cfg, MLS_ID_ANY, "01m0000000a", &m);
	ok(rc == 0 && m.kind == MLS_ID_CAMPAIGN && strcmp(m.id, CAMP) == 0 &&
	    m.job == NULL, "a campaign prefix without c-");
	mls_registry_match_release(&m);
	rc = mls_registry_lookup(cfg, MLS_ID_ANY, "c-01m", &m);
	ok(rc == MLS_EAMBIG && strstr(mls_error_last(), "2 matches") != NULL,
	    "c- narrows to campaigns: %s", mls_error_last());
	rc = mls_registry_lookup(cfg, MLS_ID_ANY, "e-01m", &m);
	ok(rc == 0 && m.kind == MLS_ID_ENSEMBLE && strcmp(m.id, ENS) == 0,
	    "e- narrows to ensembles");
	mls_registry_match_release(&m);
	rc = mls_registry_lookup(cfg, MLS_ID_ANY, "c-01m0000001", &m);
	ok(rc == MLS_ENOTFOUND && strcmp(mls_error_last(),
	    "'c-01m0000001': no such campaign") == 0, "%s", mls_error_last());
	rc = mls_registry_lookup(cfg, MLS_ID_JOB, "c-01m0000000a", &m);
	ok(rc == MLS_ENOTFOUND && strcmp(mls_error_last(),
	    "'c-01m0000000a': no such job") == 0, "a campaign where a job is wanted: %s",
	    mls_error_last());
	rc = mls_registry_lookup(cfg, MLS_ID_ANY, "zzzz", &m);
	ok(rc == MLS_ENOTFOUND && strcmp(mls_error_last(),
	    "'zzzz': no such job, campaign or ensemble") == 0, "%s", mls_error_last());
	ok(mls_registry_lookup(cfg, MLS_ID_ANY, "../x", &m) == MLS_EINPUT,
	    "not an id");
	ok(mls_registry_resolve(cfg, "campaigns", "01m0000000a", &id) == 0 &&
	    strcmp(id, CAMP) == 0, "resolve among campaigns without c-");
	free(id);

	/* refreshed by mls-status: in the registry too; the registry's copy wins */
	rec = json_pack("{s:s,s:s,s:s,s:s}", "kind", "trial", "id", T0, "site", "local",
	    "state", "succeeded");
	ok(mls_registry_put(cfg, rec) == 0, "put a trial");
	json_decref(rec);
	rc = mls_registry_lookup(cfg, MLS_ID_JOB, "j-01m0000001tttttttt00000000", &m);
	ok(rc == 0 && strcmp(mls_record_str(m.job, "state"), "succeeded") == 0,
	    "a trial in both places: one match, the registry's record");
	mls_registry_match_release(&m);
	rc = mls_registry_lookup(cfg, MLS_ID_JOB, "01m0000001tttttttt0000000", &m);
	ok(rc == MLS_EAMBIG && strstr(mls_error_last(), "(2 matches") != NULL,
	    "counted once: %s", mls_error_last());
	rc = mls_registry_lookup(cfg, MLS_ID_ANY, "j-", &m);
	ok(rc == MLS_EAMBIG && strstr(mls_error_last(), "(6 matches") != NULL,
	    "j-: every job, trial and member: %s", mls_error_last());
}

static void
test_sandbox(struct mls_config *cfg)
{
	static const char *const hex[] = {
		"abcd0000000000000000000000000000000000000000000000000000000000aa",
		"abcd1111111111111111111111111111111111111111111111111111111111bb",
	};
	struct mls_store *st = NULL;
	char key[128], *id = NULL;
	int rc;

	ok(mls_store_open(&st, cfg, NULL) == 0, "open the store");
	for (size_t i = 0; i < 2; i++) {
		snprintf(key, sizeof(key), "sandboxes/sha256/ab/%s.tar.zst", hex[i]);
		mls_store_put_buf(st, key, "x", 1);
	}
	ok(mls_sandbox_resolve(st, "abcd1", &id) == 0 && strcmp(id + 7, hex[1]) == 0,
	    "a sandbox prefix without sha256:");
	free(id);
	id = NULL;
	ok(mls_sandbox_resolve(st, "sha256:abcd0", &id) == 0 &&
	    strcmp(id + 7, hex[0]) == 0, "with sha256:");
	free(id);
	id = NULL;
	rc = mls_sandbox_resolve(st, "abcd", &id);
	ok(rc == MLS_EAMBIG && id == NULL && strstr(mls_error_last(), hex[0]) &&
	    strstr(mls_error_last(), hex[1]), "ambiguous: the candidates named: %s",
	    mls_error_last());
	ok(mls_sandbox_resolve(st, "abce", &id) == MLS_ENOTFOUND, "not in the store");
	mls_store_free(st);
}

int
main(void)
{
	char dir[] = "/tmp/mls-registry-XXXXXX", cmd[256];
	struct mls_config cfg;
	json_t *rec, *arr;
	char *id = NULL;
	int rc;

	mkdtemp(dir);
	setenv("MLS_DATA_HOME", dir, 1);
	mls_config_load_file(&cfg, NULL);
	rec = json_pack("{s:s,s:s,s:s}", "kind", "job", "id", "j-01abc", "site", "local");
	ok(mls_registry_put(&cfg, rec) == 0, "put");
	json_object_set_new(rec, "id", json_string("j-01abd"));
	ok(mls_registry_put(&cfg, rec) == 0, "put a second");
	json_object_set_new(rec, "id", json_string("j-02xyz"));
	ok(mls_registry_put(&cfg, rec) == 0, "put a third");
	json_object_set_new(rec, "id", json_string("../evil"));
	ok(mls_registry_put(&cfg, rec) == MLS_EINPUT, "an id with a slash is refused");
	json_decref(rec);

	ok(mls_registry_resolve(&cfg, "registry/jobs", "j-02", &id) == 0 &&
	    strcmp(id, "j-02xyz") == 0, "unique prefix resolves");
	free(id);
	ok(mls_registry_resolve(&cfg, "registry/jobs", "02x", &id) == 0 &&
	    strcmp(id, "j-02xyz") == 0, "the type prefix may be left out");
	free(id);
	id = NULL;
	rc = mls_registry_resolve(&cfg, "registry/jobs", "j-01ab", &id);
	ok(rc == MLS_EAMBIG && id == NULL, "ambiguous prefix: %s", mls_error_last());
	ok(strstr(mls_error_last(), "j-01abc") && strstr(mls_error_last(), "j-01abd"),
	    "candidates named");
	ok(mls_registry_resolve(&cfg, "registry/jobs", "j-01abc", &id) == 0, "exact id wins");
	free(id);
	ok(mls_registry_resolve(&cfg, "registry/jobs", "j-9", &id) == MLS_ENOTFOUND,
	    "no match: %s", mls_error_last());
	ok(mls_registry_resolve(&cfg, "registry/jobs", "a/b", &id) == MLS_EINPUT,
	    "bad prefix refused");
	ok(mls_registry_get(&cfg, "j-02", &rec) == 0 &&
	    strcmp(mls_record_str(rec, "site"), "local") == 0, "get loads the record");
	json_decref(rec);
	ok(mls_registry_recent(&cfg, 2, &arr) == 0 && json_array_size(arr) == 2 &&
	    strcmp(mls_record_id(json_array_get(arr, 0)), "j-02xyz") == 0,
	    "recent: newest first, capped");
	json_decref(arr);
	ok(mls_write_atomic("/nonexistent-dir/x", "a", 1, 1) == MLS_EIO, "atomic write failure");
	test_lookup(&cfg, dir);
	test_sandbox(&cfg);
	mls_config_release(&cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	system(cmd);
	return done_testing();
}
