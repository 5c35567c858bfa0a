/*
 * mls-ensemble - train an ensemble of members (seeds, folds, or the best
 * configurations of a campaign), with retries and a quorum.
 *
 * The ensemble is a campaign of kind "ensemble": the campaign loop of
 * lib/mls_campaign.c runs it, with the member generator of
 * lib/mls_ensemble.c, so parallelism, sites, the journal, --resume,
 * --detach and signals behave as in mls-search.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "mls_buf.h"
#include "mls_campaign.h"
#include "mls_config.h"
#include "mls_ensemble.h"
#include "mls_error.h"
#include "mls_record.h"
#include "mls_registry.h"
#include "mls_ship.h"
#include "mls_site.h"
#include "mls_store.h"
#include "mls_track.h"

static const char synopsis[] =
    "usage: mls-ensemble [-qv] [--cancel-on-exit] [--detach] [--cpus N]\n"
    "                    [-e KEY=VALUE] [--folds K] [--format FMT] [--from CAMPAIGN]\n"
    "                    [--gpus N] [--image TAG] [--members N] [--mem SIZE]\n"
    "                    [--name NAME] [--objective METRIC[:min|max]] [--parallel P]\n"
    "                    [--quorum FRACTION|COUNT] [--resume ID] [--retries R]\n"
    "                    [-s SITE[:CAP][,...]] [--sandbox ID] [--seed S]\n"
    "                    [--seed-param NAME] [--time DURATION] [--timeout DURATION]\n"
    "                    [--top K] [--] COMMAND [ARG ...]\n";

enum {
	OPT_CANCEL_ON_EXIT = 0x100, OPT_DETACH, OPT_CPUS, OPT_FOLDS, OPT_FROM,
	OPT_GPUS, OPT_IMAGE, OPT_MEMBERS, OPT_MEM, OPT_NAME, OPT_OBJECTIVE,
	OPT_PARALLEL, OPT_QUORUM, OPT_RESUME, OPT_RETRIES, OPT_SANDBOX, OPT_SEED,
	OPT_SEED_PARAM, OPT_TIME, OPT_TIMEOUT, OPT_TOP,
};

struct opts {
	int		 cancel_on_exit, detach, have_seed;
	const char	*from, *image, *name, *objective, *quorum, *resume;
	const char	*sandbox, *seed_param, *sites;
	long		 cpus, gpus, folds, members, parallel, retries, top;
	long long	 mem_mb;
	unsigned long long seed;
	double		 time_s, timeout;
	enum cli_format	 fmt;
	json_t		*env;
};

static void
usage_error(const char *fmt, const char *arg)
{
	warnx(fmt, arg);
	cli_usage(stderr, synopsis, EX_USAGE);
}

static long
parse_count(const char *opt, const char *s, long min)
{
	return cli_opt_count(synopsis, opt, s, min);
}

static double
parse_duration(const char *opt, const char *s)
{
	return cli_opt_duration(synopsis, opt, s);
}

static void
parse_options(int argc, char *argv[], struct opts *o)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "cancel-on-exit", no_argument, NULL, OPT_CANCEL_ON_EXIT },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "detach", no_argument, NULL, OPT_DETACH },
		{ "env", required_argument, NULL, 'e' },
		{ "folds", required_argument, NULL, OPT_FOLDS },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "gpus", required_argument, NULL, OPT_GPUS },
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "members", required_argument, NULL, OPT_MEMBERS },
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "objective", required_argument, NULL, OPT_OBJECTIVE },
		{ "parallel", required_argument, NULL, OPT_PARALLEL },
		{ "quorum", required_argument, NULL, OPT_QUORUM },
		{ "resume", required_argument, NULL, OPT_RESUME },
		{ "retries", required_argument, NULL, OPT_RETRIES },
		{ "sandbox", required_argument, NULL, OPT_SANDBOX },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "seed-param", required_argument, NULL, OPT_SEED_PARAM },
		{ "time", required_argument, NULL, OPT_TIME },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "top", required_argument, NULL, OPT_TOP },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "+e:hqs:vV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': cli_usage(stdout, synopsis, EX_OK);
		case 'V': cli_version();
		case 's': o->sites = optarg; break;
		case CLI_OPT_FORMAT: o->fmt = cli_parse_format(optarg); break;
		case 'q': cli_set_verbosity(-1); break;
		case 'v': cli_set_verbosity(cli_verbosity + 1); break;
		case 'e': cli_opt_kv(synopsis, "--env", optarg, o->env, 0); break;
		case OPT_CANCEL_ON_EXIT: o->cancel_on_exit = 1; break;
		case OPT_CPUS: o->cpus = parse_count("--cpus", optarg, 1); break;
		case OPT_DETACH: o->detach = 1; break;
		case OPT_FOLDS: o->folds = parse_count("--folds", optarg, 1); break;
		case OPT_FROM: o->from = optarg; break;
		case OPT_GPUS: o->gpus = parse_count("--gpus", optarg, 0); break;
		case OPT_IMAGE: o->image = optarg; break;
		case OPT_MEMBERS: o->members = parse_count("--members", optarg, 1); break;
		case OPT_MEM: o->mem_mb = cli_opt_mem_mb(synopsis, "--mem", optarg); break;
		case OPT_NAME: o->name = optarg; break;
		case OPT_OBJECTIVE: o->objective = optarg; break;
		case OPT_PARALLEL: o->parallel = parse_count("--parallel", optarg, 1); break;
		case OPT_QUORUM: o->quorum = optarg; break;
		case OPT_RESUME: o->resume = optarg; break;
		case OPT_RETRIES: o->retries = parse_count("--retries", optarg, 0); break;
		case OPT_SANDBOX: o->sandbox = optarg; break;
		case OPT_SEED:
			o->seed = (unsigned long long)parse_count("--seed", optarg, 0);
			o->have_seed = 1;
			break;
		case OPT_SEED_PARAM:
			if (*optarg == '\0' || strcmp(optarg, "member") == 0 ||
			    strcmp(optarg, "fold") == 0 || strcmp(optarg, "attempt") == 0 ||
			    strcmp(optarg, "config") == 0)
				usage_error("--seed-param: '%s' is empty or one of the "
				    "ensemble's own keys (member, fold, attempt, config)",
				    optarg);
			o->seed_param = optarg;
			break;
		case OPT_TIME: o->time_s = parse_duration("--time", optarg); break;
		case OPT_TIMEOUT: o->timeout = parse_duration("--timeout", optarg); break;
		case OPT_TOP: o->top = parse_count("--top", optarg, 1); break;
		default:
			cli_usage(stderr, synopsis, EX_USAGE);
		}
	}
}

/* ---- output ---------------------------------------------------------- */

