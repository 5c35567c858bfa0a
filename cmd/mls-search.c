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
    "usage: mls-search [-qv] [--ask-tell] [--cancel-on-exit] [--detach] [--independent]\n"
    "                  [--multivariate] [--algorithm ALG] [--cpus N] [-e KEY=VALUE]\n"
    "                  [--format FMT] [--gpus N] [--image TAG] [--max-failures N] [--mem SIZE]\n"
    "                  [--metric-regex REGEX] [--name NAME] [--objective METRIC[:min|max]]\n"
    "                  [-p NAME=TYPE:ARGS] [--parallel P] [--prune median|asha]\n"
    "                  [--reduce last|best|mean] [--resume ID] [-s SITE[:CAP][,...]]\n"
    "                  [--sandbox ID] [--seed N] [--space FILE] [--startup N]\n"
    "                  [--time DURATION] [--timeout DURATION] [--trials N]\n"
    "                  [--] COMMAND [ARG ...]\n";

enum {
	OPT_ASK_TELL = 0x100, OPT_INDEPENDENT, OPT_MULTIVARIATE, OPT_ALGORITHM,
	OPT_MAX_FAILURES, OPT_METRIC_REGEX, OPT_PRUNE, OPT_REDUCE, OPT_SPACE,
	OPT_STARTUP, OPT_TRIALS,
};

static const struct option longopts[] = {
	{ "algorithm", required_argument, NULL, OPT_ALGORITHM },
	{ "ask-tell", no_argument, NULL, OPT_ASK_TELL },
	{ "independent", no_argument, NULL, OPT_INDEPENDENT },
	{ "max-failures", required_argument, NULL, OPT_MAX_FAILURES },
	{ "metric-regex", required_argument, NULL, OPT_METRIC_REGEX },
	{ "multivariate", no_argument, NULL, OPT_MULTIVARIATE },
	{ "param", required_argument, NULL, 'p' },
	{ "prune", required_argument, NULL, OPT_PRUNE },
	{ "reduce", required_argument, NULL, OPT_REDUCE },
	{ "space", required_argument, NULL, OPT_SPACE },
	{ "startup", required_argument, NULL, OPT_STARTUP },
	{ "trials", required_argument, NULL, OPT_TRIALS },
	{ NULL, 0, NULL, 0 }
};

/* What only mls-search has. */
struct search {
	int			 ask_tell, independent;
	const char		*algorithm, *metric_regex, *prune, *space_file;
	enum mls_reduce		 reduce;
	long			 max_failures, startup;
	json_t			*params;	/* -p strings */
	struct mls_sampler	*smp;
	struct mls_pruner	*pr;
	struct mls_campaign_gen	 gen;
};

