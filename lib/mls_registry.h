/*
 * mls_registry.h - the local registry of submitted jobs and campaigns.
 *
 * Every tool that submits or refreshes a job writes its record to
 * DATA/registry/jobs/<id>.json (atomically), so that a later mls-status
 * with no input lists recent jobs, and short unique id prefixes resolve
 * like git's.  Campaign and ensemble ids resolve against DATA/campaigns/,
 * and the ids of their trials and members against their journals: every
 * id a tool prints resolves here, once for all the tools.
 */
#ifndef MLS_REGISTRY_H
#define MLS_REGISTRY_H

#include <stddef.h>

#include <jansson.h>

#include "mls_config.h"
#include "mls_store.h"
/* mls_write_atomic() moved there; kept for the callers that came here */
#include "mls_tempfile.h"

/* Write (or overwrite) the record of a job/trial/member. */
int	 mls_registry_put(const struct mls_config *cfg, const json_t *rec);

/* The kinds of ids, by the letter before the dash. */
enum mls_id_kind {
	MLS_ID_JOB = 1 << 0,		/* j-: a job, a trial or a member */
	MLS_ID_CAMPAIGN = 1 << 1,	/* c-: an mls-search campaign */
	MLS_ID_ENSEMBLE = 1 << 2,	/* e-: an ensemble */
};
#define MLS_ID_ANY	(MLS_ID_JOB | MLS_ID_CAMPAIGN | MLS_ID_ENSEMBLE)

struct mls_registry_match {
	char			*id;	/* the full id */
	enum mls_id_kind	 kind;
	json_t			*job;	/* a job's last known record, else NULL */
};

/*
 * Resolve an id, or a unique prefix of one, with or without its kind
 * prefix ("j-01kx", "01kx", "c-01kx"), among the ids of the kinds asked
 * for (MLS_ID_* or'ed; a kind prefix narrows them further): the jobs of
 * DATA/registry/jobs, the campaigns and ensembles of DATA/campaigns, and
 * the trials and members in their journals (read only when the prefix
 * could start one of their ids and no exact id was found before).  An
 * exact id wins over longer ones.  On success *out is filled (release it
 * with mls_registry_match_release()); MLS_EINPUT when prefix is not an
 * id, MLS_ENOTFOUND naming the kind, MLS_EAMBIG naming up to 5 candidates.
 */
int	 mls_registry_lookup(const struct mls_config *cfg, unsigned kinds,
	    const char *prefix, struct mls_registry_match *out);
void	 mls_registry_match_release(struct mls_registry_match *m);
/*
 * Resolve an id or a unique prefix ("j-01kx", "01kx", "c-...") among the
 * entries of DATA/SUB only (file names, ".json" stripped): jobs for
 * "registry/jobs", campaigns and ensembles for "campaigns".  New string in
 * *out.  MLS_ENOTFOUND when nothing matches, MLS_EAMBIG naming candidates.
 */
int	 mls_registry_resolve(const struct mls_config *cfg, const char *sub,
	    const char *prefix, char **out);
/*
 * The record of a job, trial or member, by id or unique prefix (as
 * mls_registry_lookup() with MLS_ID_JOB; new reference).
 */
int	 mls_registry_get(const struct mls_config *cfg, const char *prefix,
	    json_t **out);
/* The n most recent job records, newest first (new array). */
int	 mls_registry_recent(const struct mls_config *cfg, size_t n,
	    json_t **out);
/* Resolve a sandbox id or unique prefix present in the store. */
int	 mls_sandbox_resolve(struct mls_store *st, const char *prefix,
	    char **out);
#endif
