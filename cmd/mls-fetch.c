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
#include <sys/stat.h>
#include <sys/wait.h>

#include <jansson.h>

#include "cli.h"
#include "mls_buf.h"
#include "mls_config.h"
#include "mls_digest.h"
#include "mls_error.h"
#include "mls_job.h"
#include "mls_pack.h"
#include "mls_record.h"
#include "mls_registry.h"
#include "mls_store.h"
#include "mls_tempfile.h"
#include "mls_time.h"
#include "mls_track.h"

static const char synopsis[] =
    "usage: mls-fetch [-kqv] [--best K] [--format FMT] [-j N] [--no-extract]\n"
    "                 [-o DIR] [-s SITE] [ID ...]\n";

/* What --help prints after the synopsis; mls-fetch(1) is the reference. */
static const char help[] =
    "Download the outputs, logs and metrics of jobs, verified against their digests.\n"
    "\n"
    "What:\n"
    "      --best K            for a campaign or ensemble id, only its K best trials\n"
    "  -k, --keep-going        report a job that cannot be fetched, go on\n"
    "\n"
    "Where and how:\n"
    "  -o, --output DIR        put the files under DIR (default .)\n"
    "      --no-extract        keep outputs.tar.zst as it is, do not unpack it\n"
    "  -j, --jobs N            download up to N files at a time (default 4)\n"
    "\n"
    "Output:\n"
    "      --format FMT        table, json, jsonl or auto (a table on a terminal)\n"
    "  -q, --quiet             print no progress and no informational messages\n"
    "  -v, --verbose           print debugging messages on stderr; repeat for more\n"
    "\n"
    "General:\n"
    "  -s, --site SITE         ignored: each job comes from its own site's store\n"
    "  -h, --help              print this help and exit\n"
    "  -V, --version           print the version and exit\n"
    "\n"
    "Examples:\n"
    "  $ mls-submit --wait -- sh train.sh | mls-fetch -o out/\n"
    "  $ mls-fetch --best 5 --no-extract -o best/ c-01kxq4\n"
    "\n"
    "See mls-fetch(1) for the details and the exit statuses.\n";

enum { OPT_BEST = 0x100, OPT_NO_EXTRACT };

struct opts {
	const char	*outdir;
	enum cli_format	 fmt;
	int		 keep_going, no_extract;
	struct mls_pack_limits lim;	/* [mls] extract_max_* */
	long		 best;
	long		 jobs;		/* parallel downloads (--jobs) */
	const struct mls_store_get *pre;	/* this job's files, fetched */
};

/* The files a job leaves in the store, fetched in this order. */
static const enum mls_job_file job_files[] = {
	MLS_JOB_RESULT, MLS_JOB_PARAMS, MLS_JOB_METRICS, MLS_JOB_STDOUT,
	MLS_JOB_STDERR, MLS_JOB_OUTPUT_JSON, MLS_JOB_OUTPUTS,
};

static void
parse_options(int argc, char *argv[], struct opts *o)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "best", required_argument, NULL, OPT_BEST },
		{ "jobs", required_argument, NULL, 'j' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "no-extract", no_argument, NULL, OPT_NO_EXTRACT },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "hj:ko:qs:vV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': cli_help(synopsis, help);
		case 'V': cli_version();
		case 's': break;	/* jobs carry their site */
		case CLI_OPT_FORMAT: o->fmt = cli_parse_format(optarg); break;
		case 'q': cli_set_verbosity(-1); break;
		case 'v': cli_set_verbosity(cli_verbosity + 1); break;
		case 'k': o->keep_going = 1; break;
		case 'o':
			if (*optarg == '\0') {	/* not "/" + ID, not the cwd */
				warnx("-o: '' is an empty path");
				cli_usage(stderr, synopsis, EX_USAGE);
			}
			o->outdir = optarg;
			break;
		case OPT_NO_EXTRACT: o->no_extract = 1; break;
		case 'j':
			errno = 0;
			o->jobs = strtol(optarg, &end, 10);
			if (errno || *end != '\0' || end == optarg ||
			    o->jobs < 1 || o->jobs > 256) {
				warnx("--jobs: '%s' is not a whole number from "
				    "1 to 256", optarg);
				cli_usage(stderr, synopsis, EX_USAGE);
			}
			break;
		case OPT_BEST:
			o->best = cli_opt_count(synopsis, "--best", optarg, 1);
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

/*
 * The directories fetch makes (DIR/ID, DIR/ID/outputs) must be its own:
 * a symbolic link planted there would carry the files elsewhere.
 */
