#!/bin/sh
# The whole test suite, from a fresh Debian 12 machine: installs the
# dependencies, builds with -Werror, runs `make check`, runs the tests once
# more under AddressSanitizer + UBSan, runs `make distcheck`, and ends with
# one line "N passed, N failed, N skipped".
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
show_failures() {
	grep -E '^(FAIL|ERROR):' "$1" 2>/dev/null | head -50
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
show_failures _build/check.out

echo "== the same tests under AddressSanitizer and UBSan"
rm -rf _build-san && mkdir _build-san
if (cd _build-san && ../configure --enable-sanitizers --enable-werror >configure.out 2>&1 &&
    make -j"$jobs" >make.out 2>&1); then
	(cd _build-san && ASAN_OPTIONS=detect_leaks=1 make -j"$jobs" check >check.out 2>&1)
	count _build-san/test-suite.log
	show_failures _build-san/check.out
else
	tail -30 _build-san/make.out; fail=$((fail + 1))
fi

echo "== make distcheck (unit tests only inside it)"
units=$(cd _build && ls tests/unit/ 2>/dev/null | grep -E '^test_mls_[a-z_]+$' | sed 's|^|tests/unit/|' | tr '\n' ' ')
if (cd _build && make -j"$jobs" distcheck TESTS="$units" >distcheck.out 2>&1); then
	pass=$((pass + 1))
else
	tail -30 _build/distcheck.out; fail=$((fail + 1))
fi

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
