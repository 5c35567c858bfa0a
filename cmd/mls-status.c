/*
 * mls-status - refresh the state of jobs; wait for them, watch them, cancel them.
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
#include "mls_campaign.h"
#include "mls_config.h"
#include "mls_error.h"
#include "mls_record.h"
#include "mls_registry.h"
#include "mls_store.h"
#include "mls_track.h"

static const char synopsis[] =
    "usage: mls-status [-ckqvw] [--cancel] [--cancel-on-exit] [--format FMT] [--log]\n"
    "                  [-n COUNT] [-s SITE] [--stdout] [--stop] [--timeout DURATION]\n"
    "                  [--watch] [ID ...]\n";

/* What --help prints after the synopsis; mls-status(1) is the reference. */
static const char help[] =
    "Report, wait for, watch, stop or cancel jobs, campaigns and ensembles.\n"
    "\n"
    "Which:\n"
    "  -n, --count COUNT       with no ID and no input, the COUNT latest jobs (20)\n"
    "  -c, --campaigns         list campaigns and ensembles, newest first\n"
    "  -k, --keep-going        report an unknown ID or a bad record, go on\n"
    "\n"
    "Waiting and following:\n"
    "  -w, --wait              wait until every job or campaign named has ended\n"
    "      --watch             follow the jobs: redraw a table, or write changes\n"
    "      --timeout DURATION  with --wait or --watch, give up after it (exit 124)\n"
    "      --cancel-on-exit    with --wait, cancel what it waits on if interrupted\n"
    "\n"
    "Acting:\n"
    "      --cancel            cancel the jobs, or the campaigns with their trials\n"
    "      --stop              stop campaigns: no new trials, those in flight end\n"
    "      --log               print the end of the stderr of a job or trial\n"
    "      --stdout            with --log, print its stdout too\n"
    "\n"
    "Output:\n"
    "      --format FMT        table, json, jsonl or auto (a table on a terminal)\n"
    "  -q, --quiet             print no progress and no informational messages\n"
    "  -v, --verbose           print debugging messages on stderr; repeat for more\n"
    "\n"
    "General:\n"
    "  -s, --site SITE         open SITE first; jobs are polled at their own site\n"
    "  -h, --help              print this help and exit\n"
    "  -V, --version           print the version and exit\n"
    "\n"
    "Examples:\n"
    "  $ mls-submit -- sh train.sh | mls-status --wait --timeout 1h\n"
    "  $ mls-status --watch c-01kxq4\n"
    "\n"
    "See mls-status(1) for the details and the exit statuses.\n";

enum {
	OPT_CANCEL = 0x100, OPT_TIMEOUT, OPT_WATCH, OPT_STOP, OPT_CANCEL_ON_EXIT,
	OPT_LOG, OPT_STDOUT,
};

struct opts {
	const char	*site;
	enum cli_format	 fmt;
	int		 wait, watch, cancel, keep_going;
	int		 campaigns, stop, cancel_on_exit, log, with_stdout, count_set;
	long		 count;
	double		 timeout;
};

static const char columns[] = "id,state,site,exit_code,reason,command";

static void
parse_options(int argc, char *argv[], struct opts *o)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "campaigns", no_argument, NULL, 'c' },
		{ "cancel", no_argument, NULL, OPT_CANCEL },
		{ "cancel-on-exit", no_argument, NULL, OPT_CANCEL_ON_EXIT },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "log", no_argument, NULL, OPT_LOG },
		{ "stdout", no_argument, NULL, OPT_STDOUT },
		{ "stop", no_argument, NULL, OPT_STOP },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "wait", no_argument, NULL, 'w' },
		{ "watch", no_argument, NULL, OPT_WATCH },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "chkn:qs:vVw", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': cli_help(synopsis, help);
		case 'V': cli_version();
		case 's': o->site = optarg; break;
		case CLI_OPT_FORMAT: o->fmt = cli_parse_format(optarg); break;
		case 'q': cli_set_verbosity(-1); break;
		case 'v': cli_set_verbosity(cli_verbosity + 1); break;
		case 'k': o->keep_going = 1; break;
		case 'w': o->wait = 1; break;
		case OPT_WATCH: o->watch = 1; break;
		case OPT_CANCEL: o->cancel = 1; break;
		case 'c': o->campaigns = 1; break;
		case OPT_STOP: o->stop = 1; break;
		case OPT_CANCEL_ON_EXIT: o->cancel_on_exit = 1; break;
		case OPT_LOG: o->log = 1; break;
		case OPT_STDOUT: o->with_stdout = 1; break;
		case 'n':
			o->count = cli_opt_count(synopsis, "--count", optarg, 1);
			o->count_set = 1;
			break;
		case OPT_TIMEOUT:
			o->timeout = cli_opt_duration0(synopsis, "--timeout", optarg);
			break;
		default:
			cli_usage(stderr, synopsis, EX_USAGE);
		}
	}
	if ((o->cancel || o->stop) && o->watch) {
		warnx("--%s excludes --watch", o->cancel ? "cancel" : "stop");
		cli_usage(stderr, synopsis, EX_USAGE);
	}
	if (o->cancel && o->stop) {
		warnx("--cancel excludes --stop");
		cli_usage(stderr, synopsis, EX_USAGE);
	}
	if (o->with_stdout && !o->log) {
		warnx("--stdout goes with --log");
		cli_usage(stderr, synopsis, EX_USAGE);
	}
	if (o->log && (o->wait || o->watch || o->cancel || o->stop || o->campaigns)) {
		warnx("--log excludes --wait, --watch, --cancel, --stop and --campaigns");
		cli_usage(stderr, synopsis, EX_USAGE);
	}
	if (o->campaigns && (o->wait || o->watch || o->cancel || o->stop)) {
		warnx("--campaigns excludes --wait, --watch, --cancel and --stop");
		cli_usage(stderr, synopsis, EX_USAGE);
	}
	if (o->cancel_on_exit && !o->wait) {
		warnx("--cancel-on-exit goes with --wait");
		cli_usage(stderr, synopsis, EX_USAGE);
	}
}

