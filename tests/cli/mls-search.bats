#!/usr/bin/env bats
# mls-search: campaigns on the local site, phpo payloads, steering, resume.
load helpers

setup() {
	mls_setup
	cp "$TESTDATA"/hpo/* .
}
teardown() { mls_teardown; }

campaign_id() { tail -n 1 <<<"$1" | json_get id; }

@test "--help exits 0; a bad option exits 64; no command exits 64" {
	run -0 mls-search --help
	[[ "$output" == "usage: mls-search"* ]]
	run -64 --separate-stderr mls-search --bogus
	run -64 --separate-stderr mls-search -p x=uniform:0:1 </dev/null
	[[ "$stderr" == "mls-search: no command given"* ]]
	run -64 --separate-stderr mls-search -- true </dev/null
	[[ "$stderr" == "mls-search: empty search space"* ]]
}

@test "a broken inline space exits 65 naming the parameter" {
	run -65 --separate-stderr mls-search -p lr=loguniform:0:1 -- true </dev/null
	[[ "$stderr" == "mls-search: "*"lr"* ]]
	run -65 --separate-stderr mls-search -p lr=wobbly:0:1 -- true </dev/null
	[[ "$stderr" == *"lr"* ]]
}

@test "a broken space file exits 65 naming the file" {
	printf 'lr: {type: loguniform, low: 1\n' > bad.yaml
	run -65 --separate-stderr mls-search --space bad.yaml -- true </dev/null
	[[ "$stderr" == *"bad.yaml"* ]]
}

@test "an unknown algorithm exits 65" {
	run -65 --separate-stderr mls-search --algorithm magic -p x=uniform:0:1 -- true </dev/null
	[[ "$stderr" == *"unknown algorithm 'magic'"* ]]
}

@test "a campaign emits one trial record per trial, then the campaign record" {
	run -0 --separate-stderr mls-search --trials 8 --parallel 2 --seed 3 \
		-p x=uniform:-1:1 -p y=uniform:-1:1 --format jsonl -- sh quadratic.sh </dev/null
	[ "$(wc -l <<<"$output")" -eq 9 ]
	[ "$(head -n 8 <<<"$output" | json_get kind | sort -u)" = trial ]
	[ "$(head -n 8 <<<"$output" | json_get number | sort -n | tr '\n' ' ')" = "0 1 2 3 4 5 6 7 " ]
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get kind <<<"$last")" = campaign ]
	[ "$(json_get state <<<"$last")" = finished ]
	[ "$(json_get counts.succeeded <<<"$last")" = 8 ]
	# the best is the minimum of the trials' objectives
	best=$(json_get best.value <<<"$last")
	min=$(head -n 8 <<<"$output" | json_get objective | sort -g | head -1)
	/usr/bin/python3 -c "assert abs($best - $min) < 1e-9"
	# every param within bounds
	head -n 8 <<<"$output" | json_get params.x | while read -r x; do
		/usr/bin/python3 -c "assert -1 <= $x <= 1"
	done
}

@test "mls-status CAMPAIGN and mls-fetch CAMPAIGN --best K" {
	out=$(mls-search --trials 5 --parallel 2 --seed 1 -p x=uniform:-1:1 --format jsonl \
		-- sh quadratic.sh </dev/null)
	id=$(campaign_id "$out")
	run -0 --separate-stderr mls-status "$id" --format jsonl
	[ "$(wc -l <<<"$output")" -eq 6 ]
	[ "$(tail -n 1 <<<"$output" | json_get counts.total)" = 5 ]
	run -0 --separate-stderr mls-status --format table "${id:0:8}"
	[[ "$output" == *"trials: 5 total, 5 succeeded"* ]]
	[[ "$output" == *"best loss (min)"* ]]
	run -0 --separate-stderr mls-fetch -o got --best 2 "$id"
	[ "$(ls got | wc -l)" -eq 2 ]
	bestjob=$(tail -n 1 <<<"$out" | json_get best.job)
	[ -f "got/$bestjob/metrics.jsonl" ]
}

@test "a phpo payload (input.json -> output.json) is optimised unchanged" {
	run -0 --separate-stderr mls-search --trials 6 --parallel 2 --seed 2 \
		-p x=uniform:0:4 --format jsonl -- /usr/bin/python3 phpo_payload.py </dev/null
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get counts.succeeded <<<"$last")" = 6 ]
	/usr/bin/python3 -c "assert $(json_get best.value <<<"$last") >= 0.5"
}

@test "an exec: steering program proposes the points and ends the search" {
	run -0 --separate-stderr mls-search --algorithm 'exec:/usr/bin/python3 steer.py %IN %OUT' \
		--trials 50 -p x=uniform:0:10 --format jsonl -- /usr/bin/python3 phpo_payload.py </dev/null
	[ "$(head -n -1 <<<"$output" | json_get params.x | sort -g | tr '\n' ' ')" = "0.0 1.0 2.0 3.0 4.0 " ]
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get counts.total <<<"$last")" = 5 ]
	[ "$(json_get best.params.x <<<"$last")" = 2.0 ]
}

@test "Katib-style metric lines on stdout with --metric-regex" {
	run -0 --separate-stderr mls-search --trials 3 -p x=uniform:0:1 \
		--metric-regex 'score=([0-9.]+)' --objective score:max --format jsonl \
		-- sh -c 'echo "score={x}"' </dev/null
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get counts.succeeded <<<"$last")" = 3 ]
	max=$(head -n 3 <<<"$output" | json_get params.x | sort -g | tail -1)
	/usr/bin/python3 -c "assert abs($(json_get best.value <<<"$last") - $max) < 1e-9"
}

@test "an objective never reported fails the trials and names metric and trial" {
	run -1 --separate-stderr mls-search --trials 2 -p x=uniform:0:1 --objective val_loss \
		--format jsonl -- true </dev/null
	[[ "$stderr" == *"objective 'val_loss' was not reported by trial 0"* ]]
	[ "$(tail -n 1 <<<"$output" | json_get state)" = failed ]
	[ "$(head -n 1 <<<"$output" | json_get state)" = failed ]
}

@test "--max-failures stops the campaign with exit 1" {
	run -1 --separate-stderr mls-search --trials 20 --max-failures 3 -p x=uniform:0:1 \
		--format jsonl -- sh -c 'exit 1' </dev/null
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get end <<<"$last")" = max-failures ]
	[ "$(json_get counts.total <<<"$last")" -lt 20 ]
	[[ "$stderr" == *"--max-failures"* ]]
}

@test "grid search runs every point once, then ends" {
	run -0 --separate-stderr mls-search --algorithm grid --trials 50 -p a=choice:p,q,r -p b=int:1:2 \
		--format jsonl -- sh -c 'echo "{\"loss\":{b}}" >> "$MLS_METRICS"' </dev/null
	[ "$(head -n -1 <<<"$output" | json_get params | sort -u | wc -l)" -eq 6 ]
	[ "$(tail -n 1 <<<"$output" | json_get end)" = exhausted ]
}

@test "--ask-tell suggests points without running anything" {
	run -0 --separate-stderr mls-search --ask-tell --trials 3 --seed 5 -p x=uniform:0:1 <<'EOF2'
{"number":0,"params":{"x":0.5},"value":0.25}
{"number":1,"params":{"x":0.1},"value":0.01}
EOF2
	[ "$(wc -l <<<"$output")" -eq 3 ]
	[ "$(json_get kind <<<"$output" | sort -u)" = params ]
	[ ! -d "$MLS_DATA_HOME/store/jobs" ]
}

@test "median pruning stops poor trials early and records them as pruned" {
	export STEPS=6 SLEEP=0.3
	run -0 --separate-stderr mls-search --trials 12 --parallel 2 --seed 4 --prune median \
		--algorithm random -p x=uniform:-3:3 --format jsonl -- sh quadratic.sh </dev/null
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get counts.total <<<"$last")" = 12 ]
	[ "$(json_get counts.pruned <<<"$last")" -ge 1 ]
	head -n -1 <<<"$output" | grep '"pruned":true' | json_get state | grep -qx cancelled
}

@test "SIGINT journals, leaves the campaign resumable and exits 130" {
	export SLEEP=1
	mls-search --trials 6 --parallel 2 -p x=uniform:0:1 --format jsonl \
		-- sh quadratic.sh </dev/null >out 2>err &
	pid=$!
	# once a trial is journalled as submitted the driver handles SIGINT
	# (a background job of a script starts with SIGINT ignored)
	for i in $(seq 600); do
		grep -qs '"ev":"submitted"' "$MLS_DATA_HOME"/campaigns/*/journal.jsonl && break
		sleep 0.1
	done
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 130 ]
	id=$(ls "$MLS_DATA_HOME/campaigns")
	grep '"ev":"end"' "$MLS_DATA_HOME/campaigns/$id/journal.jsonl" | grep -q '"state":"interrupted"' 
	grep -q "mls-search --resume $id" err
	run -0 --separate-stderr mls-search --resume "$id" --format jsonl </dev/null
	[ "$(tail -n 1 <<<"$output" | json_get counts.total)" = 6 ]
}

