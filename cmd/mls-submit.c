/*
 * mls-submit - submit one job, an array, or one job per params record.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "mls_config.h"
#include "mls_error.h"
#include "mls_record.h"
#include "mls_registry.h"
#include "mls_ship.h"
#include "mls_site.h"
#include "mls_store.h"
#include "mls_time.h"
#include "mls_track.h"

static const char synopsis[] =
    "usage: mls-submit [-nqvw] [--array N] [--cancel-on-exit] [--cpus N]\n"
    "                  [-e KEY=VALUE] [--format FMT] [--gpus N] [--image TAG]\n"
    "                  [--mem SIZE] [--name NAME] [--no-input] [-p KEY=VALUE]\n"
    "                  [-s SITE] [--sandbox ID]\n"
    "                  [--time DURATION] [--timeout DURATION] [--] COMMAND [ARG ...]\n";

/* What --help prints after the synopsis; mls-submit(1) is the reference. */
static const char help[] =
    "Submit COMMAND as one job, an array, or one job per params record on stdin.\n"
    "\n"
    "What runs:\n"
    "  -p, --param KEY=VALUE   set parameter KEY, {KEY} in COMMAND (repeatable)\n"
    "      --array N           submit N jobs, whose params get index 0 to N-1\n"
    "  -e, --env KEY=VALUE     set an environment variable for COMMAND (repeatable)\n"
    "      --sandbox ID        run this sandbox from the store; stdin is not read\n"
    "      --no-input          leave stdin alone even when it starts with '{'\n"
    "      --image TAG         run in the container image TAG (none: no container)\n"
    "      --name NAME         give the jobs the name NAME\n"
    "\n"
    "Where, and with what:\n"
    "  -s, --site SITE         submit to SITE (default $MLS_SITE, the config, local)\n"
    "      --cpus N            CPU slots per job (default 1)\n"
    "      --gpus N            GPUs per job (default 0)\n"
    "      --mem SIZE          memory per job, e.g. 512M or 4G (bare number: MiB)\n"
    "      --time DURATION     wall-clock limit per job, e.g. 90s, 15m, 2h, 1h30m\n"
    "\n"
    "Waiting:\n"
    "  -w, --wait              wait until every job has ended; exit 1 if one failed\n"
    "      --timeout DURATION  with --wait, stop waiting after DURATION (exit 124)\n"
    "      --cancel-on-exit    with --wait, cancel the jobs when interrupted\n"
    "\n"
    "Output:\n"
    "  -n, --dry-run           write the job records, submit nothing\n"
    "      --format FMT        table, json, jsonl or auto (a table on a terminal)\n"
    "  -q, --quiet             print no progress and no informational messages\n"
    "  -v, --verbose           print debugging messages on stderr; repeat for more\n"
    "\n"
    "General:\n"
    "  -h, --help              print this help and exit\n"
    "  -V, --version           print the version and exit\n"
    "\n"
    "Examples:\n"
    "  $ mls-ship | mls-submit --wait -- sh train.sh\n"
    "  $ mls-submit --array 10 --gpus 2 -- python train.py --seed {index}\n"
    "\n"
    "See mls-submit(1) for the details and the exit statuses.\n";

enum {
	OPT_ARRAY = 0x100, OPT_CPUS, OPT_GPUS, OPT_MEM, OPT_TIME, OPT_IMAGE,
	OPT_NAME, OPT_NO_INPUT, OPT_SANDBOX, OPT_TIMEOUT, OPT_CANCEL_ON_EXIT,
};

struct opts {
	const char	*site;
	const char	*sandbox;
	const char	*image;
	const char	*name;
	long		 array;
	long		 cpus, gpus;
	long long	 mem_mb;
	double		 time_s;
	double		 timeout;
	int		 wait, cancel_on_exit;
	int		 dry_run;
	int		 no_input;
	enum cli_format	 fmt;
	json_t		*params;
	json_t		*env;
};

static long
parse_count(const char *opt, const char *s, long min)
{
	return cli_opt_count(synopsis, opt, s, min);
}

/* "k=v": v as JSON when it parses as a number, true/false or null, else a string. */
static void
parse_kv(const char *opt, const char *s, json_t *obj, int typed)
{
	cli_opt_kv(synopsis, opt, s, obj, typed);
}

