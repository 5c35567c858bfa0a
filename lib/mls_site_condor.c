/*
 * mls_site_condor.c - the condor site driver (see mls_site_condor.h).
 *
 * Submission: jobs with the same resources go out as one cluster, one
 * condor_submit for all of them, the ids as itemdata.  Poll: each
 * cluster's job event log is read from where the last read stopped; the
 * clusters whose log is out of reach (a remote schedd, a log gone) are
 * asked with one condor_q per poll, and condor_history for the procs that
 * left the queue.  The generic layer has already applied result.json, so
 * what HTCondor says only matters for jobs that never wrote one.
 * Removals (cancel, a hold that lasted too long) are gathered and sent
 * with one condor_rm.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_config.h"
#include "mls_error.h"
#include "mls_jobwrap.h"
#include "mls_log.h"
#include "mls_record.h"
#include "mls_run.h"
#include "mls_site.h"
#include "mls_site_condor.h"
#include "mls_store.h"
#include "mls_tempfile.h"
#include "mls_time.h"

extern char **environ;

#define COND_OUT_MAX	(256u << 20)

struct condor {
	char		*data;		/* DATA_HOME/condor-NAME */
	char		*wrapper;	/* the installed wrapper */
	char		*tokdir;	/* the IDTOKEN's directory, or NULL */
	char		*tokenv;	/* "_CONDOR_SEC_TOKEN_DIRECTORY=..." */
	const char	*schedd, *pool, *workdir;	/* borrowed */
	long		 throttle;
	double		 hold_timeout, retry_s;
	int		 transfer;
	json_t		*index;		/* id -> [tag, proc] */
	json_t		*batches;	/* tag -> cluster (integer) */
	json_t		*clusters;	/* "C" -> tag */
	json_t		*logs;		/* tag -> {"off": n, "view": {...}} */
	json_t		*held_seen;	/* "C.P" -> when we first saw it held */
	json_t		*rm;		/* "C.P" -> true: to remove */
	char		*last_cancel;	/* the site_id cancelled last */
	unsigned long	 seq;
};

static int
oom(void)
{
	return mls_error_set(MLS_ENOMEM, "out of memory");
}

/* ---- HTCondor's words ---------------------------------------------------- */

int
mls_condor_classify(const char *msg)
{
	static const char *const net[] = { "Can't find address",
	    "Failed to connect", "Connection refused", "Unable to locate",
	    "Failed to fetch ads", "Timed out", "timed out",
	    "Could not contact", "Can't connect", "No route to host",
	    "Failed to end classad message", "Failed to get ClassAd" };
	static const char *const auth[] = { "AUTHENTICATE",
	    "Failed to authenticate", "DENIED", "PERMISSION DENIED",
	    "not authorized", "Authorization failed" };
	size_t i;

	for (i = 0; i < sizeof(auth) / sizeof(auth[0]); i++)
		if (strstr(msg, auth[i]) != NULL)
			return MLS_EAUTH;
	for (i = 0; i < sizeof(net) / sizeof(net[0]); i++)
		if (strstr(msg, net[i]) != NULL)
			return MLS_ENET;
	return MLS_EINPUT;
}

long long
mls_condor_parse_terse(const char *text)
{
	long long v = 0;
	const char *p = text;

	while (*p == ' ' || *p == '\n')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (1LL << 50))
			return -1;
		v = v * 10 + (*p - '0');
	}
	return *p == '.' ? v : -1;
}

/* A decimal number at *p (advanced past it), or -1. */
static long long
num_at(const char **p)
{
	long long v = 0;
	int any = 0;

	while (**p >= '0' && **p <= '9' && v < (1LL << 50)) {
		v = v * 10 + (**p - '0');
		(*p)++;
		any = 1;
	}
	return any ? v : -1;
}

static json_t *
view_entry(json_t *view, long long c, long long p)
{
	char key[64];
	json_t *e;

	snprintf(key, sizeof(key), "%lld.%lld", c, p);
	if ((e = json_object_get(view, key)) != NULL)
		return e;
	e = json_pack("{s:i,s:f,s:s,s:i,s:i,s:i,s:i}", "status",
	    MLS_CONDOR_IDLE, "since", 0.0, "reason", "", "code", 0, "exit", -1,
	    "signal", 0, "was_held", 0);
	if (e == NULL || json_object_set_new(view, key, e) == -1)
		return NULL;
	return e;
}

static void
set_status(json_t *e, int status, double since)
{
	int prev = (int)mls_record_int(e, "status", 0);

	if (status == MLS_CONDOR_REMOVED || status == MLS_CONDOR_COMPLETED)
		json_object_set_new(e, "was_held",
		    json_integer(prev == MLS_CONDOR_HELD));
	json_object_set_new(e, "status", json_integer(status));
	json_object_set_new(e, "since", json_real(since));
}

/* "2026-12-07 12:00:05" (local time), or 0 when in another format. */
static double
log_time(const char *p, const char *e)
{
	struct tm tm;
	int v[6], i;
	const char *q = p;

	memset(&tm, 0, sizeof(tm));
	for (i = 0; i < 6; i++) {
		long long n;

		if ((n = num_at(&q)) < 0 || q > e)
			return 0;
		v[i] = (int)n;
		if (i < 5 && q < e && strchr("- :T", *q) != NULL && *q != '\0')
			q++;
		else if (i < 5)
			return 0;
	}
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	tm.tm_isdst = -1;
	return (double)mktime(&tm);
}

/* The first body line of an event [p, e), trimmed, into out. */
static void
first_body_line(const char *p, const char *e, struct mls_buf *out)
{
	const char *nl = memchr(p, '\n', (size_t)(e - p)), *s, *t;

	mls_buf_reset(out);
	if (nl == NULL)
		return;
	s = nl + 1;
	if ((t = memchr(s, '\n', (size_t)(e - s))) == NULL)
		t = e;
	while (s < t && (*s == '\t' || *s == ' '))
		s++;
	while (t > s && (t[-1] == ' ' || t[-1] == '\t' || t[-1] == '\r'))
		t--;
	mls_buf_add(out, s, (size_t)(t - s));
}

static long long
after(const char *p, const char *e, const char *word)
{
	const char *q;
	size_t wl = strlen(word);

	for (q = p; q + wl <= e; q++)
		if (memcmp(q, word, wl) == 0) {
			q += wl;
			return num_at(&q);
		}
	return -1;
}

