#include "config.h"

#include "mls_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mls_config.h"
#include "mls_error.h"
#include "mls_record.h"
#include "tap.h"

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
	mls_config_release(&cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	system(cmd);
	return done_testing();
}
