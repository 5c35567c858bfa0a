#!/usr/bin/env bats
# Hostile input (issue 16): every refused value exits with its status and
# names what was wrong; nothing runs away.
load helpers

# Nothing is created outside the test's own directory: the root, the
# directory of this file's tests and the run's directory are listed
# before and after each test (they change only when bats starts a test).
outside_listing() {
	ls -A / "$BATS_RUN_TMPDIR" "$(dirname "$BATS_TEST_TMPDIR")"
}
setup() {
	mls_setup
	export TMPDIR="$BATS_TEST_TMPDIR/tmp"
	mkdir -p "$TMPDIR"
	outside_listing >"$BATS_TEST_TMPDIR/outside.before"
}
teardown() {
	mls_teardown
	outside_listing >"$BATS_TEST_TMPDIR/outside.after"
	diff "$BATS_TEST_TMPDIR/outside.before" "$BATS_TEST_TMPDIR/outside.after"
}

# refuse STATUS WHAT TOOL ARGS...: exit STATUS, stderr starts "TOOL: WHAT"
refuse() {
	local status=$1 what=$2
	shift 2
	run "-$status" --separate-stderr "$@" </dev/null
	if [[ "$stderr" != "$1: $what"* ]]; then
		echo "expected '$1: $what...', got: $stderr" >&2
		return 1
	fi
}

@test "durations: nan, inf, 1e300, negative, hex and over 365d are 64 naming the option" {
	local v
	for v in nan NaN inf infinity 1e300 1e300s -5 -1s 0x10 366d 31536001 '' ' 5s'; do
		refuse 64 "--timeout: '$v' is not a duration" \
			mls-search --trials 2 --timeout "$v" -p x=uniform:0:1 -- true
		refuse 64 "--time: '$v' is not a duration" \
			mls-search --time "$v" -p x=uniform:0:1 -- true
		refuse 64 "--timeout: '$v' is not a duration" \
			mls-ensemble --members 2 --timeout "$v" -- true
		refuse 64 "--time: '$v' is not a duration" mls-ensemble --members 2 --time "$v" -- true
		refuse 64 "--timeout: '$v' is not a duration" mls-submit --wait --timeout "$v" -- true
		refuse 64 "--time: '$v' is not a duration" mls-submit --time "$v" -- true
		refuse 64 "--timeout: '$v' is not a duration" mls-status --wait --timeout "$v" j-1
	done
}

@test "durations: 365d is the most; 0 is a --timeout of mls-submit and mls-status only" {
	run -0 mls-submit --dry-run --time 365d -- true </dev/null
	refuse 64 "--time: '0' is not a duration" mls-submit --time 0 -- true
	refuse 64 "--timeout: '0' is not a duration" mls-search --timeout 0 -p x=uniform:0:1 -- true
}

@test "counts: nan, 1e300, negative, huge and signed counts are 64 naming the option" {
	local v
	for v in nan 1e300 -1 99999999999999999999 1000001 +3 ' 3' 3x ''; do
		refuse 64 "--trials: '$v' is not a whole number" \
			mls-search --trials "$v" -p x=uniform:0:1 -- true
		refuse 64 "--parallel: '$v' is not a whole number" \
			mls-search --parallel "$v" -p x=uniform:0:1 -- true
		refuse 64 "--max-failures: '$v' is not a whole number" \
			mls-search --max-failures "$v" -p x=uniform:0:1 -- true
		refuse 64 "--startup: '$v' is not a whole number" \
			mls-search --startup "$v" -p x=uniform:0:1 -- true
		refuse 64 "--cpus: '$v' is not a whole number" \
			mls-search --cpus "$v" -p x=uniform:0:1 -- true
		refuse 64 "--gpus: '$v' is not a whole number" mls-submit --gpus "$v" -- true
		refuse 64 "--array: '$v' is not a whole number" mls-submit --array "$v" -- true
		refuse 64 "--members: '$v' is not a whole number" mls-ensemble --members "$v" -- true
		refuse 64 "--retries: '$v' is not a whole number" \
			mls-ensemble --members 2 --retries "$v" -- true
		refuse 64 "--count: '$v' is not a whole number" mls-status --count "$v" j-1
		refuse 64 "--best: '$v' is not a whole number" mls-fetch --best "$v" j-1
	done
	refuse 64 "--seed: '-1' is not a whole number" mls-search --seed -1 -p x=uniform:0:1 -- true
	refuse 64 "--seed: 'nan' is not a whole number" mls-ensemble --members 2 --seed nan -- true
	run -0 mls-submit --dry-run --array 3 --cpus 1000000 -- true </dev/null
}

