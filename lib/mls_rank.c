#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mls_error.h"
#include "mls_rank.h"
#include "mls_record.h"

enum mls_goal
mls_rank_goal(const json_t *campaign)
{
	const char *goal = mls_record_str(json_object_get(campaign, "objective"),
	    "goal");

	return goal != NULL && strcmp(goal, "max") == 0 ? MLS_GOAL_MAX :
	    MLS_GOAL_MIN;
}

/* The context (the goal) comes as an argument, as qsort_r passes it. */
static int
better_first(const void *a, const void *b, void *arg)
{
	const struct mls_rank_item *x = a, *y = b;
	enum mls_goal goal = *(const enum mls_goal *)arg;
	int xnan = isnan(x->value), ynan = isnan(y->value);

	if (xnan != ynan)
		return xnan - ynan;		/* NaN last */
	if (!xnan && x->value != y->value) {
		if (goal == MLS_GOAL_MAX)
			return x->value > y->value ? -1 : 1;
		return x->value < y->value ? -1 : 1;
	}
	if (x->number != y->number)
		return x->number < y->number ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

void
mls_rank_sort(struct mls_rank_item *v, size_t n, enum mls_goal goal)
{
	if (n > 1)
		qsort_r(v, n, sizeof(*v), better_first, &goal);
}

static int
ranks(const json_t *t)
{
	return json_is_number(json_object_get(t, "objective")) &&
	    !json_is_true(json_object_get(t, "pruned")) &&
	    mls_state_parse(mls_record_str(t, "state")) == MLS_STATE_SUCCEEDED;
}

int
mls_rank_trials(const json_t *trials, enum mls_goal goal, size_t k, json_t **out)
{
	struct mls_rank_item *v = NULL;
	json_t *arr = NULL, *t;
	size_t n = 0, i;
	int rc;

	*out = NULL;
	if ((v = calloc(json_array_size(trials) + 1, sizeof(*v))) == NULL ||
	    (arr = json_array()) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(trials, i, t) {
		if (!ranks(t))
			continue;
		v[n].value = json_number_value(json_object_get(t, "objective"));
		v[n].number = (long)mls_record_int(t, "number", -1);
		v[n].index = i;
		n++;
	}
	mls_rank_sort(v, n, goal);
	if (k == 0 || k > n)
		k = n;
	for (i = 0; i < k; i++)
		if (json_array_append(arr, json_array_get(trials, v[i].index)) < 0) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
	*out = arr;
	arr = NULL;
	rc = 0;
out:
	json_decref(arr);
	free(v);
	return rc;
}
