/*
 * mls_cspec.h - the typed spec of a campaign (mls-search) or an ensemble
 * (mls-ensemble).
 *
 * The tools fill a struct mls_campaign_spec from their options, the
 * campaign loop (lib/mls_campaign.c) and the ensemble generator
 * (lib/mls_ensemble.c) read its fields.  JSON is only its form in the
 * journal (the "spec" of the start event) and in the campaign record:
 * mls_cspec_from_json() and mls_cspec_to_json() are that edge, and
 * to_json(from_json(x)) gives x back for every spec the tools write.
 *
 * Fields whose value is the user's own data stay JSON objects: "env"
 * (names to strings, as given with -e) and the ensemble's "configs"
 * (params of a campaign's best trials).  Everything else is typed.
 */
#ifndef MLS_CSPEC_H
#define MLS_CSPEC_H

/* The most of any count in a spec (trials, parallel, members, retries). */
#define MLS_CSPEC_COUNT_MAX	1000000L

#include <stddef.h>

#include <jansson.h>

struct mls_space;

enum mls_cspec_kind {
	MLS_CSPEC_SEARCH = 0,	/* "campaign": mls-search */
	MLS_CSPEC_ENSEMBLE	/* "ensemble": mls-ensemble */
};

enum mls_reduce { MLS_REDUCE_LAST = 0, MLS_REDUCE_BEST, MLS_REDUCE_MEAN };

/* What a trial is judged by. */
struct mls_objective {
	char		*metric;	/* NULL: none, a trial that exits 0 succeeded */
	int		 goal_max;	/* 0: minimise, 1: maximise */
	enum mls_reduce	 reduce;	/* of the metric's values in MLS_METRICS */
	char		*regex;		/* --metric-regex on stdout, or NULL */
};

struct mls_cspec_site {
	char	*name;
	long	 cap;			/* 0: no cap of its own */
};

/* What each trial asks of its site; 0 means "not given" (JSON null). */
struct mls_resources {
	long		 cpus, gpus;
	long long	 mem_mb;
	long		 time_s;
};

struct mls_campaign_spec {
	enum mls_cspec_kind	 kind;
	char			*id;		/* "c-..." or "e-..." */
	char			*name;		/* NULL: none */
	unsigned long long	 seed;

	/* search */
	struct mls_space	*space;		/* owned */
	char			*algorithm;
	struct {
		int	 multivariate;
		long	 parallel;
		long	 startup;		/* 0: the sampler's default */
		char	*workdir;		/* NULL: none */
	} sampler;
	char			*prune;		/* "median", "asha" or NULL */
	struct {
		long	 min_resource;		/* asha; 0: the pruner's default */
		long	 reduction_factor;	/* asha; 0: the pruner's default */
	} prune_opts;

	/* ensemble */
	long			 members, quorum, retries, folds, per_config;
	char			*quorum_spec;	/* as given: "1.0", "0.9", "3" */
	char			*seed_param;
	json_t			*configs;	/* [{"params","trial","objective"}] or NULL */
	char			*from;		/* the campaign of the configs, or NULL */

	/* both */
	struct mls_objective	 objective;
	struct {
		long	 trials;		/* 0: unlimited */
		double	 timeout_s;		/* 0: none */
		long	 max_failures;		/* 0: unlimited */
	} budget;
	long			 parallel;
	struct mls_cspec_site	*sites;
	size_t			 nsites;
	char			**command;	/* argv, NULL-terminated */
	size_t			 ncommand;
	struct mls_resources	 resources;
	json_t			*env;		/* {"NAME": "value"}, never NULL after init */
	char			*sandbox;	/* NULL: none */
	char			*image;		/* NULL: none */
};

/* A spec with the defaults of kind (no id, no sites, no command). */
int	 mls_cspec_init(struct mls_campaign_spec *s, enum mls_cspec_kind kind);
/* Free what s owns and leave it initialised as kind search. */
void	 mls_cspec_release(struct mls_campaign_spec *s);

/*
 * Read a spec from its JSON form (as journalled) into s, which is
 * initialised here (release it even on error).  A missing field takes its
 * default; a field of the wrong type is MLS_EINPUT naming it, as
 * "campaign spec: field 'budget.trials': not an integer".
 */
int	 mls_cspec_from_json(struct mls_campaign_spec *s, const json_t *j);
/* The JSON form of s (new reference in *out). */
int	 mls_cspec_to_json(const struct mls_campaign_spec *s, json_t **out);
/*
 * Is s a spec the campaign loop can run?  MLS_EINPUT naming the first
 * field that is wrong: "campaign spec: field 'sites': empty".
 */
int	 mls_cspec_check(const struct mls_campaign_spec *s);
/*
 * The bounds only, for a spec read back from a journal whose generator is
 * not the spec's to name: the id, and every count and duration in range.
 */
int	 mls_cspec_check_bounds(const struct mls_campaign_spec *s);
/* The ensemble's own fields only (members, quorum, ...); check calls it. */
int	 mls_cspec_check_ensemble(const struct mls_campaign_spec *s);

/* "campaign" or "ensemble" (the "kind" of the spec and of its record). */
const char *mls_cspec_kind_name(enum mls_cspec_kind k);
const char *mls_reduce_name(enum mls_reduce r);
/* "last", "best", "mean"; MLS_EINPUT otherwise. */
int	 mls_reduce_parse(const char *s, enum mls_reduce *out);

/* Set the command to argv[0..argc) (copied). */
int	 mls_cspec_set_command(struct mls_campaign_spec *s, int argc,
	    char *const argv[]);
/* A seed drawn from a campaign id, when none was given (< 2^47). */
unsigned long long mls_cspec_id_seed(const char *id);
/* The sampler's options of a search spec (for mls_sampler_new; new ref). */
json_t	*mls_cspec_sampler_json(const struct mls_campaign_spec *s);
/* The pruner's options of a search spec (for mls_pruner_new; new ref). */
json_t	*mls_cspec_pruner_json(const struct mls_campaign_spec *s);
/* Append a site (name copied; cap 0: none of its own). */
int	 mls_cspec_add_site(struct mls_campaign_spec *s, const char *name,
	    long cap);
/* Replace *field with a copy of value (NULL allowed). */
int	 mls_cspec_set_str(char **field, const char *value);

/*
 * Parse an --objective value "METRIC[:min|max]" into o (its metric and
 * goal; reduce and regex are left alone).  Without ":GOAL" the goal is
 * default_goal ("min" or "max", or a word that starts with one, as space
 * files write "minimize"; NULL: "min").  MLS_EINPUT, o unchanged:
 * "goal 'x' is not min or max", "empty metric name".
 */
int	 mls_objective_parse(struct mls_objective *o, const char *s,
	    const char *default_goal);

#endif