@test "sizes: nan, inf, 1e300 and negative memory are 64 naming the option" {
	local v
	for v in nan inf 1e300 1e300G -1 0x10 2000T; do
		refuse 64 "--mem: '$v' is not a size" mls-submit --mem "$v" -- true
		refuse 64 "--mem: '$v' is not a size" mls-search --mem "$v" -p x=uniform:0:1 -- true
		refuse 64 "--max-size: '$v' is not a size" mls-ship --max-size "$v" .
	done
}

# -p errors are 65 like every other inline space error (mls-search.bats pins it)
@test "int parameters beyond 2^53 are refused naming the parameter" {
	local spec
	for spec in x=int:0:1e300 x=int:-1e300:0 x=int:0:9223372036854775807 \
		x=intlog:1:1e19 x=int:0:10:1e300; do
		run -65 --separate-stderr mls-search --trials 1 -p "$spec" -- true </dev/null
		[[ "$stderr" == "mls-search: -p '$spec': parameter 'x': "* ]]
	done
	printf '{"x": {"type": "int", "low": 0, "high": 1e300}}\n' > big.json
	run -65 --separate-stderr mls-search --trials 1 --space big.json -- true </dev/null
	[[ "$stderr" == *"big.json"*"parameter 'x'"* ]]
	printf 'x:\n  type: int\n  low: -1e300\n  high: 0\n' > big.yaml
	run -65 --separate-stderr mls-search --trials 1 --space big.yaml -- true </dev/null
	[[ "$stderr" == *"big.yaml"*"parameter 'x'"* ]]
}

@test "empty paths: mls-fetch -o '' is 64 naming -o; an empty path key is 78 naming file, line and key" {
	ls -A / >"$BATS_TEST_TMPDIR/root.before"
	refuse 64 "-o: '' is an empty path" mls-fetch -o '' j-1
	refuse 64 "-o: '' is an empty path" mls-fetch --output= j-1
	local key
	unset MLS_DATA_HOME
	export MLS_CONFIG="$BATS_TEST_TMPDIR/config"
	for key in data_home token_file ca_file; do
		printf '[mls]\nsite = local\n[store]\nurl = file://%s/store\n' \
			"$BATS_TEST_TMPDIR" >"$MLS_CONFIG"
		case $key in data_home) sed -i "2a $key =" "$MLS_CONFIG" ;;
		*) printf '%s =\n' "$key" >>"$MLS_CONFIG" ;; esac
		local line
		line=$(grep -n "^$key =" "$MLS_CONFIG" | cut -d: -f1)
		refuse 78 "$MLS_CONFIG:$line: '$key' is an empty path" mls-status j-1
		refuse 78 "$MLS_CONFIG:$line: '$key' is an empty path" mls-submit -- true
	done
	printf '[site "s"]\ntype = slurm\nworkdir =\n' >"$MLS_CONFIG"
	refuse 78 "$MLS_CONFIG:3: 'workdir' is an empty path" mls-status j-1
	ls -A / >"$BATS_TEST_TMPDIR/root.after"
	diff "$BATS_TEST_TMPDIR/root.before" "$BATS_TEST_TMPDIR/root.after"
}

