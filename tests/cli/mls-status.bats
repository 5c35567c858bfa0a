#!/usr/bin/env bats
# mls-status: refresh, wait, cancel, list, id prefixes.
load helpers

setup() { mls_setup; }
teardown() { mls_teardown; }

@test "--help exits 0; a bad option exits 64" {
	run -0 mls-status --help
	[[ "$output" == "usage: mls-status"* ]]
	run -64 --separate-stderr mls-status --bogus
	[[ "$stderr" == *"usage: mls-status"* ]]
}

@test "a malformed input line exits 65 and names the line" {
	run -65 --separate-stderr mls-status <<<'{"id":'
	[ -z "$output" ]
	[[ "$stderr" == "mls-status: <stdin>:1:"* ]]
}

@test "a record with a bad field exits 65 naming the field" {
	run -65 --separate-stderr mls-status <<<'{"kind":"job","id":"j-1"}'
	[[ "$stderr" == "mls-status: <stdin>:1: job record: field 'site': missing" ]]
}

@test "an unknown id exits 66" {
	run -66 --separate-stderr mls-status j-nosuchjob
	[[ "$stderr" == "mls-status: 'j-nosuchjob': no such job" ]]
}

@test "trial and member ids resolve, in full or by prefix, with or without j-" {
	cp "$TESTDATA"/hpo/quadratic.sh .
	out=$(mls-search --trials 2 --parallel 2 --seed 1 -p x=uniform:-1:1 --format jsonl \
		-- sh quadratic.sh </dev/null)
	tid=$(head -n 1 <<<"$out" | json_get id)
	# before mls-status saves it to the registry: found in the campaign's journal
	run -0 --separate-stderr mls-status "${tid:2}" </dev/null
	[ "$(json_get id <<<"$output")" = "$tid" ]
	[ "$(json_get kind <<<"$output")" = trial ]
	[ "$(json_get state <<<"$output")" = succeeded ]
	run -0 --separate-stderr mls-status "$tid" </dev/null
	[ "$(json_get id <<<"$output")" = "$tid" ]
	out=$(mls-ensemble --members 1 --format jsonl -- true </dev/null)
	mid=$(head -n 1 <<<"$out" | json_get id)
	run -0 --separate-stderr mls-status "$mid" </dev/null
	[ "$(json_get id <<<"$output")" = "$mid" ]
	[ "$(json_get kind <<<"$output")" = member ]
}

@test "a campaign prefix without c- shows the campaign; a prefix of several ids names them" {
	cp "$TESTDATA"/hpo/quadratic.sh .
	out=$(mls-search --trials 1 -p x=uniform:-1:1 --format jsonl -- sh quadratic.sh </dev/null)
	cid=$(tail -n 1 <<<"$out" | json_get id)
	tid=$(head -n 1 <<<"$out" | json_get id)
	run -0 --separate-stderr mls-status --format table "${cid:2:16}" </dev/null
	[[ "$output" == *"campaign $cid"*"trials: 1 total, 1 succeeded"* ]]
	# the campaign and its trial share the first characters of their time
	n=0
	while [ "${cid:2+n:1}" = "${tid:2+n:1}" ]; do n=$((n + 1)); done
	[ "$n" -gt 0 ]
	run -65 --separate-stderr mls-status "${cid:2:n}" </dev/null
	[[ "$stderr" == "mls-status: '${cid:2:n}': ambiguous id prefix (2 matches: "* ]]
	[[ "$stderr" == *"$cid"* ]]
	[[ "$stderr" == *"$tid"* ]]
	# the kind prefix tells them apart
	run -0 --separate-stderr mls-status --format jsonl "c-${cid:2:n}" </dev/null
	[ "$(tail -n 1 <<<"$output" | json_get id)" = "$cid" ]
	run -0 --separate-stderr mls-status "j-${cid:2:n}" </dev/null
	[ "$(json_get id <<<"$output")" = "$tid" ]
	run -66 --separate-stderr mls-status "c-${tid:2}" </dev/null
	[[ "$stderr" == "mls-status: 'c-${tid:2}': no such campaign" ]]
	run -64 --separate-stderr mls-status "$cid" "$tid" </dev/null
	[[ "$stderr" == "mls-status: name jobs or campaigns, not both"* ]]
}

@test "an unknown site in a record exits 78" {
	run -78 --separate-stderr mls-status <<<'{"kind":"job","id":"j-1","site":"mars"}'
	[[ "$stderr" == *"site 'mars': not configured"* ]]
}

