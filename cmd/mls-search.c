/*
 * mls-search - run a hyperparameter-optimisation campaign.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
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
#include "mls_error.h"
#include "mls_pruner.h"
#include "mls_record.h"
#include "mls_registry.h"
#include "mls_sampler.h"
#include "mls_ship.h"
#include "mls_site.h"
#include "mls_space.h"
#include "mls_store.h"
#include "mls_track.h"

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
	OPT_ASK_TELL = 0x100, OPT_CANCEL_ON_EXIT, OPT_DETACH, OPT_INDEPENDENT,
	OPT_MULTIVARIATE,
	OPT_ALGORITHM, OPT_CPUS, OPT_GPUS, OPT_IMAGE, OPT_MAX_FAILURES, OPT_MEM,
	OPT_METRIC_REGEX, OPT_NAME, OPT_OBJECTIVE, OPT_PARALLEL, OPT_PRUNE,
	OPT_REDUCE, OPT_RESUME, OPT_SANDBOX, OPT_SEED, OPT_SPACE, OPT_STARTUP,
	OPT_TIME, OPT_TIMEOUT, OPT_TRIALS,
};

struct opts {
	int		 ask_tell, cancel_on_exit, detach, independent;
	const char	*algorithm, *image, *metric_regex, *name, *objective;
	const char	*prune, *reduce, *resume, *sites, *sandbox, *space_file;
	long		 cpus, gpus, max_failures, parallel, startup, trials;
	long long	 mem_mb;
	unsigned long long seed;
	int		 have_seed;
	double		 time_s, timeout;
	enum cli_format	 fmt;
	json_t		*specs;		/* -p strings */
	json_t		*env;
};

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
		{ "algorithm", required_argument, NULL, OPT_ALGORITHM },
		{ "ask-tell", no_argument, NULL, OPT_ASK_TELL },
		{ "cancel-on-exit", no_argument, NULL, OPT_CANCEL_ON_EXIT },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "detach", no_argument, NULL, OPT_DETACH },
		{ "env", required_argument, NULL, 'e' },
		{ "gpus", required_argument, NULL, OPT_GPUS },
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "independent", no_argument, NULL, OPT_INDEPENDENT },
		{ "max-failures", required_argument, NULL, OPT_MAX_FAILURES },
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "metric-regex", required_argument, NULL, OPT_METRIC_REGEX },
		{ "multivariate", no_argument, NULL, OPT_MULTIVARIATE },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "objective", required_argument, NULL, OPT_OBJECTIVE },
		{ "param", required_argument, NULL, 'p' },
		{ "parallel", required_argument, NULL, OPT_PARALLEL },
		{ "prune", required_argument, NULL, OPT_PRUNE },
		{ "reduce", required_argument, NULL, OPT_REDUCE },
		{ "resume", required_argument, NULL, OPT_RESUME },
		{ "sandbox", required_argument, NULL, OPT_SANDBOX },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "space", required_argument, NULL, OPT_SPACE },
		{ "startup", required_argument, NULL, OPT_STARTUP },
		{ "time", required_argument, NULL, OPT_TIME },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "trials", required_argument, NULL, OPT_TRIALS },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "+e:hp:qs:vV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': cli_usage(stdout, synopsis, EX_OK);
		case 'V': cli_version();
		case 's': o->sites = optarg; break;
		case CLI_OPT_FORMAT: o->fmt = cli_parse_format(optarg); break;
		case 'q': cli_set_verbosity(-1); break;
		case 'v': cli_set_verbosity(cli_verbosity + 1); break;
		case 'p': json_array_append_new(o->specs, json_string(optarg)); break;
		case 'e': cli_opt_kv(synopsis, "--env", optarg, o->env, 0); break;
		case OPT_ALGORITHM: o->algorithm = optarg; break;
		case OPT_ASK_TELL: o->ask_tell = 1; break;
		case OPT_CANCEL_ON_EXIT: o->cancel_on_exit = 1; break;
		case OPT_CPUS: o->cpus = parse_count("--cpus", optarg, 1); break;
		case OPT_DETACH: o->detach = 1; break;
		case OPT_GPUS: o->gpus = parse_count("--gpus", optarg, 0); break;
		case OPT_IMAGE: o->image = optarg; break;
		case OPT_MAX_FAILURES:
			o->max_failures = parse_count("--max-failures", optarg, 1);
			break;
		case OPT_MEM: o->mem_mb = cli_opt_mem_mb(synopsis, "--mem", optarg); break;
		case OPT_METRIC_REGEX: o->metric_regex = optarg; break;
		case OPT_INDEPENDENT: o->independent = 1; break;
		case OPT_MULTIVARIATE: o->independent = 0; break;
		case OPT_NAME: o->name = optarg; break;
		case OPT_OBJECTIVE: o->objective = optarg; break;
		case OPT_PARALLEL: o->parallel = parse_count("--parallel", optarg, 1); break;
		case OPT_PRUNE:
			if (strcmp(optarg, "median") != 0 && strcmp(optarg, "asha") != 0) {
				warnx("--prune: '%s' is not one of median, asha", optarg);
				cli_usage(stderr, synopsis, EX_USAGE);
			}
			o->prune = optarg;
			break;
		case OPT_REDUCE:
			if (strcmp(optarg, "last") != 0 && strcmp(optarg, "best") != 0 &&
			    strcmp(optarg, "mean") != 0) {
				warnx("--reduce: '%s' is not one of last, best, mean", optarg);
				cli_usage(stderr, synopsis, EX_USAGE);
			}
			o->reduce = optarg;
			break;
		case OPT_RESUME: o->resume = optarg; break;
		case OPT_SANDBOX: o->sandbox = optarg; break;
		case OPT_SEED:
			o->seed = (unsigned long long)parse_count("--seed", optarg, 0);
			o->have_seed = 1;
			break;
		case OPT_SPACE: o->space_file = optarg; break;
		case OPT_STARTUP: o->startup = parse_count("--startup", optarg, 0); break;
		case OPT_TIME: o->time_s = parse_duration("--time", optarg); break;
		case OPT_TIMEOUT: o->timeout = parse_duration("--timeout", optarg); break;
		case OPT_TRIALS: o->trials = parse_count("--trials", optarg, 1); break;
		default:
			cli_usage(stderr, synopsis, EX_USAGE);
		}
	}
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

