#include "config.h"

#include "mls_space.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_error.h"
#include "mls_record.h"
#include "tap.h"

static const char *datadir;

static char *
data(const char *name)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/spaces/%s", datadir, name);
	return buf;
}

static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* add_spec on a fresh space; returns rc, message in mls_error_last() */
static int
spec1(const char *spec)
{
	struct mls_space *sp;
	int rc;

	mls_space_new(&sp);
	rc = mls_space_add_spec(sp, spec);
	mls_space_free(sp);
	return rc;
}

static void
test_specs(void)
{
	struct mls_space *sp = NULL;
	const struct mls_param *p;
	json_t *j, *params;
	int rc;

	ok(mls_space_new(&sp) == 0 && sp != NULL, "new");
	ok(mls_space_add_spec(sp, "lr=loguniform:1e-5:1e-1") == 0, "loguniform");
	ok(mls_space_add_spec(sp, "layers=int:1:8") == 0, "int");
	ok(mls_space_add_spec(sp, "act=choice:relu,tanh,gelu") == 0, "choice");
	ok(mls_space_add_spec(sp, "dropout=uniform:0:0.5") == 0, "uniform");
	ok(mls_space_add_spec(sp, "bs=fixed:64") == 0, "fixed");
	ok(mls_space_add_spec(sp, "units=intlog:16:512") == 0, "intlog");
	ok(mls_space_add_spec(sp, "x=uniform:0:1:0.1") == 0, "quantized uniform");
	ok(mls_space_add_spec(sp, "n=int:0:100:5") == 0, "quantized int");
	ok(mls_space_add_spec(sp, "w=choice:16,32,true") == 0, "typed choice");
	ok(mls_space_size(sp) == 9, "size 9");
	p = mls_space_param(sp, 0);
	ok(p->type == MLS_PARAM_LOGUNIFORM && p->low == 1e-5 && p->high == 0.1,
	    "lr parsed");
	p = mls_space_param(sp, 6);
	ok(p->step == 0.1, "step parsed");
	p = mls_space_param(sp, 7);
	ok(p->step == 5, "int step parsed");
	p = mls_space_param(sp, 8);
	ok(json_is_integer(json_array_get(p->values, 0)) &&
	    json_is_true(json_array_get(p->values, 2)), "choice values typed");
	ok(json_integer_value(mls_space_param(sp, 4)->values) == 64, "fixed typed");
	ok(mls_space_param(sp, 9) == NULL, "param out of range");
	ok(mls_space_find(sp, "act") == 2 && mls_space_find(sp, "zz") == -1, "find");

	/* check */
	params = json_pack("{s:f,s:i,s:s,s:f,s:i,s:i,s:f,s:i,s:i}", "lr", 1e-3,
	    "layers", 3, "act", "gelu", "dropout", 0.25, "bs", 64, "units", 100,
	    "x", 0.3, "n", 35, "w", 32);
	ok(mls_space_check(sp, params) == 0, "valid params: %s", mls_error_last());
	json_object_del(params, "bs");
	ok(mls_space_check(sp, params) == 0, "fixed may be left out");
	json_object_set_new(params, "lr", json_real(0.5));
	ok(mls_space_check(sp, params) == MLS_EINPUT &&
	    starts(mls_error_last(), "parameter 'lr': 0.5 is outside"),
	    "out of range: %s", mls_error_last());
	json_object_set_new(params, "lr", json_real(1e-3));
	json_object_set_new(params, "layers", json_real(2.5));
	ok(mls_space_check(sp, params) == MLS_EINPUT &&
	    starts(mls_error_last(), "parameter 'layers': 2.5 is not an integer"),
	    "int: %s", mls_error_last());
	json_object_set_new(params, "layers", json_integer(2));
	json_object_set_new(params, "act", json_string("elu"));
	ok(mls_space_check(sp, params) == MLS_EINPUT &&
	    starts(mls_error_last(), "parameter 'act': \"elu\" is not one"),
	    "choice: %s", mls_error_last());
	json_object_set_new(params, "act", json_string("relu"));
	json_object_set_new(params, "n", json_integer(36));
	ok(mls_space_check(sp, params) == MLS_EINPUT &&
	    starts(mls_error_last(), "parameter 'n': 36 is not low + a multiple"),
	    "step: %s", mls_error_last());
	json_object_set_new(params, "n", json_integer(35));
	json_object_set_new(params, "zz", json_integer(1));
	ok(mls_space_check(sp, params) == MLS_EINPUT &&
	    starts(mls_error_last(), "parameter 'zz': not in the search space"),
	    "unknown key: %s", mls_error_last());
	json_object_del(params, "zz");
	json_object_del(params, "lr");
	ok(mls_space_check(sp, params) == MLS_EINPUT &&
	    starts(mls_error_last(), "parameter 'lr': missing"), "missing");
	json_object_set_new(params, "lr", json_string("x"));
	ok(mls_space_check(sp, params) == MLS_EINPUT &&
	    starts(mls_error_last(), "parameter 'lr': expected a number"), "type");
	json_object_set_new(params, "lr", json_real(1e-3));
	json_object_set_new(params, "bs", json_integer(32));
	ok(mls_space_check(sp, params) == MLS_EINPUT &&
	    starts(mls_error_last(), "parameter 'bs': differs"), "fixed differs");
	json_decref(params);
	params = json_array();
	ok(mls_space_check(sp, params) == MLS_EINPUT, "not an object");
	json_decref(params);

	/* round trip through our canonical JSON */
	j = mls_space_to_json(sp);
	ok(j != NULL && json_object_size(j) == 9, "to_json");
	ok(strcmp(json_string_value(json_object_get(json_object_get(j, "units"),
	    "type")), "intlog") == 0, "to_json type");
	{
		struct mls_space *sp2;
		json_t *j2;
		mls_space_new(&sp2);
		rc = mls_space_from_json(sp2, j);
		j2 = mls_space_to_json(sp2);
		ok(rc == 0 && json_equal(j, j2), "from_json(to_json) round trip");
		json_decref(j2);
		mls_space_free(sp2);
	}
	json_decref(j);

	ok(mls_space_add_spec(sp, "lr=uniform:0:1") == MLS_EINPUT &&
	    strcmp(mls_error_last(), "-p 'lr=uniform:0:1': parameter 'lr': "
	    "defined twice") == 0, "duplicate: %s", mls_error_last());
	mls_space_free(sp);
	mls_space_free(NULL);
}

