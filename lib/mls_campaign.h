/*
 * mls_campaign.h - the event loop shared by mls-search and mls-ensemble.
 *
 * Keeps `parallel` trials in flight over one or more sites, asks a
 * generator (a sampler, or the member list of an ensemble) for the params
 * of each new trial, submits in batches, polls in batches, extracts the
 * objective, consults the pruner, honours budgets and a stop flag, and
 * journals every event before acting on it:
 *
 *   start      the campaign spec (first line)
 *   submit     a trial's job record, with its id as the idempotency key,
 *              written and fsynced BEFORE the job is sent to the site
 *   submitted  the site accepted it (site_id)
 *   state      a state change (running, ...)
 *   report     an intermediate value seen by the pruner
 *   prune      the pruner stopped the trial
 *   result     the final job record, state and objective value
 *   end        why the loop ended
 *
 * Replaying the journal (--resume) rebuilds the state: finished trials are
 * told to the generator again, running ones are re-attached (polled, not
 * submitted), and ones journalled as "submit" but never acknowledged are
 * submitted again under the same id, which the site adopts if it already
 * has it.  So no trial runs twice and the budget holds.
 */
#ifndef MLS_CAMPAIGN_H
#define MLS_CAMPAIGN_H

#include <signal.h>

#include <jansson.h>

#include "mls_config.h"
#include "mls_cspec.h"
#include "mls_pruner.h"
#include "mls_store.h"
#include "mls_track.h"

struct mls_campaign_gen {
	/*
	 * Params of trial number (new ref): 0; 1 when exhausted for good; 2
	 * when there is nothing to start now but there may be later (a retry
	 * that depends on trials in flight; never return 2 with none in
	 * flight); <0 on error.
	 */
	int	(*ask)(void *arg, long number, json_t **params);
	/* A replayed trial still in flight. */
	int	(*pending)(void *arg, long number, const json_t *params);
	/*
	 * A finished trial: state succeeded (value minimised), failed, pruned.
	 * 0; 1 when the outcome is decided and no trial in flight can change
	 * it: the loop cancels the trials in flight and ends (reason
	 * "decided"); <0 on error.
	 */
	int	(*tell)(void *arg, long number, const json_t *params,
		    const char *state, double value);
	void	*arg;
};

struct mls_campaign_progress {
	long	 total;		/* trials started so far */
	long	 succeeded, failed, pruned, cancelled, running, queued;
	long	 budget;	/* 0: unlimited */
	int	 have_best;
	double	 best;		/* in the objective's own sense (not negated) */
	long	 best_number;
	double	 started;	/* epoch seconds */
	double	 rate;		/* finished trials per second */
};

struct mls_campaign_replay;

struct mls_campaign_opts {
	/* "campaign" (trials) or "ensemble" (members); NULL: the spec's kind */
	const char	*kind;
	/*
	 * The spec (borrowed; lib/mls_cspec.h), journalled in its JSON form as
	 * the start event.  Its "objective" metric NULL: no objective, a trial
	 * that exits 0 succeeded.
	 */
	const struct mls_campaign_spec *cspec;
	/* Without cspec: the spec in its JSON form (read with mls_cspec_from_json). */
	json_t		*spec;
	int		 resume;	/* go on from the journal */
	/*
	 * With resume: the journal as mls_campaign_replay_open() read it (the
	 * run goes on from its state, reading the journal no more; free it
	 * after the run).  NULL: the run reads the journal itself.
	 */
	struct mls_campaign_replay *replay;
	/* When not NULL: the trial records at the end, by number (new ref). */
	json_t		**trials;
	int		 cancel_on_exit;
	volatile sig_atomic_t *stop;	/* set asynchronously to end the loop */
	/* A trial finished (its trial record, borrowed). */
	void		(*on_trial)(const json_t *trial, void *arg);
	void		(*on_progress)(const struct mls_campaign_progress *p, void *arg);
	void		*cb_arg;
};

