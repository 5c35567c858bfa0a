#include "config.h"

#include "mls_rank.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mls_record.h"
#include "tap.h"

/* The numbers of v, space-separated, in buf. */
static const char *
numbers(const struct mls_rank_item *v, size_t n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%ld", i ? " " : "",
		    v[i].number);
	return buf;
}

static void
test_sort_ties_and_nan(void)
{
	/* values by number: 0:1.0 1:NaN 2:0.5 3:1.0 4:0.5 5:NaN 6:-0.0 7:0.0 */
	static const double val[] = { 1.0, NAN, 0.5, 1.0, 0.5, NAN, -0.0, 0.0 };
	static const long order[][8] = {
		{ 0, 1, 2, 3, 4, 5, 6, 7 },
		{ 7, 6, 5, 4, 3, 2, 1, 0 },
		{ 5, 3, 7, 1, 0, 6, 4, 2 },
	};
	struct mls_rank_item v[8];
	char buf[64];
	size_t i, p;

	for (p = 0; p < 3; p++) {
		for (i = 0; i < 8; i++) {
			v[i].number = order[p][i];
			v[i].value = val[order[p][i]];
			v[i].index = i;
		}
		mls_rank_sort(v, 8, MLS_GOAL_MIN);
		ok(strcmp(numbers(v, 8, buf, sizeof(buf)), "6 7 2 4 0 3 1 5") == 0,
		    "min, input order %zu: ties by number, NaN last: %s", p, buf);
		mls_rank_sort(v, 8, MLS_GOAL_MAX);
		ok(strcmp(numbers(v, 8, buf, sizeof(buf)), "0 3 2 4 6 7 1 5") == 0,
		    "max, input order %zu: ties by number, NaN last: %s", p, buf);
	}
	v[0] = (struct mls_rank_item){ NAN, 9, 0 };
	v[1] = (struct mls_rank_item){ 1e300, 2, 1 };
	mls_rank_sort(v, 2, MLS_GOAL_MIN);
	ok(v[0].number == 2, "a NaN never first (min)");
	mls_rank_sort(v, 1, MLS_GOAL_MIN);
	mls_rank_sort(v, 0, MLS_GOAL_MIN);
	ok(1, "zero and one items");
	/* the same number twice: the caller's index decides */
	v[0] = (struct mls_rank_item){ 1.0, 4, 7 };
	v[1] = (struct mls_rank_item){ 1.0, 4, 3 };
	mls_rank_sort(v, 2, MLS_GOAL_MAX);
	ok(v[0].index == 3, "same value and number: by index");
}

static json_t *
trial(long number, const char *state, json_t *objective, int pruned)
{
	char id[32];

	snprintf(id, sizeof(id), "j-%ld", number);
	return json_pack("{s:s,s:s,s:I,s:s,s:o,s:b}", "kind", "trial", "id", id,
	    "number", (json_int_t)number, "state", state, "objective",
	    objective ? objective : json_null(), "pruned", pruned);
}

static const char *
ids(const json_t *arr, char *buf, size_t len)
{
	const json_t *t;
	size_t i, off = 0;

	buf[0] = '\0';
	json_array_foreach(arr, i, t)
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
			    i ? " " : "", mls_record_id(t));
	return buf;
}

static void
test_trials(void)
{
	json_t *trials = json_array(), *out = NULL, *camp;
	char buf[128];

	/* not in number order, with ties, and trials that must not rank */
	json_array_append_new(trials, trial(5, "succeeded", json_real(0.25), 0));
	json_array_append_new(trials, trial(3, "succeeded", json_integer(1), 0));
	json_array_append_new(trials, trial(4, "succeeded", json_real(0.1), 1));
	json_array_append_new(trials, trial(1, "succeeded", json_real(0.25), 0));
	json_array_append_new(trials, trial(2, "failed", json_real(0.0), 0));
	json_array_append_new(trials, trial(0, "succeeded", NULL, 0));
	json_array_append_new(trials, trial(6, "running", NULL, 0));
	json_array_append_new(trials, trial(7, "succeeded", json_real(1.0), 0));

	ok(mls_rank_trials(trials, MLS_GOAL_MIN, 0, &out) == 0 &&
	    strcmp(ids(out, buf, sizeof(buf)), "j-1 j-5 j-3 j-7") == 0,
	    "min, all: ties by number; pruned, failed, no objective left out: %s", buf);
	json_decref(out);
	ok(mls_rank_trials(trials, MLS_GOAL_MIN, 1, &out) == 0 &&
	    strcmp(ids(out, buf, sizeof(buf)), "j-1") == 0, "min, best 1: %s", buf);
	json_decref(out);
	ok(mls_rank_trials(trials, MLS_GOAL_MAX, 3, &out) == 0 &&
	    strcmp(ids(out, buf, sizeof(buf)), "j-3 j-7 j-1") == 0,
	    "max, best 3: an integer and a real objective tie: %s", buf);
	ok(json_array_get(out, 0) == json_array_get(trials, 1),
	    "the records themselves, not copies");
	json_decref(out);
	ok(mls_rank_trials(trials, MLS_GOAL_MIN, 99, &out) == 0 &&
	    json_array_size(out) == 4, "k above the count: all that rank");
	json_decref(out);
	json_decref(trials);
	ok(mls_rank_trials(NULL, MLS_GOAL_MIN, 3, &out) == 0 &&
	    json_array_size(out) == 0, "no trials: an empty array");
	json_decref(out);

	camp = json_pack("{s:{s:s}}", "objective", "goal", "max");
	ok(mls_rank_goal(camp) == MLS_GOAL_MAX, "goal max");
	json_object_set_new(json_object_get(camp, "objective"), "goal", json_string("min"));
	ok(mls_rank_goal(camp) == MLS_GOAL_MIN, "goal min");
	json_object_del(camp, "objective");
	ok(mls_rank_goal(camp) == MLS_GOAL_MIN, "no goal: min");
	json_decref(camp);
}

int
main(void)
{
	test_sort_ties_and_nan();
	test_trials();
	return done_testing();
}
