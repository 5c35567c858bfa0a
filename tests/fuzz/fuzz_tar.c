/*
 * fuzz_tar.c - sandbox extraction (lib/mls_pack.c, mls_pack_extract, as
 * the local executor uses it): the input is an archive (tar of any
 * flavour, plain or compressed) extracted into a fresh directory under
 * the target's temp dir (on /dev/shm), which is removed afterwards.  The
 * limits are tight (1 MiB, 256 entries) to keep each run fast; whatever
 * is extracted must stay inside the destination (issue 16).
 */
#include "fuzz_util.h"

#include "mls_pack.h"

static char outside[512];

static int
check_inside(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)path; (void)f;
	/* no device, fifo or socket, no setuid/setgid/sticky bit */
	if (flag == FTW_F && !S_ISREG(st->st_mode))
		abort();
	if ((flag == FTW_F || flag == FTW_D) &&
	    (st->st_mode & (S_ISUID | S_ISGID | S_ISVTX)) != 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mls_pack_limits lim = { 1 << 20, 256 };
	char archive[512], dest[512];
	struct stat st;

	fuzz_write("in.tar", data, size, archive, sizeof(archive));
	snprintf(dest, sizeof(dest), "%s/d/x", fuzz_tmpdir());
	if (outside[0] == '\0')
		snprintf(outside, sizeof(outside), "%s/d", fuzz_tmpdir());
	(void)mls_pack_extract(archive, dest, &lim);
	(void)nftw(dest, check_inside, 16, FTW_PHYS);
	fuzz_rm_tree(dest);
	if (stat(outside, &st) == 0 && rmdir(outside) != 0)
		abort();	/* something was written beside dest */
	return 0;
}
