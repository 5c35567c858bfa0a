/*
 * mls_site_condor.h - the "condor" site: jobs run as HTCondor jobs,
 * submitted in clusters through condor_submit and tracked through each
 * cluster's job event log (condor_q and condor_history where the log is
 * out of reach).
 *
 * Every proc runs the same worker wrapper as the other sites; jobs with
 * the same resources go out as one cluster ("queue MlsId from FILE"),
 * each proc carrying +MlsJobId, +MlsCampaign, +MlsBatch and +MlsSite.
 * Before each condor_submit a line {"batch": TAG, "ids": [...]} is
 * appended (fsync'ed) to DATA/condor-SITE/submitted.jsonl, and after it
 * {"batch": TAG, "cluster": N}; a resumed driver adopts what it had sent
 * (a batch without its cluster line is looked up with condor_q
 * -constraint on MlsBatch) instead of sending it twice.
 *
 * Settings ([site "NAME"]): type = condor, schedd and pool (-name and
 * -pool of every condor_* call), universe (vanilla or container; a job
 * with an image gets container), requirements, rank, accounting_group,
 * extra (raw submit-description lines, ";" or newline separated),
 * workdir (a shared path: the wrapper's scratch and the jobs' cwd),
 * transfer (yes: the wrapper goes by HTCondor file transfer, for pools
 * without a shared file system; no, the default), throttle (procs of a
 * cluster in the queue at once: max_materialize), token_file (an IDTOKEN,
 * mode 600), hold_timeout (a job held longer fails and is removed;
 * default 10m), retry (how long an unreachable schedd is retried, 60s),
 * grace (the wrapper's stop grace, 10s).
 */
#ifndef MLS_SITE_CONDOR_H
#define MLS_SITE_CONDOR_H

#include <stddef.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_site.h"

extern const struct mls_site_ops mls_site_condor_ops;

/* HTCondor's JobStatus values. */
enum mls_condor_status {
	MLS_CONDOR_IDLE = 1,
	MLS_CONDOR_RUNNING = 2,
	MLS_CONDOR_REMOVED = 3,
	MLS_CONDOR_COMPLETED = 4,
	MLS_CONDOR_HELD = 5,
	MLS_CONDOR_TRANSFERRING = 6,
	MLS_CONDOR_SUSPENDED = 7,
};

/*
 * HTCondor's view of procs, an object "C.P" -> {"status": JobStatus,
 * "since": when it entered it (epoch seconds, 0 unknown), "reason": the
 * hold reason or what removed it, "code": HoldReasonCode, "exit": the
 * return value (-1 none), "signal", "was_held": 1 if it was held when it
 * left the queue}.
 *
 * mls_condor_parse_log reads the complete events of a job event log text
 * (classic format, "...\n" after each) into view: *used is how much of
 * text it consumed (an event still being written is left for the next
 * read).  mls_condor_parse_af reads lines of condor_q/condor_history
 * "-af:t ClusterId ProcId JobStatus EnteredCurrentStatus ExitCode
 * ExitBySignal ExitSignal HoldReasonCode HoldReason".  MLS_EPROTO names a
 * malformed line.
 */
int	 mls_condor_parse_log(const char *text, size_t len, json_t *view,
	    size_t *used);
int	 mls_condor_parse_af(const char *text, size_t len, json_t *view);

/*
 * Set "state" and "reason" of job (no result.json) from its entry in the
 * view (NULL: HTCondor does not know it).  A proc held longer than
 * hold_timeout seconds at now, or held for its time limit, is failed and
 * *remove set (the caller removes it).
 */
int	 mls_condor_apply(json_t *job, const json_t *entry, const char *site,
	    double hold_timeout, double now, int *remove);

/* What a batch's submit description is made of, besides conf. */
struct mls_condor_batch {
	const char	*tag;		/* the batch's name (+MlsBatch) */
	const char	*wrapper;	/* the wrapper script's path */
	const char	*store_url;
	const char	*items;		/* the file of job ids, one a line */
	const char	*log;		/* the job event log */
	const char	*outdir;	/* the procs' stdout/stderr files */
	const char	*site;
	const char	*token_file;	/* the store's, or NULL */
	const char	*ca_file;	/* the store's, or NULL */
	long		 throttle;	/* 0: none */
	int		 grace_s;
};

/*
 * The submit description of a cluster of jobs like job (its resources,
 * image and campaign).  MLS_ECONFIG names a bad setting, MLS_EINPUT a bad
 * resource.
 */
int	 mls_condor_submit_desc(const json_t *conf, const json_t *job,
	    const struct mls_condor_batch *b, struct mls_buf *out);

/*
 * The error code for one of HTCondor's messages: MLS_ENET when the
 * schedd or collector cannot be reached, MLS_EAUTH when it refused our
 * credentials, MLS_EINPUT otherwise.
 */
int	 mls_condor_classify(const char *msg);

/* The cluster id in condor_submit -terse's output ("12.0 - 12.9"), or -1. */
long long mls_condor_parse_terse(const char *text);

#endif