struct out_ctx {
	enum cli_format		 fmt;
	int			 progress;
	int			 err;
	struct mls_ensemble	*ens;
};

static void
clear_progress(struct out_ctx *x)
{
	if (x->progress)
		fputs("\r\033[K", stderr);
}

static void
on_member(const json_t *trial, void *arg)
{
	struct out_ctx *x = arg;
	const json_t *params = json_object_get(trial, "params");
	long j = (long)mls_record_int(params, "member", -1);
	json_t *rec;

	rec = json_deep_copy(trial);
	if (rec == NULL) {
		x->err = 1;
		return;
	}
	/* reported after the next attempt may have started */
	json_object_set_new(rec, "retry", json_boolean(
	    mls_ensemble_retried(x->ens, j, (long)mls_record_int(params,
	    "attempt", 1))));
	if (x->fmt == CLI_FMT_JSONL) {
		if (mls_jsonl_write(stdout, rec) < 0 || fflush(stdout) == EOF)
			x->err = 1;
	} else if (x->fmt == CLI_FMT_TABLE) {
		const char *reason = mls_record_str(rec, "reason");
		clear_progress(x);
		printf("member %-5ld attempt %lld  %-9s %s%s%s\n", j,
		    mls_record_int(params, "attempt", 1), mls_record_str(rec, "state"),
		    mls_record_id(rec), reason ? "  # " : "", reason ? reason : "");
		fflush(stdout);
	}
	json_decref(rec);
}

