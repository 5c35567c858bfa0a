/*
 * cli_campaign.c - the campaign views shared by mls-status and mls-fetch.
 */
#include "config.h"

#include <err.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "cli.h"
#include "mls_campaign.h"
#include "mls_ensemble.h"
#include "mls_error.h"
#include "mls_rank.h"
#include "mls_record.h"
#include "mls_registry.h"
#include "mls_track.h"

int
cli_campaign_jobs(const struct mls_config *cfg, const char *prefix, long k,
    json_t *jobs)
{
	json_t *camp = NULL, *trials = NULL, *r;
	char *id = NULL;
	int rc;

	if ((rc = mls_registry_resolve(cfg, "campaigns", prefix, &id)) < 0)
		return rc;
	if ((rc = mls_campaign_load(cfg, id, &camp, &trials)) < 0)
		goto out;
	if (k > 0) {
		if ((rc = mls_rank_trials(trials, mls_rank_goal(camp), (size_t)k,
		    &r)) < 0)
			goto out;
		json_array_extend(jobs, r);
		json_decref(r);
	} else {
		json_array_extend(jobs, trials);
	}
out:
	free(id);
	json_decref(camp);
	json_decref(trials);
	return rc;
}

int
cli_ensemble_load(const struct mls_config *cfg, const char *prefix, json_t **ens,
    json_t **jobs)
{
	json_t *camp = NULL, *trials = NULL, *m, *t;
	char *id = NULL;
	size_t i, k;
	int rc;

	*ens = NULL;
	*jobs = NULL;
	if ((rc = mls_registry_resolve(cfg, "campaigns", prefix, &id)) < 0)
		return rc;
	if ((rc = mls_campaign_load(cfg, id, &camp, &trials)) < 0)
		goto out;
	if (strcmp(mls_record_str(camp, "kind"), "ensemble") != 0) {
		rc = mls_error_set(MLS_EINPUT, "'%s': not an ensemble", id);
		goto out;
	}
	if ((rc = mls_ensemble_record(camp, trials, ens)) < 0)
		goto out;
	*jobs = json_array();
	/* The job of each succeeded member, tagged with its member number. */
	json_array_foreach(json_object_get(*ens, "members"), i, m) {
		const char *job = mls_record_str(m, "job");
		if (strcmp(mls_record_str(m, "state"), "succeeded") != 0 || job == NULL)
			continue;
		json_array_foreach(trials, k, t)
			if (strcmp(mls_record_id(t), job) == 0) {
				json_array_append(*jobs, t);
				break;
			}
	}
out:
	free(id);
	json_decref(camp);
	json_decref(trials);
	return rc;
}

static void
show_ensemble(const json_t *ens, int color)
{
	const json_t *q = json_object_get(ens, "quorum");
	const json_t *sum = json_object_get(ens, "summary"), *v, *m;
	const char *name;
	struct cli_out out;
	size_t i, nfail = 0;

	printf("%sensemble %s%s  %s", color ? "\033[1m" : "", mls_record_id(ens),
	    color ? "\033[0m" : "", mls_record_str(ens, "state"));
	if (mls_record_str(ens, "name") != NULL)
		printf("  %s", mls_record_str(ens, "name"));
	if (mls_record_str(ens, "from") != NULL)
		printf("  from %s", mls_record_str(ens, "from"));
	putchar('\n');
	printf("members: %lld of %lld succeeded, quorum %lld %s; %lld running, "
	    "%lld retrying, %lld waiting, %lld failed; %lld attempts\n",
	    mls_record_int(q, "succeeded", 0), mls_record_int(q, "members", 0),
	    mls_record_int(q, "required", 0), mls_record_str(q, "outcome"),
	    mls_record_int(q, "running", 0), mls_record_int(q, "retrying", 0),
	    mls_record_int(q, "waiting", 0), mls_record_int(q, "failed", 0),
	    mls_record_int(q, "attempts", 0));
	if (json_object_size(sum) > 0) {
		putchar('\n');
		cli_out_init(&out, CLI_FMT_TABLE, "metric,n,mean,std,min,max");
		json_object_foreach((json_t *)sum, name, v) {
			json_t *row = json_deep_copy(v);
			json_object_set_new(row, "metric", json_string(name));
			cli_out_record(&out, row);
			json_decref(row);
		}
		cli_out_finish(&out);
	}
	json_array_foreach(json_object_get(ens, "members"), i, m) {
		if (strcmp(mls_record_str(m, "state"), "failed") != 0)
			continue;
		if (nfail++ == 0)
			puts("\nfailed members:");
		if (nfail > 20) {
			puts("  ...");
			break;
		}
		printf("  member %lld (%zu attempts): %s\n", mls_record_int(m, "member", -1),
		    json_array_size(json_object_get(m, "attempts")),
		    mls_record_str(m, "reason") ? mls_record_str(m, "reason") : "failed");
	}
}

