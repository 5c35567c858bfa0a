/*
 * mls-fetch - download the outputs, logs and metrics of jobs, verified.
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
#include "mls_buf.h"
#include "mls_config.h"
#include "mls_digest.h"
#include "mls_error.h"
#include "mls_pack.h"
#include "mls_record.h"
#include "mls_registry.h"
#include "mls_store.h"
#include "mls_track.h"

static const char synopsis[] =
    "usage: mls-fetch [-kqv] [--best K] [--format FMT] [--no-extract] [-o DIR]\n"
    "                 [-s SITE] [ID ...]\n";

enum { OPT_BEST = 0x100, OPT_NO_EXTRACT };

struct opts {
	const char	*outdir;
	enum cli_format	 fmt;
	int		 keep_going, no_extract;
	long		 best;
};

/* The files a job leaves in the store, fetched in this order. */
static const char *const job_files[] = {
	"result.json", "params.json", "metrics.jsonl", "stdout", "stderr",
	"output.json", "outputs.tar.zst",
};

static void
parse_options(int argc, char *argv[], struct opts *o)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "best", required_argument, NULL, OPT_BEST },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "no-extract", no_argument, NULL, OPT_NO_EXTRACT },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "hko:qs:vV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': cli_usage(stdout, synopsis, EX_OK);
		case 'V': cli_version();
		case 's': break;	/* jobs carry their site */
		case CLI_OPT_FORMAT: o->fmt = cli_parse_format(optarg); break;
		case 'q': cli_set_verbosity(-1); break;
		case 'v': cli_set_verbosity(cli_verbosity + 1); break;
		case 'k': o->keep_going = 1; break;
		case 'o': o->outdir = optarg; break;
		case OPT_NO_EXTRACT: o->no_extract = 1; break;
		case OPT_BEST:
			errno = 0;
			o->best = strtol(optarg, &end, 10);
			if (errno || *end != '\0' || end == optarg || o->best < 1) {
				warnx("--best: '%s' is not a whole number >= 1", optarg);
				cli_usage(stderr, synopsis, EX_USAGE);
			}
			break;
		default:
			cli_usage(stderr, synopsis, EX_USAGE);
		}
	}
}

static json_t *
artifact(const char *job, const char *name, const char *url, const char *path,
    long long size, const char *hex)
{
	struct mls_buf id = MLS_BUF_INIT, dg = MLS_BUF_INIT;
	json_t *a;

	mls_buf_addf(&id, "%s/%s", job, name);
	mls_buf_addf(&dg, "sha256:%s", hex);
	a = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s}", "kind", "artifact",
	    "id", id.buf, "job", job, "name", name, "url", url, "path", path,
	    "size", (json_int_t)size, "digest", dg.buf);
	mls_buf_release(&id);
	mls_buf_release(&dg);
	return a;
}

/* Fetch one job's files into DIR/<id>/ and emit an artifact record per file. */
static int
fetch_one(struct mls_store *st, const json_t *job, const struct opts *o,
    struct cli_out *out)
{
	struct mls_buf dir = MLS_BUF_INIT, key = MLS_BUF_INIT, path = MLS_BUF_INIT;
	const char *id = mls_record_id(job), *want;
	json_t *result = NULL, *a;
	char hex[65], *url = NULL;
	long long size;
	size_t i;
	int rc;

