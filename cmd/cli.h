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
/*
 * Print a usage message to fp (synopsis lines) and exit with status; on
 * stderr it ends with "Try 'PROG --help'", for a usage error (64).
 */
void	 cli_usage(FILE *fp, const char *synopsis, int status)
	    __attribute__((noreturn));
/*
 * -h/--help: the synopsis, a blank line and help (what the tool does, its
 * options grouped, two examples) on stdout; exit 0 (74 when stdout fails).
 */
void	 cli_help(const char *synopsis, const char *help)
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
 * to stderr when it is a terminal.  Returns 0, EX_TIMEOUT, a lib code, or
 * cli_stop_status() once a caught signal set cli_stop.
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
 * Does stdin hold records for a tool that reads them only when they are
 * there (mls-submit, mls-search, mls-ensemble)?  Its first bytes are
 * looked at without being consumed (lib/mls_input.h): 1 when the first
 * byte after blanks is '{'.  A terminal, /dev/null, an empty pipe or file,
 * and anything else, such as the rest of a script fed to bash or the input
 * of a while-read loop, give 0 and are left for their owner.  Exits 74
 * when stdin cannot be looked at.
 */
int	 cli_stdin_records(void);
/*
 * After an error in records read from stdin: warn with the library's
 * message, say why stdin was read, and exit with rc's status.
 */
void	 cli_stdin_die(int rc) __attribute__((noreturn));
/*
 * Option values shared by the tools.  On a bad value each one prints
 * "OPT: 'VALUE' is not ..." and the synopsis on stderr, and exits 64.
 */
/* The largest count cli_opt_count takes (trials, members, cpus, ...). */
#define CLI_COUNT_MAX	1000000L
/* A whole number, digits only, from min to CLI_COUNT_MAX. */
long	 cli_opt_count(const char *synopsis, const char *opt, const char *s,
	    long min);
/* A whole number, digits only, from min to max. */
long	 cli_opt_count_max(const char *synopsis, const char *opt, const char *s,
	    long min, long max);
/* A duration above 0 and at most 365d (MLS_DURATION_MAX), finite. */
double	 cli_opt_duration(const char *synopsis, const char *opt, const char *s);
/* The same, 0 allowed. */
double	 cli_opt_duration0(const char *synopsis, const char *opt, const char *s);
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
/* The last sandbox record on stdin when it holds records, or NULL (new ref). */
json_t	*cli_read_stdin_sandbox(void);
/*
 * SIGINT, SIGTERM and SIGHUP set cli_stop to the signal's number (for a
 * journalled, clean end); cli_wait() and cli_sleep() return early then.
 */
extern volatile sig_atomic_t cli_stop;
void	 cli_catch_stop_signals(void);
/* The exit status after cli_stop: 128 + the signal (130, 143, 129). */
int	 cli_stop_status(void);
/* Sleep for seconds (fractions allowed). */
void	 cli_sleep(double seconds);

/*
 * The campaign front end of mls-search and mls-ensemble (cmd/cli_front.c):
 * the options they share, a new spec or --resume (the journal read once),
 * the code (--sandbox, stdin, or ship "."), --detach, the campaign loop
 * with trial and progress output, the final record and the exit status.
 * A tool gives its own options, spec fields and output through a struct
 * cli_front_tool, and calls cli_front_main().
 */
struct cli_front;
struct mls_campaign_gen;
struct mls_campaign_progress;
struct mls_campaign_spec;
struct mls_pruner;

#define CLI_FRONT_OPT	0x100

struct cli_front_tool {
	const char	*prog;		/* "mls-search" */
	const char	*synopsis;
	const char	*help;		/* what --help prints after the synopsis */
	int		 kind;		/* enum mls_cspec_kind */
	const char	*shortopts;	/* its own short options ("p:"), or "" */
	/*
	 * Its own long options, space-separated, "NAME:" when it takes an
	 * argument: option() gets the i-th as c = CLI_FRONT_OPT + i.
	 */
	const char	*longopts;
	/* Warned when --resume comes with operands or f->new_only options. */
	const char	*resume_conflict;
	/* Warned, with the id, when --resume names the other kind. */
	const char	*wrong_kind;
	/* One of its own options (getopt_long's c; optarg in arg). */
	void	(*option)(struct cli_front *f, int c, const char *arg);
	/*
	 * A new campaign: complete f->spec, where the shared options are in
	 * already (id, name, sites, parallel, timeout, seed, command,
	 * resources, env); argv holds the operands.  Exits on errors.
	 */
	void	(*new_spec)(struct cli_front *f, int argc, char *argv[]);
	/* The generator (f->gen) and pruner (f->pr) for f->spec; exits on errors. */
	void	(*prepare)(struct cli_front *f, int resume);
	/* A finished trial: tag it before it is written (may be NULL). */
	void	(*decorate)(struct cli_front *f, json_t *trial);
	/* A finished trial as a table line on stdout. */
	void	(*table_line)(struct cli_front *f, const json_t *trial);
	/*
	 * The progress line on stderr (after the line is cleared); NULL: done,
	 * running, failed, pruned, best, rate, ETA.
	 */
	void	(*progress)(struct cli_front *f, const struct mls_campaign_progress *p);
	/* The final record from the loop's and the trials (NULL: the loop's). */
	int	(*final)(const json_t *camp, const json_t *trials, json_t **out);
	/* Not finished, not interrupted: warn why; the exit status. */
	int	(*failed)(struct cli_front *f, const json_t *rec);
	/* Free the tool's own state (f->arg) at the end (may be NULL). */
	void	(*release)(struct cli_front *f);
};

