#!/usr/bin/env bats
# A job's own bad output (issue 16): a metrics.jsonl over 64 MiB, a
# result.json over 1 MiB or one that does not validate, fails that job with
# a reason naming the file and the limit; the other jobs of the batch or
# campaign carry on, the campaign ends with its record, --resume works.
load helpers

setup() {
	mls_setup
	cp "$TESTDATA"/hpo/* .
	STORE="$MLS_DATA_HOME/store"
	# 65 MiB of valid metrics lines, one over the limit
	cat > big.sh <<'EOF'
#!/bin/sh
yes '{"step":1,"loss":0.5}' | head -c 68157440 >> "$MLS_METRICS"
EOF
}
teardown() {
	mls_teardown
	rm -rf "$STORE/jobs" "$MLS_DATA_HOME/local"
}

campaign_id() { tail -n 1 <<<"$1" | json_get id; }

@test "mls-submit --wait: a job with 65 MiB of metrics fails with the reason, and its record is written" {
	run -1 --separate-stderr mls-submit --wait -- sh "$WORK/big.sh" </dev/null
	[ "$(wc -l <<<"$output")" -eq 1 ]
	[ "$(json_get state <<<"$output")" = failed ]
	[ "$(json_get exit_code <<<"$output")" = 0 ]
	[[ "$(json_get reason <<<"$output")" == "metrics.jsonl of job '"*"': larger than 64 MiB" ]]
}

@test "mls-status --wait: a bad result.json fails that job only; the others are reported as they ended" {
	jobs=$(mls-submit --array 3 -- true </dev/null)
	run -0 --separate-stderr mls-status --wait <<<"$jobs"
	[ "$(json_get state <<<"$output" | sort -u)" = succeeded ]
	ids=($(json_get id <<<"$jobs"))
	# over 1 MiB (valid JSON but for its size), and one that does not validate
	{
		printf '{"kind":"result","id":"%s","pad":"' "${ids[0]}"
		head -c 1048576 /dev/zero | tr '\0' x
		printf '"}'
	} > "$STORE/jobs/${ids[0]}/result.json"
	printf '{"kind":"other"}' > "$STORE/jobs/${ids[1]}/result.json"
	run -1 --separate-stderr mls-status --wait <<<"$jobs"
	[ "$(wc -l <<<"$output")" -eq 3 ]
	[ "$(json_get state <<<"$output" | tr '\n' ' ')" = "failed failed succeeded " ]
	reasons=$(json_get reason <<<"$output")
	[ "$(sed -n 1p <<<"$reasons")" = "result.json of job '${ids[0]}': larger than 1 MiB" ]
	[[ "$(sed -n 2p <<<"$reasons")" == "result.json of job '${ids[1]}': field 'kind'"* ]]
	[ "$(json_get exit_code <<<"$output" | sed -n 3p)" = 0 ]
	# without --wait too: each job has its state, the batch exits 1
	run -1 --separate-stderr mls-status <<<"$jobs"
	[ "$(json_get state <<<"$output" | tr '\n' ' ')" = "failed failed succeeded " ]
}

@test "mls-search: a trial with 65 MiB of metrics fails with the reason; the campaign ends with its record" {
	cat > trial.sh <<EOF
#!/bin/sh
# the first trial to get here writes 65 MiB of metrics, after its objective
sh quadratic.sh
mkdir "$WORK/big.mark" 2>/dev/null && sh "$WORK/big.sh"
exit 0
EOF
	run -0 --separate-stderr mls-search --trials 4 --parallel 2 --seed 5 \
		-p x=uniform:-1:1 --format jsonl -- sh "$WORK/trial.sh" </dev/null
	[ "$(wc -l <<<"$output")" -eq 5 ]
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get kind <<<"$last")" = campaign ]
	[ "$(json_get state <<<"$last")" = finished ]
	[ "$(json_get counts.total <<<"$last")" = 4 ]
	[ "$(json_get counts.succeeded <<<"$last")" = 3 ]
	[ "$(json_get counts.failed <<<"$last")" = 1 ]
	bad=$(head -n 4 <<<"$output" | grep '"state":"failed"')
	[[ "$(json_get reason <<<"$bad")" == "metrics.jsonl of job '"*"': larger than 64 MiB" ]]
	[ "$(json_get objective <<<"$bad")" = null ]
	# the record is on disk: mls-status shows the campaign
	id=$(campaign_id "$output")
	run -0 --separate-stderr mls-status "$id" --format jsonl
	[ "$(tail -n 1 <<<"$output" | json_get counts.failed)" = 1 ]
}

@test "mls-search --resume of a campaign whose trial wrote 65 MiB of metrics while it was away" {
	cat > trial.sh <<EOF
#!/bin/sh
# the first trial to get here writes 65 MiB of metrics, then waits for go
sh quadratic.sh
if mkdir "$WORK/big.mark" 2>/dev/null; then
	sh "$WORK/big.sh"
	touch "$WORK/big.written"
	while [ ! -e "$WORK/go" ]; do sleep 0.1; done
fi
exit 0
EOF
	mls-search --trials 3 --parallel 3 -p x=uniform:-1:1 --format jsonl \
		-- sh "$WORK/trial.sh" </dev/null >out 2>err &
	pid=$!
	for i in $(seq 600); do
		[ -e big.written ] && grep -qs '"ev":"submitted"' \
			"$MLS_DATA_HOME"/campaigns/*/journal.jsonl && break
		sleep 0.1
	done
	[ -e big.written ]
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 130 ]
	id=$(ls "$MLS_DATA_HOME/campaigns")
	touch go
	run -0 --separate-stderr mls-search --resume "$id" --format jsonl </dev/null
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get state <<<"$last")" = finished ]
	[ "$(json_get counts.total <<<"$last")" = 3 ]
	[ "$(json_get counts.failed <<<"$last")" = 1 ]
	bad=$(grep '"kind":"trial"' <<<"$output" | grep '"state":"failed"')
	[[ "$(json_get reason <<<"$bad")" == "metrics.jsonl of job '"*"': larger than 64 MiB" ]]
	# and again: the ended campaign is shown, not failed
	run -0 --separate-stderr mls-search --resume "$id" --format jsonl </dev/null
	[ "$(tail -n 1 <<<"$output" | json_get counts.failed)" = 1 ]
}