static void
on_progress(const struct mls_campaign_progress *p, void *arg)
{
	struct out_ctx *x = arg;
	struct mls_ensemble_counts c;

	if (!x->progress)
		return;
	mls_ensemble_counts(x->ens, &c);
	fprintf(stderr, "\r\033[K%ld/%ld members succeeded (quorum %ld), %ld running, "
	    "%ld retrying, %ld failed, %.0fs", c.succeeded, c.members, c.quorum,
	    c.running, c.retrying, c.failed, mls_time_now() - p->started);
	fflush(stderr);
}

/* ---- spec ------------------------------------------------------------ */

static json_t *
parse_sites(const char *list, const char *def)
{
	return cli_opt_sites(synopsis, list ? list : def);
}

/* "metric[:min|max]" into an objective object; exits 64 on a bad one. */
static json_t *
parse_objective(const char *s)
{
	char *m = strdup(s), *colon = strrchr(m, ':');
	const char *goal = "min";
	json_t *obj;

	if (colon != NULL) {
		*colon = '\0';
		goal = colon + 1;
	}
	if (strcmp(goal, "min") != 0 && strcmp(goal, "max") != 0)
		usage_error("--objective: goal '%s' is not min or max", goal);
	if (*m == '\0')
		usage_error("--objective: empty metric name%s", "");
	obj = json_pack("{s:s,s:s,s:s,s:n}", "metric", m, "goal", goal,
	    "reduce", "last", "regex");
	free(m);
	return obj;
}

/* Check that every placeholder of the command names a member's param. */
static void
check_command(const json_t *spec, struct mls_ensemble *e)
{
	json_t *p = NULL, *a;
	char *s = NULL;
	size_t i;
	int rc;

	if ((rc = mls_ensemble_member_params(e, 0, &p)) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());
	json_object_set_new(p, "attempt", json_integer(1));
	json_object_set_new(p, "id", json_string("j-0"));
	json_array_foreach(json_object_get(spec, "command"), i, a) {
		if ((rc = mls_job_expand(json_string_value(a), p, &s)) < 0)
			errx(cli_exit_code(rc), "%s", mls_error_last());
		free(s);
	}
	json_decref(p);
}

