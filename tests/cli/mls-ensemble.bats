#!/usr/bin/env bats
# mls-ensemble: members, quorum, retries, resume, --from, views and fetch.
load helpers

setup() {
	mls_setup
	# A member: reports a loss from its number, writes an output, logs its
	# job id to $RUNLOG, fails when its member number is in $FAIL (on every
	# attempt) or in $FAIL_ONCE (on its first attempt only).
	cat > member.sh <<'EOF'
#!/bin/sh
set -eu
member=$1 seed=$2 attempt=$3
[ -n "${RUNLOG:-}" ] && echo "$MLS_JOB_ID" >> "$RUNLOG"
[ -n "${SLEEP:-}" ] && sleep "$SLEEP"
for m in ${FAIL:-}; do [ "$m" = "$member" ] && { echo "member $member fails" >&2; exit 3; }; done
for m in ${FAIL_ONCE:-}; do [ "$m" = "$member" ] && [ "$attempt" = 1 ] && exit 4; done
echo "{\"step\":1,\"loss\":$member.5,\"acc\":0.$member}" >> "$MLS_METRICS"
echo "$seed" > "$MLS_OUTPUT_DIR/seed.txt"
EOF
}
teardown() { mls_teardown; }

CMD=(sh member.sh {member} {seed} {attempt})

@test "--help exits 0; bad arguments exit 64 with a clear message" {
	run -0 mls-ensemble --help
	[[ "$output" == "usage: mls-ensemble"* ]]
	run -64 --separate-stderr mls-ensemble --bogus </dev/null
	run -64 --separate-stderr mls-ensemble --members 0 -- true </dev/null
	[[ "$stderr" == "mls-ensemble: --members: '0' is not a whole number >= 1"* ]]
	run -64 --separate-stderr mls-ensemble -- true </dev/null
	[[ "$stderr" == "mls-ensemble: --members N is required"* ]]
	run -64 --separate-stderr mls-ensemble --members 3 </dev/null
	[[ "$stderr" == "mls-ensemble: no command given"* ]]
	run -64 --separate-stderr mls-ensemble --members 20 --quorum 30 -- true </dev/null
	[[ "$stderr" == "mls-ensemble: --quorum: quorum '30': above the 20 members"* ]]
	run -64 --separate-stderr mls-ensemble --members 20 --quorum 1.5 -- true </dev/null
	[[ "$stderr" == *"a fraction must be in (0, 1]"* ]]
	run -64 --separate-stderr mls-ensemble --members 2 --top 3 -- true </dev/null
	[[ "$stderr" == "mls-ensemble: --top needs --from CAMPAIGN"* ]]
	run -64 --separate-stderr mls-ensemble --members 2 --from c-x -- true </dev/null
	[[ "$stderr" == "mls-ensemble: --from needs --top K"* ]]
	run -64 --separate-stderr mls-ensemble --members 2 --seed-param member -- true </dev/null
	run -64 --separate-stderr mls-ensemble --resume e-x --members 2 </dev/null
	[ ! -d "$MLS_DATA_HOME/campaigns" ]
}

@test "a placeholder naming no parameter exits 65 before anything runs" {
	run -65 --separate-stderr mls-ensemble --members 2 -- echo {sed} </dev/null
	[[ "$stderr" == *"placeholder '{sed}' names no parameter"* ]]
	[ ! -d "$MLS_DATA_HOME/campaigns" ]
}