/* Apply one event [p, e) (its header line first) to view. */
static int
log_event(const char *p, const char *e, json_t *view)
{
	struct mls_buf line = MLS_BUF_INIT;
	const char *q = p, *hl;
	long long code, c, proc, v;
	double t;
	json_t *ent;
	int rc = 0, st;

	if ((code = num_at(&q)) < 0 || strncmp(q, " (", 2) != 0)
		goto bad;
	q += 2;
	if ((c = num_at(&q)) < 0 || *q++ != '.')
		goto bad;
	/* "(004.-01.000)": a cluster's own event (late materialization) */
	if (*q == '-') {
		rc = 0;
		goto out;
	}
	if ((proc = num_at(&q)) < 0 || *q++ != '.' || num_at(&q) < 0 ||
	    *q++ != ')' || *q++ != ' ')
		goto bad;
	if ((hl = memchr(q, '\n', (size_t)(e - q))) == NULL)
		hl = e;
	t = log_time(q, hl);
	if ((ent = view_entry(view, c, proc)) == NULL) {
		rc = oom();
		goto out;
	}
	st = (int)mls_record_int(ent, "status", MLS_CONDOR_IDLE);
	switch (code) {
	case 0:		/* submitted */
		break;
	case 1:		/* executing */
		set_status(ent, MLS_CONDOR_RUNNING, t);
		break;
	case 4:		/* evicted: back in the queue */
	case 24:	/* reconnect failed: it is run again */
		set_status(ent, MLS_CONDOR_IDLE, t);
		break;
	case 5:		/* terminated */
		set_status(ent, MLS_CONDOR_COMPLETED, t);
		if ((v = after(p, e, "(return value ")) >= 0)
			json_object_set_new(ent, "exit", json_integer(v));
		if ((v = after(p, e, "(signal ")) >= 0)
			json_object_set_new(ent, "signal", json_integer(v));
		break;
	case 9:		/* aborted (condor_rm) */
		if (st == MLS_CONDOR_HELD) {
			set_status(ent, MLS_CONDOR_REMOVED, t);
			break;		/* keep the hold reason */
		}
		set_status(ent, MLS_CONDOR_REMOVED, t);
		first_body_line(p, e, &line);
		json_object_set_new(ent, "reason", json_stringn(line.buf ?
		    line.buf : "", line.len));
		break;
	case 12:	/* held */
		set_status(ent, MLS_CONDOR_HELD, t);
		first_body_line(p, e, &line);
		json_object_set_new(ent, "reason", json_stringn(line.buf ?
		    line.buf : "", line.len));
		if ((v = after(p, e, "Code ")) >= 0)
			json_object_set_new(ent, "code", json_integer(v));
		break;
	case 13:	/* released */
		set_status(ent, MLS_CONDOR_IDLE, t);
		json_object_set_new(ent, "reason", json_string(""));
		break;
	case 7:		/* shadow exception: the job goes back to the queue */
	case 2:		/* executable error */
	case 21:	/* remote error */
		first_body_line(p, e, &line);
		json_object_set_new(ent, "note", json_stringn(line.buf ?
		    line.buf : "", line.len));
		break;
	default:
		break;
	}
	rc = mls_buf_error(&line);
	goto out;
bad:
	rc = mls_error_set(MLS_EPROTO, "job event log: expected 'NNN "
	    "(C.P.S) TIME ...', got '%.*s'", (int)(e - p > 80 ? 80 : e - p), p);
out:
	mls_buf_release(&line);
	return rc;
}

int
mls_condor_parse_log(const char *text, size_t len, json_t *view,
    size_t *used)
{
	const char *p = text, *end = text + len, *q, *sep;
	int rc;

	while (p < end) {
		/* an event ends with a line "..." */
		for (q = p, sep = NULL; q < end; ) {
			const char *nl = memchr(q, '\n', (size_t)(end - q));

			if (nl == NULL)
				break;
			if (nl - q == 3 && memcmp(q, "...", 3) == 0) {
				sep = q;
				break;
			}
			q = nl + 1;
		}
		if (sep == NULL)
			break;		/* an event still being written */
		if (sep > p && (rc = log_event(p, sep, view)) < 0)
			return rc;
		p = sep + 4;
	}
	*used = (size_t)(p - text);
	return 0;
}

/* The next tab-separated field of [*p, e) into out. */
static void
field(const char **p, const char *e, struct mls_buf *out)
{
	const char *t = memchr(*p, '\t', (size_t)(e - *p));

	if (t == NULL)
		t = e;
	mls_buf_reset(out);
	mls_buf_add(out, *p, (size_t)(t - *p));
	*p = t < e ? t + 1 : e;
}

static long long
field_ll(const char **p, const char *e, struct mls_buf *tmp, long long def)
{
	const char *q;
	long long v;
	int neg = 0;

	field(p, e, tmp);
	if (tmp->buf == NULL)
		return def;
	q = tmp->buf;
	if (*q == '-') {
		neg = 1;
		q++;
	}
	if ((v = num_at(&q)) < 0 || *q != '\0')
		return def;
	return neg ? -v : v;
}

int
mls_condor_parse_af(const char *text, size_t len, json_t *view)
{
	struct mls_buf tmp = MLS_BUF_INIT;
	const char *p, *e, *end = text + len, *q;
	long long c, proc, st, since, code, sig, hcode;
	int bysig;
	json_t *ent;
	long line = 0;
	int rc = 0;

	for (p = text; p < end; p = e + 1) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		line++;
		if (e == p)
			continue;
		q = p;
		c = field_ll(&q, e, &tmp, -1);
		proc = field_ll(&q, e, &tmp, -1);
		st = field_ll(&q, e, &tmp, -1);
		if (c < 0 || proc < 0 || st < 1 || st > 7) {
			rc = mls_error_set(MLS_EPROTO, "condor_q: line %ld: "
			    "expected ClusterId ProcId JobStatus ..., got "
			    "'%.*s'", line, (int)(e - p > 80 ? 80 : e - p), p);
			goto out;
		}
		since = field_ll(&q, e, &tmp, 0);
		code = field_ll(&q, e, &tmp, -1);
		field(&q, e, &tmp);
		bysig = tmp.buf != NULL && strcmp(tmp.buf, "true") == 0;
		sig = field_ll(&q, e, &tmp, 0);
		hcode = field_ll(&q, e, &tmp, 0);
		field(&q, e, &tmp);		/* HoldReason: the rest */
		if ((ent = view_entry(view, c, proc)) == NULL) {
			rc = oom();
			goto out;
		}
		json_object_set_new(ent, "status", json_integer(st));
		json_object_set_new(ent, "since", json_real((double)since));
		json_object_set_new(ent, "exit", json_integer(bysig ? -1 :
		    code));
		json_object_set_new(ent, "signal", json_integer(bysig ? sig :
		    0));
		json_object_set_new(ent, "code", json_integer(hcode));
		if (tmp.len > 0 && strcmp(tmp.buf, "undefined") != 0)
			json_object_set_new(ent, "reason",
			    json_string(tmp.buf));
		/* a removed job that had a hold reason was removed while held */
		if (st == MLS_CONDOR_REMOVED && tmp.len > 0 &&
		    strcmp(tmp.buf, "undefined") != 0)
			json_object_set_new(ent, "was_held", json_integer(1));
	}
	rc = mls_buf_error(&tmp);
out:
	mls_buf_release(&tmp);
	return rc;
}

/* ---- the view applied to a job ------------------------------------------- */

/* HTCondor's hold reason codes for a time limit (JobDurationExceeded, ...). */
static int
is_time_limit(const json_t *ent)
{
	long long code = mls_record_int(ent, "code", 0);
	const char *r = mls_record_str(ent, "reason");

	return code == 46 || code == 47 || (r != NULL &&
	    (strstr(r, "duration") != NULL || strstr(r, "Duration") != NULL));
}

static int
set_state(json_t *job, const char *state, json_t *reason)
{
	if (reason == NULL && strcmp(state, "queued") != 0 &&
	    strcmp(state, "running") != 0)
		return oom();
	json_object_set_new(job, "state", json_string(state));
	if (reason != NULL)
		json_object_set_new(job, "reason", reason);
	return 0;
}

