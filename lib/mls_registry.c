#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mls_alloc.h"
#include "mls_buf.h"
#include "mls_error.h"
#include "mls_record.h"
#include "mls_registry.h"
#include "mls_tempfile.h"

static int
valid_id(const char *id)
{
	if (id == NULL || *id == '\0' || strlen(id) > 128)
		return 0;
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return 0;
	return 1;
}

int
mls_registry_put(const struct mls_config *cfg, const json_t *rec)
{
	const char *id = mls_record_id(rec);
	char *dir = NULL, *text = NULL;
	struct mls_buf path = MLS_BUF_INIT;
	int rc;

	if (!valid_id(id))
		return mls_error_set(MLS_EINPUT, "job id '%s': not a valid id",
		    id ? id : "(none)");
	if ((rc = mls_config_data_dir(cfg, "registry/jobs", &dir)) < 0)
		return rc;
	mls_buf_addf(&path, "%s/%s.json", dir, id);
	if ((text = json_dumps(rec, MLS_JSON_COMPACT)) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = mls_buf_error(&path)) < 0)
		goto out;
	/*
	 * The registry is an index for listing and id prefixes; the store and
	 * the journals are the truth.  Atomic (rename), but not fsynced: a
	 * submission of 1,000 jobs must not cost 1,000 fsyncs.
	 */
	rc = mls_write_atomic(path.buf, text, strlen(text), 0);
out:
	free(text);
	free(dir);
	mls_buf_release(&path);
	return rc;
}

static int
cmp_str_desc(const void *a, const void *b)
{
	return strcmp(*(char *const *)b, *(char *const *)a);
}

/* Names in dir (".json" stripped, temp files skipped), sorted newest first. */
static int
list_names(const char *dir, char ***out, size_t *nout)
{
	char **names = NULL;
	size_t n = 0, cap = 0, len;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*nout = 0;
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		return mls_error_set_errno(MLS_EIO, "open '%s'", dir);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp-") != NULL)
			continue;
		if (MLS_GROW(names, cap, n + 1) < 0)
			goto oom;
		if ((names[n] = strdup(de->d_name)) == NULL)
			goto oom;
		len = strlen(names[n]);
		if (len > 5 && strcmp(names[n] + len - 5, ".json") == 0)
			names[n][len - 5] = '\0';
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str_desc);
	*out = names;
	*nout = n;
	return 0;
oom:
	closedir(d);
	while (n > 0)
		free(names[--n]);
	free(names);
	return mls_error_set(MLS_ENOMEM, "out of memory");
}

