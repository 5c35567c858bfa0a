/*
 * mls_space.c - hyperparameter search spaces: inline specs, JSON/YAML files
 * in our, the hpogrid/phpo and the W&B sweep dialects, validation.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libfyaml.h>

#include "mls_alloc.h"
#include "mls_buf.h"
#include "mls_error.h"
#include "mls_record.h"
#include "mls_space.h"

struct mls_space {
	struct mls_param	*p;
	size_t			 n, cap;
};

static const char *const type_names[] = {
	[MLS_PARAM_UNIFORM] = "uniform",
	[MLS_PARAM_LOGUNIFORM] = "loguniform",
	[MLS_PARAM_INT] = "int",
	[MLS_PARAM_INTLOG] = "intlog",
	[MLS_PARAM_CHOICE] = "choice",
	[MLS_PARAM_FIXED] = "fixed",
};

static void
param_release(struct mls_param *p)
{
	free(p->name);
	json_decref(p->values);
	memset(p, 0, sizeof(*p));
}

int
mls_space_new(struct mls_space **out)
{
	struct mls_space *sp;

	*out = NULL;
	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	*out = sp;
	return 0;
}

void
mls_space_free(struct mls_space *sp)
{
	size_t i;

	if (sp == NULL)
		return;
	for (i = 0; i < sp->n; i++)
		param_release(&sp->p[i]);
	free(sp->p);
	free(sp);
}

size_t
mls_space_size(const struct mls_space *sp)
{
	return sp->n;
}

const struct mls_param *
mls_space_param(const struct mls_space *sp, size_t i)
{
	return i < sp->n ? &sp->p[i] : NULL;
}

long
mls_space_find(const struct mls_space *sp, const char *name)
{
	size_t i;

	for (i = 0; i < sp->n; i++)
		if (strcmp(sp->p[i].name, name) == 0)
			return (long)i;
	return -1;
}

static int
is_int_type(enum mls_param_type t)
{
	return t == MLS_PARAM_INT || t == MLS_PARAM_INTLOG;
}

/*
 * 1 when the scalars in values are distinct as json_equal() sees them, 0
 * when one repeats, -1 when out of memory.  A set keyed by each value's
 * JSON text: linear, where a pairwise check took a minute for 100,000.
 */
static int
choices_distinct(const json_t *values)
{
	json_t *seen = json_object();
	char *k;
	size_t i;
	int rc = 1;

	if (seen == NULL)
		return -1;
	for (i = 0; i < json_array_size(values) && rc == 1; i++) {
		k = json_dumps(json_array_get(values, i), JSON_ENCODE_ANY |
		    JSON_COMPACT);
		if (k == NULL)
			rc = -1;
		else if (json_object_get(seen, k) != NULL)
			rc = 0;
		else if (json_object_set_new(seen, k, json_true()) < 0)
			rc = -1;
		free(k);
	}
	json_decref(seen);
	return rc;
}

/* What is wrong with p, or NULL. */
static const char *
param_problem(const struct mls_param *p)
{
	size_t i;

	switch (p->type) {
	case MLS_PARAM_UNIFORM:
	case MLS_PARAM_LOGUNIFORM:
	case MLS_PARAM_INT:
	case MLS_PARAM_INTLOG:
		if (!isfinite(p->low) || !isfinite(p->high))
			return "low and high must be finite numbers";
		if (is_int_type(p->type) && (p->low != floor(p->low) ||
		    p->high != floor(p->high)))
			return "low and high must be integers";
		/* from 2^53 on neither a double nor the sampler's int64 is exact */
		if (is_int_type(p->type) && (fabs(p->low) > MLS_PARAM_INT_MAX ||
		    fabs(p->high) > MLS_PARAM_INT_MAX))
			return "low and high must be from -9007199254740991 to "
			    "9007199254740991";
		if (is_int_type(p->type) ? p->low > p->high : p->low >= p->high)
			return is_int_type(p->type) ? "low must be <= high" :
			    "low must be < high";
		if ((p->type == MLS_PARAM_LOGUNIFORM || p->type == MLS_PARAM_INTLOG) &&
		    p->low <= 0)
			return p->type == MLS_PARAM_LOGUNIFORM ?
			    "low must be > 0 for loguniform" : "low must be > 0 for intlog";
		if (!isfinite(p->step) || p->step < 0)
			return "step must be a positive number";
		if (is_int_type(p->type) && p->step != floor(p->step))
			return "step must be an integer";
		if (is_int_type(p->type) && p->step > MLS_PARAM_INT_MAX)
			return "step must be at most 9007199254740991";
		if (p->type == MLS_PARAM_INTLOG && p->step > 1)
			return "step is not supported for intlog";
		break;
	case MLS_PARAM_CHOICE:
		if (!json_is_array(p->values) || json_array_size(p->values) == 0)
			return "choice needs at least one value";
		for (i = 0; i < json_array_size(p->values); i++) {
			json_t *v = json_array_get(p->values, i);
			if (json_is_object(v) || json_is_array(v))
				return "choice values must be numbers, strings or booleans";
		}
		switch (choices_distinct(p->values)) {
		case 0:
			return "choice values must be distinct";
		case -1:
			return "out of memory";
		}
		break;
	case MLS_PARAM_FIXED:
		if (p->values == NULL)
			return "fixed needs a value";
		break;
	}
	return NULL;
}

static int
valid_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' &&
		    *s != '.' && *s != '/')
			return 0;
	return 1;
}

/* Take over *p (its members) into sp; prefix names the origin in errors. */
static int
space_add(struct mls_space *sp, struct mls_param *p, const char *prefix)
{
	const char *why;
	int rc;

	if (!valid_name(p->name)) {
		rc = mls_error_set(MLS_EINPUT, "%sparameter '%s': names may hold "
		    "letters, digits, '_', '-', '.' and '/'", prefix, p->name);
		goto out;
	}
	if (mls_space_find(sp, p->name) >= 0) {
		rc = mls_error_set(MLS_EINPUT, "%sparameter '%s': defined twice",
		    prefix, p->name);
		goto out;
	}
	if (p->type == MLS_PARAM_INT && p->step == 0)
		p->step = 1;
	if (p->type == MLS_PARAM_INTLOG)
		p->step = 1;
	if ((why = param_problem(p)) != NULL) {
		rc = mls_error_set(MLS_EINPUT, "%sparameter '%s': %s", prefix,
		    p->name, why);
		goto out;
	}
	if (p->type == MLS_PARAM_CHOICE)
		p->nvalues = json_array_size(p->values);
	if ((rc = MLS_GROW(sp->p, sp->cap, sp->n + 1)) < 0)
		goto out;
	sp->p[sp->n++] = *p;
	memset(p, 0, sizeof(*p));
	return 0;
out:
	param_release(p);
	return rc;
}

/* ---- scalars ----------------------------------------------------------- */