struct cli_front {
	const struct cli_front_tool *tool;
	void		*arg;		/* the tool's own state */
	/* the options both tools have */
	int		 cancel_on_exit, detach, have_seed;
	int		 no_input;	/* -n: never read stdin */
	const char	*image, *name, *objective, *resume, *sandbox, *sites;
	long		 cpus, gpus, parallel;
	long		 trials;	/* raised on --resume when > 0 */
	long long	 mem_mb;
	unsigned long long seed;
	double		 time_s, timeout;
	enum cli_format	 fmt;
	json_t		*env;
	int		 new_only;	/* an option --resume refuses was given */
	/* filled by the front end */
	struct mls_config *cfg;
	struct mls_campaign_spec *spec;
	/* the code a new spec takes when neither --sandbox nor stdin gives it */
	const char	*src_sandbox, *src_image;
	int		 have_src;
	/* set by prepare */
	struct mls_campaign_gen *gen;
	struct mls_pruner *pr;
	/* output */
	enum cli_format	 out;
	int		 progress, err;
};

int	 cli_front_main(const struct cli_front_tool *t, void *arg, int argc,
	    char *argv[]);
struct mls_sampler;
/* The campaign generator that asks and tells smp. */
void	 cli_front_sampler_gen(struct mls_sampler *smp, struct mls_campaign_gen *gen);
/* warnx(fmt, ...), the synopsis on stderr, exit 64. */
void	 cli_front_usage(struct cli_front *f, const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 2, 3)));
/* A count option of the tool (as cli_opt_count). */
long	 cli_front_count(struct cli_front *f, const char *opt, const char *s,
	    long min);
/* rc < 0: exit with its status and the library's message. */
void	 cli_front_check(int rc);
/*
 * A new spec takes the command, environment (-e adds to it), resources
 * (those given override) and code (unless --sandbox) of src (borrowed).
 */
void	 cli_front_take_code(struct cli_front *f, const struct mls_campaign_spec *src);
/* --objective s into f->spec's objective (exits 64 on a bad one). */
void	 cli_front_objective(struct cli_front *f, const char *s,
	    const char *default_goal);

/*
 * Managing campaigns (cmd/cli_control.c).  One driver per campaign:
 * cli_driver_lock() takes DATA/campaigns/ID's driver lock or exits 75
 * (EX_TEMPFAIL) naming the driver that holds it (pid, host, since when);
 * a --detach child rewrites the pid file with cli_driver_forked().
 */
int	 cli_driver_lock(const struct mls_config *cfg, const char *id);
void	 cli_driver_forked(const struct mls_config *cfg, const char *id);
void	 cli_driver_unlock(const struct mls_config *cfg, const char *id, int fd);
/*
 * mls_campaign_load() with the state corrected: a journal that has not
 * ended while no driver holds the lock is "interrupted" (its driver
 * died).  *driver (may be NULL): 1 when a driver runs it.
 */
int	 cli_campaign_load_live(const struct mls_config *cfg, const char *id,
	    json_t **camp, json_t **trials, int *driver);
/* mls-status --campaigns: one row each, newest first, count of them (0: all). */
int	 cli_campaign_list(const struct mls_config *cfg, enum cli_format fmt,
	    long count);
enum mls_campaign_ctl;
/*
 * mls-status --stop/--cancel ID (a full id): ask its driver through the
 * control file, or, with none, stop it in its journal.  An exit status.
 */
int	 cli_campaign_control(const struct mls_config *cfg, struct mls_tracker *tr,
	    const char *id, enum mls_campaign_ctl ctl);
/*
 * mls-status --wait ID: until the campaign ends, then its record; 0 it
 * ended with a best trial (an ensemble: quorum reached), 1 not, 124 the
 * timeout passed, 128+N signal N (cancelled first with cancel_on_exit).
 */
int	 cli_campaign_wait(const struct mls_config *cfg, struct mls_store *st,
	    struct mls_tracker *tr, const char *id, enum cli_format fmt,
	    double timeout, int cancel_on_exit);
/*
 * After a --wait ended early (a signal, the timeout): the jobs not final
 * are cancelled (cancel) or named on stderr as left running.
 */
void	 cli_left_running(struct mls_tracker *tr, const json_t *jobs, int cancel);
/* mls-status --log ID: the last lines of its stderr (and stdout); a status. */
int	 cli_job_log(const struct mls_config *cfg, struct mls_store *st,
	    const char *prefix, int with_stdout, long lines);

#endif
