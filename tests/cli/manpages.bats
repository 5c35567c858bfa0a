#!/usr/bin/env bats
# The man pages: mandoc lint is clean, and each tool's page documents every
# option the tool has (its longopts table and its --help synopsis).
load helpers

setup() {
	mls_setup
	MAN="$top_srcdir/man"
	MANDOC=${MANDOC:-mandoc}
	[ "$MANDOC" != false ] || MANDOC=mandoc
}

need_mandoc() {
	command -v "$MANDOC" >/dev/null 2>&1 ||
	    skip "mandoc is not installed (apt-get install mandoc)"
}

# lint PAGE: mandoc -T lint -W warning prints nothing and exits 0.
lint() {
	need_mandoc
	[ -f "$MAN/$1" ] || fail "$MAN/$1: missing"
	run "$MANDOC" -T lint -W warning "$MAN/$1"
	[ -z "$output" ] || fail "mandoc -T lint -W warning $1:"$'\n'"$output"
	[ "$status" -eq 0 ] || fail "mandoc -T lint exited $status for $1"
}

# The long option names of TOOL's longopts table in cmd/TOOL.c, with
# those of CLI_COMMON_LONGOPTS (cmd/cli.h) when the table uses it.
# The struct option table of a C file.
option_table() {
	awk '/longopts\[\] *= *\{/ { f = 1 } f { print } f && /^[ \t]*\};/ { exit }' "$1"
}

longopts() {
	local src="$top_srcdir/cmd/$1.c"
	[ -f "$src" ] || return 1
	option_table "$src" >"$BATS_TEST_TMPDIR/table"
	# a campaign tool (cmd/cli_front.c): the shared table, and its own
	# options as a string of names ("name:" takes an argument)
	if grep -q 'cli_front_main' "$src"; then
		option_table "$top_srcdir/cmd/cli_front.c" >>"$BATS_TEST_TMPDIR/table"
		awk '/longopts\[\] *= *"/ { f = 1 } f { print } f && /;[ \t]*$/ { exit }' \
		    "$src" | grep -o '"[^"]*"' | tr -d '"' | tr ' ' '\n' |
		    sed -n 's/^\([a-z][a-z0-9-]*\):*$/{ "\1",/p' >>"$BATS_TEST_TMPDIR/table"
	fi
	grep -q 'CLI_COMMON_LONGOPTS' "$BATS_TEST_TMPDIR/table" &&
	    awk '/#define CLI_COMMON_LONGOPTS/ { f = 1 } f { print } f && !/\\$/ { exit }' \
	    "$top_srcdir/cmd/cli.h" >>"$BATS_TEST_TMPDIR/table"
	sed -n 's/.*{ *"\([a-z][a-z0-9-]*\)",.*/\1/p' "$BATS_TEST_TMPDIR/table" | sort -u
}

# documented PAGE NAME: the page has "Fl \-NAME".
documented() {
	grep -Eq "Fl \\\\-$2([^a-z0-9-]|\$)" "$MAN/$1"
}

# Every longopts entry of TOOL appears in its page as Fl \-NAME.
check_longopts() {
	local tool=$1 names name missing=
	names=$(longopts "$tool") || fail "cmd/$tool.c: not found"
	[ -n "$names" ] || fail "cmd/$tool.c: no longopts table found"
	for name in $names; do
		documented "$tool.1" "$name" || missing="$missing --$name"
	done
	[ -z "$missing" ] || fail "man/$tool.1 does not document:$missing"
}

# Every option of TOOL --help's synopsis (long names and short letters) is
# in the page (tests/cli/help.bats checks the option list after it).
check_help() {
	local tool=$1 usage tok letters l missing=
	run -0 "$tool" --help
	usage=$(awk 'NF == 0 { exit } { print }' <<<"$output")
	[[ $usage == "usage: $tool"* ]] || fail "$tool --help: no usage line"
	for tok in $(grep -oE -- '--[a-z][a-z0-9-]*' <<<"$usage" | sort -u); do
		documented "$tool.1" "${tok#--}" || missing="$missing $tok"
	done
	# short options: "[-nqvw]" bundles and "-s SITE"
	letters=$(grep -oE -- '\[-[A-Za-z]+' <<<"$usage" | tr -d '[-' | fold -w1 | sort -u)
	for l in $letters; do
		grep -Eq "(Fl|Op Fl) [A-Za-z]*$l" "$MAN/$tool.1" || missing="$missing -$l"
	done
	[ -z "$missing" ] || fail "man/$tool.1 does not document:$missing"
}

# The page's SYNOPSIS, rendered, is the --help synopsis (letter case aside:
# mdoc writes arguments in lower case by habit, usage() in upper case).
check_synopsis() {
	local tool=$1 man help
	need_mandoc
	man=$("$MANDOC" -T ascii "$MAN/$tool.1" | sed 's/.\x08//g' |
	    awk '/^SYNOPSIS/ { f = 1; next } /^[A-Z]/ { f = 0 } f' |
	    tr -s ' \n\t' ' ' | sed 's/^ //; s/ $//')
	help=$("$tool" --help | awk 'NF == 0 { exit } { print }' |
	    sed '1s/^usage: //' | tr -s ' \n\t' ' ' | sed 's/^ //; s/ $//')
	[ "${man,,}" = "${help,,}" ] ||
	    fail "SYNOPSIS differs from --help"$'\n'"man:  $man"$'\n'"help: $help"
}

