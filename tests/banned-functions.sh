#!/bin/sh
# No unbounded string functions in lib/ or cmd/ (git's banned.h list).
top=${top_srcdir:-.}
echo "1..1"
bad=$(grep -nE '\<(sprintf|vsprintf|strcpy|strcat|strncpy|strncat|strtok|gets)\(' \
    "$top"/lib/*.c "$top"/lib/*.h "$top"/cmd/*.c "$top"/cmd/*.h 2>/dev/null)
if [ -n "$bad" ]; then
	echo "not ok 1 - banned string functions used:"
	echo "$bad" | sed 's/^/# /'
	exit 1
fi
echo "ok 1 - lib/ and cmd/ use no sprintf, strcpy, strcat, strncpy, strtok or gets"