@test "kill -9 of the driver at several points, --resume: every trial once, none run twice" {
	export SLEEP=0.2 RUNLOG="$BATS_TEST_TMPDIR/runs"
	: > "$RUNLOG"
	mls-search --trials 12 --parallel 3 --seed 9 -p x=uniform:0:1 --format jsonl \
		-- sh quadratic.sh </dev/null >/dev/null 2>&1 &
	pid=$!
	sleep 1.5
	kill -9 "$pid"; wait "$pid" || true
	id=$(ls "$MLS_DATA_HOME/campaigns")
	for delay in 1 0.3 2; do
		mls-search --resume "$id" --format jsonl </dev/null >/dev/null 2>&1 &
		pid=$!
		sleep "$delay"
		kill -9 "$pid" 2>/dev/null || true	# it may have finished already
		wait "$pid" || true
	done
	run -0 --separate-stderr mls-search --resume "$id" --format jsonl </dev/null
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get counts.total <<<"$last")" = 12 ]
	j="$MLS_DATA_HOME/campaigns/$id/journal.jsonl"
	# each trial number has exactly one result, and there are 12 of them
	[ "$(grep '"ev":"result"' "$j" | json_get number | sort -n | uniq | wc -l)" -eq 12 ]
	[ "$(grep -c '"ev":"result"' "$j")" -eq 12 ]
	# no job ran twice, and exactly 12 jobs ran
	[ "$(sort "$RUNLOG" | uniq -d | wc -l)" -eq 0 ]
	[ "$(sort -u "$RUNLOG" | wc -l)" -eq 12 ]
}

