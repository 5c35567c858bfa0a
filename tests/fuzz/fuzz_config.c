/*
 * fuzz_config.c - the configuration file reader: the input is written to
 * a file and read by mls_config_load_file; then every site it names is
 * asked for with mls_config_site (issue 16).  The environment is cleared
 * of MLS_* and HOME points into the target's temp dir, so nothing outside
 * it is read or created.
 */
#include "fuzz_util.h"

#include "mls_config.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const vars[] = { "MLS_CONFIG", "MLS_DATA_HOME",
	    "MLS_SITE", "MLS_STORE", "MLS_STORE_TOKEN_FILE",
	    "MLS_STORE_CA_FILE", "XDG_DATA_HOME", "XDG_CONFIG_HOME" };
	(void)argc; (void)argv;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	setenv("HOME", fuzz_tmpdir(), 1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mls_config cfg;
	json_t *names, *site = NULL;
	char path[512];
	size_t i;

	fuzz_write("config", data, size, path, sizeof(path));
	if (mls_config_load_file(&cfg, path) == 0) {
		if ((names = mls_config_site_names(&cfg)) != NULL) {
			for (i = 0; i < json_array_size(names); i++) {
				const char *n = json_string_value(json_array_get(
				    names, i));

				if (n != NULL && mls_config_site(&cfg, n, &site) == 0) {
					json_decref(site);
					site = NULL;
				}
			}
			json_decref(names);
		}
		(void)mls_config_site(&cfg, "nosuchsite", &site);
		(void)mls_config_get(&cfg, "store", NULL, "url");
	}
	mls_config_release(&cfg);
	return 0;
}
