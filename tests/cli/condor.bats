#!/usr/bin/env bats
# The condor site against a real personal HTCondor 23.9 (Debian 13
# packages in a trixie root, tests/services/condor.sh), run as an
# unprivileged user; the condor_* on PATH enter that root.  Skipped, with
# the reason, when the pool cannot start here.  One pool serves the file.

load helpers

setup_file() {
	export CONDOR_BASE="$BATS_FILE_TMPDIR/condor"
	local env rc=0
	env=$(SHARE="$BATS_RUN_TMPDIR" "$top_srcdir/tests/services/condor.sh" start \
	    "$CONDOR_BASE" 2>"$BATS_FILE_TMPDIR/condor.err") || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "$(tail -1 "$BATS_FILE_TMPDIR/condor.err")" >"$BATS_FILE_TMPDIR/skip"
		return 0
	fi
	echo "$env" >"$BATS_FILE_TMPDIR/env"
}

teardown_file() {
	"$top_srcdir/tests/services/condor.sh" stop "$CONDOR_BASE" >/dev/null 2>&1 || :
}

setup() {
	if [ -f "$BATS_FILE_TMPDIR/skip" ]; then
		skip "$(cat "$BATS_FILE_TMPDIR/skip")"
	fi
	eval "$(cat "$BATS_FILE_TMPDIR/env")"
	mls_setup
	export MLS_CONFIG="$HOME/mls.conf"
	cat >"$MLS_CONFIG" <<-EOF
	[site "osg"]
		type = condor
		retry = 30s
	[site "shared"]
		type = condor
		workdir = $BATS_TEST_TMPDIR/scratch
	[site "stuck"]
		type = condor
		requirements = TARGET.Memory > 100000000
		hold_timeout = 4s
	[site "down"]
		type = condor
		schedd = 127.0.0.1
		pool = 127.0.0.1:9
		retry = 1s
	EOF
}

teardown() {
	mls_teardown
}

# The proc's JobStatus, from the queue or the history.
job_status() {
	local s
	s=$(condor_q "$1" -af JobStatus 2>/dev/null)
	[ -n "$s" ] || s=$(condor_history "$1" -af JobStatus 2>/dev/null)
	echo "$s"
}

