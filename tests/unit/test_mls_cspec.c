#include "config.h"

#include "mls_cspec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mls_error.h"
#include "mls_space.h"
#include "tap.h"

/* A spec as mls-search journals it (the key order is the tools'). */
static const char search_json[] =
    "{\"kind\":\"campaign\",\"id\":\"c-01\","
    "\"space\":{\"x\":{\"type\":\"uniform\",\"low\":0.0,\"high\":1.0}},"
    "\"algorithm\":\"tpe\",\"seed\":42,"
    "\"sampler\":{\"multivariate\":true,\"parallel\":2,\"startup\":5,"
    "\"workdir\":\"/tmp/w\"},"
    "\"objective\":{\"metric\":\"acc\",\"goal\":\"max\",\"reduce\":\"best\","
    "\"regex\":\"acc=([0-9.]+)\"},"
    "\"budget\":{\"trials\":10,\"timeout_s\":60.0,\"max_failures\":3},"
    "\"parallel\":2,\"sites\":[{\"name\":\"local\",\"cap\":0},"
    "{\"name\":\"lab\",\"cap\":4}],\"prune\":\"median\",\"name\":null,"
    "\"command\":[\"python\",\"train.py\",\"{x}\"],"
    "\"resources\":{\"cpus\":1,\"gpus\":1,\"mem_mb\":4096,\"time_s\":null},"
    "\"env\":{\"A\":\"1\"},\"sandbox\":\"sha256:ab\",\"image\":null}";

/* A search with the asha pruner's options (from a W&B early_terminate). */
static const char asha_json[] =
    "{\"kind\":\"campaign\",\"id\":\"c-02\","
    "\"space\":{\"x\":{\"type\":\"uniform\",\"low\":0.0,\"high\":1.0}},"
    "\"algorithm\":\"random\",\"seed\":1,"
    "\"sampler\":{\"multivariate\":true,\"parallel\":1},"
    "\"objective\":{\"metric\":\"loss\",\"goal\":\"min\",\"reduce\":\"last\","
    "\"regex\":null},"
    "\"budget\":{\"trials\":5,\"timeout_s\":0.0,\"max_failures\":0},"
    "\"parallel\":1,\"sites\":[{\"name\":\"local\",\"cap\":0}],"
    "\"prune\":\"asha\",\"prune_opts\":{\"min_resource\":2,"
    "\"reduction_factor\":4},\"name\":null,"
    "\"command\":[\"python\",\"train.py\"],"
    "\"resources\":{\"cpus\":1,\"gpus\":0,\"mem_mb\":null,\"time_s\":null},"
    "\"env\":{},\"sandbox\":null,\"image\":null}";

/* A spec as mls-ensemble journals it, made from a campaign's top 2. */
static const char ensemble_json[] =
    "{\"kind\":\"ensemble\",\"id\":\"e-01\",\"members\":4,\"quorum\":3,"
    "\"quorum_spec\":\"0.75\",\"retries\":1,\"seed\":7,\"seed_param\":\"seed\","
    "\"folds\":2,"
    "\"objective\":{\"metric\":null,\"goal\":\"min\",\"reduce\":\"last\","
    "\"regex\":null},"
    "\"configs\":[{\"params\":{\"x\":1},\"trial\":3,\"objective\":0.5},"
    "{\"params\":{\"x\":2},\"trial\":1,\"objective\":0.7}],"
    "\"per_config\":2,\"from\":\"c-01\","
    "\"budget\":{\"trials\":0,\"timeout_s\":0.0,\"max_failures\":0},"
    "\"parallel\":1,\"sites\":[{\"name\":\"local\",\"cap\":0}],\"name\":\"ens\","
    "\"command\":[\"sh\",\"-c\",\"true\"],"
    "\"resources\":{\"cpus\":2,\"gpus\":0,\"mem_mb\":null,\"time_s\":3600},"
    "\"env\":{},\"sandbox\":null,\"image\":\"img:1\"}";

/* from_json then to_json gives the same text, key order included. */
static void
round_trip(const char *text, const char *what)
{
	struct mls_campaign_spec s;
	json_t *in = json_loads(text, 0, NULL), *out = (json_t *)1;
	char *a = NULL, *b = NULL;

	ok(in != NULL, "%s: the fixture parses", what);
	ok(mls_cspec_from_json(&s, in) == 0, "%s: from_json", what);
	ok(mls_cspec_check(&s) == 0, "%s: valid (%s)", what, mls_error_last());
	ok(mls_cspec_to_json(&s, &out) == 0 && out != NULL, "%s: to_json", what);
	a = json_dumps(in, JSON_COMPACT);
	b = json_dumps(out, JSON_COMPACT);
	ok(a != NULL && b != NULL && strcmp(a, b) == 0, "%s: round trip", what);
	if (a != NULL && b != NULL && strcmp(a, b) != 0)
		printf("# in:  %s\n# out: %s\n", a, b);
	free(a);
	free(b);
	json_decref(in);
	json_decref(out);
	mls_cspec_release(&s);
}

