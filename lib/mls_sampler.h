/*
 * mls_sampler.h - suggest hyperparameters: random, grid, sobol, tpe, exec:CMD.
 *
 * Every sampler is deterministic under its seed: the suggestion for trial
 * `number` depends only on the seed, the number and (tpe, exec) the trials
 * told so far, so a resumed campaign suggests what the first run would
 * have.  Objective values are minimised; the caller negates to maximise.
 *
 * tpe follows Optuna's TPESampler (gamma = min(ceil(0.1 n), 25), Parzen
 * estimators with a prior, magic-clipped bandwidths, 24 candidates drawn
 * from l scored by l/g, random startup, constant liar for pending trials),
 * with one change for speed: when the "above" group holds more than
 * max_above observations (default 256), g is estimated from an evenly
 * strided subsample of them (in trial order, with their age weights), so an
 * ask costs O(n) with a small constant instead of O(n * candidates).
 */
#ifndef MLS_SAMPLER_H
#define MLS_SAMPLER_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "mls_space.h"

struct mls_sampler;

/* algorithm: "random", "grid", "sobol", "tpe" or "exec:CMD" (else
 * MLS_EINPUT).  sp is borrowed and must outlive the sampler.  opts
 * (borrowed, may be NULL): {"multivariate":true (tpe: joint, else one
 * parameter at a time), "startup":10,
 * "candidates":24, "max_above":256, "parallel":1, "workdir":DIR,
 * "grid_points":5, "shuffle":false}. */
int	 mls_sampler_new(struct mls_sampler **out, const char *algorithm,
	    const struct mls_space *sp, unsigned long long seed,
	    const json_t *opts);
void	 mls_sampler_free(struct mls_sampler *s);

/* Suggest the params of trial number (new reference in *params).  0, or 1
 * when the sampler is exhausted (grid done, exec returned []), <0 on error.
 * The suggestion is recorded as pending. */
int	 mls_sampler_ask(struct mls_sampler *s, long number, json_t **params);
/* Record trial number (params borrowed) as pending (journal replay). */
int	 mls_sampler_pending(struct mls_sampler *s, long number,
	    const json_t *params);
/* Finish trial number: state "succeeded" with value, or "failed"/"pruned"
 * (value NaN, or the last intermediate value when pruned).  params may be
 * NULL when the trial was asked or pending.  Failed trials are kept out of
 * the model. */
int	 mls_sampler_tell(struct mls_sampler *s, long number,
	    const json_t *params, const char *state, double value);
/* Grid: the number of points; 0 for the other samplers. */
size_t	 mls_sampler_grid_size(const struct mls_sampler *s);

/* The ask-tell coprocess loop: writes `parallel` suggestions
 * {"kind":"params","number":n,"params":{...}} (one a line, flushed), then
 * for each input line {"number":n, "params":{...}, "value":x} (number or
 * params may be left out; "state":"failed"/"pruned" instead of or with a
 * value) tells and writes one new suggestion, until `trials` suggestions
 * were made (0: no limit) or the sampler is exhausted.  Returns 0 when the
 * input ends, or when no suggestion is left to make and none is pending.
 * A bad line is MLS_EINPUT naming "<stdin>:LINE". */
int	 mls_sampler_ask_tell(struct mls_sampler *s, FILE *in, FILE *out,
	    long parallel, long trials);

#endif