/* The spec of a new ensemble from the options; exits on errors. */
static json_t *
new_spec(const struct mls_config *cfg, const struct opts *o, int argc,
    char *argv[], json_t **source)
{
	json_t *spec, *configs = NULL, *camp = NULL, *trials = NULL, *obj, *cmd;
	char id[64], *cid = NULL;
	long total, quorum;
	int rc, i;

	if (o->members == 0)
		usage_error("--members N is required%s", "");
	if (o->top > 0 && o->from == NULL)
		usage_error("--top needs --from CAMPAIGN%s", "");
	if (o->from != NULL && o->top == 0)
		usage_error("--from needs --top K%s", "");
	if (argc < 1 && o->from == NULL)
		usage_error("no command given: mls-ensemble --members N [options] -- "
		    "COMMAND [ARG ...]%s", "");
	total = o->members;
	if (o->from != NULL) {
		if ((rc = mls_registry_resolve(cfg, "campaigns", o->from, &cid)) < 0 ||
		    (rc = mls_campaign_load(cfg, cid, &camp, &trials)) < 0)
			errx(cli_exit_code(rc), "--from: %s", mls_error_last());
		if (strcmp(mls_record_str(camp, "kind"), "campaign") != 0)
			errx(EX_DATAERR, "--from: '%s' is not an mls-search campaign", cid);
		if (strcmp(mls_record_str(camp, "state"), "running") == 0)
			warnx("--from: campaign %s has not ended; using its %lld "
			    "finished trials", cid, mls_record_int(json_object_get(camp,
			    "counts"), "succeeded", 0));
		if ((rc = mls_ensemble_top(camp, trials, o->top, &configs)) < 0)
			errx(cli_exit_code(rc), "--from: %s", mls_error_last());
		total = o->members * o->top;
	}
	if ((rc = mls_ensemble_quorum_parse(o->quorum ? o->quorum : "1.0", total,
	    &quorum)) < 0)
		errx(EX_USAGE, "--quorum: %s", mls_error_last());
	if (mls_id_new(id, sizeof(id), "e-") < 0)
		errx(EX_SOFTWARE, "%s", mls_error_last());
	if (o->objective != NULL)
		obj = parse_objective(o->objective);
	else if (camp != NULL)
		obj = json_deep_copy(json_object_get(camp, "objective"));
	else
		obj = json_pack("{s:n,s:s,s:s,s:n}", "metric", "goal", "min",
		    "reduce", "last", "regex");
	spec = json_pack("{s:s,s:s,s:I,s:I,s:s,s:I,s:I,s:s,s:I,s:o}",
	    "kind", "ensemble", "id", id, "members", (json_int_t)total,
	    "quorum", (json_int_t)quorum, "quorum_spec", o->quorum ? o->quorum : "1.0",
	    "retries", (json_int_t)o->retries,
	    "seed", (json_int_t)(o->have_seed ? o->seed : 0),
	    "seed_param", o->seed_param ? o->seed_param : "seed",
	    "folds", (json_int_t)(o->folds > 0 ? o->folds : 1),
	    "objective", obj);
	if (configs != NULL) {
		json_object_set_new(spec, "configs", configs);
		json_object_set_new(spec, "per_config", json_integer(o->members));
		json_object_set_new(spec, "from", json_string(cid));
	}
	json_object_set_new(spec, "budget", json_pack("{s:I,s:f,s:I}", "trials",
	    (json_int_t)0, "timeout_s", o->timeout, "max_failures", (json_int_t)0));
	json_object_set_new(spec, "parallel", json_integer(o->parallel > 0 ?
	    o->parallel : 1));
	json_object_set_new(spec, "sites", parse_sites(o->sites, cfg->default_site));
	json_object_set_new(spec, "name", o->name ? json_string(o->name) : json_null());
	if (argc > 0) {
		cmd = json_array();
		for (i = 0; i < argc; i++)
			json_array_append_new(cmd, json_string(argv[i]));
		json_object_set_new(spec, "command", cmd);
		json_object_set_new(spec, "resources", json_pack("{s:I,s:I,s:o,s:o}",
		    "cpus", (json_int_t)(o->cpus > 0 ? o->cpus : 1),
		    "gpus", (json_int_t)o->gpus,
		    "mem_mb", o->mem_mb > 0 ? json_integer(o->mem_mb) : json_null(),
		    "time_s", o->time_s > 0 ? json_integer((json_int_t)o->time_s) :
		    json_null()));
		json_object_set(spec, "env", o->env);
	} else {
		/* The campaign's own command, code, image and resources. */
		json_t *res = json_deep_copy(json_object_get(camp, "resources"));
		json_t *env = json_deep_copy(json_object_get(camp, "env"));
		if (res == NULL)
			res = json_object();
		if (env == NULL)
			env = json_object();
		if (o->cpus > 0)
			json_object_set_new(res, "cpus", json_integer(o->cpus));
		if (o->gpus > 0)
			json_object_set_new(res, "gpus", json_integer(o->gpus));
		if (o->mem_mb > 0)
			json_object_set_new(res, "mem_mb", json_integer(o->mem_mb));
		if (o->time_s > 0)
			json_object_set_new(res, "time_s", json_integer((json_int_t)o->time_s));
		json_object_update(env, o->env);
		json_object_set(spec, "command", json_object_get(camp, "command"));
		json_object_set_new(spec, "resources", res);
		json_object_set_new(spec, "env", env);
		*source = json_incref(camp);
	}
	json_decref(camp);
	json_decref(trials);
	free(cid);
	return spec;
}