static void
test_fields(void)
{
	struct mls_campaign_spec s;
	json_t *in = json_loads(search_json, 0, NULL);

	ok(mls_cspec_from_json(&s, in) == 0, "search: from_json");
	ok(s.kind == MLS_CSPEC_SEARCH && strcmp(s.id, "c-01") == 0, "kind and id");
	ok(s.space != NULL && mls_space_size(s.space) == 1, "the space");
	ok(s.objective.goal_max && s.objective.reduce == MLS_REDUCE_BEST &&
	    strcmp(s.objective.metric, "acc") == 0, "the objective");
	ok(s.budget.trials == 10 && s.budget.timeout_s == 60 &&
	    s.budget.max_failures == 3, "the budget");
	ok(s.nsites == 2 && strcmp(s.sites[1].name, "lab") == 0 && s.sites[1].cap == 4,
	    "the sites");
	ok(s.ncommand == 3 && strcmp(s.command[2], "{x}") == 0 && s.command[3] == NULL,
	    "the command, NULL-terminated");
	ok(s.resources.gpus == 1 && s.resources.mem_mb == 4096 &&
	    s.resources.time_s == 0, "the resources (null is 0)");
	ok(s.sampler.startup == 5 && s.sampler.parallel == 2 &&
	    strcmp(s.sampler.workdir, "/tmp/w") == 0, "the sampler's options");
	ok(s.name == NULL && s.image == NULL && strcmp(s.sandbox, "sha256:ab") == 0,
	    "null strings are NULL");
	mls_cspec_release(&s);
	ok(s.id == NULL && s.space == NULL && s.nsites == 0, "release empties it");
	json_decref(in);
}

/* Parse text, expect from_json to fail with MLS_EINPUT and msg in the message. */
static void
bad_json(const char *text, const char *msg)
{
	struct mls_campaign_spec s;
	json_t *in = json_loads(text, 0, NULL);
	int rc = mls_cspec_from_json(&s, in);

	ok(rc == MLS_EINPUT && strstr(mls_error_last(), msg) != NULL,
	    "from_json refuses %s: %s", text, mls_error_last());
	mls_cspec_release(&s);
	json_decref(in);
}

static void
test_from_json_errors(void)
{
	bad_json("{\"budget\":{\"trials\":\"ten\"}}",
	    "campaign spec: field 'budget.trials': not an integer");
	/* a whole real beyond long long: converting it would be UB */
	bad_json("{\"budget\":{\"trials\":1e300}}",
	    "campaign spec: field 'budget.trials': not an integer");
	bad_json("{\"objective\":{\"goal\":\"up\"}}",
	    "field 'objective.goal': not min or max");
	bad_json("{\"objective\":{\"reduce\":\"max\"}}",
	    "field 'objective.reduce': not one of last, best, mean");
	bad_json("{\"sites\":[{\"name\":1}]}", "field 'sites[0].name': not a string");
	bad_json("{\"command\":[\"a\",2]}", "field 'command': not an array of strings");
	bad_json("{\"env\":{\"A\":1}}", "field 'env': not an object of strings");
	bad_json("{\"id\":3}", "field 'id': not a string");
}

/* Change one field of a valid spec; expect check to name it. */
static void
check_names(const char *text, void (*spoil)(struct mls_campaign_spec *),
    const char *msg)
{
	struct mls_campaign_spec s;
	json_t *in = json_loads(text, 0, NULL);

	(void)mls_cspec_from_json(&s, in);
	spoil(&s);
	ok(mls_cspec_check(&s) == MLS_EINPUT && strstr(mls_error_last(), msg) != NULL,
	    "check: %s (%s)", msg, mls_error_last());
	mls_cspec_release(&s);
	json_decref(in);
}

static void no_id(struct mls_campaign_spec *s) { free(s->id); s->id = NULL; }
static void
no_sites(struct mls_campaign_spec *s)
{
	while (s->nsites > 0)
		free(s->sites[--s->nsites].name);
}
static void zero_parallel(struct mls_campaign_spec *s) { s->parallel = 0; }
static void no_command(struct mls_campaign_spec *s) { mls_cspec_set_command(s, 0, NULL); }
static void bad_prune(struct mls_campaign_spec *s) { mls_cspec_set_str(&s->prune, "x"); }
static void neg_budget(struct mls_campaign_spec *s) { s->budget.trials = -1; }
static void no_cpus(struct mls_campaign_spec *s) { s->resources.cpus = 0; }
static void no_space(struct mls_campaign_spec *s) { mls_space_free(s->space); s->space = NULL; }
static void high_quorum(struct mls_campaign_spec *s) { s->quorum = 5; }
static void no_members(struct mls_campaign_spec *s) { s->members = 0; }
static void own_key(struct mls_campaign_spec *s) { mls_cspec_set_str(&s->seed_param, "fold"); }
static void odd_configs(struct mls_campaign_spec *s) { s->per_config = 3; }
static void no_folds(struct mls_campaign_spec *s) { s->folds = 0; }
static void huge_parallel(struct mls_campaign_spec *s) { s->parallel = 30000000; }
static void huge_budget(struct mls_campaign_spec *s) { s->budget.trials = 2000000000; }
static void huge_members(struct mls_campaign_spec *s) { s->members = s->quorum = 30000000; }

