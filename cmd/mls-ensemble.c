/*
 * mls-ensemble - train an ensemble of members (seeds, folds, or the best
 * configurations of a campaign), with retries and a quorum.
 *
 * The ensemble is a campaign of kind "ensemble": the campaign loop of
 * lib/mls_campaign.c runs it, with the member generator of
 * lib/mls_ensemble.c, and the campaign front end of cmd/cli_front.c drives
 * it, so parallelism, sites, the journal, --resume, --detach and signals
 * behave as in mls-search.
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
#include "mls_campaign.h"
#include "mls_cspec.h"
#include "mls_ensemble.h"
#include "mls_error.h"
#include "mls_record.h"
#include "mls_registry.h"

static const char synopsis[] =
    "usage: mls-ensemble [-nqv] [--cancel-on-exit] [--detach] [--cpus N]\n"
    "                    [-e KEY=VALUE] [--folds K] [--format FMT] [--from CAMPAIGN]\n"
    "                    [--gpus N] [--image TAG] [--members N] [--mem SIZE]\n"
    "                    [--name NAME] [--objective METRIC[:min|max]] [--parallel P]\n"
    "                    [--quorum FRACTION|COUNT] [--resume ID] [--retries R]\n"
    "                    [-s SITE[:CAP][,...]] [--sandbox ID] [--seed S]\n"
    "                    [--seed-param NAME] [--time DURATION] [--timeout DURATION]\n"
    "                    [--top K] [--] COMMAND [ARG ...]\n";

/* What --help prints after the synopsis; mls-ensemble(1) is the reference. */
static const char help[] =
    "Train an ensemble of members of COMMAND with a quorum, retries and a summary.\n"
    "\n"
    "Members:\n"
    "      --members N         the members, or with --from the seeds per config\n"
    "      --from CAMPAIGN     the best configurations of CAMPAIGN (with --top)\n"
    "      --top K             with --from, the K best trials\n"
    "      --folds K           give member j the fold j modulo K (default 1)\n"
    "      --seed S            the base of the members' seeds (default 0)\n"
    "      --seed-param NAME   the name of the seed parameter (default seed)\n"
    "\n"
    "Success:\n"
    "      --quorum FRACTION|COUNT\n"
    "                          the members that must succeed\n"
    "      --retries R         try a failed member up to R more times (default 0)\n"
    "      --objective METRIC[:min|max]\n"
    "                          require every member to report METRIC\n"
    "      --timeout DURATION  start no new member after DURATION\n"
    "      --parallel P        keep up to P members in flight (default 1)\n"
    "\n"
    "What runs, where:\n"
    "  -s, --site SITE[:CAP][,...]\n"
    "                          the sites, each with at most CAP members\n"
    "      --sandbox ID        run this sandbox from the store\n"
    "  -n, --no-input          leave stdin alone even when it starts with '{'\n"
    "  -e, --env KEY=VALUE     set an environment variable for every member\n"
    "      --image TAG         run the members in the container image TAG\n"
    "      --name NAME         give the member jobs the name NAME\n"
    "      --cpus N            CPU slots per member (default 1)\n"
    "      --gpus N            GPUs per member (default 0)\n"
    "      --mem SIZE          memory per member, e.g. 512M or 4G\n"
    "      --time DURATION     wall-clock limit per member, e.g. 15m\n"
    "\n"
    "The ensemble:\n"
    "      --resume ID         continue ensemble ID from its journal\n"
    "      --detach            run in the background; print the ensemble id\n"
    "      --cancel-on-exit    when interrupted, cancel the members in flight\n"
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
    "  $ mls-ensemble --members 20 --quorum 18 --retries 2 -- sh train.sh {seed}\n"
    "  $ mls-ensemble --from c-01kx --top 3 --members 5\n"
    "\n"
    "See mls-ensemble(1) for the quorum, the records and the exit statuses.\n";

/* Its own long options, in the order of their codes. */
enum {
	OPT_FOLDS = CLI_FRONT_OPT, OPT_FROM, OPT_MEMBERS, OPT_QUORUM, OPT_RETRIES,
	OPT_SEED_PARAM, OPT_TOP,
};
static const char longopts[] = "folds: from: members: quorum: retries: "
    "seed-param: top:";

