#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mls_cspec.h"
#include "mls_error.h"
#include "mls_space.h"

#define NOMEM()	mls_error_set(MLS_ENOMEM, "out of memory")

static const char *const reduce_names[] = { "last", "best", "mean" };

const char *
mls_cspec_kind_name(enum mls_cspec_kind k)
{
	return k == MLS_CSPEC_ENSEMBLE ? "ensemble" : "campaign";
}

const char *
mls_reduce_name(enum mls_reduce r)
{
	return r <= MLS_REDUCE_MEAN ? reduce_names[r] : "last";
}

int
mls_reduce_parse(const char *s, enum mls_reduce *out)
{
	for (int i = 0; i <= MLS_REDUCE_MEAN; i++)
		if (s != NULL && strcmp(s, reduce_names[i]) == 0) {
			*out = (enum mls_reduce)i;
			return 0;
		}
	return mls_error_set(MLS_EINPUT, "'%s' is not one of last, best, mean",
	    s ? s : "");
}

int
mls_cspec_set_str(char **field, const char *value)
{
	char *p = NULL;

	if (value != NULL && (p = strdup(value)) == NULL)
		return NOMEM();
	free(*field);
	*field = p;
	return 0;
}

static void
defaults(struct mls_campaign_spec *s, enum mls_cspec_kind kind)
{
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->sampler.multivariate = 1;
	s->sampler.parallel = 1;
	s->folds = 1;
	s->parallel = 1;
	s->resources.cpus = 1;
}

int
mls_cspec_init(struct mls_campaign_spec *s, enum mls_cspec_kind kind)
{
	defaults(s, kind);
	if ((s->env = json_object()) == NULL)
		return NOMEM();
	if (kind == MLS_CSPEC_SEARCH)
		return mls_cspec_set_str(&s->objective.metric, "loss");
	return 0;
}

static void
free_command(struct mls_campaign_spec *s)
{
	for (size_t i = 0; i < s->ncommand; i++)
		free(s->command[i]);
	free(s->command);
	s->command = NULL;
	s->ncommand = 0;
}

void
mls_cspec_release(struct mls_campaign_spec *s)
{
	free(s->id);
	free(s->name);
	mls_space_free(s->space);
	free(s->algorithm);
	free(s->sampler.workdir);
	free(s->prune);
	free(s->quorum_spec);
	free(s->seed_param);
	json_decref(s->configs);
	free(s->from);
	free(s->objective.metric);
	free(s->objective.regex);
	for (size_t i = 0; i < s->nsites; i++)
		free(s->sites[i].name);
	free(s->sites);
	free_command(s);
	json_decref(s->env);
	free(s->sandbox);
	free(s->image);
	defaults(s, s->kind);		/* owns nothing: init it again to reuse */
}

unsigned long long
mls_cspec_id_seed(const char *id)
{
	unsigned long long seed = 0;

	/* the characters after the "c-" prefix, as mls-search always drew it */
	for (int i = 0; id[0] != '\0' && id[1] != '\0' && id[2 + i] && i < 26; i++)
		seed = seed * 31 + (unsigned char)id[2 + i];
	return seed & 0x7fffffffffffULL;
}

int
mls_cspec_add_site(struct mls_campaign_spec *s, const char *name, long cap)
{
	struct mls_cspec_site *v;
	char *n;

	if ((n = strdup(name)) == NULL)
		return NOMEM();
	if ((v = realloc(s->sites, (s->nsites + 1) * sizeof(*v))) == NULL) {
		free(n);
		return NOMEM();
	}
	s->sites = v;
	s->sites[s->nsites].name = n;
	s->sites[s->nsites].cap = cap;
	s->nsites++;
	return 0;
}