int
mls_condor_apply(json_t *job, const json_t *entry, const char *site,
    double hold_timeout, double now, int *remove)
{
	const char *sid = mls_record_str(job, "site_id");
	const char *r;
	long long st, ex, sig;
	double since;
	char mins[32];

	*remove = 0;
	if (entry == NULL)
		return set_state(job, "lost", json_pack("s+++++",
		    "HTCondor on site '", site, "' does not know job ",
		    sid != NULL ? sid : "?",
		    " (left the history, or never submitted)", ""));
	st = mls_record_int(entry, "status", MLS_CONDOR_IDLE);
	r = mls_record_str(entry, "reason");
	if (r == NULL)
		r = "";
	switch (st) {
	case MLS_CONDOR_IDLE:
		json_object_del(job, "reason");
		return set_state(job, "queued", NULL);
	case MLS_CONDOR_RUNNING:
	case MLS_CONDOR_TRANSFERRING:
	case MLS_CONDOR_SUSPENDED:
		json_object_del(job, "reason");
		return set_state(job, "running", NULL);
	case MLS_CONDOR_HELD:
		since = mls_record_num(entry, "since", 0);
		if (is_time_limit(entry)) {
			*remove = 1;
			return set_state(job, "failed", json_pack("s++",
			    "time limit reached (HTCondor: ", r, ")"));
		}
		if (hold_timeout >= 0 && since > 0 &&
		    now - since > hold_timeout) {
			*remove = 1;
			snprintf(mins, sizeof(mins), "%.0fs", hold_timeout);
			return set_state(job, "failed", json_pack("s+++",
			    "held for more than ", mins, ": ", r));
		}
		/* still held: reported, not final */
		return set_state(job, "queued", json_pack("s+", "held: ", r));
	case MLS_CONDOR_REMOVED:
		if (mls_record_int(entry, "was_held", 0)) {
			if (is_time_limit(entry))
				return set_state(job, "failed", json_pack(
				    "s++", "time limit reached (HTCondor: ", r,
				    ")"));
			return set_state(job, "failed", json_pack("s+",
			    "held, then removed: ", r));
		}
		return set_state(job, "cancelled", json_pack("s+",
		    "removed from HTCondor's queue ", *r ? r : "(condor_rm)"));
	case MLS_CONDOR_COMPLETED:
		ex = mls_record_int(entry, "exit", -1);
		sig = mls_record_int(entry, "signal", 0);
		if (sig > 0) {
			snprintf(mins, sizeof(mins), "%lld", sig);
			return set_state(job, "lost", json_pack("s+",
			    "the job wrapper was killed by signal ", mins));
		}
		snprintf(mins, sizeof(mins), "%lld", ex);
		return set_state(job, "lost", json_pack("s++",
		    "ended without a result from the job wrapper (exit ", mins,
		    ")"));
	default:
		mls_debug("site '%s': job %s: unknown JobStatus %lld", site,
		    sid != NULL ? sid : "?", st);
		return 0;
	}
}

/* ---- the submit description ---------------------------------------------- */

/* Append s as a value of the new argument/environment syntax ('...'). */
static void
add_sq(struct mls_buf *b, const char *s)
{
	mls_buf_addc(b, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			mls_buf_adds(b, "''");
		else if (*s == '"')
			mls_buf_adds(b, "\"\"");
		else
			mls_buf_addc(b, *s);
	}
	mls_buf_addc(b, '\'');
}

/* A ClassAd string literal. */
static void
add_cstr(struct mls_buf *b, const char *s)
{
	mls_buf_addc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			mls_buf_addc(b, '\\');
		mls_buf_addc(b, *s);
	}
	mls_buf_addc(b, '"');
}

static int
one_line(const char *key, const char *v)
{
	if (strpbrk(v, "\n\r") != NULL)
		return mls_error_set(MLS_ECONFIG, "%s '%s': a newline in a "
		    "value", key, v);
	return 0;
}

static int
res_int(const json_t *job, const char *key, long long def, long long *out)
{
	const json_t *v = json_object_get(json_object_get(job, "resources"),
	    key);

	*out = def;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = json_integer_value(v);
		return 0;
	}
	if (json_is_real(v) && json_real_value(v) >= 0 &&
	    json_real_value(v) < 9e18) {	/* beyond, the cast is UB */
		*out = (long long)json_real_value(v);
		if ((double)*out < json_real_value(v))
			(*out)++;
		return 0;
	}
	return mls_error_set(MLS_EINPUT, "resources: field '%s': expected a "
	    "non-negative number", key);
}

int
mls_condor_submit_desc(const json_t *conf, const json_t *job,
    const struct mls_condor_batch *b, struct mls_buf *out)
{
	static const char *const keys[] = { "requirements", "rank",
	    "accounting_group" };
	const char *uni = mls_record_str(conf, "universe");
	const char *wd = mls_record_str(conf, "workdir");
	const char *tr = mls_record_str(conf, "transfer");
	const char *image = mls_record_str(job, "image");
	const char *camp = mls_record_str(job, "campaign");
	const char *extra = mls_record_str(conf, "extra"), *p, *e, *v;
	long long cpus, gpus, mem, time_s;
	int rc, transfer = tr != NULL && (strcmp(tr, "yes") == 0 ||
	    strcmp(tr, "true") == 0);
	size_t i;

	if (camp == NULL)
		camp = mls_record_str(job, "ensemble");
	if ((rc = res_int(job, "cpus", 1, &cpus)) < 0 ||
	    (rc = res_int(job, "gpus", 0, &gpus)) < 0 ||
	    (rc = res_int(job, "mem_mb", -1, &mem)) < 0 ||
	    (rc = res_int(job, "time_s", -1, &time_s)) < 0)
		return rc;
	if (uni == NULL)
		uni = image != NULL ? "container" : "vanilla";
	if (strcmp(uni, "vanilla") != 0 && strcmp(uni, "container") != 0)
		return mls_error_set(MLS_ECONFIG, "universe '%s': expected "
		    "vanilla or container", uni);
	if (strcmp(uni, "container") == 0 && image == NULL)
		return mls_error_set(MLS_EINPUT, "universe container: the job "
		    "has no image (--image)");
	if ((rc = one_line("store url", b->store_url)) < 0 ||
	    (rc = one_line("image", image != NULL ? image : "")) < 0)
		return rc;
	mls_buf_addf(out, "# mls: batch %s of site '%s'\n", b->tag, b->site);
	mls_buf_addf(out, "universe = %s\n", uni);
	if (image != NULL)
		mls_buf_addf(out, "container_image = %s\n", image);
	mls_buf_addf(out, "executable = %s\n", b->wrapper);
	mls_buf_adds(out, "arguments = \"");
	add_sq(out, b->store_url);
	mls_buf_adds(out, " '$(MlsId)'\"\n");
	if (transfer)
		mls_buf_adds(out, "transfer_executable = true\n"
		    "should_transfer_files = YES\n"
		    "when_to_transfer_output = ON_EXIT\n");
	else
		mls_buf_adds(out, "transfer_executable = false\n"
		    "should_transfer_files = NO\n");
	if (wd != NULL && !transfer)
		mls_buf_addf(out, "initialdir = %s\n", wd);
	mls_buf_addf(out, "output = %s/%s.$(Process).out\n", b->outdir, b->tag);
	mls_buf_addf(out, "error = %s/%s.$(Process).err\n", b->outdir, b->tag);
	mls_buf_addf(out, "log = %s\n", b->log);
	mls_buf_adds(out, "environment = \"PATH=/usr/local/bin:/usr/bin:/bin");
	if (wd != NULL && !transfer) {
		mls_buf_adds(out, " MLS_SCRATCH=");
		add_sq(out, wd);
	}
	if (b->token_file != NULL) {
		mls_buf_adds(out, " MLS_STORE_TOKEN_FILE=");
		add_sq(out, b->token_file);
	}
	if (b->ca_file != NULL) {
		mls_buf_adds(out, " MLS_STORE_CA_FILE=");
		add_sq(out, b->ca_file);
	}
	mls_buf_adds(out, "\"\n");
	mls_buf_addf(out, "request_cpus = %lld\n", cpus > 0 ? cpus : 1);
	if (gpus > 0)
		mls_buf_addf(out, "request_gpus = %lld\n", gpus);
	if (mem >= 0)
		mls_buf_addf(out, "request_memory = %lld\n", mem > 0 ? mem : 1);
	if (time_s >= 0)
		mls_buf_addf(out, "allowed_job_duration = %lld\n",
		    time_s + b->grace_s + 30);
	mls_buf_adds(out, "+MlsJobId = \"$(MlsId)\"\n+MlsCampaign = ");
	add_cstr(out, camp != NULL ? camp : "");
	mls_buf_adds(out, "\n+MlsBatch = ");
	add_cstr(out, b->tag);
	mls_buf_adds(out, "\n+MlsSite = ");
	add_cstr(out, b->site);
	mls_buf_addc(out, '\n');
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if ((v = mls_record_str(conf, keys[i])) == NULL)
			continue;
		if ((rc = one_line(keys[i], v)) < 0)
			return rc;
		mls_buf_addf(out, "%s = %s\n", keys[i], v);
	}
	if (b->throttle > 0)
		mls_buf_addf(out, "max_materialize = %ld\n", b->throttle);
	for (p = extra; p != NULL && *p != '\0'; p = *e ? e + 1 : e) {
		e = p + strcspn(p, ";\n");
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (e == p)
			continue;
		if (memchr(p, '=', (size_t)(e - p)) == NULL)
			return mls_error_set(MLS_ECONFIG, "extra '%.*s': "
			    "expected 'command = value' lines", (int)(e - p), p);
		if (strncmp(p, "queue", 5) == 0)
			return mls_error_set(MLS_ECONFIG, "extra: no 'queue' "
			    "line (mls writes it)");
		mls_buf_add(out, p, (size_t)(e - p));
		mls_buf_addc(out, '\n');
	}
	mls_buf_addf(out, "queue MlsId from %s\n", b->items);
	return mls_buf_error(out);
}