/* ---- output ---------------------------------------------------------- */

struct out_ctx {
	enum cli_format	 fmt;
	int		 progress;
	int		 color;
	int		 err;
};

static void
clear_progress(struct out_ctx *x)
{
	if (x->progress)
		fputs("\r\033[K", stderr);
}

static void
on_trial(const json_t *trial, void *arg)
{
	struct out_ctx *x = arg;
	char *p;

	if (x->fmt == CLI_FMT_JSONL) {
		if (mls_jsonl_write(stdout, trial) < 0 || fflush(stdout) == EOF)
			x->err = 1;
		return;
	}
	if (x->fmt != CLI_FMT_TABLE)
		return;
	clear_progress(x);
	p = json_dumps(json_object_get(trial, "params"), MLS_JSON_COMPACT);
	if (json_is_number(json_object_get(trial, "objective")))
		printf("trial %-4lld %-9s %-10.6g %s\n", mls_record_int(trial, "number", -1),
		    json_is_true(json_object_get(trial, "pruned")) ? "pruned" :
		    mls_record_str(trial, "state"),
		    json_number_value(json_object_get(trial, "objective")), p ? p : "");
	else
		printf("trial %-4lld %-9s %-10s %s%s%s\n", mls_record_int(trial, "number", -1),
		    json_is_true(json_object_get(trial, "pruned")) ? "pruned" :
		    mls_record_str(trial, "state"), "-", p ? p : "",
		    mls_record_str(trial, "reason") ? "  # " : "",
		    mls_record_str(trial, "reason") ? mls_record_str(trial, "reason") : "");
	free(p);
	fflush(stdout);
}

static void
on_progress(const struct mls_campaign_progress *p, void *arg)
{
	struct out_ctx *x = arg;
	long fin = p->succeeded + p->failed + p->pruned + p->cancelled;
	double el = mls_time_now() - p->started;

	if (!x->progress)
		return;
	fprintf(stderr, "\r\033[K%ld", fin);
	if (p->budget > 0)
		fprintf(stderr, "/%ld", p->budget);
	fprintf(stderr, " done, %ld running, %ld failed, %ld pruned", p->running,
	    p->failed, p->pruned);
	if (p->have_best)
		fprintf(stderr, ", best %.6g (#%ld)", p->best, p->best_number);
	fprintf(stderr, ", %.2f/s, %.0fs", p->rate, el);
	if (p->budget > 0 && p->rate > 0 && fin < p->budget)
		fprintf(stderr, ", ETA %.0fs", (double)(p->budget - fin) / p->rate);
	fflush(stderr);
}

