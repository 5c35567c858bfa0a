/*
 * mls-search - run a hyperparameter-optimisation campaign.
 *
 * The campaign front end (cmd/cli_front.c) does what mls-ensemble does
 * too; this file adds the search space, the sampler and the pruner.
 */
#include "config.h"

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "cli.h"
#include "mls_buf.h"
#include "mls_campaign.h"
#include "mls_config.h"
#include "mls_cspec.h"
#include "mls_error.h"
#include "mls_pruner.h"
#include "mls_record.h"
#include "mls_sampler.h"
#include "mls_space.h"

static const char synopsis[] =
    "usage: mls-search [-nqv] [--ask-tell] [--cancel-on-exit] [--detach]\n"
    "                  [--independent] [--multivariate] [--algorithm ALG] [--cpus N]\n"
    "                  [-e KEY=VALUE] [--format FMT] [--gpus N] [--image TAG]\n"
    "                  [--max-failures N] [--mem SIZE] [--metric-regex REGEX]\n"
    "                  [--name NAME] [--objective METRIC[:min|max]]\n"
    "                  [-p NAME=TYPE:ARGS] [--parallel P] [--prune median|asha]\n"
    "                  [--reduce last|best|mean] [--resume ID] [-s SITE[:CAP][,...]]\n"
    "                  [--sandbox ID] [--seed N] [--space FILE] [--startup N]\n"
    "                  [--time DURATION] [--timeout DURATION] [--trials N]\n"
    "                  [--] COMMAND [ARG ...]\n";

/* What --help prints after the synopsis; mls-search(1) is the reference. */
static const char help[] =
    "Run a hyperparameter-optimisation campaign of COMMAND over a search space.\n"
    "\n"
    "Search space and sampler:\n"
    "  -p, --param NAME=TYPE:ARGS\n"
    "                          add a parameter, e.g. lr=loguniform:1e-5:1e-1\n"
    "      --space FILE        read the search space from FILE\n"
    "      --algorithm ALG     random, grid, sobol, tpe or exec:CMD (default tpe)\n"
    "      --seed N            seed the sampler (default: drawn and journalled)\n"
    "      --startup N         tpe: random trials before it models (default 10)\n"
    "      --multivariate      tpe: model the parameters jointly (the default)\n"
    "      --independent       tpe: model the parameters one by one\n"
    "      --ask-tell          run no jobs: suggest on stdout, read results on stdin\n"
    "\n"
    "Objective:\n"
    "      --objective METRIC[:min|max]\n"
    "                          the metric to optimise (default loss:min)\n"
    "      --reduce last|best|mean\n"
    "                          how a trial's metrics become its objective\n"
    "      --metric-regex REGEX\n"
    "                          read the objective from the trial's stdout\n"
    "      --prune median|asha\n"
    "                          stop unpromising trials early\n"
    "\n"
    "Budget:\n"
    "      --trials N          run at most N trials (default 100, or the grid)\n"
    "      --timeout DURATION  start no new trial after DURATION\n"
    "      --max-failures N    end the campaign, as failed, after N failed trials\n"
    "      --parallel P        keep up to P trials in flight (default 1)\n"
    "\n"
    "What runs, where:\n"
    "  -s, --site SITE[:CAP][,...]\n"
    "                          the sites, each with at most CAP trials\n"
    "      --sandbox ID        run this sandbox from the store\n"
    "  -n, --no-input          leave stdin alone even when it starts with '{'\n"
    "  -e, --env KEY=VALUE     set an environment variable for every trial\n"
    "      --image TAG         run the trials in the container image TAG\n"
    "      --name NAME         give the trial jobs the name NAME\n"
    "      --cpus N            CPU slots per trial (default 1)\n"
    "      --gpus N            GPUs per trial (default 0)\n"
    "      --mem SIZE          memory per trial, e.g. 512M or 4G\n"
    "      --time DURATION     wall-clock limit per trial, e.g. 15m\n"
    "\n"
    "The campaign:\n"
    "      --resume ID         continue campaign ID from its journal\n"
    "      --detach            run in the background; print the campaign id\n"
    "      --cancel-on-exit    when interrupted, cancel the trials in flight\n"
    "\n"
    "Output:\n"
    "      --format FMT        table, json, jsonl or auto (a table on a terminal)\n"
    "  -q, --quiet             print no progress and no informational messages\n"
    "  -v, --verbose           print debugging messages on stderr; repeat for more\n"
    "\n"
    "General:\n"
    "  -h, --help              print this help and exit\n"
    "  -V, --version           print the version and exit\n"
    "\n"
    "Examples:\n"
    "  $ mls-search -p lr=loguniform:1e-5:1e-1 --trials 50 -- sh train.sh {lr}\n"
    "  $ mls-ship | mls-search --space sweep.yaml --detach -- sh train.sh\n"
    "\n"
    "See mls-search(1) for the space syntax, the algorithms and the exit statuses.\n";