static void
test_check(void)
{
	check_names(search_json, no_id, "campaign spec: field 'id': missing");
	check_names(search_json, no_sites, "campaign spec: field 'sites': empty");
	check_names(search_json, zero_parallel, "field 'parallel': not a count from 1 to 1000000");
	check_names(search_json, no_command, "field 'command': empty");
	check_names(search_json, bad_prune, "field 'prune': not one of median, asha");
	check_names(search_json, neg_budget, "field 'budget.trials': not a count from 0 to 1000000");
	check_names(search_json, no_cpus, "field 'resources.cpus'");
	check_names(search_json, no_space, "field 'space': empty");
	check_names(ensemble_json, high_quorum, "ensemble spec: field 'quorum'");
	check_names(ensemble_json, no_members, "ensemble spec: field 'members'");
	check_names(ensemble_json, own_key, "field 'seed_param': one of the "
	    "ensemble's own keys");
	check_names(ensemble_json, odd_configs, "field 'per_config'");
	check_names(ensemble_json, no_folds, "field 'folds'");
	/* a journal is read back as strictly: no count beyond the options' */
	check_names(search_json, huge_parallel, "field 'parallel': not a count from 1 to 1000000");
	check_names(search_json, huge_budget, "field 'budget.trials': not a count");
	check_names(ensemble_json, huge_members, "ensemble spec: field 'members': not a count");
}

static void
test_objective(void)
{
	struct mls_objective o = { 0 };

	ok(mls_objective_parse(&o, "val_loss", NULL) == 0 &&
	    strcmp(o.metric, "val_loss") == 0 && !o.goal_max, "metric, goal min");
	ok(mls_objective_parse(&o, "acc:max", NULL) == 0 &&
	    strcmp(o.metric, "acc") == 0 && o.goal_max, "metric:max");
	ok(mls_objective_parse(&o, "acc", "max") == 0 && o.goal_max,
	    "the default goal");
	ok(mls_objective_parse(&o, "a:b:min", "max") == 0 &&
	    strcmp(o.metric, "a:b") == 0 && !o.goal_max, "the last colon splits");
	ok(mls_objective_parse(&o, "acc:up", NULL) == MLS_EINPUT &&
	    strcmp(mls_error_last(), "goal 'up' is not min or max") == 0 &&
	    strcmp(o.metric, "a:b") == 0, "a bad goal: named, o unchanged");
	ok(mls_objective_parse(&o, ":max", NULL) == MLS_EINPUT &&
	    strcmp(mls_error_last(), "empty metric name") == 0, "an empty metric");
	ok(mls_objective_parse(&o, "acc", "maximize") == 0 && o.goal_max,
	    "a space file's default goal: maximize");
	ok(mls_objective_parse(&o, "acc", "up") == MLS_EINPUT,
	    "a default goal that is not min or max");
	free(o.metric);
}

static void
test_build(void)
{
	struct mls_campaign_spec s;
	char *argv[] = { "echo", "{x}", NULL };
	json_t *j = NULL;

	ok(mls_cspec_init(&s, MLS_CSPEC_SEARCH) == 0, "init");
	ok(mls_cspec_check(&s) == MLS_EINPUT, "an empty spec is not valid");
	ok(strcmp(s.objective.metric, "loss") == 0, "a search minimises loss by default");
	mls_cspec_set_str(&s.id, "c-x");
	mls_cspec_add_site(&s, "local", 0);
	mls_cspec_set_command(&s, 2, argv);
	mls_cspec_set_str(&s.algorithm, "random");
	mls_space_new(&s.space);
	mls_space_add_spec(s.space, "x=int:1:3");
	ok(mls_cspec_check(&s) == 0, "built by hand: valid (%s)", mls_error_last());
	ok(mls_cspec_to_json(&s, &j) == 0 && json_is_null(json_object_get(
	    json_object_get(j, "resources"), "mem_mb")), "0 resources are null");
	json_decref(j);
	mls_cspec_release(&s);
	ok(mls_cspec_init(&s, MLS_CSPEC_ENSEMBLE) == 0 && s.objective.metric == NULL,
	    "an ensemble has no objective by default");
	mls_cspec_release(&s);
}

int
main(void)
{
	round_trip(search_json, "search");
	round_trip(ensemble_json, "ensemble");
	round_trip(asha_json, "asha options");
	test_fields();
	test_from_json_errors();
	test_check();
	test_objective();
	test_build();
	return done_testing();
}
