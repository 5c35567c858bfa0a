/*
 * test_mls_alloc.c - array growth and its overflow check.
 */
#include "config.h"

#include "mls_alloc.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mls_error.h"
#include "tap.h"

struct item {
	long	 a;
	double	 b;
};

static void
test_grow(void)
{
	struct item *v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	for (long i = 0; i < 1000 && rc == 0; i++) {
		if ((rc = MLS_GROW(v, cap, n + 1)) == 0)
			v[n++] = (struct item){ .a = i, .b = (double)i };
	}
	ok(rc == 0 && n == 1000 && cap >= 1000 && v[999].a == 999 && v[0].a == 0,
	    "grow: 1000 items kept (cap %zu)", cap);
	ok(MLS_GROW(v, cap, 10) == 0 && cap >= 1000, "grow: a smaller need is a no-op");
	free(v);

	v = NULL;
	cap = 0;
	ok(MLS_GROW(v, cap, 1) == 0 && cap == MLS_GROW_MIN && v != NULL,
	    "grow: starts at MLS_GROW_MIN");
	ok(MLS_GROW(v, cap, 100) == 0 && cap == 128, "grow: doubles to the need");
	free(v);
}

static void
test_grow_overflow(void)
{
	struct item *v = NULL, *before;
	size_t cap = 0, n = 0;
	int rc;

	ok(MLS_GROW(v, cap, 4) == 0, "overflow: a small array");
	before = v;
	cap = 16;
	rc = MLS_GROW(v, cap, SIZE_MAX / sizeof(*v) + 1);
	ok(rc == MLS_ENOMEM && v == before && cap == 16,
	    "overflow: need * size past SIZE_MAX is MLS_ENOMEM, array unchanged");
	ok(strncmp(mls_error_last(), "out of memory", 13) == 0,
	    "overflow: said so (%s)", mls_error_last());
	ok(mls_grow_cap(SIZE_MAX / 2 + 1, SIZE_MAX / 2 + 2, 1, &n) == 0 &&
	    n == SIZE_MAX / 2 + 2, "overflow: doubling past SIZE_MAX stops at the need");
	ok(mls_grow_cap(SIZE_MAX / 32 + 2, SIZE_MAX / 32 + 3, 16, &n) == 0 &&
	    n == SIZE_MAX / 32 + 3, "overflow: doubling past SIZE_MAX / elem stops "
	    "at the need");
	ok(mls_grow_cap(16, SIZE_MAX / 16 + 1, 16, &n) == MLS_ENOMEM,
	    "overflow: need * elem one past SIZE_MAX");
	ok(mls_grow_cap(0, 1, 0, &n) == MLS_ENOMEM, "overflow: elem 0 refused");
	errno = 0;
	ok(mls_reallocarray(v, SIZE_MAX / 2, 4) == NULL && errno == ENOMEM,
	    "overflow: mls_reallocarray refuses, errno ENOMEM");
	free(v);
}

int
main(void)
{
	test_grow();
	test_grow_overflow();
	return done_testing();
}
