#!/usr/bin/env bats
# The local site through the tools: the scheduler (mls-runner) outlives
# mls-submit, shares the slots, pins GPUs, survives being killed, and the
# job executor reports exit codes, metrics and outputs to the store.
# local-site-wrapper.sh runs this file again with MLS_LOCAL_EXEC=wrapper,
# so that lib/jobwrap.sh passes the same tests as the C executor.

load helpers

setup() {
	mls_setup
	STORE="$MLS_DATA_HOME/store"
}

teardown() {
	mls_teardown
}

@test "a pipeline submit | status --wait neither hangs nor leaves the runner on stdout" {
	run -0 timeout 30 sh -c "mls-submit -- sh -c 'echo hi' | mls-status --wait"
	[ "$(json_get state <<<"$output")" = succeeded ]
	id=$(json_get id <<<"$output")
	[ "$(cat "$STORE/jobs/$id/stdout")" = hi ]
}

@test "mls-submit returns before the job ends: the runner runs it" {
	# The job cannot end before the test creates 'release', which it does
	# only once mls-submit has returned: a submit that waited for its job
	# would hang here (and be stopped by timeout).
	rel="$BATS_TEST_TMPDIR/release"
	run -0 timeout 60 mls-submit -- sh -c "while [ ! -e '$rel' ]; do sleep 0.05; done; echo late"
	id=$(json_get id <<<"$output")
	[ "$(json_get state <<<"$output")" = queued ]
	[ ! -s "$STORE/jobs/$id/stdout" ]
	touch "$rel"
	run -0 timeout 30 mls-status --wait "$id"
	[ "$(cat "$STORE/jobs/$id/stdout")" = late ]
}

@test "exit code, command not found and a killed job reach the record" {
	mls-submit -- sh -c 'exit 3' >jobs
	mls-submit -- no-such-command-xyz >>jobs
	mls-submit -- sh -c 'kill -9 $$' >>jobs
	run -1 --separate-stderr timeout 30 mls-status --wait <jobs
	[ "$(json_get exit_code <<<"$output" | tr '\n' ' ')" = "3 127 137 " ]
	[ "$(json_get reason <<<"$output" | sed -n 2p)" = "command not found: no-such-command-xyz" ]
	[ "$(json_get reason <<<"$output" | sed -n 3p)" = "killed by signal 9" ]
}

@test "params reach MLS_PARAMS and input.json; metrics and outputs come back" {
	run -0 --separate-stderr sh -c "mls-submit -p lr=0.5 -- sh -c '
		cp \"\$MLS_PARAMS\" \"\$MLS_OUTPUT_DIR/p.json\"
		cmp -s input.json \"\$MLS_PARAMS\" || exit 9
		echo \"{{\\\"step\\\":1,\\\"loss\\\":0.9}\" >>\"\$MLS_METRICS\"
		echo \"{{\\\"step\\\":2,\\\"loss\\\":0.4}\" >>\"\$MLS_METRICS\"
	' | timeout 30 mls-status --wait"
	[ "$(json_get state <<<"$output")" = succeeded ]
	[ "$(json_get metrics.loss <<<"$output")" = 0.4 ]
	[ "$(json_get metrics.step <<<"$output")" = 2 ]
	id=$(json_get id <<<"$output")
	run -0 sh -c "zstd -dc '$STORE/jobs/$id/outputs.tar.zst' | tar -xOf - --wildcards '*p.json'"
	[[ "$output" == *'"lr"'* ]]
}

@test "with one CPU slot three jobs run one after another" {
	export MLS_LOCAL_CPUS=1
	for i in 1 2 3; do mls-submit -- sleep 0.3; done >jobs
	run -0 timeout 60 mls-status --wait <jobs
	/usr/bin/python3 - "$output" <<'PY'
import json, sys
jobs = sorted((json.loads(l) for l in sys.argv[1].splitlines()), key=lambda j: j["started"])
for a, b in zip(jobs, jobs[1:]):
    assert a["finished"] <= b["started"], (a["finished"], b["started"])
PY
}

@test "fake GPUs are handed out one per job through CUDA_VISIBLE_DEVICES" {
	export MLS_LOCAL_GPUS=2 T="$BATS_TEST_TMPDIR/gpus"
	mkdir "$T"
	# each job holds its GPU until both have started: if the second got the
	# first one's GPU it could start only after the first ended
	for i in 1 2; do
		mls-submit --gpus 1 -- sh -c 'printf %s "$CUDA_VISIBLE_DEVICES"
			touch "$T/gpu$CUDA_VISIBLE_DEVICES"
			for i in $(seq 100); do
				[ "$(ls "$T" | grep -c "^gpu")" -ge 2 ] && break
				sleep 0.1
			done'
	done >jobs
	run -0 timeout 30 mls-status --wait <jobs
	got=$(for id in $(json_get id <jobs); do cat "$STORE/jobs/$id/stdout"; echo; done | sort | tr '\n' ' ')
	[ "$got" = "0 1 " ]
	run -65 --separate-stderr mls-submit --gpus 4 -- true
	[[ "$stderr" == *"job needs 4 GPUs; site 'local' has 2"* ]]
}