int
mls_cspec_set_command(struct mls_campaign_spec *s, int argc, char *const argv[])
{
	char **v;

	if ((v = calloc((size_t)argc + 1, sizeof(*v))) == NULL)
		return NOMEM();
	for (int i = 0; i < argc; i++)
		if ((v[i] = strdup(argv[i])) == NULL) {
			while (i-- > 0)
				free(v[i]);
			free(v);
			return NOMEM();
		}
	free_command(s);
	s->command = v;
	s->ncommand = (size_t)argc;
	return 0;
}

int
mls_objective_parse(struct mls_objective *o, const char *s, const char *default_goal)
{
	const char *colon = strrchr(s, ':');
	const char *goal = default_goal ? default_goal : "min";
	size_t len = colon ? (size_t)(colon - s) : strlen(s);
	char *m;

	if (strncmp(goal, "max", 3) == 0)	/* space files say "maximize" */
		goal = "max";
	else if (strncmp(goal, "min", 3) == 0)
		goal = "min";
	if (colon != NULL)
		goal = colon + 1;
	if (strcmp(goal, "min") != 0 && strcmp(goal, "max") != 0)
		return mls_error_set(MLS_EINPUT, "goal '%s' is not min or max", goal);
	if (len == 0)
		return mls_error_set(MLS_EINPUT, "empty metric name");
	if ((m = strndup(s, len)) == NULL)
		return NOMEM();
	free(o->metric);
	o->metric = m;
	o->goal_max = strcmp(goal, "max") == 0;
	return 0;
}

/* ---- from JSON --------------------------------------------------------- */

static int
bad(const char *path, const char *what)
{
	return mls_error_set(MLS_EINPUT, "campaign spec: field '%s': %s", path, what);
}

/* A string or null (*out NULL) at key; absent leaves *out alone. */
static int
get_str(const json_t *o, const char *key, const char *path, char **out)
{
	const json_t *v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (json_is_null(v))
		return mls_cspec_set_str(out, NULL);
	if (!json_is_string(v))
		return bad(path, "not a string");
	return mls_cspec_set_str(out, json_string_value(v));
}

/* An integer (null is 0) at key; absent leaves *out alone. */
static int
get_long(const json_t *o, const char *key, const char *path, long long *out)
{
	const json_t *v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (json_is_null(v))
		*out = 0;
	else if (json_is_integer(v))
		*out = (long long)json_integer_value(v);
	else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
	    fabs(json_real_value(v)) < 9e18)	/* beyond, the cast is UB */
		*out = (long long)json_real_value(v);
	else
		return bad(path, "not an integer");
	return 0;
}

static int
get_l(const json_t *o, const char *key, const char *path, long *out)
{
	long long v = *out;
	int rc;

	if ((rc = get_long(o, key, path, &v)) == 0)
		*out = (long)v;
	return rc;
}

static int
get_num(const json_t *o, const char *key, const char *path, double *out)
{
	const json_t *v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (json_is_null(v))
		*out = 0;
	else if (json_is_number(v))
		*out = json_number_value(v);
	else
		return bad(path, "not a number");
	return 0;
}

static int
get_obj(const json_t *o, const char *key, const char *path, const json_t **out)
{
	const json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return bad(path, "not an object");
	*out = v;
	return 0;
}

static int
objective_from_json(struct mls_objective *ob, const json_t *j)
{
	const json_t *v;
	int rc;

	if (j == NULL)
		return 0;
	v = json_object_get(j, "metric");
	if (json_is_null(v)) {
		free(ob->metric);
		ob->metric = NULL;
	} else if ((rc = get_str(j, "metric", "objective.metric", &ob->metric)) < 0) {
		return rc;
	}
	if ((v = json_object_get(j, "goal")) != NULL) {
		const char *g = json_string_value(v);
		if (g == NULL || (strcmp(g, "min") != 0 && strcmp(g, "max") != 0))
			return bad("objective.goal", "not min or max");
		ob->goal_max = strcmp(g, "max") == 0;
	}
	if ((v = json_object_get(j, "reduce")) != NULL && !json_is_null(v) &&
	    mls_reduce_parse(json_string_value(v), &ob->reduce) < 0)
		return bad("objective.reduce", "not one of last, best, mean");
	return get_str(j, "regex", "objective.regex", &ob->regex);
}