static void
test_spec_errors(void)
{
	ok(spec1("lr=loguniform:1") == MLS_EINPUT && strcmp(mls_error_last(),
	    "-p 'lr=loguniform:1': expected loguniform:LOW:HIGH[:STEP]") == 0,
	    "missing high: %s", mls_error_last());
	ok(spec1("lr=loguniform:0:1") == MLS_EINPUT && strcmp(mls_error_last(),
	    "-p 'lr=loguniform:0:1': parameter 'lr': low must be > 0 for "
	    "loguniform") == 0, "log low 0: %s", mls_error_last());
	ok(spec1("x=uniform:1:0") == MLS_EINPUT &&
	    strstr(mls_error_last(), "low must be < high") != NULL, "low >= high");
	ok(spec1("x=uniform:a:1") == MLS_EINPUT &&
	    strstr(mls_error_last(), "expected uniform:LOW:HIGH") != NULL, "nan");
	ok(spec1("x=uniform:0:1:0") == MLS_EINPUT &&
	    strstr(mls_error_last(), "step must be > 0") != NULL, "step 0");
	ok(spec1("x=uniform:0:1:0.1:3") == MLS_EINPUT, "too many numbers");
	ok(spec1("n=int:1.5:3") == MLS_EINPUT &&
	    strstr(mls_error_last(), "must be integers") != NULL, "int bounds");
	ok(spec1("n=intlog:0:3") == MLS_EINPUT &&
	    strstr(mls_error_last(), "low must be > 0 for intlog") != NULL,
	    "intlog low");
	/* int bounds beyond 2^53 are not exact in a double nor in an int64 */
	{
		static const char *big[] = { "n=int:0:1e300", "n=int:-1e300:0",
		    "n=int:0:9007199254740992", "n=int:-9223372036854775808:0",
		    "n=intlog:1:1e19", "n=int:0:10:1e300" };
		for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++)
			ok(spec1(big[i]) == MLS_EINPUT &&
			    strstr(mls_error_last(), "parameter 'n'") != NULL &&
			    strstr(mls_error_last(), "9007199254740991") != NULL,
			    "int beyond 2^53: %s", mls_error_last());
		ok(spec1("n=int:-9007199254740991:9007199254740991") == 0,
		    "int: +-(2^53 - 1) is the range");
	}
	ok(spec1("n=intlog:1:3:2") == MLS_EINPUT, "intlog step");
	ok(spec1("a=choice:") == MLS_EINPUT, "empty choice");
	ok(spec1("a=choice:x,,y") == MLS_EINPUT, "empty choice value");
	ok(spec1("a=choice:x,y,x") == MLS_EINPUT &&
	    strstr(mls_error_last(), "distinct") != NULL, "duplicate choice");
	ok(spec1("a=fixed:") == MLS_EINPUT, "empty fixed");
	ok(spec1("a=normal:0:1") == MLS_EINPUT && strstr(mls_error_last(),
	    "expected TYPE:ARGS") != NULL, "unknown type: %s", mls_error_last());
	ok(spec1("noequals") == MLS_EINPUT && strcmp(mls_error_last(),
	    "-p 'noequals': expected NAME=TYPE:ARGS") == 0, "no =");
	ok(spec1("=int:1:2") == MLS_EINPUT, "empty name");
	ok(spec1("a b=int:1:2") == MLS_EINPUT &&
	    strstr(mls_error_last(), "names may hold") != NULL, "bad name");
	ok(spec1("n=int:3:3") == 0, "int low == high is fine");
}

