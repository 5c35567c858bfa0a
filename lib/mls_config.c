#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>
#include <jansson.h>

#include "mls_buf.h"
#include "mls_config.h"
#include "mls_error.h"
#include "mls_log.h"
#include "mls_record.h"

/* The largest config file read: a config is a few hundred bytes. */
#define CONFIG_MAX	(1 << 20)

/* Keys whose value is a path: empty, they would name the root or the cwd. */
static const char *const path_keys[] = {
	"data_home", "token_file", "ca_file", "workdir",
};

struct parse_ctx {
	json_t		*sections;
	json_t		*lines;
	const char	*path;
	const char	*text;		/* the whole text */
	const char	*next;		/* the rest of it, for the reader */
	int		 lineno;	/* the line the reader last handed out */
	int		 bad_line;	/* the first line the handler refused */
	char		 section[50];	/* the section inih is in */
	char		 bad[512];
};

static int
section_key(const char *section, struct mls_buf *key)
{
	const char *q, *e;
	size_t n;

	/* [site "name"] becomes "site.name"; [store] stays "store". */
	if ((q = strchr(section, '"')) == NULL) {
		mls_buf_adds(key, section);
		return 0;
	}
	n = (size_t)(q - section);
	while (n > 0 && section[n - 1] == ' ')
		n--;
	if ((e = strrchr(q + 1, '"')) == NULL || e[1] != '\0')
		return -1;
	/*
	 * The name becomes a file name (a site's queue, log and lock live
	 * under DATA/NAME): letters, digits, '.', '_' and '-', starting with
	 * a letter or a digit.
	 */
	if (e == q + 1 || !isalnum((unsigned char)q[1]))
		return -2;
	for (const char *c = q + 1; c < e; c++)
		if (!isalnum((unsigned char)*c) && strchr("._-", *c) == NULL)
			return -2;
	mls_buf_add(key, section, n);
	mls_buf_addc(key, '.');
	mls_buf_add(key, q + 1, (size_t)(e - q - 1));
	return 0;
}

static void
bad_name(struct parse_ctx *ctx, const char *section)
{
	snprintf(ctx->bad, sizeof(ctx->bad), "bad name in [%s]: expected "
	    "letters, digits, '.', '_' and '-', starting with a letter or a "
	    "digit", section);
}

static int
on_ini_value(void *user, const char *section, const char *name,
    const char *value)
{
	struct parse_ctx *ctx = user;
	struct mls_buf key = MLS_BUF_INIT;
	json_t *sec;
	int ok = 0;

	if (ctx->bad_line != 0) {
		ok = 1;		/* inih reports the first error: keep its words */
		goto out;
	}
	if (name == NULL) {
		ok = 1;		/* a section header alone */
		goto out;
	}
	if (*section == '\0') {
		snprintf(ctx->bad, sizeof(ctx->bad), "'%s' outside of any section", name);
		goto out;
	}
	switch (section_key(section, &key)) {
	case -1:
		snprintf(ctx->bad, sizeof(ctx->bad), "bad section name [%s]", section);
		goto out;
	case -2:
		bad_name(ctx, section);
		goto out;
	}
	for (size_t i = 0; i < sizeof(path_keys) / sizeof(path_keys[0]); i++)
		if (*value == '\0' && strcmp(name, path_keys[i]) == 0) {
			snprintf(ctx->bad, sizeof(ctx->bad), "'%s' is an empty path",
			    name);
			goto out;
		}
	if (mls_buf_error(&key) < 0)
		goto out;
	if ((sec = json_object_get(ctx->sections, key.buf)) == NULL) {
		sec = json_object();
		json_object_set_new(ctx->sections, key.buf, sec);
	}
	json_object_set_new(sec, name, json_string(value));
	if ((sec = json_object_get(ctx->lines, key.buf)) == NULL) {
		sec = json_object();
		json_object_set_new(ctx->lines, key.buf, sec);
	}
	json_object_set_new(sec, name, json_integer(ctx->lineno));
	ok = 1;
out:
	if (!ok && ctx->bad_line == 0)
		ctx->bad_line = ctx->lineno;
	mls_buf_release(&key);
	return ok;
}

static char *
rstrip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/*
 * A line too long for inih's buffer (INI_MAX_LINE, 200 in Debian's build,
 * which does not realloc): parsed here as inih would, "KEY = VALUE" with
 * '=' or ':' and a ';' comment after a blank, in the section inih is in.
 */
