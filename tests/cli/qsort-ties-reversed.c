/*
 * qsort-ties-reversed.c - a qsort(3) for LD_PRELOAD that sorts, then puts
 * each run of equal elements in reverse order.  C leaves the order of
 * equal elements to the implementation (glibc's merge sort keeps it,
 * musl's smoothsort does not); a test that preloads this one shows
 * whether a ranking depends on that order.  Insertion sort: for tests.
 */
#include <stdlib.h>
#include <string.h>

static void
swap(char *a, char *b, size_t size)
{
	char t;

	while (size-- > 0) {
		t = *a;
		*a++ = *b;
		*b++ = t;
	}
}

void
qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	char *v = base;
	size_t i, j, lo, hi;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && cmp(v + (j - 1) * size, v + j * size) > 0; j--)
			swap(v + (j - 1) * size, v + j * size, size);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && cmp(v + i * size, v + j * size) == 0; j++)
			;
		for (lo = i, hi = j - 1; lo < hi; lo++, hi--)
			swap(v + lo * size, v + hi * size, size);
	}
}
