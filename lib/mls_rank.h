/*
 * mls_rank.h - the one ranking of a campaign's trials ("the best K").
 *
 * Best first by objective for the campaign's goal; a tie goes to the
 * lower trial number; a NaN never ranks before a number.  Only trials
 * that succeeded with a numeric objective and were not pruned rank.
 * mls-fetch --best, the ten best of mls-status and mls-ensemble --from
 * --top all rank with this, so they pick the same trials.
 */
#ifndef MLS_RANK_H
#define MLS_RANK_H

#include <stddef.h>

#include <jansson.h>

enum mls_goal {
	MLS_GOAL_MIN = 0,
	MLS_GOAL_MAX
};

/* The goal of a campaign record: "objective": {"goal": "max"}, else min. */
enum mls_goal	 mls_rank_goal(const json_t *campaign);

/* An entry to rank. */
struct mls_rank_item {
	double	 value;		/* in the objective's own sense; NaN ranks last */
	long	 number;	/* the trial number: the lower wins a tie */
	size_t	 index;		/* the caller's (where the entry came from) */
};

/*
 * Sort v in place, best first for goal: by value (NaNs last), then by
 * number, then by index.  A total order, so the result does not depend
 * on what qsort does with equal elements.
 */
void	 mls_rank_sort(struct mls_rank_item *v, size_t n, enum mls_goal goal);

/*
 * The trials that rank among trials (records as mls_campaign_load returns
 * them: "state", "pruned", "objective", "number"), best first, at most k
 * of them (k == 0: all).  *out: a new array holding new references to the
 * records of trials.
 */
int	 mls_rank_trials(const json_t *trials, enum mls_goal goal, size_t k,
	    json_t **out);

#endif