@test "a journal that lost its tail to a machine crash: --resume takes the sent trials back, none runs twice" {
	export SLEEP=0.4 RUNLOG="$BATS_TEST_TMPDIR/runs"
	: > "$RUNLOG"
	mls-search --trials 8 --parallel 2 --seed 5 --algorithm tpe -p x=uniform:0:1 \
		--format jsonl -- sh quadratic.sh </dev/null >/dev/null 2>&1 &
	pid=$!
	for i in $(seq 200); do
		id=$(ls "$MLS_DATA_HOME/campaigns" 2>/dev/null || true)
		j="$MLS_DATA_HOME/campaigns/$id/journal.jsonl"
		n=$(grep -c '"ev":"submitted"' "$j" 2>/dev/null || true)
		[ -n "$id" ] && [ "${n:-0}" -ge 4 ] && break
		sleep 0.05
	done
	kill -9 "$pid"; wait "$pid" || true
	# what a crash of the machine can lose: the events after the 3rd submit
	cut=$(grep -n '"ev":"submit"' "$j" | sed -n 3p | cut -d: -f1)
	head -n $((cut - 1)) "$j" > "$j.cut" && mv "$j.cut" "$j"
	[ "$(grep -c '"ev":"submit"' "$j")" -eq 2 ]
	run -0 --separate-stderr mls-search --resume "$id" --format jsonl </dev/null
	# trials 2 and 3 were found in the store and taken back, not asked again
	[ "$(grep -c 'taken back' <<<"$stderr")" -ge 2 ]
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get counts.total <<<"$last")" = 8 ]
	[ "$(json_get counts.succeeded <<<"$last")" = 8 ]
	# their records carry the params they ran with
	for n in 2 3; do
		rec=$(grep "\"number\":$n," "$j" | grep '"ev":"result"' | head -n 1)
		job=$(json_get job.id <<<"$rec")
		[ "$(json_get job.params.x <<<"$rec")" = \
		  "$(json_get x < "$MLS_DATA_HOME/store/jobs/$job/params.json")" ]
	done
	# no job ran twice, and exactly 8 ran
	[ "$(sort "$RUNLOG" | uniq -d | wc -l)" -eq 0 ]
	[ "$(sort -u "$RUNLOG" | wc -l)" -eq 8 ]
}

