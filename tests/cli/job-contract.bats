#!/usr/bin/env bats
# The job's files in the store and the numbers mls reports from them
# (lib/mls_job): final metrics are the last ones written, a last metrics
# line without a newline counts, result.json follows the one schema
# whichever writer wrote it, and an ensemble's summary is the members'
# own metrics.  job-contract-wrapper.sh runs this file again with
# MLS_LOCAL_EXEC=wrapper, so that lib/jobwrap.sh passes it too.

load helpers

setup() {
	mls_setup
	STORE="$MLS_DATA_HOME/store"
	CHECK="${top_builddir:-.}/tests/check-result"
}

teardown() {
	mls_teardown
}

# A command appending N metric lines, a poll's worth of time apart.
steps_cmd() {	# steps_cmd N
	echo "for s in \$(seq 1 $1); do echo \"{{\\\"step\\\":\$s,\\\"loss\\\":\$s.5}\" >>\"\$MLS_METRICS\"; sleep 0.3; done"
}

@test "20 consecutive --wait jobs writing N metric lines all report step N" {
	for i in $(seq 1 20); do
		n=$((i % 4 + 2))
		run -0 --separate-stderr timeout 60 mls-submit --wait -- sh -c "$(steps_cmd $n)"
		[ "$(json_get state <<<"$output")" = succeeded ]
		step=$(json_get metrics.step <<<"$output")
		[ "$step" = "$n" ] || { echo "job $i: step $step, wrote $n lines"; false; }
		[ "$(json_get metrics.loss <<<"$output")" = "$n.5" ]
	done
}

@test "mls-status --wait on a running job reports its final metrics" {
	run -0 mls-submit -- sh -c "$(steps_cmd 6)"
	id=$(json_get id <<<"$output")
	# look while it runs until a first line shows, then wait for the end
	for _ in $(seq 1 100); do
		run -0 --separate-stderr mls-status "$id"
		[ "$(json_get metrics.step <<<"$output")" = null ] || break
		sleep 0.1
	done
	[ "$(json_get state <<<"$output")" = running ]
	run -0 --separate-stderr timeout 60 mls-status --wait "$id"
	[ "$(json_get metrics.step <<<"$output")" = 6 ]
}

@test "a last metrics line without a newline counts, for a job and a trial" {
	run -0 --separate-stderr timeout 60 mls-submit --wait -- sh -c \
		'printf "{{\"loss\":0.5}" >>"$MLS_METRICS"'
	[ "$(json_get metrics.loss <<<"$output")" = 0.5 ]
	run -0 --separate-stderr timeout 120 mls-search --trials 2 --parallel 2 \
		-p x=uniform:0:1 --objective loss --format jsonl -- sh -c \
		'printf "{{\"step\":1,\"loss\":0.9}\n{{\"step\":2,\"loss\":0.25}" >>"$MLS_METRICS"'
	[ "$(head -n 2 <<<"$output" | json_get state | sort -u)" = succeeded ]
	[ "$(head -n 2 <<<"$output" | json_get objective | sort -u)" = 0.25 ]
	[ "$(head -n 2 <<<"$output" | json_get metrics.loss | sort -u)" = 0.25 ]
	[[ "$stderr" != *"was not reported"* ]]
}

@test "a torn last metrics line is not a value" {
	run -0 --separate-stderr timeout 60 mls-submit --wait -- sh -c \
		'printf "{{\"loss\":0.5}\n{{\"loss\":0." >>"$MLS_METRICS"'
	[ "$(json_get metrics.loss <<<"$output")" = 0.5 ]
}

@test "result.json of every outcome follows the one schema" {
	mls-submit -- true >jobs
	mls-submit -- sh -c 'exit 3' >>jobs
	mls-submit -- no-such-command-xyz >>jobs
	mls-submit -- sh -c 'kill -9 $$' >>jobs
	mls-submit -- sh -c 'echo x >"$MLS_OUTPUT_DIR/o.txt"' >>jobs
	mls-submit -- sleep 60 >>jobs
	ids=($(json_get id <jobs))
	run -0 --separate-stderr timeout 30 mls-status --wait "${ids[0]}" "${ids[4]}"
	run -0 --separate-stderr mls-status --cancel "${ids[5]}"
	run -1 --separate-stderr timeout 60 mls-status --wait <jobs
	r() { echo "$STORE/jobs/${ids[$1]}/result.json"; }
	run -0 "$CHECK" -s succeeded -e 0 "$(r 0)" "$(r 4)"
	run -0 "$CHECK" -s failed -e 3 "$(r 1)"
	run -0 "$CHECK" -s failed -e 127 "$(r 2)"
	run -0 "$CHECK" -s failed -e 137 "$(r 3)"
	run -0 "$CHECK" -s cancelled "$(r 5)"
	# the outputs entry names the archive and its digest
	[[ "$(json_get outputs.digest <"$(r 4)")" == sha256:* ]]
	# the checker itself refuses what is not the schema
	printf '{"kind":"result","id":"%s","state":"done","exit_code":0}' "${ids[0]}" >"$BATS_TEST_TMPDIR/bad.json"
	mkdir -p "$BATS_TEST_TMPDIR/${ids[0]}"
	mv "$BATS_TEST_TMPDIR/bad.json" "$BATS_TEST_TMPDIR/${ids[0]}/result.json"
	run -65 "$CHECK" "$BATS_TEST_TMPDIR/${ids[0]}/result.json"
	[[ "$output" == *"field 'state'"* ]]
}

@test "an ensemble's summary is the mean, std, min and max of its members' own metrics" {
	run -0 --separate-stderr timeout 180 mls-ensemble --members 6 --parallel 2 \
		--format jsonl -- sh -c '
		for s in 1 2 3 4; do
			echo "{{\"step\":$s,\"acc\":0.{member}$s}" >>"$MLS_METRICS"
			sleep 0.4
		done'
	last=$(tail -n 1 <<<"$output")
	[ "$(json_get quorum.outcome <<<"$last")" = reached ]
	id=$(json_get id <<<"$last")
	run -0 --separate-stderr mls-fetch -o "$BATS_TEST_TMPDIR/out" "$id"
	/usr/bin/python3 - "$BATS_TEST_TMPDIR/out" "$last" <<-'EOF'
	import glob, json, statistics, sys
	out, rec = sys.argv[1], json.loads(sys.argv[2])
	vals = []
	for f in sorted(glob.glob(out + "/**/metrics.jsonl", recursive=True)):
	    last = None
	    for line in open(f):
	        line = line.strip()
	        if line:
	            last = json.loads(line).get("acc", last)
	    vals.append(last)
	assert len(vals) == 6, vals
	s = rec["summary"]["acc"]
	want = dict(n=6, mean=statistics.mean(vals), std=statistics.stdev(vals),
	            min=min(vals), max=max(vals))
	for k, v in want.items():
	    assert abs(s[k] - v) < 1e-9, (k, s[k], v, vals)
	man = json.load(open(glob.glob(out + "/**/manifest.json", recursive=True)[0]))
	ms = man["summary"]["acc"]
	for k, v in want.items():
	    assert abs(ms[k] - v) < 1e-9, ("manifest", k, ms[k], v)
	EOF
}
