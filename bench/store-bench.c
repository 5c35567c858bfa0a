/*
 * store-bench - time the store library: put/get one file, put/get many.
 *
 *   store-bench put FILE KEY | get KEY FILE
 *   store-bench put-many DIR PREFIX N | get-many PREFIX DIR N JOBS
 *
 * The store is MLS_STORE (with MLS_STORE_TOKEN_FILE, MLS_STORE_CA_FILE).
 * Prints the seconds taken on stdout.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mls_config.h"
#include "mls_error.h"
#include "mls_store.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	struct mls_config cfg = { 0 };
	struct mls_store *st = NULL;
	struct mls_store_get *g = NULL;
	char (*keys)[256] = NULL, (*paths)[512] = NULL;
	double t0;
	int rc = 0, i, n;

	if (argc < 4 || mls_config_load(&cfg) < 0 ||
	    mls_store_open(&st, &cfg, NULL) < 0) {
		fprintf(stderr, "store-bench: %s\n", argc < 4 ? "usage" :
		    mls_error_last());
		return 2;
	}
	t0 = now();
	if (strcmp(argv[1], "put") == 0) {
		rc = mls_store_put_file(st, argv[3], argv[2]);
	} else if (strcmp(argv[1], "get") == 0) {
		rc = mls_store_get_file(st, argv[2], argv[3]);
	} else if (argc >= 5 && (strcmp(argv[1], "put-many") == 0 ||
	    strcmp(argv[1], "get-many") == 0)) {
		n = atoi(argv[4]);
		keys = calloc((size_t)n, sizeof(*keys));
		paths = calloc((size_t)n, sizeof(*paths));
		g = calloc((size_t)n, sizeof(*g));
		for (i = 0; i < n; i++) {
			int put = argv[1][0] == 'p';
			snprintf(keys[i], sizeof(keys[i]), "%s/f%d",
			    put ? argv[3] : argv[2], i);
			snprintf(paths[i], sizeof(paths[i]), "%s/f%d",
			    put ? argv[2] : argv[3], i);
			g[i].key = keys[i];
			g[i].path = paths[i];
		}
		if (argv[1][0] == 'p') {
			for (i = 0; i < n && rc == 0; i++)
				rc = mls_store_put_file(st, keys[i], paths[i]);
		} else {
			rc = mls_store_get_files(st, g, (size_t)n,
			    argc > 5 ? atoi(argv[5]) : 8, NULL, NULL);
			mls_store_get_release(g, (size_t)n);
		}
	} else {
		rc = mls_error_set(MLS_EINPUT, "unknown mode '%s'", argv[1]);
	}
	if (rc < 0)
		fprintf(stderr, "store-bench: %s\n", mls_error_last());
	else
		printf("%.3f\n", now() - t0);
	free(keys);
	free(paths);
	free(g);
	mls_store_free(st);
	mls_config_release(&cfg);
	return rc < 0 ? 1 : 0;
}
