/*
 * cli.h - front-end helpers shared by the tools: the exit-code table,
 * output formats, the stdout close check, verbosity and colour.
 * This is the one file in cmd/ that is not a tool; it may print and exit.
 */
#ifndef MLS_CLI_H
#define MLS_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stdio.h>

#include <jansson.h>

/* sysexits-style statuses (STYLE.md section 2, mls(7)) */
#define EX_WORKFAILED	1
#define EX_TIMEOUT	124
#define EX_INTERRUPTED	130

enum cli_format { CLI_FMT_AUTO = 0, CLI_FMT_TABLE, CLI_FMT_JSON, CLI_FMT_JSONL };

/* Long options every tool has; their short letters: h V s: q v */
#define CLI_OPT_FORMAT	0x1001
#define CLI_COMMON_LONGOPTS \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'V' }, \
	{ "site", required_argument, NULL, 's' }, \
	{ "format", required_argument, NULL, CLI_OPT_FORMAT }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "verbose", no_argument, NULL, 'v' }

extern int cli_verbosity;	/* -1 quiet, 0 normal, 1+ verbose */

/* Call first in main: installs the log handler (MLS_DEBUG=1 or -v). */
void	 cli_init(int argc, char *argv[]);
/* Raise or lower verbosity (for -v / -q). */
void	 cli_set_verbosity(int v);
/* Map a lib/ code (<0) to an exit status; 0 stays 0. */
int	 cli_exit_code(int rc);
/* Print "PROG (mls) VERSION" and exit 0. */
void	 cli_version(void) __attribute__((noreturn));
/* Parse a --format value; exits 64 on a bad one. */
enum cli_format cli_parse_format(const char *s);
/* Resolve AUTO: table when stdout is a terminal, JSON lines otherwise. */
enum cli_format cli_resolve_format(enum cli_format f);
/* fflush + fclose(stdout) check: -1 when a write failed (disk full, EPIPE). */
int	 cli_close_stdout(void);
/* Colour on stderr/stdout allowed (a terminal and NO_COLOR unset). */
int	 cli_color(FILE *fp);
/* Progress on stderr allowed (a terminal and not -q). */
int	 cli_progress(void);
/* Print a usage message to fp (synopsis lines) and exit with status. */
void	 cli_usage(FILE *fp, const char *synopsis, int status)
	    __attribute__((noreturn));

/*
 * Record output in the chosen format.  JSON lines are written as they
 * come; "json" writes one array at the end; "table" collects the records
 * and prints the given columns (comma-separated dotted paths) at the end.
 */
struct cli_out {
	enum cli_format	 fmt;
	const char	*columns;
	json_t		*rows;
	int		 err;
};
void	 cli_out_init(struct cli_out *o, enum cli_format fmt, const char *columns);
/* Emit rec (borrowed); returns -1 on a write error. */
int	 cli_out_record(struct cli_out *o, const json_t *rec);
/* Flush a table or JSON array; returns -1 on a write error. */
int	 cli_out_finish(struct cli_out *o);
/* Render a value for a table cell (new string). */
char	*cli_cell(const json_t *rec, const char *path);

struct mls_tracker;
/*
 * Poll jobs (an array of job records, refreshed in place) until every one
 * is final or timeout seconds (<0: no limit) pass.  on_change (may be NULL)
 * is called with each record whose state changed.  A progress line goes
 * to stderr when it is a terminal.  Returns 0, EX_TIMEOUT, or a lib code.
 */
int	 cli_wait(struct mls_tracker *t, json_t *jobs, double timeout,
	    void (*on_change)(json_t *rec, void *arg), void *arg);
/* As cli_wait, redrawing a table of columns in place on stdout. */
int	 cli_watch(struct mls_tracker *t, json_t *jobs, double timeout,
	    const char *columns);
/* mls-status CAMPAIGN...: the campaign view (cmd/cli_campaign.c). */
struct mls_config;
struct mls_store;
int	 cli_campaign_status(const struct mls_config *cfg, struct mls_store *st,
	    struct mls_tracker *t, int argc, char *argv[], enum cli_format fmt,
	    int watch);
/* Append the trial/member records of a campaign (the best K if k > 0). */
int	 cli_campaign_jobs(const struct mls_config *cfg, const char *id, long k,
	    json_t *jobs);
/*
 * An ensemble (id prefix): its ensemble record and the job records of its
 * succeeded members, in member order (new references).
 */
int	 cli_ensemble_load(const struct mls_config *cfg, const char *id,
	    json_t **ens, json_t **jobs);
/* 0 when every job succeeded, EX_WORKFAILED otherwise. */
int	 cli_jobs_status(const json_t *jobs);
/*
 * Does stdin carry records?  Only a pipe, a file or a socket does: a
 * terminal or /dev/null (a character device) means "no input", so that
 * `mls-status </dev/null` lists recent jobs while an empty pipe stays empty.
 */
int	 cli_stdin_has_input(void);
/*
 * Option values shared by the tools.  On a bad value each one prints
 * "OPT: 'VALUE' is not ..." and the synopsis on stderr, and exits 64.
 */
long	 cli_opt_count(const char *synopsis, const char *opt, const char *s,
	    long min);
double	 cli_opt_duration(const char *synopsis, const char *opt, const char *s);
/* A memory size in MiB: "4G", "512M"; a bare number is MiB, as in Slurm. */
long long cli_opt_mem_mb(const char *synopsis, const char *opt, const char *s);
/*
 * KEY=VALUE into obj; with typed, VALUE is a JSON number, true, false or
 * null when it parses as one, else a string.
 */
void	 cli_opt_kv(const char *synopsis, const char *opt, const char *s,
	    json_t *obj, int typed);
/* "a,b:64": sites with optional caps, as [{"name","cap"}] (new array). */
json_t	*cli_opt_sites(const char *synopsis, const char *list);
/*
 * --detach: fork; the parent prints id and exits 0; the child leaves the
 * terminal's session, reads /dev/null, writes records nowhere and its
 * diagnostics to DATA/campaigns/ID/driver.log, and returns.
 */
void	 cli_detach(const struct mls_config *cfg, const char *id);
/* The last sandbox record on stdin (a pipe or file), or NULL (new ref). */
json_t	*cli_read_stdin_sandbox(void);
/* SIGINT, SIGTERM and SIGHUP set cli_stop (for a journalled, clean end). */
extern volatile sig_atomic_t cli_stop;
void	 cli_catch_stop_signals(void);
/* Sleep for seconds (fractions allowed). */
void	 cli_sleep(double seconds);

#endif