static void
test_files(void)
{
	struct mls_space *sp;
	json_t *meta = NULL, *ref = NULL, *j;
	const struct mls_param *p;

	/* ours JSON and ours YAML describe the same space */
	mls_space_new(&sp);
	ok(mls_space_load_file(sp, data("ours.json"), &meta) == 0,
	    "ours.json: %s", mls_error_last());
	ok(meta == NULL, "ours.json: no meta");
	ref = mls_space_to_json(sp);
	mls_space_free(sp);

	mls_space_new(&sp);
	ok(mls_space_load_file(sp, data("ours.yaml"), &meta) == 0,
	    "ours.yaml: %s", mls_error_last());
	j = mls_space_to_json(sp);
	ok(json_equal(j, ref), "ours.yaml equals ours.json");
	ok(meta != NULL && strcmp(json_string_value(json_object_get(meta,
	    "algorithm")), "tpe") == 0, "yaml meta algorithm");
	ok(meta != NULL && strcmp(json_string_value(json_object_get(json_object_get(
	    meta, "objective"), "metric")), "val_loss") == 0, "yaml meta metric");
	json_decref(meta);
	json_decref(j);
	json_decref(ref);
	mls_space_free(sp);

	/* hpogrid / phpo */
	mls_space_new(&sp);
	ok(mls_space_load_file(sp, data("phpo.json"), NULL) == 0,
	    "phpo.json: %s", mls_error_last());
	ok(mls_space_size(sp) == 6, "phpo: 6 params");
	p = mls_space_param(sp, 0);
	ok(p->type == MLS_PARAM_LOGUNIFORM && p->low == 1e-6 && p->high == 0.1,
	    "phpo loguniform");
	p = mls_space_param(sp, 1);
	ok(p->type == MLS_PARAM_CHOICE && p->nvalues == 3, "phpo categorical");
	p = mls_space_param(sp, 2);
	ok(p->type == MLS_PARAM_INT && p->high == 30, "phpo uniformint");
	p = mls_space_param(sp, 4);
	ok(p->type == MLS_PARAM_UNIFORM && p->step == 0.1, "phpo quniform");
	p = mls_space_param(sp, 5);
	ok(p->type == MLS_PARAM_FIXED && json_integer_value(p->values) == 7,
	    "phpo fixed");
	mls_space_free(sp);

	/* W&B sweep */
	mls_space_new(&sp);
	ok(mls_space_load_file(sp, data("wandb.yaml"), &meta) == 0,
	    "wandb.yaml: %s", mls_error_last());
	ok(mls_space_size(sp) == 6, "wandb: 6 params");
	ok(mls_space_param(sp, 0)->type == MLS_PARAM_LOGUNIFORM, "log_uniform_values");
	ok(mls_space_param(sp, 1)->type == MLS_PARAM_CHOICE, "values -> choice");
	ok(mls_space_param(sp, 2)->type == MLS_PARAM_FIXED, "value -> fixed");
	ok(mls_space_param(sp, 3)->type == MLS_PARAM_UNIFORM &&
	    mls_space_param(sp, 3)->step == 32, "q_uniform");
	ok(mls_space_param(sp, 4)->type == MLS_PARAM_INT, "int_uniform");
	ok(mls_space_param(sp, 5)->type == MLS_PARAM_UNIFORM, "min/max -> uniform");
	ok(meta != NULL && strcmp(json_string_value(json_object_get(meta,
	    "algorithm")), "tpe") == 0, "bayes -> tpe");
	ok(meta != NULL && strcmp(json_string_value(json_object_get(json_object_get(
	    meta, "objective"), "goal")), "maximize") == 0, "wandb goal");
	json_decref(meta);
	mls_space_free(sp);

	/* errors */
	mls_space_new(&sp);
	meta = (json_t *)1;
	ok(mls_space_load_file(sp, data("bad-syntax.yaml"), &meta) == MLS_EINPUT &&
	    starts(mls_error_last(), data("bad-syntax.yaml")) && meta == NULL,
	    "yaml syntax error: %s", mls_error_last());
	{
		char pre[4200];
		snprintf(pre, sizeof(pre), "%s:3:", data("bad-syntax.yaml"));
		ok(starts(mls_error_last(), pre), "yaml error names line 3: %s",
		    mls_error_last());
		ok(mls_space_load_file(sp, data("bad-syntax.json"), NULL) ==
		    MLS_EINPUT, "json syntax error");
		snprintf(pre, sizeof(pre), "%s:3:", data("bad-syntax.json"));
		ok(starts(mls_error_last(), pre), "json error names line 3: %s",
		    mls_error_last());
		ok(mls_space_load_file(sp, data("bad-loguniform.yaml"), NULL) ==
		    MLS_EINPUT, "bad loguniform");
		snprintf(pre, sizeof(pre), "%s: parameter 'lr': low must be > 0 for "
		    "loguniform", data("bad-loguniform.yaml"));
		ok(strcmp(mls_error_last(), pre) == 0, "names file and param: %s",
		    mls_error_last());
	}
	ok(mls_space_load_file(sp, data("nonexistent.json"), NULL) == MLS_ENOTFOUND,
	    "missing json file");
	ok(mls_space_load_file(sp, data("nonexistent.yaml"), NULL) == MLS_ENOTFOUND,
	    "missing yaml file");
	ok(mls_space_size(sp) == 0, "nothing added on errors");
	mls_space_free(sp);
}