@test "the job survives kill -9 of the runner and a later status sees it" {
	run -0 mls-submit -- sh -c 'sleep 1.5; echo survived'
	id=$(json_get id <<<"$output")
	for i in $(seq 50); do
		[ -f "$MLS_DATA_HOME/local/running/$id.json" ] && break
		sleep 0.1
	done
	kill -9 "$(cat "$MLS_DATA_HOME/local/runner.pid")"
	run -0 timeout 30 mls-status --wait "$id"
	[ "$(json_get state <<<"$output")" = succeeded ]
	[ "$(cat "$STORE/jobs/$id/stdout")" = survived ]
}

@test "a running job is stopped by cancel, with its outputs" {
	run -0 mls-submit -- sh -c 'echo kept >"$MLS_OUTPUT_DIR/k"; sleep 60'
	id=$(json_get id <<<"$output")
	for i in $(seq 50); do
		[ -f "$MLS_DATA_HOME/local/running/$id.json" ] && break
		sleep 0.1
	done
	sleep 1
	run timeout 30 mls-status --cancel "$id"
	run -1 timeout 30 mls-status --wait "$id"
	[ "$(json_get state <<<"$output")" = cancelled ]
	run -0 sh -c "zstd -dc '$STORE/jobs/$id/outputs.tar.zst' | tar -xOf - --wildcards '*k'"
	[ "$output" = kept ]
}

@test "the wrapper behaves the same under dash and bash" {
	# a job for the wrapper has a spec.sh (the executor needs none)
	run -0 --separate-stderr sh -c "MLS_LOCAL_EXEC=wrapper mls-submit -p n=4 -- sh -c 'exit \$(cat \"\$MLS_PARAMS\" | tr -dc 0-9)' | timeout 30 mls-status --wait" || true
	id=$(json_get id <<<"$output")
	wrapper=$(ls "$MLS_DATA_HOME"/local/jobwrap-*.sh)
	for sh in dash bash; do
		command -v "$sh" >/dev/null || continue
		mkdir -p "$STORE/jobs/$id-$sh"
		cp "$STORE/jobs/$id/spec.sh" "$STORE/jobs/$id/params.json" "$STORE/jobs/$id-$sh/"
		run -0 "$sh" "$wrapper" "file://$STORE" "$id-$sh"
		run -0 cat "$STORE/jobs/$id-$sh/result.json"
		[ "$(json_get exit_code <<<"$output")" = 4 ]
		[ "$(json_get reason <<<"$output")" = "exit status 4" ]
	done
}

@test "a job over its --time limit is stopped and fails with TIMEOUT" {
	run -1 --separate-stderr sh -c "mls-submit --time 1s -- sh -c 'echo started; sleep 30' | timeout 30 mls-status --wait"
	[ "$(json_get state <<<"$output")" = failed ]
	[[ "$(json_get reason <<<"$output")" == *"time limit of 1s exceeded (TIMEOUT)"* ]]
	id=$(json_get id <<<"$output")
	[ "$(cat "$STORE/jobs/$id/stdout")" = started ]
}

@test "a command that ignores SIGTERM is killed when the grace period is over" {
	mkdir -p "$XDG_CONFIG_HOME/mls"
	printf '[site "local"]\n\ttype = local\n\tgrace = 1s\n' >"$XDG_CONFIG_HOME/mls/config"
	out="$BATS_TEST_TMPDIR/job.out"
	run -0 mls-submit -- sh -c "trap 'echo term >>$out' TERM; echo up >>$out; while :; do sleep 0.1; done"
	id=$(json_get id <<<"$output")
	for i in $(seq 300); do
		[ "$(cat "$out" 2>/dev/null)" = up ] && break
		sleep 0.1
	done
	# the configured grace (1 s, not the default 10 s) is the one the
	# job runs under: in the scheduler's entry, or the wrapper's spec
	if [ "${MLS_LOCAL_EXEC:-}" = wrapper ]; then
		grep -qx "MLS_GRACE_S='1'" "$STORE/jobs/$id/spec.sh"
	else
		grep -q '"grace_s":1[,}]' "$MLS_DATA_HOME/local/running/$id.json"
	fi
	run timeout 30 mls-status --cancel "$id"
	run -1 timeout 60 mls-status --wait "$id"
	[ "$(json_get state <<<"$output")" = cancelled ]
	# in this order: SIGTERM (which the command survived), then SIGKILL
	[ "$(head -n 1 "$out")" = up ]
	grep -qx term "$out"
	[ "$(json_get signal <<<"$output")" = 9 ]
}

