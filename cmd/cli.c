#include "config.h"

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "mls_buf.h"
#include "mls_config.h"
#include "mls_error.h"
#include "mls_input.h"
#include "mls_log.h"
#include "mls_record.h"
#include "mls_time.h"
#include "mls_track.h"
#include "mls_version.h"

int cli_verbosity;

static void
log_handler(int level, const char *msg, void *arg)
{
	(void)arg;
	if (level == MLS_LOG_DEBUG && cli_verbosity < 1)
		return;
	if (level == MLS_LOG_INFO && cli_verbosity < 0)
		return;
	if (level == MLS_LOG_WARN)
		warnx("%s", msg);
	else
		fprintf(stderr, "%s: %s\n", program_invocation_short_name, msg);
}

void
cli_init(int argc, char *argv[])
{
	const char *d = getenv("MLS_DEBUG");

	(void)argc;
	(void)argv;
	if (d != NULL && *d != '\0' && strcmp(d, "0") != 0)
		cli_verbosity = 1;
	mls_log_set_handler(log_handler, NULL);
}

void
cli_set_verbosity(int v)
{
	cli_verbosity = v;
}

int
cli_exit_code(int rc)
{
	switch (rc) {
	case MLS_OK: return EX_OK;
	case MLS_ENOMEM: return EX_SOFTWARE;
	case MLS_EIO: return EX_IOERR;
	case MLS_EINPUT: return EX_DATAERR;
	case MLS_ENOTFOUND: return EX_NOINPUT;
	case MLS_ENET: return EX_TEMPFAIL;
	case MLS_EPROTO: return EX_PROTOCOL;
	case MLS_EAUTH: return EX_NOPERM;
	case MLS_ECONFIG: return EX_CONFIG;
	case MLS_EUNAVAIL: return EX_UNAVAILABLE;
	case MLS_EAMBIG: return EX_DATAERR;
	default: return rc > 0 ? rc : EX_SOFTWARE;
	}
}

/*
 * The version, then the libraries it runs with, one a line, as `curl -V`
 * does: what a bug report needs.
 */
void
cli_version(void)
{
	char *libs = NULL;

	printf("%s (mls) %s\n", program_invocation_short_name, PACKAGE_VERSION);
	if (mls_version_libs(&libs) == 0)
		fputs(libs, stdout);
	else
		warnx("%s", mls_error_last());
	free(libs);
	exit(cli_close_stdout() == 0 ? EX_OK : EX_IOERR);
}

void
cli_usage(FILE *fp, const char *synopsis, int status)
{
	fputs(synopsis, fp);
	if (fp == stdout)
		fprintf(fp, "\nSee %s(1) for the options.\n",
		    program_invocation_short_name);
	else
		fprintf(fp, "Try '%s --help' for more information.\n",
		    program_invocation_short_name);
	exit(status);
}

void
cli_help(const char *synopsis, const char *help)
{
	fputs(synopsis, stdout);
	putchar('\n');
	fputs(help, stdout);
	exit(cli_close_stdout() == 0 ? EX_OK : EX_IOERR);
}

enum cli_format
cli_parse_format(const char *s)
{
	if (strcmp(s, "table") == 0)
		return CLI_FMT_TABLE;
	if (strcmp(s, "json") == 0)
		return CLI_FMT_JSON;
	if (strcmp(s, "jsonl") == 0)
		return CLI_FMT_JSONL;
	if (strcmp(s, "auto") == 0)
		return CLI_FMT_AUTO;
	warnx("--format: '%s' is not one of table, json, jsonl", s);
	exit(EX_USAGE);
}

enum cli_format
cli_resolve_format(enum cli_format f)
{
	if (f != CLI_FMT_AUTO)
		return f;
	return isatty(STDOUT_FILENO) ? CLI_FMT_TABLE : CLI_FMT_JSONL;
}

int
cli_close_stdout(void)
{
	int bad = ferror(stdout);

	if (fflush(stdout) == EOF)
		bad = 1;
	if (fclose(stdout) == EOF && errno != EBADF)
		bad = 1;
	return bad ? -1 : 0;
}

