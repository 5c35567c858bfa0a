/*
 * mls_track.h - refresh and cancel jobs spread over several sites.
 *
 * A tracker opens each site once (on first use) and polls jobs in one
 * batch per site, never one call per job.
 */
#ifndef MLS_TRACK_H
#define MLS_TRACK_H

#include <jansson.h>

#include "mls_config.h"
#include "mls_site.h"
#include "mls_store.h"

struct mls_tracker;

int	 mls_tracker_new(struct mls_tracker **out, const struct mls_config *cfg,
	    struct mls_store *st);
void	 mls_tracker_free(struct mls_tracker *t);
/* The open site NAME (NULL: the default site), opened on first use; borrowed. */
int	 mls_tracker_site(struct mls_tracker *t, const char *name,
	    struct mls_site **out);
/*
 * Refresh the job records of the array jobs in place (records already in a
 * final state are left alone); returns the number of records whose state
 * changed, or a negative code.
 */
int	 mls_tracker_poll(struct mls_tracker *t, json_t *jobs);
/*
 * Sleep up to timeout_s seconds, less when an open site says one of its
 * jobs may have ended (see wait_fd in mls_site.h): 1 if woken so, else 0.
 * changed (an object, or NULL) gets the ids of those jobs as keys.
 */
int	 mls_tracker_wait(struct mls_tracker *t, double timeout_s,
	    json_t *changed);
/* 1 if the open site name announces the end of every job (see drain). */
int	 mls_tracker_evented(struct mls_tracker *t, const char *name);
/* Cancel one job on its site, then refresh it. */
int	 mls_tracker_cancel(struct mls_tracker *t, json_t *job);
/* Counts of the states in jobs: out[enum mls_state]. */
void	 mls_track_count(const json_t *jobs, size_t out[7]);
/* Is rec a job-like record (job, trial or member)? */
int	 mls_track_is_job(const json_t *rec);

#endif
