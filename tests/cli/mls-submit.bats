#!/usr/bin/env bats
# mls-submit: submission on the embedded default (local site, file store).
load helpers

setup() { mls_setup; printf 'echo hello\n' > job.sh; }
teardown() { mls_teardown; }

@test "--help prints the synopsis on stdout and exits 0" {
	run -0 --separate-stderr mls-submit --help
	[[ "$output" == "usage: mls-submit"* ]]
}

@test "a bad option prints usage on stderr and exits 64" {
	run -64 --separate-stderr mls-submit --no-such-option -- true
	[ -z "$output" ]
	[[ "$stderr" == *"usage: mls-submit"* ]]
}

@test "no command exits 64 and says so" {
	run -64 --separate-stderr mls-submit </dev/null
	[[ "$stderr" == "mls-submit: no command given"* ]]
}

@test "an unknown site exits 78 naming it" {
	run -78 --separate-stderr mls-submit -s nowhere -- true </dev/null
	[[ "$stderr" == "mls-submit: site 'nowhere': not configured"* ]]
}

@test "a missing sandbox exits 66" {
	run -66 --separate-stderr mls-submit --sandbox sha256:deadbeef -- true </dev/null
	[[ "$stderr" == "mls-submit: sandbox 'sha256:deadbeef': not in store"* ]]
}

@test "a malformed stdin line exits 65 naming line and column" {
	run -65 --separate-stderr mls-submit -- true <<<'{"kind":'
	[ -z "$output" ]
	[[ "$stderr" == "mls-submit: <stdin>:1:"* ]]
}

@test "a placeholder that names no parameter exits 65" {
	run -65 --separate-stderr mls-submit -- echo '{nope}' </dev/null
	[[ "$stderr" == *"placeholder '{nope}'"* ]]
}

@test "a job runs on the local site and --wait exits 0" {
	run -0 --separate-stderr mls-submit --wait -- sh job.sh </dev/null
	[ "$(json_get kind <<<"$output")" = job ]
	[ "$(json_get state <<<"$output")" = succeeded ]
	[ "$(json_get exit_code <<<"$output")" = 0 ]
	[ "$(json_get site <<<"$output")" = local ]
	[[ "$(json_get sandbox <<<"$output")" == sha256:* ]]
	id=$(json_get id <<<"$output")
	[ "$(cat "$MLS_DATA_HOME/store/jobs/$id/stdout")" = hello ]
}

@test "a failing job: --wait exits 1 and the record keeps the exit code" {
	run -1 --separate-stderr mls-submit --wait -- sh -c 'exit 3' </dev/null
	[ "$(json_get state <<<"$output")" = failed ]
	[ "$(json_get exit_code <<<"$output")" = 3 ]
}

@test "a command that does not exist fails with a clear reason" {
	run -1 --separate-stderr mls-submit --wait -- no-such-command-xyz </dev/null
	[ "$(json_get state <<<"$output")" = failed ]
	[[ "$(json_get reason <<<"$output")" == *"no-such-command-xyz"* ]]
}

@test "params fill placeholders, MLS_PARAMS and input.json" {
	run -0 --separate-stderr mls-submit --wait -p lr=0.5 -p act=relu -- \
		sh -c 'echo "{lr} {act}"; cat "$MLS_PARAMS"; echo; cat input.json' </dev/null
	id=$(json_get id <<<"$output")
	out="$MLS_DATA_HOME/store/jobs/$id/stdout"
	[ "$(sed -n 1p "$out")" = "0.5 relu" ]
	[ "$(sed -n 2p "$out" | json_get lr)" = 0.5 ]
	[ "$(sed -n 3p "$out" | json_get act)" = relu ]
	[ "$(json_get params.lr <<<"$output")" = 0.5 ]
}

@test "--array N submits N jobs with {index}" {
	run -0 --separate-stderr mls-submit --array 3 --wait -- sh -c 'echo {index}' </dev/null
	[ "$(wc -l <<<"$output")" -eq 3 ]
	for id in $(json_get id <<<"$output"); do
		cat "$MLS_DATA_HOME/store/jobs/$id/stdout"
	done | sort | tr '\n' ' ' | grep -qx '0 1 2 '
}

@test "one job per params record on stdin" {
	run -0 --separate-stderr mls-submit --wait -- sh -c 'echo {x}' <<'EOF2'
{"kind":"params","x":1}
{"kind":"params","params":{"x":2}}
{"kind":"params","x":"three"}
EOF2
	[ "$(wc -l <<<"$output")" -eq 3 ]
	[ "$(json_get params.x <<<"$output" | tr '\n' ' ')" = "1 2 three " ]
}

@test "a sandbox record on stdin is used, and env vars reach the job" {
	mkdir code && echo 'echo "code $GREETING"' > code/run.sh
	sb=$(mls-ship code </dev/null)
	run -0 --separate-stderr mls-submit --wait -e GREETING=hi -- sh run.sh <<<"$sb"
	id=$(json_get id <<<"$output")
	[ "$(cat "$MLS_DATA_HOME/store/jobs/$id/stdout")" = "code hi" ]
	[ "$(json_get sandbox <<<"$output")" = "$(json_get id <<<"$sb")" ]
}

@test "--timeout expiring before the job ends exits 124" {
	run -124 --separate-stderr mls-submit --wait --timeout 1 -- sleep 30 </dev/null
	[ "$(json_get state <<<"$output")" != succeeded ]
}

@test "jobs beyond the cpu slots queue and start as slots free" {
	export MLS_LOCAL_CPUS=1
	run -0 --separate-stderr mls-submit --array 3 --wait -- sh -c 'sleep 0.3' </dev/null
	json_get started <<<"$output" > started
	json_get finished <<<"$output" > finished
	/usr/bin/python3 - started finished <<'PY'
import sys
from datetime import datetime
f = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
st = [f(l.strip()) for l in open(sys.argv[1])]
fi = [f(l.strip()) for l in open(sys.argv[2])]
spans = sorted(zip(st, fi))
for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
    assert s2 >= e1, (spans,)
PY
}

@test "a job asking for more GPUs than the site has is refused with 65" {
	export MLS_LOCAL_GPUS=0
	run -65 --separate-stderr mls-submit --gpus 2 -- true </dev/null
	[[ "$stderr" == *"GPU"* ]]
}

@test "fake GPUs are handed out through CUDA_VISIBLE_DEVICES" {
	export MLS_LOCAL_GPUS=2
	run -0 --separate-stderr mls-submit --array 2 --gpus 1 --wait -- \
		sh -c 'echo "gpu=$CUDA_VISIBLE_DEVICES"; sleep 0.5' </dev/null
	for id in $(json_get id <<<"$output"); do
		cat "$MLS_DATA_HOME/store/jobs/$id/stdout"
	done | sort | tr '\n' ' ' | grep -qx 'gpu=0 gpu=1 '
}

@test "mls's own data directory inside the shipped tree is never shipped" {
	export MLS_DATA_HOME="$WORK/data"
	echo 'echo hi' > job.sh
	mls-submit --wait -- sh job.sh </dev/null >/dev/null
	run -0 --separate-stderr mls-ship --format jsonl .
	[ "$(json_get files <<<"$output")" = 1 ]
}