	enum mls_state s = mls_state_parse(mls_record_str(job, "state"));
	if (!mls_state_final(s))
		warnx("%s: job is %s; fetching what is there so far", id,
		    mls_state_name(s));
	mls_buf_adds(&dir, o->outdir ? o->outdir : ".");
	while (dir.len > 1 && dir.buf[dir.len - 1] == '/')
		dir.buf[--dir.len] = '\0';
	mls_buf_addf(&dir, "/%s", id);
	if ((rc = mls_buf_error(&dir)) < 0 || (rc = mls_mkdirs(dir.buf, 0755)) < 0)
		goto out;
	for (i = 0; i < sizeof(job_files) / sizeof(job_files[0]); i++) {
		mls_buf_reset(&key);
		mls_buf_reset(&path);
		mls_buf_addf(&key, "jobs/%s/%s", id, job_files[i]);
		mls_buf_addf(&path, "%s/%s", dir.buf, job_files[i]);
		if ((rc = mls_buf_error(&key)) < 0 || (rc = mls_buf_error(&path)) < 0)
			goto out;
		if ((rc = mls_store_stat(st, key.buf, &size)) < 0)
			goto out;
		if (rc == 0)
			continue;
		if ((rc = mls_store_get_file(st, key.buf, path.buf)) < 0)
			goto out;
		if ((rc = mls_digest_file(path.buf, hex, &size)) < 0)
			goto out;
		if (strcmp(job_files[i], "result.json") == 0) {
			json_error_t jerr;
			result = json_load_file(path.buf, 0, &jerr);
		}
		if (strcmp(job_files[i], "outputs.tar.zst") == 0) {
			want = json_string_value(json_object_get(
			    json_object_get(result, "outputs"), "digest"));
			if (want != NULL && (strncmp(want, "sha256:", 7) != 0 ||
			    strcmp(want + 7, hex) != 0)) {
				unlink(path.buf);
				rc = mls_error_set(MLS_EPROTO, "%s: outputs.tar.zst: digest "
				    "sha256:%s does not match the job's %s", id, hex, want);
				goto out;
			}
			if (!o->no_extract) {
				struct mls_buf od = MLS_BUF_INIT;
				mls_buf_addf(&od, "%s/outputs", dir.buf);
				rc = mls_buf_error(&od);
				if (rc == 0)
					rc = mls_mkdirs(od.buf, 0755);
				if (rc == 0)
					rc = mls_pack_extract(path.buf, od.buf, NULL);
				mls_buf_release(&od);
				if (rc < 0) {
					mls_error_prefix("%s: outputs.tar.zst", id);
					goto out;
				}
			}
		}
		url = mls_store_key_url(st, key.buf);
		a = artifact(id, job_files[i], url ? url : key.buf, path.buf, size, hex);
		free(url);
		url = NULL;
		if (cli_out_record(out, a) < 0) {
			json_decref(a);
			rc = mls_error_set_errno(MLS_EIO, "stdout");
			goto out;
		}
		json_decref(a);
	}
	rc = 0;
out:
	json_decref(result);
	mls_buf_release(&dir);
	mls_buf_release(&key);
	mls_buf_release(&path);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct opts o = { 0 };
	struct mls_config cfg = { 0 };
	struct mls_store *st = NULL;
	struct mls_tracker *tr = NULL;
	struct mls_jsonl_reader in;
	struct cli_out out;
	json_t *jobs = NULL, *rec = NULL;
	int ex = EX_OK, rc, more, i;
	size_t k;

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

	jobs = json_array();
	for (i = 0; i < argc; i++) {
		if ((argv[i][0] == 'c' || argv[i][0] == 'e') && argv[i][1] == '-') {
			if ((rc = cli_campaign_jobs(&cfg, argv[i], o.best, jobs)) < 0) {
				warnx("%s", mls_error_last());
				ex = cli_exit_code(rc);
				goto done;
			}
			continue;
		}
		if ((rc = mls_registry_get(&cfg, argv[i], &rec)) < 0) {
			warnx("%s", mls_error_last());
			if (ex == EX_OK)
				ex = cli_exit_code(rc);
			if (o.keep_going)
				continue;
			goto done;
		}
		json_array_append_new(jobs, rec);
	}
	if (argc == 0 && cli_stdin_has_input()) {
		mls_jsonl_reader_init(&in, stdin, "<stdin>");
		while ((more = mls_jsonl_read(&in, &rec)) > 0) {
			if (mls_track_is_job(rec) && mls_record_check(rec, NULL) == 0)
				json_array_append_new(jobs, rec);
			else
				json_decref(rec);	/* other records are not fetched */
		}
		mls_jsonl_reader_release(&in);
		if (more < 0) {
			warnx("%s", mls_error_last());
			ex = cli_exit_code(more);
			goto done;
		}
	} else if (argc == 0) {
		warnx("no job given: name job ids or pipe job records in");
		cli_usage(stderr, synopsis, EX_USAGE);
	}

	/* Refresh, so that the outcome and digests are current. */
	if ((rc = mls_tracker_poll(tr, jobs)) < 0) {
		warnx("%s", mls_error_last());
		ex = cli_exit_code(rc);
		goto done;
	}
	cli_out_init(&out, o.fmt, "job,name,size,path");
	json_array_foreach(jobs, k, rec) {
		if ((rc = fetch_one(st, rec, &o, &out)) < 0) {
			warnx("%s", mls_error_last());
			if (ex == EX_OK)
				ex = cli_exit_code(rc);
			if (!o.keep_going)
				break;
		}
	}
	if (cli_out_finish(&out) < 0) {
		warn("stdout");
		ex = EX_IOERR;
	}
done:
	if (cli_close_stdout() == -1) {
		warn("stdout");
		ex = EX_IOERR;
	}
	json_decref(jobs);
	mls_tracker_free(tr);
	mls_store_free(st);
	mls_config_release(&cfg);
	return ex;
}