static int
doc_err(const char *text, const char *expect)
{
	struct mls_space *sp;
	json_t *doc = json_loads(text, 0, NULL);
	int rc;

	mls_space_new(&sp);
	rc = mls_space_load_json(sp, doc, "s.json", NULL);
	mls_space_free(sp);
	json_decref(doc);
	return rc == MLS_EINPUT && strcmp(mls_error_last(), expect) == 0;
}

/* As doc_err, the message only starting with expect. */
static int
doc_starts(const char *text, const char *expect)
{
	struct mls_space *sp;
	json_t *doc = json_loads(text, 0, NULL);
	int rc;

	mls_space_new(&sp);
	rc = mls_space_load_json(sp, doc, "s.json", NULL);
	mls_space_free(sp);
	json_decref(doc);
	return rc == MLS_EINPUT && starts(mls_error_last(), expect);
}

static void
test_doc_errors(void)
{
	ok(doc_err("[]", "s.json: expected an object of parameters"), "array doc");
	ok(doc_err("{}", "s.json: no parameters"), "empty doc");
	ok(doc_err("{\"a\":{\"type\":\"normal\"}}", "s.json: parameter 'a': unknown "
	    "type 'normal' (expected uniform, loguniform, int, intlog, choice or "
	    "fixed)"), "unknown type: %s", mls_error_last());
	ok(doc_err("{\"a\":{\"type\":\"uniform\",\"low\":\"x\",\"high\":1}}",
	    "s.json: parameter 'a': 'low' must be a number"), "low string");
	ok(doc_err("{\"a\":{\"type\":\"choice\",\"values\":3}}",
	    "s.json: parameter 'a': 'values' must be a list"), "values not list");
	ok(doc_err("{\"a\":{\"type\":\"fixed\"}}",
	    "s.json: parameter 'a': fixed needs a value"), "fixed no value");
	ok(doc_err("{\"a\":{\"method\":\"normal\",\"dimension\":{\"mu\":0,"
	    "\"sigma\":1}}}", "s.json: parameter 'a': method 'normal' is not "
	    "supported (expected categorical, uniform, quniform, uniformint, "
	    "loguniform, qloguniform or fixed)"), "hpogrid normal: %s",
	    mls_error_last());
	ok(doc_err("{\"a\":{\"method\":\"uniform\",\"dimension\":3}}",
	    "s.json: parameter 'a': 'dimension' must be an object"), "dimension");
	ok(doc_err("{\"a\":{\"method\":\"quniform\",\"dimension\":{\"low\":0,"
	    "\"high\":1}}}", "s.json: parameter 'a': quniform needs 'q'"), "no q");
	ok(doc_err("{\"a\":{\"distribution\":\"normal\",\"mu\":0}}",
	    "s.json: parameter 'a': distribution 'normal' is not supported "
	    "(expected constant, categorical, uniform, int_uniform, q_uniform, "
	    "log_uniform_values, q_log_uniform_values or log_uniform)"),
	    "wandb normal: %s", mls_error_last());
	ok(doc_err("{\"a\":{\"foo\":1}}", "s.json: parameter 'a': expected "
	    "\"type\", \"method\" (hpogrid) or \"distribution\" (W&B)"), "no dialect");
	ok(doc_err("{\"a\":3}", "s.json: parameter 'a': expected an object or a "
	    "string"), "number param");
	ok(doc_err("{\"a\":\"loguniform:1\"}", "s.json: parameter 'a': expected "
	    "loguniform:LOW:HIGH[:STEP]"), "inline string error: %s",
	    mls_error_last());
	ok(doc_err("{\"a\":{\"distribution\":\"log_uniform_values\",\"min\":0,"
	    "\"max\":1}}", "s.json: parameter 'a': low must be > 0 for loguniform"),
	    "wandb log min 0");
}

