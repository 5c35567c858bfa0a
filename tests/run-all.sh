#!/bin/sh
# The whole test suite, from a fresh Debian 12 machine: installs the
# dependencies, builds with -Werror, runs `make check`, runs the tests once
# more under AddressSanitizer + UBSan, runs every libFuzzer target of
# tests/fuzz for about a minute in all, runs `make distcheck`, builds and
# tries the Debian package (tests/deb.sh), lists every skipped test with
# its reason, and ends with one line "N passed, N failed, N skipped".
#
# With CI=true a test may skip only for a documented limit of the platform
# (its reason starts with "platform limit:", see README "Troubleshooting");
# any other skip (something not installed, not configured, a service that
# did not start) counts as a failure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ "${MLS_SKIP_DEPS:-0}" = 1 ] || sh tests/install-deps.sh || exit 1
jobs=${JOBS:-2}
pass=0 fail=0 skip=0
count() {	# add up the "# PASS:" lines of a test-suite.log
	[ -f "$1" ] || { fail=$((fail + 1)); return; }
	p=$(sed -n 's/^# PASS: *//p' "$1" | head -1)
	f=$(sed -n 's/^# FAIL: *//p' "$1" | head -1)
	e=$(sed -n 's/^# ERROR: *//p' "$1" | head -1)
	s=$(sed -n 's/^# SKIP: *//p' "$1" | head -1)
	pass=$((pass + ${p:-0})) fail=$((fail + ${f:-0} + ${e:-0})) skip=$((skip + ${s:-0}))
}
show_failures() {	# show_failures BUILD-DIR: each failure, and what its test printed
	grep -E '^(FAIL|ERROR):' "$1/check.out" 2>/dev/null | head -50
	# the first 5 failing bats tests: their "not ok" block from the .log
	# (bats prints the failed command, its status and its output there)
	grep -E '^FAIL: .*\.bats [0-9]+ ' "$1/check.out" 2>/dev/null | head -5 |
	while read -r _ f n _; do
		log="$1/${f%.bats}.log"
		[ -f "$log" ] || continue
		echo "--- $f $n:"
		awk -v n="$n" '
			$1 == "not" && $2 == "ok" && $3 == n { on = 1; print; next }
			on && /^(not )?ok [0-9]+ / { exit }
			on { print }' "$log" | head -60
	done
}
skips=$(mktemp) || exit 1
trap 'rm -f "$skips"' EXIT
note_skips() {	# note_skips LABEL TEST-SUITE-LOG: the skips, and in CI their cost
	grep '^SKIP: ' "$2" 2>/dev/null | sed 's/^SKIP: //' | while IFS= read -r t; do
		case $t in
		*"# SKIP platform limit:"*) echo "skipped ($1): $t" ;;
		*) if [ "${CI:-}" = true ]; then
			echo "skipped ($1), a failure in CI: $t"
		   else
			echo "skipped ($1): $t"
		   fi ;;
		esac
	done >>"$skips"
	if [ "${CI:-}" = true ]; then
		n=$(grep '^SKIP: ' "$2" 2>/dev/null | grep -vc '# SKIP platform limit:')
		fail=$((fail + n)) skip=$((skip - n))
	fi
}

# an in-tree build (the README's main-job command) blocks VPATH builds
[ -f config.status ] && make distclean >/dev/null 2>&1
autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed"; echo "0 passed, 1 failed"; exit 1; }

echo "== build and test (-Wall -Wextra -Werror)"
rm -rf _build && mkdir _build
(cd _build && ../configure --enable-werror >configure.out 2>&1 && make -j"$jobs" >make.out 2>&1) ||
	{ tail -30 _build/make.out _build/configure.out 2>/dev/null; echo "0 passed, 1 failed"; exit 1; }
(cd _build && make -j"$jobs" check >check.out 2>&1)
count _build/test-suite.log
note_skips build _build/test-suite.log
show_failures _build

echo "== the same tests under AddressSanitizer and UBSan"
rm -rf _build-san && mkdir _build-san
if (cd _build-san && ../configure --enable-sanitizers --enable-werror >configure.out 2>&1 &&
    make -j"$jobs" >make.out 2>&1); then
	(cd _build-san && ASAN_OPTIONS=detect_leaks=1 make -j"$jobs" check >check.out 2>&1)
	count _build-san/test-suite.log
	note_skips sanitizers _build-san/test-suite.log
	show_failures _build-san
else
	tail -30 _build-san/make.out; fail=$((fail + 1))
fi

echo "== the fuzz targets (tests/fuzz), about a minute in all"
# one test per target: passed when it ran clean, failed when it crashed,
# hung, leaked or tripped a sanitizer (or did not build)
rm -rf _build-fuzz
sh tests/fuzz/build.sh _build-fuzz >_build/fuzz-build.out 2>&1
case $? in
0)  nt=$(ls tests/fuzz/fuzz_*.c | wc -l)
    sh tests/fuzz/run.sh _build-fuzz $((60 / nt > 1 ? 60 / nt : 1)) >_build/fuzz.out 2>&1
    p=$(grep -c '"crashes":0}$' _build/fuzz.out)
    pass=$((pass + p)) fail=$((fail + nt - p))
    [ "$p" -eq "$nt" ] || tail -40 _build/fuzz.out ;;
77) why=$(tail -n 1 _build/fuzz-build.out)
    if [ "${CI:-}" = true ]; then
	echo "skipped (fuzz), a failure in CI: tests/fuzz # SKIP $why" >>"$skips"
	fail=$((fail + 1))
    else
	echo "skipped (fuzz): tests/fuzz # SKIP $why" >>"$skips"
	skip=$((skip + 1))
    fi ;;
*)  tail -30 _build/fuzz-build.out; fail=$((fail + 1)) ;;
esac

echo "== make distcheck (unit tests only inside it)"
units=$(cd _build && ls tests/unit/ 2>/dev/null | grep -E '^test_mls_[a-z_]+$' | sed 's|^|tests/unit/|' | tr '\n' ' ')
if (cd _build && make -j"$jobs" distcheck TESTS="$units" >distcheck.out 2>&1); then
	pass=$((pass + 1))
else
	tail -30 _build/distcheck.out; fail=$((fail + 1))
fi

echo "== the Debian package (build, lintian, install in a clean root, run)"
sh tests/deb.sh >_build/deb.out 2>&1
case $? in
0) pass=$((pass + 1)) ;;
77) why=$(tail -n 1 _build/deb.out)
    if [ "${CI:-}" = true ]; then
	echo "skipped (deb), a failure in CI: tests/deb.sh # SKIP $why" >>"$skips"
	fail=$((fail + 1))
    else
	echo "skipped (deb): tests/deb.sh # SKIP $why" >>"$skips"
	skip=$((skip + 1))
    fi ;;
*) tail -30 _build/deb.out; fail=$((fail + 1)) ;;
esac

if [ -s "$skips" ]; then
	echo "== skipped tests"
	cat "$skips"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