static void
sparkline(FILE *fp, const json_t *series, long total, int width)
{
	static const char *bars[] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
	double lo = INFINITY, hi = -INFINITY, *col;
	size_t i, ns = json_array_size(series);
	int c;

	if (ns == 0 || total <= 0)
		return;
	if ((col = calloc((size_t)width, sizeof(*col))) == NULL)
		return;
	for (c = 0; c < width; c++) {
		long upto = (long)((double)(c + 1) * (double)total / width);
		double v = NAN;
		for (i = 0; i < ns; i++) {
			json_t *p = json_array_get(series, i);
			if (json_integer_value(json_array_get(p, 0)) <= upto)
				v = json_number_value(json_array_get(p, 1));
		}
		col[c] = v;
		if (!isnan(v)) {
			lo = fmin(lo, v);
			hi = fmax(hi, v);
		}
	}
	for (c = 0; c < width; c++) {
		int k = 0;
		if (isnan(col[c])) {
			fputs(" ", fp);
			continue;
		}
		if (hi > lo)
			k = (int)lround((col[c] - lo) / (hi - lo) * 7);
		fputs(bars[k], fp);
	}
	free(col);
}

/* The failed trials with their reason (mls-status --log ID shows a log). */
static void
show_failed(const json_t *trials)
{
	size_t i, nfail = 0;
	const json_t *t;

	json_array_foreach(trials, i, t) {
		const char *state = mls_record_str(t, "state"), *why;
		if (state == NULL || (strcmp(state, "failed") != 0 &&
		    strcmp(state, "lost") != 0))
			continue;
		if (nfail++ == 0)
			puts("\nfailed trials (mls-status --log ID shows a log):");
		if (nfail > 20)
			continue;
		why = mls_record_str(t, "reason");
		printf("  trial %lld  %s  ", mls_record_int(t, "number", -1),
		    mls_record_id(t) ? mls_record_id(t) : "-");
		if (why != NULL)
			puts(why);
		else if (json_is_integer(json_object_get(t, "exit_code")))
			printf("exit code %lld\n", mls_record_int(t, "exit_code", 0));
		else
			puts(state);
	}
	if (nfail > 20)
		printf("  ... and %zu more\n", nfail - 20);
}

static void
show(const json_t *camp, const json_t *trials, int color)
{
	const json_t *counts = json_object_get(camp, "counts");
	const json_t *best = json_object_get(camp, "best");
	const json_t *obj = json_object_get(camp, "objective");
	struct cli_out out;
	json_t *rows;
	size_t i;

	printf("%s%s %s%s  %s  %s\n", color ? "\033[1m" : "",
	    mls_record_str(camp, "kind"), mls_record_id(camp), color ? "\033[0m" : "",
	    mls_record_str(camp, "state"), mls_record_str(camp, "algorithm") ?
	    mls_record_str(camp, "algorithm") : "");
	printf("trials: %lld total, %lld succeeded, %lld failed, %lld pruned, "
	    "%lld running, %lld queued",
	    mls_record_int(counts, "total", 0), mls_record_int(counts, "succeeded", 0),
	    mls_record_int(counts, "failed", 0), mls_record_int(counts, "pruned", 0),
	    mls_record_int(counts, "running", 0), mls_record_int(counts, "queued", 0));
	if (mls_record_int(json_object_get(camp, "budget"), "trials", 0) > 0)
		printf(" of %lld", mls_record_int(json_object_get(camp, "budget"), "trials", 0));
	putchar('\n');
	if (json_is_object(best)) {
		char *p = json_dumps(json_object_get(best, "params"), MLS_JSON_COMPACT);
		printf("best %s (%s): %.6g, trial %lld  %s\n", mls_record_str(obj, "metric"),
		    mls_record_str(obj, "goal"), mls_record_num(best, "value", NAN),
		    mls_record_int(best, "number", -1), p ? p : "");
		free(p);
		fputs("best so far: ", stdout);
		sparkline(stdout, json_object_get(camp, "best_so_far"),
		    (long)mls_record_int(counts, "total", 0), 40);
		putchar('\n');
	}
	putchar('\n');
	if (mls_rank_trials(trials, mls_rank_goal(camp), 10, &rows) < 0) {
		warnx("%s", mls_error_last());
		return;
	}
	if (json_array_size(rows) > 0) {
		cli_out_init(&out, CLI_FMT_TABLE, "number,objective,state,id,params");
		for (i = 0; i < json_array_size(rows); i++)
			cli_out_record(&out, json_array_get(rows, i));
		cli_out_finish(&out);
	}
	json_decref(rows);
	show_failed(trials);
}