/* W&B's other keys: honoured into meta, or refused naming the key. */
static void
test_wandb_keys(void)
{
	struct mls_space *sp;
	json_t *doc, *meta = NULL, *pr, *cmd;

	mls_space_new(&sp);
	doc = json_loads("{\"program\": \"train.py\", \"run_cap\": 7, "
	    "\"project\": \"p\", \"early_terminate\": {\"type\": \"hyperband\", "
	    "\"max_iter\": 27, \"s\": 2, \"eta\": 3}, \"parameters\": "
	    "{\"lr\": {\"min\": 0.1, \"max\": 1.0}, \"n\": {\"values\": [1, 2]}}}",
	    0, NULL);
	ok(mls_space_load_json(sp, doc, "s.json", &meta) == 0, "wandb keys: %s",
	    mls_error_last());
	pr = json_object_get(meta, "prune");
	ok(strcmp(mls_record_str(pr, "kind"), "asha") == 0 &&
	    mls_record_int(pr, "min_resource", 0) == 3 &&
	    mls_record_int(pr, "reduction_factor", 0) == 3,
	    "hyperband max_iter 27, s 2, eta 3: asha from 3, factor 3");
	cmd = json_object_get(meta, "command");
	ok(json_array_size(cmd) == 4 && strcmp(json_string_value(json_array_get(
	    cmd, 0)), "python") == 0 && strcmp(json_string_value(json_array_get(
	    cmd, 2)), "--lr={lr}") == 0 && strcmp(json_string_value(
	    json_array_get(cmd, 3)), "--n={n}") == 0,
	    "program: python PROGRAM --NAME={NAME}");
	ok(mls_record_int(meta, "trials", 0) == 7, "run_cap: trials");
	ok(strcmp(mls_record_str(json_object_get(meta, "env"), "WANDB_PROJECT"),
	    "p") == 0, "project: WANDB_PROJECT");
	json_decref(meta);
	json_decref(doc);
	mls_space_free(sp);

	ok(doc_starts("{\"parameters\": {\"x\": {\"min\": 0, \"max\": 1}}, "
	    "\"early_terminate\": {\"type\": \"hyperband\", \"min_iter\": 1, "
	    "\"strict\": true}}", "s.json: early_terminate: strict: true is not "
	    "supported"), "strict refused: %s", mls_error_last());
	ok(doc_starts("{\"parameters\": {\"x\": {\"min\": 0, \"max\": 1}}, "
	    "\"imports\": []}", "s.json: key 'imports' is not supported"),
	    "unknown top-level key refused: %s", mls_error_last());
	ok(doc_starts("{\"parameters\": {\"x\": {\"min\": 0, \"max\": 1, "
	    "\"mu\": 0}}}", "s.json: parameter 'x': key 'mu' is not supported"),
	    "unknown parameter key refused: %s", mls_error_last());
}

