#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mls_config.h"
#include "mls_error.h"
#include "tap.h"

static char *
write_tmp(const char *text)
{
	char *path = strdup("/tmp/mls-config-XXXXXX");
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");

	fputs(text, fp);
	fclose(fp);
	return path;
}

int
main(void)
{
	struct mls_config cfg;
	json_t *site = NULL, *names;
	char *path, *dir;
	int rc;

	unsetenv("MLS_SITE");
	unsetenv("MLS_STORE");
	unsetenv("MLS_DATA_HOME");
	setenv("XDG_DATA_HOME", "/tmp/xdg-data", 1);
	rc = mls_config_load_file(&cfg, NULL);
	ok(rc == 0, "defaults without a file");
	ok(strcmp(cfg.data_home, "/tmp/xdg-data/mls") == 0, "data home from XDG: %s",
	    cfg.data_home);
	ok(strcmp(cfg.default_site, "local") == 0, "default site local");
	ok(strcmp(cfg.store_url, "file:///tmp/xdg-data/mls/store") == 0,
	    "embedded store: %s", cfg.store_url);
	ok(mls_config_site(&cfg, "local", &site) == 0 &&
	    strcmp(json_string_value(json_object_get(site, "type")), "local") == 0,
	    "local site needs no config");
	json_decref(site);
	ok(mls_config_site(&cfg, "nowhere", &site) == MLS_ECONFIG && site == NULL,
	    "unknown site: %s", mls_error_last());
	ok(strstr(mls_error_last(), "site 'nowhere'") != NULL, "message names it");
	mls_config_release(&cfg);

	path = write_tmp("[mls]\n\tsite = hpc ; comment\n[store]\n  url = https://s.example/mls/\n"
	    "[site \"hpc\"]\n\ttype = slurm\n\tpartition = gpu\n[site \"bad\"]\n\tmode = cli\n");
	setenv("HOME", "/home/u", 1);
	ok(mls_config_load_file(&cfg, path) == 0, "file parsed");
	ok(strcmp(cfg.default_site, "hpc") == 0, "[mls] site read");
	ok(strcmp(cfg.store_url, "https://s.example/mls/") == 0, "[store] url read");
	ok(strcmp(mls_config_get(&cfg, "site", "hpc", "partition"), "gpu") == 0,
	    "subsection value");
	ok(mls_config_site(&cfg, "hpc", &site) == 0 &&
	    strcmp(json_string_value(json_object_get(site, "name")), "hpc") == 0,
	    "configured site");
	json_decref(site);
	ok(mls_config_site(&cfg, "bad", &site) == MLS_ECONFIG &&
	    strstr(mls_error_last(), "field 'type': missing") != NULL,
	    "site without type: %s", mls_error_last());
	names = mls_config_site_names(&cfg);
	ok(json_array_size(names) == 3, "site names listed");
	json_decref(names);
	mls_config_release(&cfg);
	setenv("MLS_SITE", "other", 1);
	setenv("MLS_STORE", "~/st", 1);
	ok(mls_config_load_file(&cfg, path) == 0 && strcmp(cfg.default_site, "other") == 0,
	    "MLS_SITE overrides");
	ok(strcmp(cfg.store_url, "/home/u/st") == 0, "MLS_STORE expanded: %s", cfg.store_url);
	mls_config_release(&cfg);
	unlink(path);
	free(path);

	path = write_tmp("[mls]\nsite = a\nthis line is broken\n");
	rc = mls_config_load_file(&cfg, path);
	ok(rc == MLS_ECONFIG, "syntax error refused");
	ok(strstr(mls_error_last(), ":3:") != NULL, "message names the line: %s",
	    mls_error_last());
	mls_config_release(&cfg);
	unlink(path);
	free(path);

	path = write_tmp("orphan = 1\n");
	ok(mls_config_load_file(&cfg, path) == MLS_ECONFIG &&
	    strstr(mls_error_last(), "outside of any section") != NULL,
	    "key outside a section: %s", mls_error_last());
	mls_config_release(&cfg);
	unlink(path);
	free(path);

	setenv("MLS_DATA_HOME", "/tmp/mls-test-data-home", 1);
	ok(mls_config_load_file(&cfg, NULL) == 0 && mls_config_data_dir(&cfg, "a/b", &dir) == 0,
	    "data dir created");
	ok(access(dir, W_OK) == 0, "it exists: %s", dir);
	free(dir);
	mls_config_release(&cfg);
	system("rm -rf /tmp/mls-test-data-home");
	return done_testing();
}