@test "configs: over 1 MiB or /dev/zero is 78 naming the file; long lines read whole; cpus = 0 is 78 naming the key" {
	export MLS_CONFIG=/dev/zero
	refuse 78 "/dev/zero: " mls-status j-1
	export MLS_CONFIG="$BATS_TEST_TMPDIR/config"
	head -c 1100000 /dev/zero | tr '\0' '#' >"$MLS_CONFIG"
	refuse 78 "$MLS_CONFIG: larger than 1 MiB" mls-status j-1
	local long
	long=$(printf '%0300d' 0)
	printf '# %s\n[mls]\nsite = local\n[site "slow"]\ntype = slurm\npartition = p%s\nbroken\n' \
		"$long" "$long" >"$MLS_CONFIG"
	refuse 78 "$MLS_CONFIG:7: syntax error" mls-status j-1
	sed -i '$d' "$MLS_CONFIG"
	run -66 --separate-stderr mls-status j-1 </dev/null
	[[ "$stderr" == *"'j-1'"* ]]
	printf '[site "local"]\ncpus = 0\n' >"$MLS_CONFIG"
	refuse 78 "site 'local': cpus '0': expected a count" mls-submit -- true
}

@test "a shared store is not trusted: a symlink in it is not followed by mls-fetch" {
	id=$(mls-submit --wait -- true </dev/null | json_get id)
	jobdir="$MLS_DATA_HOME/store/jobs/$id"
	echo secret >"$BATS_TEST_TMPDIR/secret"
	rm "$jobdir/params.json"
	ln -s "$BATS_TEST_TMPDIR/secret" "$jobdir/params.json"
	run -76 --separate-stderr mls-fetch -o out "$id"
	[[ "$stderr" == *"params.json': a symbolic link"*"refused"* ]]
	! grep -rq secret out
	# a link on the way (jobs/ID itself) is refused the same way
	mv "$jobdir" "$BATS_TEST_TMPDIR/moved"
	rm "$BATS_TEST_TMPDIR/moved/params.json"
	ln -s "$BATS_TEST_TMPDIR/moved" "$jobdir"
	rm -rf out
	run -76 --separate-stderr mls-fetch -o out "$id"
	[[ "$stderr" == *"a symbolic link or not a directory on its path"* ]]
	# a FIFO in the store is not a file there: skipped, not waited on
	rm "$jobdir"
	mv "$BATS_TEST_TMPDIR/moved" "$jobdir"
	mkfifo "$jobdir/params.json"
	rm -rf out
	run -0 --separate-stderr timeout 20 mls-fetch -o out "$id"
	[ -e "out/$id/result.json" ] && [ ! -e "out/$id/params.json" ]
}

@test "outputs with nothing to verify them against are not unpacked" {
	id=$(mls-submit --wait -- sh -c 'echo x > "$MLS_OUTPUT_DIR/a"' </dev/null | json_get id)
	jobdir="$MLS_DATA_HOME/store/jobs/$id"
	cp "$jobdir/result.json" good.json
	# no digest in result.json
	/usr/bin/python3 - "$jobdir/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); r["outputs"] = None
json.dump(r, open(sys.argv[1], "w"))
PY
	run -76 --separate-stderr mls-fetch -o out "$id"
	[[ "$stderr" == *"outputs.tar.zst: no digest to verify it against (result.json is without outputs.digest)"* ]]
	[ ! -e "out/$id/outputs/a" ] && [ ! -e "out/$id/outputs.tar.zst" ]
	# no result.json at all
	rm "$jobdir/result.json"
	rm -rf out
	run -76 --separate-stderr mls-fetch -o out "$id"
	[[ "$stderr" == *"(result.json is missing or not JSON)"* ]]
	[ ! -e "out/$id/outputs/a" ]
	# with the job's own result.json back, it is fetched and unpacked
	cp good.json "$jobdir/result.json"
	rm -rf out
	run -0 mls-fetch -o out "$id"
	[ "$(cat "out/$id/outputs/a")" = x ]
}