@test "N members with derived seeds: member records, then the ensemble record" {
	run -0 --separate-stderr mls-ensemble --members 5 --parallel 2 --seed 11 --folds 2 \
		--format jsonl -- "${CMD[@]}" </dev/null
	[ "$(wc -l <<<"$output")" -eq 6 ]
	[ "$(head -n 5 <<<"$output" | json_get kind | sort -u)" = member ]
	[ "$(head -n 5 <<<"$output" | json_get params.member | sort -n | tr '\n' ' ')" = "0 1 2 3 4 " ]
	[ "$(head -n 5 <<<"$output" | json_get params.seed | sort -u | wc -l)" -eq 5 ]
	[ "$(head -n 5 <<<"$output" | json_get ensemble | sort -u)" = "$(tail -n 1 <<<"$output" | json_get id)" ]
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get kind <<<"$last")" = ensemble ]
	[[ "$(json_get id <<<"$last")" == e-* ]]
	[ "$(json_get state <<<"$last")" = finished ]
	[ "$(json_get quorum.outcome <<<"$last")" = reached ]
	[ "$(json_get quorum.required <<<"$last")" = 5 ]
	[ "$(json_get members.3.params.fold <<<"$last")" = 1 ]
	# the summary over the 5 members: loss 0.5 .. 4.5
	[ "$(json_get summary.loss.n <<<"$last")" = 5 ]
	[ "$(json_get summary.loss.mean <<<"$last")" = 2.5 ]
	[ "$(json_get summary.loss.min <<<"$last")" = 0.5 ]
	[ "$(json_get summary.loss.max <<<"$last")" = 4.5 ]
	/usr/bin/python3 -c "assert abs($(json_get summary.loss.std <<<"$last") - 2.5**0.5) < 1e-9"
	# each member's record has its output digest
	[[ "$(json_get members.0.outputs.digest <<<"$last")" == sha256:* ]]
	# the same --seed gives the same seeds
	seeds=$(json_get members.0.params.seed <<<"$last")
	run -0 --separate-stderr mls-ensemble --members 1 --seed 11 --format jsonl \
		-- "${CMD[@]}" </dev/null
	[ "$(tail -n 1 <<<"$output" | json_get members.0.params.seed)" = "$seeds" ]
}

@test "retries: a member failing once is retried and the record keeps both attempts" {
	export FAIL_ONCE="1 3"
	run -0 --separate-stderr mls-ensemble --members 4 --retries 2 --parallel 2 \
		--format jsonl -- "${CMD[@]}" </dev/null
	# 4 members + 2 retries = 6 member records, then the ensemble
	[ "$(wc -l <<<"$output")" -eq 7 ]
	[ "$(head -n 6 <<<"$output" | grep -c '"retry":true')" -eq 2 ]
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get quorum.succeeded <<<"$last")" = 4 ]
	[ "$(json_get quorum.attempts <<<"$last")" = 6 ]
	[ "$(json_get members.1.state <<<"$last")" = succeeded ]
	[ "$(json_get members.1.attempts.0.state <<<"$last")" = failed ]
	[ "$(json_get members.1.attempts.0.exit_code <<<"$last")" = 4 ]
	[ "$(json_get members.1.attempts.1.attempt <<<"$last")" = 2 ]
	[ "$(json_get members.1.attempts.1.state <<<"$last")" = succeeded ]
	# the two attempts were two jobs
	[ "$(json_get members.1.attempts.0.job <<<"$last")" != "$(json_get members.1.attempts.1.job <<<"$last")" ]
}

@test "quorum reached despite members failing for good: exit 0, last reason kept" {
	export FAIL="2"
	run -0 --separate-stderr mls-ensemble --members 5 --quorum 0.8 --retries 1 \
		--parallel 2 --format jsonl -- "${CMD[@]}" </dev/null
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get state <<<"$last")" = finished ]
	[ "$(json_get quorum.required <<<"$last")" = 4 ]
	[ "$(json_get quorum.succeeded <<<"$last")" = 4 ]
	[ "$(json_get members.2.state <<<"$last")" = failed ]
	[ "$(json_get members.2.attempts <<<"$last" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ]
	[ -n "$(json_get members.2.reason <<<"$last")" ]
	[ "$(json_get summary.loss.n <<<"$last")" = 4 ]
}