int
cli_color(FILE *fp)
{
	const char *nc = getenv("NO_COLOR");
	const char *term = getenv("TERM");

	if (nc != NULL && *nc != '\0')
		return 0;
	if (term != NULL && strcmp(term, "dumb") == 0)
		return 0;
	return isatty(fileno(fp));
}

int
cli_progress(void)
{
	return cli_verbosity >= 0 && isatty(STDERR_FILENO);
}

void
cli_out_init(struct cli_out *o, enum cli_format fmt, const char *columns)
{
	o->fmt = cli_resolve_format(fmt);
	o->columns = columns;
	o->rows = json_array();
	o->err = 0;
}

int
cli_out_record(struct cli_out *o, const json_t *rec)
{
	if (o->fmt == CLI_FMT_JSONL) {
		if (mls_jsonl_write(stdout, rec) < 0 || fflush(stdout) == EOF) {
			o->err = 1;
			return -1;
		}
		return 0;
	}
	json_array_append_new(o->rows, json_deep_copy(rec));
	return 0;
}

char *
cli_cell(const json_t *rec, const char *path)
{
	struct mls_buf b = MLS_BUF_INIT;
	const json_t *v = rec;
	char *p, *tok, *save = NULL;
	char *s;

	if ((p = strdup(path)) == NULL)
		return NULL;
	for (tok = strtok_r(p, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save))
		v = json_object_get(v, tok);
	free(p);
	if (v == NULL || json_is_null(v))
		return strdup("-");
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_real(v)) {
		mls_buf_addf(&b, "%.6g", json_real_value(v));
		return mls_buf_detach(&b);
	}
	if (json_is_array(v) && json_array_size(v) > 0 &&
	    json_is_string(json_array_get(v, 0))) {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
			mls_buf_addf(&b, "%s%s", i ? " " : "",
			    json_is_string(x) ? json_string_value(x) : "?");
		return mls_buf_detach(&b);
	}
	s = json_dumps(v, MLS_JSON_COMPACT | JSON_ENCODE_ANY);
	return s;
}

static int
print_table(struct cli_out *o)
{
	char *cols, *tok, *save = NULL;
	size_t ncol = 0, i, j, *w;
	const char *names[32];
	char ***cells;
	size_t nrow = json_array_size(o->rows);
	int color = cli_color(stdout);

	if ((cols = strdup(o->columns)) == NULL)
		return -1;
	for (tok = strtok_r(cols, ",", &save); tok && ncol < 32;
	    tok = strtok_r(NULL, ",", &save))
		names[ncol++] = tok;
	w = calloc(ncol, sizeof(*w));
	cells = calloc(nrow + 1, sizeof(*cells));
	if (w == NULL || cells == NULL) {
		free(w);
		free(cells);
		free(cols);
		return -1;
	}
	for (j = 0; j < ncol; j++) {
		const char *h = strrchr(names[j], '.') ? strrchr(names[j], '.') + 1 : names[j];
		w[j] = strlen(h);
	}
	for (i = 0; i < nrow; i++) {
		cells[i] = calloc(ncol, sizeof(char *));
		for (j = 0; cells[i] && j < ncol; j++) {
			cells[i][j] = cli_cell(json_array_get(o->rows, i), names[j]);
			if (cells[i][j] && strlen(cells[i][j]) > w[j])
				w[j] = strlen(cells[i][j]);
		}
	}
	if (color)
		fputs("\033[1m", stdout);
	for (j = 0; j < ncol; j++) {
		const char *h = strrchr(names[j], '.') ? strrchr(names[j], '.') + 1 : names[j];
		char up[64];
		size_t k;
		for (k = 0; h[k] && k < sizeof(up) - 1; k++)
			up[k] = (char)(h[k] >= 'a' && h[k] <= 'z' ? h[k] - 32 : h[k]);
		up[k] = '\0';
		printf("%-*s%s", j + 1 < ncol ? (int)w[j] : 0, up, j + 1 < ncol ? "  " : "");
	}
	if (color)
		fputs("\033[0m", stdout);
	putchar('\n');
	for (i = 0; i < nrow; i++) {
		for (j = 0; cells[i] && j < ncol; j++) {
			const char *c = cells[i][j] ? cells[i][j] : "?";
			const char *col = NULL;
			if (color && strcmp(names[j], "state") == 0) {
				if (strcmp(c, "succeeded") == 0) col = "\033[32m";
				else if (strcmp(c, "failed") == 0 || strcmp(c, "lost") == 0) col = "\033[31m";
				else if (strcmp(c, "running") == 0) col = "\033[33m";
			}
			if (col)
				fputs(col, stdout);
			printf("%-*s", j + 1 < ncol ? (int)w[j] : 0, c);
			if (col)
				fputs("\033[0m", stdout);
			if (j + 1 < ncol)
				fputs("  ", stdout);
			free(cells[i][j]);
		}
		putchar('\n');
		free(cells[i]);
	}
	free(cells);
	free(w);
	free(cols);
	return ferror(stdout) ? -1 : 0;
}

