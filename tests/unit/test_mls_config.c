#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mls_buf.h"
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

	/* an empty path is a config error naming the file, the line and the key */
	{
		static const char *empty[][2] = {
			{ "[mls]\nsite = a\ndata_home =\n", "data_home" },
			{ "[store]\nurl = file:///x\n\ntoken_file = \n", "token_file" },
			{ "[store]\nca_file=\n", "ca_file" },
			{ "[site \"s\"]\ntype = slurm\nworkdir =\n", "workdir" },
		};
		static const int line[] = { 3, 4, 2, 3 };
		char want[64];

		for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
			path = write_tmp(empty[i][0]);
			snprintf(want, sizeof(want), ":%d: '%s' is an empty path",
			    line[i], empty[i][1]);
			ok(mls_config_load_file(&cfg, path) == MLS_ECONFIG &&
			    strncmp(mls_error_last(), path, strlen(path)) == 0 &&
			    strstr(mls_error_last(), want) != NULL,
			    "empty %s: %s", empty[i][1], mls_error_last());
			mls_config_release(&cfg);
			unlink(path);
			free(path);
		}
	}

	/* a config over 1 MiB, or endless, is refused naming the file */
	{
		char *big = malloc((1 << 20) + 64);

		memset(big, '#', (1 << 20) + 63);
		big[(1 << 20) + 63] = '\0';
		path = write_tmp(big);
		free(big);
		ok(mls_config_load_file(&cfg, path) == MLS_ECONFIG &&
		    strstr(mls_error_last(), path) != NULL &&
		    strstr(mls_error_last(), "1 MiB") != NULL,
		    "over 1 MiB: %s", mls_error_last());
		mls_config_release(&cfg);
		unlink(path);
		free(path);
		ok(mls_config_load_file(&cfg, "/dev/zero") == MLS_ECONFIG &&
		    strstr(mls_error_last(), "/dev/zero") != NULL,
		    "/dev/zero: %s", mls_error_last());
		mls_config_release(&cfg);
	}

	/* lines over inih's 200 characters are read whole, lines still counted */
	{
		struct mls_buf t = MLS_BUF_INIT;
		char longv[1001];
		const char *v;

		memset(longv, 'v', 1000);
		longv[1000] = '\0';
		mls_buf_addf(&t, "# %s\n[site \"s\"]\ntype = slurm\n"
		    "\tpartition = %s ; a comment\n; %s\nqos: q%s\nbroken\n",
		    longv, longv, longv, longv);
		path = write_tmp(t.buf);
		ok(mls_config_load_file(&cfg, path) == MLS_ECONFIG &&
		    strstr(mls_error_last(), ":7: syntax error") != NULL,
		    "a syntax error after long lines names its line: %.80s",
		    mls_error_last());
		mls_config_release(&cfg);
		unlink(path);
		free(path);
		t.len -= strlen("broken\n");
		t.buf[t.len] = '\0';
		path = write_tmp(t.buf);
		ok(mls_config_load_file(&cfg, path) == 0 &&
		    (v = mls_config_get(&cfg, "site", "s", "partition")) != NULL &&
		    strcmp(v, longv) == 0 &&
		    (v = mls_config_get(&cfg, "site", "s", "qos")) != NULL &&
		    strlen(v) == 1001 && *v == 'q',
		    "long lines: %.60s", mls_error_last());
		mls_config_release(&cfg);
		unlink(path);
		free(path);
		mls_buf_release(&t);
	}

	setenv("MLS_DATA_HOME", "/tmp/mls-test-data-home", 1);
	ok(mls_config_load_file(&cfg, NULL) == 0 && mls_config_data_dir(&cfg, "a/b", &dir) == 0,
	    "data dir created");
	ok(access(dir, W_OK) == 0, "it exists: %s", dir);
	free(dir);
	mls_config_release(&cfg);
	system("rm -rf /tmp/mls-test-data-home");
	return done_testing();
}