/* What only mls-ensemble has. */
struct ens {
	const char		*from, *quorum, *seed_param;
	long			 folds, members, retries, top;
	struct mls_campaign_spec src;	/* the --from campaign's spec */
	struct mls_ensemble	*e;
	struct mls_campaign_gen	 gen;
};

static void
option(struct cli_front *f, int c, const char *arg)
{
	struct ens *x = f->arg;

	switch (c) {
	case OPT_FOLDS: x->folds = cli_front_count(f, "--folds", arg, 1); break;
	case OPT_FROM: x->from = arg; f->new_only = 1; break;
	case OPT_MEMBERS:
		x->members = cli_front_count(f, "--members", arg, 1);
		f->new_only = 1;
		break;
	case OPT_QUORUM: x->quorum = arg; f->new_only = 1; break;
	case OPT_RETRIES: x->retries = cli_front_count(f, "--retries", arg, 0); break;
	case OPT_SEED_PARAM:
		if (*arg == '\0' || strcmp(arg, "member") == 0 || strcmp(arg, "fold") == 0 ||
		    strcmp(arg, "attempt") == 0 || strcmp(arg, "config") == 0)
			cli_front_usage(f, "--seed-param: '%s' is empty or one of the "
			    "ensemble's own keys (member, fold, attempt, config)", arg);
		x->seed_param = arg;
		break;
	case OPT_TOP: x->top = cli_front_count(f, "--top", arg, 1); f->new_only = 1; break;
	default: cli_usage(stderr, synopsis, EX_USAGE);
	}
}

/* --from: the campaign's K best configurations, and its spec in x->src. */
static json_t *
from_campaign(struct cli_front *f, struct ens *x)
{
	json_t *camp = NULL, *trials = NULL, *configs = NULL;
	char *cid = NULL;
	int rc;

	if ((rc = mls_registry_resolve(f->cfg, "campaigns", x->from, &cid)) < 0 ||
	    (rc = mls_campaign_load(f->cfg, cid, &camp, &trials)) < 0)
		errx(cli_exit_code(rc), "--from: %s", mls_error_last());
	if (strcmp(mls_record_str(camp, "kind"), "campaign") != 0)
		errx(EX_DATAERR, "--from: '%s' is not an mls-search campaign", cid);
	if (strcmp(mls_record_str(camp, "state"), "running") == 0)
		warnx("--from: campaign %s has not ended; using its %lld finished "
		    "trials", cid, mls_record_int(json_object_get(camp, "counts"),
		    "succeeded", 0));
	if ((rc = mls_ensemble_top(camp, trials, x->top, &configs)) < 0 ||
	    (rc = mls_cspec_from_json(&x->src, camp)) < 0 ||
	    (rc = mls_cspec_set_str(&f->spec->from, cid)) < 0)
		errx(cli_exit_code(rc), "--from: %s", mls_error_last());
	json_decref(camp);
	json_decref(trials);
	free(cid);
	return configs;
}

static void
new_spec(struct cli_front *f, int argc, char *argv[])
{
	struct ens *x = f->arg;
	struct mls_campaign_spec *s = f->spec;

	(void)argv;
	if (x->members == 0)
		cli_front_usage(f, "--members N is required");
	if (x->top > 0 && x->from == NULL)
		cli_front_usage(f, "--top needs --from CAMPAIGN");
	if (x->from != NULL && x->top == 0)
		cli_front_usage(f, "--from needs --top K");
	if (argc < 1 && x->from == NULL)
		cli_front_usage(f, "no command given: mls-ensemble --members N "
		    "[options] -- COMMAND [ARG ...]");
	s->members = x->members;
	if (x->from != NULL) {
		s->configs = from_campaign(f, x);
		s->per_config = x->members;
		s->members = x->members * x->top;
		if (f->objective == NULL) {
			free(s->objective.metric);
			s->objective = x->src.objective;	/* moved */
			memset(&x->src.objective, 0, sizeof(x->src.objective));
		}
		if (argc < 1)	/* the campaign's own command and code */
			cli_front_take_code(f, &x->src);
	}
	if (mls_ensemble_quorum_parse(x->quorum ? x->quorum : "1.0", s->members,
	    &s->quorum) < 0)
		errx(EX_USAGE, "--quorum: %s", mls_error_last());
	if (f->objective != NULL)
		cli_front_objective(f, f->objective, "min");
	if (mls_cspec_set_str(&s->quorum_spec, x->quorum ? x->quorum : "1.0") < 0 ||
	    mls_cspec_set_str(&s->seed_param, x->seed_param ? x->seed_param :
	    "seed") < 0)
		errx(EX_SOFTWARE, "%s", mls_error_last());
	s->retries = x->retries;
	s->folds = x->folds > 0 ? x->folds : 1;
}