static int
no_symlink(const char *path)
{
	struct stat sb;

	if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode))
		return mls_error_set(MLS_EIO, "'%s': a symbolic link; "
		    "fetch writes only into directories it makes", path);
	return 0;
}

/*
 * Fetch one job's files into DIR/<sub>/ (sub NULL: the job id) and emit an
 * artifact record per file.
 */
static int
fetch_one(struct mls_store *st, const json_t *job, const struct opts *o,
    const char *sub, struct cli_out *out)
{
	struct mls_buf dir = MLS_BUF_INIT, key = MLS_BUF_INIT, path = MLS_BUF_INIT;
	const char *id = mls_record_id(job), *want, *name;
	json_t *result = NULL, *a;
	char hex[65], *url = NULL;
	long long size;
	size_t i;
	int rc;

	/* the id becomes a directory name: check it before anything is made */
	if ((rc = mls_job_check_id(id)) < 0)
		return rc;
	enum mls_state s = mls_state_parse(mls_record_str(job, "state"));
	if (!mls_state_final(s))
		warnx("%s: job is %s; fetching what is there so far", id,
		    mls_state_name(s));
	mls_buf_adds(&dir, o->outdir ? o->outdir : ".");
	while (dir.len > 1 && dir.buf[dir.len - 1] == '/')
		dir.buf[--dir.len] = '\0';
	mls_buf_addf(&dir, "/%s", sub != NULL ? sub : id);
	if ((rc = mls_buf_error(&dir)) < 0 || (rc = no_symlink(dir.buf)) < 0 ||
	    (rc = mls_mkdirs(dir.buf, 0755)) < 0)
		goto out;
	for (i = 0; i < sizeof(job_files) / sizeof(job_files[0]); i++) {
		name = mls_job_file_name(job_files[i]);
		mls_buf_reset(&path);
		mls_buf_addf(&path, "%s/%s", dir.buf, name);
		if ((rc = mls_job_key(&key, id, job_files[i])) < 0 ||
		    (rc = mls_buf_error(&path)) < 0)
			goto out;
		if (o->pre != NULL) {	/* downloaded already, in parallel */
			if ((rc = o->pre[i].rc) < 0) {
				mls_error_set(rc, "%s", o->pre[i].error ?
				    o->pre[i].error : "download failed");
				goto out;
			}
			if (!o->pre[i].found)
				continue;
		} else {
			if ((rc = mls_store_stat(st, key.buf, &size)) < 0)
				goto out;
			if (rc == 0)
				continue;
			if ((rc = mls_store_get_file(st, key.buf, path.buf)) < 0)
				goto out;
		}
		if ((rc = mls_digest_file(path.buf, hex, &size)) < 0)
			goto out;
		if (job_files[i] == MLS_JOB_RESULT) {
			json_error_t jerr;
			result = json_load_file(path.buf, 0, &jerr);
		}
		if (job_files[i] == MLS_JOB_OUTPUTS) {
			want = json_string_value(json_object_get(
			    json_object_get(result, "outputs"), "digest"));
			if (want == NULL) {
				/*
				 * Nothing to verify against (no result.json, a
				 * malformed one, or one that says there are no
				 * outputs): unverified bytes are not unpacked.
				 */
				unlink(path.buf);
				rc = mls_error_set(MLS_EPROTO, "%s: outputs.tar.zst: "
				    "no digest to verify it against (result.json "
				    "is %s)", id, result == NULL ? "missing or "
				    "not JSON" : "without outputs.digest");
				goto out;
			}
			if (strncmp(want, "sha256:", 7) != 0 ||
			    strcmp(want + 7, hex) != 0) {
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
					rc = no_symlink(od.buf);
				if (rc == 0)
					rc = mls_mkdirs(od.buf, 0755);
				if (rc == 0)
					rc = mls_pack_extract(path.buf, od.buf, &o->lim);
				mls_buf_release(&od);
				if (rc < 0) {
					mls_error_prefix("%s: outputs.tar.zst", id);
					goto out;
				}
			}
		}
		url = mls_store_key_url(st, key.buf);
		a = artifact(id, name, url ? url : key.buf, path.buf, size, hex);
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

#define NFILES	(sizeof(job_files) / sizeof(job_files[0]))

/* A progress bar on stderr, drawn only when it is a terminal. */
struct bar {
	double	 t0;
	int	 drawn;
};

static void
draw_bar(void *arg, long long done, long long total)
{
	struct bar *b = arg;
	double el = mls_time_mono() - b->t0, rate = el > 0 ? (double)done / el : 0;
	char eta[32] = "--";
	int w = 30, fill;

	if (total > 0 && rate > 0 && done < total)
		snprintf(eta, sizeof(eta), "%.0fs",
		    (double)(total - done) / rate);
	else if (total > 0)
		snprintf(eta, sizeof(eta), "0s");
	fill = total > 0 ? (int)((double)w * (double)done / (double)total) : 0;
	if (fill > w)
		fill = w;
	fprintf(stderr, "\r[%.*s%*s] %.1f/%.1f MB %.1f MB/s ETA %s  ",
	    fill, "##############################", w - fill, "",
	    (double)done / 1e6, (double)total / 1e6, rate / 1e6, eta);
	b->drawn = 1;
}

/*
 * Download the files of all jobs into DIR/<id>/, o->jobs at a time
 * (curl_multi on an http(s) store); g has NFILES slots per job and its
 * keys and paths are new strings in strs (two per slot).
 */
static int
fetch_all(struct mls_store *st, const json_t *jobs, const struct opts *o,
    struct mls_store_get *g, char **strs)
{
	struct bar bar = { mls_time_mono(), 0 };
	struct mls_buf dir = MLS_BUF_INIT;
	size_t k, i, n = 0;
	int rc = 0, progress = isatty(STDERR_FILENO) && cli_verbosity >= 0;

	for (k = 0; k < json_array_size(jobs); k++) {
		mls_buf_reset(&dir);
		mls_buf_adds(&dir, o->outdir ? o->outdir : ".");
		while (dir.len > 1 && dir.buf[dir.len - 1] == '/')
			dir.buf[--dir.len] = '\0';
		if ((rc = mls_job_check_id(mls_record_id(
		    json_array_get(jobs, k)))) < 0)
			goto out;
		mls_buf_addf(&dir, "/%s", mls_record_id(json_array_get(jobs, k)));
		if ((rc = mls_buf_error(&dir)) < 0 ||
		    (rc = no_symlink(dir.buf)) < 0 ||
		    (rc = mls_mkdirs(dir.buf, 0755)) < 0)
			goto out;
		for (i = 0; i < NFILES; i++, n++) {
			struct mls_buf kb = MLS_BUF_INIT, pb = MLS_BUF_INIT;
			(void)mls_job_key(&kb, mls_record_id(
			    json_array_get(jobs, k)), job_files[i]);
			mls_buf_addf(&pb, "%s/%s", dir.buf,
			    mls_job_file_name(job_files[i]));
			g[n].key = strs[2 * n] = mls_buf_detach(&kb);
			g[n].path = strs[2 * n + 1] = mls_buf_detach(&pb);
			g[n].missing_ok = 1;
			if (g[n].key == NULL || g[n].path == NULL) {
				rc = mls_error_set(MLS_ENOMEM, "out of memory");
				goto out;
			}
		}
	}
	/* failures are reported per job by fetch_one */
	(void)mls_store_get_files(st, g, n, (int)o->jobs,
	    progress ? draw_bar : NULL, &bar);
	if (bar.drawn)
		fputc('\n', stderr);
out:
	mls_buf_release(&dir);
	return rc;
}

#define ENSEMBLE_WORKERS 4

/* Worker w of nw: fetch members w, w + nw, ... with artifacts in tmp. */
static int
ensemble_worker(struct mls_store *st, const json_t *jobs, const struct opts *o,
    size_t w, size_t nw, const char *tmp)
{
	struct cli_out out;
	json_t *job;
	char sub[32];
	size_t i;
	int rc = 0;

	if (freopen(tmp, "w", stdout) == NULL)
		return mls_error_set_errno(MLS_EIO, "%s", tmp);
	cli_out_init(&out, CLI_FMT_JSONL, NULL);
	json_array_foreach(jobs, i, job) {
		if (i % nw != w)
			continue;
		snprintf(sub, sizeof(sub), "member-%04lld", mls_record_int(
		    json_object_get(job, "params"), "member", 0));
		if ((rc = fetch_one(st, job, o, sub, &out)) < 0)
			break;
	}
	if (fclose(stdout) == EOF && rc == 0)
		rc = mls_error_set_errno(MLS_EIO, "%s", tmp);
	return rc;
}

/*
 * mls-fetch ENSEMBLE -o DIR: every succeeded member's files into
 * DIR/member-NNNN/, a few members at a time (one process each), then
 * DIR/manifest.json with the members' params, metrics and digests.
 */
static int
fetch_ensemble(const struct mls_config *cfg, struct mls_store *st,
    struct mls_tracker *tr, const char *prefix, const struct opts *o,
    struct cli_out *out)
{
	struct mls_buf dir = MLS_BUF_INIT, tmp = MLS_BUF_INIT;
	json_t *ens = NULL, *jobs = NULL, *arts = NULL, *man = NULL, *mems, *job, *a;
	pid_t pids[ENSEMBLE_WORKERS];
	size_t nw, w, i, k;
	int rc, status, failed = 0;

	if ((rc = cli_ensemble_load(cfg, prefix, &ens, &jobs)) < 0)
		return rc;
	if ((rc = mls_tracker_poll(tr, jobs)) < 0)
		goto out;
	mls_buf_adds(&dir, o->outdir ? o->outdir : ".");
	while (dir.len > 1 && dir.buf[dir.len - 1] == '/')
		dir.buf[--dir.len] = '\0';
	if ((rc = mls_buf_error(&dir)) < 0 || (rc = mls_mkdirs(dir.buf, 0755)) < 0)
		goto out;
	nw = json_array_size(jobs) < ENSEMBLE_WORKERS ? json_array_size(jobs) :
	    ENSEMBLE_WORKERS;
	fflush(stdout);
	for (w = 0; w < nw; w++) {
		mls_buf_reset(&tmp);
		mls_buf_addf(&tmp, "%s/.mls-fetch-%zu.jsonl", dir.buf, w);
		if ((rc = mls_buf_error(&tmp)) < 0)
			goto out;
		if ((pids[w] = fork()) == -1) {
			rc = mls_error_set_errno(MLS_ERR, "fork");
			nw = w;
			break;
		}
		if (pids[w] == 0) {
			rc = ensemble_worker(st, jobs, o, w, nw, tmp.buf);
			if (rc < 0)
				warnx("%s", mls_error_last());
			_exit(cli_exit_code(rc));
		}
	}
	for (w = 0; w < nw; w++)
		if (waitpid(pids[w], &status, 0) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			failed = 1;
	if (rc < 0)
		goto out;
	/* The workers' artifact records, grouped by job. */
	arts = json_object();
	for (w = 0; w < nw; w++) {
		json_t *recs = NULL;
		mls_buf_reset(&tmp);
		mls_buf_addf(&tmp, "%s/.mls-fetch-%zu.jsonl", dir.buf, w);
		if (mls_jsonl_load_file(tmp.buf, &recs) == 0) {
			json_array_foreach(recs, i, a) {
				const char *j = mls_record_str(a, "job");
				json_t *l = json_object_get(arts, j);
				if (l == NULL) {
					l = json_array();
					json_object_set_new(arts, j, l);
				}
				json_array_append(l, a);
			}
		} else {
			mls_error_clear();
		}
		json_decref(recs);
		unlink(tmp.buf);
	}
	if (failed) {
		rc = mls_error_set(MLS_EIO, "ensemble %s: some members could not be "
		    "fetched", mls_record_id(ens));
		goto out;
	}
	mems = json_array();
	man = json_pack("{s:s,s:s,s:O,s:O,s:O,s:o}", "kind", "manifest",
	    "ensemble", mls_record_id(ens), "state", json_object_get(ens, "state"),
	    "quorum", json_object_get(ens, "quorum"),
	    "summary", json_object_get(ens, "summary"), "members", mems);
	json_array_foreach(jobs, i, job) {
		long long mn = mls_record_int(json_object_get(job, "params"), "member", 0);
		json_t *files = json_object(), *l = json_object_get(arts, mls_record_id(job));
		char sub[32];
		snprintf(sub, sizeof(sub), "member-%04lld", mn);
		json_array_foreach(l, k, a) {
			json_object_set(files, mls_record_str(a, "name"),
			    json_object_get(a, "digest"));
			if (cli_out_record(out, a) < 0) {
				json_decref(files);
				rc = mls_error_set_errno(MLS_EIO, "stdout");
				goto out;
			}
		}
		json_array_append_new(mems, json_pack("{s:I,s:s,s:s,s:O,s:O,s:O,s:o}",
		    "member", (json_int_t)mn, "dir", sub, "job", mls_record_id(job),
		    "params", json_object_get(job, "params"),
		    "metrics", json_object_get(job, "metrics") ?
		    json_object_get(job, "metrics") : json_null(),
		    "outputs", json_object_get(job, "outputs") ?
		    json_object_get(job, "outputs") : json_null(),
		    "files", files));
	}
	mls_buf_reset(&tmp);
	mls_buf_addf(&tmp, "%s/manifest.json", dir.buf);
	if ((rc = mls_buf_error(&tmp)) < 0)
		goto out;
	{
		char *text = json_dumps(man, MLS_JSON_PRETTY);
		struct mls_buf b = MLS_BUF_INIT;
		if (text == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
		mls_buf_addf(&b, "%s\n", text);
		free(text);
		if ((rc = mls_buf_error(&b)) == 0)
			rc = mls_write_atomic(tmp.buf, b.buf, b.len, 1);
		mls_buf_release(&b);
		if (rc < 0)
			goto out;
	}
	if (strcmp(mls_record_str(ens, "state"), "finished") != 0)
		warnx("ensemble %s is %s: fetched its %zu succeeded members",
		    mls_record_id(ens), mls_record_str(ens, "state"),
		    json_array_size(jobs));
	rc = 0;
out:
	mls_buf_release(&dir);
	mls_buf_release(&tmp);
	json_decref(ens);
	json_decref(jobs);
	json_decref(arts);
	json_decref(man);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct opts o = { .jobs = 4 };
	struct mls_store_get *g = NULL;
	char **strs = NULL;
	struct mls_config cfg = { 0 };
	struct mls_store *st = NULL;
	struct mls_tracker *tr = NULL;
	struct mls_jsonl_reader in;
	struct mls_registry_match m;
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
	o.lim.max_bytes = cfg.extract_max_size;
	o.lim.max_entries = cfg.extract_max_files;
	o.lim.max_ratio = cfg.extract_max_ratio;
	if ((rc = mls_store_open(&st, &cfg, NULL)) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());
	if ((rc = mls_tracker_new(&tr, &cfg, st)) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());

	jobs = json_array();
	for (i = 0; i < argc; i++) {
		if ((rc = mls_registry_lookup(&cfg, MLS_ID_ANY, argv[i], &m)) < 0) {
			warnx("%s", mls_error_last());
			if (ex == EX_OK)
				ex = cli_exit_code(rc);
			if (o.keep_going)
				continue;
			goto done;
		}
		if (m.kind == MLS_ID_ENSEMBLE && argc == 1) {
			/* Ensembles: one directory per member and a manifest. */
			cli_out_init(&out, o.fmt, "job,name,size,path");
			if ((rc = fetch_ensemble(&cfg, st, tr, m.id, &o, &out)) < 0) {
				warnx("%s", mls_error_last());
				ex = cli_exit_code(rc);
			}
			if (cli_out_finish(&out) < 0) {
				warn("stdout");
				ex = EX_IOERR;
			}
			mls_registry_match_release(&m);
			goto done;
		}
		if (m.kind != MLS_ID_JOB) {
			rc = cli_campaign_jobs(&cfg, m.id, o.best, jobs);
			mls_registry_match_release(&m);
			if (rc < 0) {
				warnx("%s", mls_error_last());
				ex = cli_exit_code(rc);
				goto done;
			}
			continue;
		}
		json_array_append(jobs, m.job);
		mls_registry_match_release(&m);
	}
	if (argc == 0 && cli_stdin_has_input()) {
		mls_jsonl_reader_init(&in, stdin, "<stdin>");
		while ((more = mls_jsonl_read(&in, &rec)) > 0) {
			if (!mls_track_is_job(rec)) {
				json_decref(rec);	/* other records are not fetched */
				continue;
			}
			/* As mls-status: a bad job record is 65, never skipped quietly. */
			if ((rc = mls_record_check(rec, NULL)) < 0) {
				warnx("<stdin>:%lu: %s", in.lineno, mls_error_last());
				json_decref(rec);
				if (ex == EX_OK)
					ex = cli_exit_code(rc);
				if (o.keep_going)
					continue;
				mls_jsonl_reader_release(&in);
				goto done;
			}
			json_array_append_new(jobs, rec);
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
	g = calloc(json_array_size(jobs) * NFILES + 1, sizeof(*g));
	strs = calloc(2 * json_array_size(jobs) * NFILES + 1, sizeof(*strs));
	if (g == NULL || strs == NULL)
		errx(EX_SOFTWARE, "out of memory");
	if ((rc = fetch_all(st, jobs, &o, g, strs)) < 0) {
		warnx("%s", mls_error_last());
		ex = cli_exit_code(rc);
		goto done;
	}
	cli_out_init(&out, o.fmt, "job,name,size,path");
	json_array_foreach(jobs, k, rec) {
		o.pre = g + k * NFILES;
		if ((rc = fetch_one(st, rec, &o, NULL, &out)) < 0) {
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
	if (g != NULL)
		mls_store_get_release(g, json_array_size(jobs) * NFILES);
	for (k = 0; strs != NULL && strs[k] != NULL; k++)
		free(strs[k]);
	free(strs);
	free(g);
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
