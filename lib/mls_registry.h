/*
 * mls_registry.h - the local registry of submitted jobs and campaigns.
 *
 * Every tool that submits or refreshes a job writes its record to
 * DATA/registry/jobs/<id>.json (atomically), so that a later mls-status
 * with no input lists recent jobs, and short unique id prefixes resolve
 * like git's.  Campaign and ensemble ids resolve against DATA/campaigns/.
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
/*
 * Resolve an id or a unique prefix ("j-01kx", "01kx", "c-...") among the
 * entries of DATA/SUB (file names, ".json" stripped).  New string in
 * *out.  MLS_ENOTFOUND when nothing matches, MLS_EAMBIG naming candidates.
 */
int	 mls_registry_resolve(const struct mls_config *cfg, const char *sub,
	    const char *prefix, char **out);
/* The record of a job, by id or unique prefix (new reference). */
int	 mls_registry_get(const struct mls_config *cfg, const char *prefix,
	    json_t **out);
/* The n most recent job records, newest first (new array). */
int	 mls_registry_recent(const struct mls_config *cfg, size_t n,
	    json_t **out);
/* Resolve a sandbox id or unique prefix present in the store. */
int	 mls_sandbox_resolve(struct mls_store *st, const char *prefix,
	    char **out);
#endif
