#!/usr/bin/env bats
# Managing a running campaign from the shell: one driver per campaign,
# --campaigns, --wait, --stop, --cancel, signals for CI, --log.
load helpers

setup() {
	mls_setup
	cp "$TESTDATA"/hpo/* .
}

# The drivers a test left (detached ones included), then the local site.
teardown() {
	local f pid
	for f in "$MLS_DATA_HOME"/campaigns/*/driver.pid; do
		[ -e "$f" ] || continue
		pid=$(json_get pid <"$f")
		[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	done
	mls_teardown
}

journal() { echo "$MLS_DATA_HOME/campaigns/$1/journal.jsonl"; }

# until COMMAND succeeds (at most ~20 s; no assertion on the time it took)
until_true() {
	local i
	for i in $(seq 200); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# N trials of campaign ID have been sent to the site
sent_at_least() { [ "$(grep -c '"ev":"submitted"' "$(journal "$1")" 2>/dev/null)" -ge "$2" ]; }

driver_pid() { json_get pid <"$MLS_DATA_HOME/campaigns/$1/driver.pid"; }

# the pid file of campaign ID names a live process
live_driver() {
	local pid
	pid=$(driver_pid "$1" 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# the state mls-status --campaigns shows for the newest campaign
listed_state() { [ "$(mls-status -c -n 1 | json_get state)" = "$1" ]; }

# PID has its SIGTERM handler in place (bit 15 of SigCgt)
catches_term() {
	local mask
	mask=$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status" 2>/dev/null) &&
	    [ -n "$mask" ] && (( (16#$mask >> 14) & 1 ))
}

@test "a detached campaign waited on: --wait blocks until it ends, prints its record, exits 0" {
	export SLEEP=0.3
	run -0 --separate-stderr mls-search --detach --trials 4 --parallel 2 \
		-p x=uniform:0:1 -- sh quadratic.sh </dev/null
	id=$output
	run -0 --separate-stderr mls-status --wait "$id"
	[ "${#lines[@]}" -eq 1 ]
	[ "$(json_get kind <<<"$output")" = campaign ]
	[ "$(json_get state <<<"$output")" = finished ]
	[ "$(json_get counts.succeeded <<<"$output")" = 4 ]
	# the journal had ended before --wait returned
	grep -q '"ev":"end"' "$(journal "$id")"
	# an ensemble too
	run -0 --separate-stderr mls-ensemble --detach --members 2 -- sh -c 'true' </dev/null
	eid=$output
	run -0 --separate-stderr mls-status --wait "$eid"
	[ "$(json_get quorum.outcome <<<"$output")" = reached ]
}

@test "--wait exits 1 when no trial succeeded; the view lists the failed trials with their reason" {
	run -0 --separate-stderr mls-search --detach --trials 2 -p x=uniform:0:1 \
		-- sh -c 'echo "bad things at x={x}" >&2; exit 3' </dev/null
	id=$output
	run -1 --separate-stderr mls-status --wait "$id"
	[ "$(json_get state <<<"$output")" = failed ]
	run --separate-stderr mls-status --format table "$id"
	[[ "$output" == *"failed trials"* ]]
	[[ "$output" == *"trial 0"* ]]
	# and from the failure to its log in one command
	trial=$(mls-status --format jsonl "$id" | head -n 1 | json_get id)
	run -0 --separate-stderr mls-status --log "$trial"
	[[ "$output" == "bad things at x="* ]]
}

@test "--wait --timeout gives 124 and leaves the campaign running; a failing ensemble gives 1" {
	export SLEEP=2
	run -0 --separate-stderr mls-search --detach --trials 2 --parallel 1 \
		-p x=uniform:0:1 -- sh quadratic.sh </dev/null
	id=$output
	run -124 --separate-stderr mls-status --wait --timeout 0.5s "$id"
	[ "$(json_get state <<<"$output")" = running ]
	[[ "$stderr" == *"goes on running"* ]]
	run -0 --separate-stderr mls-status --wait "$id"
	run -0 --separate-stderr mls-ensemble --detach --members 2 --quorum 2 \
		-- sh -c 'exit 2' </dev/null
	run -1 --separate-stderr mls-status --wait "$output"
	[ "$(json_get quorum.outcome <<<"$output")" = missed ]
}

@test "--stop: no new trials, those in flight finish and are recorded, state stopped; --resume continues it" {
	export SLEEP=0.5 RUNLOG="$BATS_TEST_TMPDIR/runs"
	: >"$RUNLOG"
	run -0 --separate-stderr mls-search --detach --trials 8 --parallel 2 --seed 3 \
		-p x=uniform:0:1 -- sh quadratic.sh </dev/null
	id=$output
	until_true sent_at_least "$id" 2
	run -0 --separate-stderr mls-status --stop "$id"
	[[ "$stderr" == *"asked its driver (pid "*") to stop"* ]]
	run -0 --separate-stderr mls-status --wait "$id"
	[ "$(json_get state <<<"$output")" = stopped ]
	[ "$(json_get end <<<"$output")" = stop ]
	j=$(journal "$id")
	# every trial submitted before the end has its result before the end
	before_end=$(sed '/"ev":"end"/q' "$j")
	[ "$(grep -c '"ev":"submit"' <<<"$before_end")" -eq \
	  "$(grep -c '"ev":"result"' <<<"$before_end")" ]
	[ "$(grep -c '"ev":"result"' <<<"$before_end")" -lt 8 ]
	! grep -q '"state":"cancelled"' <<<"$before_end"
	[ ! -e "$MLS_DATA_HOME/campaigns/$id/control" ]
	run -0 --separate-stderr mls-search --resume "$id" --format jsonl </dev/null
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get state <<<"$last")" = finished ]
	[ "$(json_get counts.total <<<"$last")" = 8 ]
	[ "$(sort "$RUNLOG" | uniq -d | wc -l)" -eq 0 ]
	[ "$(sort -u "$RUNLOG" | wc -l)" -eq 8 ]
}

@test "--cancel: the trials in flight are cancelled too; state cancelled; --resume continues it" {
	export SLEEP=5
	run -0 --separate-stderr mls-search --detach --trials 4 --parallel 2 \
		-p x=uniform:0:1 -- sh quadratic.sh </dev/null
	id=$output
	until_true sent_at_least "$id" 2
	# no trial succeeded before the cancel: --wait exits 1
	run -1 --separate-stderr mls-status --cancel --wait "$id"
	[ "$(json_get state <<<"$output")" = cancelled ]
	[ "$(json_get counts.cancelled <<<"$output")" = 2 ]
	# its driver is gone and the lock with it
	[ ! -e "$MLS_DATA_HOME/campaigns/$id/driver.pid" ]
	export SLEEP=0
	run -0 --separate-stderr mls-search --resume "$id" --format jsonl </dev/null
	[ "$(tail -n 1 <<<"$output" | json_get counts.total)" = 4 ]
}

@test "a dead driver (kill -9) never blocks: seen interrupted, still stoppable and cancellable, then resumed" {
	export SLEEP=5
	run -0 --separate-stderr mls-search --detach --trials 5 --parallel 2 \
		-p x=uniform:0:1 -- sh quadratic.sh </dev/null
	id=$output
	until_true sent_at_least "$id" 2
	kill -9 "$(driver_pid "$id")"
	until_true listed_state interrupted
	run -1 --separate-stderr mls-status --wait "$id"
	[[ "$stderr" == *"no driver runs it (resume it with: mls-search --resume $id)"* ]]
	# --stop with no driver: journalled, seen by views and the next resume
	run -0 --separate-stderr mls-status --stop "$id"
	[[ "$stderr" == *"no driver runs it; stopped in its journal"* ]]
	[ "$(mls-status -c | json_get state)" = stopped ]
	# --cancel of a stopped campaign: it has ended already
	run -0 --separate-stderr mls-status --cancel "$id"
	[[ "$stderr" == *"has ended already"* ]]
	# kill the next driver too, then cancel: its jobs are cancelled through the site
	mls-search --resume "$id" --detach </dev/null
	until_true live_driver "$id"
	kill -9 "$(driver_pid "$id")"
	until_true listed_state interrupted
	run -0 --separate-stderr mls-status --cancel "$id"
	[[ "$stderr" == *"cancelled in its journal, its jobs in flight cancelled"* ]]
	grep -q '"ev":"cancel"' "$(journal "$id")"
	[ "$(mls-status -c | json_get state)" = cancelled ]
	export SLEEP=0
	run -0 --separate-stderr mls-search --resume "$id" --format jsonl </dev/null
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get state <<<"$last")" = finished ]
	[ "$(json_get counts.total <<<"$last")" = 5 ]
}

@test "a second driver is refused with 75 naming the running one (pid, host, since)" {
	export SLEEP=3
	run -0 --separate-stderr mls-search --detach --trials 2 -p x=uniform:0:1 \
		-- sh quadratic.sh </dev/null
	id=$output
	pid=$(driver_pid "$id")
	run -75 --separate-stderr mls-search --resume "$id" </dev/null
	[[ "$stderr" == *"campaign '$id': a driver runs it already: pid $pid on $(hostname) since 20"* ]]
	run -0 --separate-stderr mls-ensemble --detach --members 2 -- sh -c 'sleep 3' </dev/null
	eid=$output
	run -75 --separate-stderr mls-ensemble --resume "$eid" </dev/null
	[[ "$stderr" == *"ensemble '$eid': a driver runs it already: pid $(driver_pid "$eid")"* ]]
	mls-status --cancel "$id" "$eid" 2>/dev/null
}

@test "two drivers started at the same moment: only one runs; exactly the budget, no trial twice" {
	export SLEEP=0.3 RUNLOG="$BATS_TEST_TMPDIR/runs"
	: >"$RUNLOG"
	run -0 --separate-stderr mls-search --trials 2 --parallel 2 --seed 4 \
		-p x=uniform:0:1 --format jsonl -- sh quadratic.sh </dev/null
	id=$(tail -n 1 <<<"$output" | json_get id)
	mls-search --resume "$id" --trials 10 --format jsonl </dev/null >o1 2>e1 &
	p1=$!
	mls-search --resume "$id" --trials 10 --format jsonl </dev/null >o2 2>e2 &
	p2=$!
	s1=0 s2=0
	wait "$p1" || s1=$?
	wait "$p2" || s2=$?
	# one ran it to the end; the other was refused (or found it ended)
	[ $((s1 * s2)) -eq 0 ]
	[ "$s1" -eq 75 ] || [ "$s2" -eq 75 ] || [ "$s1$s2" = 00 ]
	[ "$s1" -ne 75 ] || grep -q "a driver runs it already" e1
	[ "$s2" -ne 75 ] || grep -q "a driver runs it already" e2
	j=$(journal "$id")
	[ "$(grep -c '"ev":"result"' "$j")" -eq 10 ]
	[ "$(grep '"ev":"result"' "$j" | json_get number | sort -n | uniq | wc -l)" -eq 10 ]
	[ "$(sort "$RUNLOG" | uniq -d | wc -l)" -eq 0 ]
	[ "$(sort -u "$RUNLOG" | wc -l)" -eq 10 ]
}

@test "SIGTERM during mls-status --wait: 143, the campaign goes on; with --cancel-on-exit it is cancelled" {
	export SLEEP=5
	run -0 --separate-stderr mls-search --detach --trials 2 --parallel 2 \
		-p x=uniform:0:1 -- sh quadratic.sh </dev/null
	id=$output
	until_true sent_at_least "$id" 2
	mls-status --wait "$id" >out 2>err &
	pid=$!
	until_true catches_term "$pid"
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 143 ]
	[ "$(json_get state <out)" = running ]
	grep -q "goes on running" err
	[ "$(mls-status -c | json_get state)" = running ]
	mls-status --wait --cancel-on-exit "$id" >out 2>err &
	pid=$!
	until_true catches_term "$pid"
	kill -HUP "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 129 ]
	run -1 --separate-stderr mls-status --wait "$id"
	[ "$(json_get state <<<"$output")" = cancelled ]
}

@test "SIGTERM and SIGINT during mls-submit --wait: records written, the jobs left running named on stderr" {
	mls-submit --wait -- sh -c 'sleep 30' >out 2>err &
	pid=$!
	until_true catches_term "$pid"
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 143 ]
	job=$(json_get id <out)
	[[ "$job" == j-* ]]
	grep -q "left running 1 job: $job" err
	[ "$(mls-status "$job" | json_get state)" != cancelled ]
	mls-status --cancel "$job" >/dev/null
	# Ctrl-C, with --cancel-on-exit: cancelled
	mls-submit --wait --cancel-on-exit -- sh -c 'sleep 30' >out 2>err &
	pid=$!
	until_true catches_term "$pid"
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 130 ]
	job=$(json_get id <out)
	grep -q "cancelled 1 job: $job" err
	run -1 mls-status --wait "$job" --timeout 20s
	[ "$(json_get state <<<"$output")" = cancelled ]
}

@test "--campaigns lists campaigns and ensembles, newest first, -n limits, JSON lines on a pipe" {
	run -0 --separate-stderr mls-search --trials 2 --name first -p x=uniform:0:1 \
		--format jsonl -- sh quadratic.sh </dev/null
	c1=$(tail -n 1 <<<"$output" | json_get id)
	run -0 --separate-stderr mls-ensemble --members 2 --format jsonl -- sh -c true </dev/null
	e1=$(tail -n 1 <<<"$output" | json_get id)
	run -0 --separate-stderr mls-status --campaigns
	[ "${#lines[@]}" -eq 2 ]
	[ "$(json_get id <<<"${lines[0]}")" = "$e1" ]
	[ "$(json_get kind <<<"${lines[0]}")" = ensemble ]
	[ "$(json_get id <<<"${lines[1]}")" = "$c1" ]
	[ "$(json_get name <<<"${lines[1]}")" = first ]
	[ "$(json_get state <<<"${lines[1]}")" = finished ]
	[ "$(json_get done <<<"${lines[1]}")" = 2 ]
	[ "$(json_get total <<<"${lines[1]}")" = 2 ]
	[ "$(json_get sites <<<"${lines[1]}")" = '["local"]' ]
	[ -n "$(json_get best <<<"${lines[1]}")" ]
	run -0 --separate-stderr mls-status -c -n 1
	[ "${#lines[@]}" -eq 1 ]
	[ "$(json_get id <<<"$output")" = "$e1" ]
	run -0 --separate-stderr mls-status -c --format table
	[[ "${lines[0]}" == *ID*NAME*KIND*STATE*DONE*BEST*STARTED*SITES* ]]
	[[ "$output" == *"$c1"*first*campaign*finished*2/2* ]]
	run -64 --separate-stderr mls-status -c "$c1"
}

@test "--log prints the stderr tail of a job, and stdout with --stdout" {
	run -0 --separate-stderr mls-submit --wait -- sh -c 'for i in 1 2 3 4 5; do echo "err $i" >&2; echo "out $i"; done'
	job=$(json_get id <<<"$output")
	run -0 --separate-stderr mls-status --log "$job"
	[ "${lines[0]}" = "err 1" ]
	[ "${lines[4]}" = "err 5" ]
	run -0 --separate-stderr mls-status --log -n 2 "$job"
	[ "$output" = $'err 4\nerr 5' ]
	run -0 --separate-stderr mls-status --log --stdout -n 1 "${job:0:12}"
	[ "$output" = $'==> stdout <==\nout 5\n\n==> stderr <==\nerr 5' ]
	run -64 --separate-stderr mls-status --stdout "$job"
	run -66 --separate-stderr mls-status --log j-0000000000
}

@test "SIGTERM to a driver: the end is journalled, exit 143, and --resume finishes" {
	export SLEEP=1
	mls-search --trials 3 --parallel 2 -p x=uniform:0:1 --format jsonl \
		-- sh quadratic.sh </dev/null >out 2>err &
	pid=$!
	until_true catches_term "$pid"
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 143 ]
	id=$(ls "$MLS_DATA_HOME/campaigns")
	grep '"ev":"end"' "$(journal "$id")" | grep -q '"state":"interrupted"'
	grep -q "mls-search --resume $id" err
	[ "$(json_get state <out | tail -n 1)" = interrupted ]
	export SLEEP=0
	run -0 --separate-stderr mls-search --resume "$id" --format jsonl </dev/null
	[ "$(tail -n 1 <<<"$output" | json_get counts.total)" = 3 ]
}