int
cli_campaign_status(const struct mls_config *cfg, struct mls_store *st,
    struct mls_tracker *t, int argc, char *argv[], enum cli_format fmt, int watch)
{
	json_t *camp = NULL, *trials = NULL;
	int ex = EX_OK, rc, i;
	char *id = NULL;
	size_t k;

	(void)st;
	fmt = cli_resolve_format(fmt);
	for (i = 0; i < argc; i++) {
		for (;;) {
			if ((rc = mls_registry_resolve(cfg, "campaigns", argv[i], &id)) < 0 ||
			    (rc = cli_campaign_load_live(cfg, id, &camp, &trials,
			    NULL)) < 0) {
				warnx("%s", mls_error_last());
				free(id);
				return cli_exit_code(rc);
			}
			/* Trials still in flight: ask their sites. */
			if (strcmp(mls_record_str(camp, "state"), "running") == 0)
				(void)mls_tracker_poll(t, trials);
			if (watch && fmt == CLI_FMT_TABLE)
				fputs("\033[H\033[2J", stdout);
			if (strcmp(mls_record_str(camp, "kind"), "ensemble") == 0) {
				/* An ensemble: members and the quorum, not a best trial. */
				json_t *ens = NULL;
				if ((rc = mls_ensemble_record(camp, trials, &ens)) < 0) {
					warnx("%s", mls_error_last());
					free(id);
					json_decref(camp);
					json_decref(trials);
					return cli_exit_code(rc);
				}
				json_decref(camp);
				camp = ens;
				if (fmt == CLI_FMT_TABLE) {
					show_ensemble(camp, cli_color(stdout));
				} else if (fmt == CLI_FMT_JSON) {
					json_dumpf(camp, stdout, MLS_JSON_PRETTY);
					putchar('\n');
				} else {
					json_t *tr;
					json_array_foreach(trials, k, tr)
						mls_jsonl_write(stdout, tr);
					mls_jsonl_write(stdout, camp);
				}
			} else if (fmt == CLI_FMT_TABLE) {
				show(camp, trials, cli_color(stdout));
			} else if (fmt == CLI_FMT_JSON) {
				json_t *all = json_pack("{s:O,s:O}", "campaign", camp,
				    "trials", trials);
				json_dumpf(all, stdout, MLS_JSON_PRETTY);
				putchar('\n');
				json_decref(all);
			} else {
				json_t *tr;
				json_array_foreach(trials, k, tr)
					mls_jsonl_write(stdout, tr);
				mls_jsonl_write(stdout, camp);
			}
			fflush(stdout);
			if (!watch || strcmp(mls_record_str(camp, "state"), "running") != 0)
				break;
			json_decref(camp);
			json_decref(trials);
			free(id);
			id = NULL;
			cli_sleep(1.0);
		}
		if (strcmp(mls_record_str(camp, "state"), "failed") == 0)
			ex = EX_WORKFAILED;
		json_decref(camp);
		json_decref(trials);
		free(id);
		id = NULL;
		camp = trials = NULL;
	}
	return ex;
}