int
cli_out_finish(struct cli_out *o)
{
	int rc = o->err ? -1 : 0;

	if (o->fmt == CLI_FMT_JSON) {
		if (json_dumpf(o->rows, stdout, MLS_JSON_PRETTY) == -1 ||
		    fputc('\n', stdout) == EOF)
			rc = -1;
	} else if (o->fmt == CLI_FMT_TABLE && json_array_size(o->rows) > 0) {
		if (print_table(o) < 0)
			rc = -1;
	}
	json_decref(o->rows);
	o->rows = NULL;
	return rc;
}

void
cli_sleep(double seconds)
{
	struct timespec ts;

	if (seconds <= 0)
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR && !cli_stop)
		;
}

static void
progress_line(const json_t *jobs, double t0, int final)
{
	size_t c[7];

	mls_track_count(jobs, c);
	fprintf(stderr, "\r\033[K%zu/%zu done: %zu succeeded, %zu failed%s%s, "
	    "%zu running, %zu queued  %.0fs%s",
	    c[MLS_STATE_SUCCEEDED] + c[MLS_STATE_FAILED] + c[MLS_STATE_CANCELLED] +
	    c[MLS_STATE_LOST], json_array_size(jobs), c[MLS_STATE_SUCCEEDED],
	    c[MLS_STATE_FAILED] + c[MLS_STATE_LOST],
	    c[MLS_STATE_CANCELLED] ? ", cancelled " : "",
	    c[MLS_STATE_CANCELLED] ? "some" : "",
	    c[MLS_STATE_RUNNING], c[MLS_STATE_QUEUED], mls_time_now() - t0,
	    final ? "\n" : "");
	fflush(stderr);
}

static int
all_final(const json_t *jobs)
{
	size_t i;
	json_t *rec;

	json_array_foreach(jobs, i, rec)
		if (mls_track_is_job(rec) &&
		    !mls_state_final(mls_state_parse(mls_record_str(rec, "state"))))
			return 0;
	return 1;
}

int
cli_wait(struct mls_tracker *t, json_t *jobs, double timeout,
    void (*on_change)(json_t *rec, void *arg), void *arg)
{
	double t0 = mls_time_now(), delay = 0.1;
	int progress = cli_progress(), rc;
	json_t *prev = NULL;
	size_t i;

	for (;;) {
		prev = json_deep_copy(jobs);
		if ((rc = mls_tracker_poll(t, jobs)) < 0) {
			json_decref(prev);
			return rc;
		}
		if (rc > 0) {
			delay = 0.1;
			for (i = 0; on_change != NULL && i < json_array_size(jobs); i++) {
				json_t *a = json_array_get(prev, i), *b = json_array_get(jobs, i);
				const char *sa = mls_record_str(a, "state");
				const char *sb = mls_record_str(b, "state");
				if ((sa == NULL) != (sb == NULL) ||
				    (sa != NULL && strcmp(sa, sb) != 0))
					on_change(b, arg);
			}
		}
		json_decref(prev);
		if (progress)
			progress_line(jobs, t0, 0);
		if (all_final(jobs)) {
			if (progress)
				progress_line(jobs, t0, 1);
			return 0;
		}
		if (timeout >= 0 && mls_time_now() - t0 >= timeout) {
			if (progress)
				progress_line(jobs, t0, 1);
			return EX_TIMEOUT;
		}
		if (cli_stop) {
			if (progress)
				progress_line(jobs, t0, 1);
			return cli_stop_status();
		}
		cli_sleep(delay);
		if (delay < 1.0)
			delay *= 1.5;
	}
}

