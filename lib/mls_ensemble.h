/*
 * mls_ensemble.h - ensembles: the member generator for the campaign loop,
 * seed derivation, the quorum, and the ensemble record with its per-metric
 * summary.
 *
 * An ensemble is a campaign (lib/mls_campaign.h) whose generator hands out
 * a fixed list of members.  Member j has the params
 *
 *   {"member": j, SEED_PARAM: seed_j, "fold": f_j, "attempt": a}
 *
 * (plus, for an ensemble made from a campaign's top K, the configuration's
 * own params and "config": its rank).  A member whose attempt failed is
 * asked again as a new trial (a new job, "attempt" + 1) up to "retries"
 * times.  The generator keeps no state of its own that the campaign journal
 * does not hold: replaying the journal (tell for finished trials, pending
 * for trials in flight) rebuilds it.
 *
 * The spec fields read (besides those of the campaign loop):
 *   "members"      the number of members, N (>= 1)
 *   "quorum"       members that must succeed (1..N)
 *   "retries"      extra attempts per member (>= 0)
 *   "seed"         the base seed; seed_j = mls_ensemble_seed(seed, j)
 *   "seed_param"   the params key of the seed (default "seed")
 *   "folds"        K: f_j = j mod K (default 1)
 *   "configs"      optional [{"params": {...}, "trial": n, "objective": v}]
 *   "per_config"   with "configs": members per configuration, M; member
 *                  j is configuration j / M with seed index j mod M, so
 *                  every configuration sees the same M seeds
 */
#ifndef MLS_ENSEMBLE_H
#define MLS_ENSEMBLE_H

#include <stddef.h>

#include <jansson.h>

#include "mls_campaign.h"
#include "mls_cspec.h"

struct mls_ensemble;

/* Where the ensemble stands. */
struct mls_ensemble_counts {
	long	members;	/* N */
	long	quorum;		/* members that must succeed */
	long	succeeded;
	long	failed;		/* failed for good: no retry left */
	long	retrying;	/* last attempt failed, a retry is due */
	long	running;	/* an attempt in flight */
	long	waiting;	/* never started */
	long	attempts;	/* attempts started in all */
};

enum mls_quorum {
	MLS_QUORUM_PENDING = 0,	/* may still be reached */
	MLS_QUORUM_REACHED,
	MLS_QUORUM_MISSED	/* cannot be reached anymore */
};

/* The seed of member (or seed index) j: splitmix64, in [0, 2^31). */
unsigned long long mls_ensemble_seed(unsigned long long base, unsigned long long j);

/*
 * Parse a --quorum value against n members: a fraction with a decimal
 * point ("0.95", "1.0": ceil(f * n), at least 1) or a count ("190").
 * MLS_EINPUT when it is neither, not positive, or above n.
 */
int	 mls_ensemble_quorum_parse(const char *s, long n, long *out);

/*
 * Generator state for the spec (borrowed; must outlive it).  MLS_EINPUT
 * naming the field when the ensemble fields are inconsistent
 * (mls_cspec_check_ensemble()).
 */
int	 mls_ensemble_new_spec(struct mls_ensemble **out,
	    const struct mls_campaign_spec *s);
/* The same from the spec's JSON form, or a campaign record of kind ensemble. */
int	 mls_ensemble_new(struct mls_ensemble **out, const json_t *spec);
void	 mls_ensemble_free(struct mls_ensemble *e);
/*
 * The campaign generator.  tell returns 1 when the outcome is decided and
 * no trial in flight can change it (the quorum was missed), which asks the
 * campaign loop to stop early.
 */
void	 mls_ensemble_gen(struct mls_ensemble *e, struct mls_campaign_gen *gen);
/*
 * Does every placeholder of the spec's command name a member's param (or
 * "attempt", "id")?  MLS_EINPUT naming the placeholder otherwise.
 */
int	 mls_ensemble_check_command(const struct mls_ensemble *e,
	    const struct mls_campaign_spec *s);
int	 mls_ensemble_ask(struct mls_ensemble *e, long number, json_t **params);
int	 mls_ensemble_pending(struct mls_ensemble *e, long number,
	    const json_t *params);
int	 mls_ensemble_tell(struct mls_ensemble *e, long number,
	    const json_t *params, const char *state);
/* Member j's params without "attempt" (new reference). */
int	 mls_ensemble_member_params(const struct mls_ensemble *e, long j,
	    json_t **params);
void	 mls_ensemble_counts(const struct mls_ensemble *e,
	    struct mls_ensemble_counts *c);
enum mls_quorum mls_ensemble_outcome(const struct mls_ensemble_counts *c);
const char	*mls_quorum_name(enum mls_quorum q);
/* Will member j be asked again (its last attempt failed, retries left)? */
int	 mls_ensemble_will_retry(const struct mls_ensemble *e, long j);
/*
 * 1 if attempt (from 1) of member j is followed by another: it has
 * started already, or will (mls_ensemble_will_retry()).
 */
int	 mls_ensemble_retried(const struct mls_ensemble *e, long j,
	    long attempt);

/* Mean, sample standard deviation (n - 1; 0 for one value), min, max. */
struct mls_stats {
	size_t	n;
	double	mean, std, min, max;
};
void	 mls_stats_compute(const double *v, size_t n, struct mls_stats *out);

/*
 * The ensemble record from a campaign record of kind "ensemble" and its
 * member (trial) records, as mls_campaign_load returns them: "members"
 * (each with params, state, attempts, metrics, outputs digest, reason),
 * "summary" (per metric: n, mean, std, min, max over succeeded members),
 * and "quorum" {required, members, succeeded, failed, outcome}.  "state"
 * becomes "finished" when the quorum was reached and "failed" when it was
 * missed; "interrupted" and "running" are kept.  New reference in *out.
 */
int	 mls_ensemble_record(const json_t *campaign, const json_t *trials,
	    json_t **out);

/*
 * The K best configurations of a campaign (record and trials as
 * mls_campaign_load returns them, ranked by mls_rank_trials()), as
 * "configs" for an ensemble spec: [{"params","trial","objective","job"}]
 * best first.  MLS_EINPUT when fewer than K trials rank.
 */
int	 mls_ensemble_top(const json_t *campaign, const json_t *trials, long k,
	    json_t **configs);

#endif
