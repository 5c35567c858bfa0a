/*
 * mls_site_slurm_cli.c - the slurm site's cli transport (mode = cli):
 * sbatch, squeue, sacct, scancel and scontrol, found on PATH and run
 * without a shell (see mls_site_slurm_int.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_error.h"
#include "mls_log.h"
#include "mls_record.h"
#include "mls_site.h"
#include "mls_site_slurm.h"
#include "mls_site_slurm_int.h"

struct cli {
	int	no_sacct;	/* sacct failed once: no accounting here */
};

/*
 * Run a Slurm command; retry while the controller is unreachable.  On
 * failure the error is Slurm's own last line, prefixed with the site.
 */
static int
run_slurm(struct mls_site *s, char *const argv[], struct mls_buf *out)
{
	struct mls_buf err = MLS_BUF_INIT, msg = MLS_BUF_INIT;
	double t0 = mls_time_now(), wait = 0.5;
	int rc, st, code;

	for (;;) {
		if ((rc = mls_slurm_run_prog(argv, out, &err, &st)) < 0) {
			if (rc == MLS_EUNAVAIL) {	/* name the site */
				mls_buf_adds(&msg, mls_error_last());
				rc = mls_error_set(rc, "site '%s': %s", s->name,
				    msg.buf);
			}
			goto out;
		}
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			rc = 0;
			goto out;
		}
		mls_slurm_last_line(err.buf, &msg);
		if (msg.len == 0)
			mls_buf_addf(&msg, "exit status %d", WIFEXITED(st) ?
			    WEXITSTATUS(st) : 128 + WTERMSIG(st));
		code = mls_slurm_classify(msg.buf, 0);
		if (!mls_slurm_may_retry(s, code, t0, wait)) {
			rc = mls_error_set(code, "site '%s': %s: %s%s", s->name,
			    argv[0], msg.buf, code == MLS_ENET ?
			    " (gave up retrying)" : "");
			goto out;
		}
		mls_debug("site '%s': %s: %s; retrying in %.1fs", s->name,
		    argv[0], msg.buf, wait);
		mls_slurm_backoff(&wait);
	}
out:
	mls_buf_release(&err);
	mls_buf_release(&msg);
	return rc;
}

/* ---- parsing ------------------------------------------------------------- */

int
mls_slurm_parse_squeue(const char *text, size_t len, int mls_only,
    json_t **out)
{
	struct mls_buf name = MLS_BUF_INIT, state = MLS_BUF_INIT,
	    reason = MLS_BUF_INIT;
	const char *p, *e, *end = text + len, *b1, *b2, *b3;
	long long job, task;
	json_t *map;
	long line = 0;
	int rc = 0;

	*out = NULL;
	if ((map = json_object()) == NULL)
		return mls_slurm_oom();
	for (p = text; p < end; p = e + 1) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		line++;
		if (e == p)
			continue;
		/* ID|NAME|STATE|REASON; the name may hold '|' itself */
		if (mls_slurm_split4(p, e, &b1, &b2, &b3) < 0 ||
		    mls_slurm_parse_key(p, b1, &job, &task) < 0) {
			rc = mls_error_set(MLS_EPROTO, "squeue: line %ld: "
			    "expected ID|NAME|STATE|REASON, got '%.*s'", line,
			    (int)(e - p > 80 ? 80 : e - p), p);
			goto out;
		}
		mls_buf_reset(&name);
		mls_buf_reset(&state);
		mls_buf_reset(&reason);
		mls_buf_add(&name, b1 + 1, (size_t)(b2 - b1 - 1));
		mls_buf_add(&state, b2 + 1, (size_t)(b3 - b2 - 1));
		mls_buf_add(&reason, b3 + 1, (size_t)(e - b3 - 1));
		mls_slurm_rtrim(&reason);
		if ((rc = mls_buf_error(&name)) < 0 ||
		    (rc = mls_buf_error(&state)) < 0 ||
		    (rc = mls_buf_error(&reason)) < 0)
			goto out;
		if (mls_only && strncmp(name.buf, "mls-", 4) != 0)
			continue;
		if ((rc = mls_slurm_add_entry(map, name.buf, state.buf,
		    reason.buf, job, task)) < 0)
			goto out;
	}
	*out = map;
	map = NULL;
out:
	json_decref(map);
	mls_buf_release(&name);
	mls_buf_release(&state);
	mls_buf_release(&reason);
	return rc;
}

