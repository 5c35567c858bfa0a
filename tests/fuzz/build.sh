#!/bin/sh
# Build the libFuzzer targets of tests/fuzz/ (issue 16).
#
#   sh tests/fuzz/build.sh BUILD-DIR
#
# Configures a separate tree in BUILD-DIR with clang and
# -fsanitize=fuzzer-no-link,address,undefined, builds lib/libmls.la there,
# and links each tests/fuzz/fuzz_*.c into BUILD-DIR/fuzz/NAME with
# -fsanitize=fuzzer,address,undefined.  Exits 77 when clang or its fuzzer
# runtime is missing, 1 when anything fails to build.
set -u
[ $# -eq 1 ] || { echo "usage: sh tests/fuzz/build.sh BUILD-DIR" >&2; exit 2; }
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$1" || exit 1
build=$(cd "$1" && pwd)
jobs=${JOBS:-2}
CC=${CC_FUZZ:-clang}
command -v "$CC" >/dev/null 2>&1 || { echo "no $CC: sh tests/install-deps.sh installs it" >&2; exit 77; }
probe=$(mktemp -d) || exit 1
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$probe/p.c"
if ! "$CC" -fsanitize=fuzzer,address,undefined -o "$probe/p" "$probe/p.c" >/dev/null 2>&1; then
	rm -rf "$probe"
	echo "$CC cannot link -fsanitize=fuzzer: install libclang-rt-14-dev" >&2
	exit 77
fi
rm -rf "$probe"

[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi >/dev/null 2>&1) ||
	{ echo "autoreconf failed" >&2; exit 1; }
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cflags="-g -O1 -fsanitize=fuzzer-no-link $san"
cd "$build" || exit 1
if [ ! -f Makefile ] || [ ! -f .fuzz-config ] || [ "$(cat .fuzz-config)" != "$CC $cflags" ]; then
	"$top/configure" CC="$CC" CFLAGS="$cflags" LDFLAGS="-fsanitize=address,undefined" \
		>configure.out 2>&1 || { tail -20 configure.out >&2; exit 1; }
	echo "$CC $cflags" >.fuzz-config
fi
make -j"$jobs" lib/libmls.la >make.out 2>&1 || { tail -30 make.out >&2; exit 1; }
mkdir -p fuzz
status=0
for src in "$top"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	./libtool --silent --tag=CC --mode=link "$CC" $cflags -fsanitize=fuzzer \
		-I"$top/lib" -I"$build/lib" -I"$build" -o "fuzz/$name" "$src" lib/libmls.la \
		>"fuzz/$name.out" 2>&1 || { cat "fuzz/$name.out" >&2; status=1; }
done
[ "$status" -eq 0 ] && echo "built $(ls "$top"/tests/fuzz/fuzz_*.c | wc -l) fuzz targets in $build/fuzz"
exit "$status"
