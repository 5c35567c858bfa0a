#!/bin/sh
# tests/valgrind.sh BUILD-DIR [BATS-FILE ...]: run bats files (default
# tests/cli/hostile.bats) with every tool under valgrind (memcheck, leaks
# of kind definite and indirect are errors), and fail if any run reported
# an error or a leak.  The tools are copied first, so that a rebuild in
# BUILD-DIR cannot change them under a running test.  Slow: the hostile
# suite takes about 10 minutes on 2 cores.
set -eu
[ $# -ge 1 ] || { echo "usage: tests/valgrind.sh BUILD-DIR [BATS-FILE ...]" >&2; exit 64; }
build=$(cd "$1" && pwd)
shift
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- "$top/tests/cli/hostile.bats"
command -v valgrind >/dev/null || { echo "valgrind: not installed" >&2; exit 69; }
tmp=$(mktemp -d /tmp/mls-valgrind.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/real" "$tmp/bin" "$tmp/log"
cp "$build"/mls-* "$tmp/real/"
for t in mls-ship mls-submit mls-search mls-status mls-fetch mls-ensemble; do
	cat >"$tmp/bin/$t" <<EOT
#!/bin/sh
exec valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
    --log-file=$tmp/log/$t.%p $tmp/real/$t "\$@"
EOT
	chmod +x "$tmp/bin/$t"
done
ln -s "$tmp/real/mls-runner" "$tmp/bin/mls-runner"
rc=0
PATH=$tmp/bin:$PATH TESTDATA=$top/tests/data bats "$@" || rc=1
runs=$(ls "$tmp/log" | wc -l)
bad=$(find "$tmp/log" -type f -size +0 | wc -l)
for f in $(find "$tmp/log" -type f -size +0); do
	echo "== $f"
	cat "$f"
done
echo "{\"valgrind_runs\": $runs, \"with_errors\": $bad}"
[ "$bad" -eq 0 ] || rc=1
exit $rc
