/*
 * cli_control.c - managing campaigns from the shell: one driver per
 * campaign (the lock), the list of campaigns, waiting on one, stopping
 * and cancelling it, and the log of a job or trial.
 */
#include "config.h"

#include <dirent.h>
#include <err.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "cli.h"
#include "mls_alloc.h"
#include "mls_buf.h"
#include "mls_campaign.h"
#include "mls_config.h"
#include "mls_ensemble.h"
#include "mls_error.h"
#include "mls_job.h"
#include "mls_lock.h"
#include "mls_record.h"
#include "mls_registry.h"
#include "mls_store.h"
#include "mls_time.h"
#include "mls_track.h"

int
cli_stop_status(void)
{
	return cli_stop > 0 ? 128 + (int)cli_stop : EX_INTERRUPTED;
}

static char *
campaign_dir(const struct mls_config *cfg, const char *id)
{
	char *dir = NULL;
	int rc;

	if ((rc = mls_campaign_dir(cfg, id, &dir)) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());
	return dir;
}

static const char *
kind_word(const char *id)
{
	return id[0] == 'e' ? "ensemble" : "campaign";
}

/* ---- one driver per campaign --------------------------------------- */

int
cli_driver_lock(const struct mls_config *cfg, const char *id)
{
	struct mls_driver h;
	char *dir = campaign_dir(cfg, id);
	int fd = -1, rc;

	rc = mls_driver_lock(dir, 0, &fd, &h);
	free(dir);
	if (rc < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());
	if (rc == 0)
		return fd;
	if (h.pid > 0)
		errx(EX_TEMPFAIL, "%s '%s': a driver runs it already: pid %ld on %s "
		    "since %s (stop it with: mls-status --stop %s)", kind_word(id), id,
		    h.pid, h.host[0] ? h.host : "an unknown host",
		    h.since[0] ? h.since : "an unknown time", id);
	errx(EX_TEMPFAIL, "%s '%s': another driver is starting it", kind_word(id), id);
}

void
cli_driver_forked(const struct mls_config *cfg, const char *id)
{
	char *dir = campaign_dir(cfg, id);

	if (mls_driver_pidfile_write(dir) < 0)
		warnx("%s", mls_error_last());
	free(dir);
}

void
cli_driver_unlock(const struct mls_config *cfg, const char *id, int fd)
{
	char *dir;

	if (fd < 0)
		return;
	dir = campaign_dir(cfg, id);
	mls_driver_unlock(dir, fd);
	free(dir);
}

/*
 * Campaign id's record and trials (new references), its state corrected:
 * a journal that has not ended with no driver holding the lock is
 * "interrupted" (the driver died).  The lock is probed before the
 * journal is read, so a driver that ends in between is seen ended.
 * *driver (may be NULL) is set to 1 when a driver runs it.
 */
int
cli_campaign_load_live(const struct mls_config *cfg, const char *id,
    json_t **camp, json_t **trials, int *driver)
{
	struct mls_driver h;
	char *dir = campaign_dir(cfg, id);
	int rc, running;

	running = mls_driver_probe(dir, &h);
	free(dir);
	if (running < 0)
		return running;
	if ((rc = mls_campaign_load(cfg, id, camp, trials)) < 0)
		return rc;
	if (!running && strcmp(mls_record_str(*camp, "state"), "running") == 0)
		json_object_set_new(*camp, "state", json_string("interrupted"));
	if (driver != NULL)
		*driver = running;
	return 0;
}

/* ---- the list ------------------------------------------------------- */

static int
cmp_rows(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	const char *sx = mls_record_str(x, "started"), *sy = mls_record_str(y, "started");
	int c = strcmp(sy ? sy : "", sx ? sx : "");

	return c != 0 ? c : strcmp(mls_record_id(y), mls_record_id(x));
}