static int
sites_from_json(struct mls_campaign_spec *s, const json_t *a)
{
	const json_t *e;
	size_t i;
	int rc;

	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return bad("sites", "not an array");
	if (json_array_size(a) == 0)
		return 0;
	if ((s->sites = calloc(json_array_size(a), sizeof(*s->sites))) == NULL)
		return NOMEM();
	json_array_foreach(a, i, e) {
		char path[64];
		struct mls_cspec_site *site = &s->sites[s->nsites++];
		if (!json_is_object(e))
			return bad("sites", "not an array of objects");
		snprintf(path, sizeof(path), "sites[%zu].name", i);
		if ((rc = get_str(e, "name", path, &site->name)) < 0)
			return rc;
		snprintf(path, sizeof(path), "sites[%zu].cap", i);
		if ((rc = get_l(e, "cap", path, &site->cap)) < 0)
			return rc;
	}
	return 0;
}

static int
command_from_json(struct mls_campaign_spec *s, const json_t *a)
{
	const json_t *e;
	char **argv;
	size_t i;
	int rc;

	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return bad("command", "not an array of strings");
	if ((argv = calloc(json_array_size(a) + 1, sizeof(*argv))) == NULL)
		return NOMEM();
	json_array_foreach(a, i, e) {
		if (!json_is_string(e)) {
			free(argv);
			return bad("command", "not an array of strings");
		}
		argv[i] = (char *)json_string_value(e);	/* copied below */
	}
	rc = mls_cspec_set_command(s, (int)json_array_size(a), argv);
	free(argv);
	return rc;
}

static int
env_from_json(struct mls_campaign_spec *s, const json_t *o)
{
	const char *k;
	json_t *v;

	if (o == NULL)
		return 0;
	json_object_foreach((json_t *)o, k, v)
		if (!json_is_string(v))
			return bad("env", "not an object of strings");
	json_decref(s->env);
	if ((s->env = json_deep_copy(o)) == NULL)
		return NOMEM();
	return 0;
}

static int
space_from_json(struct mls_campaign_spec *s, const json_t *j)
{
	int rc;

	if (j == NULL)
		return 0;
	if ((rc = mls_space_new(&s->space)) < 0)
		return rc;
	if ((rc = mls_space_from_json(s->space, j)) < 0)
		return mls_error_prefix("campaign spec: field 'space'");
	return 0;
}