@test "quorum missed: exit 1, stops early and cancels the members in flight" {
	export FAIL="0 1"
	# members 2-5 block until the test creates 'release', which it does only
	# after mls-ensemble returned: an ensemble that waited for them would
	# hang (and be stopped by timeout)
	rel="$BATS_TEST_TMPDIR/release"
	run -1 --separate-stderr timeout 120 mls-ensemble --members 6 --quorum 5 --parallel 6 \
		--format jsonl -- sh -c "case {member} in 0|1) exit 1;; esac; while [ ! -e '$rel' ]; do sleep 0.1; done" </dev/null
	touch "$rel"
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get state <<<"$last")" = failed ]
	[ "$(json_get end <<<"$last")" = decided ]
	[ "$(json_get quorum.outcome <<<"$last")" = missed ]
	[[ "$stderr" == *"quorum missed: 0 of 6 members succeeded, 5 needed"* ]]
	[ "$(grep -c '"ev":"cancel"' "$MLS_DATA_HOME"/campaigns/e-*/journal.jsonl)" -ge 1 ]
}

@test "--objective makes a member without the metric fail" {
	run -1 --separate-stderr mls-ensemble --members 2 --objective val_loss \
		--format jsonl -- "${CMD[@]}" </dev/null
	[[ "$stderr" == *"objective 'val_loss' was not reported"* ]]
	run -0 --separate-stderr mls-ensemble --members 2 --objective acc:max \
		--format jsonl -- "${CMD[@]}" </dev/null
	[ "$(tail -n 1 <<<"$output" | json_get members.1.objective)" = 0.1 ]
}

@test "mls-status ENSEMBLE shows the quorum and the summary; mls-fetch makes member dirs and a manifest" {
	export FAIL="1"
	out=$(mls-ensemble --members 3 --quorum 2 --parallel 2 --format jsonl \
		-- "${CMD[@]}" </dev/null)
	id=$(tail -n 1 <<<"$out" | json_get id)
	run -0 --separate-stderr mls-status --format table "${id:0:8}" </dev/null
	[[ "$output" == *"members: 2 of 3 succeeded, quorum 2 reached"* ]]
	[[ "$output" == *"loss"* ]]
	[[ "$output" == *"member 1 (1 attempts)"* ]]
	run -0 --separate-stderr mls-status "$id" --format jsonl </dev/null
	[ "$(wc -l <<<"$output")" -eq 4 ]
	[ "$(tail -n 1 <<<"$output" | json_get quorum.outcome)" = reached ]
	run -0 --separate-stderr mls-fetch -o got "$id" </dev/null
	[ -f got/member-0000/outputs/seed.txt ]
	[ -f got/member-0002/outputs/seed.txt ]
	[ ! -e got/member-0001 ]
	[ "$(ls -A got | grep -c '^\.mls-fetch')" -eq 0 ]
	man=$(/usr/bin/python3 -c 'import json; print(json.dumps(json.load(open("got/manifest.json"))))')
	[ "$(json_get ensemble <<<"$man")" = "$id" ]
	[ "$(json_get members.1.member <<<"$man")" = 2 ]
	[ "$(json_get members.1.dir <<<"$man")" = member-0002 ]
	[ "$(json_get members.1.metrics.loss <<<"$man")" = 2.5 ]
	[ "$(json_get members.1.params.seed <<<"$man")" = "$(cat got/member-0002/outputs/seed.txt)" ]
	want=$(/usr/bin/python3 -c 'import json; print(json.load(open("got/manifest.json"))["members"][1]["files"]["outputs.tar.zst"])')
	[ "sha256:$(sha256sum got/member-0002/outputs.tar.zst | cut -d' ' -f1)" = "$want" ]
}

@test "SIGINT journals, exits 130, and --resume finishes" {
	export SLEEP=1
	mls-ensemble --members 4 --parallel 2 --format jsonl -- "${CMD[@]}" </dev/null >out 2>err &
	pid=$!
	sleep 1.5
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 130 ]
	id=$(ls "$MLS_DATA_HOME/campaigns")
	grep -q "mls-ensemble --resume $id" err
	run -0 --separate-stderr mls-ensemble --resume "${id:0:6}" --format jsonl </dev/null
	[ "$(tail -n 1 <<<"$output" | json_get quorum.succeeded)" = 4 ]
}

