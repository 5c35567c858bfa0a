#!/usr/bin/env bats
# --help of every tool: its synopsis, what it does, every option of its
# man page's option list with a one-line description, and two examples.
# The man pages are the reference: each option of the page's list is in
# --help and each option of --help is in the page's list.
load helpers

setup() {
	mls_setup
	MAN="$top_srcdir/man"
}

TOOLS="mls-ship mls-submit mls-status mls-fetch mls-search mls-ensemble"

# man_options TOOL: the -x and --name of each item of the page's option
# list (the first .Bl after "The options are as follows:" or ".Ss Options",
# its own items only, not those of lists nested in it), one a line.
man_options() {
	awk '
	/^\.Ss Options$/ || /options are as follows/ { want = 1; next }
	want && /^\.Bl / { depth++; next }
	want && /^\.El/ { if (--depth == 0) exit; next }
	want && depth == 1 && /^\.It Fl / { print }
	' "$MAN/$1.1" |
	    sed -E 's/Fl \\-([a-z][a-z0-9-]*)/\n--\1\n/g; s/Fl ([A-Za-z0-9])( |$)/\n-\1\n/g' |
	    grep -E '^--?[A-Za-z0-9]' | sort -u
}

# help_options TOOL: the -x and --name of each option line of TOOL --help
# (after the synopsis: a line indented by spaces that starts with "-", up
# to the two spaces before its description), one a line.
help_options() {
	"$1" --help | awk '
	NF == 0 { body = 1 }
	body && /^  +-/ { sub(/^ +/, ""); sub(/  .*/, ""); print }
	' | grep -oE '(^|[ ,])--?[A-Za-z0-9][A-Za-z0-9-]*' | tr -d ' ,' | sort -u
}

# check_agree TOOL: the page's option list and --help's agree.
check_agree() {
	local tool=$1 man help o missing= extra=
	man=$(man_options "$tool")
	help=$(help_options "$tool")
	[ -n "$man" ] || fail "man/$tool.1: no option list found"
	[ -n "$help" ] || fail "$tool --help: no option lines found"
	for o in $man; do
		grep -qxF -- "$o" <<<"$help" || missing="$missing $o"
	done
	for o in $help; do
		grep -qxF -- "$o" <<<"$man" && continue
		extra="$extra $o"
	done
	[ -z "$missing" ] || fail "$tool --help lacks, from man/$tool.1:$missing"
	[ -z "$extra" ] || fail "man/$tool.1 does not document, from $tool --help:$extra"
}

# check_shape TOOL: synopsis, blank, one line on what it does, groups of
# options each with a description, "Examples:" with two commands.
check_shape() {
	local tool=$1
	run -0 --separate-stderr "$tool" --help
	[ -z "$stderr" ] || fail "$tool --help wrote on stderr: $stderr"
	[[ ${lines[0]} == "usage: $tool "* ]] || fail "$tool --help: no usage line"
	cat >"$BATS_TEST_TMPDIR/shape.py" <<'PY'
import re, sys
tool = sys.argv[1]
text = sys.stdin.read().split("\n")
def bad(msg):
    sys.exit("%s --help: %s" % (tool, msg))
i = text.index("")			# the end of the synopsis
what = text[i + 1]
if not what or not what[0].isupper():
    bad("no line on what the tool does after the synopsis: %r" % what)
if text[i + 2] != "":
    bad("what the tool does is more than one line")
if any(len(l) > 80 for l in text):
    bad("a line longer than 80 columns")
groups = [l for l in text[i + 3:] if re.match(r"^[A-Z][^:]*:$", l)]
if len(groups) < 3 or "Examples:" not in groups:
    bad("no option groups, or no Examples: %r" % groups)
ex = text.index("Examples:")
cmds = [l for l in text[ex + 1:] if l.startswith("  $ ")]
if len(cmds) < 2 or not all(tool in c for c in cmds[:2]):
    bad("fewer than two examples running %s: %r" % (tool, cmds))
body = text[i + 3:ex]
for k, l in enumerate(body):
    m = re.match(r"^  +(-\S.*?)(  +(\S.*))?$", l)
    if not m:
        continue
    desc = m.group(3) or (body[k + 1].strip() if k + 1 < len(body) and
        re.match(r"^ {20,}\S", body[k + 1]) else "")
    if not desc:
        bad("option without a description: %r" % l)
PY
	/usr/bin/python3 "$BATS_TEST_TMPDIR/shape.py" "$tool" <<<"$output" ||
	    fail "$tool --help is not shaped as a help"
	# -h is --help
	[ "$("$tool" -h)" = "$output" ] || fail "$tool -h differs from --help"
}

# check_short_usage TOOL: a usage error is the synopsis and a pointer to
# --help on stderr, exit 64, and nothing of the long help.
check_short_usage() {
	local tool=$1 syn
	syn=$("$tool" --help | awk 'NF == 0 { exit } { n++ } END { print n }')
	run -64 --separate-stderr "$tool" --no-such-option </dev/null
	[ -z "$output" ] || fail "$tool: a usage error wrote on stdout"
	[[ $stderr == *"usage: $tool "* ]] || fail "$tool: no synopsis on stderr"
	[[ $stderr == *"Try '$tool --help' for more information."* ]] ||
	    fail "$tool: no pointer to --help"
	[[ $stderr != *"Examples:"* ]] || fail "$tool: the long help on a usage error"
	# the complaint, the synopsis, the pointer
	[ "${#stderr_lines[@]}" -le $((syn + 2)) ] ||
	    fail "$tool: the usage error is ${#stderr_lines[@]} lines long"
}

@test "every tool's --help lists exactly the options of its man page" {
	local t
	for t in $TOOLS; do check_agree "$t"; done
}

@test "every tool's --help: what it does, options with descriptions, two examples" {
	local t
	for t in $TOOLS; do check_shape "$t"; done
}

@test "a usage error stays short: the synopsis and 'Try --help' on stderr, 64" {
	local t
	for t in $TOOLS; do check_short_usage "$t"; done
}

@test "the options of a man page are found, nested lists left out" {
	run -0 man_options mls-search
	assert_line -- -p
	assert_line -- --param
	assert_line -- --ask-tell
	assert_line -- --no-input
	assert_line -- -n
	refute_line -- --trials=N
	run -0 man_options mls-status
	assert_line -- --count
	assert_line -- -n
	run -0 help_options mls-fetch
	assert_line -- -j
	assert_line -- --jobs
	assert_line -- --no-extract
}

@test "the check fails when the page or --help lacks an option" {
	mkdir -p "$BATS_TEST_TMPDIR/man"
	grep -v 'no-extract' "$MAN/mls-fetch.1" >"$BATS_TEST_TMPDIR/man/mls-fetch.1"
	MAN="$BATS_TEST_TMPDIR/man"
	run check_agree mls-fetch
	[ "$status" -ne 0 ]
	[[ $output == *"does not document"*"--no-extract"* ]]
	# an option of the page that --help lacks
	MAN="$top_srcdir/man"
	sed 's/^\.It Fl \\-best Ns = Ns Ar K$/.It Fl \\-worst Ns = Ns Ar K/' \
	    "$MAN/mls-fetch.1" >"$BATS_TEST_TMPDIR/man/mls-fetch.1"
	MAN="$BATS_TEST_TMPDIR/man"
	run check_agree mls-fetch
	[ "$status" -ne 0 ]
	[[ $output == *"lacks"*"--worst"* ]]
}