@test "a sandbox over 8 MiB is set up off the scheduler, and the job sees it whole" {
	head -c 9437184 /dev/urandom > big.bin
	sum=$(sha256sum big.bin | cut -c1-64)
	run -0 --separate-stderr sh -c "MLS_DEBUG=1 mls-submit -- sh -c 'sha256sum big.bin | cut -c1-64' | timeout 60 mls-status --wait"
	[ "$(json_get state <<<"$output")" = succeeded ]
	id=$(json_get id <<<"$output")
	[ "$(cat "$STORE/jobs/$id/stdout")" = "$sum" ]
	if [ "${MLS_LOCAL_EXEC:-}" != wrapper ]; then
		grep -q "job '$id': started .*executor)" "$MLS_DATA_HOME/local/runner.log"
	fi
	# a second job with the same sandbox: unpacked once, copied again
	run -0 --separate-stderr sh -c "mls-submit -- sh -c 'rm big.bin; ls' | timeout 60 mls-status --wait"
	run -0 --separate-stderr sh -c "mls-submit -- sh -c 'sha256sum big.bin | cut -c1-64' | timeout 60 mls-status --wait"
	id=$(json_get id <<<"$output")
	[ "$(cat "$STORE/jobs/$id/stdout")" = "$sum" ]
}

@test "an ended job's scratch dir is gone, or kept with MLS_KEEP_WORK=1" {
	export MLS_SCRATCH="$BATS_TEST_TMPDIR/scratch"
	run -0 --separate-stderr sh -c "mls-submit -- sh -c 'pwd; echo x > mine' | timeout 30 mls-status --wait"
	id=$(json_get id <<<"$output")
	work=$(head -n 1 "$STORE/jobs/$id/stdout")
	[[ "$work" == "$MLS_SCRATCH"/mls-*$id* ]]
	for i in $(seq 50); do [ -e "$work" ] || break; sleep 0.1; done
	[ ! -e "$work" ]
	# a later job starts in a clean dir (none of the last one's files)
	run -0 --separate-stderr sh -c "mls-submit -- sh -c 'ls -A' | timeout 30 mls-status --wait"
	id=$(json_get id <<<"$output")
	! grep -qx mine "$STORE/jobs/$id/stdout"
	# a runner started with MLS_KEEP_WORK=1 keeps them
	kill "$(cat "$MLS_DATA_HOME/local/runner.pid")"
	for i in $(seq 50); do flock -n "$MLS_DATA_HOME/local/sched.lock" true && break; sleep 0.1; done
	run -0 --separate-stderr sh -c "MLS_KEEP_WORK=1 mls-submit -- sh -c 'pwd' | timeout 30 mls-status --wait"
	id=$(json_get id <<<"$output")
	sleep 0.5
	[ -d "$(cat "$STORE/jobs/$id/stdout")" ]
}

@test "a job's hard link over a sandbox file cannot make a later job write outside its dir" {
	echo placeholder > data.txt
	echo "precious" > "$BATS_TEST_TMPDIR/victim.txt"
	run -0 --separate-stderr sh -c "mls-submit -- sh -c 'ln -f \"$BATS_TEST_TMPDIR/victim.txt\" data.txt' | timeout 30 mls-status --wait"
	run -0 --separate-stderr sh -c "mls-submit -- cat data.txt | timeout 30 mls-status --wait"
	id=$(json_get id <<<"$output")
	[ "$(cat "$STORE/jobs/$id/stdout")" = placeholder ]
	[ "$(cat "$BATS_TEST_TMPDIR/victim.txt")" = precious ]
}

@test "what a job leaves running is stopped with it and never reaches a later job" {
	run -0 --separate-stderr sh -c "mls-submit -- sh -c '(sleep 1; echo leak > outputs/leak.txt; echo x > note.txt; touch \"$BATS_TEST_TMPDIR/alive\") >/dev/null 2>&1 &' | timeout 30 mls-status --wait"
	run -0 --separate-stderr sh -c "mls-submit -- sh -c 'sleep 2; ls -A' | timeout 30 mls-status --wait"
	id=$(json_get id <<<"$output")
	! grep -qx note.txt "$STORE/jobs/$id/stdout"
	[ ! -e "$BATS_TEST_TMPDIR/alive" ]
	if [ "${MLS_LOCAL_EXEC:-}" != wrapper ]; then
		[ "$(json_get outputs <<<"$output")" = null ]
	fi
}

