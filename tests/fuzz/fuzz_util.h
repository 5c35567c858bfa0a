/*
 * fuzz_util.h - what the fuzz targets share: a private temp directory
 * (under $FUZZ_TMPDIR, else /dev/shm when it exists, else /tmp; removed at
 * exit, and with $FUZZ_TMPDIR by run.sh after a crash), writing the input
 * to a file in it, and removing a tree.  Header-only: each target is one
 * file.
 */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char fuzz_dir[256];

static inline int
fuzz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(path) == 0 ? 0 : 0;
}

/* Remove the tree at path (not following symlinks). */
static inline void
fuzz_rm_tree(const char *path)
{
	(void)nftw(path, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void
fuzz_cleanup(void)
{
	if (fuzz_dir[0] != '\0')
		fuzz_rm_tree(fuzz_dir);
}

/* Create the private directory once; abort if that fails. */
static inline const char *
fuzz_tmpdir(void)
{
	struct stat st;
	const char *base;

	if (fuzz_dir[0] != '\0')
		return fuzz_dir;
	base = getenv("FUZZ_TMPDIR");	/* run.sh's, removed after the run */
	if (base == NULL || *base == '\0')
		base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
		    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/mls-fuzz-XXXXXX", base);
	if (mkdtemp(fuzz_dir) == NULL)
		abort();
	atexit(fuzz_cleanup);
	return fuzz_dir;
}

/* Write data to DIR/name (truncated); the path in out. */
static inline void
fuzz_write(const char *name, const uint8_t *data, size_t size, char *out,
    size_t cap)
{
	FILE *fp;

	snprintf(out, cap, "%s/%s", fuzz_tmpdir(), name);
	if ((fp = fopen(out, "wb")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, fp) != size)
		abort();
	if (fclose(fp) != 0)
		abort();
}

/* data as a new NUL-terminated string (free()). */
static inline char *
fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
