/*
 * mls_space.h - hyperparameter search spaces.
 *
 * A space is an ordered list of parameters.  Each has a type:
 *
 *   uniform:LOW:HIGH[:STEP]      real, LOW < HIGH            -> JSON real
 *   loguniform:LOW:HIGH[:STEP]   real, 0 < LOW < HIGH, log-uniform -> JSON real
 *   int:LOW:HIGH[:STEP]          integer, LOW <= HIGH        -> JSON integer
 *   intlog:LOW:HIGH              integer, 0 < LOW <= HIGH, log-uniform
 *   choice:A,B,C                 one of the values (numbers, true/false or strings)
 *   fixed:VALUE                  always VALUE
 *
 * A STEP quantizes the value to LOW + k*STEP (k = 0, 1, ..., never above HIGH).
 *
 * Files (JSON, or YAML when the name ends in .yaml/.yml) may be written in
 * three dialects, chosen per parameter by the keys it uses:
 *
 *   ours     {"lr": {"type": "loguniform", "low": 1e-5, "high": 0.1},
 *             "act": {"type": "choice", "values": ["relu", "gelu"]},
 *             "bs": {"type": "fixed", "value": 64}, "n": "int:1:8"}
 *   hpogrid  {"lr": {"method": "loguniform", "dimension": {"low": 1e-5, "high": 0.1}},
 *   (phpo)    "act": {"method": "categorical", "dimension": {"categories": [...]}}}
 *             methods: categorical, uniform, uniformint, quniform (q), loguniform,
 *             qloguniform (q), fixed; "base" is accepted and ignored (low/high are
 *             values, not exponents); normal/lognormal are refused.
 *             The map may also sit under "search_space", or under "dimension"
 *             next to a "method" (the algorithm).
 *   W&B      parameters: {lr: {distribution: log_uniform_values, min: .., max: ..}, ...}
 *             distributions: constant, categorical, uniform, int_uniform, q_uniform,
 *             log_uniform_values, q_log_uniform_values, log_uniform (min/max are
 *             natural-log exponents), inferred from values/value/min/max if absent.
 *
 * A top-level "parameters" map (with "method"/"metric" as in W&B sweeps, or
 * "algorithm"/"objective") is accepted by every dialect; those keys come back
 * in *meta as {"algorithm": "tpe"|"random"|"grid"|..., "objective":
 * {"metric": NAME, "goal": "minimize"|"maximize"}} (W&B "bayes" -> "tpe").
 */
#ifndef MLS_SPACE_H
#define MLS_SPACE_H

#include <stddef.h>

#include <jansson.h>

/*
 * The largest magnitude of an int or intlog bound or step: 2^53 - 1, below
 * which every integer is exact in a double (and in the sampler's int64).
 */
#define MLS_PARAM_INT_MAX	9007199254740991.0

enum mls_param_type {
	MLS_PARAM_UNIFORM = 0,
	MLS_PARAM_LOGUNIFORM,
	MLS_PARAM_INT,
	MLS_PARAM_INTLOG,
	MLS_PARAM_CHOICE,
	MLS_PARAM_FIXED,
};

/* A parameter, as seen by the samplers (read-only). */
struct mls_param {
	char			*name;
	enum mls_param_type	 type;
	double			 low, high;	/* numeric types */
	double			 step;		/* 0: not quantized (int: 1 by default) */
	json_t			*values;	/* choice: array; fixed: the value */
	size_t			 nvalues;	/* choice: number of values */
};

struct mls_space;

int	 mls_space_new(struct mls_space **out);
void	 mls_space_free(struct mls_space *sp);

/* Add "NAME=TYPE:ARGS"; errors read "-p 'SPEC': what is wrong". */
int	 mls_space_add_spec(struct mls_space *sp, const char *spec);

/* Load a JSON or YAML file (see above).  *meta (may be NULL) gets a new
 * reference, or NULL when the file names no algorithm or objective.
 * Errors name the file, the line for syntax errors, and the parameter. */
int	 mls_space_load_file(struct mls_space *sp, const char *path, json_t **meta);

/* Add the parameters of a parsed document (any dialect); name is used in
 * error messages.  *meta as for mls_space_load_file(). */
int	 mls_space_load_json(struct mls_space *sp, const json_t *doc,
	    const char *name, json_t **meta);

/* Our canonical dialect (new reference, NULL when out of memory). */
json_t	*mls_space_to_json(const struct mls_space *sp);
/* Add the parameters of mls_space_to_json() output (used by --resume). */
int	 mls_space_from_json(struct mls_space *sp, const json_t *j);

size_t	 mls_space_size(const struct mls_space *sp);
/* Parameter i (borrowed), NULL when out of range. */
const struct mls_param *mls_space_param(const struct mls_space *sp, size_t i);
/* Index of the parameter called name, or -1. */
long	 mls_space_find(const struct mls_space *sp, const char *name);

/* Check that params (an object) has a valid value for every parameter and
 * nothing else (fixed parameters may be left out).  MLS_EINPUT naming the
 * parameter otherwise. */
int	 mls_space_check(const struct mls_space *sp, const json_t *params);

/* The value of p at u in [0,1): uniform in the (log) range, quantized as p
 * says, or values[floor(u*n)] for choice.  New reference, NULL on ENOMEM. */
json_t	*mls_param_from_unit(const struct mls_param *p, double u);
/* Snap a raw number (in value space) onto p's range and lattice. */
double	 mls_param_snap(const struct mls_param *p, double x);
/* The JSON value for a snapped number of a numeric p (integer or real). */
json_t	*mls_param_number(const struct mls_param *p, double x);
/* Index of v among a choice's values, or -1 (numbers compare by value). */
long	 mls_param_choice_index(const struct mls_param *p, const json_t *v);

#endif