static void
long_line(struct parse_ctx *ctx, const char *line, size_t len)
{
	char *l, *sep, *v, *c;

	if ((l = strndup(line, len)) == NULL) {
		snprintf(ctx->bad, sizeof(ctx->bad), "out of memory");
		ctx->bad_line = ctx->lineno;
		return;
	}
	rstrip(l);
	if (*l == ';' || *l == '#' || *l == '\0')
		goto out;
	if (*l == '[') {
		snprintf(ctx->bad, sizeof(ctx->bad), "a section header of %zu "
		    "characters", len);
		if (ctx->bad_line == 0)
			ctx->bad_line = ctx->lineno;
		goto out;
	}
	if ((sep = strpbrk(l, "=:")) == NULL) {
		if (ctx->bad_line == 0) {
			snprintf(ctx->bad, sizeof(ctx->bad), "syntax error");
			ctx->bad_line = ctx->lineno;
		}
		goto out;
	}
	*sep = '\0';
	for (v = sep + 1; isspace((unsigned char)*v); v++)
		;
	for (c = v; *c != '\0'; c++)
		if (*c == ';' && c > v && isspace((unsigned char)c[-1])) {
			*c = '\0';
			break;
		}
	on_ini_value(ctx, ctx->section, rstrip(l), rstrip(v));
out:
	free(l);
}

/*
 * inih's reader: one whole line of the text per call, so that the handler
 * knows its line; a line too long for inih is parsed here instead.
 */
static char *
read_line(char *str, int num, void *stream)
{
	struct parse_ctx *ctx = stream;
	const char *nl, *e;
	size_t len;

	if (*ctx->next == '\0' || num < 2)
		return NULL;
	nl = strchr(ctx->next, '\n');
	len = nl != NULL ? (size_t)(nl - ctx->next) + 1 : strlen(ctx->next);
	ctx->lineno++;
	if (len > (size_t)num - 1) {
		long_line(ctx, ctx->next, nl != NULL ? len - 1 : len);
		ctx->next += len;
		str[0] = '\n';
		str[1] = '\0';
		return str;
	}
	memcpy(str, ctx->next, len);
	str[len] = '\0';
	ctx->next += len;
	/* the section inih enters, cut as inih cuts it (MAX_SECTION 50) */
	if (str[0] == '[' && (e = strchr(str, ']')) != NULL) {
		struct mls_buf key = MLS_BUF_INIT;

		snprintf(ctx->section, sizeof(ctx->section), "%.*s",
		    (int)(e - str - 1), str + 1);
		/* a bad name is refused on its own line, keys or none */
		if (ctx->bad_line == 0 && section_key(ctx->section, &key) == -2) {
			bad_name(ctx, ctx->section);
			ctx->bad_line = ctx->lineno;
		}
		mls_buf_release(&key);
	}
	return str;
}

char *
mls_config_expand(const char *path)
{
	struct mls_buf b = MLS_BUF_INIT;
	const char *home;

	if (path[0] == '~' && (path[1] == '/' || path[1] == '\0') &&
	    (home = getenv("HOME")) != NULL) {
		mls_buf_adds(&b, home);
		mls_buf_adds(&b, path + 1);
	} else {
		mls_buf_adds(&b, path);
	}
	return mls_buf_detach(&b);
}

