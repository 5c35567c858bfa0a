#!/usr/bin/env bats
# The slurm site against a real single-host Slurm 22.05 (tests/services/
# slurm.sh), in both modes: cli (sbatch/squeue/scancel) and rest
# (slurmrestd with a JWT).  Skipped, with the reason, when Slurm cannot
# start here.  One cluster serves the whole file.

load helpers

setup_file() {
	export SLURM_BASE="$BATS_FILE_TMPDIR/slurm"
	local env rc=0
	env=$(MIN_JOB_AGE=600 "$top_srcdir/tests/services/slurm.sh" start \
	    "$SLURM_BASE" 2>"$BATS_FILE_TMPDIR/slurm.err") || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "$(tail -1 "$BATS_FILE_TMPDIR/slurm.err")" >"$BATS_FILE_TMPDIR/skip"
		return 0
	fi
	eval "$env"
	echo "$env" >"$BATS_FILE_TMPDIR/env"
}

teardown_file() {
	"$top_srcdir/tests/services/slurm.sh" stop "$SLURM_BASE" >/dev/null 2>&1 || :
}

setup() {
	if [ -f "$BATS_FILE_TMPDIR/skip" ]; then
		skip "$(cat "$BATS_FILE_TMPDIR/skip")"
	fi
	eval "$(cat "$BATS_FILE_TMPDIR/env")"
	mls_setup
	unset SLURM_JWT
	export MLS_CONFIG="$HOME/mls.conf"
	cat >"$MLS_CONFIG" <<-EOF
	[site "hpc"]
		type = slurm
		mode = cli
		workdir = $BATS_TEST_TMPDIR/scratch
		retry = 60s
	[site "hpcrest"]
		type = slurm
		mode = rest
		url = $MLS_TEST_SLURM_URL
		token_file = $MLS_TEST_SLURM_TOKEN_FILE
		workdir = $BATS_TEST_TMPDIR/scratch
		retry = 60s
	[site "badtoken"]
		type = slurm
		mode = rest
		url = $MLS_TEST_SLURM_URL
		token_file = $HOME/bad.jwt
		retry = 2s
	[site "down"]
		type = slurm
		mode = rest
		url = http://127.0.0.1:9
		token_file = $MLS_TEST_SLURM_TOKEN_FILE
		retry = 1s
	EOF
	echo garbage >"$HOME/bad.jwt"
}

teardown() {
	mls_teardown
}

for_modes() {	# for_modes FUNCTION: run it for both sites
	"$1" hpc
	"$1" hpcrest
}

submit_status_fetch_cancel() {
	local site=$1 id out
	run -0 bash -c "mls-submit -s $site --format jsonl -- sh -c 'echo out-\$MLS_JOB_ID; echo 7 > \$MLS_OUTPUT_DIR/seven' | mls-status --wait --timeout 60 --format jsonl"
	out=$output
	echo "$site: $out"
	[ "$(json_get state <<<"$out")" = succeeded ]
	[ "$(json_get site <<<"$out")" = "$site" ]
	[[ "$(json_get site_id <<<"$out")" =~ ^[0-9]+$ ]]
	id=$(json_get id <<<"$out")
	run -0 bash -c "echo '$out' | mls-fetch -o '$BATS_TEST_TMPDIR/got-$site' --format jsonl"
	grep -q "out-$id" "$BATS_TEST_TMPDIR/got-$site/$id/stdout"
	[ "$(cat "$BATS_TEST_TMPDIR/got-$site/$id/outputs/seven")" = 7 ]
	# cancel a running job: the stop marker, then scancel / DELETE
	run -0 mls-submit -s "$site" --format jsonl -- sleep 300
	out=$output
	run -0 bash -c "echo '$out' | mls-status --format jsonl"
	run -1 bash -c "echo '$out' | mls-status --cancel --format jsonl >/dev/null; echo '$out' | mls-status --wait --timeout 60 --format jsonl"
	echo "$site, cancelled: $output"
	[ "$(json_get state <<<"$output")" = cancelled ]
}