@test "mls-fetch: an id that is a path is 65 and creates nothing; a planted symlink is not followed" {
	mkdir -p target
	for bad in '../../../../tmp/x/a/b' 'a/b' '..' '.hidden' "$(printf 'x%.0s' {1..200})"; do
		rec=$(/usr/bin/python3 -c 'import json,sys; print(json.dumps({"kind":"job","id":sys.argv[1],"site":"local","state":"succeeded"}))' "$bad")
		run -65 --separate-stderr bash -c "echo '$rec' | mls-fetch -o target/out"
		[[ "$stderr" == *"field 'id': expected a job id"* ]]
	done
	[ -z "$(find target -mindepth 1)" ]
	[ ! -e /tmp/x/a/b ]
	# a symlink at OUT/ID/outputs or OUT/ID leads elsewhere: refused
	id=$(mls-submit --wait -- sh -c 'echo x > "$MLS_OUTPUT_DIR/a"' </dev/null | json_get id)
	mkdir -p elsewhere "out/$id"
	ln -s "$PWD/elsewhere" "out/$id/outputs"
	run -74 --separate-stderr mls-fetch -o out "$id"
	[[ "$stderr" == *"outputs': a symbolic link; fetch writes only into directories it makes"* ]]
	[ -z "$(ls elsewhere)" ]
	rm -rf out && mkdir out
	ln -s "$PWD/elsewhere" "out/$id"
	run -74 --separate-stderr mls-fetch -o out "$id"
	[ -z "$(ls elsewhere)" ]
}

@test "a site name that is a path is 78 naming the file and the header's line; nothing is made outside" {
	local name
	for name in '../../x' 'a/b' '' '.hidden' '-x' 'a b'; do
		printf '[store]\n[site "%s"]\n\ttype = local\n' "$name" >"$HOME/bad.conf"
		run -78 --separate-stderr env MLS_CONFIG="$HOME/bad.conf" mls-submit -s "x" -- true
		[[ "$stderr" == "mls-submit: $HOME/bad.conf:2: bad name in [site \"$name\"]"* ]]
	done
	printf '[site "ok-1.x_Y"]\n\ttype = local\n' >"$HOME/good.conf"
	run -0 env MLS_CONFIG="$HOME/good.conf" mls-submit -s ok-1.x_Y --dry-run -- true
	[ ! -e "$MLS_DATA_HOME/../x" ] && [ ! -e "$(dirname "$MLS_DATA_HOME")/x" ]
}

# sandbox_of KIND: a crafted sandbox in the store; prints its record
sandbox_of() {
	/usr/bin/python3 - "$1" "$1.tar" <<'PY'
import io, sys, tarfile
kind, path = sys.argv[1], sys.argv[2]
with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as t:
    data = b"#!/bin/sh\necho hi\n"
    ti = tarfile.TarInfo("./run.sh"); ti.size = len(data); ti.mode = 0o755
    t.addfile(ti, io.BytesIO(data))
    if kind == "setuid":
        ti = tarfile.TarInfo("./suid"); ti.size = len(data); ti.mode = 0o6755
        t.addfile(ti, io.BytesIO(data))
        ti = tarfile.TarInfo("./sticky"); ti.type = tarfile.DIRTYPE; ti.mode = 0o1777
        t.addfile(ti)
    elif kind == "device":
        ti = tarfile.TarInfo("./null2"); ti.type = tarfile.CHRTYPE
        ti.devmajor, ti.devminor, ti.mode = 1, 3, 0o666
        t.addfile(ti)
    elif kind == "fifo":
        ti = tarfile.TarInfo("./pipe"); ti.type = tarfile.FIFOTYPE
        t.addfile(ti)
    elif kind == "bomb":	# 64 MiB of zeros: a few KB of zstd
        ti = tarfile.TarInfo("./zeros"); ti.size = 64 << 20
        t.addfile(ti, io.BytesIO(bytes(ti.size)))
    elif kind == "many":
        for i in range(30):
            ti = tarfile.TarInfo("./f%d" % i); ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    elif kind == "random":
        ti = tarfile.TarInfo("./noise"); ti.size = 100 << 10
        t.addfile(ti, io.BytesIO(open("/dev/urandom", "rb").read(ti.size)))
    elif kind == "dotdot":
        ti = tarfile.TarInfo("../escaped"); ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
PY
	zstd -q -f "$1.tar"
	local d dir
	d=$(sha256sum "$1.tar.zst" | cut -c1-64)
	dir="$MLS_DATA_HOME/store/sandboxes/sha256/${d:0:2}"
	mkdir -p "$dir"
	cp "$1.tar.zst" "$dir/$d.tar.zst"
	echo "{\"kind\":\"sandbox\",\"id\":\"sha256:$d\",\"url\":\"file://$dir/$d.tar.zst\",\"image\":null}"
}