static void
test_from_unit(void)
{
	struct mls_space *sp;
	const struct mls_param *p;
	json_t *v;
	int okb = 1, seen[3] = { 0, 0, 0 };
	double u;
	size_t i;

	mls_space_new(&sp);
	mls_space_add_spec(sp, "a=uniform:-1:1");
	mls_space_add_spec(sp, "b=loguniform:1e-4:1");
	mls_space_add_spec(sp, "c=int:0:10:5");
	mls_space_add_spec(sp, "d=intlog:1:1000");
	mls_space_add_spec(sp, "e=choice:x,y,z");
	mls_space_add_spec(sp, "f=uniform:0:1:0.25");
	for (u = 0; u < 1.0; u += 0.001) {
		json_t *params = json_object();
		for (i = 0; i < mls_space_size(sp); i++) {
			p = mls_space_param(sp, i);
			v = mls_param_from_unit(p, u);
			if (p->type == MLS_PARAM_CHOICE)
				seen[mls_param_choice_index(p, v)]++;
			json_object_set_new(params, p->name, v);
		}
		if (mls_space_check(sp, params) != 0)
			okb = 0;
		json_decref(params);
	}
	ok(okb, "from_unit values pass check: %s", mls_error_last());
	ok(seen[0] > 300 && seen[1] > 300 && seen[2] > 300, "choice spread");
	v = mls_param_from_unit(mls_space_param(sp, 2), 0.999);
	ok(json_integer_value(v) == 10, "int top value reachable");
	json_decref(v);
	v = mls_param_from_unit(mls_space_param(sp, 1), 0.5);
	ok(fabs(json_real_value(v) - 1e-2) < 1e-9, "log midpoint");
	json_decref(v);
	ok(mls_param_snap(mls_space_param(sp, 5), 0.62) == 0.5, "snap to step");
	mls_space_free(sp);
}

