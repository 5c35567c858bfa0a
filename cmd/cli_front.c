/*
 * cli_front.c - the campaign front end shared by mls-search and
 * mls-ensemble: their common options, a new spec or --resume (one read of
 * the journal), the code, --detach, trial and progress output, the final
 * record and the exit status.  See struct cli_front_tool in cli.h.
 */
#include "config.h"

#include <err.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "mls_campaign.h"
#include "mls_config.h"
#include "mls_cspec.h"
#include "mls_error.h"
#include "mls_record.h"
#include "mls_registry.h"
#include "mls_sampler.h"
#include "mls_ship.h"
#include "mls_site.h"
#include "mls_store.h"
#include "mls_track.h"

enum {
	OPT_CANCEL_ON_EXIT = 0x1100, OPT_DETACH, OPT_CPUS, OPT_GPUS, OPT_IMAGE,
	OPT_MEM, OPT_NAME, OPT_OBJECTIVE, OPT_PARALLEL, OPT_RESUME, OPT_SANDBOX,
	OPT_SEED, OPT_TIME, OPT_TIMEOUT,
};

static const struct option shared_longopts[] = {
	CLI_COMMON_LONGOPTS,
	{ "cancel-on-exit", no_argument, NULL, OPT_CANCEL_ON_EXIT },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "detach", no_argument, NULL, OPT_DETACH },
	{ "env", required_argument, NULL, 'e' },
	{ "gpus", required_argument, NULL, OPT_GPUS },
	{ "image", required_argument, NULL, OPT_IMAGE },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "no-input", no_argument, NULL, 'n' },
	{ "objective", required_argument, NULL, OPT_OBJECTIVE },
	{ "parallel", required_argument, NULL, OPT_PARALLEL },
	{ "resume", required_argument, NULL, OPT_RESUME },
	{ "sandbox", required_argument, NULL, OPT_SANDBOX },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "time", required_argument, NULL, OPT_TIME },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
};
#define NSHARED	(sizeof(shared_longopts) / sizeof(shared_longopts[0]))

/*
 * The options of either tool that a new campaign writes into its spec:
 * --resume takes the spec from the journal, so it refuses them rather than
 * ignore them.  (--trials, --timeout and --parallel are honoured.)
 */
static const char *const spec_only_opts[] = {
	"algorithm", "ask-tell", "cpus", "env", "folds", "gpus", "image",
	"independent", "max-failures", "mem", "metric-regex", "multivariate",
	"name", "objective", "prune", "reduce", "retries", "sandbox", "seed",
	"seed-param", "site", "startup", "time",
};

/* The first such option given, as written ("--prune", "-e"), or "". */
static char spec_only_given[64];

static void
note_spec_only(const struct option *lo, int longindex, int c)
{
	const char *name = NULL;

	if (spec_only_given[0] != '\0')
		return;
	if (longindex >= 0) {
		for (size_t i = 0; i < sizeof(spec_only_opts) /
		    sizeof(spec_only_opts[0]); i++)
			if (strcmp(lo[longindex].name, spec_only_opts[i]) == 0)
				name = lo[longindex].name;
		if (name != NULL)
			snprintf(spec_only_given, sizeof(spec_only_given), "--%s",
			    name);
	} else if (c == 'e' || c == 's') {
		snprintf(spec_only_given, sizeof(spec_only_given), "-%c", c);
	}
}

void
cli_front_usage(struct cli_front *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	cli_usage(stderr, f->tool->synopsis, EX_USAGE);
}

long
cli_front_count(struct cli_front *f, const char *opt, const char *s, long min)
{
	return cli_opt_count(f->tool->synopsis, opt, s, min);
}

void
cli_front_check(int rc)
{
	if (rc < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());
}