static void
prepare(struct cli_front *f, int resume)
{
	struct ens *x = f->arg;

	cli_front_check(mls_ensemble_new_spec(&x->e, f->spec));
	if (!resume)
		cli_front_check(mls_ensemble_check_command(x->e, f->spec));
	mls_ensemble_gen(x->e, &x->gen);
	f->gen = &x->gen;
}

/* ---- output ---------------------------------------------------------- */

static void
decorate(struct cli_front *f, json_t *rec)
{
	struct ens *x = f->arg;
	const json_t *params = json_object_get(rec, "params");

	/* reported after the next attempt may have started */
	json_object_set_new(rec, "retry", json_boolean(mls_ensemble_retried(x->e,
	    (long)mls_record_int(params, "member", -1),
	    (long)mls_record_int(params, "attempt", 1))));
}

static void
table_line(struct cli_front *f, const json_t *rec)
{
	const json_t *params = json_object_get(rec, "params");
	const char *reason = mls_record_str(rec, "reason");

	(void)f;
	printf("member %-5lld attempt %lld  %-9s %s%s%s\n",
	    mls_record_int(params, "member", -1), mls_record_int(params, "attempt", 1),
	    mls_record_str(rec, "state"), mls_record_id(rec), reason ? "  # " : "",
	    reason ? reason : "");
}

static void
progress(struct cli_front *f, const struct mls_campaign_progress *p)
{
	struct ens *x = f->arg;
	struct mls_ensemble_counts c;

	mls_ensemble_counts(x->e, &c);
	fprintf(stderr, "%ld/%ld members succeeded (quorum %ld), %ld running, "
	    "%ld retrying, %ld failed, %.0fs", c.succeeded, c.members, c.quorum,
	    c.running, c.retrying, c.failed, mls_time_now() - p->started);
}

static int
failed(struct cli_front *f, const json_t *rec)
{
	const json_t *q = json_object_get(rec, "quorum");
	const char *outcome = mls_record_str(q, "outcome");

	(void)f;
	if (outcome != NULL && strcmp(outcome, "timeout") == 0) {
		warnx("ensemble %s: --timeout expired: %lld of %lld members "
		    "succeeded, %lld needed; %lld never started", mls_record_id(rec),
		    mls_record_int(q, "succeeded", 0), mls_record_int(q, "members", 0),
		    mls_record_int(q, "required", 0), mls_record_int(q, "waiting", 0));
		return EX_TIMEOUT;
	}
	warnx("ensemble %s: quorum missed: %lld of %lld members succeeded, "
	    "%lld needed", mls_record_id(rec), mls_record_int(q, "succeeded", 0),
	    mls_record_int(q, "members", 0), mls_record_int(q, "required", 0));
	return EX_WORKFAILED;
}

static void
release(struct cli_front *f)
{
	struct ens *x = f->arg;

	mls_ensemble_free(x->e);
	mls_cspec_release(&x->src);
}

static const struct cli_front_tool tool = {
	.prog = "mls-ensemble", .synopsis = synopsis, .help = help, .kind = MLS_CSPEC_ENSEMBLE,
	.shortopts = "", .longopts = longopts,
	.resume_conflict = "--resume takes the members, quorum and command from "
	    "the ensemble's journal",
	.wrong_kind = "--resume: '%s' is not an ensemble (resume campaigns with "
	    "mls-search)",
	.option = option, .new_spec = new_spec, .prepare = prepare,
	.decorate = decorate, .table_line = table_line, .progress = progress,
	.final = mls_ensemble_record, .failed = failed, .release = release,
};

int
main(int argc, char *argv[])
{
	struct ens x = { 0 };

	return cli_front_main(&tool, &x, argc, argv);
}