@test "the queue is first come, first served, campaigns included" {
	export MLS_LOCAL_CPUS=1 GO="$BATS_TEST_TMPDIR/go"
	mls-search --trials 4 --parallel 2 -p x=uniform:0:1 --format jsonl \
		--metric-regex 'loss=([0-9.]+)' \
		-- sh -c 'while [ ! -e "$GO" ]; do sleep 0.05; done; echo loss=0.5' \
		</dev/null >camp.jsonl 2>/dev/null &
	pid=$!
	for i in $(seq 600); do
		[ -n "$(ls "$MLS_DATA_HOME/local/running" 2>/dev/null)" ] && break
		sleep 0.05
	done
	run -0 mls-submit -- true </dev/null
	x=$(json_get id <<<"$output")
	# trials end only once the job is queued, so trial 2 is sent after it
	touch "$GO"
	wait "$pid"
	run -0 timeout 30 mls-status --wait "$x"
	xs=$(json_get started <<<"$output")
	# trial 2 was submitted after the job, when trial 0 ended: it runs after
	t2=$(grep '"number":2,' camp.jsonl | json_get started)
	[[ "$xs" < "$t2" ]]
}

@test "a kill of every mls-runner process keeps the results of the jobs" {
	run -0 mls-submit -- sh -c 'sleep 1.5; echo survived'
	id=$(json_get id <<<"$output")
	for i in $(seq 50); do
		[ -f "$MLS_DATA_HOME/local/running/$id.json" ] && break
		sleep 0.1
	done
	pkill -TERM -f "mls-runner --site local --data $MLS_DATA_HOME/local" || true
	run -0 timeout 30 mls-status --wait "$id"
	[ "$(json_get state <<<"$output")" = succeeded ]
	[ "$(cat "$STORE/jobs/$id/stdout")" = survived ]
}

@test "a job gets its submitter's environment, kept only in the local queue entry" {
	export MLS_LOCAL_CPUS=1 MLS_LOCAL_GPUS=1 MLS_RUNNER_LINGER=60
	mkdir -p bin1 bin2
	printf '#!/bin/sh\necho tool-one\n' >bin1/mls-test-tool
	printf '#!/bin/sh\necho tool-two\n' >bin2/mls-test-tool
	chmod +x bin1/mls-test-tool bin2/mls-test-tool
	job='echo "${FOO#secret-}"; mls-test-tool; echo "$BAR $MLS_JOB_ID $CUDA_VISIBLE_DEVICES"'
	run -0 --separate-stderr env FOO=secret-one-4711 BAR=sub MLS_JOB_ID=fake \
	    PATH="$PWD/bin1:$PATH" mls-submit --wait -- sh -c "$job"
	id1=$(json_get id <<<"$output")
	[ "$(json_get env <<<"$output")" = '{}' ]
	runner=$(cat "$MLS_DATA_HOME/local/runner.pid")
	# the second waits for the one CPU: its queue entry holds its environment
	run -0 mls-submit -- sh -c 'while [ ! -e "$0" ]; do sleep 0.05; done' "$PWD/go"
	hold=$(json_get id <<<"$output")
	run -0 --separate-stderr env FOO=secret-two-4712 BAR=sub CUDA_VISIBLE_DEVICES=7 \
	    PATH="$PWD/bin2:$PATH" mls-submit --gpus 1 -e BAR=flag -- sh -c "$job"
	id2=$(json_get id <<<"$output")
	[ "$(json_get env <<<"$output")" = '{"BAR": "flag"}' ]
	q="$MLS_DATA_HOME/local/queue/$id2.json"
	[ "$(stat -c %a "$q")" = 600 ]
	grep -q secret-two-4712 "$q"
	touch go
	run -0 timeout 30 mls-status --wait "$hold" "$id1" "$id2"
	# one lingering runner ran them all
	[ "$(cat "$MLS_DATA_HOME/local/runner.pid")" = "$runner" ]
	[ "$(cat "$STORE/jobs/$id1/stdout")" = "one-4711
tool-one
sub $id1 " ]
	[ "$(cat "$STORE/jobs/$id2/stdout")" = "two-4712
tool-two
flag $id2 0" ]
	# nowhere else: not in the records, the registry, the store, the logs
	[[ "$output" != *secret-one-4711* && "$output" != *secret-two-4712* ]]
	! grep -r -l -e secret-one-4711 -e secret-two-4712 "$STORE" "$MLS_DATA_HOME"
}