/* ---- spec ------------------------------------------------------------ */

static json_t *
parse_sites(const char *list, const char *def)
{
	return cli_opt_sites(synopsis, list ? list : def);
}

int
main(int argc, char *argv[])
{
	struct opts o = { .parallel = 0, .cpus = 1 };
	struct mls_config cfg = { 0 };
	struct mls_store *st = NULL;
	struct mls_tracker *tr = NULL;
	struct mls_space *sp = NULL;
	struct mls_sampler *smp = NULL;
	struct mls_pruner *pr = NULL;
	struct mls_campaign_gen gen;
	struct mls_campaign_opts co = { 0 };
	struct out_ctx x = { 0 };
	json_t *spec = NULL, *meta = NULL, *rec = NULL, *sopts = NULL, *sb = NULL;
	char id[64], *resolved = NULL, *sbid = NULL;
	const char *algorithm;
	int ex = EX_OK, rc, i;
	size_t k;

	cli_init(argc, argv);
	o.specs = json_array();
	o.env = json_object();
	parse_options(argc, argv, &o);
	argc -= optind;
	argv += optind;

	if ((rc = mls_config_load(&cfg)) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());

	if (o.resume != NULL) {
		if (argc > 0 || json_array_size(o.specs) > 0 || o.space_file) {
			warnx("--resume takes the command and space from the campaign's journal");
			cli_usage(stderr, synopsis, EX_USAGE);
		}
		if ((rc = mls_registry_resolve(&cfg, "campaigns", o.resume, &resolved)) < 0 ||
		    (rc = mls_campaign_load_spec(&cfg, resolved, &spec)) < 0)
			errx(cli_exit_code(rc), "%s", mls_error_last());
		if ((rc = mls_space_new(&sp)) < 0 ||
		    (rc = mls_space_from_json(sp, json_object_get(spec, "space"))) < 0)
			errx(cli_exit_code(rc), "campaign '%s': %s", resolved, mls_error_last());
		/* Budgets may be raised on resume. */
		if (o.trials > 0)
			json_object_set_new(json_object_get(spec, "budget"), "trials",
			    json_integer(o.trials));
		if (o.timeout > 0)
			json_object_set_new(json_object_get(spec, "budget"), "timeout_s",
			    json_real(o.timeout));
		if (o.parallel > 0)
			json_object_set_new(spec, "parallel", json_integer(o.parallel));
	} else {
		json_t *s;
		if ((rc = mls_space_new(&sp)) < 0)
			errx(cli_exit_code(rc), "%s", mls_error_last());
		if (o.space_file != NULL &&
		    (rc = mls_space_load_file(sp, o.space_file, &meta)) < 0)
			errx(cli_exit_code(rc), "%s", mls_error_last());
		json_array_foreach(o.specs, k, s)
			if ((rc = mls_space_add_spec(sp, json_string_value(s))) < 0)
				errx(cli_exit_code(rc), "%s", mls_error_last());
		if (mls_space_size(sp) == 0) {
			warnx("empty search space: give -p NAME=TYPE:ARGS or --space FILE");
			cli_usage(stderr, synopsis, EX_USAGE);
		}
		if (!o.ask_tell && argc < 1) {
			warnx("no command given: mls-search [options] -- COMMAND [ARG ...]");
			cli_usage(stderr, synopsis, EX_USAGE);
		}
		algorithm = o.algorithm ? o.algorithm :
		    mls_record_str(meta, "algorithm") ? mls_record_str(meta, "algorithm") : "tpe";
		if (mls_id_new(id, sizeof(id), "c-") < 0)
			errx(EX_SOFTWARE, "%s", mls_error_last());
		sopts = json_pack("{s:b,s:I}", "multivariate", !o.independent,
		    "parallel", (json_int_t)(o.parallel > 0 ? o.parallel : 1));
		if (o.startup > 0)
			json_object_set_new(sopts, "startup", json_integer(o.startup));
		if (!o.ask_tell) {	/* --ask-tell leaves no campaign behind */
			struct mls_buf wd = MLS_BUF_INIT;
			char *dir = NULL;
			mls_buf_addf(&wd, "campaigns/%s/exec", id);
			if ((rc = mls_config_data_dir(&cfg, wd.buf, &dir)) < 0)
				errx(cli_exit_code(rc), "%s", mls_error_last());
			json_object_set_new(sopts, "workdir", json_string(dir));
			free(dir);
			mls_buf_release(&wd);
		}
		/* objective: --objective, else the space file's metric, else loss:min */
		{
			const json_t *mo = json_object_get(meta, "objective");
			char *m = strdup(o.objective ? o.objective :
			    mls_record_str(mo, "metric") ? mls_record_str(mo, "metric") : "loss");
			const char *goal = mls_record_str(mo, "goal") ? mls_record_str(mo, "goal") : "min";
			/* space files say "minimize"/"maximize" */
			if (strncmp(goal, "max", 3) == 0)
				goal = "max";
			else if (strncmp(goal, "min", 3) == 0)
				goal = "min";
			char *colon = strrchr(m, ':');
			if (colon != NULL) {
				*colon = '\0';
				goal = colon + 1;
			}
			if (strcmp(goal, "min") != 0 && strcmp(goal, "max") != 0) {
				warnx("--objective: goal '%s' is not min or max", goal);
				cli_usage(stderr, synopsis, EX_USAGE);
			}
			if (*m == '\0') {
				warnx("--objective: empty metric name");
				cli_usage(stderr, synopsis, EX_USAGE);
			}
			spec = json_pack("{s:s,s:s,s:o,s:s,s:I,s:O,s:{s:s,s:s,s:s,s:o}}",
			    "kind", "campaign", "id", id, "space", mls_space_to_json(sp),
			    "algorithm", algorithm, "seed", (json_int_t)(o.have_seed ? o.seed : 0),
			    "sampler", sopts, "objective", "metric", m, "goal", goal,
			    "reduce", o.reduce ? o.reduce : "last",
			    "regex", o.metric_regex ? json_string(o.metric_regex) : json_null());
			free(m);
		}
		if (!o.have_seed) {
			/* No seed given: draw one, and record it so a resume is consistent. */
			unsigned long long seed = 0;
			for (i = 0; id[2 + i] && i < 26; i++)
				seed = seed * 31 + (unsigned char)id[2 + i];
			json_object_set_new(spec, "seed", json_integer((json_int_t)(seed & 0x7fffffffffffLL)));
		}
	}

	algorithm = mls_record_str(spec, "algorithm");
	if ((rc = mls_sampler_new(&smp, algorithm, sp,
	    (unsigned long long)mls_record_int(spec, "seed", 0),
	    json_object_get(spec, "sampler"))) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());

	if (o.ask_tell) {
		rc = mls_sampler_ask_tell(smp, stdin, stdout, o.parallel > 0 ? o.parallel : 1,
		    o.trials);
		if (rc < 0) {
			warnx("%s", mls_error_last());
			ex = cli_exit_code(rc);
		}
		if (cli_close_stdout() == -1 && ex == EX_OK)
			ex = EX_IOERR;
		goto done;
	}

	if (o.resume == NULL) {
		long trials = o.trials;
		size_t gs = mls_sampler_grid_size(smp);
		if (gs > 0 && trials == 0) {
			if (gs > 100000)
				errx(EX_USAGE, "the grid has %zu points: pass --trials N to run "
				    "only the first N", gs);
			trials = (long)gs;
		}
		if (trials == 0 && o.timeout <= 0)
			trials = 100;
		json_object_set_new(spec, "budget", json_pack("{s:I,s:f,s:I}",
		    "trials", (json_int_t)trials, "timeout_s", o.timeout,
		    "max_failures", (json_int_t)o.max_failures));
		json_object_set_new(spec, "parallel",
		    json_integer(o.parallel > 0 ? o.parallel : 1));
		json_object_set_new(spec, "sites", parse_sites(o.sites, cfg.default_site));
		json_object_set_new(spec, "prune", o.prune ? json_string(o.prune) : json_null());
		json_object_set_new(spec, "name", o.name ? json_string(o.name) : json_null());
		{
			json_t *cmd = json_array();
			for (i = 0; i < argc; i++)
				json_array_append_new(cmd, json_string(argv[i]));
			json_object_set_new(spec, "command", cmd);
		}
		json_object_set_new(spec, "resources", json_pack("{s:I,s:I,s:o,s:o}",
		    "cpus", (json_int_t)o.cpus, "gpus", (json_int_t)o.gpus,
		    "mem_mb", o.mem_mb > 0 ? json_integer(o.mem_mb) : json_null(),
		    "time_s", o.time_s > 0 ? json_integer((json_int_t)o.time_s) : json_null()));
		json_object_set(spec, "env", o.env);
	}

	if ((rc = mls_store_open(&st, &cfg, NULL)) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());
	if ((rc = mls_tracker_new(&tr, &cfg, st)) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());
	/* Every site must open before anything runs. */
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
		json_object_set_new(spec, "sandbox", json_string(sbid));
		json_object_set_new(spec, "image", image && strcmp(image, "none") != 0 ?
		    json_string(image) : json_null());
	}
	if ((algorithm = mls_record_str(spec, "prune")) != NULL &&
	    (rc = mls_pruner_new(&pr, algorithm, NULL)) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());

	if (o.detach)
		cli_detach(&cfg, mls_record_id(spec));

	cli_catch_stop_signals();

	x.fmt = cli_resolve_format(o.fmt);
	x.progress = !o.detach && cli_progress();
	x.color = cli_color(stdout);
	gen.ask = gen_ask;
	gen.pending = gen_pending;
	gen.tell = gen_tell;
	gen.arg = smp;
	co.kind = "campaign";
	co.spec = spec;
	co.resume = o.resume != NULL;
	co.cancel_on_exit = o.cancel_on_exit;
	co.stop = &cli_stop;
	co.on_trial = on_trial;
	co.on_progress = on_progress;
	co.cb_arg = &x;
	if (x.fmt == CLI_FMT_TABLE)
		fprintf(stderr, "campaign %s (resume with: mls-search --resume %s)\n",
		    mls_record_id(spec), mls_record_id(spec));
	rc = mls_campaign_run(&cfg, st, tr, &gen, pr, &co, &rec);
	clear_progress(&x);
	if (rc < 0) {
		warnx("%s", mls_error_last());
		ex = cli_exit_code(rc);
		goto done;
	}
	{
		const char *state = mls_record_str(rec, "state");
		if (x.fmt == CLI_FMT_TABLE) {
			char *cid = (char *)mls_record_id(rec);
			putchar('\n');
			fflush(stdout);
			(void)cli_campaign_status(&cfg, st, tr, 1, &cid, CLI_FMT_TABLE, 0);
		} else if (x.fmt == CLI_FMT_JSON) {
			json_dumpf(rec, stdout, MLS_JSON_PRETTY);
			putchar('\n');
		} else if (mls_jsonl_write(stdout, rec) < 0) {
			x.err = 1;
		}
		if (strcmp(state, "interrupted") == 0) {
			warnx("interrupted; resume with: mls-search --resume %s", mls_record_id(rec));
			ex = EX_INTERRUPTED;
		} else if (strcmp(state, "failed") == 0) {
			const char *why = mls_record_str(rec, "end");
			if (why != NULL && strcmp(why, "max-failures") == 0)
				warnx("campaign %s stopped: %lld trials failed (--max-failures)",
				    mls_record_id(rec),
				    mls_record_int(json_object_get(rec, "counts"), "failed", 0));
			else
				warnx("campaign %s: no trial succeeded", mls_record_id(rec));
			ex = EX_WORKFAILED;
		}
	}
	if (x.err || cli_close_stdout() == -1) {
		warn("stdout");
		ex = EX_IOERR;
	}
done:
	json_decref(rec);
	json_decref(spec);
	json_decref(meta);
	json_decref(sopts);
	json_decref(sb);
	json_decref(o.specs);
	json_decref(o.env);
	free(resolved);
	free(sbid);
	mls_pruner_free(pr);
	mls_sampler_free(smp);
	mls_space_free(sp);
	mls_tracker_free(tr);
	mls_store_free(st);
	mls_config_release(&cfg);
	return ex;
}
