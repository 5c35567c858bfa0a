#!/bin/sh
# lib/ never prints, never exits: check the symbols libmls.a references.
lib="${top_builddir:-.}/lib/.libs/libmls.a"
echo "1..2"
if [ ! -f "$lib" ]; then
	echo "not ok 1 - $lib exists"
	echo "not ok 2 - no stdout/stderr/exit references # skipped, no library"
	exit 1
fi
echo "ok 1 - $lib exists"
bad=$(nm -u "$lib" 2>/dev/null | awk '{print $2}' | grep -E -x \
    'stdout|stderr|printf|puts|putchar|perror|vprintf|exit|_exit|abort|err|errx|warn|warnx|verr|verrx|vwarn|vwarnx|__printf_chk|__vprintf_chk' | sort -u)
if [ -n "$bad" ]; then
	echo "not ok 2 - libmls references: $(echo $bad)"
	exit 1
fi
echo "ok 2 - libmls references no stdout, stderr, printf or exit"