/* write text to a new temp file NAME.yaml; its path in buf */
static void
tmp_yaml(const char *text, size_t len, char *buf, size_t cap)
{
	const char *t = getenv("TMPDIR");
	FILE *fp;
	int fd;

	snprintf(buf, cap, "%s/test_mls_space-XXXXXX.yaml", t ? t : "/tmp");
	if ((fd = mkstemps(buf, 5)) < 0 || (fp = fdopen(fd, "w")) == NULL) {
		perror(buf);
		exit(1);
	}
	fwrite(text, 1, len, fp);
	fclose(fp);
}

/*
 * YAML that is not UTF-8 is refused naming the byte, before libfyaml
 * reads it: a directive holding a bad byte made libfyaml 0.7.12 loop for
 * ever (found by tests/fuzz/fuzz_space_yaml).
 */
static void
test_yaml_utf8(void)
{
	static const struct {
		const char *text;
		size_t len;
		const char *where;
	} bad[] = {
		{ "%\xc3", 2, ":1:2: not valid UTF-8" },
		{ "a:\n%  \0\0\x7f\\j\xab\xc3\xc0" "0\n", 15, ":2:9: not valid UTF-8" },
		{ "a: \xc0\x80\n", 6, ":1:4: not valid UTF-8" },	/* overlong */
		{ "a: \xed\xa0\x80\n", 7, ":1:4: not valid UTF-8" },	/* surrogate */
		{ "a: \xe2\x82", 5, ":1:4: not valid UTF-8" },	/* cut short */
	};
	struct mls_space *sp;
	char path[4096], expect[4200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tmp_yaml(bad[i].text, bad[i].len, path, sizeof(path));
		mls_space_new(&sp);
		snprintf(expect, sizeof(expect), "%s%s", path, bad[i].where);
		ok(mls_space_load_file(sp, path, NULL) == MLS_EINPUT &&
		    strcmp(mls_error_last(), expect) == 0,
		    "yaml not UTF-8 (%zu): %s", i, mls_error_last());
		mls_space_free(sp);
		unlink(path);
	}
	tmp_yaml("act: {type: choice, values: [\"\xc3\xa9t\xc3\xa9\", \"\xf0\x9f\x98\x80\"]}\n",
	    47, path, sizeof(path));
	mls_space_new(&sp);
	ok(mls_space_load_file(sp, path, NULL) == 0 && mls_space_size(sp) == 1,
	    "yaml in UTF-8 loads: %s", mls_error_last());
	mls_space_free(sp);
	unlink(path);
}

/*
 * The canonical form reads back whatever the parameters are called: one
 * called "parameters" or "search_space", or "method" next to "dimension",
 * was taken for a wrapper of the other dialects (found by
 * tests/fuzz/fuzz_space_spec; mls-search --resume reads it).
 */
static void
test_canonical_names(void)
{
	static const char *const specs[][2] = {
		{ "parameters=int:1:2", NULL },
		{ "search_space=int:1:2", NULL },
		{ "method=fixed:x", "dimension=uniform:0:1" },
	};
	struct mls_space *sp, *back;
	json_t *j, *j2;

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		mls_space_new(&sp);
		mls_space_new(&back);
		ok(mls_space_add_spec(sp, specs[i][0]) == 0 && (specs[i][1] ==
		    NULL || mls_space_add_spec(sp, specs[i][1]) == 0),
		    "spec %s", specs[i][0]);
		j = mls_space_to_json(sp);
		ok(mls_space_from_json(back, j) == 0 &&
		    mls_space_size(back) == mls_space_size(sp),
		    "'%s' reads back: %s", specs[i][0], mls_error_last());
		j2 = mls_space_to_json(back);
		ok(json_equal(j, j2), "'%s' reads back the same", specs[i][0]);
		json_decref(j);
		json_decref(j2);
		mls_space_free(sp);
		mls_space_free(back);
	}
}

int
main(void)
{
	datadir = getenv("TESTDATA");
	if (datadir == NULL)
		datadir = "tests/data";
	test_specs();
	test_spec_errors();
	test_files();
	test_doc_errors();
	test_wandb_keys();
	test_from_unit();
	test_yaml_utf8();
	test_canonical_names();
	return done_testing();
}
