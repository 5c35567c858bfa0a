/*
 * mls_ship.h - ship a directory: pack it, upload it to the store unless
 * it is there already, and describe it as a "sandbox" record.
 * mls-ship, mls-submit and mls-search all go through mls_ship().
 */
#ifndef MLS_SHIP_H
#define MLS_SHIP_H

#include <jansson.h>

#include "mls_config.h"
#include "mls_store.h"

/* Uncompressed content shipped at most, unless max_size says otherwise. */
#define MLS_SHIP_DEFAULT_MAX_SIZE	(512LL << 20)

struct mls_ship_opts {
	const char	*image;		/* container tag, or NULL */
	long long	 max_size;	/* <= 0: MLS_SHIP_DEFAULT_MAX_SIZE */
	int		 dry_run;
};

/*
 * Pack dir, upload it to st unless already there, and build the sandbox
 * record (new reference in *out):
 *   {"kind":"sandbox","id":"sha256:<hex>","url","size","files","bytes",
 *    "image","git":{commit,branch,dirty,remote}|null,"dir","created",
 *    "uploaded"}
 * dry_run: no archive is written and st may be NULL; *out is still a
 * record, with "id", "url" and "size" null, "dry_run":true and a
 * "listing" array of {"path","size"} sorted largest first.
 * MLS_ENOTFOUND when dir is missing; MLS_EINPUT when its content is over
 * max_size (the message lists the 5 largest files) or it holds a symlink
 * leading out of it.  The archive is packed under DATA_HOME/tmp and
 * removed whatever happens.
 */
int	 mls_ship(const struct mls_config *cfg, struct mls_store *st,
	    const char *dir, const struct mls_ship_opts *o, json_t **out);

/* "1.5 MiB", "512 B": a size for people. */
void	 mls_ship_human_size(long long n, char out[32]);

#endif