int
mls_slurm_parse_sacct(const char *text, size_t len, int mls_only,
    json_t **out)
{
	struct mls_buf name = MLS_BUF_INIT, state = MLS_BUF_INIT,
	    code = MLS_BUF_INIT;
	const char *p, *e, *end = text + len, *b1, *b2, *b3, *sp;
	long long job, task;
	json_t *map;
	long line = 0;
	int rc = 0;

	*out = NULL;
	if ((map = json_object()) == NULL)
		return mls_slurm_oom();
	for (p = text; p < end; p = e + 1) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		line++;
		if (e == p)
			continue;
		/* JobID|JobName|State|ExitCode; the name may hold '|' */
		if (mls_slurm_split4(p, e, &b1, &b2, &b3) < 0) {
			rc = mls_error_set(MLS_EPROTO, "sacct: line %ld: "
			    "expected JobID|JobName|State|ExitCode, got '%.*s'",
			    line, (int)(e - p > 80 ? 80 : e - p), p);
			goto out;
		}
		/* steps (123.batch) and folded pending arrays (4_[1-9]) */
		if (mls_slurm_parse_key(p, b1, &job, &task) < 0)
			continue;
		mls_buf_reset(&name);
		mls_buf_reset(&state);
		mls_buf_reset(&code);
		mls_buf_add(&name, b1 + 1, (size_t)(b2 - b1 - 1));
		/* "CANCELLED by 0" */
		sp = memchr(b2 + 1, ' ', (size_t)(b3 - b2 - 1));
		mls_buf_add(&state, b2 + 1, (size_t)((sp ? sp : b3) - b2 - 1));
		mls_buf_adds(&code, "exit code ");
		mls_buf_add(&code, b3 + 1, (size_t)(e - b3 - 1));
		mls_slurm_rtrim(&code);
		if ((rc = mls_buf_error(&name)) < 0 ||
		    (rc = mls_buf_error(&state)) < 0 ||
		    (rc = mls_buf_error(&code)) < 0)
			goto out;
		if (mls_only && strncmp(name.buf, "mls-", 4) != 0)
			continue;
		if ((rc = mls_slurm_add_entry(map, name.buf, state.buf,
		    code.buf, job, task)) < 0)
			goto out;
	}
	*out = map;
	map = NULL;
out:
	json_decref(map);
	mls_buf_release(&name);
	mls_buf_release(&state);
	mls_buf_release(&code);
	return rc;
}

/* ---- the sbatch options -------------------------------------------------- */

static int
append_str(json_t *a, const char *s)
{
	return json_array_append_new(a, json_string(s)) == -1 ?
	    mls_slurm_oom() : 0;
}

int
mls_slurm_sbatch_args(const json_t *conf, const json_t *job,
    const char *name, size_t n, long throttle, json_t **out)
{
	static const char *const opt[] = { "partition", "account", "qos" };
	struct mls_buf b = MLS_BUF_INIT;
	struct mls_slurm_req req;
	const char *v, *p, *e;
	json_t *a;
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = mls_slurm_req(conf, job, n, throttle, &req)) < 0)
		return rc;
	if ((a = json_array()) == NULL)
		return mls_slurm_oom();
	mls_buf_addf(&b, "--job-name=%s", name);
	if ((rc = append_str(a, "--parsable")) < 0 ||
	    (rc = append_str(a, b.buf)) < 0)
		goto out;
	mls_buf_reset(&b);
	mls_buf_adds(&b, "--output=");
	mls_slurm_log_path(conf, n, &b);
	if ((rc = append_str(a, b.buf)) < 0)
		goto out;
	mls_buf_reset(&b);
	mls_buf_addf(&b, "--chdir=%s", req.cwd);
	if ((rc = append_str(a, b.buf)) < 0)
		goto out;
	if (req.array[0] != '\0') {
		mls_buf_reset(&b);
		mls_buf_addf(&b, "--array=%s", req.array);
		if ((rc = append_str(a, b.buf)) < 0)
			goto out;
	}
	mls_buf_reset(&b);
	mls_buf_addf(&b, "--cpus-per-task=%lld", req.cpus);
	if ((rc = append_str(a, b.buf)) < 0)
		goto out;
	if (req.gpus > 0) {
		mls_buf_reset(&b);
		mls_buf_addf(&b, "--gpus=%lld", req.gpus);
		if ((rc = append_str(a, b.buf)) < 0)
			goto out;
	}
	if (req.mem_mb >= 0) {
		mls_buf_reset(&b);
		mls_buf_addf(&b, "--mem=%lldM", req.mem_mb);
		if ((rc = append_str(a, b.buf)) < 0)
			goto out;
	}
	if (req.minutes >= 0) {
		mls_buf_reset(&b);
		mls_buf_addf(&b, "--time=%ld", req.minutes);
		if ((rc = append_str(a, b.buf)) < 0)
			goto out;
	}
	for (i = 0; i < sizeof(opt) / sizeof(opt[0]); i++) {
		if ((v = mls_record_str(conf, opt[i])) == NULL || *v == '\0')
			continue;
		mls_buf_reset(&b);
		mls_buf_addf(&b, "--%s=%s", opt[i], v);
		if ((rc = append_str(a, b.buf)) < 0)
			goto out;
	}
	/* extra: more options, split at blanks (no shell, no quoting) */
	if ((v = mls_record_str(conf, "extra")) != NULL) {
		for (p = v; *p != '\0'; p = e) {
			while (*p == ' ' || *p == '\t')
				p++;
			for (e = p; *e != '\0' && *e != ' ' && *e != '\t'; e++)
				;
			if (e == p)
				break;
			mls_buf_reset(&b);
			mls_buf_add(&b, p, (size_t)(e - p));
			if ((rc = mls_buf_error(&b)) < 0 ||
			    (rc = append_str(a, b.buf)) < 0)
				goto out;
		}
	}
	if ((rc = mls_buf_error(&b)) < 0)
		goto out;
	*out = a;
	a = NULL;