@test "--detach prints the campaign id and runs in the background" {
	run -0 --separate-stderr mls-search --detach --trials 3 -p x=uniform:0:1 -- sh quadratic.sh </dev/null
	id=$output
	[[ "$id" == c-* ]]
	for i in $(seq 100); do
		[ "$(mls-status "$id" --format jsonl | tail -n 1 | json_get state)" = finished ] && break
		sleep 0.2
	done
	[ "$(mls-status "$id" --format jsonl | tail -n 1 | json_get counts.succeeded)" = 3 ]
}

@test "a W&B sweep file gives the space, the algorithm and the objective" {
	cp "$TESTDATA/spaces/wandb.yaml" .
	run -0 --separate-stderr mls-search --space wandb.yaml --trials 4 --format jsonl \
		-- sh -c 'echo "{\"val_acc\":{dropout}}" >> "$MLS_METRICS"' </dev/null
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get objective.metric <<<"$last")" = val_acc ]
	[ "$(json_get objective.goal <<<"$last")" = max ]
	[ "$(json_get algorithm <<<"$last")" = tpe ]
	max=$(head -n 4 <<<"$output" | json_get params.dropout | sort -g | tail -1)
	/usr/bin/python3 -c "assert abs($(json_get best.value <<<"$last") - $max) < 1e-9"
	[ "$(head -n 4 <<<"$output" | json_get params.epochs | sort -u)" = 10 ]
}

@test "an hpogrid/phpo space file is read" {
	cp "$TESTDATA/spaces/phpo.json" .
	run -0 --separate-stderr mls-search --space phpo.json --trials 2 --format jsonl \
		-- /usr/bin/python3 -c 'open("output.json","w").write("{\"status\":0,\"loss\":1}")' </dev/null
	[ "$(tail -n 1 <<<"$output" | json_get counts.succeeded)" = 2 ]
}

@test "--resume refuses, with 64 naming it, an option the journal fixes" {
	run -0 --separate-stderr mls-search --trials 2 -p x=uniform:0:1 --format jsonl \
		-- sh quadratic.sh </dev/null
	id=$(campaign_id "$output")
	j="$MLS_DATA_HOME/campaigns/$id/journal.jsonl"
	before=$(wc -l <"$j")
	for opt in "--prune median" "--objective acc:max" "--algorithm random" \
	    "--seed 4" "-e A=1" "--env A=1" "-s local" "--image none"; do
		# shellcheck disable=SC2086
		run -64 --separate-stderr mls-search --resume "$id" $opt </dev/null
		[[ "$stderr" == "mls-search: --resume: '${opt%% *}' cannot be honoured"* ]]
	done
	# nothing was run or journalled
	[ "$(wc -l <"$j")" -eq "$before" ]
}

@test "--resume --trials N raises the budget, journalled: the record and the view show it" {
	run -0 --separate-stderr mls-search --trials 2 -p x=uniform:0:1 --format jsonl \
		-- sh quadratic.sh </dev/null
	id=$(campaign_id "$output")
	[ "$(tail -n 1 <<<"$output" | json_get budget.trials)" = 2 ]
	run -0 --separate-stderr mls-search --resume "$id" --trials 5 --format jsonl </dev/null
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get counts.total <<<"$last")" = 5 ]
	[ "$(json_get budget.trials <<<"$last")" = 5 ]
	grep '"ev":"resume"' "$MLS_DATA_HOME/campaigns/$id/journal.jsonl" | grep -q '"trials":5'
	# the view, rebuilt from the journal, agrees
	run -0 --separate-stderr mls-status --format jsonl "$id" </dev/null
	[ "$(tail -n 1 <<<"$output" | json_get budget.trials)" = 5 ]
	run -0 --separate-stderr mls-status --format table "$id" </dev/null
	[[ "$output" == *" of 5"* ]]
}