/* ---- running condor_* ---------------------------------------------------- */

/* Our environment, with the IDTOKEN directory when there is one. */
static char **
child_env(const struct condor *cd)
{
	size_t n = 0, k = 0, i;
	char **env;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 2, sizeof(*env))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "_CONDOR_SEC_TOKEN_DIRECTORY=", 28) != 0)
			env[k++] = environ[i];
	if (cd->tokenv != NULL)
		env[k++] = cd->tokenv;
	env[k] = NULL;
	return env;
}

/* The last non-empty line of text, into out. */
static void
last_line(const char *text, size_t len, struct mls_buf *out)
{
	const char *p = text, *e, *end = text + len, *best = NULL, *bend = NULL;

	mls_buf_reset(out);
	for (; p != NULL && p < end; p = e + 1) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (e > p) {
			best = p;
			bend = e;
		}
	}
	if (best != NULL)
		mls_buf_add(out, best, (size_t)(bend - best));
	while (out->len > 0 && (out->buf[out->len - 1] == '\r' ||
	    out->buf[out->len - 1] == ' '))
		out->buf[--out->len] = '\0';
}

static void
nap(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Run a condor_* program (args after argv[0] already there) with -name
 * and -pool; retry while the schedd is unreachable (with once, only
 * while it provably got nothing: a submission is not sent twice).  On
 * failure the error is HTCondor's last line, prefixed with the site.
 */
static int
run_condor(struct mls_site *s, json_t *args, int once, struct mls_buf *out)
{
	struct condor *cd = s->priv;
	struct mls_buf err = MLS_BUF_INIT, msg = MLS_BUF_INIT;
	struct mls_child c = MLS_CHILD_INIT;
	double t0 = mls_time_now(), wait = 0.5;
	char **argv = NULL, **env = NULL;
	size_t i, n = json_array_size(args);
	int rc, code;

	if ((argv = calloc(n + 1, sizeof(*argv))) == NULL ||
	    (env = child_env(cd)) == NULL) {
		rc = oom();
		goto out;
	}
	for (i = 0; i < n; i++)
		argv[i] = (char *)json_string_value(json_array_get(args, i));
	for (;;) {
		struct mls_child fresh = MLS_CHILD_INIT;

		c = fresh;
		c.argv = argv;
		c.env = env;
		c.in = MLS_CHILD_NULL;
		mls_buf_reset(out);
		mls_buf_reset(&err);
		if ((rc = mls_child_capture(&c, NULL, 0, out, &err,
		    COND_OUT_MAX)) < 0) {
			if (rc == MLS_EUNAVAIL)
				rc = mls_error_set(MLS_EUNAVAIL, "site '%s': "
				    "'%s' not found (install HTCondor's "
				    "tools, or put them on PATH)", s->name,
				    argv[0]);
			goto out;
		}
		if (c.exit_code == 0) {
			rc = 0;
			goto out;
		}
		last_line(err.buf != NULL ? err.buf : "", err.len, &msg);
		if (msg.len == 0)
			last_line(out->buf != NULL ? out->buf : "", out->len,
			    &msg);
		if (msg.len == 0)
			mls_buf_addf(&msg, "exit status %d", c.exit_code >= 0 ?
			    c.exit_code : 128 + c.signal);
		/* the whole text: the reason may be on an earlier line */
		code = mls_condor_classify(err.buf != NULL ? err.buf : "");
		if (code == MLS_EINPUT)
			code = mls_condor_classify(msg.buf);
		/*
		 * once: only a failure that proves nothing got through is
		 * retried (a time-out after the request was sent is not)
		 */
		if ((once && err.buf != NULL && (strstr(err.buf, "imed out") !=
		    NULL || strstr(err.buf, "imeout") != NULL)) ||
		    code != MLS_ENET ||
		    mls_time_now() - t0 + wait > cd->retry_s) {
			rc = mls_error_set(code, "site '%s': %s: %s%s", s->name,
			    argv[0], msg.buf, code == MLS_ENET ?
			    " (gave up retrying)" : code == MLS_EAUTH ?
			    " (check token_file)" : "");
			goto out;
		}
		mls_debug("site '%s': %s: %s; retrying in %.1fs", s->name,
		    argv[0], msg.buf, wait);
		nap(wait);
		wait = wait * 2 > 10 ? 10 : wait * 2;
	}
out:
	free(argv);
	free(env);
	mls_buf_release(&err);
	mls_buf_release(&msg);
	return rc;
}

/* Append the elements of b (a new reference, consumed) to a: 0 or -1. */
static int
extend_new(json_t *a, json_t *b)
{
	int rc = b != NULL ? json_array_extend(a, b) : -1;

	json_decref(b);
	return rc;
}

/* A new array [prog, -name S, -pool P]. */
static json_t *
cmd_new(const struct condor *cd, const char *prog)
{
	json_t *a = json_pack("[s]", prog);

	if (a == NULL)
		return NULL;
	if (cd->schedd != NULL)
		extend_new(a, json_pack("[s,s]", "-name",
		    cd->schedd));
	if (cd->pool != NULL)
		extend_new(a, json_pack("[s,s]", "-pool", cd->pool));
	return a;
}

/* ---- the index of submissions (DATA/submitted.jsonl) --------------------- */

static char *
data_path(const struct condor *cd, const char *name)
{
	struct mls_buf p = MLS_BUF_INIT;

	mls_buf_addf(&p, "%s/%s", cd->data, name);
	return mls_buf_detach(&p);
}

static int
index_apply(struct condor *cd, const json_t *line)
{
	const char *tag = mls_record_str(line, "batch"), *id;
	json_t *ids = json_object_get(line, "ids"), *cl;
	size_t i, n = json_array_size(ids);
	char key[32];

	if (tag == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		if ((id = json_string_value(json_array_get(ids, i))) == NULL)
			continue;
		if (json_object_set_new(cd->index, id, json_pack("[s,I]", tag,
		    (json_int_t)i)) == -1)
			return oom();
	}
	if (json_is_integer(cl = json_object_get(line, "cluster"))) {
		snprintf(key, sizeof(key), "%lld",
		    (long long)json_integer_value(cl));
		if (json_object_set(cd->batches, tag, cl) == -1 ||
		    json_object_set_new(cd->clusters, key, json_string(tag)) ==
		    -1)
			return oom();
	}
	return 0;
}

static int
index_load(struct condor *cd)
{
	struct mls_buf data = MLS_BUF_INIT;
	char *path = data_path(cd, "submitted.jsonl"), buf[65536];
	const char *p, *e, *end;
	json_t *line;
	ssize_t r;
	int fd = -1, rc = 0;

	if (path == NULL) {
		rc = oom();
		goto out;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno != ENOENT)
			rc = mls_error_set_errno(MLS_EIO, "open '%s'", path);
		goto out;
	}
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = mls_error_set_errno(MLS_EIO, "read '%s'", path);
			goto out;
		}
		mls_buf_add(&data, buf, (size_t)r);
	}
	if ((rc = mls_buf_error(&data)) < 0)
		goto out;
	end = data.buf + data.len;
	for (p = data.buf; p < end; p = e + 1) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;		/* a torn last line */
		line = json_loadb(p, (size_t)(e - p), 0, NULL);
		rc = line != NULL ? index_apply(cd, line) : 0;
		json_decref(line);
		if (rc < 0)
			goto out;
		cd->seq++;
	}