static void
option(struct cli_front *f, int c, const char *arg)
{
	struct search *x = f->arg;

	switch (c) {
	case 'p':
		json_array_append_new(x->params, json_string(arg));
		f->new_only = 1;
		break;
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

static void
new_spec(struct cli_front *f, int argc, char *argv[])
{
	struct search *x = f->arg;
	struct mls_campaign_spec *s = f->spec;
	const json_t *mo;
	json_t *meta = NULL, *p;
	const char *goal;
	char *dir = NULL;
	size_t k;
	int rc;

	if ((rc = mls_space_new(&s->space)) < 0 || (x->space_file != NULL &&
	    (rc = mls_space_load_file(s->space, x->space_file, &meta)) < 0))
		errx(cli_exit_code(rc), "%s", mls_error_last());
	json_array_foreach(x->params, k, p)
		if ((rc = mls_space_add_spec(s->space, json_string_value(p))) < 0)
			errx(cli_exit_code(rc), "%s", mls_error_last());
	if (mls_space_size(s->space) == 0)
		cli_front_usage(f, "empty search space: give -p NAME=TYPE:ARGS or --space FILE");
	if (!x->ask_tell && argc < 1)
		cli_front_usage(f, "no command given: mls-search [options] -- COMMAND [ARG ...]");
	(void)argv;
	if (mls_cspec_set_str(&s->algorithm, x->algorithm ? x->algorithm :
	    mls_record_str(meta, "algorithm") ? mls_record_str(meta, "algorithm") :
	    "tpe") < 0)
		errx(EX_SOFTWARE, "%s", mls_error_last());
	s->sampler.multivariate = !x->independent;
	s->sampler.parallel = s->parallel;
	s->sampler.startup = x->startup;
	if (!x->ask_tell) {	/* --ask-tell leaves no campaign behind */
		struct mls_buf wd = MLS_BUF_INIT;
		mls_buf_addf(&wd, "campaigns/%s/exec", s->id);
		if ((rc = mls_config_data_dir(f->cfg, wd.buf, &dir)) < 0)
			errx(cli_exit_code(rc), "%s", mls_error_last());
		s->sampler.workdir = dir;
		mls_buf_release(&wd);
	}
	/* objective: --objective, else the space file's, else loss:min */
	mo = json_object_get(meta, "objective");
	goal = mls_record_str(mo, "goal") ? mls_record_str(mo, "goal") : "min";
	if (strncmp(goal, "max", 3) == 0)	/* space files say "maximize" */
		goal = "max";
	else if (strncmp(goal, "min", 3) == 0)
		goal = "min";
	cli_front_objective(f, f->objective ? f->objective : mls_record_str(mo,
	    "metric") ? mls_record_str(mo, "metric") : "loss", goal);
	s->objective.reduce = x->reduce;
	if (mls_cspec_set_str(&s->objective.regex, x->metric_regex) < 0 ||
	    mls_cspec_set_str(&s->prune, x->prune) < 0)
		errx(EX_SOFTWARE, "%s", mls_error_last());
	if (!f->have_seed) {
		/* No seed given: draw one, and record it so a resume is consistent. */
		unsigned long long seed = 0;
		for (int i = 0; s->id[2 + i] && i < 26; i++)
			seed = seed * 31 + (unsigned char)s->id[2 + i];
		s->seed = seed & 0x7fffffffffffULL;
	}
	s->budget.max_failures = x->max_failures;
	json_decref(meta);
}

/* ---- the sampler as the campaign's generator ----------------------- */

static int
gen_ask(void *arg, long number, json_t **params)
{
	return mls_sampler_ask(arg, number, params);
}

static int
gen_pending(void *arg, long number, const json_t *params)
{
	return mls_sampler_pending(arg, number, params);
}

static int
gen_tell(void *arg, long number, const json_t *params, const char *state,
    double value)
{
	return mls_sampler_tell(arg, number, params, state, value);
}

static void
prepare(struct cli_front *f, int resume)
{
	struct search *x = f->arg;
	struct mls_campaign_spec *s = f->spec;
	json_t *so = mls_cspec_sampler_json(s);
	size_t gs;
	int rc, ex = EX_OK;

	if ((rc = mls_sampler_new(&x->smp, s->algorithm, s->space, s->seed, so)) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());
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
		s->budget.trials = f->trials;
		if ((gs = mls_sampler_grid_size(x->smp)) > 0 && f->trials == 0) {
			if (gs > 100000)
				errx(EX_USAGE, "the grid has %zu points: pass --trials N "
				    "to run only the first N", gs);
			s->budget.trials = (long)gs;
		}
		if (s->budget.trials == 0 && f->timeout <= 0)
			s->budget.trials = 100;
	}
	if (s->prune != NULL && (rc = mls_pruner_new(&x->pr, s->prune, NULL)) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());
	x->gen = (struct mls_campaign_gen){ gen_ask, gen_pending, gen_tell, x->smp };
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

static void
progress(struct cli_front *f, const struct mls_campaign_progress *p)
{
	long fin = p->succeeded + p->failed + p->pruned + p->cancelled;

	(void)f;
	fprintf(stderr, "%ld", fin);
	if (p->budget > 0)
		fprintf(stderr, "/%ld", p->budget);
	fprintf(stderr, " done, %ld running, %ld failed, %ld pruned", p->running,
	    p->failed, p->pruned);
	if (p->have_best)
		fprintf(stderr, ", best %.6g (#%ld)", p->best, p->best_number);
	fprintf(stderr, ", %.2f/s, %.0fs", p->rate, mls_time_now() - p->started);
	if (p->budget > 0 && p->rate > 0 && fin < p->budget)
		fprintf(stderr, ", ETA %.0fs", (double)(p->budget - fin) / p->rate);
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

static const struct cli_front_tool tool = {
	.prog = "mls-search",
	.synopsis = synopsis,
	.kind = MLS_CSPEC_SEARCH,
	.shortopts = "p:",
	.longopts = longopts,
	.resume_conflict = "--resume takes the command and space from the campaign's journal",
	.wrong_kind = "--resume: '%s' is not an mls-search campaign (resume "
	    "ensembles with mls-ensemble)",
	.option = option,
	.new_spec = new_spec,
	.prepare = prepare,
	.table_line = table_line,
	.progress = progress,
	.failed = failed,
};

int
main(int argc, char *argv[])
{
	struct search x = { .params = json_array() };
	int ex;

	ex = cli_front_main(&tool, &x, argc, argv);
	mls_pruner_free(x.pr);
	mls_sampler_free(x.smp);
	json_decref(x.params);
	return ex;
}