int
mls_cspec_from_json(struct mls_campaign_spec *s, const json_t *j)
{
	const json_t *o;
	const char *kind;
	long long v;
	int rc;

	kind = json_string_value(json_object_get(j, "kind"));
	if ((rc = mls_cspec_init(s, kind != NULL && strcmp(kind, "ensemble") == 0 ?
	    MLS_CSPEC_ENSEMBLE : MLS_CSPEC_SEARCH)) < 0)
		return rc;
	if (!json_is_object(j))
		return mls_error_set(MLS_EINPUT, "campaign spec: not an object");
	if ((rc = get_str(j, "id", "id", &s->id)) < 0 ||
	    (rc = get_str(j, "name", "name", &s->name)) < 0)
		return rc;
	v = 0;
	if ((rc = get_long(j, "seed", "seed", &v)) < 0)
		return rc;
	s->seed = (unsigned long long)v;
	/* search */
	if ((rc = space_from_json(s, json_object_get(j, "space"))) < 0 ||
	    (rc = get_str(j, "algorithm", "algorithm", &s->algorithm)) < 0 ||
	    (rc = get_str(j, "prune", "prune", &s->prune)) < 0 ||
	    (rc = get_obj(j, "prune_opts", "prune_opts", &o)) < 0)
		return rc;
	if (o != NULL && ((rc = get_l(o, "min_resource", "prune_opts.min_resource",
	    &s->prune_opts.min_resource)) < 0 || (rc = get_l(o, "reduction_factor",
	    "prune_opts.reduction_factor", &s->prune_opts.reduction_factor)) < 0))
		return rc;
	if ((rc = get_obj(j, "sampler", "sampler", &o)) < 0)
		return rc;
	if (o != NULL) {
		const json_t *mv = json_object_get(o, "multivariate");
		if (mv != NULL && !json_is_boolean(mv))
			return bad("sampler.multivariate", "not a boolean");
		s->sampler.multivariate = !json_is_false(mv);
		if ((rc = get_l(o, "parallel", "sampler.parallel",
		    &s->sampler.parallel)) < 0 ||
		    (rc = get_l(o, "startup", "sampler.startup", &s->sampler.startup)) < 0 ||
		    (rc = get_str(o, "workdir", "sampler.workdir", &s->sampler.workdir)) < 0)
			return rc;
	}
	/* ensemble */
	if ((rc = get_l(j, "members", "members", &s->members)) < 0)
		return rc;
	s->quorum = s->members;
	if ((rc = get_l(j, "quorum", "quorum", &s->quorum)) < 0 ||
	    (rc = get_str(j, "quorum_spec", "quorum_spec", &s->quorum_spec)) < 0 ||
	    (rc = get_l(j, "retries", "retries", &s->retries)) < 0 ||
	    (rc = get_str(j, "seed_param", "seed_param", &s->seed_param)) < 0 ||
	    (rc = get_l(j, "folds", "folds", &s->folds)) < 0 ||
	    (rc = get_l(j, "per_config", "per_config", &s->per_config)) < 0 ||
	    (rc = get_str(j, "from", "from", &s->from)) < 0)
		return rc;
	if ((o = json_object_get(j, "configs")) != NULL && !json_is_null(o)) {
		if (!json_is_array(o))
			return bad("configs", "not an array");
		if ((s->configs = json_deep_copy(o)) == NULL)
			return NOMEM();
	}
	/* both */
	if ((rc = get_obj(j, "objective", "objective", &o)) < 0 ||
	    (rc = objective_from_json(&s->objective, o)) < 0 ||
	    (rc = get_obj(j, "budget", "budget", &o)) < 0)
		return rc;
	if (o != NULL && ((rc = get_l(o, "trials", "budget.trials",
	    &s->budget.trials)) < 0 ||
	    (rc = get_num(o, "timeout_s", "budget.timeout_s", &s->budget.timeout_s)) < 0 ||
	    (rc = get_l(o, "max_failures", "budget.max_failures",
	    &s->budget.max_failures)) < 0))
		return rc;
	if ((rc = get_l(j, "parallel", "parallel", &s->parallel)) < 0 ||
	    (rc = sites_from_json(s, json_object_get(j, "sites"))) < 0 ||
	    (rc = command_from_json(s, json_object_get(j, "command"))) < 0 ||
	    (rc = get_obj(j, "resources", "resources", &o)) < 0)
		return rc;
	if (o != NULL && ((rc = get_l(o, "cpus", "resources.cpus",
	    &s->resources.cpus)) < 0 ||
	    (rc = get_l(o, "gpus", "resources.gpus", &s->resources.gpus)) < 0 ||
	    (rc = get_long(o, "mem_mb", "resources.mem_mb", &s->resources.mem_mb)) < 0 ||
	    (rc = get_l(o, "time_s", "resources.time_s", &s->resources.time_s)) < 0))
		return rc;
	if ((rc = get_obj(j, "env", "env", &o)) < 0 ||
	    (rc = env_from_json(s, o)) < 0 ||
	    (rc = get_str(j, "sandbox", "sandbox", &s->sandbox)) < 0 ||
	    (rc = get_str(j, "image", "image", &s->image)) < 0)
		return rc;
	return 0;
}