@test "kill -9 of the driver, --resume: every member once, no attempt run twice" {
	export SLEEP=0.3 RUNLOG="$BATS_TEST_TMPDIR/runs" FAIL_ONCE="2 5"
	: > "$RUNLOG"
	mls-ensemble --members 8 --retries 1 --parallel 3 --format jsonl \
		-- "${CMD[@]}" </dev/null >/dev/null 2>&1 &
	pid=$!
	# kill it once it has sent a member, however slow the machine
	for i in $(seq 600); do
		grep -qs '"ev":"submitted"' "$MLS_DATA_HOME"/campaigns/*/journal.jsonl && break
		sleep 0.05
	done
	kill -9 "$pid"; wait "$pid" || true
	id=$(ls "$MLS_DATA_HOME/campaigns")
	for delay in 0.8 0.3 1.2; do
		mls-ensemble --resume "$id" --format jsonl </dev/null >/dev/null 2>&1 &
		pid=$!
		sleep "$delay"
		kill -9 "$pid" 2>/dev/null || true	# it may have finished
		wait "$pid" || true
	done
	run -0 --separate-stderr mls-ensemble --resume "$id" --format jsonl </dev/null
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get quorum.succeeded <<<"$last")" = 8 ]
	[ "$(json_get quorum.attempts <<<"$last")" = 10 ]
	j="$MLS_DATA_HOME/campaigns/$id/journal.jsonl"
	# one result per trial, 10 trials (8 members + 2 retries)
	[ "$(grep '"ev":"result"' "$j" | json_get number | sort -n | uniq | wc -l)" -eq 10 ]
	[ "$(grep -c '"ev":"result"' "$j")" -eq 10 ]
	# each member succeeded exactly once
	[ "$(grep '"ev":"result"' "$j" | grep '"state":"succeeded"' | json_get job.params.member | sort -n | uniq | wc -l)" -eq 8 ]
	[ "$(grep '"ev":"result"' "$j" | grep -c '"state":"succeeded"')" -eq 8 ]
	# no job ran twice, and exactly 10 ran
	[ "$(sort "$RUNLOG" | uniq -d | wc -l)" -eq 0 ]
	[ "$(sort -u "$RUNLOG" | wc -l)" -eq 10 ]
}

@test "--from a finished campaign: M seeds of each of its K best configurations" {
	cp "$TESTDATA"/hpo/quadratic.sh .
	out=$(mls-search --trials 5 --parallel 2 --seed 1 --algorithm random \
		-p x=uniform:-1:1 --format jsonl -- sh quadratic.sh </dev/null)
	cid=$(tail -n 1 <<<"$out" | json_get id)
	best=$(tail -n 1 <<<"$out" | json_get best.params.x)
	run -0 --separate-stderr mls-ensemble --from "${cid:0:8}" --top 2 --members 3 \
		--parallel 2 --format jsonl </dev/null
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get from <<<"$last")" = "$cid" ]
	[ "$(json_get quorum.members <<<"$last")" = 6 ]
	[ "$(json_get quorum.succeeded <<<"$last")" = 6 ]
	# members 0-2 are the best configuration, 3-5 the second; same seeds
	[ "$(json_get members.0.params.x <<<"$last")" = "$best" ]
	[ "$(json_get members.2.params.config <<<"$last")" = 0 ]
	[ "$(json_get members.3.params.config <<<"$last")" = 1 ]
	[ "$(json_get members.4.params.seed <<<"$last")" = "$(json_get members.1.params.seed <<<"$last")" ]
	# the campaign's objective was required and is summarised
	[ "$(json_get summary.loss.n <<<"$last")" = 6 ]
	run -65 --separate-stderr mls-ensemble --from "$cid" --top 9 --members 1 </dev/null
	[[ "$stderr" == *"fewer than the top 9"* ]]
	run -66 --separate-stderr mls-ensemble --from c-nothere --top 1 --members 1 </dev/null
}

@test "--detach prints the ensemble id and runs in the background" {
	run -0 --separate-stderr mls-ensemble --detach --members 2 -- "${CMD[@]}" </dev/null
	id=$output
	[[ "$id" == e-* ]]
	for i in $(seq 100); do
		[ "$(mls-status "$id" --format jsonl </dev/null | tail -n 1 | json_get state)" = finished ] && break
		sleep 0.2
	done
	[ "$(mls-status "$id" --format jsonl </dev/null | tail -n 1 | json_get quorum.succeeded)" = 2 ]
}

@test "examples/likelihood-ratio runs small: the ensemble beats its members" {
	/usr/bin/python3 -c 'import sklearn' 2>/dev/null || skip "python3-sklearn is not installed"
	cp -r "$top_srcdir/examples/likelihood-ratio" lr
	cd lr
	MEMBERS=4 NTRAIN=600 NEVAL=400 EPOCHS=60 PARALLEL=2 run -0 --separate-stderr sh run.sh
	[[ "$output" == *"ensemble of 4"* ]]
	[ -f got/manifest.json ]
	[ "$(ls -d got/member-* | wc -l)" -eq 4 ]
	# the combined estimate is no worse than the average single member
	ens=$(sed -n 's/^ensemble of 4 members: rmse \([0-9.]*\).*/\1/p' <<<"$output")
	single=$(sed -n 's/^single members: mean rmse \([0-9.]*\).*/\1/p' <<<"$output")
	/usr/bin/python3 -c "assert $ens <= $single, ($ens, $single)"
}