out:
	json_decref(a);
	mls_buf_release(&b);
	return rc;
}

/* ---- the transport ------------------------------------------------------- */

static int
cli_open(struct mls_site *s)
{
	struct mls_slurm *sl = s->priv;

	if ((sl->tp_priv = calloc(1, sizeof(struct cli))) == NULL)
		return mls_slurm_oom();
	return 0;
}

static void
cli_close(struct mls_site *s)
{
	struct mls_slurm *sl = s->priv;

	free(sl->tp_priv);
	sl->tp_priv = NULL;
}

static int
cli_list(struct mls_site *s, json_t **out)
{
	struct mls_buf b = MLS_BUF_INIT;
	char *argv[] = { "squeue", "--me", "-h", "-t", "all", "-r", "-o",
	    "%i|%j|%T|%r", NULL };
	int rc;

	*out = NULL;
	if ((rc = run_slurm(s, argv, &b)) == 0)
		rc = mls_slurm_parse_squeue(b.buf, b.len, 1, out);
	mls_buf_release(&b);
	return rc;
}

/* For jobs Slurm no longer lists: sacct, when accounting is there. */
static int
cli_history(struct mls_site *s, json_t **jobs, size_t n, json_t *list)
{
	struct mls_slurm *sl = s->priv;
	struct cli *c = sl->tp_priv;
	struct mls_buf ids = MLS_BUF_INIT, out = MLS_BUF_INIT,
	    err = MLS_BUF_INIT;
	char *argv[] = { "sacct", "-n", "-P", "-X", "-o",
	    "JobID,JobName,State,ExitCode", "-j", NULL, NULL };
	const char *sid;
	json_t *more = NULL;
	size_t i;
	int rc = 0, st;

	if (c->no_sacct)
		return 0;
	for (i = 0; i < n; i++) {
		sid = mls_record_str(jobs[i], "site_id");
		if (sid != NULL && json_object_get(list, sid) == NULL)
			mls_buf_addf(&ids, "%s%s", ids.len ? "," : "", sid);
	}
	if (ids.len == 0 || (rc = mls_buf_error(&ids)) < 0)
		goto out;
	argv[7] = ids.buf;
	if ((rc = mls_slurm_run_prog(argv, &out, &err, &st)) < 0) {
		c->no_sacct = 1;	/* no sacct here */
		mls_error_clear();
		rc = 0;
		goto out;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		/* "Slurm accounting storage is disabled": do not ask again */
		if (strstr(err.buf, "disabled") != NULL)
			c->no_sacct = 1;
		goto out;
	}
	if (mls_slurm_parse_sacct(out.buf, out.len, 1, &more) < 0) {
		mls_error_clear();
		goto out;
	}
	json_object_update(list, more);
out:
	json_decref(more);
	mls_buf_release(&ids);
	mls_buf_release(&out);
	mls_buf_release(&err);
	return rc;
}