@test "both executors unpack a sandbox by the same rules: no setuid, setgid or sticky bit, no device, fifo or '..'" {
	local ex rec
	for ex in executor wrapper; do
		rec=$(sandbox_of setuid)
		run -0 bash -c "echo '$rec' | MLS_LOCAL_EXEC=$ex mls-submit --wait --format jsonl -- sh -c '[ -x run.sh ] && [ ! -u suid ] && [ ! -g suid ] && [ -d sticky ] && [ ! -k sticky ]'"
		[ "$(json_get state <<<"$output")" = succeeded ]
		for k in device fifo dotdot; do
			rec=$(sandbox_of $k)
			run -1 bash -c "echo '$rec' | MLS_LOCAL_EXEC=$ex mls-submit --wait --format jsonl -- true"
			echo "$ex $k: $output"
			[ "$(json_get state <<<"$output")" = failed ]
			case $k in
			device) [[ "$(json_get reason <<<"$output")" == *device*refused* ]] ;;
			fifo) [[ "$(json_get reason <<<"$output")" == *fifo*refused* ]] ;;
			dotdot) [[ "$(json_get reason <<<"$output")" == *"'../escaped'"*"'..'"* ]] ;;
			esac
		done
	done
	[ ! -e "$BATS_TEST_TMPDIR/../escaped" ]
}

@test "spaces: a YAML billion laughs and an alias cycle are 65 at once; merge keys still work" {
	{
		echo 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
		p=a
		for n in b c d e f g h i; do
			echo "$n: &$n [*$p,*$p,*$p,*$p,*$p,*$p,*$p,*$p,*$p]"
			p=$n
		done
	} >laughs.yaml
	# expanded, it is 387 million strings (4 GB in 29 s before the fix);
	# no ulimit -v here: AddressSanitizer needs its address space
	run -65 --separate-stderr timeout 60 mls-search --space laughs.yaml --trials 1 -- true
	[[ "$stderr" == *"laughs.yaml: more than 1000000 values, or nested more than 128 deep, once its aliases are expanded"* ]]
	printf 'a: &a [*a]\n' >cycle.yaml
	run -65 --separate-stderr timeout 60 mls-search --space cycle.yaml --trials 1 -- true
	[[ "$stderr" == *"cycle.yaml: "* ]]
	printf 'b: &b {type: uniform, low: 0, high: 1}\nx: *b\ny:\n  <<: *b\n  low: 5\n  high: 6\n' >merge.yaml
	run -0 --separate-stderr mls-search --space merge.yaml --trials 1 --format jsonl -- \
	    sh -c 'echo "{\"loss\": 1}" >>"$MLS_METRICS"'
	y=$(grep '"kind":"trial"' <<<"$output" | json_get params.y)
	/usr/bin/python3 -c "import sys; y=float(sys.argv[1]); sys.exit(not 5 <= y <= 6)" "$y"
}

@test "spaces: 100,000 choices are checked in linear time; a repeated one is 65 naming the parameter" {
	/usr/bin/python3 -c 'import json; print(json.dumps({"x": {"type": "choice", "values": list(range(100000)) + [7]}}))' >dup.json
	# a pairwise check took about a minute here; the set takes milliseconds
	run -65 --separate-stderr timeout 20 mls-search --space dup.json --trials 1 -- true
	[[ "$stderr" == *"dup.json: parameter 'x': choice values must be distinct"* ]]
}

