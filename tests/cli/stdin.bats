#!/usr/bin/env bats
# Standard input that is not records is left alone: mls-submit, mls-search
# and mls-ensemble read stdin only when it starts with '{', so a script fed
# to bash on a pipe and the input of a while-read loop stay the shell's.
load helpers

setup() {
	mls_setup
	cp "$TESTDATA"/hpo/quadratic.sh .
}
teardown() { mls_teardown; }

@test "a CI script piped into bash under set -euo pipefail runs every line" {
	cat > ci.sh <<'EOF'
set -euo pipefail
echo "step 1"
mls-submit -- sh -c 'echo one' > first.jsonl
echo "step 2"
mls-submit --wait -- sh -c 'echo two' > second.jsonl
echo "final line"
EOF
	run -0 --separate-stderr bash -c 'cat ci.sh | bash'
	assert_equal "$output" $'step 1\nstep 2\nfinal line'
	[ "$(json_get kind <first.jsonl)" = job ]
	[ "$(json_get state <second.jsonl)" = succeeded ]
}

@test "a script fed to bash from a file (bash < ci.sh) runs every line" {
	printf '%s\n' 'set -euo pipefail' 'mls-submit --dry-run -- true >/dev/null' \
	    'mls-submit --dry-run -- true >/dev/null' 'echo "final line"' > ci.sh
	run -0 --separate-stderr bash < ci.sh
	assert_equal "$output" "final line"
}

@test "a while-read loop on a pipe runs one mls-submit per line" {
	run -0 --separate-stderr bash -c 'set -euo pipefail
	    printf "%s\n" adam sgd rmsprop | while read -r opt; do
		mls-submit --dry-run -p opt="$opt" -- echo {opt} >> jobs.jsonl
		echo "ran $opt"
	    done'
	assert_equal "$output" $'ran adam\nran sgd\nran rmsprop'
	[ "$(json_get params.opt <jobs.jsonl | tr '\n' ' ')" = "adam sgd rmsprop " ]
}

@test "a while-read loop over a file runs one mls-submit per line" {
	printf '%s\n' adam sgd rmsprop > opts
	run -0 --separate-stderr bash -c 'set -eu
	    while read -r opt; do
		mls-submit -p opt="$opt" -- sh -c "echo {opt}" >> jobs.jsonl
		echo "ran $opt"
	    done < opts'
	assert_equal "$output" $'ran adam\nran sgd\nran rmsprop'
	[ "$(wc -l <jobs.jsonl)" -eq 3 ]
	run -0 --separate-stderr mls-status --wait <jobs.jsonl
	[ "$(json_get state <<<"$output" | sort -u)" = succeeded ]
}

@test "mls-ship | mls-submit -- cmd still runs the shipped sandbox" {
	mkdir code && echo 'echo "from code"' > code/run.sh
	run -0 --separate-stderr bash -c 'mls-ship code | mls-submit --wait -- sh run.sh'
	id=$(json_get id <<<"$output")
	[ "$(cat "$MLS_DATA_HOME/store/jobs/$id/stdout")" = "from code" ]
}

@test "--no-input leaves records on stdin for the next reader" {
	mkdir code && echo true > code/run.sh
	sb=$(mls-ship code </dev/null)
	run -0 --separate-stderr bash -c \
	    'mls-submit --no-input --dry-run -- true > job.jsonl; cat' <<<"$sb"
	assert_equal "$output" "$sb"
	# the job did not take the sandbox on stdin: it shipped "."
	[ "$(json_get sandbox <job.jsonl)" != "$(json_get id <<<"$sb")" ]
}

@test "a bad line after records says why stdin was read" {
	run -65 --separate-stderr mls-submit --dry-run -- true <<<$'{"kind":"params","x":1}\nadam 0.1'
	[ -z "$output" ]
	[[ "$stderr" == "mls-submit: <stdin>:2:"* ]]
	[[ "$stderr" == *"stdin was read because it starts with '{'; use --no-input to leave it alone"* ]]
	run -65 --separate-stderr mls-submit --dry-run -- true <<<'{"kind":"job"}'
	[[ "$stderr" == *"job record: mls-submit reads sandbox and params records"* ]]
	[[ "$stderr" == *"use --no-input to leave it alone"* ]]
}

@test "shell text on stdin is not an error: it is left unread" {
	run -0 --separate-stderr bash -c \
	    'mls-submit --dry-run -- true > job.jsonl; cat' <<<'echo not for mls'
	assert_equal "$output" "echo not for mls"
	[ "$(json_get kind <job.jsonl)" = job ]
}

@test "mls-search leaves shell text alone, and -n leaves records alone" {
	run -0 --separate-stderr bash -c 'mls-search --trials 1 -p x=uniform:-1:1 \
	    -p y=uniform:-1:1 --format jsonl -- sh quadratic.sh > out.jsonl; cat' \
	    <<<'echo still here'
	assert_equal "$output" "echo still here"
	[ "$(tail -n 1 out.jsonl | json_get state)" = finished ]
	run -0 --separate-stderr bash -c 'mls-search -n --trials 1 -p x=uniform:-1:1 \
	    -p y=uniform:-1:1 --format jsonl -- sh quadratic.sh > out.jsonl; cat' \
	    <<<'{"kind":"bogus"}'
	assert_equal "$output" '{"kind":"bogus"}'
	[ "$(tail -n 1 out.jsonl | json_get state)" = finished ]
}

@test "mls-ensemble leaves a while-read loop's input alone" {
	run -0 --separate-stderr bash -c 'set -euo pipefail
	    printf "%s\n" a b | while read -r w; do
		mls-ensemble --members 1 --no-input --format jsonl -- true > "e-$w.jsonl"
		mls-ensemble --members 1 --format jsonl -- true >> "e-$w.jsonl"
		echo "ran $w"
	    done'
	assert_equal "$output" $'ran a\nran b'
	[ "$(json_get kind <e-b.jsonl | grep -c ensemble)" -eq 2 ]
}
