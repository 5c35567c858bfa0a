/*
 * mls_alloc.h - growing arrays with an overflow check (git's ALLOC_GROW).
 *
 *	struct item *v = NULL;
 *	size_t n = 0, cap = 0;
 *
 *	if ((rc = MLS_GROW(v, cap, n + 1)) < 0)
 *		goto out;		(v and cap are unchanged)
 *	v[n++] = it;
 *
 * The capacity doubles (from MLS_GROW_MIN) until it holds the need; a size
 * that does not fit in a size_t is MLS_ENOMEM, never a short allocation.
 */
#ifndef MLS_ALLOC_H
#define MLS_ALLOC_H

#include <stddef.h>

#define MLS_GROW_MIN	16

/*
 * The capacity that an array of elem-byte items with capacity cap grows
 * to so that it holds need items, in *out: cap itself when it does.
 * MLS_ENOMEM (message set) when need * elem overflows.
 */
int	 mls_grow_cap(size_t cap, size_t need, size_t elem, size_t *out);
/*
 * realloc(p, n * elem) with the product checked: NULL (errno ENOMEM) on
 * overflow, as OpenBSD's reallocarray.  p is left alone on failure.
 */
void	*mls_reallocarray(void *p, size_t n, size_t elem);
/*
 * Make the array *pp (pp is the address of a T *, elem == sizeof(T)) of
 * capacity *cap hold at least need items.  0, or MLS_ENOMEM with the
 * message set and *pp and *cap unchanged.  New items are not cleared.
 */
int	 mls_grow(void *pp, size_t *cap, size_t need, size_t elem);
#define MLS_GROW(p, cap, need)	mls_grow(&(p), &(cap), (need), sizeof(*(p)))

#endif