# A journal is input like any other (defect 9): a replayed event or spec
# that could not come from a driver is 65 naming the journal's line.
@test "a tampered journal: a number out of sequence or a foreign id is 65 naming file and line; nothing grows" {
	run -0 --separate-stderr mls-search --trials 2 -p x=uniform:0:1 --format jsonl \
		-- sh -c 'echo "{\"loss\": {x}}" >>"$MLS_METRICS"' </dev/null
	id=$(tail -n 1 <<<"$output" | json_get id)
	j="$MLS_DATA_HOME/campaigns/$id/journal.jsonl"
	cp "$j" journal.good
	local n
	for n in 30000000 2000000000 9223372036854775807; do
		cp journal.good "$j"
		printf '{"ev":"submit","number":%s,"job":{"kind":"trial","id":"j-x"}}\n' "$n" >>"$j"
		line=$(wc -l <"$j")
		refuse 65 "$j:$line: submit event: field 'number': $n is out of sequence" \
			mls-status "$id"
		refuse 65 "$j:$line: submit event: field 'number'" \
			mls-search --resume "$id" --trials 3
	done
	# events about a number never submitted are ignored, without memory for it
	cp journal.good "$j"
	printf '{"ev":"state","number":30000000,"state":"running"}\n' >>"$j"
	run -0 --separate-stderr mls-status --format jsonl "$id" </dev/null
	[ "$(tail -n 1 <<<"$output" | json_get counts.total)" = 2 ]
	# the start event's spec names another campaign, or a budget beyond the limits
	sed "1s/\"id\":\"$id\"/\"id\":\"..\\/..\\/elsewhere\"/" journal.good >"$j"
	grep -q 'elsewhere' "$j"
	refuse 65 "$j:1: start event: field 'spec.id': '../../elsewhere' is not this campaign's id" \
		mls-search --resume "$id" --trials 3
	sed '1s/"trials":2,/"trials":2000000000,/' journal.good >"$j"
	refuse 65 "$j:1: campaign spec: field 'budget.trials': not a count from 0 to 1000000" \
		mls-status "$id"
	[ ! -e "$MLS_DATA_HOME/elsewhere" ] && [ ! -e "$BATS_TEST_TMPDIR/elsewhere" ]
}

@test "a tampered journal cannot steer the exec sampler's files: they stay in the campaign's directory" {
	cat >steer.sh <<-'EOF2'
	#!/bin/sh
	echo '[{"x": 0.5}]' >"$2"
	EOF2
	run -0 --separate-stderr mls-search --trials 1 -p x=uniform:0:1 --format jsonl \
		--algorithm "exec:sh $PWD/steer.sh %IN %OUT" \
		-- sh -c 'echo "{\"loss\": {x}}" >>"$MLS_METRICS"' </dev/null
	id=$(tail -n 1 <<<"$output" | json_get id)
	j="$MLS_DATA_HOME/campaigns/$id/journal.jsonl"
	grep -q '"workdir":"[^"]*/campaigns/'"$id"'/exec"' "$j"
	sed -i "1s|\"workdir\":\"[^\"]*\"|\"workdir\":\"$BATS_TEST_TMPDIR/outside\"|" "$j"
	grep -q outside "$j"
	run -0 --separate-stderr mls-search --resume "$id" --trials 2 --format jsonl </dev/null
	[ "$(tail -n 1 <<<"$output" | json_get counts.total)" = 2 ]
	[ ! -e "$BATS_TEST_TMPDIR/outside" ]
	[ -d "$MLS_DATA_HOME/campaigns/$id/exec" ]
}

