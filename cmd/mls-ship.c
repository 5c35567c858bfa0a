/*
 * mls-ship - pack a directory deterministically, upload it to the store
 * unless it is there already, and write its sandbox record.
 */
#include "config.h"

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include <jansson.h>

#include "cli.h"
#include "mls_config.h"
#include "mls_error.h"
#include "mls_record.h"
#include "mls_ship.h"
#include "mls_store.h"

static const char synopsis[] =
    "usage: mls-ship [-nqv] [--dry-run] [--format FMT] [--image TAG]\n"
    "                [--max-size SIZE] [-s SITE] [DIR]\n";

/* What --help prints after the synopsis; mls-ship(1) is the reference. */
static const char help[] =
    "Pack DIR (default .) and upload it to the store as a sandbox; write its record.\n"
    "\n"
    "What to ship:\n"
    "      --image TAG         record the image the sandbox is meant to run in\n"
    "      --max-size SIZE     refuse more than SIZE of content (default 512M)\n"
    "  -n, --dry-run           upload nothing: list what would go, largest first\n"
    "\n"
    "Output:\n"
    "      --format FMT        table, json, jsonl or auto (a table on a terminal)\n"
    "  -q, --quiet             print less on stderr\n"
    "  -v, --verbose           print debugging messages on stderr\n"
    "\n"
    "General:\n"
    "  -s, --site SITE         accepted as by every mls tool; shipping ignores it\n"
    "  -h, --help              print this help and exit\n"
    "  -V, --version           print the version and exit\n"
    "\n"
    "Examples:\n"
    "  $ mls-ship -n ~/src/model\n"
    "  $ mls-ship | mls-submit -- python train.py | mls-status --wait\n"
    "\n"
    "See mls-ship(1) for the details and the exit statuses.\n";

enum { OPT_IMAGE = 0x100, OPT_MAX_SIZE };

struct opts {
	const char	*site;		/* accepted for uniformity; unused */
	enum cli_format	 fmt;
	const char	*image;
	long long	 max_size;
	int		 dry_run;
};

static const char columns[] = "id,files,size,uploaded,git.branch";

static void
parse_options(int argc, char *argv[], struct opts *o)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "dry-run", no_argument, NULL, 'n' },
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "hnqs:vV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': cli_help(synopsis, help);
		case 'V': cli_version();
		case 's': o->site = optarg; break;
		case CLI_OPT_FORMAT: o->fmt = cli_parse_format(optarg); break;
		case 'q': cli_set_verbosity(-1); break;
		case 'v': cli_set_verbosity(cli_verbosity + 1); break;
		case 'n': o->dry_run = 1; break;
		case OPT_IMAGE:
			if (*optarg == '\0') {
				warnx("--image: empty tag");
				cli_usage(stderr, synopsis, EX_USAGE);
			}
			o->image = optarg;
			break;
		case OPT_MAX_SIZE:
			if ((o->max_size = mls_size_parse(optarg)) <= 0) {
				warnx("--max-size: '%s' is not a size like 100M or 2G",
				    optarg);
				cli_usage(stderr, synopsis, EX_USAGE);
			}
			break;
		default:
			cli_usage(stderr, synopsis, EX_USAGE);
		}
	}
}

/* A dry run on a table: the files, largest first, with human sizes. */
static int
emit_listing(const json_t *rec)
{
	struct cli_out out;
	const json_t *e;
	json_t *row;
	char hs[32];
	size_t i;
	int rc = 0;

	cli_out_init(&out, CLI_FMT_TABLE, "size,path");
	json_array_foreach(json_object_get(rec, "listing"), i, e) {
		mls_ship_human_size((long long)json_integer_value(
		    json_object_get(e, "size")), hs);
		row = json_pack("{s:s,s:O}", "size", hs, "path",
		    json_object_get(e, "path"));
		if (row == NULL || cli_out_record(&out, row) < 0)
			rc = -1;
		json_decref(row);
	}
	if (cli_out_finish(&out) < 0)
		rc = -1;
	mls_ship_human_size((long long)json_integer_value(json_object_get(rec,
	    "bytes")), hs);
	if (cli_verbosity >= 0)
		fprintf(stderr, "mls-ship: dry run: %lld files, %s\n",
		    (long long)json_integer_value(json_object_get(rec, "files")), hs);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct opts o = { .fmt = CLI_FMT_AUTO };
	struct mls_ship_opts so = { 0 };
	struct mls_config cfg;
	struct mls_store *st = NULL;
	struct cli_out out;
	json_t *rec = NULL;
	const char *dir = ".";
	int ex = EX_OK, rc;

	cli_init(argc, argv);
	parse_options(argc, argv, &o);	/* exits EX_USAGE itself */
	argc -= optind;
	argv += optind;
	if (argc > 1)
		cli_usage(stderr, synopsis, EX_USAGE);
	if (argc == 1)
		dir = argv[0];

	if ((rc = mls_config_load(&cfg)) < 0) {
		warnx("%s", mls_error_last());
		ex = cli_exit_code(rc);
		goto out;
	}
	if (!o.dry_run && (rc = mls_store_open(&st, &cfg, NULL)) < 0) {
		warnx("%s", mls_error_last());
		ex = cli_exit_code(rc);
		goto out;
	}
	so.image = o.image;
	so.max_size = o.max_size;
	so.dry_run = o.dry_run;
	if ((rc = mls_ship(&cfg, st, dir, &so, &rec)) < 0) {
		warnx("%s", mls_error_last());
		ex = cli_exit_code(rc);
		goto out;
	}
	if (o.dry_run && cli_resolve_format(o.fmt) == CLI_FMT_TABLE) {
		if (emit_listing(rec) < 0)
			ex = EX_IOERR;
	} else {
		cli_out_init(&out, o.fmt, columns);
		if (cli_out_record(&out, rec) < 0)
			ex = EX_IOERR;
		if (cli_out_finish(&out) < 0)
			ex = EX_IOERR;
	}
out:
	json_decref(rec);
	mls_store_free(st);
	mls_config_release(&cfg);
	if (cli_close_stdout() == -1) {		/* a full disk shows up here */
		warn("stdout");
		if (ex == EX_OK)
			ex = EX_IOERR;
	}
	return ex;
}
