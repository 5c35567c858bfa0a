/*
 * mls_pruner.h - early stopping on intermediate values (minimised).
 *
 * median: at step s a trial is pruned when its best value so far is worse
 *   than the median of the values other trials reported at step s (only
 *   trials that reached s count, and there must be at least startup_trials
 *   of them); no pruning before warmup_steps.
 * asha: rungs at min_resource * reduction_factor^k; when a trial reaches a
 *   rung its value is recorded there, and it is pruned unless the value is
 *   in the top 1/reduction_factor of the values recorded at that rung (the
 *   first value at a rung always passes), as Optuna's SuccessiveHalving.
 */
#ifndef MLS_PRUNER_H
#define MLS_PRUNER_H

#include <jansson.h>

struct mls_pruner;

/* kind "median" or "asha" (else MLS_EINPUT).  opts (borrowed, may be NULL):
 * median {"startup_trials":5, "warmup_steps":0};
 * asha {"min_resource":1, "reduction_factor":3}. */
int	 mls_pruner_new(struct mls_pruner **out, const char *kind,
	    const json_t *opts);
void	 mls_pruner_free(struct mls_pruner *p);
/* Report trial number's value at step: 1 when it should be pruned now,
 * 0 when it goes on, <0 on error (out of memory). */
int	 mls_pruner_report(struct mls_pruner *p, long number, long step,
	    double value);
/* The trial ended: its history stays for later comparisons. */
void	 mls_pruner_finish(struct mls_pruner *p, long number);

#endif
