/*
 * mls_site.h - where jobs run: a driver table per site type, batch-oriented.
 *
 * A job is a "job" record (json_t object, see mls(7)); drivers read the
 * fields they need and update "state", "site_id", "exit_code", "reason",
 * "started", "finished", "metrics" in place, keeping all other fields.
 *
 * The generic layer (mls_site.c) writes the job's spec into the store
 * before the driver starts the wrapper, and on poll takes the wrapper's
 * result.json in the store as the authority on the outcome; the driver's
 * own view is the fallback (queued/running, or why a job died unreported).
 */
#ifndef MLS_SITE_H
#define MLS_SITE_H

#include <stddef.h>

#include <jansson.h>

#include "mls_config.h"
#include "mls_job.h"
#include "mls_store.h"

struct mls_site;

struct mls_site_ops {
	const char	*type;
	/*
	 * The keys of its [site "NAME"] section besides type and grace,
	 * NULL-terminated: any other is warned of when the site opens.
	 */
	const char *const *keys;
	int	(*open)(struct mls_site *s);
	/* Start n jobs whose spec is already in the store. */
	int	(*submit)(struct mls_site *s, json_t **jobs, size_t n);
	/* Set "state" (+ "reason") of jobs that have no result.json yet. */
	int	(*poll)(struct mls_site *s, json_t **jobs, size_t n);
	int	(*cancel)(struct mls_site *s, json_t *job);
	void	(*close)(struct mls_site *s);
	/*
	 * Optional: a descriptor that becomes readable when a job of the
	 * site may have ended (the caller drains it), or -1 for none; sites
	 * without it are polled.
	 */
	int	(*wait_fd)(struct mls_site *s);
	/*
	 * With wait_fd: drain it, adding the ids of the jobs it named as
	 * keys of the object ids.  Such a site announces every job's end,
	 * so that a caller woken by it need poll only those jobs.
	 */
	void	(*drain)(struct mls_site *s, json_t *ids);
	/*
	 * Optional: 0 if the site runs this job without the wrapper, so
	 * that submit writes no jobs/ID/spec.sh for it.
	 */
	int	(*wants_spec)(struct mls_site *s, const json_t *job);
	/*
	 * 1: jobs run on this host and cannot outlive it, so their specs
	 * need no sync to disk before they start (a crash ends them too).
	 */
	int	 same_host;
};

struct mls_site {
	const struct mls_site_ops	*ops;
	char				*name;
	json_t				*conf;	/* the [site "NAME"] settings */
	const struct mls_config		*cfg;	/* borrowed */
	double				 grace_s; /* the grace setting (10) */
	struct mls_store		*store;	/* borrowed */
	void				*priv;	/* the driver's */
};

/*
 * Add a driver for sites of type ops->type (for tests, and for future
 * plug-in sites): ops must outlive every site opened with it; a built-in
 * type wins.  Not thread-safe: register before opening any site.
 */
int	 mls_site_register(const struct mls_site_ops *ops);

/* Open site NAME (NULL: the default site); cfg and st must outlive it. */
int	 mls_site_open(struct mls_site **out, const struct mls_config *cfg,
	    struct mls_store *st, const char *name);
void	 mls_site_free(struct mls_site *s);

/*
 * Submit n job records: write spec.sh and params.json to the store, then
 * start them.  On success each record has "site", "state" ("queued"),
 * "site_id" and "submitted".  A job whose id is already known to the site
 * (a resumed driver) is adopted, not started twice.
 */
int	 mls_site_submit(struct mls_site *s, json_t **jobs, size_t n);
/* Refresh n job records in place (one batch, not one call per job). */
int	 mls_site_poll(struct mls_site *s, json_t **jobs, size_t n);
/* Cancel one job: the stop marker in the store, then the site's own cancel. */
int	 mls_site_cancel(struct mls_site *s, json_t *job);

#endif
