#!/usr/bin/env bats
# Shell completions: every long option of each man page is known to the
# bash, zsh and fish completions, the files parse, and the bash ones
# complete options, site names (from the config) and job and campaign ids
# (from the registry).
load helpers

TOOLS="mls-ship mls-submit mls-status mls-fetch mls-search mls-ensemble"

setup() {
	mls_setup
	COMP="$top_srcdir/completion"
	MAN="$top_srcdir/man"
}

# The long options a man page documents ("Fl \-NAME"), one a line.
man_longopts() {
	grep -oE 'Fl \\-[a-z][a-z0-9-]*' "$MAN/$1.1" | sed 's/^Fl \\-//' | sort -u
}

# check_mentions TOOL: each completion file mentions every long option.
check_mentions() {
	local tool=$1 opts o missing=
	opts=$(man_longopts "$tool")
	[ -n "$opts" ] || fail "man/$tool.1: no long options found"
	for f in "bash/$tool" "zsh/_$tool" "fish/$tool.fish"; do
		[ -s "$COMP/$f" ] || { missing="$missing $f(missing)"; continue; }
	done
	for o in $opts; do
		grep -Eq -- "(^|[^a-z0-9-])--$o([^a-z0-9-]|\$)" "$COMP/bash/$tool" ||
		    missing="$missing bash:--$o"
		grep -Eq -- "(^|[^a-z0-9-])--$o([^a-z0-9-]|\$)" "$COMP/zsh/_$tool" ||
		    missing="$missing zsh:--$o"
		grep -Eq -- "-l $o( |\$)" "$COMP/fish/$tool.fish" ||
		    missing="$missing fish:--$o"
	done
	[ -z "$missing" ] || fail "$tool: completions lack:$missing"
}

