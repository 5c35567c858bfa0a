#!/usr/bin/env bats
# mls-fetch: outputs, logs and metrics, verified and safely extracted.
load helpers

setup() { mls_setup; }
teardown() { mls_teardown; }

@test "--help exits 0; no job given exits 64" {
	run -0 mls-fetch --help
	[[ "$output" == "usage: mls-fetch"* ]]
	run -64 --separate-stderr mls-fetch </dev/null
	[[ "$stderr" == "mls-fetch: no job given"* ]]
}

@test "an unknown job id exits 66" {
	run -66 --separate-stderr mls-fetch j-nothere
	[[ "$stderr" == "mls-fetch: 'j-nothere': no such job" ]]
}

@test "a trial id, a member id and a campaign prefix without c- are fetched" {
	cp "$TESTDATA"/hpo/quadratic.sh .
	out=$(mls-search --trials 2 --parallel 2 --seed 1 -p x=uniform:-1:1 --format jsonl \
		-- sh quadratic.sh </dev/null)
	cid=$(tail -n 1 <<<"$out" | json_get id)
	tid=$(head -n 1 <<<"$out" | json_get id)
	run -0 --separate-stderr mls-fetch -o got "$tid" </dev/null
	[ -f "got/$tid/metrics.jsonl" ]
	[ "$(json_get job <<<"$output" | sort -u)" = "$tid" ]
	run -0 --separate-stderr mls-fetch -o got2 --best 1 "${cid:2:16}" </dev/null
	[ "$(ls got2)" = "$(tail -n 1 <<<"$out" | json_get best.job)" ]
	out=$(mls-ensemble --members 1 --format jsonl -- sh -c 'echo hi' </dev/null)
	mid=$(head -n 1 <<<"$out" | json_get id)
	run -0 --separate-stderr mls-fetch -o got3 "${mid:2}" </dev/null
	[ "$(cat "got3/$mid/stdout")" = hi ]
}

@test "--best K and mls-ensemble --from --top K pick the same trials when objectives tie" {
	# loss = a mod 3: a=3 and a=6 tie for first, a=1 and a=4 for third;
	# ties go to the lower trial number, whatever qsort does with equal
	# elements (C leaves their order open): run under one that reverses them
	qsort_so="$top_builddir/tests/cli/qsort-ties-reversed.so"
	[ -f "$qsort_so" ]
	out=$(mls-search --algorithm grid --trials 6 -p a=choice:1,2,3,4,5,6 --format jsonl \
		-- sh -c 'echo "{\"loss\":$(({a} % 3))}" >> "$MLS_METRICS"' </dev/null)
	cid=$(tail -n 1 <<<"$out" | json_get id)
	want=$(head -n 6 <<<"$out" | /usr/bin/python3 -c '
import json, sys
t = [json.loads(l) for l in sys.stdin]
t.sort(key=lambda r: (r["objective"], r["number"]))
print(" ".join(str(r["params"]["a"]) for r in t[:3]))')
	[ "${want:0:3}" = "3 6" ]
	export ASAN_OPTIONS=verify_asan_link_order=0
	run -0 --separate-stderr env LD_PRELOAD="$qsort_so" mls-fetch -o got --best 3 \
		--format jsonl "$cid" </dev/null
	got=$(grep '"name":"params.json"' <<<"$output" | json_get path | while read -r p; do
		/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["a"])' "$p"
	done | tr '\n' ' ')
	[ "$got" = "$want " ]
	run -0 --separate-stderr env LD_PRELOAD="$qsort_so" mls-ensemble --from "$cid" --top 3 \
		--members 1 --format jsonl </dev/null
	last=$(tail -n 1 <<<"$output")
	ens="$(json_get members.0.params.a <<<"$last") $(json_get members.1.params.a <<<"$last") $(json_get members.2.params.a <<<"$last")"
	[ "$ens" = "$want" ]
}

@test "the example pipeline: ship | submit | status --wait | fetch" {
	cp "$top_srcdir/examples/train.sh" .
	run -0 --separate-stderr sh -c \
		'mls-ship . </dev/null | mls-submit -p lr=0.2 -- sh train.sh | mls-status --wait | mls-fetch -o out/'
	id=$(json_get job <<<"$output" | sort -u)
	[ -n "$id" ]
	[ -f "out/$id/outputs/model.txt" ]
	grep -q '^lr=0.2$' "out/$id/outputs/model.txt"
	[ "$(wc -l < "out/$id/metrics.jsonl")" -eq 10 ]
	grep -q 'final loss=' "out/$id/stdout"
	# every artifact record names an existing file with the right digest
	json_get path <<<"$output" | while read -r p; do [ -f "$p" ]; done
	p=$(json_get path <<<"$output" | grep outputs.tar.zst)
	d=$(json_get digest <<<"$output" | grep -m1 "$(sha256sum "$p" | cut -c1-64)")
	[ -n "$d" ]
}

@test "examples/pipeline.sh runs as documented" {
	cp -r "$top_srcdir/examples" ex
	run -0 --separate-stderr sh ex/pipeline.sh
	ls ex/out/*/outputs/model.txt
}

@test "a tampered outputs tarball is refused with 76" {
	id=$(mls-submit --wait -- sh -c 'echo x > "$MLS_OUTPUT_DIR/a"' </dev/null | json_get id)
	echo garbage >> "$MLS_DATA_HOME/store/jobs/$id/outputs.tar.zst"
	run -76 --separate-stderr mls-fetch -o out "$id"
	[[ "$stderr" == *"digest"*"does not match"* ]]
	[ ! -e "out/$id/outputs/a" ]
}

@test "an outputs tarball with ../x or an absolute symlink is refused, nothing written outside" {
	id=$(mls-submit --wait -- sh -c 'echo a >"$MLS_OUTPUT_DIR/a"' </dev/null | json_get id)
	jobdir="$MLS_DATA_HOME/store/jobs/$id"
	for evil in dotdot abslink; do
		/usr/bin/python3 - "$evil" evil.tar <<'PY'
import io, sys, tarfile
kind, path = sys.argv[1], sys.argv[2]
with tarfile.open(path, "w") as t:
    if kind == "dotdot":
        data = b"escaped\n"
        ti = tarfile.TarInfo("../escaped.txt"); ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    else:
        ti = tarfile.TarInfo("link"); ti.type = tarfile.SYMTYPE; ti.linkname = "/etc/passwd"
        t.addfile(ti)
PY
		zstd -q -f evil.tar -o "$jobdir/outputs.tar.zst"
		sum=$(sha256sum "$jobdir/outputs.tar.zst" | cut -c1-64)
		/usr/bin/python3 - "$jobdir/result.json" "$sum" <<'PY'
import json, sys
p, s = sys.argv[1], sys.argv[2]
r = json.load(open(p)); r["outputs"]["digest"] = "sha256:" + s
json.dump(r, open(p, "w"))
PY
		rm -rf out
		run -65 --separate-stderr mls-fetch -o out "$id"
		[ ! -e out/escaped.txt ] && [ ! -e "out/$id/escaped.txt" ]
		[ ! -L "out/$id/outputs/link" ]
	done
}

@test "fetching a failed job still brings its logs back" {
	id=$(mls-submit --wait -- sh -c 'echo oops >&2; exit 4' </dev/null | json_get id)
	run -0 --separate-stderr mls-fetch -o out "$id"
	[ "$(cat "out/$id/stderr")" = oops ]
	[ "$(json_get exit_code < "out/$id/result.json")" = 4 ]
}