# mls-fetch reads job records as mls-status does (defect 11).
@test "mls-fetch: an invalid job record on stdin is 65 naming the line, as mls-status; -k goes on" {
	id=$(mls-submit --wait -- true </dev/null | json_get id)
	good=$(mls-status --format jsonl "$id" </dev/null)
	bad='{"kind":"job","id":"j-1","state":"exploded"}'
	printf '%s\n%s\n' "$good" "$bad" >recs
	run -65 --separate-stderr mls-status --format jsonl <recs
	[[ "$stderr" == "mls-status: <stdin>:2: "* ]]
	msg=${stderr#mls-status: }
	run -65 --separate-stderr mls-fetch -o out <recs
	[ "$stderr" = "mls-fetch: $msg" ]
	run -65 --separate-stderr mls-fetch -k -o out2 <recs
	[[ "$stderr" == "mls-fetch: <stdin>:2: "* ]]
	[ -d "out2/$id" ]
	# records of other kinds are still passed over
	printf '{"kind":"sandbox","id":"s-1"}\n%s\n' "$good" | mls-fetch -o out3
	[ -d "out3/$id" ]
}

# Config (defect 12): a misspelt key is named, not ignored without a word.
@test "configs: an unknown key or section is a warning naming file, line and key; the tool goes on" {
	export MLS_CONFIG="$BATS_TEST_TMPDIR/config"
	cat >"$MLS_CONFIG" <<-'EOF2'
	[mls]
	siet = elsewhere
	[store]
	tokenfile = /x
	[stor]
	url = file:///nowhere
	[site "local"]
	cpu = 3
	[site "hpc"]
	type = slurm
	partiton = gpu
	EOF2
	run -0 --separate-stderr mls-submit --dry-run -- true </dev/null
	[[ "$stderr" == *"mls-submit: $MLS_CONFIG:2: [mls]: unknown key 'siet' is ignored (known: site, data_home, extract_max_size, "* ]]
	[[ "$stderr" == *"mls-submit: $MLS_CONFIG:4: [store]: unknown key 'tokenfile' is ignored"* ]]
	[[ "$stderr" == *"mls-submit: $MLS_CONFIG:6: unknown section [stor] is ignored"* ]]
	[[ "$stderr" == *"mls-submit: $MLS_CONFIG:8: [site \"local\"]: unknown key 'cpu' is ignored (known: type, grace, cpus, gpus, exec)"* ]]
	[[ "$stderr" != *"partiton"* ]]	# hpc is not used
	[ "$(json_get site <<<"$output")" = local ]
	run -0 --separate-stderr mls-submit --site hpc --dry-run -- true </dev/null
	[[ "$stderr" == *"$MLS_CONFIG:11: [site \"hpc\"]: unknown key 'partiton' is ignored (known: "*"partition"* ]]
	# a known key is not warned of
	printf '[mls]\nsite = local\n[site "local"]\ncpus = 2\ngrace = 5s\n' >"$MLS_CONFIG"
	run -0 --separate-stderr mls-submit --dry-run -- true </dev/null
	[ -z "$stderr" ]
}

# Extraction caps (issue 16): tighter defaults, configurable, on both paths.
@test "extraction caps: a zstd bomb, too many files or too many bytes fail the job naming the limit, on both executors" {
	local ex rec
	export MLS_CONFIG="$BATS_TEST_TMPDIR/config"
	for ex in executor wrapper; do
		: >"$MLS_CONFIG"
		rec=$(sandbox_of bomb)
		run -1 bash -c "echo '$rec' | MLS_LOCAL_EXEC=$ex mls-submit --wait --format jsonl -- true"
		echo "$ex bomb: $output"
		[[ "$(json_get reason <<<"$output")" == *"1000 times the archive's size (extract_max_ratio)"* ]]
		# refused first: the executor keeps what it unpacked once
		rec=$(sandbox_of many)
		run -1 bash -c "echo '$rec' | MLS_EXTRACT_MAX_FILES=10 MLS_LOCAL_EXEC=$ex mls-submit --wait --format jsonl -- true"
		echo "$ex many: $output"
		[[ "$(json_get reason <<<"$output")" == *"more than 10 entries (extract_max_files)"* ]]
		run -0 bash -c "echo '$rec' | MLS_LOCAL_EXEC=$ex mls-submit --wait --format jsonl -- true"
		rec=$(sandbox_of random)
		printf '[mls]\nextract_max_size = 50K\n' >"$MLS_CONFIG"
		run -1 bash -c "echo '$rec' | MLS_LOCAL_EXEC=$ex mls-submit --wait --format jsonl -- true"
		echo "$ex random: $output"
		[[ "$(json_get reason <<<"$output")" == *"more than 51200 bytes in all (extract_max_size)"* ]]
		: >"$MLS_CONFIG"
		run -0 bash -c "echo '$rec' | MLS_LOCAL_EXEC=$ex mls-submit --wait --format jsonl -- true"
		rm -rf "$MLS_DATA_HOME/local/sandboxes"
	done
	printf '[mls]\nextract_max_ratio = -3\n' >"$MLS_CONFIG"
	refuse 78 "$MLS_CONFIG:2: 'extract_max_ratio' '-3': expected a whole number >= 1" \
		mls-submit -- true
	: >"$MLS_CONFIG"
	MLS_EXTRACT_MAX_SIZE=nan refuse 78 "MLS_EXTRACT_MAX_SIZE 'nan': expected a size like 4G" \
		mls-fetch j-1
}

# Messages (defect 13): say what was wrong, where, and stay short.
@test "messages: a record's missing field, a 5000-character id and a metric that is not a number are named" {
	local sb long
	sb=$(printf '{"kind":"sandbox","id":"sha256:%064d"}' 0)
	run -65 --separate-stderr mls-submit -- true <<<"$sb"
	[[ "$stderr" == "mls-submit: <stdin>:1: sandbox record: field 'url': missing"* ]]
	long=j-$(printf '%05000d' 7)
	refuse 65 "'${long:0:40}...': not a valid id (5002 characters" mls-status "$long"
	refuse 65 "'${long:0:40}...': not a valid id (5002 characters" mls-fetch "$long"
	[ "${#stderr}" -lt 300 ]
	rec=$(printf '{"kind":"job","id":"%s","site":"local"}' "$long")
	run -65 --separate-stderr mls-status <<<"$rec"
	[[ "$stderr" == "mls-status: <stdin>:1: job record: field 'id': expected a job id "*"(5002 characters)" ]]
	run -65 --separate-stderr mls-fetch -o out <<<"$rec"
	[[ "$stderr" == "mls-fetch: <stdin>:1: job record: field 'id': expected a job id "*"(5002 characters)" ]]
	[ ! -e out ]
	run -1 --separate-stderr mls-search --trials 1 -p x=uniform:0:1 --format jsonl \
		-- sh -c 'echo "{\"step\":0,\"loss\":\"low\"}" >>"$MLS_METRICS"' </dev/null
	[[ "$stderr" == *"objective 'loss' of trial 0 (job j-"*") is not a number: line 1 of its metrics has 'loss': \"low\""* ]]
}

# The store is shared: a write into it goes through the directories it
# opened, never through a link someone planted (issue 16, confinement).
@test "a shared store is not trusted: a write does not follow a planted symlink out of it" {
	mkdir code && echo hi >code/a
	d=$(MLS_DATA_HOME="$BATS_TEST_TMPDIR/scratch" mls-ship code </dev/null | json_get id)
	hex=${d#sha256:}
	mkdir -p "$MLS_DATA_HOME/store/sandboxes/sha256" "$BATS_TEST_TMPDIR/outside"
	ln -s "$BATS_TEST_TMPDIR/outside" "$MLS_DATA_HOME/store/sandboxes/sha256/${hex:0:2}"
	refuse 76 "store: '$MLS_DATA_HOME/store/sandboxes/sha256/${hex:0:2}/$hex.tar.zst': a directory on its path is a symbolic link" \
		mls-ship code
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/outside")" ]
	# the same tree ships once the link is gone
	rm "$MLS_DATA_HOME/store/sandboxes/sha256/${hex:0:2}"
	run -0 mls-ship code </dev/null
	[ "$(json_get id <<<"$output")" = "$d" ]
}
