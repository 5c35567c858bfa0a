/*
 * mls_shipcache.h - what mls-ship remembers of a tree between two ships,
 * as git's index does: per file, its stat (size, mtime, ctime, inode,
 * device, mode) and the SHA-256 of its content; per tree, the "tree key"
 * (a SHA-256 of the sorted entries as packed: type, mode bit, size,
 * content digest, link target, path) and the sandbox id and archive size
 * it packed to.  An unchanged tree then ships without being packed.
 *
 * One file per shipped directory, DATA_HOME/shipcache/<sha256(dir)>,
 * versioned, with a SHA-256 trailer; written atomically; a missing,
 * truncated, corrupt or foreign file is an empty cache.  It is only a
 * cache: an entry whose stat differs is not used, nor one that is
 * "racily clean" (mtime or ctime within a second of when the cache was
 * made: a change in that second may not show in the stat), and a tree id
 * is used only when the store holds an archive of that id and size.
 */
#ifndef MLS_SHIPCACHE_H
#define MLS_SHIPCACHE_H

#include <sys/stat.h>

#include "mls_config.h"
#include "mls_digest.h"
#include "mls_pack.h"

#define MLS_SHIPCACHE_DIR	"shipcache"
#define MLS_SHIPCACHE_MAX_TREES	16	/* tree records kept per directory */
#define MLS_SHIPCACHE_MAX_FILES	64	/* cache files kept in the dir */

struct mls_shipcache;

/*
 * The cache of the directory abs (absolute) in *out.  A cache file that
 * cannot be used is ignored (mls_debug says why).  The time of this call
 * is the stamp that mls_shipcache_save() writes.  MLS_ENOMEM, or MLS_EIO
 * when DATA_HOME/shipcache cannot be made.
 */
int	 mls_shipcache_open(const struct mls_config *cfg, const char *abs,
	    struct mls_shipcache **out);
void	 mls_shipcache_free(struct mls_shipcache *c);
/* Entries and tree records loaded (0: an empty cache). */
size_t	 mls_shipcache_loaded(const struct mls_shipcache *c);

/*
 * 1 with md set when the loaded entry of path has exactly st's size,
 * mtime, ctime, inode, device and mode and is not racily clean; else 0.
 */
int	 mls_shipcache_lookup(const struct mls_shipcache *c, const char *path,
	    const struct stat *st, unsigned char md[32]);
/*
 * Keep path's digest for the next ship (only the entries put in this run
 * are saved).  same: it is the entry lookup() just returned, unchanged.
 */
int	 mls_shipcache_put(struct mls_shipcache *c, const char *path,
	    const struct stat *st, const unsigned char md[32], int same);

/* Drop what was put in this run (the tree records stay). */
void	 mls_shipcache_forget(struct mls_shipcache *c);

/* 1 with id ("sha256:<hex>") and size set when the tree key is known. */
int	 mls_shipcache_tree_get(const struct mls_shipcache *c,
	    const unsigned char key[32], char id[72], long long *size);
int	 mls_shipcache_tree_put(struct mls_shipcache *c,
	    const unsigned char key[32], const char *id, long long size);

/* Write the cache if anything changed since it was loaded. */
int	 mls_shipcache_save(struct mls_shipcache *c);
/* For tests: the stamp saved (ns since the epoch). */
void	 mls_shipcache_set_stamp(struct mls_shipcache *c, long long ns);
/* The cache file's path (borrowed). */
const char *mls_shipcache_path(const struct mls_shipcache *c);

/* The tree key: fed with every entry, in archive order. */
struct mls_treekey {
	struct mls_digest d;
};
int	 mls_treekey_init(struct mls_treekey *k);
int	 mls_treekey_add(struct mls_treekey *k, const struct mls_pack_entry *e);
/* Releases k whatever happens. */
int	 mls_treekey_final(struct mls_treekey *k, unsigned char key[32]);

#endif