/* The list row of a campaign or ensemble (new reference). */
static json_t *
list_row(const json_t *camp, const json_t *trials)
{
	const json_t *counts = json_object_get(camp, "counts"), *best, *s;
	json_t *row, *sites = json_array(), *ens = NULL;
	long long done, total;
	size_t i;

	json_array_foreach(json_object_get(camp, "sites"), i, s)
		json_array_append_new(sites, json_string(mls_record_str(s, "name")));
	done = mls_record_int(counts, "succeeded", 0) + mls_record_int(counts,
	    "failed", 0) + mls_record_int(counts, "pruned", 0) +
	    mls_record_int(counts, "cancelled", 0);
	total = mls_record_int(json_object_get(camp, "budget"), "trials", 0);
	best = json_object_get(json_object_get(camp, "best"), "value");
	if (strcmp(mls_record_str(camp, "kind"), "ensemble") == 0 &&
	    mls_ensemble_record(camp, trials, &ens) == 0) {
		const json_t *q = json_object_get(ens, "quorum");
		done = mls_record_int(q, "succeeded", 0) + mls_record_int(q, "failed", 0);
		total = mls_record_int(q, "members", 0);
		best = NULL;
	}
	row = json_pack("{s:s,s:s,s:o,s:s,s:I,s:o,s:o,s:o,s:o}",
	    "kind", mls_record_str(camp, "kind"), "id", mls_record_id(camp),
	    "name", mls_record_str(camp, "name") ? json_string(mls_record_str(camp,
	    "name")) : json_null(), "state", mls_record_str(ens ? ens : camp, "state"),
	    "done", (json_int_t)done,
	    "total", total > 0 ? json_integer(total) : json_null(),
	    "best", best ? json_deep_copy(best) : json_null(),
	    "started", mls_record_str(camp, "started") ? json_string(mls_record_str(camp,
	    "started")) : json_null(), "sites", sites);
	json_decref(ens);
	return row;
}

/* The table form of a row: done/total, the sites joined. */
static json_t *
table_row(const json_t *row)
{
	json_t *t = json_deep_copy(row);
	struct mls_buf b = MLS_BUF_INIT;
	const json_t *s;
	size_t i;

	mls_buf_addf(&b, "%lld", mls_record_int(row, "done", 0));
	if (mls_record_int(row, "total", 0) > 0)
		mls_buf_addf(&b, "/%lld", mls_record_int(row, "total", 0));
	json_object_set_new(t, "done", json_string(b.buf));
	mls_buf_reset(&b);
	json_array_foreach(json_object_get(row, "sites"), i, s)
		mls_buf_addf(&b, "%s%s", i ? "," : "", json_string_value(s));
	json_object_set_new(t, "sites", json_string(b.buf));
	mls_buf_release(&b);
	return t;
}

int
cli_campaign_list(const struct mls_config *cfg, enum cli_format fmt, long count)
{
	struct mls_buf path = MLS_BUF_INIT;
	json_t **rows = NULL, *camp, *trials;
	size_t n = 0, cap = 0, i;
	struct cli_out out;
	struct dirent *de;
	int ex = EX_OK;
	DIR *d;

	mls_buf_addf(&path, "%s/campaigns", cfg->data_home);
	if (mls_buf_error(&path) < 0)
		errx(EX_SOFTWARE, "out of memory");
	d = opendir(path.buf);
	mls_buf_release(&path);
	while (d != NULL && (de = readdir(d)) != NULL) {
		const char *id = de->d_name;
		if ((id[0] != 'c' && id[0] != 'e') || id[1] != '-')
			continue;
		if (cli_campaign_load_live(cfg, id, &camp, &trials, NULL) < 0) {
			/* one broken journal hides only itself */
			if (cli_verbosity > 0)
				warnx("%s", mls_error_last());
			continue;
		}
		if (MLS_GROW(rows, cap, n + 1) < 0)
			errx(EX_SOFTWARE, "%s", mls_error_last());
		if ((rows[n] = list_row(camp, trials)) != NULL)
			n++;
		json_decref(camp);
		json_decref(trials);
	}
	if (d != NULL)
		closedir(d);
	if (n > 1)
		qsort(rows, n, sizeof(*rows), cmp_rows);
	fmt = cli_resolve_format(fmt);
	cli_out_init(&out, fmt, "id,name,kind,state,done,best,started,sites");
	for (i = 0; i < n; i++) {
		if (count <= 0 || (long)i < count) {
			json_t *r = fmt == CLI_FMT_TABLE ? table_row(rows[i]) :
			    json_incref(rows[i]);
			if (cli_out_record(&out, r) < 0)
				ex = EX_IOERR;
			json_decref(r);
		}
		json_decref(rows[i]);
	}
	free(rows);
	if (cli_out_finish(&out) < 0)
		ex = EX_IOERR;
	return ex;
}

/* ---- stop and cancel ------------------------------------------------ */