/* ---- to JSON ----------------------------------------------------------- */

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
int_or_null(long long v)
{
	return v > 0 ? json_integer((json_int_t)v) : json_null();
}

/* Set key to v (stolen); count a failure in *bad. */
static void
put(json_t *o, const char *key, json_t *v, int *fail)
{
	if (v == NULL || json_object_set_new(o, key, v) < 0)
		*fail = 1;
}

static json_t *
objective_to_json(const struct mls_objective *ob)
{
	return json_pack("{s:o,s:s,s:s,s:o}", "metric", str_or_null(ob->metric),
	    "goal", ob->goal_max ? "max" : "min", "reduce",
	    mls_reduce_name(ob->reduce), "regex", str_or_null(ob->regex));
}

json_t *
mls_cspec_sampler_json(const struct mls_campaign_spec *s)
{
	json_t *o = json_pack("{s:b,s:I}", "multivariate", s->sampler.multivariate,
	    "parallel", (json_int_t)s->sampler.parallel);

	if (o != NULL && s->sampler.startup > 0)
		json_object_set_new(o, "startup", json_integer(s->sampler.startup));
	if (o != NULL && s->sampler.workdir != NULL)
		json_object_set_new(o, "workdir", json_string(s->sampler.workdir));
	return o;
}

json_t *
mls_cspec_pruner_json(const struct mls_campaign_spec *s)
{
	json_t *o = json_object();

	if (o != NULL && s->prune_opts.min_resource > 0)
		json_object_set_new(o, "min_resource",
		    json_integer(s->prune_opts.min_resource));
	if (o != NULL && s->prune_opts.reduction_factor > 0)
		json_object_set_new(o, "reduction_factor",
		    json_integer(s->prune_opts.reduction_factor));
	return o;
}