@test "condor: submit --wait, status, fetch; the proc carries MlsJobId and the event log records it" {
	run -0 mls-submit -s osg --wait --timeout 120 --format jsonl -- \
	    sh -c 'echo out-$MLS_JOB_ID; echo 7 > $MLS_OUTPUT_DIR/seven; echo "{\"loss\": 0.25}" >> $MLS_METRICS'
	out=$output
	[ "$(json_get state <<<"$out")" = succeeded ]
	[ "$(json_get site <<<"$out")" = osg ]
	[ "$(json_get metrics.loss <<<"$out")" = 0.25 ]
	sid=$(json_get site_id <<<"$out")
	[[ "$sid" =~ ^[0-9]+\.0$ ]]
	id=$(json_get id <<<"$out")
	[ "$(condor_history "$sid" -af MlsJobId MlsSite)" = "$id osg" ]
	grep -q '^005 (0*'"${sid%.*}"'\.000\.000)' "$MLS_DATA_HOME"/condor-osg/*.log
	run -0 bash -c "echo '$out' | mls-fetch -o '$BATS_TEST_TMPDIR/got' --format jsonl"
	grep -q "out-$id" "$BATS_TEST_TMPDIR/got/$id/stdout"
	[ "$(cat "$BATS_TEST_TMPDIR/got/$id/outputs/seven")" = 7 ]
	# a shared workdir: the wrapper's scratch and the procs' logs there
	run -0 mls-submit -s shared --wait --timeout 120 --format jsonl -- sh -c 'echo "$PWD"'
	[ "$(json_get state <<<"$output")" = succeeded ]
	ls "$BATS_TEST_TMPDIR"/scratch/out/*.err
}

@test "condor: an array of 40 goes out as one cluster, one condor_submit" {
	run -0 bash -c "mls-submit -s osg --array 40 --cpus 1 --mem 64M --format jsonl -- sh -c 'echo {index} >> $BATS_TEST_TMPDIR/runs' | mls-status --wait --timeout 240 --format jsonl"
	[ "$(grep -c '"state":"succeeded"' <<<"$output")" -eq 40 ]
	[ "$(json_get site_id <<<"$output" | cut -d. -f1 | sort -u | wc -l)" -eq 1 ]
	[ "$(json_get site_id <<<"$output" | cut -d. -f2 | sort -n | tail -1)" = 39 ]
	[ "$(sort -u "$BATS_TEST_TMPDIR/runs" | wc -l)" -eq 40 ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/runs")" -eq 40 ]
	sub=$(ls "$MLS_DATA_HOME"/condor-osg/*.sub)
	[ "$(wc -l <<<"$sub")" -eq 1 ]
	grep -qx 'request_memory = 64' $sub
	grep -q '^queue MlsId from ' $sub
}

@test "condor: throttle caps the procs of a cluster in the queue (max_materialize)" {
	cat >>"$MLS_CONFIG" <<-EOF
	[site "thin"]
		type = condor
		throttle = 2
	EOF
	run -0 bash -c "mls-submit -s thin --array 6 --format jsonl -- sh -c 'echo {index} >> $BATS_TEST_TMPDIR/runs' | mls-status --wait --timeout 240 --format jsonl"
	[ "$(grep -c '"state":"succeeded"' <<<"$output")" -eq 6 ]
	[ "$(json_get site_id <<<"$output" | cut -d. -f1 | sort -u | wc -l)" -eq 1 ]
	grep -qx 'max_materialize = 2' "$MLS_DATA_HOME"/condor-thin/*.sub
	[ "$(sort -u "$BATS_TEST_TMPDIR/runs" | wc -l)" -eq 6 ]
}

search_on() {	# search_on SITE N PARALLEL
	mls-search -s "$1" --trials "$2" --parallel "$3" -p x=uniform:0:1 --seed 1 \
	    --format jsonl -- sh -c 'echo "{id}" >> '"$BATS_TEST_TMPDIR"'/runs; echo "{\"loss\": {x}}" >> $MLS_METRICS'
}

@test "condor: a 30-trial mls-search; procs carry the campaign" {
	run -0 search_on osg 30 10
	trials=$(grep '"kind":"trial"' <<<"$output")
	[ "$(grep -c '"state":"succeeded"' <<<"$trials")" -eq 30 ]
	[ "$(grep -c '"site":"osg"' <<<"$trials")" -eq 30 ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/runs")" -eq 30 ]
	camp=$(tail -n 1 <<<"$output" | json_get id)
	sid=$(head -n 1 <<<"$trials" | json_get site_id)
	[ "$(condor_history "$sid" -af MlsCampaign)" = "$camp" ]
}

@test "condor: one campaign spread across local and condor" {
	run -0 search_on local:2,osg:16 30 18
	trials=$(grep '"kind":"trial"' <<<"$output")
	[ "$(grep -c '"state":"succeeded"' <<<"$trials")" -eq 30 ]
	nl=$(grep -c '"site":"local"' <<<"$trials")
	nc=$(grep -c '"site":"osg"' <<<"$trials")
	[ "$nl" -ge 1 ] && [ "$nc" -ge 1 ] && [ $((nl + nc)) -eq 30 ]
}

@test "condor: an ensemble whose member fails once is retried" {
	# the environment does not travel to HTCondor jobs: the member
	# decides from a marker in the (shared) test dir
	cat >member.sh <<EOF
#!/bin/sh
member=\$1
if [ "\$member" = 2 ] && [ ! -e "$BATS_TEST_TMPDIR/failed-once" ]; then
	: >"$BATS_TEST_TMPDIR/failed-once"; exit 4
fi
echo "{\"loss\":\$member.5}" >> "\$MLS_METRICS"
EOF
	run -0 --separate-stderr mls-ensemble -s osg --members 3 --retries 1 --parallel 3 \
	    --format jsonl -- sh member.sh {member} </dev/null
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get quorum.succeeded <<<"$last")" = 3 ]
	[ "$(json_get quorum.attempts <<<"$last")" = 4 ]
	[ "$(json_get members.2.attempts.0.state <<<"$last")" = failed ]
	[ "$(json_get members.2.attempts.0.exit_code <<<"$last")" = 4 ]
	[ "$(json_get members.2.attempts.1.state <<<"$last")" = succeeded ]
}

@test "condor: kill -9 of the driver, --resume adopts the procs, none submitted twice" {
	rm -f "$BATS_TEST_TMPDIR/runs"
	mls-search -s osg --trials 20 --parallel 10 -p x=uniform:0:1 --seed 2 \
	    --format jsonl -- sh -c 'echo "{id}" >> '"$BATS_TEST_TMPDIR"'/runs; sleep 3; echo "{\"loss\": {x}}" >> $MLS_METRICS' \
	    >"$BATS_TEST_TMPDIR/first.jsonl" 2>"$BATS_TEST_TMPDIR/first.err" &
	pid=$!
	n=0
	while [ "$n" -lt 300 ] && [ "$(cat "$BATS_TEST_TMPDIR/runs" 2>/dev/null | wc -l)" -lt 3 ]; do
		sleep 0.2; n=$((n + 1))
	done
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || :
	camp=$(ls -t "$MLS_DATA_HOME/campaigns" | head -1)
	[ -n "$camp" ]
	# as if the driver had died between condor_submit and journalling it:
	# the resumed driver sends these again, the site adopts them
	j="$MLS_DATA_HOME/campaigns/$camp/journal.jsonl"
	grep -v '"ev":"submitted"' "$j" >"$j.new" || :
	mv "$j.new" "$j"
	# and as if it had died before recording the cluster: found by MlsBatch
	idx="$MLS_DATA_HOME/condor-osg/submitted.jsonl"
	grep -v '"cluster"' "$idx" >"$idx.new" || :
	mv "$idx.new" "$idx"
	run -0 mls-search --resume "$camp" --format jsonl
	[ "$(grep '"kind":"trial"' <<<"$output" | grep -c '"state":"succeeded"')" -eq 20 ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/runs")" -eq 20 ]
	[ "$(sort -u "$BATS_TEST_TMPDIR/runs" | wc -l)" -eq 20 ]
	# HTCondor got each mls job id once
	ids=$(condor_history -constraint "MlsCampaign == \"$camp\"" -af MlsJobId)
	[ "$(sort -u <<<"$ids" | wc -l)" -eq 20 ]
	[ "$(wc -l <<<"$ids")" -eq 20 ]
}

@test "condor: a held job is reported held, then fails after hold_timeout and is removed" {
	run -0 mls-submit -s stuck --format jsonl -- true
	out=$output
	sid=$(json_get site_id <<<"$out")
	condor_hold "$sid"
	n=0
	while [ "$n" -lt 100 ] && [ "$(job_status "$sid")" != 5 ]; do sleep 0.2; n=$((n + 1)); done
	run -0 bash -c "echo '$out' | mls-status --format jsonl"
	[ "$(json_get state <<<"$output")" = queued ]
	[[ "$(json_get reason <<<"$output")" == "held: "*condor_hold* ]]
	run -1 bash -c "echo '$out' | mls-status --wait --timeout 60 --format jsonl"
	[ "$(json_get state <<<"$output")" = failed ]
	[[ "$(json_get reason <<<"$output")" == "held for more than 4s"* ]]
	n=0
	while [ "$n" -lt 100 ] && [ "$(job_status "$sid")" != 3 ]; do sleep 0.2; n=$((n + 1)); done
	[ "$(job_status "$sid")" = 3 ]
	# a fresh look at it still says failed: the event log keeps the hold
	rec=$(sed 's/"state":"failed"/"state":"queued"/' <<<"$output")
	run -1 bash -c "echo '$rec' | mls-status --format jsonl"
	[ "$(json_get state <<<"$output")" = failed ]
	[[ "$(json_get reason <<<"$output")" == "held, then removed: "*condor_hold* ]]
}

@test "condor: cancel removes the procs with condor_rm" {
	run -0 mls-submit -s osg --array 3 --format jsonl -- sleep 300
	out=$output
	sids=$(json_get site_id <<<"$out")
	for sid in $sids; do
		n=0
		while [ "$n" -lt 150 ] && [ "$(job_status "$sid")" != 2 ]; do sleep 0.2; n=$((n + 1)); done
	done
	run -1 bash -c "echo '$out' | mls-status --cancel --format jsonl >/dev/null; echo '$out' | mls-status --wait --timeout 90 --format jsonl"
	[ "$(grep -c '"state":"cancelled"' <<<"$output")" -eq 3 ]
	for sid in $sids; do
		n=0
		while [ "$n" -lt 100 ] && [ "$(job_status "$sid")" != 3 ]; do sleep 0.2; n=$((n + 1)); done
		[ "$(job_status "$sid")" = 3 ]
	done
}

@test "condor: a job past its --time ends failed with a time limit reason" {
	run -0 mls-submit -s osg --time 3s --format jsonl -- sleep 120
	[ "$(json_get resources.time_s <<<"$output")" = 3 ]
	grep -qx 'allowed_job_duration = 43' "$MLS_DATA_HOME"/condor-osg/*.sub
	run -1 bash -c "echo '$output' | mls-status --wait --timeout 90 --format jsonl"
	[ "$(json_get state <<<"$output")" = failed ]
	[[ "$(json_get reason <<<"$output")" == *"time limit"* ]]
}

@test "condor: bad settings exit 78 naming the key; a missing condor_submit 69; an unreachable pool 75" {
	cat >>"$MLS_CONFIG" <<-EOF
	[site "baduni"]
		type = condor
		universe = grid
	[site "badhold"]
		type = condor
		hold_timeout = soon
	[site "badthrottle"]
		type = condor
		throttle = -3
	[site "badextra"]
		type = condor
		extra = queue 5
	[site "badtoken"]
		type = condor
		token_file = $HOME/token
	EOF
	run -78 mls-submit -s baduni -- true
	[[ "$output" == *"universe 'grid'"* ]]
	run -78 mls-submit -s badhold -- true
	[[ "$output" == *"hold_timeout 'soon'"* ]]
	run -78 mls-submit -s badthrottle -- true
	[[ "$output" == *"throttle '-3'"* ]]
	run -78 mls-submit -s badextra -- true
	[[ "$output" == *"extra"* ]]
	echo tok >"$HOME/token"
	chmod 644 "$HOME/token"
	run -78 mls-submit -s badtoken -- true
	[[ "$output" == *"token_file"*"mode 644"* ]]
	run -75 mls-submit -s down -- true
	[[ "$output" == *"site 'down'"*"gave up retrying"* ]]
	mkdir -p "$BATS_TEST_TMPDIR/nobin"
	run -69 env PATH="$BATS_TEST_TMPDIR/nobin:/usr/bin:/bin" "$(command -v mls-submit)" -s osg -- true
	[[ "$output" == *"condor_submit"* ]]
}

@test "condor: a refused IDTOKEN exits 77" {
	# the pool here trusts its host; a schedd refusing the token answers
	# so (HTCondor 23.9's words), which a stand-in condor_submit replays
	mkdir -p "$BATS_TEST_TMPDIR/fake"
	cat >"$BATS_TEST_TMPDIR/fake/condor_submit" <<-'EOF'
	#!/bin/sh
	echo "ERROR: Failed to connect to local queue manager" >&2
	echo "AUTHENTICATE:1003:Failed to authenticate with any method" >&2
	echo "AUTHENTICATE:1004:Failed to authenticate using IDTOKENS" >&2
	exit 1
	EOF
	chmod 755 "$BATS_TEST_TMPDIR/fake/condor_submit"
	echo tok >"$HOME/token"
	chmod 600 "$HOME/token"
	cat >>"$MLS_CONFIG" <<-EOF
	[site "remote"]
		type = condor
		schedd = schedd.example.org
		token_file = $HOME/token
	EOF
	run -77 env PATH="$BATS_TEST_TMPDIR/fake:$PATH" mls-submit -s remote -- true
	[[ "$output" == *"site 'remote'"*"Failed to authenticate"* ]]
}