struct watch_ctx {
	struct cli_out	*out;
	int		 err;
};

static void
emit_change(json_t *rec, void *arg)
{
	struct watch_ctx *w = arg;

	if (mls_jsonl_write(stdout, rec) < 0 || fflush(stdout) == EOF)
		w->err = 1;
}

int
main(int argc, char *argv[])
{
	struct opts o = { .count = 20, .timeout = -1 };
	struct mls_config cfg = { 0 };
	struct mls_store *st = NULL;
	struct mls_tracker *tr = NULL;
	struct mls_jsonl_reader in;
	struct cli_out out;
	struct mls_registry_match m;
	json_t *recs = NULL, *rec = NULL;
	char **camps = NULL;
	int ex = EX_OK, rc, more, i, listing = 0;
	size_t k, ncamps = 0;

	cli_init(argc, argv);
	parse_options(argc, argv, &o);
	argc -= optind;
	argv += optind;

	if ((rc = mls_config_load(&cfg)) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());
	if ((rc = mls_store_open(&st, &cfg, NULL)) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());
	if ((rc = mls_tracker_new(&tr, &cfg, st)) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());
	if (o.site != NULL) {
		struct mls_site *s;
		if ((rc = mls_tracker_site(tr, o.site, &s)) < 0)
			errx(cli_exit_code(rc), "%s", mls_error_last());
	}

	if (o.campaigns) {
		if (argc > 0) {
			warnx("--campaigns takes no ids");
			cli_usage(stderr, synopsis, EX_USAGE);
		}
		ex = cli_campaign_list(&cfg, o.fmt, o.count_set ? o.count : 0);
		goto done;
	}
	if (o.log) {
		if (argc == 0) {
			warnx("--log: name a job or trial");
			cli_usage(stderr, synopsis, EX_USAGE);
		}
		for (i = 0; i < argc && (ex == EX_OK || o.keep_going); i++) {
			rc = cli_job_log(&cfg, st, argv[i], o.with_stdout,
			    o.count_set ? o.count : 50);
			if (ex == EX_OK)
				ex = rc;
		}
		goto done;
	}
	if (o.stop && argc == 0) {
		warnx("--stop: name a campaign or ensemble");
		cli_usage(stderr, synopsis, EX_USAGE);
	}
	if (o.wait && !o.watch)
		cli_catch_stop_signals();	/* SIGTERM and SIGHUP as SIGINT */

	recs = json_array();
	if (argc > 0) {
		if ((camps = calloc((size_t)argc, sizeof(*camps))) == NULL)
			err(EX_SOFTWARE, "calloc");
		for (i = 0; i < argc; i++) {
			if ((rc = mls_registry_lookup(&cfg, MLS_ID_ANY, argv[i], &m)) < 0) {
				warnx("%s", mls_error_last());
				if (ex == EX_OK)
					ex = cli_exit_code(rc);
				if (o.keep_going)
					continue;
				goto done;
			}
			if (m.kind == MLS_ID_JOB) {
				json_array_append(recs, m.job);
			} else {
				camps[ncamps++] = m.id;
				m.id = NULL;
			}
			mls_registry_match_release(&m);
		}
		if (ncamps > 0 && json_array_size(recs) > 0) {
			warnx("name jobs or campaigns, not both");
			cli_usage(stderr, synopsis, EX_USAGE);
		}
		if (o.stop && ncamps == 0) {
			warnx("--stop: name a campaign or ensemble, not a job");
			cli_usage(stderr, synopsis, EX_USAGE);
		}
		/* Stop, cancel, wait on campaigns and ensembles. */
		if (ncamps > 0 && (o.stop || o.cancel || o.wait)) {
			for (k = 0; k < ncamps && (o.stop || o.cancel); k++) {
				rc = cli_campaign_control(&cfg, tr, camps[k], o.cancel ?
				    MLS_CAMPAIGN_CANCEL : MLS_CAMPAIGN_STOP);
				if (ex == EX_OK)
					ex = rc;
			}
			for (k = 0; k < ncamps && o.wait && !cli_stop; k++) {
				rc = cli_campaign_wait(&cfg, st, tr, camps[k], o.fmt,
				    o.timeout, o.cancel_on_exit);
				if (ex == EX_OK || rc > 128)
					ex = rc;
			}
			goto done;
		}
		/* Campaigns and ensembles have their own view. */
		if (ncamps > 0) {
			rc = cli_campaign_status(&cfg, st, tr, (int)ncamps, camps,
			    o.fmt, o.watch);
			if (ex == EX_OK)
				ex = rc;
			goto done;
		}
		if (json_array_size(recs) == 0)
			goto done;
	} else if (cli_stdin_has_input()) {
		mls_jsonl_reader_init(&in, stdin, "<stdin>");
		while ((more = mls_jsonl_read(&in, &rec)) > 0) {
			if (mls_track_is_job(rec) &&
			    (rc = mls_record_check(rec, NULL)) < 0) {
				warnx("<stdin>:%lu: %s", in.lineno, mls_error_last());
				json_decref(rec);
				if (ex == EX_OK)
					ex = cli_exit_code(rc);
				if (o.keep_going)
					continue;
				mls_jsonl_reader_release(&in);
				goto done;
			}
			json_array_append_new(recs, rec);
		}
		mls_jsonl_reader_release(&in);
		if (more < 0) {
			warnx("%s", mls_error_last());
			ex = cli_exit_code(more);
			goto done;
		}
	} else {
		json_decref(recs);
		recs = NULL;
		listing = 1;	/* a report: its jobs' states do not fail it */
		if ((rc = mls_registry_recent(&cfg, (size_t)o.count, &recs)) < 0)
			errx(cli_exit_code(rc), "%s", mls_error_last());
	}

	if (o.cancel && o.wait) {
		warnx("--cancel excludes --wait for jobs");
		cli_usage(stderr, synopsis, EX_USAGE);
	}
	if (o.cancel) {
		json_array_foreach(recs, k, rec) {
			if (!mls_track_is_job(rec))
				continue;
			if ((rc = mls_tracker_cancel(tr, rec)) < 0) {
				warnx("%s: %s", mls_record_id(rec), mls_error_last());
				if (ex == EX_OK)
					ex = cli_exit_code(rc);
			}
		}
	} else if (o.wait || o.watch) {
		struct watch_ctx w = { 0 };
		int live = o.watch && cli_resolve_format(o.fmt) == CLI_FMT_JSONL;

		if (o.watch && !live)
			rc = cli_watch(tr, recs, o.timeout, columns);
		else
			rc = cli_wait(tr, recs, o.timeout, live ? emit_change : NULL, &w);
		if (rc < 0) {
			warnx("%s", mls_error_last());
			ex = cli_exit_code(rc);
		} else if (rc == EX_TIMEOUT || rc > 128) {
			/* the jobs go on, unless --cancel-on-exit */
			cli_left_running(tr, recs, o.cancel_on_exit);
			ex = rc;
		} else if (ex == EX_OK) {
			ex = cli_jobs_status(recs);
		}
		if (o.watch)
			goto save;	/* shown or streamed already */
	} else if ((rc = mls_tracker_poll(tr, recs)) < 0) {
		warnx("%s", mls_error_last());
		ex = cli_exit_code(rc);
	}
	if (!o.wait && !o.watch && !o.cancel && !listing && ex == EX_OK) {
		json_array_foreach(recs, k, rec) {
			enum mls_state s = mls_state_parse(mls_record_str(rec, "state"));
			if (mls_track_is_job(rec) && mls_state_final(s) &&
			    s != MLS_STATE_SUCCEEDED)
				ex = EX_WORKFAILED;
		}
	}
	cli_out_init(&out, o.fmt, columns);
	json_array_foreach(recs, k, rec)
		if (cli_out_record(&out, rec) < 0)
			break;
	if (cli_out_finish(&out) < 0) {
		warn("stdout");
		ex = EX_IOERR;
	}
save:
	json_array_foreach(recs, k, rec)
		if (mls_track_is_job(rec) && mls_record_id(rec) != NULL)
			(void)mls_registry_put(&cfg, rec);
done:
	if (cli_close_stdout() == -1) {
		warn("stdout");
		ex = EX_IOERR;
	}
	while (ncamps > 0)
		free(camps[--ncamps]);
	free(camps);
	json_decref(recs);
	mls_tracker_free(tr);
	mls_store_free(st);
	mls_config_release(&cfg);
	return ex;
}