@test "mandoc lint: mls.7" { lint mls.7; }
@test "mandoc lint: mls-ship.1" { lint mls-ship.1; }
@test "mandoc lint: mls-submit.1" { lint mls-submit.1; }
@test "mandoc lint: mls-status.1" { lint mls-status.1; }
@test "mandoc lint: mls-fetch.1" { lint mls-fetch.1; }
@test "mandoc lint: mls-search.1" { lint mls-search.1; }
@test "mandoc lint: mls-ensemble.1" { lint mls-ensemble.1; }

@test "mls-ship.1 documents every long option of cmd/mls-ship.c" { check_longopts mls-ship; }
@test "mls-submit.1 documents every long option of cmd/mls-submit.c" { check_longopts mls-submit; }
@test "mls-status.1 documents every long option of cmd/mls-status.c" { check_longopts mls-status; }
@test "mls-fetch.1 documents every long option of cmd/mls-fetch.c" { check_longopts mls-fetch; }
@test "mls-search.1 documents every long option of cmd/mls-search.c" { check_longopts mls-search; }
@test "mls-ensemble.1 documents every long option of cmd/mls-ensemble.c" { check_longopts mls-ensemble; }

@test "mls-ship.1 documents every option of mls-ship --help" { check_help mls-ship; }
@test "mls-submit.1 documents every option of mls-submit --help" { check_help mls-submit; }
@test "mls-status.1 documents every option of mls-status --help" { check_help mls-status; }
@test "mls-fetch.1 documents every option of mls-fetch --help" { check_help mls-fetch; }
@test "mls-search.1 documents every option of mls-search --help" { check_help mls-search; }
@test "mls-ensemble.1 documents every option of mls-ensemble --help" { check_help mls-ensemble; }

@test "mls-ship.1 SYNOPSIS is what mls-ship --help prints" { check_synopsis mls-ship; }
@test "mls-submit.1 SYNOPSIS is what mls-submit --help prints" { check_synopsis mls-submit; }
@test "mls-status.1 SYNOPSIS is what mls-status --help prints" { check_synopsis mls-status; }
@test "mls-fetch.1 SYNOPSIS is what mls-fetch --help prints" { check_synopsis mls-fetch; }
@test "mls-search.1 SYNOPSIS is what mls-search --help prints" { check_synopsis mls-search; }
@test "mls-ensemble.1 SYNOPSIS is what mls-ensemble --help prints" { check_synopsis mls-ensemble; }

@test "the longopts extraction finds what the tables hold" {
	# guard against a parser that silently finds nothing
	run -0 longopts mls-status
	assert_line help
	assert_line site
	assert_line keep-going
	assert_line watch
}

@test "the longopts extraction finds a campaign tool's own and shared options" {
	run -0 longopts mls-search
	assert_line help		# cli.h
	assert_line cancel-on-exit	# cmd/cli_front.c
	assert_line metric-regex	# cmd/mls-search.c, takes an argument
	assert_line ask-tell		# cmd/mls-search.c, takes none
	run -0 longopts mls-ensemble
	assert_line seed-param
	assert_line resume
}

@test "a page missing an option is caught" {
	# the checker itself must be able to fail
	mkdir -p "$BATS_TEST_TMPDIR/man"
	grep -v 'no-extract' "$MAN/mls-fetch.1" >"$BATS_TEST_TMPDIR/man/mls-fetch.1"
	MAN="$BATS_TEST_TMPDIR/man"
	run check_longopts mls-fetch
	[ "$status" -ne 0 ]
	[[ $output == *"--no-extract"* ]]
}

@test "every page lists its exit statuses explicitly" {
	local p
	for p in mls-submit mls-status mls-fetch mls-search mls-ensemble; do
		grep -q '^\.Sh EXIT STATUS' "$MAN/$p.1" || fail "$p.1: no EXIT STATUS"
		grep -q '^\.Ex' "$MAN/$p.1" && fail "$p.1: uses .Ex instead of a list"
		for code in 0 64 65 66 70 74 75 78; do
			grep -q "^\.It $code\$" "$MAN/$p.1" || fail "$p.1: exit status $code not listed"
		done
	done
	for code in 0 1 64 65 66 69 70 74 75 76 77 78 124 130; do
		grep -q "^\.It $code\( \|\$\)" "$MAN/mls.7" || fail "mls.7: exit status $code not listed"
	done
}

@test "mls.7 describes the records, the environment and the configuration" {
	local w
	for w in 'Qq sandbox' 'Qq job' 'Qq trial' 'Qq campaign' 'Qq params' 'Qq artifact' \
	    MLS_JOB_ID MLS_PARAMS MLS_METRICS MLS_OUTPUT_DIR input.json output.json \
	    MLS_CONFIG MLS_DATA_HOME MLS_SITE MLS_STORE '[site' journal.jsonl; do
		grep -qF -- "$w" "$MAN/mls.7" || fail "mls.7 does not mention $w"
	done
}