/* Its own long options, in the order of their codes. */
enum {
	OPT_ALGORITHM = CLI_FRONT_OPT, OPT_ASK_TELL, OPT_INDEPENDENT,
	OPT_MAX_FAILURES, OPT_METRIC_REGEX, OPT_MULTIVARIATE, OPT_PARAM,
	OPT_PRUNE, OPT_REDUCE, OPT_SPACE, OPT_STARTUP, OPT_TRIALS,
};
static const char longopts[] = "algorithm: ask-tell independent max-failures: "
    "metric-regex: multivariate param: prune: reduce: space: startup: trials:";

/* What only mls-search has. */
struct search {
	int			 ask_tell, independent;
	const char		*algorithm, *metric_regex, *prune, *space_file;
	enum mls_reduce		 reduce;
	long			 max_failures, startup;
	long			 file_trials;	/* the space file's run_cap */
	json_t			*params;	/* -p strings */
	struct mls_sampler	*smp;
	struct mls_campaign_gen	 gen;
	struct mls_pruner	*pr;
};

static void
option(struct cli_front *f, int c, const char *arg)
{
	struct search *x = f->arg;

	switch (c) {
	case 'p': case OPT_PARAM: json_array_append_new(x->params, json_string(arg)); f->new_only = 1; break;
	case OPT_ALGORITHM: x->algorithm = arg; break;
	case OPT_ASK_TELL: x->ask_tell = 1; break;
	case OPT_INDEPENDENT: x->independent = 1; break;
	case OPT_MULTIVARIATE: x->independent = 0; break;
	case OPT_MAX_FAILURES:
		x->max_failures = cli_front_count(f, "--max-failures", arg, 1);
		break;
	case OPT_METRIC_REGEX: x->metric_regex = arg; break;
	case OPT_PRUNE:
		if (strcmp(arg, "median") != 0 && strcmp(arg, "asha") != 0)
			cli_front_usage(f, "--prune: '%s' is not one of median, asha", arg);
		x->prune = arg;
		break;
	case OPT_REDUCE:
		if (mls_reduce_parse(arg, &x->reduce) < 0)
			cli_front_usage(f, "--reduce: %s", mls_error_last());
		break;
	case OPT_SPACE: x->space_file = arg; f->new_only = 1; break;
	case OPT_STARTUP: x->startup = cli_front_count(f, "--startup", arg, 0); break;
	case OPT_TRIALS: f->trials = cli_front_count(f, "--trials", arg, 1); break;
	default: cli_usage(stderr, synopsis, EX_USAGE);
	}
}

/*
 * What a space file (a W&B sweep) sets besides the space, used where no
 * option gives it: the command (program), the pruner (early_terminate),
 * the budget (run_cap), the name and environment variables.
 */