/*
 * Run the campaign to its end (budget, exhausted generator, max failures,
 * timeout or stop).  The final campaign record is returned in *out (new
 * reference) whenever the loop ran, with "state": "finished", "failed"
 * (no successful trial, or max failures reached) or "interrupted".
 */
int	 mls_campaign_run(const struct mls_config *cfg, struct mls_store *st,
	    struct mls_tracker *tr, struct mls_campaign_gen *gen,
	    struct mls_pruner *pr, const struct mls_campaign_opts *o,
	    json_t **out);
/* DATA/campaigns/<id>/journal.jsonl (new string). */
int	 mls_campaign_journal_path(const struct mls_config *cfg, const char *id,
	    char **out);
/*
 * Read the journal of campaign id once: its spec, its trials and how it
 * ended (a torn last line is ignored).  Free with mls_campaign_replay_free().
 */
int	 mls_campaign_replay_open(struct mls_campaign_replay **out,
	    const struct mls_config *cfg, const char *id);
void	 mls_campaign_replay_free(struct mls_campaign_replay *r);
/*
 * The spec of the start event (borrowed from r).  A resume may raise its
 * budget, timeout and parallelism before it passes it to mls_campaign_run().
 */
struct mls_campaign_spec *mls_campaign_replay_spec(struct mls_campaign_replay *r);
/*
 * The campaign record and the trial records (may be NULL) of what r read,
 * or, after a run that went on from r, of that run (new references).
 */
int	 mls_campaign_replay_record(struct mls_campaign_replay *r,
	    json_t **campaign, json_t **trials);
/* The spec journalled by the start event of campaign id (new reference). */
int	 mls_campaign_load_spec(const struct mls_config *cfg, const char *id,
	    json_t **spec);
/*
 * Rebuild a campaign's view from its journal (one pass, as
 * mls_campaign_replay_open() + mls_campaign_replay_record()): the
 * campaign record (counts, best, "best_so_far" series) and its trial
 * records ordered by number.
 */
int	 mls_campaign_load(const struct mls_config *cfg, const char *id,
	    json_t **campaign, json_t **trials);

/*
 * Stop and cancel from another process (mls-status --stop/--cancel).  A
 * running driver reads DATA/campaigns/<id>/control every round: "stop"
 * starts no more trials and lets those in flight finish (state
 * "stopped"), "cancel" cancels those in flight too (state "cancelled");
 * the driver removes the file once it has journalled the end.  Either
 * state is resumable.  A campaign whose driver is dead is stopped in its
 * journal with mls_campaign_stop_journal().
 */
enum mls_campaign_ctl {
	MLS_CAMPAIGN_RUN = 0, MLS_CAMPAIGN_STOP, MLS_CAMPAIGN_CANCEL,
};
/* "run", "stop", "cancel" */
const char *mls_campaign_ctl_name(enum mls_campaign_ctl ctl);
/* DATA/campaigns/<id> (new string; not created). */
int	 mls_campaign_dir(const struct mls_config *cfg, const char *id, char **out);
/* Ask the driver of campaign id to stop or cancel (the control file). */
int	 mls_campaign_control_set(const struct mls_config *cfg, const char *id,
	    enum mls_campaign_ctl ctl);
/* What the control file asks (MLS_CAMPAIGN_RUN when there is none). */
int	 mls_campaign_control_get(const struct mls_config *cfg, const char *id,
	    enum mls_campaign_ctl *out);
/* Remove the control file (a resume overrides an earlier request). */
int	 mls_campaign_control_clear(const struct mls_config *cfg, const char *id);
/*
 * Stop (or cancel) a campaign that has no driver, in its journal: with
 * cancel its trials in flight are journalled as cancelled and cancelled
 * through tr; then the end event.  The caller holds the driver lock
 * (mls_lock.h).  0 done, 1 when the journal had ended already, <0 error.
 */
int	 mls_campaign_stop_journal(const struct mls_config *cfg,
	    struct mls_tracker *tr, const char *id, enum mls_campaign_ctl ctl);

#endif