# bcomp TOOL WORD...: run TOOL's bash completion on the command line
# "TOOL WORD..." (the last word is the one completed, split as bash would
# split it) and print COMPREPLY, one a line.
bcomp() {
	local tool=$1
	shift
	bash -c '
		tool=$1 file=$2 fn=$3
		shift 3
		source "$file" || exit 3
		complete -p "$tool" >/dev/null || exit 4
		COMP_WORDS=("$tool" "$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="${COMP_WORDS[*]}"
		COMP_POINT=${#COMP_LINE}
		"$fn" "$tool" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}"
	' _ "$tool" "$COMP/bash/$tool" "_${tool//-/_}" "$@"
}

# A config with two sites, and a registry with jobs and campaigns.
fixtures() {
	mkdir -p "$XDG_CONFIG_HOME/mls"
	cat >"$XDG_CONFIG_HOME/mls/config" <<-'EOF'
	[mls]
	site = lab
	[site "lab"]
	type = local
	  [site "gpu-box"]
	type = local
	[store]
	url = file:///nowhere
	EOF
	mkdir -p "$MLS_DATA_HOME/registry/jobs" "$MLS_DATA_HOME/campaigns/c-01kxaaaa" \
	    "$MLS_DATA_HOME/campaigns/c-01kxbbbb"
	echo '{}' >"$MLS_DATA_HOME/registry/jobs/j-01kx0001.json"
	echo '{}' >"$MLS_DATA_HOME/registry/jobs/j-01kx0002.json"
	echo '{}' >"$MLS_DATA_HOME/registry/jobs/j-01ky0003.json"
}

@test "the completion files parse (bash -n, zsh -n, fish -n)" {
	local t
	for t in $TOOLS; do
		bash -n "$COMP/bash/$t" || fail "bash -n $t"
	done
	if command -v zsh >/dev/null; then
		for t in $TOOLS; do
			zsh -n "$COMP/zsh/_$t" || fail "zsh -n _$t"
			head -n 1 "$COMP/zsh/_$t" | grep -qx "#compdef $t" ||
			    fail "_$t does not start with #compdef $t"
		done
	fi
	if command -v fish >/dev/null; then
		for t in $TOOLS; do
			fish -n "$COMP/fish/$t.fish" || fail "fish -n $t.fish"
		done
	fi
	command -v zsh >/dev/null && command -v fish >/dev/null ||
	    skip "zsh or fish is not installed; only bash was checked"
}

@test "mls-ship: the completions know every long option of its man page" { check_mentions mls-ship; }
@test "mls-submit: the completions know every long option of its man page" { check_mentions mls-submit; }
@test "mls-status: the completions know every long option of its man page" { check_mentions mls-status; }
@test "mls-fetch: the completions know every long option of its man page" { check_mentions mls-fetch; }
@test "mls-search: the completions know every long option of its man page" { check_mentions mls-search; }
@test "mls-ensemble: the completions know every long option of its man page" { check_mentions mls-ensemble; }

@test "the mention check catches a missing option" {
	mkdir -p "$BATS_TEST_TMPDIR/c/bash" "$BATS_TEST_TMPDIR/c/zsh" "$BATS_TEST_TMPDIR/c/fish"
	cp "$COMP/zsh/_mls-status" "$BATS_TEST_TMPDIR/c/zsh/"
	cp "$COMP/fish/mls-status.fish" "$BATS_TEST_TMPDIR/c/fish/"
	sed 's/--watch//' "$COMP/bash/mls-status" >"$BATS_TEST_TMPDIR/c/bash/mls-status"
	COMP="$BATS_TEST_TMPDIR/c"
	run check_mentions mls-status
	[ "$status" -ne 0 ]
	[[ $output == *"bash:--watch"* ]]
	[[ $output != *"zsh:--watch"* ]]
}

@test "bash: '--' offers every long option of the man page, for every tool" {
	local t o missing=
	for t in $TOOLS; do
		run -0 bcomp "$t" --
		for o in $(man_longopts "$t"); do
			grep -qx -- "--$o" <<<"$output" || missing="$missing $t:--$o"
		done
	done
	[ -z "$missing" ] || fail "not offered:$missing"
}

@test "bash: option prefixes complete to the matching options only" {
	run -0 bcomp mls-status --w
	assert_output $'--wait\n--watch'
	run -0 bcomp mls-fetch --no
	assert_output --no-extract
	run -0 bcomp mls-search --re
	assert_output $'--reduce\n--resume'
	run -0 bcomp mls-submit --dr
	assert_output --dry-run
}

@test "bash: --format offers table, json and jsonl" {
	local t
	for t in mls-submit mls-status mls-fetch mls-search mls-ensemble; do
		run -0 bcomp "$t" --format ''
		assert_output $'table\njson\njsonl'
		run -0 bcomp "$t" --format = js		# "--format=js" as bash splits it
		assert_output $'json\njsonl'
	done
}

@test "bash: -s/--site offers local and the sites of the config" {
	local t
	fixtures
	for t in mls-submit mls-status mls-fetch mls-search mls-ensemble; do
		run -0 bcomp "$t" -s ''
		assert_output $'local\nlab\ngpu-box'
		run -0 bcomp "$t" --site = g
		assert_output gpu-box
		run -0 bcomp "$t" --site=l			# "=" not a word break
		assert_output $'--site=local\n--site=lab'
	done
}

@test "bash: MLS_CONFIG names the config the site names come from" {
	fixtures
	printf '[site "other"]\ntype = local\n' >"$BATS_TEST_TMPDIR/alt"
	MLS_CONFIG="$BATS_TEST_TMPDIR/alt" run -0 bcomp mls-status -s ''
	assert_output $'local\nother'
	MLS_CONFIG="$BATS_TEST_TMPDIR/none" run -0 bcomp mls-submit -s ''
	assert_output local
}

@test "mls-ship: bash -s/--site offers the sites of the config" {
	fixtures
	run -0 bcomp mls-ship -s ''
	assert_output $'local\nlab\ngpu-box'
}

@test "bash: mls-search -s completes the last site of a SITE:CAP list" {
	fixtures
	run -0 bcomp mls-search -s local : 4,g		# "local:4,g"
	assert_output 4,gpu-box
	run -0 bcomp mls-search -s lab,l
	assert_output $'lab,local\nlab,lab'
}

@test "bash: mls-status and mls-fetch complete job and campaign ids" {
	local t
	fixtures
	for t in mls-status mls-fetch; do
		run -0 bcomp "$t" ''
		assert_output $'j-01kx0001\nj-01kx0002\nj-01ky0003\nc-01kxaaaa\nc-01kxbbbb'
		run -0 bcomp "$t" j-01kx
		assert_output $'j-01kx0001\nj-01kx0002'
		run -0 bcomp "$t" -k c-
		assert_output $'c-01kxaaaa\nc-01kxbbbb'
	done
}

@test "bash: ids come from MLS_DATA_HOME, else XDG_DATA_HOME/mls" {
	fixtures
	unset MLS_DATA_HOME
	export XDG_DATA_HOME="$BATS_TEST_TMPDIR/xdg"
	mkdir -p "$XDG_DATA_HOME/mls/registry/jobs"
	echo '{}' >"$XDG_DATA_HOME/mls/registry/jobs/j-xdg.json"
	run -0 bcomp mls-status ''
	assert_output j-xdg
}

@test "bash: no registry means no ids, not an error" {
	run -0 bcomp mls-status ''
	assert_output ''
}

@test "bash: mls-search --resume offers campaign ids only" {
	fixtures
	run -0 bcomp mls-search --resume ''
	assert_output $'c-01kxaaaa\nc-01kxbbbb'
	run -0 bcomp mls-search --resume = c-01kxb
	assert_output c-01kxbbbb
}

@test "bash: mls-search --algorithm, --prune and --reduce offer their values" {
	run -0 bcomp mls-search --algorithm ''
	assert_output $'random\ngrid\nsobol\ntpe\nexec:'
	run -0 bcomp mls-search --prune ''
	assert_output $'median\nasha'
	run -0 bcomp mls-search --reduce ''
	assert_output $'last\nbest\nmean'
	run -0 bcomp mls-search --prune=a
	assert_output --prune=asha
}

@test "bash: mls-search -p completes the type after NAME=" {
	run -0 bcomp mls-search -p lr = ''		# "-p lr=" as bash splits it
	assert_output $'uniform:\nloguniform:\nint:\nintlog:\nchoice:\nfixed:'
	run -0 bcomp mls-search -p lr = lo
	assert_output loguniform:
	run -0 bcomp mls-search -p lr=in		# "=" not a word break
	assert_output $'lr=int:\nlr=intlog:'
	run -0 bcomp mls-search --param = lr = c
	assert_output choice:
	run -0 bcomp mls-search -p lr
	assert_output ''
}

@test "bash: mls-search --space completes files" {
	: >"$WORK/space.yaml"
	run -0 bcomp mls-search --space "$WORK/spa"
	assert_output "$WORK/space.yaml"
}

@test "bash: mls-fetch -o completes directories" {
	mkdir -p "$WORK/outdir"
	: >"$WORK/outfile"
	run -0 bcomp mls-fetch -o "$WORK/out"
	assert_output "$WORK/outdir"
}

@test "bash: mls-submit and mls-search complete the command after the options" {
	local t
	for t in mls-submit mls-search; do
		run -0 bcomp "$t" -- ech
		assert_line echo
		run -0 bcomp "$t" -s local ech
		assert_line echo
		# after the command, its arguments: options of the tool no more
		: >"$WORK/train.sh"
		run -0 bcomp "$t" sh "$WORK/tra"
		assert_output "$WORK/train.sh"
		run -0 bcomp "$t" sh --
		[[ $output != *--help* ]] || fail "$t: tool options offered after the command"
	done
}

@test "bash: an option that takes a free value offers nothing" {
	run -0 bcomp mls-submit --cpus ''
	assert_output ''
	run -0 bcomp mls-status -n ''
	assert_output ''
	run -0 bcomp mls-search --trials ''
	assert_output ''
}

@test "fish: options, site names and ids" {
	command -v fish >/dev/null || skip "fish is not installed"
	fixtures
	run -0 fish -c "source '$COMP/fish/mls-status.fish'; complete -C 'mls-status --w'"
	assert_line --regexp $'^--wait\t'
	assert_line --regexp $'^--watch\t'
	run -0 fish -c "source '$COMP/fish/mls-status.fish'; complete -C 'mls-status j-01kx'"
	assert_line --regexp $'^j-01kx0001\t'
	run -0 fish -c "source '$COMP/fish/mls-fetch.fish'; complete -C 'mls-fetch c-'"
	assert_line --regexp $'^c-01kxbbbb\t'
	run -0 fish -c "source '$COMP/fish/mls-submit.fish'; complete -C 'mls-submit -s '"
	assert_line --regexp $'^gpu-box\t'
	assert_line --regexp $'^local\t'
	run -0 fish -c "source '$COMP/fish/mls-search.fish'; complete -C 'mls-search -p lr='"
	assert_line --regexp $'^lr=loguniform:\t'
	run -0 fish -c "source '$COMP/fish/mls-search.fish'; complete -C 'mls-search --resume '"
	assert_line --regexp $'^c-01kxaaaa\t'
	refute_line --regexp '^j-'
}

@test "zsh: options, site names and ids" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	zsh -c 'zmodload zsh/zpty' 2>/dev/null || skip "zsh/zpty is not available"
	fixtures
	# Run an interactive zsh in a pty, press TAB, and collect what the
	# completion functions hand to compadd.
	cat >"$BATS_TEST_TMPDIR/zcomp" <<-'EOF'
	zmodload zsh/zpty
	hits=$1 fp=$2 line=$3
	zpty z zsh -f -i
	zpty -w z "fpath=($fp \$fpath); autoload -Uz compinit; compinit -u -D"
	zpty -w z "compadd() { local -a h; builtin compadd -A h \"\$@\"; print -rl -- \$h >>$hits; builtin compadd \"\$@\" }"
	zpty -w z "print READY"
	zpty -r -m z x '*READY*'
	zpty -n -w z "$line"$'\t'
	for i in {1..50}; do [[ -s $hits ]] && break; sleep 0.1; done
	sleep 0.2
	zpty -d z
	EOF
	zc() {
		local hits="$BATS_TEST_TMPDIR/hits"
		: >"$hits"
		timeout 20 zsh -f "$BATS_TEST_TMPDIR/zcomp" "$hits" "$COMP/zsh" "$1"
		sort -u "$hits" | grep -v '^$'
	}
	run -0 zc 'mls-status --w'
	assert_output $'--wait\n--watch'
	run -0 zc 'mls-status '
	assert_output $'c-01kxaaaa\nc-01kxbbbb\nj-01kx0001\nj-01kx0002\nj-01ky0003'
	run -0 zc 'mls-submit -s '
	assert_output $'gpu-box\nlab\nlocal'
	run -0 zc 'mls-search -p lr='
	assert_output $'choice:\nfixed:\nint:\nintlog:\nloguniform:\nuniform:'
	run -0 zc 'mls-search --prune='
	assert_output $'asha\nmedian'
}