@test "job records piped in are refreshed; --wait exits 0 when all succeeded" {
	jobs=$(mls-submit --array 2 -- sh -c 'sleep 0.2' </dev/null)
	[ "$(json_get state <<<"$jobs" | sort -u)" = queued ]
	run -0 --separate-stderr mls-status --wait <<<"$jobs"
	[ "$(json_get state <<<"$output" | sort -u)" = succeeded ]
	[ "$(wc -l <<<"$output")" -eq 2 ]
}

@test "--wait exits 1 when a job failed, and passes other fields through" {
	job=$(mls-submit -- sh -c 'exit 2' </dev/null | sed 's/}$/,"mine":{"x":1}}/')
	run -1 --separate-stderr mls-status --wait <<<"$job"
	[ "$(json_get state <<<"$output")" = failed ]
	[ "$(json_get mine.x <<<"$output")" = 1 ]
}

@test "--wait --timeout exits 124 while jobs still run" {
	job=$(mls-submit -- sleep 30 </dev/null)
	run -124 --separate-stderr mls-status --wait --timeout 1 <<<"$job"
	[[ "$(json_get state <<<"$output")" =~ ^(queued|running)$ ]]
}

@test "without input it lists recent jobs; a short unique prefix is accepted" {
	a=$(mls-submit --wait -- true </dev/null | json_get id)
	b=$(mls-submit --wait -- true </dev/null | json_get id)
	run -0 --separate-stderr mls-status </dev/null
	[ "$(json_get id <<<"$output" | head -1)" = "$b" ]
	[ "$(wc -l <<<"$output")" -eq 2 ]
	# the shortest prefix that tells them apart, without the "j-"
	n=3
	while [ "${a:2:$n}" = "${b:2:$n}" ]; do n=$((n + 1)); done
	run -0 --separate-stderr mls-status "${a:2:$n}"
	[ "$(json_get id <<<"$output")" = "$a" ]
	run -65 --separate-stderr mls-status "j-"
	[[ "$stderr" == *"ambiguous"* ]]
}

@test "a job's state survives the submitting tool" {
	id=$(mls-submit -- sh -c 'sleep 1; echo done' </dev/null | json_get id)
	run -0 --separate-stderr mls-status --wait "$id"
	[ "$(json_get state <<<"$output")" = succeeded ]
	[ "$(cat "$MLS_DATA_HOME/store/jobs/$id/stdout")" = done ]
}

@test "--cancel stops a running job; it ends cancelled" {
	id=$(mls-submit -- sleep 60 </dev/null | json_get id)
	for i in $(seq 50); do
		[ "$(mls-status "$id" | json_get state)" = running ] && break
		sleep 0.1
	done
	run -0 --separate-stderr mls-status --cancel "$id"
	run -1 --separate-stderr mls-status --wait --timeout 30 "$id"
	[ "$(json_get state <<<"$output")" = cancelled ]
}

@test "--cancel of a queued job removes it before it starts" {
	export MLS_LOCAL_CPUS=1
	mls-submit -- sleep 5 </dev/null >/dev/null
	id=$(mls-submit -- sh -c 'echo ran' </dev/null | json_get id)
	run -0 --separate-stderr mls-status --cancel "$id"
	run -1 --separate-stderr mls-status --wait --timeout 30 "$id"
	[ "$(json_get state <<<"$output")" = cancelled ]
	[ ! -s "$MLS_DATA_HOME/store/jobs/$id/stdout" ]
}

@test "--format table prints a header; json prints one array" {
	mls-submit --wait -- true </dev/null >/dev/null
	run -0 --separate-stderr mls-status --format table </dev/null
	[[ "${lines[0]}" == ID*STATE*SITE* ]]
	run -0 --separate-stderr mls-status --format json </dev/null
	[ "$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$output")" = 1 ]
}

@test "the listing of recent jobs exits 0 when some failed; a named failed job still exits 1" {
	ok=$(mls-submit --wait -- true </dev/null | json_get id)
	bad=$(mls-submit --wait -- sh -c 'exit 3' </dev/null | json_get id) || :
	run -0 --separate-stderr mls-status </dev/null
	[ "$(wc -l <<<"$output")" -eq 2 ]
	grep -q "\"id\":\"$bad\".*\"state\":\"failed\"" <<<"$output"
	# under set -e, as a CI script runs it
	run -0 bash -c 'set -euo pipefail; mls-status </dev/null >/dev/null; echo went-on'
	[ "$output" = went-on ]
	run -1 --separate-stderr mls-status "$bad" </dev/null
	run -0 --separate-stderr mls-status "$ok" </dev/null
}
