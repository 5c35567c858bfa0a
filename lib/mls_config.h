/*
 * mls_config.h - configuration: XDG paths, the INI file, MLS_* overrides.
 *
 * The file is ~/.config/mls/config (or $MLS_CONFIG), git-config-style INI
 * read with libinih: [mls], [store], [site "NAME"].  Without any file the
 * embedded default holds: site "local", store file://$XDG_DATA_HOME/mls/store.
 *
 * Environment: MLS_CONFIG (file), MLS_DATA_HOME (data dir, default
 * $XDG_DATA_HOME/mls), MLS_SITE (default site), MLS_STORE (store URL),
 * MLS_STORE_TOKEN_FILE, MLS_STORE_CA_FILE.
 */
#ifndef MLS_CONFIG_H
#define MLS_CONFIG_H

#include <jansson.h>

struct mls_config {
	char	*path;		/* the file read, or NULL when there was none */
	char	*data_home;	/* .../mls, created on demand */
	char	*default_site;
	char	*store_url;
	char	*store_token_file;
	char	*store_ca_file;
	json_t	*sections;	/* {"mls":{k:v}, "store":{...}, "site.NAME":{...}} */
	json_t	*lines;		/* the same keys: {"store":{"url":3}, ...} */
	/* [mls] extract_max_size, _files, _ratio (0: the default) */
	long long extract_max_size, extract_max_files, extract_max_ratio;
};

/* Load the configuration; cfg is always initialised (free with release). */
int		 mls_config_load(struct mls_config *cfg);
/* Load a given file (NULL: no file, defaults and environment only). */
int		 mls_config_load_file(struct mls_config *cfg, const char *path);
void		 mls_config_release(struct mls_config *cfg);
/* A value (borrowed) or NULL; subsection may be NULL. */
const char	*mls_config_get(const struct mls_config *cfg,
		    const char *section, const char *subsection, const char *key);
/*
 * The settings of site NAME as an object with at least "name" and "type"
 * (new reference in *out).  "local" exists without configuration.
 * MLS_ECONFIG names the unknown site and lists the known ones.
 */
int		 mls_config_site(const struct mls_config *cfg, const char *name,
		    json_t **out);
/* Names of all sites, "local" first (new reference: an array of strings). */
json_t		*mls_config_site_names(const struct mls_config *cfg);
/*
 * Warn (mls_warn) of each key of a section ("store", "site.NAME") that is
 * not in known (NULL-terminated), naming the file, its line and the key:
 * a misspelt key would otherwise be ignored without a word.
 */
void		 mls_config_warn_unknown(const struct mls_config *cfg,
		    const char *section, const char *const *known);
/* Expand a leading "~/" (new string, free()). */
char		*mls_config_expand(const char *path);
/* DATA_HOME/SUB, created (mode 0700) with its parents; new string. */
int		 mls_config_data_dir(const struct mls_config *cfg,
		    const char *sub, char **out);
/* mkdir -p with the given mode. */
int		 mls_mkdirs(const char *path, int mode);

#endif