static void
parse_options(int argc, char *argv[], struct opts *o)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "array", required_argument, NULL, OPT_ARRAY },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "env", required_argument, NULL, 'e' },
		{ "gpus", required_argument, NULL, OPT_GPUS },
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "no-input", no_argument, NULL, OPT_NO_INPUT },
		{ "param", required_argument, NULL, 'p' },
		{ "sandbox", required_argument, NULL, OPT_SANDBOX },
		{ "time", required_argument, NULL, OPT_TIME },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "wait", no_argument, NULL, 'w' },
		{ "cancel-on-exit", no_argument, NULL, OPT_CANCEL_ON_EXIT },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "+e:hnp:qs:vVw", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': cli_help(synopsis, help);
		case 'V': cli_version();
		case 's': o->site = optarg; break;
		case CLI_OPT_FORMAT: o->fmt = cli_parse_format(optarg); break;
		case 'q': cli_set_verbosity(-1); break;
		case 'v': cli_set_verbosity(cli_verbosity + 1); break;
		case 'n': o->dry_run = 1; break;
		case 'w': o->wait = 1; break;
		case OPT_CANCEL_ON_EXIT: o->cancel_on_exit = 1; break;
		case 'e': parse_kv("--env", optarg, o->env, 0); break;
		case 'p': parse_kv("--param", optarg, o->params, 1); break;
		case OPT_ARRAY: o->array = parse_count("--array", optarg, 1); break;
		case OPT_CPUS: o->cpus = parse_count("--cpus", optarg, 1); break;
		case OPT_GPUS: o->gpus = parse_count("--gpus", optarg, 0); break;
		case OPT_IMAGE: o->image = optarg; break;
		case OPT_NAME: o->name = optarg; break;
		case OPT_NO_INPUT: o->no_input = 1; break;
		case OPT_SANDBOX: o->sandbox = optarg; break;
		case OPT_MEM: o->mem_mb = cli_opt_mem_mb(synopsis, "--mem", optarg); break;
		case OPT_TIME:
			o->time_s = cli_opt_duration(synopsis, "--time", optarg);
			break;
		case OPT_TIMEOUT:
			o->timeout = cli_opt_duration0(synopsis, "--timeout", optarg);
			break;
		default:
			cli_usage(stderr, synopsis, EX_USAGE);
		}
	}
}

/* The params of a "params" record: its "params" object, or its other fields. */
static json_t *
params_of(const json_t *rec)
{
	json_t *p = json_object_get(rec, "params"), *copy;

	if (json_is_object(p))
		return json_deep_copy(p);
	copy = json_deep_copy(rec);
	json_object_del(copy, "kind");
	return copy;
}

