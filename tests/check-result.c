/*
 * check-result.c - a test helper: validate result.json files with the one
 * validator (mls_job_result_parse), as the tests do for what the sh
 * wrapper and the C writer leave in the store.
 *
 *   check-result [-s STATE] [-e EXIT_CODE] FILE...
 *
 * Exits 0 when every FILE validates (for the job its directory names)
 * and has the state and exit code asked for, 65 otherwise.
 */
#include "config.h"

#include <err.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "mls_buf.h"
#include "mls_error.h"
#include "mls_job.h"
#include "mls_record.h"

static int
check(const char *path, const char *state, int code)
{
	struct mls_job_result r;
	struct mls_buf b = MLS_BUF_INIT;
	char *dir = NULL, buf[4096];
	size_t n;
	FILE *fp;
	int rc = EX_DATAERR;

	if ((fp = fopen(path, "r")) == NULL) {
		warn("%s", path);
		return EX_NOINPUT;
	}
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		mls_buf_add(&b, buf, n);
	fclose(fp);
	if ((dir = strdup(path)) == NULL)
		goto out;
	if (mls_job_result_parse(b.buf, b.len, basename(dirname(dir)),
	    &r) < 0) {
		warnx("%s: %s", path, mls_error_last());
		goto out;
	}
	if (state != NULL && strcmp(mls_state_name(r.state), state) != 0)
		warnx("%s: state %s, not %s", path, mls_state_name(r.state),
		    state);
	else if (code != -2 && r.exit_code != code)
		warnx("%s: exit code %d, not %d", path, r.exit_code, code);
	else
		rc = 0;
	mls_job_result_release(&r);
out:
	free(dir);
	mls_buf_release(&b);
	return rc;
}

int
main(int argc, char *argv[])
{
	const char *state = NULL;
	int c, code = -2, ex = 0, rc;

	while ((c = getopt(argc, argv, "e:s:")) != -1) {
		switch (c) {
		case 'e':
			code = strcmp(optarg, "null") == 0 ? -1 : atoi(optarg);
			break;
		case 's':
			state = optarg;
			break;
		default:
			fprintf(stderr, "usage: check-result [-s STATE] "
			    "[-e EXIT_CODE] FILE...\n");
			return EX_USAGE;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "usage: check-result [-s STATE] "
		    "[-e EXIT_CODE] FILE...\n");
		return EX_USAGE;
	}
	for (; optind < argc; optind++)
		if ((rc = check(argv[optind], state, code)) != 0 && ex == 0)
			ex = rc;
	return ex;
}