@test "slurm: submit, status, fetch, cancel (cli and rest)" {
	for_modes submit_status_fetch_cancel
}

@test "slurm: a job array of 200, split at max_array, one array per 64" {
	cat >>"$MLS_CONFIG" <<-EOF
	[site "small"]
		type = slurm
		max_array = 64
		throttle = 32
	EOF
	run -0 bash -c "mls-submit -s small --array 200 --format jsonl -- sh -c 'echo {index} >> $BATS_TEST_TMPDIR/runs' | mls-status --wait --timeout 240 --format jsonl"
	[ "$(grep -c '"state":"succeeded"' <<<"$output")" -eq 200 ]
	# 4 Slurm arrays (64+64+64+8), named after their first job
	n=$(json_get site_id <<<"$output" | cut -d_ -f1 | sort -u | wc -l)
	[ "$n" -eq 4 ]
	[ "$(sort -u "$BATS_TEST_TMPDIR/runs" | wc -l)" -eq 200 ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/runs")" -eq 200 ]
}

@test "slurm: the rest mode submits an array of 200 in one request" {
	run -0 bash -c "mls-submit -s hpcrest --array 200 --format jsonl -- true | mls-status --wait --timeout 240 --format jsonl"
	[ "$(grep -c '"state":"succeeded"' <<<"$output")" -eq 200 ]
	[ "$(json_get site_id <<<"$output" | cut -d_ -f1 | sort -u | wc -l)" -eq 1 ]
}

