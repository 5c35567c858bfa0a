#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_alloc.h"
#include "mls_error.h"
#include "mls_record.h"
#include "mls_site.h"
#include "mls_track.h"

struct site_slot {
	char		*name;
	struct mls_site	*site;
};

struct mls_tracker {
	const struct mls_config	*cfg;
	struct mls_store	*store;
	struct site_slot	*sites;
	size_t			 nsites;
};

int
mls_tracker_new(struct mls_tracker **out, const struct mls_config *cfg,
    struct mls_store *st)
{
	struct mls_tracker *t;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	t->cfg = cfg;
	t->store = st;
	*out = t;
	return 0;
}

void
mls_tracker_free(struct mls_tracker *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nsites; i++) {
		mls_site_free(t->sites[i].site);
		free(t->sites[i].name);
	}
	free(t->sites);
	free(t);
}

int
mls_tracker_site(struct mls_tracker *t, const char *name, struct mls_site **out)
{
	struct site_slot *tmp;
	struct mls_site *s = NULL;
	int rc;

	*out = NULL;
	if (name == NULL)
		name = t->cfg->default_site;
	for (size_t i = 0; i < t->nsites; i++)
		if (strcmp(t->sites[i].name, name) == 0) {
			*out = t->sites[i].site;
			return 0;
		}
	if ((rc = mls_site_open(&s, t->cfg, t->store, name)) < 0)
		return rc;
	tmp = mls_reallocarray(t->sites, t->nsites + 1, sizeof(*tmp));
	if (tmp == NULL) {
		mls_site_free(s);
		return mls_error_set(MLS_ENOMEM, "out of memory");
	}
	t->sites = tmp;
	if ((t->sites[t->nsites].name = strdup(name)) == NULL) {
		mls_site_free(s);
		return mls_error_set(MLS_ENOMEM, "out of memory");
	}
	t->sites[t->nsites++].site = s;
	*out = s;
	return 0;
}

int
mls_track_is_job(const json_t *rec)
{
	const char *k = mls_record_kind(rec);

	return k != NULL && (strcmp(k, "job") == 0 || strcmp(k, "trial") == 0 ||
	    strcmp(k, "member") == 0);
}

static enum mls_state
state_of(const json_t *rec)
{
	return mls_state_parse(mls_record_str(rec, "state"));
}

int
mls_tracker_poll(struct mls_tracker *t, json_t *jobs)
{
	size_t n = json_array_size(jobs), i, j, nb, changed = 0;
	json_t **batch = NULL;
	enum mls_state *before = NULL;
	char *done = NULL;
	struct mls_site *s;
	int rc = 0;

	if (n == 0)
		return 0;
	batch = calloc(n, sizeof(*batch));
	before = calloc(n, sizeof(*before));
	done = calloc(n, 1);
	if (batch == NULL || before == NULL || done == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		json_t *rec = json_array_get(jobs, i);
		before[i] = state_of(rec);
		if (!mls_track_is_job(rec) || mls_state_final(before[i]))
			done[i] = 1;
	}
	/* One batch per site. */
	for (i = 0; i < n; i++) {
		const char *site;
		if (done[i])
			continue;
		site = mls_record_str(json_array_get(jobs, i), "site");
		nb = 0;
		for (j = i; j < n; j++) {
			const char *sj;
			if (done[j])
				continue;
			sj = mls_record_str(json_array_get(jobs, j), "site");
			if ((site == NULL) != (sj == NULL) ||
			    (site != NULL && strcmp(site, sj) != 0))
				continue;
			batch[nb++] = json_array_get(jobs, j);
			done[j] = 1;
		}
		if ((rc = mls_tracker_site(t, site, &s)) < 0)
			goto out;
		if ((rc = mls_site_poll(s, batch, nb)) < 0)
			goto out;
	}
	for (i = 0; i < n; i++)
		if (state_of(json_array_get(jobs, i)) != before[i])
			changed++;
	rc = (int)changed;
out:
	free(batch);
	free(before);
	free(done);
	return rc;
}

int
mls_tracker_wait(struct mls_tracker *t, double timeout_s, json_t *changed)
{
	struct pollfd fds[16];
	struct mls_site *who[16];
	char buf[4096];
	nfds_t n = 0, i;
	int r, woken = 0;

	for (size_t k = 0; k < t->nsites && n < 16; k++) {
		struct mls_site *s = t->sites[k].site;
		int fd = s->ops->wait_fd != NULL ? s->ops->wait_fd(s) : -1;
		if (fd >= 0) {
			fds[n].fd = fd;
			fds[n].events = POLLIN;
			who[n] = s;
			n++;
		}
	}
	if (timeout_s < 0)
		timeout_s = 0;
	if (n == 0) {
		struct timespec ts = { (time_t)timeout_s,
		    (long)((timeout_s - (double)(time_t)timeout_s) * 1e9) };
		nanosleep(&ts, NULL);
		return 0;
	}
	r = poll(fds, n, (int)(timeout_s * 1000 + 0.5));
	if (r <= 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (!(fds[i].revents & POLLIN))
			continue;
		woken = 1;
		if (who[i]->ops->drain != NULL && changed != NULL)
			who[i]->ops->drain(who[i], changed);
		else	/* non-blocking: read until it is empty */
			while (read(fds[i].fd, buf, sizeof(buf)) > 0)
				;
	}
	return woken;
}

int
mls_tracker_evented(struct mls_tracker *t, const char *name)
{
	for (size_t k = 0; k < t->nsites; k++)
		if (strcmp(t->sites[k].name, name) == 0)
			return t->sites[k].site->ops->drain != NULL &&
			    t->sites[k].site->ops->wait_fd != NULL &&
			    t->sites[k].site->ops->wait_fd(t->sites[k].site) >= 0;
	return 0;
}

int
mls_tracker_cancel(struct mls_tracker *t, json_t *job)
{
	struct mls_site *s;
	int rc;

	if (mls_state_final(state_of(job)))
		return 0;
	if ((rc = mls_tracker_site(t, mls_record_str(job, "site"), &s)) < 0)
		return rc;
	if ((rc = mls_site_cancel(s, job)) < 0)
		return rc;
	return mls_site_poll(s, &job, 1);
}

void
mls_track_count(const json_t *jobs, size_t out[7])
{
	size_t i;
	json_t *rec;

	memset(out, 0, 7 * sizeof(out[0]));
	json_array_foreach(jobs, i, rec)
		out[state_of(rec)]++;
}