static void
file_settings(struct cli_front *f, const json_t *meta)
{
	struct search *x = f->arg;
	struct mls_campaign_spec *s = f->spec;
	const json_t *cmd = json_object_get(meta, "command");
	const json_t *pr = json_object_get(meta, "prune");
	const char *k;
	json_t *v;

	if (cmd != NULL && s->ncommand == 0) {
		size_t i, n = json_array_size(cmd);
		char **av = calloc(n + 1, sizeof(*av));
		if (av == NULL)
			err(EX_SOFTWARE, "calloc");
		for (i = 0; i < n; i++)
			av[i] = (char *)json_string_value(json_array_get(cmd, i));
		cli_front_check(mls_cspec_set_command(s, (int)n, av));
		free(av);
	}
	if (pr != NULL && x->prune == NULL) {
		cli_front_check(mls_cspec_set_str(&s->prune, mls_record_str(pr,
		    "kind")));
		s->prune_opts.min_resource = (long)mls_record_int(pr,
		    "min_resource", 0);
		s->prune_opts.reduction_factor = (long)mls_record_int(pr,
		    "reduction_factor", 0);
	}
	x->file_trials = (long)mls_record_int(meta, "trials", 0);
	if (f->name == NULL && mls_record_str(meta, "name") != NULL)
		cli_front_check(mls_cspec_set_str(&s->name, mls_record_str(meta,
		    "name")));
	json_object_foreach(json_object_get(meta, "env"), k, v)
		if (json_object_get(s->env, k) == NULL)
			json_object_set(s->env, k, v);
}

static void
new_spec(struct cli_front *f, int argc, char *argv[])
{
	struct search *x = f->arg;
	struct mls_campaign_spec *s = f->spec;
	const json_t *mo;
	json_t *meta = NULL, *p;
	size_t k;

	cli_front_check(mls_space_new(&s->space));
	if (x->space_file != NULL)
		cli_front_check(mls_space_load_file(s->space, x->space_file, &meta));
	json_array_foreach(x->params, k, p)
		cli_front_check(mls_space_add_spec(s->space, json_string_value(p)));
	if (mls_space_size(s->space) == 0)
		cli_front_usage(f, "empty search space: give -p NAME=TYPE:ARGS or --space FILE");
	if (!x->ask_tell && argc < 1 && json_object_get(meta, "command") == NULL)
		cli_front_usage(f, "no command given: mls-search [options] -- COMMAND [ARG ...]");
	(void)argv;
	file_settings(f, meta);
	cli_front_check(mls_cspec_set_str(&s->algorithm, x->algorithm ? x->algorithm :
	    mls_record_str(meta, "algorithm") ? mls_record_str(meta, "algorithm") : "tpe"));
	s->sampler.multivariate = !x->independent;
	s->sampler.parallel = s->parallel;
	s->sampler.startup = x->startup;
	if (!x->ask_tell) {	/* --ask-tell leaves no campaign behind */
		struct mls_buf wd = MLS_BUF_INIT;
		mls_buf_addf(&wd, "campaigns/%s/exec", s->id);
		cli_front_check(mls_config_data_dir(f->cfg, wd.buf, &s->sampler.workdir));
		mls_buf_release(&wd);
	}
	/* objective: --objective, else the space file's, else loss:min */
	mo = json_object_get(meta, "objective");
	cli_front_objective(f, f->objective ? f->objective : mls_record_str(mo,
	    "metric") ? mls_record_str(mo, "metric") : "loss", mls_record_str(mo, "goal"));
	s->objective.reduce = x->reduce;
	cli_front_check(mls_cspec_set_str(&s->objective.regex, x->metric_regex));
	if (x->prune != NULL)
		memset(&s->prune_opts, 0, sizeof(s->prune_opts));
	cli_front_check(mls_cspec_set_str(&s->prune, x->prune ? x->prune :
	    s->prune));
	if (!f->have_seed)	/* drawn, and journalled so that a resume agrees */
		s->seed = mls_cspec_id_seed(s->id);
	s->budget.max_failures = x->max_failures;
	json_decref(meta);
}

