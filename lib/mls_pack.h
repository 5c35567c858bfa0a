/*
 * mls_pack.h - deterministic archives and safe extraction (libarchive).
 *
 * Creation writes a pax (restricted) tar compressed with zstd level 3 in
 * which nothing but the content shows: paths sorted, one fixed mtime,
 * uid/gid 0 without names, modes normalised to 0644/0755.  The same tree
 * gives the same bytes whatever its mtimes, owner, umask or readdir order.
 *
 * Extraction accepts tar (any flavour), plain or compressed with zstd,
 * gzip, xz, bzip2, ..., and refuses what could write outside dest.
 */
#ifndef MLS_PACK_H
#define MLS_PACK_H

#include <sys/stat.h>

#include <jansson.h>

/* The mtime of every entry: 1980-01-01T00:00:00Z (see mls_pack.c). */
#define MLS_PACK_MTIME		315532800LL

/*
 * What an extraction may write ([mls] extract_max_size, extract_max_files,
 * extract_max_ratio in the configuration, see mls(7)).
 */
struct mls_pack_limits {
	long long	max_bytes;	/* total uncompressed bytes; <= 0: default */
	long long	max_entries;	/* entries of any type; <= 0: default */
	/* uncompressed bytes per byte of archive (past 1 MiB); <= 0: default */
	long long	max_ratio;
};
#define MLS_PACK_DEFAULT_MAX_BYTES	(4LL << 30)
#define MLS_PACK_DEFAULT_MAX_ENTRIES	100000LL
#define MLS_PACK_DEFAULT_MAX_RATIO	1000LL
/* The slack the ratio allows any archive, however small. */
#define MLS_PACK_RATIO_SLACK		(1LL << 20)

/*
 * Write the files under root named by files (an array of relative paths,
 * each a string or an object with a "path" member; sorted here by byte
 * order) to a new archive at path (created or truncated, mode 0644).
 * Regular files and symlinks only; a symlink whose target leaves root is
 * refused with MLS_EINPUT naming it.  Parent directories are implied.
 */
int	 mls_pack_create(const char *root, const json_t *files,
	    const char *archive);

/* One entry as mls_pack_create_ex() packed it, in archive order. */
struct mls_pack_entry {
	const char	*path;		/* relative, as in the archive */
	int		 type;		/* 'f' file, 'l' symlink, 'd' directory */
	int		 exec;		/* 'f': packed 0755 (else 0644) */
	long long	 size;		/* 'f': bytes packed */
	unsigned char	 sha256[32];	/* 'f': SHA-256 of the bytes packed */
	const char	*target;	/* 'l': the link's target */
	const struct stat *st;		/* 'f': fstat(2) when it was opened */
	int		 stable;	/* 'f': its stat was the same after reading */
};

/* Called for each entry, after it is in the archive; < 0 stops packing. */
typedef int (*mls_pack_entry_fn)(void *arg, const struct mls_pack_entry *e);

struct mls_pack_result {
	char		 sha256[65];	/* of the archive file's bytes */
	long long	 size;		/* of the archive file */
};

/*
 * mls_pack_create(), the same bytes, with more: the archive's SHA-256
 * and size in *res (when not NULL), and fn (when not NULL) called for
 * each entry.  Compression (zstd, single-threaded as before: the bytes do
 * not depend on it) runs in a second thread while this one reads the
 * files, hashes them and writes the tar stream.
 */
int	 mls_pack_create_ex(const char *root, const json_t *files,
	    const char *archive, mls_pack_entry_fn fn, void *arg,
	    struct mls_pack_result *res);

/*
 * Extract archive into dest (created if missing).  lim NULL: defaults
 * (4 GiB, 100,000 entries, 1000 times the archive's size + 1 MiB).  Refused with MLS_EINPUT naming the entry,
 * before anything of it is written: absolute paths, ".." components,
 * symlinks or hard links whose target leaves dest (absolute targets
 * included), devices, fifos and sockets, going over a limit.  Entries
 * before the refused one stay extracted (inside dest).  setuid, setgid
 * and sticky bits are dropped.
 */
int	 mls_pack_extract(const char *archive, const char *dest,
	    const struct mls_pack_limits *lim);

/*
 * Check a relative path as an archive entry name: non-empty, not
 * absolute, no ".." component.  0 or MLS_EINPUT.
 */
int	 mls_pack_check_name(const char *name);

/*
 * 1 if a symlink at path (relative, in the tree) with this target stays
 * inside the tree, else 0.  Accepted targets are relative and use ".."
 * only as leading components, no more of them than path has parent
 * directories ("../lib/x.py" from "src/a.py"), so that no chain of such
 * links can lead out.  Absolute targets are refused.
 */
int	 mls_pack_link_inside(const char *path, const char *target);

#endif