/*
 * sbatch failed with the controller away: it may have got through before
 * the line broke, so look for name before giving up.
 */
static int
find_sent(struct mls_site *s, const char *name, long long *job_id)
{
	char *em = strdup(mls_error_last());
	json_t *list = NULL, *names;
	const char *a;
	int rc;

	if (cli_list(s, &list) == 0 &&
	    (names = mls_slurm_names_of(list)) != NULL) {
		if ((a = mls_record_str(names, name)) != NULL)
			*job_id = atoll(a);
		json_decref(names);
	}
	if (*job_id <= 0)
		rc = mls_error_set(MLS_ENET, "%s", em ? em :
		    "site: controller unreachable");
	else
		rc = 0;
	free(em);
	json_decref(list);
	return rc;
}

static int
cli_submit(struct mls_site *s, const json_t *job, const char *name, size_t n,
    const char *script, long long *job_id)
{
	struct mls_slurm *sl = s->priv;
	struct mls_buf path = MLS_BUF_INIT, out = MLS_BUF_INIT;
	size_t len = strlen(script), i, na;
	json_t *args = NULL;
	char **argv = NULL;
	long long aid = -1;
	int rc, fd = -1;

	/* sbatch reads the script from a private temp file */
	mls_buf_addf(&path, "%s/batch-XXXXXX", sl->data);
	if ((rc = mls_buf_error(&path)) < 0)
		goto out;
	if ((fd = mkostemp(path.buf, O_CLOEXEC)) < 0) {
		rc = mls_error_set_errno(MLS_EIO, "create '%s'", path.buf);
		goto out;
	}
	if (write(fd, script, len) != (ssize_t)len || close(fd) == -1) {
		fd = -1;
		rc = mls_error_set_errno(MLS_EIO, "write '%s'", path.buf);
		goto out;
	}
	fd = -1;
	if ((rc = mls_slurm_sbatch_args(s->conf, job, name, n, sl->throttle,
	    &args)) < 0)
		goto out;
	na = json_array_size(args);
	if ((argv = calloc(na + 3, sizeof(*argv))) == NULL) {
		rc = mls_slurm_oom();
		goto out;
	}
	argv[0] = "sbatch";
	for (i = 0; i < na; i++)
		argv[i + 1] = (char *)json_string_value(json_array_get(args,
		    i));
	argv[na + 1] = path.buf;
	rc = run_slurm(s, argv, &out);
	if (rc == MLS_ENET) {
		if ((rc = find_sent(s, name, &aid)) < 0)
			goto out;
	} else if (rc < 0) {
		goto out;
	} else if ((aid = atoll(out.buf)) <= 0) {	/* "123;cluster" too */
		mls_slurm_rtrim(&out);
		rc = mls_error_set(MLS_EPROTO, "site '%s': sbatch: unexpected "
		    "output '%s'", s->name, out.buf);
		goto out;
	}
	*job_id = aid;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (path.len > 0)
		(void)unlink(path.buf);
	free(argv);
	json_decref(args);
	mls_buf_release(&path);
	mls_buf_release(&out);
	return rc;
}

static int
cli_cancel(struct mls_site *s, const char *sid)
{
	struct mls_buf b = MLS_BUF_INIT;
	char *argv[] = { "scancel", (char *)sid, NULL };
	int rc;

	rc = run_slurm(s, argv, &b);
	mls_buf_release(&b);
	return rc;
}

/* MaxArraySize - 1 (the largest index) from scontrol. */
static long
cli_max_array(struct mls_site *s)
{
	struct mls_buf out = MLS_BUF_INIT, err = MLS_BUF_INIT;
	char *argv[] = { "scontrol", "show", "config", NULL };
	const char *p;
	long max = 0;
	int st;

	(void)s;
	if (mls_slurm_run_prog(argv, &out, &err, &st) == 0 &&
	    WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    (p = strstr(out.buf, "MaxArraySize")) != NULL &&
	    (p = strchr(p, '=')) != NULL && atol(p + 1) > 1)
		max = atol(p + 1) - 1;
	mls_buf_release(&out);
	mls_buf_release(&err);
	return max;
}

const struct mls_slurm_transport mls_slurm_cli = {
	.mode = "cli",
	.open = cli_open,
	.close = cli_close,
	.list = cli_list,
	.history = cli_history,
	.submit = cli_submit,
	.cancel = cli_cancel,
	.max_array = cli_max_array,
};