static int
parse_double(const char *s, size_t len, double *out)
{
	char buf[64], *end;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*out = strtod(buf, &end);
	if (*end != '\0' || errno == ERANGE || isspace((unsigned char)buf[0]))
		return -1;
	return 0;
}

/* A bare word as a JSON value: integer, real, true/false, null or string. */
static json_t *
scalar_value(const char *s, size_t len)
{
	char buf[64], *end;
	long long ll;
	double d;

	if (len > 0 && len < sizeof(buf) && !isspace((unsigned char)s[0])) {
		memcpy(buf, s, len);
		buf[len] = '\0';
		errno = 0;
		ll = strtoll(buf, &end, 10);
		if (*end == '\0' && errno == 0)
			return json_integer(ll);
		if (parse_double(s, len, &d) == 0 && isfinite(d))
			return json_real(d);
		if (strcmp(buf, "true") == 0 || strcmp(buf, "True") == 0)
			return json_true();
		if (strcmp(buf, "false") == 0 || strcmp(buf, "False") == 0)
			return json_false();
	}
	return json_stringn(s, len);
}

/* ---- inline specs -------------------------------------------------------- */

static const char *
spec_usage(enum mls_param_type t)
{
	switch (t) {
	case MLS_PARAM_UNIFORM: return "uniform:LOW:HIGH[:STEP]";
	case MLS_PARAM_LOGUNIFORM: return "loguniform:LOW:HIGH[:STEP]";
	case MLS_PARAM_INT: return "int:LOW:HIGH[:STEP]";
	case MLS_PARAM_INTLOG: return "intlog:LOW:HIGH";
	case MLS_PARAM_CHOICE: return "choice:A,B,...";
	case MLS_PARAM_FIXED: return "fixed:VALUE";
	}
	return "";
}

static int
type_parse(const char *s, size_t len, enum mls_param_type *t)
{
	size_t i;

	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strlen(type_names[i]) == len && memcmp(type_names[i], s, len) == 0) {
			*t = (enum mls_param_type)i;
			return 0;
		}
	return -1;
}

/* Parse "TYPE:ARGS" into p (p->name set by the caller); prefix for errors. */
static int
parse_body(struct mls_param *p, const char *body, const char *prefix)
{
	const char *colon, *a, *e;
	double nums[3];
	size_t nnum = 0;
	json_t *v;

	colon = strchr(body, ':');
	if (colon == NULL || type_parse(body, (size_t)(colon - body), &p->type) < 0)
		return mls_error_set(MLS_EINPUT, "%sexpected TYPE:ARGS with TYPE "
		    "uniform, loguniform, int, intlog, choice or fixed", prefix);
	a = colon + 1;
	switch (p->type) {
	case MLS_PARAM_CHOICE:
		if ((p->values = json_array()) == NULL)
			return mls_error_set(MLS_ENOMEM, "out of memory");
		for (;;) {
			e = strchr(a, ',');
			if (e == NULL)
				e = a + strlen(a);
			if (e == a)
				return mls_error_set(MLS_EINPUT, "%sexpected %s (empty "
				    "value)", prefix, spec_usage(p->type));
			if ((v = scalar_value(a, (size_t)(e - a))) == NULL ||
			    json_array_append_new(p->values, v) < 0)
				return mls_error_set(MLS_ENOMEM, "out of memory");
			if (*e == '\0')
				break;
			a = e + 1;
		}
		return 0;
	case MLS_PARAM_FIXED:
		if (*a == '\0')
			return mls_error_set(MLS_EINPUT, "%sexpected %s", prefix,
			    spec_usage(p->type));
		if ((p->values = scalar_value(a, strlen(a))) == NULL)
			return mls_error_set(MLS_ENOMEM, "out of memory");
		return 0;
	default:
		break;
	}
	for (;;) {
		e = strchr(a, ':');
		if (e == NULL)
			e = a + strlen(a);
		if (nnum == 3 || parse_double(a, (size_t)(e - a), &nums[nnum]) < 0)
			return mls_error_set(MLS_EINPUT, "%sexpected %s", prefix,
			    spec_usage(p->type));
		nnum++;
		if (*e == '\0')
			break;
		a = e + 1;
	}
	if (nnum < 2 || (nnum == 3 && p->type == MLS_PARAM_INTLOG))
		return mls_error_set(MLS_EINPUT, "%sexpected %s", prefix,
		    spec_usage(p->type));
	p->low = nums[0];
	p->high = nums[1];
	p->step = nnum == 3 ? nums[2] : 0;
	if (nnum == 3 && p->step <= 0)
		return mls_error_set(MLS_EINPUT, "%sstep must be > 0", prefix);
	return 0;
}

int
mls_space_add_spec(struct mls_space *sp, const char *spec)
{
	struct mls_param p = { 0 };
	struct mls_buf prefix = MLS_BUF_INIT;
	const char *eq;
	int rc;

	mls_buf_addf(&prefix, "-p '%s': ", spec);
	if ((rc = mls_buf_error(&prefix)) < 0)
		goto out;
	if ((eq = strchr(spec, '=')) == NULL || eq == spec) {
		rc = mls_error_set(MLS_EINPUT, "%sexpected NAME=TYPE:ARGS", prefix.buf);
		goto out;
	}
	if ((p.name = strndup(spec, (size_t)(eq - spec))) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = parse_body(&p, eq + 1, prefix.buf)) < 0)
		goto out;
	mls_buf_reset(&prefix);
	mls_buf_addf(&prefix, "-p '%s': ", spec);
	if ((rc = mls_buf_error(&prefix)) < 0)
		goto out;
	/* space_add says "-p 'SPEC': parameter 'x': ..." */
	rc = space_add(sp, &p, prefix.buf);
out:
	param_release(&p);
	mls_buf_release(&prefix);
	return rc;
}

/* ---- JSON documents -------------------------------------------------------- */

/* Number at key (NULL/absent: *present = 0). */
static int
get_num(const json_t *o, const char *key, double *out, int *present)
{
	json_t *v = json_object_get(o, key);

	*present = v != NULL && !json_is_null(v);
	if (!*present)
		return 0;
	if (!json_is_number(v))
		return -1;
	*out = json_number_value(v);
	return 0;
}

/* Fill p from an object with numeric keys lo/hi/st (st may be NULL). */
static int
get_range(struct mls_param *p, const json_t *o, const char *lo, const char *hi,
    const char *st, const char *prefix)
{
	int has;

	if (get_num(o, lo, &p->low, &has) < 0 || !has)
		return mls_error_set(MLS_EINPUT, "%sparameter '%s': '%s' must be a "
		    "number", prefix, p->name, lo);
	if (get_num(o, hi, &p->high, &has) < 0 || !has)
		return mls_error_set(MLS_EINPUT, "%sparameter '%s': '%s' must be a "
		    "number", prefix, p->name, hi);
	p->step = 0;
	if (st != NULL && (get_num(o, st, &p->step, &has) < 0 ||
	    (has && p->step <= 0)))
		return mls_error_set(MLS_EINPUT, "%sparameter '%s': '%s' must be a "
		    "number > 0", prefix, p->name, st);
	return 0;
}

