#!/bin/sh
# Run every fuzz target built by tests/fuzz/build.sh (issue 16).
#
#   sh tests/fuzz/run.sh BUILD-DIR SECONDS-PER-TARGET
#
# Each target starts from a fresh working corpus copied from its seeds
# (tests/fuzz/corpus/TARGET, and tests/data/spaces for the space files),
# with its dictionary, and runs for SECONDS (-max_total_time) with
# -timeout=10 -rss_limit_mb=2048, and the leak suppressions of lsan.supp
# (a leak inside Debian 12's libfyaml).  Prints one JSON line per target:
#   {"target":"record","execs":N,"seconds":S,"exec_per_s":R,"crashes":0}
# and exits 1 if any target reported a crash, a hang (timeout), a leak,
# going over the memory limit or a sanitizer error; the reproducer is
# kept in BUILD-DIR/fuzz/artifacts/ and libFuzzer's output in
# BUILD-DIR/fuzz/TARGET.log.
#
# Environment: FUZZ_TARGETS="record tar" runs only those; FUZZ_ARGS adds
# libFuzzer options (e.g. -runs=10000000 for a run of a given length).
set -u
[ $# -eq 2 ] || { echo "usage: sh tests/fuzz/run.sh BUILD-DIR SECONDS-PER-TARGET" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=$(cd "$1" && pwd)/fuzz
secs=$2
[ -d "$bin" ] || { echo "no $bin: run tests/fuzz/build.sh $1 first" >&2; exit 2; }
targets=${FUZZ_TARGETS:-$(ls "$here"/fuzz_*.c | sed 's|.*/fuzz_||; s|\.c$||')}
mkdir -p "$bin/artifacts"
status=0
for t in $targets; do
	exe=$bin/fuzz_$t
	work=$(mktemp -d "${TMPDIR:-/tmp}/mls-fuzz-$t.XXXXXX") || exit 1
	mkdir "$work/corpus"
	# the target's own files (on /dev/shm: fast), gone even after a crash
	shm=$(mktemp -d /dev/shm/mls-fuzz-run.XXXXXX 2>/dev/null) || shm=$work
	[ -d "$here/corpus/$t" ] && cp "$here/corpus/$t"/* "$work/corpus/" 2>/dev/null
	dict= maxlen=
	case $t in
	space_json) cp "$top"/tests/data/spaces/*.json "$work/corpus/"; dict=json.dict ;;
	space_yaml) cp "$top"/tests/data/spaces/*.yaml "$work/corpus/"; dict=yaml.dict ;;
	record|metrics|journal|slurm) dict=json.dict ;;
	config) dict=ini.dict ;;
	tar) maxlen=-max_len=16384 ;;
	esac
	start=$(date +%s)
	if [ ! -x "$exe" ]; then
		echo "no $exe" >"$bin/$t.log"
		rc=1
	else
		# shellcheck disable=SC2086
		(cd "$work" && FUZZ_TMPDIR=$shm \
			LSAN_OPTIONS="suppressions=$here/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" "$exe" -max_total_time="$secs" -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=1 \
			${dict:+-dict="$here/$dict"} $maxlen \
			-artifact_prefix="$bin/artifacts/$t-" ${FUZZ_ARGS:-} corpus) \
			>"$bin/$t.log" 2>&1
		rc=$?
	fi
	end=$(date +%s)
	rm -rf "$work" "$shm"
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$bin/$t.log" | tail -1)
	[ -n "$execs" ] || execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$bin/$t.log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$bin/$t.log" | tail -1)
	crashes=0
	if [ "$rc" -ne 0 ] || grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: |ALARM: working on' "$bin/$t.log"; then
		crashes=1 status=1
		echo "fuzz_$t failed (exit $rc), from $bin/$t.log:" >&2
		grep -E 'ERROR|runtime error|SUMMARY|ALARM|Test unit written|^    #[0-9]' "$bin/$t.log" | head -30 >&2
	fi
	printf '{"target":"%s","execs":%s,"seconds":%s,"exec_per_s":%s,"crashes":%s}\n' \
		"$t" "${execs:-0}" $((end - start)) "${rate:-0}" "$crashes"
done
exit "$status"