int
cli_campaign_control(const struct mls_config *cfg, struct mls_tracker *tr,
    const char *id, enum mls_campaign_ctl ctl)
{
	const char *verb = ctl == MLS_CAMPAIGN_CANCEL ? "cancel" : "stop";
	struct mls_driver h;
	char *dir = campaign_dir(cfg, id);
	int fd = -1, rc;

	rc = mls_driver_lock(dir, MLS_DRIVER_NO_PIDFILE, &fd, &h);
	if (rc == 0) {
		/* no driver: stopped in the journal, under the lock */
		rc = mls_campaign_stop_journal(cfg, tr, id, ctl);
		mls_driver_unlock(dir, fd);
		if (rc == 1 && cli_verbosity >= 0)
			warnx("%s '%s' has ended already", kind_word(id), id);
		else if (rc == 0 && cli_verbosity >= 0)
			warnx("%s '%s': no driver runs it; %s in its journal%s",
			    kind_word(id), id, ctl == MLS_CAMPAIGN_CANCEL ? "cancelled" :
			    "stopped", ctl == MLS_CAMPAIGN_CANCEL ?
			    ", its jobs in flight cancelled" : "");
	} else if (rc == 1) {
		/* a driver: asked through the control file, read every round */
		rc = mls_campaign_control_set(cfg, id, ctl);
		if (rc == 0 && cli_verbosity >= 0) {
			if (h.pid > 0)
				warnx("%s '%s': asked its driver (pid %ld on %s) to %s",
				    kind_word(id), id, h.pid, h.host, verb);
			else
				warnx("%s '%s': asked its driver to %s", kind_word(id),
				    id, verb);
		}
	}
	free(dir);
	if (rc < 0) {
		warnx("%s", mls_error_last());
		return cli_exit_code(rc);
	}
	return EX_OK;
}

/* ---- wait ----------------------------------------------------------- */

/* 0: ended with a best trial (an ensemble: quorum reached); 1 otherwise. */
static int
outcome(const json_t *camp, const json_t *trials)
{
	const char *state = mls_record_str(camp, "state");
	json_t *ens = NULL;
	int ok;

	if (strcmp(mls_record_str(camp, "kind"), "ensemble") == 0) {
		if (mls_ensemble_record(camp, trials, &ens) < 0)
			return EX_WORKFAILED;
		ok = strcmp(mls_record_str(json_object_get(ens, "quorum"), "outcome") ?
		    mls_record_str(json_object_get(ens, "quorum"), "outcome") : "",
		    "reached") == 0;
		json_decref(ens);
		return ok ? EX_OK : EX_WORKFAILED;
	}
	if (strcmp(state, "finished") != 0 && strcmp(state, "stopped") != 0 &&
	    strcmp(state, "cancelled") != 0)
		return EX_WORKFAILED;
	return json_is_object(json_object_get(camp, "best")) ? EX_OK : EX_WORKFAILED;
}

static void
print_record(const struct mls_config *cfg, struct mls_store *st,
    struct mls_tracker *tr, const char *id, const json_t *camp,
    const json_t *trials, enum cli_format fmt)
{
	json_t *rec = NULL;
	char *cid = (char *)id;

	if (fmt == CLI_FMT_TABLE) {
		(void)cli_campaign_status(cfg, st, tr, 1, &cid, CLI_FMT_TABLE, 0);
		return;
	}
	if (strcmp(mls_record_str(camp, "kind"), "ensemble") != 0 ||
	    mls_ensemble_record(camp, trials, &rec) < 0)
		rec = json_incref((json_t *)camp);
	if (fmt == CLI_FMT_JSON) {
		json_dumpf(rec, stdout, MLS_JSON_PRETTY);
		putchar('\n');
	} else {
		mls_jsonl_write(stdout, rec);
	}
	json_decref(rec);
}