static json_t *
sites_to_json(const struct mls_campaign_spec *s)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < s->nsites; i++)
		if (json_array_append_new(a, json_pack("{s:o,s:I}", "name",
		    str_or_null(s->sites[i].name), "cap",
		    (json_int_t)s->sites[i].cap)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
command_to_json(const struct mls_campaign_spec *s)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < s->ncommand; i++)
		if (json_array_append_new(a, json_string(s->command[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/*
 * One key order for both kinds; each kind's keys come where the tools
 * have always put them, so that journals and records read as before.
 */
int
mls_cspec_to_json(const struct mls_campaign_spec *s, json_t **out)
{
	int ens = s->kind == MLS_CSPEC_ENSEMBLE, fail = 0;
	json_t *j;

	*out = NULL;
	if ((j = json_object()) == NULL)
		return NOMEM();
	put(j, "kind", json_string(mls_cspec_kind_name(s->kind)), &fail);
	put(j, "id", str_or_null(s->id), &fail);
	if (!ens) {
		put(j, "space", s->space ? mls_space_to_json(s->space) : json_object(),
		    &fail);
		put(j, "algorithm", str_or_null(s->algorithm), &fail);
	} else {
		put(j, "members", json_integer(s->members), &fail);
		put(j, "quorum", json_integer(s->quorum), &fail);
		put(j, "quorum_spec", json_string(s->quorum_spec ? s->quorum_spec :
		    "1.0"), &fail);
		put(j, "retries", json_integer(s->retries), &fail);
	}
	put(j, "seed", json_integer((json_int_t)s->seed), &fail);
	if (!ens) {
		put(j, "sampler", mls_cspec_sampler_json(s), &fail);
	} else {
		put(j, "seed_param", json_string(s->seed_param ? s->seed_param :
		    "seed"), &fail);
		put(j, "folds", json_integer(s->folds), &fail);
	}
	put(j, "objective", objective_to_json(&s->objective), &fail);
	if (ens && s->configs != NULL) {
		put(j, "configs", json_deep_copy(s->configs), &fail);
		put(j, "per_config", json_integer(s->per_config), &fail);
		put(j, "from", str_or_null(s->from), &fail);
	}
	put(j, "budget", json_pack("{s:I,s:f,s:I}", "trials",
	    (json_int_t)s->budget.trials, "timeout_s", s->budget.timeout_s,
	    "max_failures", (json_int_t)s->budget.max_failures), &fail);
	put(j, "parallel", json_integer(s->parallel), &fail);
	put(j, "sites", sites_to_json(s), &fail);
	if (!ens)
		put(j, "prune", str_or_null(s->prune), &fail);
	if (!ens && (s->prune_opts.min_resource > 0 ||
	    s->prune_opts.reduction_factor > 0))
		put(j, "prune_opts", mls_cspec_pruner_json(s), &fail);
	put(j, "name", str_or_null(s->name), &fail);
	put(j, "command", command_to_json(s), &fail);
	put(j, "resources", json_pack("{s:I,s:I,s:o,s:o}", "cpus",
	    (json_int_t)s->resources.cpus, "gpus", (json_int_t)s->resources.gpus,
	    "mem_mb", int_or_null(s->resources.mem_mb),
	    "time_s", int_or_null(s->resources.time_s)), &fail);
	put(j, "env", s->env ? json_deep_copy(s->env) : json_object(), &fail);
	put(j, "sandbox", str_or_null(s->sandbox), &fail);
	put(j, "image", str_or_null(s->image), &fail);
	if (fail) {
		json_decref(j);
		return NOMEM();
	}
	*out = j;
	return 0;
}

/* ---- the validator ----------------------------------------------------- */

static int
invalid(const struct mls_campaign_spec *s, const char *field, const char *what)
{
	return mls_error_set(MLS_EINPUT, "%s spec: field '%s': %s",
	    mls_cspec_kind_name(s->kind), field, what);
}

int
mls_cspec_check_ensemble(const struct mls_campaign_spec *s)
{
	static const char *const own[] = { "member", "fold", "attempt", "config" };
	size_t nconf = json_array_size(s->configs);

	if (s->members < 1 || s->members > MLS_CSPEC_COUNT_MAX)
		return invalid(s, "members", "not a count from 1 to 1000000");
	if (s->quorum < 1 || s->quorum > s->members)
		return invalid(s, "quorum", "not between 1 and the members");
	if (s->retries < 0 || s->retries > MLS_CSPEC_COUNT_MAX)
		return invalid(s, "retries", "not a count from 0 to 1000000");
	if (s->folds < 1 || s->folds > MLS_CSPEC_COUNT_MAX)
		return invalid(s, "folds", "not a count from 1 to 1000000");
	if (s->seed_param != NULL) {
		if (*s->seed_param == '\0')
			return invalid(s, "seed_param", "empty");
		for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
			if (strcmp(s->seed_param, own[i]) == 0)
				return invalid(s, "seed_param", "one of the ensemble's "
				    "own keys (member, fold, attempt, config)");
	}
	if (nconf > 0 && (s->per_config < 1 ||
	    (size_t)s->per_config * nconf != (size_t)s->members))
		return invalid(s, "per_config", "configs x per_config is not the "
		    "members");
	return 0;
}

int
mls_cspec_check_bounds(const struct mls_campaign_spec *s)
{
	if (s->id == NULL || *s->id == '\0')
		return invalid(s, "id", "missing");
	if (s->parallel < 1 || s->parallel > MLS_CSPEC_COUNT_MAX)
		return invalid(s, "parallel", "not a count from 1 to 1000000");
	if (s->budget.trials < 0 || s->budget.trials > MLS_CSPEC_COUNT_MAX)
		return invalid(s, "budget.trials", "not a count from 0 to 1000000");
	if (s->budget.timeout_s < 0 || !isfinite(s->budget.timeout_s))
		return invalid(s, "budget.timeout_s", "not a duration >= 0");
	if (s->budget.max_failures < 0 || s->budget.max_failures > MLS_CSPEC_COUNT_MAX)
		return invalid(s, "budget.max_failures", "not a count from 0 to 1000000");
	if (s->sampler.parallel < 0 || s->sampler.parallel > MLS_CSPEC_COUNT_MAX)
		return invalid(s, "sampler.parallel", "not a count from 1 to 1000000");
	if (s->resources.cpus < 0 || s->resources.gpus < 0 ||
	    s->resources.mem_mb < 0 || s->resources.time_s < 0)
		return invalid(s, "resources", "negative");
	if (s->kind == MLS_CSPEC_ENSEMBLE)
		return mls_cspec_check_ensemble(s);
	return 0;
}

int
mls_cspec_check(const struct mls_campaign_spec *s)
{
	if (s->id == NULL || *s->id == '\0')
		return invalid(s, "id", "missing");
	if (s->nsites == 0)
		return invalid(s, "sites", "empty");
	for (size_t i = 0; i < s->nsites; i++) {
		if (s->sites[i].name == NULL || *s->sites[i].name == '\0')
			return mls_error_set(MLS_EINPUT, "%s spec: field "
			    "'sites[%zu].name': missing", mls_cspec_kind_name(s->kind), i);
		if (s->sites[i].cap < 0)
			return mls_error_set(MLS_EINPUT, "%s spec: field "
			    "'sites[%zu].cap': negative", mls_cspec_kind_name(s->kind), i);
	}
	if (s->parallel < 1 || s->parallel > MLS_CSPEC_COUNT_MAX)
		return invalid(s, "parallel", "not a count from 1 to 1000000");
	if (s->budget.trials < 0 || s->budget.trials > MLS_CSPEC_COUNT_MAX)
		return invalid(s, "budget.trials", "not a count from 0 to 1000000");
	if (s->budget.timeout_s < 0 || !isfinite(s->budget.timeout_s))
		return invalid(s, "budget.timeout_s", "not a duration >= 0");
	if (s->budget.max_failures < 0 || s->budget.max_failures > MLS_CSPEC_COUNT_MAX)
		return invalid(s, "budget.max_failures", "not a count from 0 to 1000000");
	if (s->ncommand == 0)
		return invalid(s, "command", "empty");
	if (s->objective.metric != NULL && *s->objective.metric == '\0')
		return invalid(s, "objective.metric", "empty");
	if (s->resources.cpus < 1)
		return invalid(s, "resources.cpus", "not a count >= 1");
	if (s->resources.gpus < 0)
		return invalid(s, "resources.gpus", "negative");
	if (s->resources.mem_mb < 0)
		return invalid(s, "resources.mem_mb", "negative");
	if (s->resources.time_s < 0)
		return invalid(s, "resources.time_s", "negative");
	if (s->kind == MLS_CSPEC_ENSEMBLE)
		return mls_cspec_check_ensemble(s);
	if (s->space == NULL || mls_space_size(s->space) == 0)
		return invalid(s, "space", "empty");
	if (s->algorithm == NULL || *s->algorithm == '\0')
		return invalid(s, "algorithm", "missing");
	if (s->prune != NULL && strcmp(s->prune, "median") != 0 &&
	    strcmp(s->prune, "asha") != 0)
		return invalid(s, "prune", "not one of median, asha");
	if (s->prune_opts.min_resource < 0)
		return invalid(s, "prune_opts.min_resource", "negative");
	if (s->prune_opts.reduction_factor < 0 || s->prune_opts.reduction_factor == 1)
		return invalid(s, "prune_opts.reduction_factor", "not 0 or >= 2");
	if (s->sampler.parallel < 1 || s->sampler.parallel > MLS_CSPEC_COUNT_MAX)
		return invalid(s, "sampler.parallel", "not a count from 1 to 1000000");
	return 0;
}