@test "--resume refuses, with 64 naming it, an option the journal fixes" {
	run -0 --separate-stderr mls-ensemble --members 2 --format jsonl -- true </dev/null
	id=$(tail -n 1 <<<"$output" | json_get id)
	for opt in "--seed 4" "--objective acc" "-e A=1" "--retries 2" "--seed-param s"; do
		# shellcheck disable=SC2086
		run -64 --separate-stderr mls-ensemble --resume "$id" $opt </dev/null
		[[ "$stderr" == "mls-ensemble: --resume: '${opt%% *}' cannot be honoured"* ]]
		[[ "$stderr" == *"only --timeout and --parallel may change"* ]]
	done
}

@test "--timeout that ends an ensemble below its quorum exits 124; members never started are not failed" {
	run -124 --separate-stderr mls-ensemble --members 4 --quorum 4 --parallel 1 \
		--timeout 1 --format jsonl -- sleep 3 </dev/null
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get end <<<"$last")" = timeout ]
	[ "$(json_get quorum.outcome <<<"$last")" = timeout ]
	[ "$(json_get quorum.succeeded <<<"$last")" = 1 ]
	[ "$(json_get quorum.failed <<<"$last")" = 0 ]
	[ "$(json_get quorum.waiting <<<"$last")" = 3 ]
	[[ "$stderr" == *"--timeout expired: 1 of 4 members succeeded, 4 needed; 3 never started"* ]]
	# the view agrees
	id=$(json_get id <<<"$last")
	run --separate-stderr mls-status --format jsonl "$id" </dev/null
	[ "$(tail -n 1 <<<"$output" | json_get quorum.failed)" = 0 ]
	# a quorum reached before the timeout is still success
	run -0 --separate-stderr mls-ensemble --members 4 --quorum 1 --parallel 1 \
		--timeout 1 --format jsonl -- sleep 3 </dev/null
	[ "$(tail -n 1 <<<"$output" | json_get quorum.outcome)" = reached ]
}

@test "without a terminal, one plain line per finished attempt on stderr, with the quorum" {
	run -0 --separate-stderr mls-ensemble --members 3 --quorum 2 --retries 1 \
		--format jsonl -- sh -c 'exit $(( {member} == 1 ))' </dev/null
	lines=$(grep '^mls-ensemble: member ' <<<"$stderr")
	[ "$(wc -l <<<"$lines")" -eq 4 ]
	grep -qx 'mls-ensemble: member 1 attempt 1 failed (exit status 1), retrying; [0-9] of 3 members succeeded (quorum 2)' <<<"$lines"
	grep -qx 'mls-ensemble: member 1 attempt 2 failed (exit status 1); [0-9] of 3 members succeeded (quorum 2)' <<<"$lines"
	[ "$(grep -c 'attempt 1 succeeded' <<<"$lines")" -eq 2 ]
	[[ "$(tail -n 1 <<<"$lines")" == *"; 2 of 3 members succeeded (quorum 2)" ]]
}
