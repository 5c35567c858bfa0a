#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_alloc.h"
#include "mls_buf.h"
#include "mls_campaign.h"
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
		return mls_error_set(MLS_EINPUT, "job id '%.40s%s': not a valid id",
		    id ? id : "(none)", id && strlen(id) > 40 ? "..." : "");
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

/* ---- resolving ids ------------------------------------------------- */

/* The ids that match a prefix, gathered from every place ids live. */
struct cand {
	char			*id;
	enum mls_id_kind	 kind;
	json_t			*job;	/* from a journal: the trial's record */
};

struct cands {
	struct cand	*v;
	size_t		 n, cap;
};

static void
cands_release(struct cands *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].id);
		json_decref(c->v[i].job);
	}
	free(c->v);
	c->v = NULL;
	c->n = c->cap = 0;
}

static int
cands_add(struct cands *c, const char *id, enum mls_id_kind kind, json_t *job)
{
	struct cand *tmp;
	size_t cap;

	if (c->n == c->cap) {
		cap = c->cap ? c->cap * 2 : 16;
		if (cap < c->cap || cap > SIZE_MAX / sizeof(*tmp) ||
		    (tmp = realloc(c->v, cap * sizeof(*tmp))) == NULL)
			return mls_error_set(MLS_ENOMEM, "out of memory");
		c->v = tmp;
		c->cap = cap;
	}
	if ((c->v[c->n].id = strdup(id)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	c->v[c->n].kind = kind;
	c->v[c->n].job = json_incref(job);
	c->n++;
	return 0;
}

/* What a lookup is after: the prefix, and the prefix without its kind. */
struct want {
	const char	*prefix, *body;
	size_t		 plen, blen;
	int		 has_kind;	/* the prefix starts "j-", "c-" or "e-" */
	unsigned	 kinds;		/* looked for */
	unsigned	 named;		/* in "no such ..." */
};

/* An id without its kind prefix: the time-sortable part. */
static const char *
id_body(const char *id)
{
	const char *dash = strchr(id, '-');

	return dash != NULL && dash - id <= 2 ? dash + 1 : id;
}

/*
 * Does id match?  "01kx" matches "j-01kx...": the kind prefix (a letter
 * or two and a dash) may be left out.
 */
static int
matches(const struct want *w, const char *id)
{
	if (strncmp(id, w->prefix, w->plen) == 0)
		return 1;
	if (w->has_kind || strchr(w->prefix, '-') != NULL)
		return 0;
	return id_body(id) != id && strncmp(id_body(id), w->body, w->blen) == 0;
}

static enum mls_id_kind
kind_of(const char *id)
{
	if (id[0] == 'c' && id[1] == '-')
		return MLS_ID_CAMPAIGN;
	if (id[0] == 'e' && id[1] == '-')
		return MLS_ID_ENSEMBLE;
	return MLS_ID_JOB;
}

/* The names in DATA/SUB that match, as candidates of the kinds wanted. */
static int
scan_dir(const struct mls_config *cfg, const char *sub, const struct want *w,
    int jobs, struct cands *c)
{
	struct mls_buf dir = MLS_BUF_INIT;
	char **names = NULL;
	size_t n = 0, i;
	int rc;

	mls_buf_addf(&dir, "%s/%s", cfg->data_home, sub);
	if ((rc = mls_buf_error(&dir)) < 0)
		goto out;
	if ((rc = list_names(dir.buf, &names, &n)) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		enum mls_id_kind k = jobs ? MLS_ID_JOB : kind_of(names[i]);
		if ((w->kinds & k) == 0 || !matches(w, names[i]))
			continue;
		if ((rc = cands_add(c, names[i], k, NULL)) < 0)
			goto out;
	}
	rc = 0;
out:
	free_names(names, n);
	mls_buf_release(&dir);
	return rc;
}

static const char crockford[] = "0123456789abcdefghjkmnpqrstvwxyz";

/*
 * The milliseconds of the time part of an id (after its kind prefix): the
 * first 10 of its 26 characters, Crockford base32, as mls_id_new() and
 * trial ids write it.  For a prefix of them, the range they allow.
 * 0 if s cannot start such an id.
 */
static int
id_time(const char *s, size_t len, double *lo, double *hi)
{
	unsigned long long v = 0;
	const char *p;
	size_t i;

	if (len > 10)
		len = 10;
	for (i = 0; i < len; i++) {
		if (s[i] == '\0' || (p = strchr(crockford, s[i])) == NULL)
			return 0;
		v = v << 5 | (unsigned long long)(p - crockford);
	}
	v <<= 5 * (10 - len);
	*lo = (double)v;
	*hi = (double)v + ldexp(1.0, 5 * (int)(10 - len)) - 1;
	return 1;
}

/*
 * A trial of a campaign is submitted after the campaign got its id, and
 * journalled (which moves the journal's mtime) after it got its own; this
 * much clock trouble is forgiven.
 */
#define TRIAL_TIME_SLACK_MS	(3600.0 * 1000)

/*
 * Could campaign id hold trials (or members) whose ids start with the
 * time prefix [lo, hi]?  Its journal's life span must overlap it.
 */
static int
may_hold(const struct mls_config *cfg, const char *id, double lo, double hi)
{
	double start, unused;
	char *path = NULL;
	struct stat sb;
	int rc;

	if (mls_campaign_journal_path(cfg, id, &path) < 0) {
		mls_error_clear();
		return 0;
	}
	rc = stat(path, &sb);
	free(path);
	if (rc == -1)
		return 0;		/* no journal, no trials */
	if (kind_of(id) != MLS_ID_JOB &&
	    id_time(id + 2, strlen(id + 2), &start, &unused) &&
	    hi < start - TRIAL_TIME_SLACK_MS)
		return 0;
	return lo <= (double)sb.st_mtim.tv_sec * 1000 +
	    (double)sb.st_mtim.tv_nsec / 1e6 + TRIAL_TIME_SLACK_MS;
}

/*
 * The trials and members of every campaign and ensemble that match: their
 * ids live in the journals (the campaign loop does not write the registry;
 * a trial reaches it only once mls-status has refreshed it).  Only the
 * journals whose life span overlaps the time the prefix spells are read.
 */
static int
scan_journals(const struct mls_config *cfg, const struct want *w,
    struct cands *c)
{
	struct mls_buf dir = MLS_BUF_INIT;
	json_t *camp = NULL, *trials = NULL, *t;
	char **names = NULL;
	size_t n = 0, i, k;
	double lo, hi;
	int rc;

	if (!id_time(w->body, w->blen, &lo, &hi))
		return 0;		/* not the start of a trial id */
	mls_buf_addf(&dir, "%s/campaigns", cfg->data_home);
	if ((rc = mls_buf_error(&dir)) < 0)
		goto out;
	if ((rc = list_names(dir.buf, &names, &n)) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (!may_hold(cfg, names[i], lo, hi))
			continue;
		if (mls_campaign_load(cfg, names[i], &camp, &trials) < 0) {
			mls_error_clear();	/* one broken journal hides only its own */
			continue;
		}
		json_array_foreach(trials, k, t) {
			const char *id = mls_record_id(t);
			if (id == NULL || kind_of(id) != MLS_ID_JOB || !matches(w, id))
				continue;
			if ((rc = cands_add(c, id, MLS_ID_JOB, t)) < 0)
				goto out;
		}
		json_decref(camp);
		json_decref(trials);
		camp = trials = NULL;
	}
	rc = 0;
out:
	json_decref(camp);
	json_decref(trials);
	free_names(names, n);
	mls_buf_release(&dir);
	return rc;
}

/* Newest first; a registry entry (no journal record) before its journal twin. */
static int
cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int d = strcmp(id_body(y->id), id_body(x->id));

	if (d == 0)
		d = strcmp(y->id, x->id);
	if (d != 0)
		return d;
	return (x->job != NULL) - (y->job != NULL);
}

static const char *
kind_name(unsigned kinds)
{
	switch (kinds) {
	case MLS_ID_JOB:		return "job";
	case MLS_ID_CAMPAIGN:		return "campaign";
	case MLS_ID_ENSEMBLE:		return "ensemble";
	case MLS_ID_CAMPAIGN | MLS_ID_ENSEMBLE:	return "campaign or ensemble";
	default:			return "job, campaign or ensemble";
	}
}

/* The one candidate in c, or MLS_ENOTFOUND / MLS_EAMBIG naming them. */
static int
pick(struct cands *c, const struct want *w, size_t *out)
{
	struct mls_buf names = MLS_BUF_INIT;
	size_t i, n = 0;
	int rc;

	if (c->n > 1)
		qsort(c->v, c->n, sizeof(*c->v), cmp_cand);
	for (i = 0; i < c->n; i++) {
		if (i > 0 && strcmp(c->v[i].id, c->v[i - 1].id) == 0)
			continue;	/* a trial both in the registry and a journal */
		if (strcmp(c->v[i].id, w->prefix) == 0) {
			*out = i;	/* an exact id wins */
			mls_buf_release(&names);
			return 0;
		}
		if (n < 5)
			mls_buf_addf(&names, "%s%s", n ? ", " : "", c->v[i].id);
		n++;
	}
	if (n == 0) {
		rc = mls_error_set(MLS_ENOTFOUND, "'%s': no such %s", w->prefix,
		    kind_name(w->named));
	} else if (n > 1) {
		if ((rc = mls_buf_error(&names)) == 0)
			rc = mls_error_set(MLS_EAMBIG, "'%s': ambiguous id prefix "
			    "(%zu matches: %s%s)", w->prefix, n, names.buf,
			    n > 5 ? ", ..." : "");
	} else {
		*out = 0;
		rc = 0;
	}
	mls_buf_release(&names);
	return rc;
}

static int
want_init(struct want *w, unsigned kinds, const char *prefix)
{
	w->prefix = w->body = prefix;
	w->plen = w->blen = strlen(prefix);
	w->kinds = w->named = kinds;
	w->has_kind = 0;
	if (w->plen == 0 || !valid_id(prefix))
		return mls_error_set(MLS_EINPUT, "'%.40s%s': not a valid id (%zu "
		    "characters; an id is at most 128 letters, digits, '-' and '_')",
		    prefix, w->plen > 40 ? "..." : "", w->plen);
	if (prefix[0] != '\0' && prefix[1] == '-') {
		enum mls_id_kind k = kind_of(prefix);
		/* "j-" names jobs, "c-" campaigns, "e-" ensembles */
		if (k == MLS_ID_JOB && prefix[0] != 'j')
			return 0;
		w->has_kind = 1;
		w->named = w->kinds & k ? k : w->kinds;	/* "'c-x': no such job" */
		w->kinds &= k;
		w->body = prefix + 2;
		w->blen = w->plen - 2;
	}
	return 0;
}

int
mls_registry_lookup(const struct mls_config *cfg, unsigned kinds,
    const char *prefix, struct mls_registry_match *out)
{
	struct cands c = { 0 };
	struct want w;
	size_t i;
	int rc;

	out->id = NULL;
	out->kind = 0;
	out->job = NULL;
	if ((rc = want_init(&w, kinds, prefix)) < 0)
		return rc;
	if ((w.kinds & MLS_ID_JOB) &&
	    (rc = scan_dir(cfg, "registry/jobs", &w, 1, &c)) < 0)
		goto out;
	if ((w.kinds & (MLS_ID_CAMPAIGN | MLS_ID_ENSEMBLE)) &&
	    (rc = scan_dir(cfg, "campaigns", &w, 0, &c)) < 0)
		goto out;
	/* The journals cost most: not read when an exact id was found. */
	for (i = 0; i < c.n && strcmp(c.v[i].id, prefix) != 0; i++)
		;
	if ((w.kinds & MLS_ID_JOB) && i == c.n &&
	    (rc = scan_journals(cfg, &w, &c)) < 0)
		goto out;
	if ((rc = pick(&c, &w, &i)) < 0)
		goto out;
	if (c.v[i].kind == MLS_ID_JOB && c.v[i].job == NULL &&
	    (rc = load_job(cfg, c.v[i].id, &c.v[i].job)) < 0)
		goto out;
	out->id = c.v[i].id;
	out->kind = c.v[i].kind;
	out->job = c.v[i].job;
	c.v[i].id = NULL;
	c.v[i].job = NULL;
	rc = 0;
out:
	cands_release(&c);
	return rc;
}

void
mls_registry_match_release(struct mls_registry_match *m)
{
	free(m->id);
	json_decref(m->job);
	m->id = NULL;
	m->kind = 0;
	m->job = NULL;
}

int
mls_registry_resolve(const struct mls_config *cfg, const char *sub,
    const char *prefix, char **out)
{
	struct cands c = { 0 };
	struct want w;
	size_t i;
	int rc, jobs = strncmp(sub, "campaigns", 9) != 0;

	*out = NULL;
	if ((rc = want_init(&w, jobs ? MLS_ID_JOB : MLS_ID_CAMPAIGN |
	    MLS_ID_ENSEMBLE, prefix)) < 0)
		return rc;
	if ((rc = scan_dir(cfg, sub, &w, jobs, &c)) < 0)
		goto out;
	if ((rc = pick(&c, &w, &i)) < 0)
		goto out;
	*out = c.v[i].id;
	c.v[i].id = NULL;
	rc = 0;
out:
	cands_release(&c);
	return rc;
}

int
mls_registry_get(const struct mls_config *cfg, const char *prefix, json_t **out)
{
	struct mls_registry_match m;
	int rc;

	*out = NULL;
	if ((rc = mls_registry_lookup(cfg, MLS_ID_JOB, prefix, &m)) < 0)
		return rc;
	*out = m.job;
	m.job = NULL;
	mls_registry_match_release(&m);
	return 0;
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
	struct mls_buf dir = MLS_BUF_INIT, full = MLS_BUF_INIT, cand = MLS_BUF_INIT;
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
		if (matches < 5)
			mls_buf_addf(&cand, "%ssha256:%.64s", matches ? ", " : "", nm);
		if (matches++ == 0)
			mls_buf_addf(&full, "sha256:%.64s", nm);
	}
	if (matches == 0) {
		rc = mls_error_set(MLS_ENOTFOUND, "sandbox '%s': not in store '%s'",
		    prefix, mls_store_url(st));
		goto out;
	}
	if (matches > 1) {
		if ((rc = mls_buf_error(&cand)) == 0)
			rc = mls_error_set(MLS_EAMBIG, "sandbox '%s': ambiguous "
			    "prefix (%zu matches: %s%s)", prefix, matches, cand.buf,
			    matches > 5 ? ", ..." : "");
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
	mls_buf_release(&cand);
	return rc;
}