int
cli_jobs_status(const json_t *jobs)
{
	size_t i;
	json_t *rec;

	json_array_foreach(jobs, i, rec)
		if (mls_track_is_job(rec) &&
		    mls_state_parse(mls_record_str(rec, "state")) != MLS_STATE_SUCCEEDED)
			return EX_WORKFAILED;
	return EX_OK;
}

int
cli_watch(struct mls_tracker *t, json_t *jobs, double timeout,
    const char *columns)
{
	double t0 = mls_time_now();
	struct cli_out out;
	size_t i, c[7];
	int rc;

	for (;;) {
		if ((rc = mls_tracker_poll(t, jobs)) < 0)
			return rc;
		mls_track_count(jobs, c);
		fputs("\033[H\033[2J", stdout);
		printf("%zu jobs: %zu succeeded, %zu failed, %zu running, %zu queued"
		    "  (%.0fs, Ctrl-C to stop watching)\n\n", json_array_size(jobs),
		    c[MLS_STATE_SUCCEEDED], c[MLS_STATE_FAILED] + c[MLS_STATE_LOST] +
		    c[MLS_STATE_CANCELLED], c[MLS_STATE_RUNNING], c[MLS_STATE_QUEUED],
		    mls_time_now() - t0);
		cli_out_init(&out, CLI_FMT_TABLE, columns);
		for (i = 0; i < json_array_size(jobs); i++)
			cli_out_record(&out, json_array_get(jobs, i));
		cli_out_finish(&out);
		fflush(stdout);
		if (all_final(jobs))
			return 0;
		if (timeout >= 0 && mls_time_now() - t0 >= timeout)
			return EX_TIMEOUT;
		cli_sleep(1.0);
	}
}

int
cli_stdin_has_input(void)
{
	struct stat sb;

	if (fstat(STDIN_FILENO, &sb) == -1)
		return 0;
	return S_ISFIFO(sb.st_mode) || S_ISREG(sb.st_mode) || S_ISSOCK(sb.st_mode);
}

int
cli_stdin_records(void)
{
	enum mls_input what;
	int rc;

	if ((rc = mls_input_peek(STDIN_FILENO, &what)) < 0)
		errx(EX_IOERR, "stdin: %s", mls_error_last());
	if (what == MLS_INPUT_UNKNOWN)	/* no way to peek: read, as before */
		return cli_stdin_has_input();
	return what == MLS_INPUT_RECORDS;
}

void
cli_stdin_die(int rc)
{
	warnx("%s", mls_error_last());
	errx(cli_exit_code(rc), "stdin was read because it starts with '{'; "
	    "use --no-input to leave it alone");
}

long
cli_opt_count_max(const char *synopsis, const char *opt, const char *s, long min,
    long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max ||
	    !isdigit((unsigned char)*s)) {
		warnx("%s: '%s' is not a whole number >= %ld and <= %ld", opt, s,
		    min, max);
		cli_usage(stderr, synopsis, EX_USAGE);
	}
	return v;
}

long
cli_opt_count(const char *synopsis, const char *opt, const char *s, long min)
{
	return cli_opt_count_max(synopsis, opt, s, min, CLI_COUNT_MAX);
}

static double
opt_duration(const char *synopsis, const char *opt, const char *s, double min)
{
	double d = mls_duration_parse(s);

	if (d < min) {
		warnx("%s: '%s' is not a duration like 90s, 15m or 2h, %s 365d",
		    opt, s, min > 0 ? "above 0 and at most" : "at most");
		cli_usage(stderr, synopsis, EX_USAGE);
	}
	return d;
}

double
cli_opt_duration(const char *synopsis, const char *opt, const char *s)
{
	return opt_duration(synopsis, opt, s, 1e-9);
}

double
cli_opt_duration0(const char *synopsis, const char *opt, const char *s)
{
	return opt_duration(synopsis, opt, s, 0);
}

