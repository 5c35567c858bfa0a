/*
 * mls_alloc.c - growing arrays with an overflow check.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mls_alloc.h"
#include "mls_error.h"

int
mls_grow_cap(size_t cap, size_t need, size_t elem, size_t *out)
{
	size_t n;

	if (need <= cap) {
		*out = cap;
		return 0;
	}
	if (elem == 0 || need > SIZE_MAX / elem)
		return mls_error_set(MLS_ENOMEM, "out of memory: %zu items of "
		    "%zu bytes", need, elem);
	n = cap > 0 ? cap : MLS_GROW_MIN;
	while (n < need)
		n = n > SIZE_MAX / 2 ? need : n * 2;
	if (n > SIZE_MAX / elem)
		n = need;		/* doubling overshot; need itself fits */
	*out = n;
	return 0;
}

void *
mls_reallocarray(void *p, size_t n, size_t elem)
{
	if (elem != 0 && n > SIZE_MAX / elem) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n * elem > 0 ? n * elem : 1);
}

int
mls_grow(void *pp, size_t *cap, size_t need, size_t elem)
{
	void *old, *p;
	size_t n;
	int rc;

	if (need <= *cap)
		return 0;
	if ((rc = mls_grow_cap(*cap, need, elem, &n)) < 0)
		return rc;
	/* pp is a T **: copy the pointer out and in, whatever T is */
	memcpy(&old, pp, sizeof(old));
	if ((p = mls_reallocarray(old, n, elem)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	memcpy(pp, &p, sizeof(p));
	*cap = n;
	return 0;
}