out:
	if (fd >= 0)
		close(fd);
	free(path);
	mls_buf_release(&data);
	return rc;
}

/* Append line to the index, fsync'ed, and apply it. */
static int
index_append(struct condor *cd, json_t *line)
{
	char *path = data_path(cd, "submitted.jsonl"), *s = NULL;
	size_t len, off = 0;
	ssize_t w;
	int fd = -1, rc;

	if (path == NULL || (s = json_dumps(line, MLS_JSON_COMPACT)) == NULL) {
		rc = oom();
		goto out;
	}
	len = strlen(s);
	s[len++] = '\n';
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644)) < 0) {
		rc = mls_error_set_errno(MLS_EIO, "open '%s'", path);
		goto out;
	}
	while (off < len) {
		if ((w = write(fd, s + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			rc = mls_error_set_errno(MLS_EIO, "write '%s'", path);
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1) {
		rc = mls_error_set_errno(MLS_EIO, "fsync '%s'", path);
		goto out;
	}
	cd->seq++;
	rc = index_apply(cd, line);
out:
	if (fd >= 0)
		close(fd);
	free(s);
	free(path);
	return rc;
}

/* ---- open and close ------------------------------------------------------ */

static void
condor_close(struct mls_site *s);

static int
conf_long(struct mls_site *s, const char *key, long def, long *out)
{
	const char *v = mls_record_str(s->conf, key);
	char *end;
	long n;

	*out = def;
	if (v == NULL)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < 0)
		return mls_error_set(MLS_ECONFIG, "site '%s': %s '%s': "
		    "expected a non-negative integer", s->name, key, v);
	*out = n;
	return 0;
}

static int
conf_duration(struct mls_site *s, const char *key, double def, double *out)
{
	const char *v = mls_record_str(s->conf, key);
	double d;

	*out = def;
	if (v == NULL)
		return 0;
	if ((d = mls_duration_parse(v)) < 0)
		return mls_error_set(MLS_ECONFIG, "site '%s': %s '%s': not a "
		    "duration (e.g. 30s, 10m)", s->name, key, v);
	*out = d;
	return 0;
}

/* The IDTOKEN: mode 600 (or stricter), linked into a private directory. */
static int
open_token(struct mls_site *s, struct condor *cd, const char *tf)
{
	struct mls_buf link = MLS_BUF_INIT, env = MLS_BUF_INIT;
	char *path = mls_config_expand(tf);
	struct stat sb;
	int rc;

	if (path == NULL) {
		rc = oom();
		goto out;
	}
	if (stat(path, &sb) == -1) {
		rc = mls_error_set_errno(MLS_ECONFIG, "site '%s': token_file "
		    "'%s'", s->name, path);
		goto out;
	}
	if ((sb.st_mode & 077) != 0) {
		rc = mls_error_set(MLS_ECONFIG, "site '%s': token_file '%s': "
		    "mode %03o, expected 600 (chmod 600 '%s')", s->name, path,
		    (unsigned)(sb.st_mode & 0777), path);
		goto out;
	}
	if ((cd->tokdir = data_path(cd, "tokens.d")) == NULL) {
		rc = oom();
		goto out;
	}
	if ((rc = mls_mkdirs(cd->tokdir, 0700)) < 0)
		goto out;
	mls_buf_addf(&link, "%s/mls-token", cd->tokdir);
	mls_buf_addf(&env, "_CONDOR_SEC_TOKEN_DIRECTORY=%s", cd->tokdir);
	if ((rc = mls_buf_error(&link)) < 0 || (rc = mls_buf_error(&env)) < 0)
		goto out;
	(void)unlink(link.buf);
	if (symlink(path, link.buf) == -1) {
		rc = mls_error_set_errno(MLS_EIO, "symlink '%s'", link.buf);
		goto out;
	}
	cd->tokenv = mls_buf_detach(&env);
	rc = 0;
out:
	free(path);
	mls_buf_release(&link);
	mls_buf_release(&env);
	return rc;
}

static int
condor_open(struct mls_site *s)
{
	static const char *const strs[] = { "schedd", "pool", "requirements",
	    "rank", "accounting_group" };
	struct condor *cd;
	struct mls_buf sub = MLS_BUF_INIT;
	const char *v;
	size_t i;
	int rc;

	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return oom();
	s->priv = cd;
	cd->index = json_object();
	cd->batches = json_object();
	cd->clusters = json_object();
	cd->logs = json_object();
	cd->held_seen = json_object();
	cd->rm = json_object();
	if (cd->index == NULL || cd->batches == NULL || cd->clusters == NULL ||
	    cd->logs == NULL || cd->held_seen == NULL || cd->rm == NULL) {
		rc = oom();
		goto out;
	}
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if ((v = mls_record_str(s->conf, strs[i])) != NULL &&
		    (*v == '\0' || strpbrk(v, "\n\r") != NULL)) {
			rc = mls_error_set(MLS_ECONFIG, "site '%s': %s '%s': "
			    "expected one non-empty line", s->name, strs[i], v);
			goto out;
		}
	cd->schedd = mls_record_str(s->conf, "schedd");
	cd->pool = mls_record_str(s->conf, "pool");
	if ((v = mls_record_str(s->conf, "universe")) != NULL &&
	    strcmp(v, "vanilla") != 0 && strcmp(v, "container") != 0) {
		rc = mls_error_set(MLS_ECONFIG, "site '%s': universe '%s': "
		    "expected vanilla or container", s->name, v);
		goto out;
	}
	if ((v = mls_record_str(s->conf, "transfer")) != NULL) {
		if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
			cd->transfer = 1;
		else if (strcmp(v, "no") != 0 && strcmp(v, "false") != 0) {
			rc = mls_error_set(MLS_ECONFIG, "site '%s': transfer "
			    "'%s': expected yes or no", s->name, v);
			goto out;
		}
	}
	if ((rc = conf_long(s, "throttle", 0, &cd->throttle)) < 0 ||
	    (rc = conf_duration(s, "hold_timeout", 600, &cd->hold_timeout)) <
	    0 || (rc = conf_duration(s, "retry", 60, &cd->retry_s)) < 0)
		goto out;
	cd->workdir = mls_record_str(s->conf, "workdir");
	if (cd->workdir != NULL && cd->workdir[0] != '/') {
		rc = mls_error_set(MLS_ECONFIG, "site '%s': workdir '%s': "
		    "expected an absolute path", s->name, cd->workdir);
		goto out;
	}
	if ((v = mls_record_str(s->conf, "extra")) != NULL) {
		struct mls_buf probe = MLS_BUF_INIT;
		struct mls_condor_batch b = { .tag = "t", .wrapper = "w",
		    .store_url = "u", .items = "i", .log = "l", .outdir = "o",
		    .site = s->name };
		json_t *dummy = json_object();

		rc = dummy != NULL ? mls_condor_submit_desc(s->conf, dummy, &b,
		    &probe) : oom();
		json_decref(dummy);
		mls_buf_release(&probe);
		if (rc == MLS_ECONFIG) {
			rc = mls_error_set(MLS_ECONFIG, "site '%s': %s",
			    s->name, mls_error_last());
			goto out;
		}
		mls_error_clear();
	}
	mls_buf_addf(&sub, "condor-%s", s->name);
	if ((rc = mls_buf_error(&sub)) < 0 ||
	    (rc = mls_config_data_dir(s->cfg, sub.buf, &cd->data)) < 0)
		goto out;
	if ((v = mls_record_str(s->conf, "token_file")) != NULL &&
	    (rc = open_token(s, cd, v)) < 0)
		goto out;
	if ((rc = index_load(cd)) < 0)
		goto out;
	rc = 0;
out:
	mls_buf_release(&sub);
	if (rc < 0)
		condor_close(s);
	return rc;
}

static int flush_rm(struct mls_site *s);

static void
condor_close(struct mls_site *s)
{
	struct condor *cd = s->priv;

	if (cd == NULL)
		return;
	if (json_object_size(cd->rm) > 0 && flush_rm(s) < 0)
		mls_warn("site '%s': %s", s->name, mls_error_last());
	free(cd->data);
	free(cd->wrapper);
	free(cd->tokdir);
	free(cd->tokenv);
	free(cd->last_cancel);
	json_decref(cd->index);
	json_decref(cd->batches);
	json_decref(cd->clusters);
	json_decref(cd->logs);
	json_decref(cd->held_seen);
	json_decref(cd->rm);
	free(cd);
	s->priv = NULL;
}

/* ---- submission ---------------------------------------------------------- */

/* json_equal(), for which two absent values are not equal. */
static int
same_field(const json_t *a, const json_t *b, const char *key)
{
	const json_t *x = json_object_get(a, key), *y = json_object_get(b, key);

	return x == NULL || y == NULL ? x == y : json_equal(x, y);
}

static int
same_resources(const json_t *a, const json_t *b)
{
	return same_field(a, b, "resources") && same_field(a, b, "image") &&
	    same_field(a, b, "campaign") && same_field(a, b, "ensemble");
}

static void
set_sid(json_t *job, long long c, long long p)
{
	char sid[64];

	snprintf(sid, sizeof(sid), "%lld.%lld", c, p);
	json_object_set_new(job, "site_id", json_string(sid));
}

/* Send one cluster: jobs[0..n) share their resources.  Sets site_id. */
static int
send_batch(struct mls_site *s, json_t **jobs, size_t n)
{
	struct condor *cd = s->priv;
	struct mls_buf desc = MLS_BUF_INIT, items = MLS_BUF_INIT,
	    tag = MLS_BUF_INIT, path = MLS_BUF_INIT, lp = MLS_BUF_INIT,
	    outdir = MLS_BUF_INIT, res = MLS_BUF_INIT;
	struct mls_condor_batch b;
	json_t *ids = NULL, *line = NULL, *args = NULL;
	long long cl;
	size_t i;
	int rc;

	if ((ids = json_array()) == NULL) {
		rc = oom();
		goto out;
	}
	for (i = 0; i < n; i++) {
		mls_buf_adds(&items, mls_record_id(jobs[i]));
		mls_buf_addc(&items, '\n');
		if (json_array_append_new(ids, json_string(
		    mls_record_id(jobs[i]))) == -1) {
			rc = oom();
			goto out;
		}
	}
	mls_buf_addf(&tag, "b%lu-%s", cd->seq, mls_record_id(jobs[0]));
	mls_buf_addf(&outdir, "%s/out", cd->workdir != NULL && !cd->transfer ?
	    cd->workdir : cd->data);
	mls_buf_addf(&lp, "%s/%s.log", cd->data, tag.buf ? tag.buf : "");
	if ((rc = mls_buf_error(&tag)) < 0 || (rc = mls_buf_error(&outdir)) < 0 ||
	    (rc = mls_buf_error(&lp)) < 0 || (rc = mls_buf_error(&items)) < 0)
		goto out;
	if (cd->wrapper == NULL) {
		char *wdir = data_path(cd, "bin");

		if (wdir == NULL) {
			rc = oom();
			goto out;
		}
		rc = mls_mkdirs(wdir, 0755);
		if (rc == 0)
			rc = mls_jobwrap_install(wdir, &cd->wrapper);
		free(wdir);
		if (rc < 0)
			goto out;
	}
	if ((rc = mls_mkdirs(outdir.buf, 0755)) < 0)
		goto out;
	mls_buf_addf(&path, "%s/%s.items", cd->data, tag.buf);
	if ((rc = mls_buf_error(&path)) < 0 ||
	    (rc = mls_write_file_atomic(path.buf, items.buf, items.len, 0644,
	    0)) < 0)
		goto out;
	b = (struct mls_condor_batch){ .tag = tag.buf, .wrapper = cd->wrapper,
	    .store_url = mls_store_url(s->store), .items = path.buf,
	    .log = lp.buf, .outdir = outdir.buf, .site = s->name,
	    .token_file = s->cfg->store_token_file,
	    .ca_file = s->cfg->store_ca_file, .throttle = cd->throttle,
	    .grace_s = (int)s->grace_s };
	if ((rc = mls_condor_submit_desc(s->conf, jobs[0], &b, &desc)) < 0) {
		if (rc == MLS_ECONFIG)
			rc = mls_error_set(MLS_ECONFIG, "site '%s': %s",
			    s->name, mls_error_last());
		goto out;
	}
	mls_buf_reset(&path);
	mls_buf_addf(&path, "%s/%s.sub", cd->data, tag.buf);
	if ((rc = mls_buf_error(&path)) < 0 ||
	    (rc = mls_write_file_atomic(path.buf, desc.buf, desc.len, 0644,
	    0)) < 0)
		goto out;
	/* the idempotency key is on disk before anything is sent */
	if ((line = json_pack("{s:s,s:O}", "batch", tag.buf, "ids", ids)) ==
	    NULL) {
		rc = oom();
		goto out;
	}
	if ((rc = index_append(cd, line)) < 0)
		goto out;
	/* a remote schedd without a shared file system takes the input */
	if ((args = cmd_new(cd, "condor_submit")) == NULL ||
	    (cd->schedd != NULL && cd->transfer &&
	    json_array_append_new(args, json_string("-spool")) == -1) ||
	    extend_new(args, json_pack("[s,s]", "-terse",
	    path.buf)) == -1) {
		rc = oom();
		goto out;
	}
	/* once: a submit that timed out may have got through */
	if ((rc = run_condor(s, args, 1, &res)) < 0)
		goto out;
	if ((cl = mls_condor_parse_terse(res.buf != NULL ? res.buf : "")) <
	    0) {
		rc = mls_error_set(MLS_EPROTO, "site '%s': condor_submit: "
		    "expected 'C.0 - C.N', got '%.80s'", s->name,
		    res.buf != NULL ? res.buf : "");
		goto out;
	}
	json_decref(line);
	if ((line = json_pack("{s:s,s:I}", "batch", tag.buf, "cluster",
	    (json_int_t)cl)) == NULL) {
		rc = oom();
		goto out;
	}
	if ((rc = index_append(cd, line)) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		set_sid(jobs[i], cl, (long long)i);
		json_object_set_new(jobs[i], "state", json_string("queued"));
	}
	mls_debug("site '%s': batch %s: cluster %lld, %zu proc%s", s->name,
	    tag.buf, cl, n, n == 1 ? "" : "s");
	rc = 0;
out:
	json_decref(ids);
	json_decref(line);
	json_decref(args);
	mls_buf_release(&desc);
	mls_buf_release(&items);
	mls_buf_release(&tag);
	mls_buf_release(&path);
	mls_buf_release(&lp);
	mls_buf_release(&outdir);
	mls_buf_release(&res);
	return rc;
}

/*
 * The clusters of batches that were recorded without their cluster (a
 * driver killed around condor_submit): one condor_q and one
 * condor_history on MlsBatch.
 */
static int
find_batches(struct mls_site *s, json_t *tags)
{
	struct condor *cd = s->priv;
	struct mls_buf cons = MLS_BUF_INIT, res = MLS_BUF_INIT;
	static const char *const progs[] = { "condor_q", "condor_history" };
	const char *tag, *p, *e, *end;
	json_t *args = NULL, *v, *line;
	long long c;
	size_t i;
	int rc = 0;

	if (json_object_size(tags) == 0)
		return 0;
	mls_buf_adds(&cons, "member(MlsBatch, {");
	i = 0;
	json_object_foreach(tags, tag, v) {
		if (i++ > 0)
			mls_buf_addc(&cons, ',');
		add_cstr(&cons, tag);
	}
	mls_buf_adds(&cons, "})");
	if ((rc = mls_buf_error(&cons)) < 0)
		goto out;
	for (i = 0; i < 2; i++) {
		json_decref(args);
		if ((args = cmd_new(cd, progs[i])) == NULL ||
		    extend_new(args, json_pack("[s,s,s,s,s]",
		    "-constraint", cons.buf, "-af:t", "MlsBatch",
		    "ClusterId")) == -1) {
			rc = oom();
			goto out;
		}
		if ((rc = run_condor(s, args, 0, &res)) < 0)
			goto out;
		end = res.buf + res.len;
		for (p = res.buf; p != NULL && p < end; p = e + 1) {
			const char *t, *q;

			if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
				e = end;
			if ((t = memchr(p, '\t', (size_t)(e - p))) == NULL)
				continue;
			q = t + 1;
			if ((c = num_at(&q)) < 0)
				continue;
			line = json_pack("{s:s%,s:I}", "batch", p,
			    (size_t)(t - p), "cluster", (json_int_t)c);
			if (line == NULL) {
				rc = oom();
				goto out;
			}
			if (json_object_get(cd->batches,
			    mls_record_str(line, "batch")) == NULL)
				rc = index_append(cd, line);
			json_decref(line);
			if (rc < 0)
				goto out;
		}
	}
	rc = 0;
out:
	json_decref(args);
	mls_buf_release(&cons);
	mls_buf_release(&res);
	return rc;
}

static int
condor_submit(struct mls_site *s, json_t **jobs, size_t n)
{
	struct condor *cd = s->priv;
	json_t **todo = NULL, *unknown = NULL, *ent, *cl;
	const char *tag;
	size_t i, nt = 0, start, end;
	int rc = 0;

	if ((todo = calloc(n, sizeof(*todo))) == NULL ||
	    (unknown = json_object()) == NULL) {
		rc = oom();
		goto out;
	}
	/* batches recorded without a cluster: ask HTCondor, once */
	for (i = 0; i < n; i++) {
		ent = json_object_get(cd->index, mls_record_id(jobs[i]));
		tag = json_string_value(json_array_get(ent, 0));
		if (tag != NULL && json_object_get(cd->batches, tag) == NULL)
			json_object_set_new(unknown, tag, json_true());
	}
	if ((rc = find_batches(s, unknown)) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		ent = json_object_get(cd->index, mls_record_id(jobs[i]));
		tag = json_string_value(json_array_get(ent, 0));
		cl = tag != NULL ? json_object_get(cd->batches, tag) : NULL;
		if (cl == NULL) {
			todo[nt++] = jobs[i];
			continue;
		}
		set_sid(jobs[i], json_integer_value(cl),
		    json_integer_value(json_array_get(ent, 1)));
		json_object_set_new(jobs[i], "state", json_string("queued"));
		mls_debug("site '%s': job '%s' adopted (HTCondor job %s)",
		    s->name, mls_record_id(jobs[i]),
		    mls_record_str(jobs[i], "site_id"));
	}
	for (start = 0; start < nt; start = end) {
		for (end = start + 1; end < nt &&
		    same_resources(todo[start], todo[end]); end++)
			;
		if ((rc = send_batch(s, todo + start, end - start)) < 0)
			goto out;
	}
	rc = 0;
out:
	free(todo);
	json_decref(unknown);
	return rc;
}

/* ---- tracking ------------------------------------------------------------ */

/* Read the new part of batch tag's event log into its view; 0 if no log. */
static int
read_log(struct mls_site *s, const char *tag, json_t **view)
{
	struct condor *cd = s->priv;
	struct mls_buf path = MLS_BUF_INIT, data = MLS_BUF_INIT;
	json_t *st = json_object_get(cd->logs, tag);
	char buf[65536];
	long long off;
	size_t used;
	ssize_t r;
	int fd = -1, rc;

	*view = NULL;
	if (st == NULL) {
		st = json_pack("{s:I,s:{}}", "off", (json_int_t)0, "view");
		if (st == NULL || json_object_set_new(cd->logs, tag, st) == -1) {
			rc = oom();
			goto out;
		}
	}
	off = mls_record_int(st, "off", 0);
	mls_buf_addf(&path, "%s/%s.log", cd->data, tag);
	if ((rc = mls_buf_error(&path)) < 0)
		goto out;
	if ((fd = open(path.buf, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = 0;
		goto out;
	}
	if (lseek(fd, (off_t)off, SEEK_SET) == (off_t)-1) {
		rc = mls_error_set_errno(MLS_EIO, "seek '%s'", path.buf);
		goto out;
	}
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = mls_error_set_errno(MLS_EIO, "read '%s'", path.buf);
			goto out;
		}
		mls_buf_add(&data, buf, (size_t)r);
	}
	if ((rc = mls_buf_error(&data)) < 0)
		goto out;
	used = 0;
	if (data.len > 0 && (rc = mls_condor_parse_log(data.buf, data.len,
	    json_object_get(st, "view"), &used)) < 0)
		goto out;
	json_object_set_new(st, "off", json_integer((json_int_t)(off +
	    (long long)used)));
	*view = json_object_get(st, "view");
	rc = 1;
out:
	if (fd >= 0)
		close(fd);
	mls_buf_release(&path);
	mls_buf_release(&data);
	return rc;
}

/* condor_q, then condor_history for what it lacks, of the clusters. */
static int
ask_condor(struct mls_site *s, json_t *clusters, json_t **jobs, size_t n,
    json_t *view)
{
	struct condor *cd = s->priv;
	struct mls_buf res = MLS_BUF_INIT;
	static const char *const progs[] = { "condor_q", "condor_history" };
	const char *c, *sid;
	json_t *args = NULL, *v;
	size_t i, k, missing;
	int rc = 0;

	for (k = 0; k < 2; k++) {
		if (k == 1) {
			for (i = missing = 0; i < n; i++)
				if ((sid = mls_record_str(jobs[i], "site_id")) !=
				    NULL && json_object_get(view, sid) == NULL)
					missing++;
			if (missing == 0)
				break;
		}
		json_decref(args);
		if ((args = cmd_new(cd, progs[k])) == NULL) {
			rc = oom();
			goto out;
		}
		json_object_foreach(clusters, c, v)
			json_array_append_new(args, json_string(c));
		if (extend_new(args, json_pack("[s,s,s,s,s,s,s,s,s,s]",
		    "-af:t", "ClusterId", "ProcId", "JobStatus",
		    "EnteredCurrentStatus", "ExitCode", "ExitBySignal",
		    "ExitSignal", "HoldReasonCode", "HoldReason")) == -1) {
			rc = oom();
			goto out;
		}
		if ((rc = run_condor(s, args, 0, &res)) < 0)
			goto out;
		if (res.len > 0 && (rc = mls_condor_parse_af(res.buf, res.len,
		    view)) < 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(args);
	mls_buf_release(&res);
	return rc;
}

static int
flush_rm(struct mls_site *s)
{
	struct condor *cd = s->priv;
	struct mls_buf res = MLS_BUF_INIT;
	json_t *args = NULL, *v;
	const char *sid;
	int rc;

	if (json_object_size(cd->rm) == 0)
		return 0;
	if ((args = cmd_new(cd, "condor_rm")) == NULL) {
		rc = oom();
		goto out;
	}
	json_object_foreach(cd->rm, sid, v)
		json_array_append_new(args, json_string(sid));
	rc = run_condor(s, args, 0, &res);
	/* jobs that have just left the queue: nothing to remove */
	if (rc < 0 && rc != MLS_ENET && rc != MLS_EAUTH &&
	    mls_error_last() != NULL &&
	    (strstr(mls_error_last(), "not found") != NULL ||
	    strstr(mls_error_last(), "Couldn't find") != NULL ||
	    strstr(mls_error_last(), "already") != NULL)) {
		mls_error_clear();
		rc = 0;
	}
	if (rc == 0)
		json_object_clear(cd->rm);
out:
	json_decref(args);
	mls_buf_release(&res);
	return rc;
}

static int
condor_poll(struct mls_site *s, json_t **jobs, size_t n)
{
	struct condor *cd = s->priv;
	json_t *asked = NULL, *view = NULL, *lv, *ent;
	const char *sid, *tag, *dot;
	char cl[32];
	size_t i, added = 0;
	double now = mls_time_now(), since;
	int rc = 0, remove;

	/*
	 * Removals gathered by cancel go out now, in one condor_rm; not in
	 * the poll of the one job just cancelled (tracker_cancel polls it):
	 * a run of cancels is followed by one removal.
	 */
	if (json_object_size(cd->rm) > 0 && !(n == 1 && cd->last_cancel &&
	    (sid = mls_record_str(jobs[0], "site_id")) != NULL &&
	    strcmp(sid, cd->last_cancel) == 0) && (rc = flush_rm(s)) < 0)
		goto out;
	if ((asked = json_object()) == NULL || (view = json_object()) == NULL) {
		rc = oom();
		goto out;
	}
	/* the event logs first; the clusters without one are asked */
	for (i = 0; i < n; i++) {
		if ((sid = mls_record_str(jobs[i], "site_id")) == NULL ||
		    (dot = strchr(sid, '.')) == NULL ||
		    (size_t)(dot - sid) >= sizeof(cl))
			continue;
		memcpy(cl, sid, (size_t)(dot - sid));
		cl[dot - sid] = '\0';
		tag = mls_record_str(cd->clusters, cl);
		if (cd->schedd == NULL && cd->pool == NULL && tag != NULL) {
			if ((rc = read_log(s, tag, &lv)) < 0)
				goto out;
			if (rc == 1 && (ent = json_object_get(lv, sid)) !=
			    NULL) {
				json_object_set(view, sid, ent);
				continue;
			}
		}
		json_object_set_new(asked, cl, json_true());
	}
	if (json_object_size(asked) > 0 &&
	    (rc = ask_condor(s, asked, jobs, n, view)) < 0)
		goto out;
	/* the clusters HTCondor knows (a throttled one materializes late) */
	json_object_clear(asked);
	json_object_foreach(view, sid, ent) {
		if ((dot = strchr(sid, '.')) != NULL &&
		    (size_t)(dot - sid) < sizeof(cl)) {
			memcpy(cl, sid, (size_t)(dot - sid));
			cl[dot - sid] = '\0';
			json_object_set_new(asked, cl, json_true());
		}
	}
	for (i = 0; i < n; i++) {
		sid = mls_record_str(jobs[i], "site_id");
		ent = sid != NULL ? json_object_get(view, sid) : NULL;
		if (ent == NULL && cd->throttle > 0 && sid != NULL &&
		    (dot = strchr(sid, '.')) != NULL &&
		    (size_t)(dot - sid) < sizeof(cl)) {
			memcpy(cl, sid, (size_t)(dot - sid));
			cl[dot - sid] = '\0';
			if (json_object_get(asked, cl) != NULL) {
				/* not materialized yet (max_materialize) */
				json_object_set_new(jobs[i], "state",
				    json_string("queued"));
				continue;
			}
		}
		if (ent != NULL && mls_record_int(ent, "status", 0) ==
		    MLS_CONDOR_HELD && mls_record_num(ent, "since", 0) <= 0) {
			/* a hold of unknown start: counted from now */
			since = mls_record_num(cd->held_seen, sid, 0);
			if (since <= 0) {
				since = now;
				json_object_set_new(cd->held_seen, sid,
				    json_real(now));
			}
			ent = json_deep_copy(ent);
			if (ent == NULL) {
				rc = oom();
				goto out;
			}
			json_object_set_new(ent, "since", json_real(since));
			json_object_set_new(view, sid, ent);
		}
		if ((rc = mls_condor_apply(jobs[i], ent, s->name,
		    cd->hold_timeout, now, &remove)) < 0)
			goto out;
		if (remove && json_object_set_new(cd->rm, sid, json_true()) ==
		    -1) {
			rc = oom();
			goto out;
		}
		added += (size_t)remove;
	}
	/* a hold that lasted too long, a time limit: removed at once */
	if (added > 0 && (rc = flush_rm(s)) < 0)
		goto out;
	rc = 0;
out:
	json_decref(asked);
	json_decref(view);
	return rc;
}

static int
condor_cancel(struct mls_site *s, json_t *job)
{
	struct condor *cd = s->priv;
	const char *sid = mls_record_str(job, "site_id");
	const char *p;

	if (sid == NULL || *sid == '\0')
		return mls_error_set(MLS_EINPUT, "job '%s': no HTCondor job id",
		    mls_record_id(job) ? mls_record_id(job) : "?");
	for (p = sid; *p != '\0'; p++)
		if ((*p < '0' || *p > '9') && *p != '.')
			return mls_error_set(MLS_EINPUT, "job '%s': site_id "
			    "'%s': not an HTCondor job id", mls_record_id(job),
			    sid);
	free(cd->last_cancel);
	if ((cd->last_cancel = strdup(sid)) == NULL)
		return oom();
	if (json_object_set_new(cd->rm, sid, json_true()) == -1)
		return oom();
	return 0;
}

/* Its keys in [site "NAME"], documented in mls(7). */
static const char *const condor_keys[] = {
	"schedd", "pool", "universe", "requirements", "rank",
	"accounting_group", "extra", "workdir", "transfer", "throttle",
	"token_file", "hold_timeout", "retry", NULL
};

const struct mls_site_ops mls_site_condor_ops = {
	.type = "condor",
	.keys = condor_keys,
	.open = condor_open,
	.submit = condor_submit,
	.poll = condor_poll,
	.cancel = condor_cancel,
	.close = condor_close,
};