/* The ensemble record from its journal, as mls-status shows it. */
static int
final_record(const struct mls_config *cfg, const char *id, json_t **out)
{
	json_t *camp = NULL, *trials = NULL;
	int rc;

	if ((rc = mls_campaign_load(cfg, id, &camp, &trials)) == 0)
		rc = mls_ensemble_record(camp, trials, out);
	json_decref(camp);
	json_decref(trials);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct opts o = { 0 };
	struct mls_config cfg = { 0 };
	struct mls_store *st = NULL;
	struct mls_tracker *tr = NULL;
	struct mls_ensemble *ens = NULL;
	struct mls_campaign_gen gen = { 0 };
	struct mls_campaign_opts co = { 0 };
	struct out_ctx x = { 0 };
	json_t *spec = NULL, *rec = NULL, *ens_rec = NULL, *sb = NULL, *source = NULL;
	char *resolved = NULL, *sbid = NULL;
	const char *state, *id;
	int ex = EX_OK, rc;
	size_t k;

	cli_init(argc, argv);
	o.env = json_object();
	parse_options(argc, argv, &o);
	argc -= optind;
	argv += optind;

	if ((rc = mls_config_load(&cfg)) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());

	if (o.resume != NULL) {
		if (argc > 0 || o.members > 0 || o.from != NULL || o.top > 0 ||
		    o.quorum != NULL) {
			warnx("--resume takes the members, quorum and command from the "
			    "ensemble's journal");
			cli_usage(stderr, synopsis, EX_USAGE);
		}
		if ((rc = mls_registry_resolve(&cfg, "campaigns", o.resume, &resolved)) < 0 ||
		    (rc = mls_campaign_load_spec(&cfg, resolved, &spec)) < 0)
			errx(cli_exit_code(rc), "%s", mls_error_last());
		if (mls_record_str(spec, "kind") == NULL ||
		    strcmp(mls_record_str(spec, "kind"), "ensemble") != 0)
			errx(EX_DATAERR, "--resume: '%s' is not an ensemble (resume "
			    "campaigns with mls-search)", resolved);
		if (o.timeout > 0)
			json_object_set_new(json_object_get(spec, "budget"), "timeout_s",
			    json_real(o.timeout));
		if (o.parallel > 0)
			json_object_set_new(spec, "parallel", json_integer(o.parallel));
	} else {
		spec = new_spec(&cfg, &o, argc, argv, &source);
	}
	if ((rc = mls_ensemble_new(&ens, spec)) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());
	if (o.resume == NULL)
		check_command(spec, ens);

	if ((rc = mls_store_open(&st, &cfg, NULL)) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());
	if ((rc = mls_tracker_new(&tr, &cfg, st)) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());
	{
		json_t *s;
		struct mls_site *site;
		json_array_foreach(json_object_get(spec, "sites"), k, s)
			if ((rc = mls_tracker_site(tr, mls_record_str(s, "name"), &site)) < 0)
				errx(cli_exit_code(rc), "%s", mls_error_last());
	}

	if (o.resume == NULL) {
		const char *image = o.image;
		if (o.sandbox != NULL) {
			if ((rc = mls_sandbox_resolve(st, o.sandbox, &sbid)) < 0)
				errx(cli_exit_code(rc), "%s", mls_error_last());
		} else if (source != NULL) {
			sbid = strdup(mls_record_str(source, "sandbox"));
			if (image == NULL && mls_record_str(source, "image") != NULL)
				image = mls_record_str(source, "image");
		} else if ((sb = cli_read_stdin_sandbox()) != NULL) {
			if ((rc = mls_sandbox_resolve(st, mls_record_id(sb), &sbid)) < 0)
				errx(cli_exit_code(rc), "%s", mls_error_last());
			if (image == NULL)
				image = mls_record_str(sb, "image");
		} else {
			struct mls_ship_opts so = { .image = o.image };
			if ((rc = mls_ship(&cfg, st, ".", &so, &sb)) < 0)
				errx(cli_exit_code(rc), "ship '.': %s", mls_error_last());
			sbid = strdup(mls_record_id(sb));
		}
		json_object_set_new(spec, "sandbox", sbid ? json_string(sbid) : json_null());
		json_object_set_new(spec, "image", image && strcmp(image, "none") != 0 ?
		    json_string(image) : json_null());
	}
	id = mls_record_id(spec);
	if (o.detach)
		cli_detach(&cfg, id);

	cli_catch_stop_signals();

	x.fmt = cli_resolve_format(o.fmt);
	x.progress = !o.detach && cli_progress();
	x.ens = ens;
	mls_ensemble_gen(ens, &gen);
	co.kind = "ensemble";
	co.spec = spec;
	co.resume = o.resume != NULL;
	co.cancel_on_exit = o.cancel_on_exit;
	co.stop = &cli_stop;
	co.on_trial = on_member;
	co.on_progress = on_progress;
	co.cb_arg = &x;
	if (x.fmt == CLI_FMT_TABLE)
		fprintf(stderr, "ensemble %s (resume with: mls-ensemble --resume %s)\n",
		    id, id);
	rc = mls_campaign_run(&cfg, st, tr, &gen, NULL, &co, &rec);
	clear_progress(&x);
	if (rc < 0 || (rc = final_record(&cfg, id, &ens_rec)) < 0) {
		warnx("%s", mls_error_last());
		ex = cli_exit_code(rc);
		goto done;
	}
	/* The loop's own view of how it ended wins over the journal's. */
	state = mls_record_str(rec, "state");
	if (strcmp(state, "interrupted") == 0)
		json_object_set_new(ens_rec, "state", json_string(state));
	state = mls_record_str(ens_rec, "state");
	if (x.fmt == CLI_FMT_TABLE) {
		char *eid = (char *)id;
		putchar('\n');
		fflush(stdout);
		(void)cli_campaign_status(&cfg, st, tr, 1, &eid, CLI_FMT_TABLE, 0);
	} else if (x.fmt == CLI_FMT_JSON) {
		json_dumpf(ens_rec, stdout, MLS_JSON_PRETTY);
		putchar('\n');
	} else if (mls_jsonl_write(stdout, ens_rec) < 0) {
		x.err = 1;
	}
	{
		const json_t *q = json_object_get(ens_rec, "quorum");
		if (strcmp(state, "interrupted") == 0) {
			warnx("interrupted; resume with: mls-ensemble --resume %s", id);
			ex = EX_INTERRUPTED;
		} else if (strcmp(state, "finished") != 0) {
			warnx("ensemble %s: quorum missed: %lld of %lld members succeeded, "
			    "%lld needed", id, mls_record_int(q, "succeeded", 0),
			    mls_record_int(q, "members", 0), mls_record_int(q, "required", 0));
			ex = EX_WORKFAILED;
		}
	}
	if (x.err || cli_close_stdout() == -1) {
		warn("stdout");
		ex = EX_IOERR;
	}
done:
	json_decref(rec);
	json_decref(ens_rec);
	json_decref(spec);
	json_decref(sb);
	json_decref(source);
	json_decref(o.env);
	free(resolved);
	free(sbid);
	mls_ensemble_free(ens);
	mls_tracker_free(tr);
	mls_store_free(st);
	mls_config_release(&cfg);
	return ex;
}