static void
free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int
mls_registry_resolve(const struct mls_config *cfg, const char *sub,
    const char *prefix, char **out)
{
	struct mls_buf dir = MLS_BUF_INIT, cand = MLS_BUF_INIT;
	char **names = NULL, *found = NULL;
	size_t n = 0, i, matches = 0, plen = strlen(prefix);
	int rc;

	*out = NULL;
	if (plen == 0 || !valid_id(prefix))
		return mls_error_set(MLS_EINPUT, "'%s': not a valid id", prefix);
	mls_buf_addf(&dir, "%s/%s", cfg->data_home, sub);
	if ((rc = mls_buf_error(&dir)) < 0)
		goto out;
	if ((rc = list_names(dir.buf, &names, &n)) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		const char *nm = names[i], *dash = strchr(nm, '-');
		/* "01kx" matches "j-01kx...": the type prefix may be left out */
		if (strncmp(nm, prefix, plen) != 0 &&
		    !(dash != NULL && dash - nm <= 2 && strchr(prefix, '-') == NULL &&
		    strncmp(dash + 1, prefix, plen) == 0))
			continue;
		if (strcmp(nm, prefix) == 0) {		/* an exact match wins */
			free(found);
			found = strdup(nm);
			matches = 1;
			break;
		}
		if (matches < 5)
			mls_buf_addf(&cand, "%s%s", matches ? ", " : "", nm);
		if (matches++ == 0)
			found = strdup(nm);
	}
	if (matches == 0) {
		rc = mls_error_set(MLS_ENOTFOUND, "'%s': no such %s", prefix,
		    strncmp(sub, "campaigns", 9) == 0 ? "campaign" : "job");
		goto out;
	}
	if (matches > 1) {
		rc = mls_error_set(MLS_EAMBIG, "'%s': ambiguous id prefix (%zu "
		    "matches: %s%s)", prefix, matches, cand.buf,
		    matches > 5 ? ", ..." : "");
		goto out;
	}
	if (found == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	*out = found;
	found = NULL;
	rc = 0;
out:
	free(found);
	free_names(names, n);
	mls_buf_release(&dir);
	mls_buf_release(&cand);
	return rc;
}

static int
load_job(const struct mls_config *cfg, const char *id, json_t **out)
{
	struct mls_buf path = MLS_BUF_INIT;
	json_error_t jerr;
	json_t *rec;
	int rc;

	*out = NULL;
	mls_buf_addf(&path, "%s/registry/jobs/%s.json", cfg->data_home, id);
	if ((rc = mls_buf_error(&path)) < 0)
		return rc;
	rec = json_load_file(path.buf, JSON_REJECT_DUPLICATES, &jerr);
	if (rec == NULL)
		rc = mls_error_set(MLS_EIO, "%s:%d: %s", path.buf, jerr.line, jerr.text);
	mls_buf_release(&path);
	*out = rec;
	return rc;
}

int
mls_registry_get(const struct mls_config *cfg, const char *prefix, json_t **out)
{
	char *id = NULL;
	int rc;

	*out = NULL;
	if ((rc = mls_registry_resolve(cfg, "registry/jobs", prefix, &id)) < 0)
		return rc;
	rc = load_job(cfg, id, out);
	free(id);
	return rc;
}

int
mls_registry_recent(const struct mls_config *cfg, size_t max, json_t **out)
{
	struct mls_buf dir = MLS_BUF_INIT;
	char **names = NULL;
	json_t *arr = NULL, *rec;
	size_t n = 0;
	int rc;

	*out = NULL;
	mls_buf_addf(&dir, "%s/registry/jobs", cfg->data_home);
	if ((rc = mls_buf_error(&dir)) < 0)
		goto out;
	if ((rc = list_names(dir.buf, &names, &n)) < 0)
		goto out;
	if ((arr = json_array()) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n && json_array_size(arr) < max; i++) {
		if (load_job(cfg, names[i], &rec) < 0)
			continue;	/* skip a broken entry; the rest still lists */
		json_array_append_new(arr, rec);
	}
	*out = arr;
	arr = NULL;
	rc = 0;
out:
	json_decref(arr);
	free_names(names, n);
	mls_buf_release(&dir);
	return rc;
}

int
mls_sandbox_resolve(struct mls_store *st, const char *prefix, char **out)
{
	struct mls_buf dir = MLS_BUF_INIT, full = MLS_BUF_INIT;
	const char *hex = prefix;
	json_t *names = NULL;
	size_t i, plen, matches = 0;
	int rc;

	*out = NULL;
	if (strncmp(hex, "sha256:", 7) == 0)
		hex += 7;
	plen = strlen(hex);
	for (i = 0; i < plen; i++)
		if (!isxdigit((unsigned char)hex[i]) || isupper((unsigned char)hex[i]))
			break;
	if (plen < 4 || i != plen || plen > 64)
		return mls_error_set(MLS_EINPUT, "sandbox '%s': expected sha256:HEX "
		    "(at least 4 lowercase hex digits)", prefix);
	mls_buf_addf(&dir, "sandboxes/sha256/%.2s", hex);
	if ((rc = mls_buf_error(&dir)) < 0)
		goto out;
	if ((rc = mls_store_list(st, dir.buf, &names)) < 0)
		goto out;
	for (i = 0; i < json_array_size(names); i++) {
		const char *nm = json_string_value(json_array_get(names, i));
		if (nm == NULL || strncmp(nm, hex, plen) != 0 ||
		    strlen(nm) != 64 + 8 || strcmp(nm + 64, ".tar.zst") != 0)
			continue;
		if (matches++ == 0)
			mls_buf_addf(&full, "sha256:%.64s", nm);
	}
	if (matches == 0) {
		rc = mls_error_set(MLS_ENOTFOUND, "sandbox '%s': not in store '%s'",
		    prefix, mls_store_url(st));
		goto out;
	}
	if (matches > 1) {
		rc = mls_error_set(MLS_EAMBIG, "sandbox '%s': ambiguous prefix "
		    "(%zu matches)", prefix, matches);
		goto out;
	}
	if ((rc = mls_buf_error(&full)) < 0)
		goto out;
	*out = mls_buf_detach(&full);
	rc = 0;
out:
	json_decref(names);
	mls_buf_release(&dir);
	mls_buf_release(&full);
	return rc;
}