int
mls_mkdirs(const char *path, int mode)
{
	char *p, *s;
	int rc = 0;

	/* the usual case, one call: the directory or its parent exists */
	if (mkdir(path, (mode_t)mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return mls_error_set_errno(MLS_EIO, "mkdir '%s'", path);
	if ((p = strdup(path)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	for (s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, (mode_t)mode) == -1 && errno != EEXIST) {
				rc = mls_error_set_errno(MLS_EIO, "mkdir '%s'", p);
				break;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	free(p);
	return rc;
}

static char *
env_or(const char *var)
{
	const char *v = getenv(var);

	return v != NULL && *v != '\0' ? mls_config_expand(v) : NULL;
}

static int
set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = NULL;
	if (v == NULL)
		return 0;
	if ((*dst = mls_config_expand(v)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	return 0;
}

static void
config_init(struct mls_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

void
mls_config_release(struct mls_config *cfg)
{
	free(cfg->path);
	free(cfg->data_home);
	free(cfg->default_site);
	free(cfg->store_url);
	free(cfg->store_token_file);
	free(cfg->store_ca_file);
	json_decref(cfg->sections);
	json_decref(cfg->lines);
	config_init(cfg);
}

/*
 * The file with each line's leading blanks removed: git config files are
 * tab-indented, and inih would take an indented line for the continuation
 * of the previous value.  At most CONFIG_MAX bytes, no NUL.
 */
static int
read_dedented(const char *path, struct mls_buf *out)
{
	char chunk[8192];
	size_t n, total = 0, i;
	int rc = 0, bol = 1;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		return mls_error_set_errno(MLS_ECONFIG, "open '%s'", path);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if ((total += n) > CONFIG_MAX) {
			rc = mls_error_set(MLS_ECONFIG, "%s: larger than 1 MiB; "
			    "not a config file", path);
			goto out;
		}
		if (memchr(chunk, '\0', n) != NULL) {
			rc = mls_error_set(MLS_ECONFIG, "%s: a NUL byte; not a "
			    "config file", path);
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (bol && (chunk[i] == ' ' || chunk[i] == '\t'))
				continue;
			bol = chunk[i] == '\n';
			mls_buf_addc(out, chunk[i]);
		}
	}
	if (ferror(fp))
		rc = mls_error_set_errno(MLS_ECONFIG, "read '%s'", path);
	else
		rc = mls_buf_error(out);
out:
	fclose(fp);
	return rc;
}

void
mls_config_warn_unknown(const struct mls_config *cfg, const char *section,
    const char *const *known)
{
	struct mls_buf names = MLS_BUF_INIT, head = MLS_BUF_INIT;
	const char *key;
	json_t *v;
	size_t i;

	for (i = 0; known[i] != NULL; i++)
		mls_buf_addf(&names, "%s%s", i ? ", " : "", known[i]);
	if (strncmp(section, "site.", 5) == 0)
		mls_buf_addf(&head, "site \"%s\"", section + 5);
	else
		mls_buf_adds(&head, section);
	json_object_foreach(json_object_get(cfg->sections, section), key, v) {
		for (i = 0; known[i] != NULL && strcmp(known[i], key) != 0; i++)
			;
		if (known[i] != NULL)
			continue;
		mls_warn("%s:%lld: [%s]: unknown key '%s' is ignored (known: %s)",
		    cfg->path != NULL ? cfg->path : "config", json_integer_value(
		    json_object_get(json_object_get(cfg->lines, section), key)),
		    head.buf != NULL ? head.buf : section, key,
		    names.buf != NULL ? names.buf : "");
	}
	mls_buf_release(&names);
	mls_buf_release(&head);
}

/*
 * An extraction limit: $ENV, else [mls] KEY, else 0 (the default).  A bad
 * value is MLS_ECONFIG naming the variable, or the file, line and key.
 */
static int
extract_limit(const struct mls_config *cfg, const char *key, const char *env,
    int is_size, long long *out)
{
	const char *v = getenv(env), *where = env;
	long long n = -1;
	char *end;
	int line = 0;

	if (v == NULL || *v == '\0') {
		if ((v = mls_config_get(cfg, "mls", NULL, key)) == NULL)
			return 0;
		where = key;
		line = (int)json_integer_value(json_object_get(json_object_get(
		    cfg->lines, "mls"), key));
	}
	if (is_size) {
		n = mls_size_parse(v);
	} else if (strspn(v, "0123456789") == strlen(v) && strlen(v) <= 12) {
		n = strtoll(v, &end, 10);
	}
	if (n < 1) {
		if (line > 0)
			return mls_error_set(MLS_ECONFIG, "%s:%d: '%s' '%s': "
			    "expected %s", cfg->path, line, where, v, is_size ?
			    "a size like 4G" : "a whole number >= 1");
		return mls_error_set(MLS_ECONFIG, "%s '%s': expected %s", where,
		    v, is_size ? "a size like 4G" : "a whole number >= 1");
	}
	*out = n;
	return 0;
}

/* [mls] and [store] are checked here, a site's keys when it opens. */
static void
warn_unknown_sections(const struct mls_config *cfg)
{
	static const char *const mls_keys[] = { "site", "data_home",
	    "extract_max_size", "extract_max_files", "extract_max_ratio", NULL };
	static const char *const store_keys[] = { "url", "token_file",
	    "ca_file", NULL };
	const char *sec;
	json_t *v, *first;

	mls_config_warn_unknown(cfg, "mls", mls_keys);
	mls_config_warn_unknown(cfg, "store", store_keys);
	json_object_foreach(cfg->lines, sec, v) {
		const char *k;
		json_t *line;
		if (strcmp(sec, "mls") == 0 || strcmp(sec, "store") == 0 ||
		    strncmp(sec, "site.", 5) == 0)
			continue;
		first = NULL;
		json_object_foreach(v, k, line)
			if (first == NULL || json_integer_value(line) <
			    json_integer_value(first))
				first = line;
		mls_warn("%s:%lld: unknown section [%s] is ignored (known: "
		    "[mls], [store], [site \"NAME\"])", cfg->path,
		    json_integer_value(first), sec);
	}
}

int
mls_config_load_file(struct mls_config *cfg, const char *path)
{
	struct parse_ctx ctx = { 0 };
	struct mls_buf b = MLS_BUF_INIT, text = MLS_BUF_INIT;
	const char *v;
	char *e;
	int rc;

	config_init(cfg);
	if ((cfg->sections = json_object()) == NULL ||
	    (cfg->lines = json_object()) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	if (path != NULL && access(path, F_OK) == 0) {
		ctx.sections = cfg->sections;
		ctx.lines = cfg->lines;
		ctx.path = path;
		if ((rc = read_dedented(path, &text)) < 0) {
			mls_buf_release(&text);
			return rc;
		}
		ctx.text = ctx.next = text.buf != NULL ? text.buf : "";
		rc = ini_parse_stream(read_line, &ctx, on_ini_value, &ctx);
		mls_buf_release(&text);
		if (rc == -2)
			return mls_error_set(MLS_ENOMEM, "out of memory");
		if (ctx.bad_line != 0 && (rc <= 0 || ctx.bad_line < rc))
			rc = ctx.bad_line;	/* a long line came first */
		if (rc > 0)
			return mls_error_set(MLS_ECONFIG, "%s:%d: %s", path, rc,
			    rc == ctx.bad_line ? ctx.bad : "syntax error");
		if ((cfg->path = strdup(path)) == NULL)
			return mls_error_set(MLS_ENOMEM, "out of memory");
		warn_unknown_sections(cfg);
	}

	/* data home: MLS_DATA_HOME, [mls] data_home, $XDG_DATA_HOME/mls */
	if ((e = env_or("MLS_DATA_HOME")) != NULL) {
		cfg->data_home = e;
	} else if ((v = mls_config_get(cfg, "mls", NULL, "data_home")) != NULL) {
		if ((rc = set_str(&cfg->data_home, v)) < 0)
			return rc;
	} else {
		if ((e = env_or("XDG_DATA_HOME")) != NULL) {
			mls_buf_adds(&b, e);
			free(e);
		} else {
			mls_buf_adds(&b, getenv("HOME") ? getenv("HOME") : "/tmp");
			mls_buf_adds(&b, "/.local/share");
		}
		mls_buf_adds(&b, "/mls");
		if ((cfg->data_home = mls_buf_detach(&b)) == NULL)
			return mls_error_set(MLS_ENOMEM, "out of memory");
	}

	if ((e = env_or("MLS_SITE")) != NULL)
		cfg->default_site = e;
	else if ((rc = set_str(&cfg->default_site,
	    mls_config_get(cfg, "mls", NULL, "site") ?
	    mls_config_get(cfg, "mls", NULL, "site") : "local")) < 0)
		return rc;

	if ((e = env_or("MLS_STORE")) != NULL) {
		cfg->store_url = e;
	} else if ((v = mls_config_get(cfg, "store", NULL, "url")) != NULL) {
		if ((rc = set_str(&cfg->store_url, v)) < 0)
			return rc;
	} else {
		mls_buf_addf(&b, "file://%s/store", cfg->data_home);
		if ((cfg->store_url = mls_buf_detach(&b)) == NULL)
			return mls_error_set(MLS_ENOMEM, "out of memory");
	}
	if ((e = env_or("MLS_STORE_TOKEN_FILE")) != NULL)
		cfg->store_token_file = e;
	else if ((rc = set_str(&cfg->store_token_file,
	    mls_config_get(cfg, "store", NULL, "token_file"))) < 0)
		return rc;
	if ((e = env_or("MLS_STORE_CA_FILE")) != NULL)
		cfg->store_ca_file = e;
	else if ((rc = set_str(&cfg->store_ca_file,
	    mls_config_get(cfg, "store", NULL, "ca_file"))) < 0)
		return rc;
	if ((rc = extract_limit(cfg, "extract_max_size", "MLS_EXTRACT_MAX_SIZE",
	    1, &cfg->extract_max_size)) < 0 ||
	    (rc = extract_limit(cfg, "extract_max_files", "MLS_EXTRACT_MAX_FILES",
	    0, &cfg->extract_max_files)) < 0 ||
	    (rc = extract_limit(cfg, "extract_max_ratio", "MLS_EXTRACT_MAX_RATIO",
	    0, &cfg->extract_max_ratio)) < 0)
		return rc;
	return 0;
}

int
mls_config_load(struct mls_config *cfg)
{
	struct mls_buf b = MLS_BUF_INIT;
	char *path, *e;
	int rc;

	if ((path = env_or("MLS_CONFIG")) == NULL) {
		if ((e = env_or("XDG_CONFIG_HOME")) != NULL) {
			mls_buf_adds(&b, e);
			free(e);
		} else {
			mls_buf_adds(&b, getenv("HOME") ? getenv("HOME") : "/");
			mls_buf_adds(&b, "/.config");
		}
		mls_buf_adds(&b, "/mls/config");
		if ((path = mls_buf_detach(&b)) == NULL) {
			config_init(cfg);
			return mls_error_set(MLS_ENOMEM, "out of memory");
		}
	}
	rc = mls_config_load_file(cfg, path);
	free(path);
	return rc;
}

const char *
mls_config_get(const struct mls_config *cfg, const char *section,
    const char *subsection, const char *key)
{
	struct mls_buf b = MLS_BUF_INIT;
	const char *v;

	if (cfg->sections == NULL)
		return NULL;
	mls_buf_adds(&b, section);
	if (subsection != NULL) {
		mls_buf_addc(&b, '.');
		mls_buf_adds(&b, subsection);
	}
	v = json_string_value(json_object_get(json_object_get(cfg->sections,
	    b.buf), key));
	mls_buf_release(&b);
	return v;
}

json_t *
mls_config_site_names(const struct mls_config *cfg)
{
	json_t *names = json_array(), *v;
	const char *k;

	if (names == NULL)
		return NULL;
	json_array_append_new(names, json_string("local"));
	json_object_foreach(cfg->sections, k, v) {
		if (strncmp(k, "site.", 5) == 0 && strcmp(k + 5, "local") != 0)
			json_array_append_new(names, json_string(k + 5));
	}
	return names;
}

int
mls_config_site(const struct mls_config *cfg, const char *name, json_t **out)
{
	struct mls_buf key = MLS_BUF_INIT, known = MLS_BUF_INIT;
	json_t *sec, *site = NULL, *names;
	size_t i;
	int rc;

	*out = NULL;
	mls_buf_addf(&key, "site.%s", name);
	if ((rc = mls_buf_error(&key)) < 0)
		goto out;
	sec = json_object_get(cfg->sections, key.buf);
	if (sec == NULL && strcmp(name, "local") != 0) {
		names = mls_config_site_names(cfg);
		for (i = 0; i < json_array_size(names); i++)
			mls_buf_addf(&known, "%s%s", i ? ", " : "",
			    json_string_value(json_array_get(names, i)));
		json_decref(names);
		rc = mls_error_set(MLS_ECONFIG, "site '%s': not configured "
		    "(known sites: %s)%s%s", name, known.buf,
		    cfg->path ? "; sites are defined in " : "",
		    cfg->path ? cfg->path : "");
		goto out;
	}
	site = sec != NULL ? json_deep_copy(sec) : json_object();
	if (site == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	json_object_set_new(site, "name", json_string(name));
	if (json_object_get(site, "type") == NULL) {
		if (strcmp(name, "local") != 0) {
			rc = mls_error_set(MLS_ECONFIG, "%s: [site \"%s\"]: "
			    "field 'type': missing", cfg->path ? cfg->path :
			    "config", name);
			goto out;
		}
		json_object_set_new(site, "type", json_string("local"));
	}
	*out = site;
	site = NULL;
	rc = 0;
out:
	json_decref(site);
	mls_buf_release(&key);
	mls_buf_release(&known);
	return rc;
}

int
mls_config_data_dir(const struct mls_config *cfg, const char *sub, char **out)
{
	struct mls_buf b = MLS_BUF_INIT;
	int rc;

	*out = NULL;
	mls_buf_adds(&b, cfg->data_home);
	if (sub != NULL && *sub != '\0') {
		mls_buf_addc(&b, '/');
		mls_buf_adds(&b, sub);
	}
	if ((rc = mls_buf_error(&b)) < 0)
		return rc;
	if ((rc = mls_mkdirs(b.buf, 0700)) < 0) {
		mls_buf_release(&b);
		return rc;
	}
	*out = mls_buf_detach(&b);
	return 0;
}