long long
cli_opt_mem_mb(const char *synopsis, const char *opt, const char *s)
{
	long long sz = mls_size_parse(s);

	if (sz <= 0) {
		warnx("%s: '%s' is not a size like 512M or 4G", opt, s);
		cli_usage(stderr, synopsis, EX_USAGE);
	}
	return strspn(s, "0123456789") == strlen(s) ? sz :
	    (sz + (1 << 20) - 1) >> 20;
}

void
cli_opt_kv(const char *synopsis, const char *opt, const char *s, json_t *obj,
    int typed)
{
	const char *eq = strchr(s, '=');
	json_t *v = NULL;
	char *key;

	if (eq == NULL || eq == s) {
		warnx("%s: '%s' is not KEY=VALUE", opt, s);
		cli_usage(stderr, synopsis, EX_USAGE);
	}
	if ((key = strndup(s, (size_t)(eq - s))) == NULL)
		err(EX_SOFTWARE, "strndup");
	if (typed)
		v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
	if (v != NULL && (json_is_object(v) || json_is_array(v) ||
	    json_is_string(v))) {
		json_decref(v);
		v = NULL;
	}
	if (v == NULL)
		v = json_string(eq + 1);
	json_object_set_new(obj, key, v);
	free(key);
}

json_t *
cli_opt_sites(const char *synopsis, const char *list)
{
	json_t *arr = json_array();
	char *copy, *tok, *save = NULL;

	if ((copy = strdup(list)) == NULL)
		err(EX_SOFTWARE, "strdup");
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		long cap = 0;
		if (colon != NULL) {
			*colon = '\0';
			cap = cli_opt_count(synopsis, "--site", colon + 1, 1);
		}
		if (*tok == '\0') {
			warnx("--site: empty site name in '%s'", list);
			cli_usage(stderr, synopsis, EX_USAGE);
		}
		json_array_append_new(arr, json_pack("{s:s,s:I}", "name", tok, "cap",
		    (json_int_t)cap));
	}
	free(copy);
	if (json_array_size(arr) == 0) {
		warnx("--site: no site in '%s'", list);
		cli_usage(stderr, synopsis, EX_USAGE);
	}
	return arr;
}

void
cli_detach(const struct mls_config *cfg, const char *id)
{
	struct mls_buf b = MLS_BUF_INIT;
	char *dir = NULL;
	pid_t pid;
	int rc, fd;

	mls_buf_addf(&b, "campaigns/%s", id);
	if ((rc = mls_buf_error(&b)) < 0 ||
	    (rc = mls_config_data_dir(cfg, b.buf, &dir)) < 0)
		errx(cli_exit_code(rc), "%s", mls_error_last());
	mls_buf_reset(&b);
	mls_buf_addf(&b, "%s/driver.log", dir);
	free(dir);
	if (mls_buf_error(&b) < 0)
		errx(EX_SOFTWARE, "out of memory");
	fflush(stdout);
	if ((pid = fork()) == -1)
		err(EX_OSERR, "fork");
	if (pid > 0) {
		printf("%s\n", id);
		mls_buf_release(&b);
		exit(cli_close_stdout() == -1 ? EX_IOERR : EX_OK);
	}
	setsid();
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	if ((fd = open(b.buf, O_WRONLY | O_CREAT | O_APPEND, 0600)) != -1) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	mls_buf_release(&b);
	cli_set_verbosity(cli_verbosity < 0 ? 0 : cli_verbosity);
}

json_t *
cli_read_stdin_sandbox(void)
{
	struct mls_jsonl_reader in;
	json_t *rec = NULL, *sb = NULL;
	int more;

	if (!cli_stdin_records())
		return NULL;
	mls_jsonl_reader_init(&in, stdin, "<stdin>");
	while ((more = mls_jsonl_read(&in, &rec)) > 0) {
		const char *k = mls_record_kind(rec);
		if (k != NULL && strcmp(k, "sandbox") == 0) {
			json_decref(sb);
			sb = rec;
		} else {
			json_decref(rec);
		}
	}
	if (more < 0)
		cli_stdin_die(more);
	mls_jsonl_reader_release(&in);
	return sb;
}

volatile sig_atomic_t cli_stop;

static void
on_stop_signal(int sig)
{
	cli_stop = sig;
}

void
cli_catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}