static int
get_values(struct mls_param *p, const json_t *o, const char *key, const char *prefix)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_array(v))
		return mls_error_set(MLS_EINPUT, "%sparameter '%s': '%s' must be a "
		    "list", prefix, p->name, key);
	p->type = MLS_PARAM_CHOICE;
	if ((p->values = json_deep_copy(v)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	return 0;
}

static int
get_fixed(struct mls_param *p, json_t *v, const char *prefix)
{
	if (v == NULL)
		return mls_error_set(MLS_EINPUT, "%sparameter '%s': fixed needs a "
		    "value", prefix, p->name);
	p->type = MLS_PARAM_FIXED;
	if ((p->values = json_deep_copy(v)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	return 0;
}

static int
parse_ours(struct mls_param *p, const json_t *o, const char *prefix)
{
	const char *t = json_string_value(json_object_get(o, "type"));

	if (t == NULL || type_parse(t, strlen(t), &p->type) < 0)
		return mls_error_set(MLS_EINPUT, "%sparameter '%s': unknown type "
		    "'%s' (expected uniform, loguniform, int, intlog, choice or fixed)",
		    prefix, p->name, t ? t : "?");
	switch (p->type) {
	case MLS_PARAM_CHOICE:
		return get_values(p, o, "values", prefix);
	case MLS_PARAM_FIXED:
		return get_fixed(p, json_object_get(o, "value"), prefix);
	default:
		return get_range(p, o, "low", "high",
		    json_object_get(o, "q") ? "q" : "step", prefix);
	}
}

static int
parse_hpogrid(struct mls_param *p, const json_t *o, const char *prefix)
{
	const char *m = json_string_value(json_object_get(o, "method"));
	json_t *dim = json_object_get(o, "dimension");
	int rc;

	if (m == NULL)
		m = "?";
	if (strcmp(m, "fixed") == 0) {
		if (json_is_object(dim) && json_object_get(dim, "value"))
			dim = json_object_get(dim, "value");
		return get_fixed(p, dim, prefix);
	}
	if (!json_is_object(dim))
		return mls_error_set(MLS_EINPUT, "%sparameter '%s': 'dimension' must "
		    "be an object", prefix, p->name);
	if (strcmp(m, "categorical") == 0 || strcmp(m, "choice") == 0)
		return get_values(p, dim, "categories", prefix);
	if (strcmp(m, "uniform") == 0 || strcmp(m, "quniform") == 0)
		p->type = MLS_PARAM_UNIFORM;
	else if (strcmp(m, "loguniform") == 0 || strcmp(m, "qloguniform") == 0)
		p->type = MLS_PARAM_LOGUNIFORM;
	else if (strcmp(m, "uniformint") == 0 || strcmp(m, "randint") == 0)
		p->type = MLS_PARAM_INT;
	else
		return mls_error_set(MLS_EINPUT, "%sparameter '%s': method '%s' is "
		    "not supported (expected categorical, uniform, quniform, "
		    "uniformint, loguniform, qloguniform or fixed)", prefix, p->name, m);
	if ((rc = get_range(p, dim, "low", "high", m[0] == 'q' ? "q" : NULL,
	    prefix)) < 0)
		return rc;
	if (m[0] == 'q' && p->step == 0)
		return mls_error_set(MLS_EINPUT, "%sparameter '%s': %s needs 'q'",
		    prefix, p->name, m);
	return 0;
}

static int
parse_wandb(struct mls_param *p, const json_t *o, const char *prefix)
{
	const char *d = json_string_value(json_object_get(o, "distribution"));
	json_t *mn = json_object_get(o, "min"), *mx = json_object_get(o, "max");
	int rc, q;

	if (d == NULL) {
		if (json_object_get(o, "values"))
			d = "categorical";
		else if (json_object_get(o, "value"))
			d = "constant";
		else if (json_is_integer(mn) && json_is_integer(mx))
			d = "int_uniform";
		else
			d = "uniform";
	}
	if (strcmp(d, "constant") == 0)
		return get_fixed(p, json_object_get(o, "value"), prefix);
	if (strcmp(d, "categorical") == 0)
		return get_values(p, o, "values", prefix);
	q = strncmp(d, "q_", 2) == 0;
	if (strcmp(d, "uniform") == 0 || strcmp(d, "q_uniform") == 0)
		p->type = MLS_PARAM_UNIFORM;
	else if (strcmp(d, "int_uniform") == 0)
		p->type = MLS_PARAM_INT;
	else if (strcmp(d, "log_uniform_values") == 0 ||
	    strcmp(d, "q_log_uniform_values") == 0 ||
	    strcmp(d, "log_uniform") == 0 || strcmp(d, "q_log_uniform") == 0)
		p->type = MLS_PARAM_LOGUNIFORM;
	else
		return mls_error_set(MLS_EINPUT, "%sparameter '%s': distribution '%s' "
		    "is not supported (expected constant, categorical, uniform, "
		    "int_uniform, q_uniform, log_uniform_values, q_log_uniform_values "
		    "or log_uniform)", prefix, p->name, d);
	if ((rc = get_range(p, o, "min", "max", q ? "q" : NULL, prefix)) < 0)
		return rc;
	if (q && p->step == 0)
		p->step = 1;	/* W&B's default q */
	if (strcmp(d, "log_uniform") == 0 || strcmp(d, "q_log_uniform") == 0) {
		p->low = exp(p->low);	/* min/max are natural-log exponents */
		p->high = exp(p->high);
	}
	return 0;
}

/* One parameter from its JSON description, in any dialect. */
static int
parse_param(struct mls_space *sp, const char *name, const json_t *v,
    const char *prefix)
{
	struct mls_param p = { 0 };
	struct mls_buf pre = MLS_BUF_INIT;
	int rc;

	if ((p.name = strdup(name)) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	if (json_is_string(v)) {
		mls_buf_addf(&pre, "%sparameter '%s': ", prefix, name);
		if ((rc = mls_buf_error(&pre)) < 0)
			goto out;
		rc = parse_body(&p, json_string_value(v), pre.buf);
	} else if (json_is_array(v)) {
		p.type = MLS_PARAM_CHOICE;
		rc = (p.values = json_deep_copy(v)) == NULL ?
		    mls_error_set(MLS_ENOMEM, "out of memory") : 0;
	} else if (!json_is_object(v)) {
		rc = mls_error_set(MLS_EINPUT, "%sparameter '%s': expected an object "
		    "or a string", prefix, name);
	} else if (json_object_get(v, "type") != NULL) {
		rc = parse_ours(&p, v, prefix);
	} else if (json_object_get(v, "method") != NULL) {
		rc = parse_hpogrid(&p, v, prefix);
	} else if (json_object_get(v, "distribution") != NULL ||
	    json_object_get(v, "values") != NULL ||
	    json_object_get(v, "value") != NULL ||
	    json_object_get(v, "min") != NULL) {
		rc = parse_wandb(&p, v, prefix);
	} else {
		rc = mls_error_set(MLS_EINPUT, "%sparameter '%s': expected \"type\", "
		    "\"method\" (hpogrid) or \"distribution\" (W&B)", prefix, name);
	}
	if (rc < 0)
		goto out;
	rc = space_add(sp, &p, prefix);
out:
	param_release(&p);
	mls_buf_release(&pre);
	return rc;
}

/* Where a document came from, so that a message can name a key's line. */
struct src {
	const char	*name;
	struct fy_node	*root;		/* a YAML document's, else NULL */
	int		 canonical;	/* mls_space_to_json's: no wrapper */
};

/*
 * "NAME:LINE:COLUMN: " of key in the mapping at path parent ("" for the
 * top, or "/a/b") when the document is YAML, else "NAME: ".
 */
static void
key_where(struct mls_buf *b, const struct src *src, const char *parent,
    const char *key)
{
	struct fy_node *map = src->root;
	struct fy_node_pair *pair;
	struct fy_token *tok;
	const struct fy_mark *m;

	if (map != NULL && *parent != '\0')
		map = fy_node_by_path(map, parent, FY_NT, FYNWF_DONT_FOLLOW);
	if (map != NULL && fy_node_get_type(map) == FYNT_MAPPING &&
	    (pair = fy_node_mapping_lookup_pair_by_string(map, key, FY_NT)) != NULL &&
	    (tok = fy_node_get_scalar_token(fy_node_pair_key(pair))) != NULL &&
	    (m = fy_token_start_mark(tok)) != NULL) {
		mls_buf_addf(b, "%s:%d:%d: ", src->name, m->line + 1, m->column + 1);
		return;
	}
	mls_buf_addf(b, "%s: ", src->name);
}

/* MLS_EINPUT "WHERE: what" for key in the mapping at parent. */
static int
key_error(const struct src *src, const char *parent, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
key_error(const struct src *src, const char *parent, const char *key,
    const char *fmt, ...)
{
	struct mls_buf b = MLS_BUF_INIT;
	va_list ap;
	int rc;

	key_where(&b, src, parent, key);
	va_start(ap, fmt);
	mls_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	rc = mls_buf_error(&b) < 0 ? MLS_ENOMEM :
	    mls_error_set(MLS_EINPUT, "%s", b.buf);
	mls_buf_release(&b);
	return rc;
}

/* The first key of o not in the NULL-terminated list ok, or NULL. */
static const char *
unknown_key(const json_t *o, const char *const ok[])
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)o, k, v) {
		for (i = 0; ok[i] != NULL && strcmp(ok[i], k) != 0; i++)
			;
		if (ok[i] == NULL)
			return k;
	}
	return NULL;
}

static const char *const wandb_param_keys[] = { "distribution", "values",
	"value", "min", "max", "q", NULL };

/*
 * W&B's early_terminate as the ASHA pruner: {"kind": "asha",
 * "min_resource": n, "reduction_factor": eta} into m.
 */
static int
wandb_early_terminate(const struct src *src, const json_t *et, json_t *m)
{
	static const char *const ok[] = { "type", "min_iter", "max_iter", "s",
		"eta", "strict", NULL };
	const char *k, *type = json_string_value(json_object_get(et, "type"));
	json_t *mi = json_object_get(et, "min_iter");
	json_t *ma = json_object_get(et, "max_iter");
	json_t *sb = json_object_get(et, "s");
	json_t *eta = json_object_get(et, "eta");
	long rf = 3, min = 0;

	if (!json_is_object(et))
		return key_error(src, "", "early_terminate", "early_terminate: "
		    "expected a mapping");
	if ((k = unknown_key(et, ok)) != NULL)
		return key_error(src, "/early_terminate", k, "early_terminate: "
		    "key '%s' is not supported (mls reads type, min_iter, max_iter, "
		    "s and eta)", k);
	if (type == NULL || strcmp(type, "hyperband") != 0)
		return key_error(src, "/early_terminate", "type", "early_terminate: "
		    "type '%s' is not supported (expected hyperband, run as the "
		    "asha pruner)", type ? type : "");
	if (json_is_true(json_object_get(et, "strict")))
		return key_error(src, "/early_terminate", "strict", "early_terminate: "
		    "strict: true is not supported (the asha pruner keeps the top "
		    "1/eta at each rung)");
	if (eta != NULL && (!json_is_integer(eta) || json_integer_value(eta) < 2))
		return key_error(src, "/early_terminate", "eta", "early_terminate: "
		    "eta: expected an integer >= 2");
	if (eta != NULL)
		rf = (long)json_integer_value(eta);
	if (mi != NULL) {
		if (!json_is_integer(mi) || json_integer_value(mi) < 1)
			return key_error(src, "/early_terminate", "min_iter",
			    "early_terminate: min_iter: expected an integer >= 1");
		min = (long)json_integer_value(mi);
	} else if (ma != NULL || sb != NULL) {
		/* brackets at max_iter / eta^k, k = 1..s: the first one */
		double d;
		if (!json_is_integer(ma) || json_integer_value(ma) < 1 ||
		    !json_is_integer(sb) || json_integer_value(sb) < 1)
			return key_error(src, "/early_terminate", ma ? "max_iter" :
			    "s", "early_terminate: max_iter and s: expected "
			    "integers >= 1, given together");
		d = (double)json_integer_value(ma) / pow((double)rf,
		    (double)json_integer_value(sb));
		min = d < 1 ? 1 : (long)d;
	} else {
		return key_error(src, "", "early_terminate", "early_terminate: "
		    "hyperband needs min_iter, or max_iter and s");
	}
	json_object_set_new(m, "prune", json_pack("{s:s,s:I,s:I}", "kind", "asha",
	    "min_resource", (json_int_t)min, "reduction_factor", (json_int_t)rf));
	return 0;
}

/*
 * W&B's program and command as the trial's command: ${env} is dropped (a
 * trial has its submitter's environment), ${interpreter} is python,
 * ${program} the program, ${args} --NAME={NAME} for each parameter and
 * ${args_no_hyphens} NAME={NAME}.  Without command: ${env}
 * ${interpreter} ${program} ${args}, as W&B's agent runs.
 */
static int
wandb_command(const struct mls_space *sp, const struct src *src,
    const json_t *doc, json_t *m)
{
	static const char *const dflt[] = { "${env}", "${interpreter}",
		"${program}", "${args}" };
	const char *prog = json_string_value(json_object_get(doc, "program"));
	const json_t *cmd = json_object_get(doc, "command");
	struct mls_buf w = MLS_BUF_INIT;
	json_t *argv = NULL;
	size_t i, j, n;
	int rc = 0;

	if (json_object_get(doc, "program") != NULL && prog == NULL)
		return key_error(src, "", "program", "program: expected a string");
	if (cmd != NULL && !json_is_array(cmd))
		return key_error(src, "", "command", "command: expected a list");
	if (prog == NULL && cmd == NULL)
		return 0;
	if ((argv = json_array()) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	n = cmd != NULL ? json_array_size(cmd) : sizeof(dflt) / sizeof(dflt[0]);
	for (i = 0; i < n; i++) {
		const char *a = cmd != NULL ? json_string_value(json_array_get(cmd,
		    i)) : dflt[i];
		if (a == NULL) {
			rc = key_error(src, "", "command", "command[%zu]: expected "
			    "a string", i);
			goto out;
		}
		if (strcmp(a, "${env}") == 0)
			continue;
		if (strcmp(a, "${interpreter}") == 0) {
			json_array_append_new(argv, json_string("python"));
		} else if (strcmp(a, "${program}") == 0) {
			if (prog == NULL) {
				rc = key_error(src, "", "command", "command: "
				    "${program} without a 'program' key");
				goto out;
			}
			json_array_append_new(argv, json_string(prog));
		} else if (strcmp(a, "${args}") == 0 ||
		    strcmp(a, "${args_no_hyphens}") == 0) {
			for (j = 0; j < sp->n; j++) {
				mls_buf_reset(&w);
				mls_buf_addf(&w, "%s%s={%s}", strcmp(a, "${args}") == 0 ? "--" : "",
				    sp->p[j].name, sp->p[j].name);
				if ((rc = mls_buf_error(&w)) < 0)
					goto out;
				json_array_append_new(argv, json_string(w.buf));
			}
		} else if (strncmp(a, "${", 2) == 0) {
			rc = key_error(src, "", "command", "command: '%s' is not "
			    "supported (expected ${env}, ${interpreter}, ${program}, "
			    "${args} or ${args_no_hyphens})", a);
			goto out;
		} else {
			json_array_append_new(argv, json_string(a));
		}
	}
	if (json_array_size(argv) == 0) {
		rc = key_error(src, "", "command", "command: empty");
		goto out;
	}
	json_object_set_new(m, "command", argv);
	argv = NULL;
out:
	json_decref(argv);
	mls_buf_release(&w);
	return rc;
}

/*
 * The top level of a file whose parameters sit under "parameters" (W&B,
 * ours): every key is honoured or refused.  Adds "prune", "command",
 * "trials", "name" and "env" to *meta (created when needed).
 */
static int
top_level(const struct mls_space *sp, const struct src *src, const json_t *doc,
    json_t **meta)
{
	static const char *const ok[] = { "parameters", "method", "algorithm",
		"metric", "objective", "name", "description", "program",
		"command", "early_terminate", "run_cap", "project", "entity",
		NULL };
	static const char *const metric_ok[] = { "name", "goal", "metric",
		"mode", NULL };
	const json_t *v, *metric = json_object_get(doc, "metric");
	const char *k;
	json_t *m = *meta, *env = NULL;
	int rc;

	if ((k = unknown_key(doc, ok)) != NULL)
		return key_error(src, "", k, "key '%s' is not supported (mls "
		    "reads parameters, method, metric, program, command, "
		    "early_terminate, run_cap, name, description, project and "
		    "entity)", k);
	if (json_is_object(metric) && (k = unknown_key(metric, metric_ok)) != NULL)
		return key_error(src, "/metric", k, "metric: key '%s' is not "
		    "supported (mls reads name and goal%s)", k,
		    strcmp(k, "target") == 0 ? "; it does not stop at a target "
		    "value" : "");
	if (m == NULL && (m = json_object()) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	if ((v = json_object_get(doc, "early_terminate")) != NULL &&
	    (rc = wandb_early_terminate(src, v, m)) < 0)
		goto out;
	if ((rc = wandb_command(sp, src, doc, m)) < 0)
		goto out;
	if ((v = json_object_get(doc, "run_cap")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1) {
			rc = key_error(src, "", "run_cap", "run_cap: expected an "
			    "integer >= 1");
			goto out;
		}
		json_object_set(m, "trials", (json_t *)v);
	}
	if ((v = json_object_get(doc, "name")) != NULL) {
		if (!json_is_string(v)) {
			rc = key_error(src, "", "name", "name: expected a string");
			goto out;
		}
		json_object_set(m, "name", (json_t *)v);
	}
	/* where W&B's agent logs the runs: the same variables it sets */
	for (int i = 0; i < 2; i++) {
		const char *key = i == 0 ? "project" : "entity";
		if ((v = json_object_get(doc, key)) == NULL)
			continue;
		if (!json_is_string(v)) {
			rc = key_error(src, "", key, "%s: expected a string", key);
			goto out;
		}
		if (env == NULL && (env = json_object()) == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
		json_object_set(env, i == 0 ? "WANDB_PROJECT" : "WANDB_ENTITY",
		    (json_t *)v);
	}
	if (env != NULL) {
		json_object_set_new(m, "env", env);
		env = NULL;
	}
	if (json_object_size(m) == 0) {
		if (m != *meta)
			json_decref(m);
		return 0;
	}
	*meta = m;
	m = NULL;
	rc = 0;
out:
	if (m != NULL && m != *meta)
		json_decref(m);
	json_decref(env);
	return rc;
}

static const char *
algorithm_name(const char *m)
{
	if (strcmp(m, "bayes") == 0 || strcmp(m, "bayesian") == 0 ||
	    strcmp(m, "hyperopt") == 0)
		return "tpe";
	return m;
}

/* {"algorithm":..., "objective":{"metric":..,"goal":..}} from the top level. */
static int
build_meta(const json_t *doc, json_t **meta)
{
	const char *alg, *metric = NULL, *goal = NULL;
	json_t *m, *obj, *o;

	*meta = NULL;
	alg = json_string_value(json_object_get(doc, "algorithm"));
	if (alg == NULL)
		alg = json_string_value(json_object_get(doc, "method"));
	obj = json_object_get(doc, "objective");
	if (obj == NULL)
		obj = json_object_get(doc, "metric");
	if (json_is_string(obj)) {
		metric = json_string_value(obj);
	} else if (json_is_object(obj)) {
		metric = json_string_value(json_object_get(obj, "metric"));
		if (metric == NULL)
			metric = json_string_value(json_object_get(obj, "name"));
		goal = json_string_value(json_object_get(obj, "goal"));
		if (goal == NULL)
			goal = json_string_value(json_object_get(obj, "mode"));
	}
	if (goal != NULL && (strcmp(goal, "min") == 0 || strcmp(goal, "minimise") == 0))
		goal = "minimize";
	if (goal != NULL && (strcmp(goal, "max") == 0 || strcmp(goal, "maximise") == 0))
		goal = "maximize";
	if (alg == NULL && metric == NULL && goal == NULL)
		return 0;
	if ((m = json_object()) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	if (alg != NULL)
		json_object_set_new(m, "algorithm", json_string(algorithm_name(alg)));
	if (metric != NULL || goal != NULL) {
		o = json_object();
		if (metric != NULL)
			json_object_set_new(o, "metric", json_string(metric));
		if (goal != NULL)
			json_object_set_new(o, "goal", json_string(goal));
		json_object_set_new(m, "objective", o);
	}
	*meta = m;
	return 0;
}

static int
load_doc(struct mls_space *sp, const json_t *doc, const struct src *src,
    json_t **meta)
{
	struct mls_buf prefix = MLS_BUF_INIT, path = MLS_BUF_INIT;
	const char *name = src->name;
	const json_t *params = doc;
	json_t *m = NULL, *v;
	const char *key, *k;
	int rc;

	if (meta != NULL)
		*meta = NULL;
	mls_buf_addf(&prefix, "%s: ", name);
	if ((rc = mls_buf_error(&prefix)) < 0)
		goto out;
	if (!json_is_object(doc)) {
		rc = mls_error_set(MLS_EINPUT, "%sexpected an object of parameters",
		    prefix.buf);
		goto out;
	}
	/* canonical: a parameter may be called "parameters" (or "method") */
	if (src->canonical)
		params = doc;
	else if (json_is_object(json_object_get(doc, "parameters")))
		params = json_object_get(doc, "parameters");	/* W&B, ours */
	else if (json_is_object(json_object_get(doc, "search_space")))
		params = json_object_get(doc, "search_space");	/* hpogrid config */
	else if (json_is_string(json_object_get(doc, "method")) &&
	    json_is_object(json_object_get(doc, "dimension")))
		params = json_object_get(doc, "dimension");	/* phpo wrapper */
	if (params != doc && (rc = build_meta(doc, &m)) < 0)
		goto out;
	if (json_object_size(params) == 0) {
		rc = mls_error_set(MLS_EINPUT, "%sno parameters", prefix.buf);
		goto out;
	}
	json_object_foreach((json_t *)params, key, v) {
		if ((rc = parse_param(sp, key, v, prefix.buf)) < 0)
			goto out;
		/* a W&B parameter: every key honoured or refused */
		if (json_is_object(v) && json_object_get(v, "type") == NULL &&
		    json_object_get(v, "method") == NULL &&
		    (k = unknown_key(v, wandb_param_keys)) != NULL) {
			mls_buf_reset(&path);
			mls_buf_addf(&path, "%s/%s", params == doc ? "" :
			    "/parameters", key);
			if ((rc = mls_buf_error(&path)) < 0)
				goto out;
			rc = key_error(src, path.buf, k, "parameter '%s': key '%s' "
			    "is not supported (mls reads distribution, values, "
			    "value, min, max and q)", key, k);
			goto out;
		}
	}
	if (params == json_object_get(doc, "parameters") &&
	    (rc = top_level(sp, src, doc, &m)) < 0)
		goto out;
	if (meta != NULL) {
		*meta = m;
		m = NULL;
	}
	rc = 0;
out:
	json_decref(m);
	mls_buf_release(&prefix);
	mls_buf_release(&path);
	return rc;
}

int
mls_space_load_json(struct mls_space *sp, const json_t *doc, const char *name,
    json_t **meta)
{
	struct src src = { .name = name, .root = NULL };

	return load_doc(sp, doc, &src, meta);
}

/* ---- YAML -------------------------------------------------------------- */

static void
diag_quiet(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag;
	(void)user;
	(void)buf;
	(void)len;
}

static json_t *
yaml_scalar(struct fy_node *fyn)
{
	size_t len;
	const char *s = fy_node_get_scalar(fyn, &len);

	if (s == NULL)
		return json_null();
	if (fy_node_get_style(fyn) != FYNS_PLAIN)
		return json_stringn(s, len);
	if (len == 0 || (len == 1 && s[0] == '~') ||
	    (len == 4 && (memcmp(s, "null", 4) == 0 || memcmp(s, "Null", 4) == 0 ||
	    memcmp(s, "NULL", 4) == 0)))
		return json_null();
	if ((len == 4 && memcmp(s, "TRUE", 4) == 0))
		return json_true();
	if ((len == 5 && memcmp(s, "FALSE", 5) == 0))
		return json_false();
	return scalar_value(s, len);
}

/* Convert a YAML node to JSON; *err set on an unsupported key. */
static json_t *
yaml_to_json(struct fy_node *fyn, int depth)
{
	struct fy_node_pair *pair;
	struct fy_node *item, *k;
	void *iter = NULL;
	json_t *j, *v;
	const char *ks;
	size_t klen;
	char *kcopy;

	if (depth > 64)
		return NULL;
	switch (fy_node_get_type(fyn)) {
	case FYNT_SEQUENCE:
		if ((j = json_array()) == NULL)
			return NULL;
		while ((item = fy_node_sequence_iterate(fyn, &iter)) != NULL) {
			if ((v = yaml_to_json(item, depth + 1)) == NULL ||
			    json_array_append_new(j, v) < 0) {
				json_decref(j);
				return NULL;
			}
		}
		return j;
	case FYNT_MAPPING:
		if ((j = json_object()) == NULL)
			return NULL;
		while ((pair = fy_node_mapping_iterate(fyn, &iter)) != NULL) {
			k = fy_node_pair_key(pair);
			ks = fy_node_get_type(k) == FYNT_SCALAR ?
			    fy_node_get_scalar(k, &klen) : NULL;
			if (ks == NULL || (kcopy = strndup(ks, klen)) == NULL) {
				json_decref(j);
				return NULL;
			}
			v = yaml_to_json(fy_node_pair_value(pair), depth + 1);
			if (v == NULL || json_object_set_new(j, kcopy, v) < 0) {
				free(kcopy);
				json_decref(j);
				return NULL;
			}
			free(kcopy);
		}
		return j;
	default:
		return yaml_scalar(fyn);
	}
}

/*
 * Count the values of a YAML document as if its aliases were expanded,
 * stopping at the budget: a 600-byte "billion laughs" would otherwise
 * expand to gigabytes when the document is resolved.  -1 when over.
 */
#define YAML_MAX_VALUES	1000000

static int
yaml_budget(struct fy_node *fyn, size_t *left, int depth)
{
	struct fy_node_pair *pair;
	struct fy_node *item;
	void *iter = NULL;

	if (fyn == NULL)
		return 0;
	if (*left == 0 || depth > 128)
		return -1;
	(*left)--;
	if (fy_node_is_alias(fyn))
		return yaml_budget(fy_node_resolve_alias(fyn), left, depth + 1);
	switch (fy_node_get_type(fyn)) {
	case FYNT_SEQUENCE:
		while ((item = fy_node_sequence_iterate(fyn, &iter)) != NULL)
			if (yaml_budget(item, left, depth + 1) < 0)
				return -1;
		break;
	case FYNT_MAPPING:
		while ((pair = fy_node_mapping_iterate(fyn, &iter)) != NULL)
			if (yaml_budget(fy_node_pair_key(pair), left, depth + 1) < 0 ||
			    yaml_budget(fy_node_pair_value(pair), left, depth + 1) < 0)
				return -1;
		break;
	default:
		break;
	}
	return 0;
}

/* The JSON of a YAML file, and its document (for lines) in *fydp. */
/*
 * Check that the file at fp is UTF-8 (YAML's encoding here); the line and
 * column (from 1, in bytes) of the first bad character in *line, *col.  Before
 * libfyaml sees it: libfyaml 0.7.12 loops for ever on a directive holding
 * a bad byte ("%\xc3").  0 or -1.
 */
static int
utf8_check(FILE *fp, unsigned long *line, unsigned long *col)
{
	unsigned long ln = 1, cl = 0, start = 0;
	unsigned char lo = 0x80, hi = 0xbf;
	int c, need = 0;

	while ((c = getc(fp)) != EOF) {
		cl++;
		if (need > 0) {
			if (c < lo || c > hi) {
				cl = start;
				goto bad;
			}
			need--;
			lo = 0x80, hi = 0xbf;
			continue;
		}
		if (c == '\n') {
			ln++, cl = 0;
			continue;
		}
		if (c < 0x80)
			continue;
		start = cl;
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			lo = c == 0xe0 ? 0xa0 : 0x80;	/* no overlong */
			hi = c == 0xed ? 0x9f : 0xbf;	/* no surrogate */
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			lo = c == 0xf0 ? 0x90 : 0x80;
			hi = c == 0xf4 ? 0x8f : 0xbf;	/* up to U+10FFFF */
		} else {
			goto bad;
		}
	}
	if (need == 0)
		return 0;
	cl = start;
bad:
	*line = ln;
	*col = cl;
	return -1;
}

static int
load_yaml(const char *path, json_t **out, struct fy_document **fydp)
{
	struct fy_diag_cfg dcfg;
	struct fy_parse_cfg pcfg;
	struct fy_diag *diag = NULL;
	struct fy_document *fyd = NULL;
	struct fy_diag_error *de;
	struct fy_node *root;
	void *iter = NULL;
	unsigned long line, col;
	json_t *j;
	FILE *fp;
	int rc;

	*out = NULL;
	if ((fp = fopen(path, "r")) == NULL)
		return mls_error_set_errno(errno == ENOENT ? MLS_ENOTFOUND : MLS_EIO,
		    "open '%s'", path);
	if (utf8_check(fp, &line, &col) < 0) {
		fclose(fp);
		return mls_error_set(MLS_EINPUT, "%s:%lu:%lu: not valid UTF-8",
		    path, line, col);
	}
	fclose(fp);
	memset(&dcfg, 0, sizeof(dcfg));
	dcfg.output_fn = diag_quiet;
	dcfg.level = FYET_ERROR;
	dcfg.module_mask = ~0U;
	if ((diag = fy_diag_create(&dcfg)) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	fy_diag_set_collect_errors(diag, true);
	memset(&pcfg, 0, sizeof(pcfg));
	pcfg.flags = FYPCF_QUIET | FYPCF_JSON_NONE;
	pcfg.diag = diag;
	fyd = fy_document_build_from_file(&pcfg, path);
	if (fyd == NULL) {
		de = fy_diag_errors_iterate(diag, &iter);
		if (de != NULL)
			rc = mls_error_set(MLS_EINPUT, "%s:%d:%d: %s", path,
			    de->line, de->column, de->msg);
		else
			rc = mls_error_set(MLS_EINPUT, "%s: not valid YAML", path);
		goto out;
	}
	if ((root = fy_document_root(fyd)) == NULL) {
		rc = mls_error_set(MLS_EINPUT, "%s: empty document", path);
		goto out;
	}
	/* aliases are resolved only once their expansion is known small */
	size_t left = YAML_MAX_VALUES;
	if (yaml_budget(root, &left, 0) < 0) {
		rc = mls_error_set(MLS_EINPUT, "%s: more than %d values, or "
		    "nested more than 128 deep, once its aliases are expanded",
		    path, YAML_MAX_VALUES);
		goto out;
	}
	if (fy_document_resolve(fyd) != 0) {
		de = fy_diag_errors_iterate(diag, &iter);
		if (de != NULL)
			rc = mls_error_set(MLS_EINPUT, "%s:%d:%d: %s", path,
			    de->line, de->column, de->msg);
		else
			rc = mls_error_set(MLS_EINPUT, "%s: an alias cannot be "
			    "resolved", path);
		goto out;
	}
	if ((root = fy_document_root(fyd)) == NULL) {
		rc = mls_error_set(MLS_EINPUT, "%s: empty document", path);
		goto out;
	}
	if ((j = yaml_to_json(root, 0)) == NULL) {
		rc = mls_error_set(MLS_EINPUT, "%s: keys must be scalars and nesting "
		    "at most 64 deep", path);
		goto out;
	}
	*out = j;
	*fydp = fyd;
	fyd = NULL;
	rc = 0;
out:
	fy_document_destroy(fyd);
	if (diag != NULL)
		fy_diag_destroy(diag);
	return rc;
}

static int
has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && strcmp(s + n - m, suf) == 0;
}

int
mls_space_load_file(struct mls_space *sp, const char *path, json_t **meta)
{
	struct fy_document *fyd = NULL;
	struct src src = { .name = path, .root = NULL };
	json_error_t jerr;
	json_t *doc = NULL;
	int rc;

	if (meta != NULL)
		*meta = NULL;
	if (has_suffix(path, ".yaml") || has_suffix(path, ".yml")) {
		if ((rc = load_yaml(path, &doc, &fyd)) < 0)
			return rc;
		src.root = fy_document_root(fyd);
	} else {
		doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
		if (doc == NULL) {
			if (json_error_code(&jerr) == json_error_cannot_open_file)
				return mls_error_set(access(path, F_OK) == 0 ? MLS_EIO :
				    MLS_ENOTFOUND, "open '%s': %s", path, jerr.text);
			return mls_error_set(MLS_EINPUT, "%s:%d:%d: %s", path,
			    jerr.line, jerr.column, jerr.text);
		}
	}
	rc = load_doc(sp, doc, &src, meta);
	json_decref(doc);
	fy_document_destroy(fyd);
	return rc;
}

/* ---- canonical form ------------------------------------------------------- */

json_t *
mls_space_to_json(const struct mls_space *sp)
{
	json_t *j, *o = NULL;
	size_t i;

	if ((j = json_object()) == NULL)
		return NULL;
	for (i = 0; i < sp->n; i++) {
		const struct mls_param *p = &sp->p[i];

		if ((o = json_object()) == NULL)
			goto fail;
		json_object_set_new(o, "type", json_string(type_names[p->type]));
		switch (p->type) {
		case MLS_PARAM_CHOICE:
			json_object_set_new(o, "values", json_deep_copy(p->values));
			break;
		case MLS_PARAM_FIXED:
			json_object_set_new(o, "value", json_deep_copy(p->values));
			break;
		case MLS_PARAM_INT:
		case MLS_PARAM_INTLOG:
			json_object_set_new(o, "low", json_integer((json_int_t)p->low));
			json_object_set_new(o, "high", json_integer((json_int_t)p->high));
			if (p->step > 1)
				json_object_set_new(o, "step",
				    json_integer((json_int_t)p->step));
			break;
		default:
			json_object_set_new(o, "low", json_real(p->low));
			json_object_set_new(o, "high", json_real(p->high));
			if (p->step > 0)
				json_object_set_new(o, "step", json_real(p->step));
			break;
		}
		if (json_object_size(o) < 2 || json_object_set_new(j, p->name, o) < 0)
			goto fail;
		o = NULL;
	}
	return j;
fail:
	json_decref(o);
	json_decref(j);
	return NULL;
}

int
mls_space_from_json(struct mls_space *sp, const json_t *j)
{
	struct src src = { .name = "space", .root = NULL, .canonical = 1 };

	return load_doc(sp, j, &src, NULL);
}

/* ---- values --------------------------------------------------------------- */

long
mls_param_choice_index(const struct mls_param *p, const json_t *v)
{
	size_t i, n = json_array_size(p->values);
	json_t *c;

	for (i = 0; i < n; i++) {
		c = json_array_get(p->values, i);
		if (json_is_number(c) && json_is_number(v)) {
			if (json_number_value(c) == json_number_value(v))
				return (long)i;
		} else if (json_equal(c, (json_t *)v)) {
			return (long)i;
		}
	}
	return -1;
}

double
mls_param_snap(const struct mls_param *p, double x)
{
	double k, kmax;

	if (!(x >= p->low))	/* also NaN */
		x = p->low;
	if (x > p->high)
		x = p->high;
	if (p->step > 0) {
		kmax = floor((p->high - p->low) / p->step + 1e-9);
		k = round((x - p->low) / p->step);
		if (k > kmax)
			k = kmax;
		x = p->low + k * p->step;
		if (x > p->high)
			x = p->high;
	}
	if (is_int_type(p->type))
		x = round(x);
	return x;
}

json_t *
mls_param_number(const struct mls_param *p, double x)
{
	if (is_int_type(p->type))
		return json_integer((json_int_t)llround(x));
	return json_real(x);
}

json_t *
mls_param_from_unit(const struct mls_param *p, double u)
{
	double x, lo, hi, n;

	if (!(u >= 0))
		u = 0;
	if (u >= 1)
		u = nextafter(1.0, 0.0);
	switch (p->type) {
	case MLS_PARAM_CHOICE:
		n = (double)p->nvalues;
		return json_deep_copy(json_array_get(p->values,
		    (size_t)fmin(floor(u * n), n - 1)));
	case MLS_PARAM_FIXED:
		return json_deep_copy(p->values);
	case MLS_PARAM_UNIFORM:
		x = p->low + u * (p->high - p->low);
		break;
	case MLS_PARAM_LOGUNIFORM:
		x = exp(log(p->low) + u * (log(p->high) - log(p->low)));
		break;
	case MLS_PARAM_INT:
		n = floor((p->high - p->low) / p->step) + 1;
		x = p->low + fmin(floor(u * n), n - 1) * p->step;
		break;
	case MLS_PARAM_INTLOG:
	default:
		lo = log(p->low - 0.5);
		hi = log(p->high + 0.5);
		x = exp(lo + u * (hi - lo));
		break;
	}
	return mls_param_number(p, mls_param_snap(p, x));
}

static int
check_one(const struct mls_param *p, const json_t *v, struct mls_buf *why)
{
	double x, k, tol;
	char *s;

	switch (p->type) {
	case MLS_PARAM_CHOICE:
		if (mls_param_choice_index(p, v) >= 0)
			return 0;
		s = json_dumps(v, MLS_JSON_COMPACT | JSON_ENCODE_ANY);
		mls_buf_addf(why, "%s is not one of the choices", s ? s : "value");
		free(s);
		return -1;
	case MLS_PARAM_FIXED:
		if (json_equal(p->values, (json_t *)v) ||
		    (json_is_number(v) && json_is_number(p->values) &&
		    json_number_value(v) == json_number_value(p->values)))
			return 0;
		mls_buf_adds(why, "differs from the fixed value");
		return -1;
	default:
		break;
	}
	if (!json_is_number(v)) {
		mls_buf_adds(why, "expected a number");
		return -1;
	}
	x = json_number_value(v);
	if (is_int_type(p->type) && x != floor(x)) {
		mls_buf_addf(why, "%g is not an integer", x);
		return -1;
	}
	tol = 1e-9 * fmax(1.0, fabs(p->high - p->low));
	if (!(x >= p->low - tol && x <= p->high + tol)) {
		mls_buf_addf(why, "%g is outside [%g, %g]", x, p->low, p->high);
		return -1;
	}
	if (p->step > 0) {
		k = (x - p->low) / p->step;
		if (fabs(k - round(k)) > 1e-6) {
			mls_buf_addf(why, "%g is not low + a multiple of step %g", x,
			    p->step);
			return -1;
		}
	}
	return 0;
}

int
mls_space_check(const struct mls_space *sp, const json_t *params)
{
	struct mls_buf why = MLS_BUF_INIT;
	const char *key;
	json_t *v;
	size_t i;
	int rc = 0;

	if (!json_is_object(params))
		return mls_error_set(MLS_EINPUT, "params: expected an object");
	json_object_foreach((json_t *)params, key, v) {
		if (mls_space_find(sp, key) < 0)
			return mls_error_set(MLS_EINPUT, "parameter '%s': not in the "
			    "search space", key);
	}
	for (i = 0; i < sp->n && rc == 0; i++) {
		const struct mls_param *p = &sp->p[i];

		v = json_object_get(params, p->name);
		if (v == NULL) {
			if (p->type != MLS_PARAM_FIXED)
				rc = mls_error_set(MLS_EINPUT, "parameter '%s': missing",
				    p->name);
			continue;
		}
		if (check_one(p, v, &why) < 0)
			rc = mls_buf_error(&why) < 0 ? MLS_ENOMEM :
			    mls_error_set(MLS_EINPUT, "parameter '%s': %s", p->name,
			    why.buf);
	}
	mls_buf_release(&why);
	return rc;
}