gpu_job() {
	local site=$1
	run -0 bash -c "mls-submit -s $site --gpus 1 --format jsonl -- sh -c 'echo cvd=\$CUDA_VISIBLE_DEVICES' | mls-status --wait --timeout 60 --format jsonl"
	[ "$(json_get state <<<"$output")" = succeeded ]
	run -0 bash -c "echo '$output' | mls-fetch -o '$BATS_TEST_TMPDIR/g-$site' --format jsonl"
	grep -qx 'cvd=0' "$BATS_TEST_TMPDIR"/g-$site/*/stdout
}

@test "slurm: a --gpus 1 job gets CUDA_VISIBLE_DEVICES (cli and rest)" {
	for_modes gpu_job
}

@test "slurm: a job past its --time ends failed with reason TIMEOUT" {
	run -0 mls-submit -s hpc --time 3s --format jsonl -- sleep 120
	[ "$(json_get resources.time_s <<<"$output")" = 3 ]
	run -1 bash -c "echo '$output' | mls-status --wait --timeout 90 --format jsonl"
	[ "$(json_get state <<<"$output")" = failed ]
	[[ "$(json_get reason <<<"$output")" == *TIMEOUT* ]]
}

@test "slurm: a job that never reports takes Slurm's state and reason" {
	# scancel behind mls's back, while pending: CANCELLED.  The partition
	# is down (slurm.sh), so the job cannot have started: a hold after
	# the submission raced the scheduler on a loaded machine.
	cat >>"$MLS_CONFIG" <<-EOF
	[site "parked"]
		type = slurm
		partition = parked
	EOF
	run -0 mls-submit -s parked --format jsonl -- sleep 300
	out=$output
	sid=$(json_get site_id <<<"$out")
	[ "$(squeue -h -j "$sid" -o %T)" = PENDING ]
	scancel "$sid"
	run -1 bash -c "echo '$out' | mls-status --wait --timeout 60 --format jsonl"
	echo "$output"
	[ "$(json_get state <<<"$output")" = cancelled ]
	[[ "$(json_get reason <<<"$output")" == CANCELLED* ]]
}

@test "slurm: errors carry Slurm's message; 78 for a partition Slurm refuses, 77 for a rejected token, 75 when unreachable" {
	cat >>"$MLS_CONFIG" <<-EOF
	[site "badpart"]
		type = slurm
		partition = nosuch
	EOF
	run -78 mls-submit -s badpart -- true
	[[ "$output" == *"Invalid partition name specified"* ]]
	run -77 mls-submit -s badtoken -- true
	[[ "$output" == *"token rejected"* ]]
	[[ "$output" != *garbage* ]]
	run -75 mls-submit -s down -- true
	[[ "$output" == *"site 'down'"* ]]
}

@test "slurm: the JWT is never in argv, messages or records" {
	tok=$(cat "$MLS_TEST_SLURM_TOKEN_FILE")
	run -0 bash -c "mls-submit -s hpcrest --format jsonl -- true | mls-status --wait --timeout 60 --format jsonl"
	[[ "$output" != *"$tok"* ]]
	! grep -rqF "$tok" "$MLS_DATA_HOME"
}

search_on() {	# search_on SITE N PARALLEL
	mls-search -s "$1" --trials "$2" --parallel "$3" -p x=uniform:0:1 --seed 1 \
	    --format jsonl -- sh -c 'echo "{id}" >> '"$BATS_TEST_TMPDIR"'/runs; echo "{\"loss\": {x}}" >> $MLS_METRICS'
}

@test "slurm: a 100-trial mls-search on slurm" {
	run -0 search_on hpc 100 32
	[ "$(grep -c '"kind":"trial"' <<<"$output")" -eq 100 ]
	[ "$(grep '"kind":"trial"' <<<"$output" | grep -c '"state":"succeeded"')" -eq 100 ]
	[ "$(grep '"kind":"trial"' <<<"$output" | grep -c '"site":"hpc"')" -eq 100 ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/runs")" -eq 100 ]
}

@test "slurm: one campaign spread across local and slurm" {
	run -0 search_on local:2,hpc:16 40 18
	trials=$(grep '"kind":"trial"' <<<"$output")
	[ "$(grep -c '"state":"succeeded"' <<<"$trials")" -eq 40 ]
	nl=$(grep -c '"site":"local"' <<<"$trials")
	nh=$(grep -c '"site":"hpc"' <<<"$trials")
	[ "$nl" -ge 1 ] && [ "$nh" -ge 1 ] && [ $((nl + nh)) -eq 40 ]
	# mls-status groups by site: the table shows both
	run -0 bash -c "grep '\"kind\":\"trial\"' <<<'$trials' | mls-status --format table"
	[[ "$output" == *local* ]] && [[ "$output" == *hpc* ]]
}

resume_no_duplicates() {
	local site=$1 camp
	rm -f "$BATS_TEST_TMPDIR/runs"
	# each trial takes a while, so the kill lands mid-campaign
	mls-search -s "$site" --trials 30 --parallel 10 -p x=uniform:0:1 --seed 2 \
	    --format jsonl -- sh -c 'echo "{id}" >> '"$BATS_TEST_TMPDIR"'/runs; sleep 2; echo "{\"loss\": {x}}" >> $MLS_METRICS' \
	    >"$BATS_TEST_TMPDIR/first.jsonl" 2>"$BATS_TEST_TMPDIR/first.err" &
	local pid=$!
	local n=0
	while [ "$n" -lt 100 ] && [ "$(cat "$BATS_TEST_TMPDIR/runs" 2>/dev/null | wc -l)" -lt 5 ]; do
		sleep 0.2; n=$((n + 1))
	done
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || :
	camp=$(ls -t "$MLS_DATA_HOME/campaigns" | head -1)
	[ -n "$camp" ]
	# as if the driver had died between sbatch and journalling the
	# acknowledgement: the resumed driver sends these again, and the
	# site must find them in Slurm by name and adopt them
	j="$MLS_DATA_HOME/campaigns/$camp/journal.jsonl"
	# (there may be none yet: the kill can land before they are synced)
	grep -v '"ev":"submitted"' "$j" >"$j.new" || :
	mv "$j.new" "$j"
	run -0 mls-search --resume "$camp" --format jsonl
	[ "$(grep '"kind":"trial"' <<<"$output" | grep -c '"state":"succeeded"')" -eq 30 ]
	# not one trial ran twice, and Slurm got each job id once
	[ "$(wc -l <"$BATS_TEST_TMPDIR/runs")" -eq 30 ]
	[ "$(sort -u "$BATS_TEST_TMPDIR/runs" | wc -l)" -eq 30 ]
}

@test "slurm: kill -9 of the driver, --resume, no job submitted twice (cli and rest)" {
	for_modes resume_no_duplicates
}

@test "slurm: slurmctld restarted in the middle of a campaign, which still completes" {
	rm -f "$BATS_TEST_TMPDIR/runs"
	mls-search -s hpc --trials 40 --parallel 10 -p x=uniform:0:1 --seed 3 \
	    --format jsonl -- sh -c 'echo "{id}" >> '"$BATS_TEST_TMPDIR"'/runs; sleep 1; echo "{\"loss\": {x}}" >> $MLS_METRICS' \
	    >"$BATS_TEST_TMPDIR/out.jsonl" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	n=0
	while [ "$n" -lt 100 ] && [ "$(cat "$BATS_TEST_TMPDIR/runs" 2>/dev/null | wc -l)" -lt 8 ]; do
		sleep 0.2; n=$((n + 1))
	done
	DOWN_S=2 "$top_srcdir/tests/services/slurm.sh" restart-ctld "$SLURM_BASE"
	wait "$pid"
	[ "$(grep '"kind":"trial"' "$BATS_TEST_TMPDIR/out.jsonl" | grep -c '"state":"succeeded"')" -eq 40 ]
	[ "$(sort -u "$BATS_TEST_TMPDIR/runs" | wc -l)" -eq 40 ]
}

@test "slurm: a site that fails repeatedly is paused and its trials go elsewhere" {
	# every job of "broken" fails at launch (its log cannot be opened)
	cat >>"$MLS_CONFIG" <<-EOF
	[site "broken"]
		type = slurm
		extra = --output=/nonexistent/dir/x.out
	EOF
	rm -f "$BATS_TEST_TMPDIR/runs"
	run -0 --separate-stderr search_on broken:3,local:2 24 5
	trials=$(grep '"kind":"trial"' <<<"$output")
	nb=$(grep -c '"site":"broken"' <<<"$trials")
	# the first 3 there fail, then the site rests and local takes the rest
	[ "$nb" -ge 3 ] && [ "$nb" -le 6 ]
	[ "$(grep '"site":"local"' <<<"$trials" | grep -c '"state":"succeeded"')" -eq $((24 - nb)) ]
	[[ "$stderr" == *"site 'broken': 3 trials in a row failed there"* ]]
}

# The command writes three metrics lines with pauses between them, so a
# poll sees a partial file (the wrapper pushes it every 0.2 s in cli mode,
# every 2 s in rest mode, where the environment does not travel), and the
# last one just before it exits: the final record has the last line.  A
# poll may land between the wrapper's last push and its result, so a job
# may pass by chance: several in a row.
final_metrics() {	# final_metrics SITE JOBS
	local site=$1 k
	for k in $(seq "$2"); do
		run -0 --separate-stderr mls-submit -s "$site" --wait --timeout 60 --format jsonl -- \
		    sh -c 'echo "{\"step\":1}" >> "$MLS_METRICS"; sleep 1; echo "{\"step\":2}" >> "$MLS_METRICS"; sleep 2.5; echo "{\"step\":3}" >> "$MLS_METRICS"'
		assert_equal "$site job $k: $(json_get state <<<"$output") metrics.step $(json_get metrics.step <<<"$output")" \
		    "$site job $k: succeeded metrics.step 3"
	done
}

@test "slurm: --wait gives the final metrics, not a poll's partial file (cli and rest)" {
	final_metrics hpc 5
	final_metrics hpcrest 3
}

# The last metrics line has no newline: it still counts (-q: no progress
# lines, warnings still show).
no_trailing_newline() {
	local site=$1 trials
	run --separate-stderr mls-search -q -s "$site" --trials 2 --parallel 2 \
	    -p x=uniform:0:1 --objective loss --format jsonl -- \
	    sh -c 'printf "{\"loss\":0.5}" >> "$MLS_METRICS"' </dev/null
	trials=$(grep '"kind":"trial"' <<<"$output")
	assert_equal "$site: exit $status; states $(json_get state <<<"$trials" | tr '\n' ' ')objectives $(json_get objective <<<"$trials" | tr '\n' ' ')stderr '$stderr'" \
	    "$site: exit 0; states succeeded succeeded objectives 0.5 0.5 stderr ''"
}

@test "slurm: a last metrics line without a newline is the objective (cli and rest)" {
	for_modes no_trailing_newline
}

# Every id mls-search prints is accepted by mls-status and mls-fetch, in
# full and as a unique prefix, with or without its j- / c-.  One trial at a
# time, so that the ids differ in their time part and have short prefixes.
ids_accepted() {
	local site=$1 camp ids id p a bad=
	run -0 --separate-stderr mls-search -s "$site" --trials 3 --parallel 1 \
	    -p x=uniform:0:1 --seed 4 --format jsonl -- \
	    sh -c 'echo "{\"loss\": {x}}" >> "$MLS_METRICS"' </dev/null
	camp=$(tail -n 1 <<<"$output" | json_get id)
	[[ "$camp" == c-* ]]
	ids=$(grep '"kind":"trial"' <<<"$output" | json_get id)
	[ "$(wc -l <<<"$ids")" -eq 3 ]
	for id in $ids; do
		# the shortest prefix (8 characters after j- at least) no other
		# job in this store has; without j-, none of the campaigns'
		# ids (without c-) either: they share the time part
		read -r p q < <(/usr/bin/python3 -c '
import os, sys
me = sys.argv[1]
jobs = [j for j in os.listdir(sys.argv[2]) if j != me]
camps = os.listdir(sys.argv[3]) if os.path.isdir(sys.argv[3]) else []
def shortest(me, others, n):
    while any(o.startswith(me[:n]) for o in others):
        n += 1
    return me[:n]
bare = [o[2:] for o in jobs + camps if o[1:2] == "-"]
print(shortest(me, jobs, 10), shortest(me[2:], bare, 8))' "$id" "$MLS_DATA_HOME/store/jobs" "$MLS_DATA_HOME/campaigns")
		for a in "$id" "${id#j-}" "$p" "$q"; do
			mls-status --format jsonl "$a" >"$BATS_TEST_TMPDIR/st" 2>&1 &&
			    [ "$(head -n 1 "$BATS_TEST_TMPDIR/st" | json_get id)" = "$id" ] ||
			    bad+=$'\n'"mls-status $a: $(head -c 200 "$BATS_TEST_TMPDIR/st")"
			rm -rf "$BATS_TEST_TMPDIR/got"
			mls-fetch -o "$BATS_TEST_TMPDIR/got" --format jsonl "$a" >"$BATS_TEST_TMPDIR/fe" 2>&1 &&
			    [ -d "$BATS_TEST_TMPDIR/got/$id" ] ||
			    bad+=$'\n'"mls-fetch $a: $(head -c 200 "$BATS_TEST_TMPDIR/fe")"
		done
	done
	for a in "$camp" "${camp#c-}"; do
		mls-status --format jsonl "$a" >"$BATS_TEST_TMPDIR/st" 2>&1 &&
		    [ "$(tail -n 1 "$BATS_TEST_TMPDIR/st" | json_get id)" = "$camp" ] ||
		    bad+=$'\n'"mls-status $a: $(head -c 200 "$BATS_TEST_TMPDIR/st")"
	done
	assert_equal "$site:$bad" "$site:"
}

@test "slurm: every trial and campaign id mls-search prints is accepted by mls-status and mls-fetch (cli and rest)" {
	for_modes ids_accepted
}