int
main(int argc, char *argv[])
{
	struct opts o = { .cpus = 1, .timeout = -1, .array = 0 };
	struct mls_config cfg = { 0 };
	struct mls_store *st = NULL;
	struct mls_tracker *tr = NULL;
	struct mls_site *site = NULL;
	struct mls_jsonl_reader in;
	struct cli_out out;
	json_t *argvj = NULL, *sandbox = NULL, *plist = NULL, *jobs = NULL;
	json_t *rec = NULL, *res = NULL, *job = NULL, **batch = NULL;
	const char *sbid = NULL, *image;
	char *resolved = NULL;
	int ex = EX_OK, rc, more, i;
	size_t k;

	cli_init(argc, argv);
	o.params = json_object();
	o.env = json_object();
	parse_options(argc, argv, &o);
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		warnx("no command given: mls-submit [options] -- COMMAND [ARG ...]");
		cli_usage(stderr, synopsis, EX_USAGE);
	}
	argvj = json_array();
	for (i = 0; i < argc; i++)
		json_array_append_new(argvj, json_string(argv[i]));

	if ((rc = mls_config_load(&cfg)) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());
	if ((rc = mls_store_open(&st, &cfg, NULL)) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());
	if ((rc = mls_tracker_new(&tr, &cfg, st)) < 0 ||
	    (rc = mls_tracker_site(tr, o.site, &site)) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());

	/* Records on stdin: sandbox records and params records. */
	plist = json_array();
	if (o.sandbox == NULL && !o.no_input && cli_stdin_records()) {
		mls_jsonl_reader_init(&in, stdin, "<stdin>");
		while ((more = mls_jsonl_read(&in, &rec)) > 0) {
			const char *kind = mls_record_kind(rec);
			if (kind != NULL && strcmp(kind, "sandbox") == 0) {
				/* what is wrong with it, where */
				if ((rc = mls_record_check(rec, "sandbox")) < 0)
					cli_stdin_die(mls_error_prefix("<stdin>:%lu",
					    in.lineno));
				json_decref(sandbox);
				sandbox = rec;
			} else if (kind != NULL && strcmp(kind, "params") == 0) {
				json_array_append_new(plist, params_of(rec));
				json_decref(rec);
			} else {
				cli_stdin_die(mls_error_set(MLS_EINPUT, "<stdin>:%lu: "
				    "%s record: mls-submit reads sandbox and params "
				    "records", in.lineno, kind ? kind : "untyped"));
			}
			rec = NULL;
		}
		if (more < 0)
			cli_stdin_die(more);
		mls_jsonl_reader_release(&in);
	}

	/* The sandbox: from stdin, --sandbox, or ship the current directory. */
	if (sandbox != NULL) {
		sbid = mls_record_id(sandbox);
		if ((rc = mls_sandbox_resolve(st, sbid, &resolved)) < 0)
			errx(cli_exit_code(rc), "%s", mls_error_last());
	} else if (o.sandbox != NULL) {
		if ((rc = mls_sandbox_resolve(st, o.sandbox, &resolved)) < 0)
			errx(cli_exit_code(rc), "%s", mls_error_last());
	} else {
		struct mls_ship_opts so = { .image = o.image, .max_size = 0, .dry_run = 0 };
		if ((rc = mls_ship(&cfg, st, ".", &so, &sandbox)) < 0)
			errx(cli_exit_code(rc), "ship '.': %s", mls_error_last());
		if ((resolved = strdup(mls_record_id(sandbox))) == NULL)
			err(EX_SOFTWARE, "strdup");
	}
	sbid = resolved;
	image = o.image ? o.image : mls_record_str(sandbox, "image");

	/* One job per params record, or --array N (default 1). */
	jobs = json_array();
	if (json_array_size(plist) == 0) {
		long n = o.array > 0 ? o.array : 1;
		for (long j = 0; j < n; j++) {
			json_t *p = json_deep_copy(o.params);
			if (o.array > 0)
				json_object_set_new(p, "index", json_integer(j));
			json_array_append_new(plist, p);
		}
	} else {
		json_t *p;
		json_array_foreach(plist, k, p) {
			json_object_update_missing(p, o.params);
			if (o.array > 0)
				errx(EX_USAGE, "--array and params records on stdin exclude each other");
		}
	}
	json_t *resources = json_pack("{s:I,s:I,s:o,s:o}", "cpus", (json_int_t)o.cpus,
	    "gpus", (json_int_t)o.gpus,
	    "mem_mb", o.mem_mb > 0 ? json_integer(o.mem_mb) : json_null(),
	    "time_s", o.time_s > 0 ? json_integer((json_int_t)o.time_s) : json_null());
	for (k = 0; k < json_array_size(plist); k++) {
		rc = mls_job_new(&job, site->name, sbid,
		    image && strcmp(image, "none") != 0 ? image : NULL, argvj,
		    json_array_get(plist, k), resources, o.env, o.name);
		if (rc < 0)
			errx(cli_exit_code(rc), "%s", mls_error_last());
		json_array_append_new(jobs, job);
		job = NULL;
	}
	json_decref(resources);

	if (!o.dry_run) {
		size_t n = json_array_size(jobs);
		if ((batch = calloc(n, sizeof(*batch))) == NULL)
			err(EX_SOFTWARE, "calloc");
		for (k = 0; k < n; k++)
			batch[k] = json_array_get(jobs, k);
		rc = mls_site_submit(site, batch, n);
		/* Record what was submitted even if part of the batch failed. */
		for (k = 0; k < n; k++)
			if (mls_record_str(batch[k], "state") != NULL)
				(void)mls_registry_put(&cfg, batch[k]);
		if (rc < 0)
			errx(cli_exit_code(rc), "%s", mls_error_last());
	}

	if (o.wait && !o.dry_run) {
		/* SIGINT, SIGTERM, SIGHUP: records written, the jobs left named */
		cli_catch_stop_signals();
		rc = cli_wait(tr, jobs, o.timeout, NULL, NULL);
		if (rc == EX_TIMEOUT || rc > 128)
			cli_left_running(tr, jobs, o.cancel_on_exit);
		for (k = 0; k < json_array_size(jobs); k++)
			(void)mls_registry_put(&cfg, json_array_get(jobs, k));
		if (rc < 0)
			errx(cli_exit_code(rc), "%s", mls_error_last());
		ex = rc == EX_TIMEOUT || rc > 128 ? rc : cli_jobs_status(jobs);
	}
	cli_out_init(&out, o.fmt, "id,site,state,exit_code,command");
	for (k = 0; k < json_array_size(jobs); k++)
		if (cli_out_record(&out, json_array_get(jobs, k)) < 0)
			break;
	if (cli_out_finish(&out) < 0 || cli_close_stdout() == -1) {
		warn("stdout");
		ex = EX_IOERR;
	}
	free(batch);
	free(resolved);
	json_decref(res);
	json_decref(jobs);
	json_decref(plist);
	json_decref(sandbox);
	json_decref(argvj);
	json_decref(o.params);
	json_decref(o.env);
	mls_tracker_free(tr);
	mls_store_free(st);
	mls_config_release(&cfg);
	return ex;
}