@test "a campaign on a Slurm site with no sbatch in PATH exits 69 naming the site and the program" {
	cat >"$HOME/slurm.conf" <<-'EOF2'
	[site "nosb"]
		type = slurm
		mode = cli
	EOF2
	bin=$(dirname "$(command -v mls-search)")
	run -69 --separate-stderr env MLS_CONFIG="$HOME/slurm.conf" PATH="$bin" \
		mls-search -s nosb --trials 2 -p x=uniform:0:1 --format jsonl -- true </dev/null
	[[ "$stderr" == *"mls-search: site 'nosb': 'sbatch': not found in PATH"* ]]
}

@test "without a terminal, one plain line per finished trial on stderr (number, state, objective, best); none with -q" {
	run -0 --separate-stderr mls-search --trials 4 --parallel 2 --seed 3 \
		-p x=uniform:-1:1 --format jsonl -- sh quadratic.sh </dev/null
	lines=$(grep '^mls-search: trial ' <<<"$stderr")
	[ "$(wc -l <<<"$lines")" -eq 4 ]
	# every trial once, each line complete, the count going up to the budget
	[ "$(sed 's/^mls-search: trial \([0-9]*\) .*/\1/' <<<"$lines" | sort -n | tr '\n' ' ')" = "0 1 2 3 " ]
	while read -r l; do
		[[ "$l" =~ ^mls-search:\ trial\ [0-3]\ succeeded,\ loss\ [-0-9.e]+\;\ best\ [-0-9.e]+\ \(trial\ [0-3]\)\;\ [1-4]/4\ done$ ]]
	done <<<"$lines"
	[[ "$(tail -n 1 <<<"$lines")" == *"; 4/4 done" ]]
	# the last line's best is the campaign's best
	best=$(tail -n 1 <<<"$output" | json_get best.value)
	shown=$(tail -n 1 <<<"$lines" | sed 's/.*; best \([^ ]*\) (trial.*/\1/')
	/usr/bin/python3 -c "assert abs($best - $shown) <= 1e-5 * abs($best) + 1e-12"
	# a failed trial says why
	run -1 --separate-stderr mls-search --trials 1 -p x=uniform:0:1 --format jsonl \
		-- sh -c 'exit 2' </dev/null
	[[ "$stderr" == *"mls-search: trial 0 failed (exit status 2); 1/1 done"* ]]
	run -0 --separate-stderr mls-search -q --trials 2 -p x=uniform:0:1 --format jsonl \
		-- sh quadratic.sh </dev/null
	[ -z "$stderr" ]
}

@test "an objective no trial reports stops the campaign after 3 trials, exit 1, naming the keys seen" {
	run -1 --separate-stderr mls-search --trials 50 --parallel 1 -p x=uniform:0:1 \
		--objective acc:max --format jsonl -- sh quadratic.sh </dev/null
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get state <<<"$last")" = failed ]
	[ "$(json_get end <<<"$last")" = objective-unseen ]
	[ "$(json_get counts.total <<<"$last")" -le 4 ]
	[[ "$stderr" == *"stopped: objective 'acc' was not reported by the first 3 trials that exited 0 (0, 1, 2); the keys they reported: 'loss'"* ]]
	# the view rebuilt from the journal keeps why
	id=$(json_get id <<<"$last")
	run --separate-stderr mls-status --format jsonl "$id" </dev/null
	[[ "$(tail -n 1 <<<"$output" | json_get end_message)" == "objective 'acc' was not reported"* ]]
	# one trial that reports it is enough to go on through the budget
	run -0 --separate-stderr mls-search --trials 5 --parallel 1 -p x=uniform:0:1 \
		--objective acc:max --format jsonl -- sh -c \
		'if mkdir "$0/once" 2>/dev/null; then echo "{\"acc\":0.5}" >>"$MLS_METRICS"; fi' \
		"$BATS_TEST_TMPDIR" </dev/null
	[ "$(tail -n 1 <<<"$output" | json_get counts.total)" = 5 ]
	[ "$(tail -n 1 <<<"$output" | json_get counts.succeeded)" = 1 ]
}