static void
prepare(struct cli_front *f, int resume)
{
	struct search *x = f->arg;
	struct mls_campaign_spec *s = f->spec;
	json_t *so = mls_cspec_sampler_json(s);
	size_t gs;
	int rc, ex = EX_OK;

	cli_front_check(mls_sampler_new(&x->smp, s->algorithm, s->space, s->seed, so));
	json_decref(so);
	if (x->ask_tell) {
		if ((rc = mls_sampler_ask_tell(x->smp, stdin, stdout, s->parallel,
		    f->trials)) < 0) {
			warnx("%s", mls_error_last());
			ex = cli_exit_code(rc);
		}
		if (cli_close_stdout() == -1 && ex == EX_OK)
			ex = EX_IOERR;
		exit(ex);
	}
	if (!resume) {
		s->budget.trials = f->trials > 0 ? f->trials : x->file_trials;
		if ((gs = mls_sampler_grid_size(x->smp)) > 0 && s->budget.trials == 0) {
			if (gs > 100000)
				errx(EX_USAGE, "the grid has %zu points: pass --trials N "
				    "to run only the first N", gs);
			s->budget.trials = (long)gs;
		}
		if (s->budget.trials == 0 && f->timeout <= 0)
			s->budget.trials = 100;
	}
	if (s->prune != NULL) {
		json_t *po = mls_cspec_pruner_json(s);
		cli_front_check(mls_pruner_new(&x->pr, s->prune, po));
		json_decref(po);
	}
	cli_front_sampler_gen(x->smp, &x->gen);
	f->gen = &x->gen;
	f->pr = x->pr;
}

/* ---- output ---------------------------------------------------------- */

static void
table_line(struct cli_front *f, const json_t *trial)
{
	const char *state = json_is_true(json_object_get(trial, "pruned")) ?
	    "pruned" : mls_record_str(trial, "state");
	const char *reason = mls_record_str(trial, "reason");
	char *p = json_dumps(json_object_get(trial, "params"), MLS_JSON_COMPACT);

	(void)f;
	if (json_is_number(json_object_get(trial, "objective")))
		printf("trial %-4lld %-9s %-10.6g %s\n", mls_record_int(trial,
		    "number", -1), state, json_number_value(json_object_get(trial,
		    "objective")), p ? p : "");
	else
		printf("trial %-4lld %-9s %-10s %s%s%s\n", mls_record_int(trial,
		    "number", -1), state, "-", p ? p : "", reason ? "  # " : "",
		    reason ? reason : "");
	free(p);
}

static int
failed(struct cli_front *f, const json_t *rec)
{
	const char *why = mls_record_str(rec, "end");

	(void)f;
	if (why != NULL && strcmp(why, "max-failures") == 0)
		warnx("campaign %s stopped: %lld trials failed (--max-failures)",
		    mls_record_id(rec), mls_record_int(json_object_get(rec, "counts"),
		    "failed", 0));
	else
		warnx("campaign %s: no trial succeeded", mls_record_id(rec));
	return EX_WORKFAILED;
}

static void
release(struct cli_front *f)
{
	struct search *x = f->arg;

	mls_pruner_free(x->pr);
	mls_sampler_free(x->smp);
	json_decref(x->params);
}

static const struct cli_front_tool tool = {
	.prog = "mls-search", .synopsis = synopsis, .help = help, .kind = MLS_CSPEC_SEARCH,
	.shortopts = "p:", .longopts = longopts,
	.resume_conflict = "--resume takes the command and space from the campaign's journal",
	.wrong_kind = "--resume: '%s' is not an mls-search campaign (resume "
	    "ensembles with mls-ensemble)",
	.option = option, .new_spec = new_spec, .prepare = prepare,
	.table_line = table_line, .failed = failed, .release = release,
};

int
main(int argc, char *argv[])
{
	struct search x = { .params = json_array() };

	return cli_front_main(&tool, &x, argc, argv);
}