int
cli_campaign_wait(const struct mls_config *cfg, struct mls_store *st,
    struct mls_tracker *tr, const char *id, enum cli_format fmt,
    double timeout, int cancel_on_exit)
{
	double t0 = mls_time_mono(), delay = 0.1;
	json_t *camp = NULL, *trials = NULL;
	int progress = cli_progress(), driver = 0, rc, ex;

	fmt = cli_resolve_format(fmt);
	for (;;) {
		if ((rc = cli_campaign_load_live(cfg, id, &camp, &trials, &driver)) < 0) {
			struct mls_driver h;
			char *dir = campaign_dir(cfg, id);
			/* a driver just detached has not written its journal yet */
			int running = mls_driver_probe(dir, &h);
			free(dir);
			if (running != 1 || cli_stop || (timeout >= 0 &&
			    mls_time_mono() - t0 >= timeout)) {
				warnx("%s", mls_error_last());
				return cli_exit_code(rc);
			}
			cli_sleep(delay);
			continue;
		}
		if (strcmp(mls_record_str(camp, "state"), "running") != 0)
			break;
		if (cli_stop || (timeout >= 0 && mls_time_mono() - t0 >= timeout))
			break;
		if (progress) {
			const json_t *c = json_object_get(camp, "counts");
			fprintf(stderr, "\r\033[K%s %s: %lld done, %lld running  %.0fs",
			    mls_record_str(camp, "kind"), id,
			    mls_record_int(c, "succeeded", 0) + mls_record_int(c,
			    "failed", 0) + mls_record_int(c, "pruned", 0) +
			    mls_record_int(c, "cancelled", 0),
			    mls_record_int(c, "running", 0), mls_time_mono() - t0);
			fflush(stderr);
		}
		json_decref(camp);
		json_decref(trials);
		camp = trials = NULL;
		cli_sleep(delay);
		if (delay < 1.0)
			delay *= 1.5;
	}
	if (progress)
		fputs("\r\033[K", stderr);
	if (strcmp(mls_record_str(camp, "state"), "running") == 0) {
		/* a signal or the timeout: the campaign goes on unless asked */
		ex = cli_stop ? cli_stop_status() : EX_TIMEOUT;
		if (cancel_on_exit) {
			(void)cli_campaign_control(cfg, tr, id, MLS_CAMPAIGN_CANCEL);
		} else if (cli_verbosity >= 0) {
			warnx("%s '%s' goes on running (mls-status --cancel %s ends it)",
			    kind_word(id), id, id);
		}
	} else {
		if (strcmp(mls_record_str(camp, "state"), "interrupted") == 0 &&
		    !driver && cli_verbosity >= 0)
			warnx("%s '%s': no driver runs it (resume it with: %s --resume %s)",
			    kind_word(id), id, id[0] == 'e' ? "mls-ensemble" : "mls-search",
			    id);
		ex = outcome(camp, trials);
	}
	print_record(cfg, st, tr, id, camp, trials, fmt);
	json_decref(camp);
	json_decref(trials);
	return ex;
}

void
cli_left_running(struct mls_tracker *tr, const json_t *jobs, int cancel)
{
	struct mls_buf ids = MLS_BUF_INIT;
	size_t i, n = 0;
	json_t *rec;

	json_array_foreach(jobs, i, rec) {
		if (!mls_track_is_job(rec) ||
		    mls_state_final(mls_state_parse(mls_record_str(rec, "state"))))
			continue;
		if (cancel && mls_tracker_cancel(tr, rec) < 0) {
			warnx("%s: %s", mls_record_id(rec), mls_error_last());
			continue;
		}
		mls_buf_addf(&ids, " %s", mls_record_id(rec));
		n++;
	}
	if (n > 0 && mls_buf_error(&ids) == 0)
		warnx("%s %zu job%s:%s", cancel ? "cancelled" : "left running", n,
		    n == 1 ? "" : "s", ids.buf);
	mls_buf_release(&ids);
}

/* ---- logs ----------------------------------------------------------- */

/* The last `lines` lines of b (all when lines <= 0). */
static const char *
tail(const struct mls_buf *b, long lines)
{
	const char *p = b->buf + b->len;
	long n = 0;

	if (lines <= 0)
		return b->buf;
	if (p > b->buf && p[-1] == '\n')
		p--;
	while (p > b->buf) {
		if (p[-1] == '\n' && ++n == lines)
			break;
		p--;
	}
	return p;
}

int
cli_job_log(const struct mls_config *cfg, struct mls_store *st, const char *prefix,
    int with_stdout, long lines)
{
	enum mls_job_file files[2] = { MLS_JOB_STDOUT, MLS_JOB_STDERR };
	struct mls_registry_match m;
	struct mls_buf b = MLS_BUF_INIT;
	int rc, i, shown = 0;

	if ((rc = mls_registry_lookup(cfg, MLS_ID_JOB, prefix, &m)) < 0) {
		warnx("%s", mls_error_last());
		return cli_exit_code(rc);
	}
	for (i = with_stdout ? 0 : 1; i < 2; i++) {
		const char *t;
		mls_buf_reset(&b);
		if ((rc = mls_job_get(st, m.id, files[i], &b, 0)) < 0) {
			warnx("%s", mls_error_last());
			break;
		}
		if (rc == 0) {
			if (cli_verbosity >= 0)
				warnx("job '%s': no %s in the store (yet)", m.id,
				    mls_job_file_name(files[i]));
			continue;
		}
		if (with_stdout)
			printf("%s==> %s <==\n", shown++ ? "\n" : "",
			    mls_job_file_name(files[i]));
		t = tail(&b, lines);
		fwrite(t, 1, b.len - (size_t)(t - b.buf), stdout);
		if (b.len > 0 && b.buf[b.len - 1] != '\n')
			putchar('\n');
		rc = 0;
	}
	mls_buf_release(&b);
	mls_registry_match_release(&m);
	return rc < 0 ? cli_exit_code(rc) : EX_OK;
}