@test "a W&B sweep without COMMAND runs its program with --NAME=VALUE; early_terminate hyperband is the asha pruner" {
	cat >sweep.yaml <<-'EOF2'
	program: train.sh
	name: wb-sweep
	project: demo
	method: random
	run_cap: 3
	metric:
	  name: val_loss
	  goal: minimize
	early_terminate:
	  type: hyperband
	  min_iter: 2
	  eta: 2
	parameters:
	  x:
	    min: 0.0
	    max: 1.0
	  act:
	    values: [relu, gelu]
	EOF2
	# W&B's default command is python PROGRAM ARGS: a "python" that runs sh
	mkdir bin
	printf '#!/bin/sh\nexec sh "$@"\n' >bin/python
	chmod +x bin/python
	cat >train.sh <<-'EOF2'
	for a in "$@"; do case $a in --x=*) x=${a#--x=};; --act=*) act=${a#--act=};; esac; done
	[ -n "$x" ] && [ -n "$act" ] && [ "$WANDB_PROJECT" = demo ] || exit 9
	echo "{\"step\":1,\"val_loss\":$x}" >>"$MLS_METRICS"
	EOF2
	PATH="$PWD/bin:$PATH" run -0 --separate-stderr mls-search --space sweep.yaml \
		--format jsonl </dev/null
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get counts.succeeded <<<"$last")" = 3 ]
	[ "$(json_get budget.trials <<<"$last")" = 3 ]
	[ "$(json_get name <<<"$last")" = wb-sweep ]
	[ "$(json_get prune <<<"$last")" = asha ]
	[ "$(json_get prune_opts.min_resource <<<"$last")" = 2 ]
	[ "$(json_get prune_opts.reduction_factor <<<"$last")" = 2 ]
	[ "$(json_get command <<<"$last")" = '["python", "train.sh", "--x={x}", "--act={act}"]' ]
	# a COMMAND given wins over program, --prune over early_terminate
	run -0 --separate-stderr mls-search --space sweep.yaml --prune median --format jsonl \
		-- sh -c 'echo "{\"val_loss\":{x}}" >>"$MLS_METRICS"' </dev/null
	[ "$(tail -n 1 <<<"$output" | json_get prune)" = median ]
	[ "$(tail -n 1 <<<"$output" | json_get command.0)" = sh ]
}

@test "W&B keys mls cannot honour are refused with 65, naming the key and its line" {
	printf 'method: random\nmetric:\n  name: loss\n  target: 0.1\nparameters:\n  x: {min: 0.0, max: 1.0}\n' >t.yaml
	run -65 --separate-stderr mls-search --space t.yaml -- true </dev/null
	[ "$stderr" = "mls-search: t.yaml:4:3: metric: key 'target' is not supported (mls reads name and goal; it does not stop at a target value)" ]
	printf 'parameters:\n  x:\n    values: [1, 2]\n    probabilities: [0.5, 0.5]\n' >p.yaml
	run -65 --separate-stderr mls-search --space p.yaml -- true </dev/null
	[[ "$stderr" == "mls-search: p.yaml:4:5: parameter 'x': key 'probabilities' is not supported"* ]]
	printf 'parameters:\n  x: {min: 0.0, max: 1.0}\nearly_terminate:\n  type: envelope\n' >e.yaml
	run -65 --separate-stderr mls-search --space e.yaml -- true </dev/null
	[[ "$stderr" == "mls-search: e.yaml:4:3: early_terminate: type 'envelope' is not supported"* ]]
	printf 'parameters:\n  x: {min: 0.0, max: 1.0}\ncontroller:\n  type: local\n' >c.yaml
	run -65 --separate-stderr mls-search --space c.yaml -- true </dev/null
	[[ "$stderr" == "mls-search: c.yaml:3:1: key 'controller' is not supported"* ]]
	printf '{"parameters": {"x": {"min": 0, "max": 1}}, "command": ["${env}", "${args_json}"]}' >j.json
	run -65 --separate-stderr mls-search --space j.json -- true </dev/null
	[[ "$stderr" == "mls-search: j.json: command: '\${args_json}' is not supported"* ]]
	[ ! -d "$MLS_DATA_HOME/campaigns" ]
}