void
cli_front_take_code(struct cli_front *f, const struct mls_campaign_spec *src)
{
	struct mls_campaign_spec *s = f->spec;
	json_t *env = json_deep_copy(src->env);

	if (env == NULL || json_object_update(env, f->env) < 0 ||
	    mls_cspec_set_command(s, (int)src->ncommand, src->command) < 0)
		errx(EX_SOFTWARE, "out of memory");
	json_decref(s->env);
	s->env = env;
	s->resources = src->resources;
	if (f->cpus > 0)
		s->resources.cpus = f->cpus;
	if (f->gpus > 0)
		s->resources.gpus = f->gpus;
	if (f->mem_mb > 0)
		s->resources.mem_mb = f->mem_mb;
	if (f->time_s > 0)
		s->resources.time_s = (long)f->time_s;
	f->have_src = 1;
	f->src_sandbox = src->sandbox;
	f->src_image = src->image;
}

void
cli_front_objective(struct cli_front *f, const char *s, const char *default_goal)
{
	if (mls_objective_parse(&f->spec->objective, s, default_goal) < 0)
		cli_front_usage(f, "--objective: %s", mls_error_last());
}

static void
parse_options(struct cli_front *f, int argc, char *argv[])
{
	const struct cli_front_tool *t = f->tool;
	const char *syn = t->synopsis;
	struct option *lo;
	size_t n = NSHARED;
	char shortopts[64], *names, *w, *save = NULL;
	int c, longindex = -1;

	if ((names = strdup(t->longopts)) == NULL ||
	    (lo = calloc(NSHARED + strlen(names) / 2 + 2, sizeof(*lo))) == NULL)
		err(EX_SOFTWARE, "calloc");
	memcpy(lo, shared_longopts, sizeof(shared_longopts));
	for (w = strtok_r(names, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		size_t len = strlen(w);
		lo[n].has_arg = w[len - 1] == ':' ? required_argument : no_argument;
		if (w[len - 1] == ':')
			w[len - 1] = '\0';
		lo[n].name = w;
		lo[n].val = CLI_FRONT_OPT + (int)(n - NSHARED);
		n++;
	}
	snprintf(shortopts, sizeof(shortopts), "+e:hnqs:vV%s", t->shortopts);
	while ((c = getopt_long(argc, argv, shortopts, lo, &longindex)) != -1) {
		if (c != '?')
			note_spec_only(lo, longindex, c);
		longindex = -1;
		switch (c) {
		case 'h': cli_help(syn, t->help);
		case 'V': cli_version();
		case 's': f->sites = optarg; break;
		case CLI_OPT_FORMAT: f->fmt = cli_parse_format(optarg); break;
		case 'q': cli_set_verbosity(-1); break;
		case 'v': cli_set_verbosity(cli_verbosity + 1); break;
		case 'e': cli_opt_kv(syn, "--env", optarg, f->env, 0); break;
		case OPT_CANCEL_ON_EXIT: f->cancel_on_exit = 1; break;
		case OPT_CPUS: f->cpus = cli_opt_count(syn, "--cpus", optarg, 1); break;
		case OPT_DETACH: f->detach = 1; break;
		case 'n': f->no_input = 1; break;
		case OPT_GPUS: f->gpus = cli_opt_count(syn, "--gpus", optarg, 0); break;
		case OPT_IMAGE: f->image = optarg; break;
		case OPT_MEM: f->mem_mb = cli_opt_mem_mb(syn, "--mem", optarg); break;
		case OPT_NAME: f->name = optarg; break;
		case OPT_OBJECTIVE: f->objective = optarg; break;
		case OPT_PARALLEL:
			f->parallel = cli_opt_count(syn, "--parallel", optarg, 1);
			break;
		case OPT_RESUME: f->resume = optarg; break;
		case OPT_SANDBOX: f->sandbox = optarg; break;
		case OPT_SEED:
			f->seed = (unsigned long long)cli_opt_count_max(syn,
			    "--seed", optarg, 0, LONG_MAX);
			f->have_seed = 1;
			break;
		case OPT_TIME: f->time_s = cli_opt_duration(syn, "--time", optarg); break;
		case OPT_TIMEOUT:
			f->timeout = cli_opt_duration(syn, "--timeout", optarg);
			break;
		case '?':
			cli_usage(stderr, syn, EX_USAGE);
		default:
			t->option(f, c, optarg);
		}
	}
	free(lo);
	free(names);
}

/* ---- the spec ------------------------------------------------------ */

static void
die_lib(int rc, const char *prefix)
{
	if (prefix != NULL)
		errx(cli_exit_code(rc), "%s: %s", prefix, mls_error_last());
	errx(cli_exit_code(rc), "%s", mls_error_last());
}

/* The options both tools turn into spec fields. */
static void
new_spec(struct cli_front *f, struct mls_campaign_spec *s, int argc, char *argv[])
{
	const struct mls_config *cfg = f->cfg;
	json_t *sites, *e;
	char id[64];
	size_t i;
	int rc;

	if ((rc = mls_cspec_init(s, (enum mls_cspec_kind)f->tool->kind)) < 0)
		die_lib(rc, NULL);
	f->spec = s;
	if (mls_id_new(id, sizeof(id), s->kind == MLS_CSPEC_ENSEMBLE ? "e-" :
	    "c-") < 0)
		errx(EX_SOFTWARE, "%s", mls_error_last());
	sites = cli_opt_sites(f->tool->synopsis, f->sites ? f->sites :
	    cfg->default_site);
	json_array_foreach(sites, i, e)
		if ((rc = mls_cspec_add_site(s, mls_record_str(e, "name"),
		    (long)mls_record_int(e, "cap", 0))) < 0)
			die_lib(rc, NULL);
	json_decref(sites);
	if ((rc = mls_cspec_set_str(&s->id, id)) < 0 ||
	    (rc = mls_cspec_set_str(&s->name, f->name)) < 0 ||
	    (rc = mls_cspec_set_command(s, argc, argv)) < 0)
		die_lib(rc, NULL);
	s->seed = f->have_seed ? f->seed : 0;
	s->parallel = f->parallel > 0 ? f->parallel : 1;
	s->budget.timeout_s = f->timeout;
	s->resources.cpus = f->cpus > 0 ? f->cpus : 1;
	s->resources.gpus = f->gpus;
	s->resources.mem_mb = f->mem_mb;
	s->resources.time_s = (long)f->time_s;
	json_decref(s->env);
	s->env = json_incref(f->env);
	f->tool->new_spec(f, argc, argv);
}

/* The driver lock of the campaign this process runs (see cli_driver_lock). */
static int driver_fd = -1;

/*
 * --resume: the driver lock first (a second driver is refused before it
 * reads anything), then the journal, read once; the budgets it may raise.
 */
static struct mls_campaign_replay *
resume_spec(struct cli_front *f, int argc)
{
	struct mls_campaign_replay *r = NULL;
	struct mls_campaign_spec *s;
	char *id = NULL;
	int rc;

	if (argc > 0 || f->new_only)
		cli_front_usage(f, "%s", f->tool->resume_conflict);
	if (spec_only_given[0] != '\0')
		cli_front_usage(f, "--resume: '%s' cannot be honoured: the %s keeps "
		    "what its journal says (only %s may change)", spec_only_given,
		    f->tool->kind == MLS_CSPEC_ENSEMBLE ? "ensemble" : "campaign",
		    f->tool->kind == MLS_CSPEC_ENSEMBLE ? "--timeout and --parallel" :
		    "--trials, --timeout and --parallel");
	if ((rc = mls_registry_resolve(f->cfg, "campaigns", f->resume, &id)) < 0)
		die_lib(rc, NULL);
	driver_fd = cli_driver_lock(f->cfg, id);
	/* a stop or cancel asked of an earlier driver is overridden */
	if ((rc = mls_campaign_control_clear(f->cfg, id)) < 0 ||
	    (rc = mls_campaign_replay_open(&r, f->cfg, id)) < 0)
		die_lib(rc, NULL);
	s = f->spec = mls_campaign_replay_spec(r);
	if ((int)s->kind != f->tool->kind)
		errx(EX_DATAERR, f->tool->wrong_kind, id);
	free(id);
	if (f->trials > 0)
		s->budget.trials = f->trials;
	if (f->timeout > 0)
		s->budget.timeout_s = f->timeout;
	if (f->parallel > 0)
		s->parallel = f->parallel;
	return r;
}

/* The code of a new campaign: --sandbox, the source, stdin, or ship ".". */
static void
set_sandbox(struct cli_front *f, struct mls_store *st)
{
	struct mls_campaign_spec *s = f->spec;
	const char *image = f->image;
	json_t *sb = NULL;
	char *sbid = NULL;
	int rc;

	if (f->sandbox != NULL) {
		if ((rc = mls_sandbox_resolve(st, f->sandbox, &sbid)) < 0)
			die_lib(rc, NULL);
	} else if (f->have_src) {
		if (f->src_sandbox != NULL && (sbid = strdup(f->src_sandbox)) == NULL)
			err(EX_SOFTWARE, "strdup");
		if (image == NULL)
			image = f->src_image;
	} else if (!f->no_input && (sb = cli_read_stdin_sandbox()) != NULL) {
		if ((rc = mls_sandbox_resolve(st, mls_record_id(sb), &sbid)) < 0)
			die_lib(rc, NULL);
		if (image == NULL)
			image = mls_record_str(sb, "image");
	} else {
		struct mls_ship_opts so = { .image = f->image };
		if ((rc = mls_ship(f->cfg, st, ".", &so, &sb)) < 0)
			die_lib(rc, "ship '.'");
		if ((sbid = strdup(mls_record_id(sb))) == NULL)
			err(EX_SOFTWARE, "strdup");
	}
	free(s->sandbox);
	s->sandbox = sbid;
	if ((rc = mls_cspec_set_str(&s->image, image && strcmp(image, "none") != 0 ?
	    image : NULL)) < 0)
		die_lib(rc, NULL);
	json_decref(sb);
}

/* ---- output -------------------------------------------------------- */

static void
clear_progress(struct cli_front *f)
{
	if (f->progress)
		fputs("\r\033[K", stderr);
}

/*
 * Without a terminal on stderr (CI logs, a detached driver's log), one
 * plain line per finished trial instead of the progress line, as Optuna
 * logs: its number, state, objective, the best so far and how many are
 * done.
 */
static struct {
	int	 on;
	long	 done, succeeded;
	int	 have_best;
	double	 best;
	long long best_number;
} trial_log;

static void
log_trial(struct cli_front *f, const json_t *rec)
{
	const struct mls_campaign_spec *s = f->spec;
	const json_t *obj = json_object_get(rec, "objective");
	const json_t *params = json_object_get(rec, "params");
	const char *state = json_is_true(json_object_get(rec, "pruned")) ?
	    "pruned" : mls_record_str(rec, "state");
	const char *reason = mls_record_str(rec, "reason");
	long long n = mls_record_int(rec, "number", -1);
	double v;

	trial_log.done++;
	if (state == NULL)
		state = "?";
	if (s->kind == MLS_CSPEC_ENSEMBLE)
		fprintf(stderr, "%s: member %lld attempt %lld %s", f->tool->prog,
		    mls_record_int(params, "member", -1),
		    mls_record_int(params, "attempt", 1), state);
	else
		fprintf(stderr, "%s: trial %lld %s", f->tool->prog, n, state);
	if (json_is_number(obj)) {
		v = json_number_value(obj);
		fprintf(stderr, ", %s %.6g", s->objective.metric ?
		    s->objective.metric : "objective", v);
		if (strcmp(state, "succeeded") == 0 && (!trial_log.have_best ||
		    (s->objective.goal_max ? v > trial_log.best :
		    v < trial_log.best))) {
			trial_log.have_best = 1;
			trial_log.best = v;
			trial_log.best_number = n;
		}
	} else if (reason != NULL) {
		fprintf(stderr, " (%s)", reason);
	} else if (strcmp(state, "succeeded") != 0) {
		fprintf(stderr, " (exit code %lld)", mls_record_int(rec,
		    "exit_code", -1));
	}
	if (json_is_true(json_object_get(rec, "retry")))
		fputs(", retrying", stderr);
	if (trial_log.have_best && s->kind != MLS_CSPEC_ENSEMBLE)
		fprintf(stderr, "; best %.6g (trial %lld)", trial_log.best,
		    trial_log.best_number);
	if (s->kind == MLS_CSPEC_ENSEMBLE) {
		if (strcmp(state, "succeeded") == 0)
			trial_log.succeeded++;
		fprintf(stderr, "; %ld of %ld members succeeded (quorum %ld)\n",
		    trial_log.succeeded, s->members, s->quorum);
	} else if (s->budget.trials > 0) {
		fprintf(stderr, "; %ld/%ld done\n", trial_log.done,
		    s->budget.trials);
	} else {
		fprintf(stderr, "; %ld done\n", trial_log.done);
	}
	fflush(stderr);
}

static void
on_trial(const json_t *trial, void *arg)
{
	struct cli_front *f = arg;
	json_t *rec;

	if (f->tool->decorate != NULL) {
		if ((rec = json_deep_copy(trial)) == NULL) {
			f->err = 1;
			return;
		}
		f->tool->decorate(f, rec);
	} else {
		rec = json_incref((json_t *)trial);
	}
	if (f->out == CLI_FMT_JSONL) {
		if (mls_jsonl_write(stdout, rec) < 0 || fflush(stdout) == EOF)
			f->err = 1;
	} else if (f->out == CLI_FMT_TABLE) {
		clear_progress(f);
		f->tool->table_line(f, rec);
		fflush(stdout);
	}
	if (trial_log.on)
		log_trial(f, rec);
	json_decref(rec);
}

static void
campaign_progress(const struct mls_campaign_progress *p)
{
	long fin = p->succeeded + p->failed + p->pruned + p->cancelled;

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

static void
on_progress(const struct mls_campaign_progress *p, void *arg)
{
	struct cli_front *f = arg;

	if (!f->progress)
		return;
	fputs("\r\033[K", stderr);
	if (f->tool->progress != NULL)
		f->tool->progress(f, p);
	else
		campaign_progress(p);
	fflush(stderr);
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

void
cli_front_sampler_gen(struct mls_sampler *smp, struct mls_campaign_gen *gen)
{
	gen->ask = gen_ask;
	gen->pending = gen_pending;
	gen->tell = gen_tell;
	gen->arg = smp;
}

/* The final record in the chosen format; the exit status of its state. */
static int
print_final(struct cli_front *f, struct mls_store *st, struct mls_tracker *tr,
    const json_t *rec)
{
	const char *id = mls_record_id(rec), *state = mls_record_str(rec, "state");

	if (f->out == CLI_FMT_TABLE) {
		char *cid = (char *)id;
		putchar('\n');
		fflush(stdout);
		(void)cli_campaign_status(f->cfg, st, tr, 1, &cid, CLI_FMT_TABLE, 0);
	} else if (f->out == CLI_FMT_JSON) {
		json_dumpf(rec, stdout, MLS_JSON_PRETTY);
		putchar('\n');
	} else if (mls_jsonl_write(stdout, rec) < 0) {
		f->err = 1;
	}
	if (strcmp(state, "interrupted") == 0) {
		warnx("interrupted; resume with: %s --resume %s", f->tool->prog, id);
		return cli_stop_status();
	}
	if (strcmp(state, "stopped") == 0 || strcmp(state, "cancelled") == 0) {
		const json_t *q = json_object_get(rec, "quorum");
		warnx("%s; resume with: %s --resume %s", state, f->tool->prog, id);
		if (q != NULL)
			return mls_record_str(q, "outcome") != NULL &&
			    strcmp(mls_record_str(q, "outcome"), "reached") == 0 ?
			    EX_OK : EX_WORKFAILED;
		return json_is_object(json_object_get(rec, "best")) ? EX_OK :
		    EX_WORKFAILED;
	}
	if (strcmp(state, "finished") != 0 && mls_record_str(rec, "end_message") &&
	    strcmp(mls_record_str(rec, "end"), "objective-unseen") == 0) {
		warnx("%s %s stopped: %s", mls_record_str(rec, "kind"), id,
		    mls_record_str(rec, "end_message"));
		return EX_WORKFAILED;
	}
	if (strcmp(state, "finished") != 0)
		return f->tool->failed(f, rec);
	return EX_OK;
}

int
cli_front_main(const struct cli_front_tool *t, void *arg, int argc, char *argv[])
{
	struct cli_front f = { .tool = t, .arg = arg };
	struct mls_config cfg = { 0 };
	struct mls_campaign_spec fresh;
	struct mls_campaign_replay *replay = NULL;
	struct mls_campaign_opts co = { 0 };
	struct mls_store *st = NULL;
	struct mls_tracker *tr = NULL;
	struct mls_site *site;
	json_t *rec = NULL, *trials = NULL, *fin = NULL;
	const char *id;
	int ex = EX_OK, rc;

	cli_init(argc, argv);
	if ((f.env = json_object()) == NULL)
		errx(EX_SOFTWARE, "out of memory");
	parse_options(&f, argc, argv);
	argc -= optind;
	argv += optind;
	if ((rc = mls_config_load(&cfg)) < 0)
		die_lib(rc, NULL);
	f.cfg = &cfg;
	if (f.resume != NULL)
		replay = resume_spec(&f, argc);
	else
		new_spec(&f, &fresh, argc, argv);
	t->prepare(&f, f.resume != NULL);

	if ((rc = mls_store_open(&st, &cfg, NULL)) < 0 ||
	    (rc = mls_tracker_new(&tr, &cfg, st)) < 0)
		die_lib(rc, NULL);
	/* Every site must open before anything runs. */
	for (size_t i = 0; i < f.spec->nsites; i++)
		if ((rc = mls_tracker_site(tr, f.spec->sites[i].name, &site)) < 0)
			die_lib(rc, NULL);
	if (f.resume == NULL)
		set_sandbox(&f, st);
	if ((rc = mls_cspec_check(f.spec)) < 0)
		die_lib(rc, NULL);
	id = f.spec->id;
	if (driver_fd < 0)
		driver_fd = cli_driver_lock(&cfg, id);
	if (f.detach) {
		cli_detach(&cfg, id);	/* the lock passes to the child */
		cli_driver_forked(&cfg, id);
	}
	cli_catch_stop_signals();

	f.out = cli_resolve_format(f.fmt);
	f.progress = !f.detach && cli_progress();
	trial_log.on = !f.progress && cli_verbosity >= 0 &&
	    !isatty(STDERR_FILENO);
	co.kind = mls_cspec_kind_name(f.spec->kind);
	co.cspec = f.spec;
	co.resume = f.resume != NULL;
	co.replay = replay;
	co.trials = &trials;
	co.cancel_on_exit = f.cancel_on_exit;
	co.stop = &cli_stop;
	co.on_trial = on_trial;
	co.on_progress = on_progress;
	co.cb_arg = &f;
	if (f.out == CLI_FMT_TABLE)
		fprintf(stderr, "%s %s (resume with: %s --resume %s)\n", co.kind, id,
		    t->prog, id);
	rc = mls_campaign_run(&cfg, st, tr, f.gen, f.pr, &co, &rec);
	clear_progress(&f);
	if (rc == 0 && t->final != NULL)
		rc = t->final(rec, trials, &fin);
	if (rc < 0) {
		warnx("%s", mls_error_last());
		ex = cli_exit_code(rc);
		goto out;
	}
	ex = print_final(&f, st, tr, fin != NULL ? fin : rec);
	if (f.err || cli_close_stdout() == -1) {
		warn("stdout");
		ex = EX_IOERR;
	}
out:
	cli_driver_unlock(&cfg, f.spec->id, driver_fd);
	driver_fd = -1;
	json_decref(rec);
	json_decref(trials);
	json_decref(fin);
	json_decref(f.env);
	if (t->release != NULL)
		t->release(&f);
	if (replay != NULL)
		mls_campaign_replay_free(replay);
	else
		mls_cspec_release(&fresh);
	mls_tracker_free(tr);
	mls_store_free(st);
	mls_config_release(&cfg);
	return ex;
}
