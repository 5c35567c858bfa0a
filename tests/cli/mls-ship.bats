#!/usr/bin/env bats
# mls-ship: deterministic packing, ignore rules, git facts, dedup, refusals.
load helpers

setup() {
	mls_setup
	mkdir -p code/sub
	printf 'print("train")\n' > code/train.py
	printf 'a,b\n1,2\n' > code/sub/data.csv
}

# The value of a top-level (or dotted) field of the JSON record in $1.
field() {
	/usr/bin/python3 -c '
import json, sys
v = json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    v = v[k]
print(json.dumps(v) if not isinstance(v, str) else v)' "$1" "$2"
}

# The paths inside the archive of the record in $1, one a line.
archive_paths() {
	local url
	url=$(field "$1" url)
	zstd -dc "${url#file://}" | tar -tf -
}

@test "--help prints the synopsis on stdout and exits 0" {
	run -0 --separate-stderr mls-ship --help
	[[ "$output" == "usage: mls-ship [-nqv] [--dry-run]"* ]]
	[ -z "$stderr" ]
}

@test "--version prints the version" {
	run -0 mls-ship -V
	[[ "$output" == "mls-ship (mls) "* ]]
}

@test "a bad option prints usage on stderr and exits 64" {
	run -64 --separate-stderr mls-ship --no-such-option code
	[ -z "$output" ]
	[[ "$stderr" == *"usage: mls-ship"* ]]
}

@test "two directories exit 64" {
	run -64 --separate-stderr mls-ship code code
	[[ "$stderr" == *"usage: mls-ship"* ]]
}

@test "a bad --max-size exits 64" {
	run -64 --separate-stderr mls-ship --max-size lots code
	[[ "$stderr" == "mls-ship: --max-size: 'lots' is not a size"* ]]
}

@test "a missing directory exits 66" {
	run -66 --separate-stderr mls-ship no-such-dir
	[ -z "$output" ]
	[[ "$stderr" == "mls-ship: 'no-such-dir': No such file or directory" ]]
}

@test "a broken config file exits 78" {
	printf '[store\nurl = x\n' > "$BATS_TEST_TMPDIR/bad.conf"
	MLS_CONFIG="$BATS_TEST_TMPDIR/bad.conf" run -78 --separate-stderr mls-ship code
	[ -z "$output" ]
	[[ "$stderr" == "mls-ship: $BATS_TEST_TMPDIR/bad.conf:1:"* ]]
}

@test "a store URL of an unknown kind is a configuration error: 78" {
	MLS_STORE=ftp://store.example/mls/ run -78 --separate-stderr mls-ship code
	[[ "$stderr" == "mls-ship: store 'ftp://store.example/mls/': "* ]]
}

@test "ships a directory: one sandbox record, uploaded to the file store" {
	run -0 --separate-stderr mls-ship --image python:3.11 code
	[ -z "$stderr" ]
	[ "$(field "$output" kind)" = sandbox ]
	[[ "$(field "$output" id)" =~ ^sha256:[0-9a-f]{64}$ ]]
	[ "$(field "$output" files)" = 2 ]
	[ "$(field "$output" bytes)" = 23 ]
	[ "$(field "$output" image)" = python:3.11 ]
	[ "$(field "$output" git)" = null ]
	[ "$(field "$output" uploaded)" = true ]
	[ "$(field "$output" dir)" = "$WORK/code" ]
	hex=$(field "$output" id); hex=${hex#sha256:}
	f="$MLS_DATA_HOME/store/sandboxes/sha256/${hex:0:2}/$hex.tar.zst"
	[ "$(field "$output" url)" = "file://$f" ]
	[ "$(sha256sum "$f" | cut -d' ' -f1)" = "$hex" ]
	[ "$(field "$output" size)" = "$(stat -c %s "$f")" ]
	run archive_paths "$output"
	assert_output $'sub/data.csv\ntrain.py'
	[ -z "$(ls -A "$MLS_DATA_HOME/tmp")" ]
}

@test "DIR defaults to the current directory" {
	cd code
	run -0 mls-ship
	[ "$(field "$output" dir)" = "$WORK/code" ]
}

@test "same tree, other mtimes, umask, modes and creation order: same id" {
	run -0 mls-ship code
	id1=$(field "$output" id)
	mkdir other && cd other
	umask 077
	mkdir sub
	printf 'a,b\n1,2\n' > sub/data.csv
	printf 'print("train")\n' > train.py
	chmod 600 train.py
	touch -d '2001-02-03 04:05' train.py sub/data.csv sub
	cd ..
	run -0 mls-ship other
	[ "$(field "$output" id)" = "$id1" ]
	printf 'changed\n' >> other/train.py
	run -0 mls-ship other
	[ "$(field "$output" id)" != "$id1" ]
}

@test "the executable bit is kept and normalised" {
	run -0 mls-ship code
	id1=$(field "$output" id)
	chmod 700 code/train.py
	run -0 mls-ship code
	[ "$(field "$output" id)" != "$id1" ]
	url=$(field "$output" url)
	run -0 sh -c "zstd -dc '${url#file://}' | tar -tvf - train.py"
	[[ "$output" == "-rwxr-xr-x 0/0"* ]]
}

@test "a second ship of an unchanged tree uploads nothing" {
	run -0 mls-ship code
	[ "$(field "$output" uploaded)" = true ]
	url=$(field "$output" url); f=${url#file://}
	touch -d '2000-01-01 00:00' "$f"
	before=$(stat -c %Y "$f")
	run -0 mls-ship code
	[ "$(field "$output" uploaded)" = false ]
	[ "$(stat -c %Y "$f")" = "$before" ]
}

@test ".mlsignore outside a repository; .gitignore does not apply there" {
	mkdir -p code/data code/.git
	printf 'x\n' > code/data/big.bin
	printf 'x\n' > code/.git/config
	printf 'x\n' > code/notes.tmp
	printf 'data/\n*.tmp\n' > code/.mlsignore
	printf 'train.py\n' > code/.gitignore
	run -0 mls-ship code
	run archive_paths "$output"
	assert_output $'.gitignore\n.mlsignore\nsub/data.csv\ntrain.py'
}

@test "inside a repository: .gitignore (nested too), .mlsignore, never .git, git facts" {
	cd code
	git init -q -b main
	git config user.email t@example.org
	git config user.name t
	printf '*.log\n' > .gitignore
	printf 'cache/\n' > sub/.gitignore
	mkdir sub/cache
	printf 'x\n' > sub/cache/c.bin
	printf 'x\n' > run.log
	printf 'sub/data.csv\n' > .mlsignore
	git add .gitignore sub/.gitignore train.py
	git commit -q -m init
	git remote add origin https://alice:s3cret@git.example.org/r.git
	commit=$(git rev-parse HEAD)
	cd ..
	run -0 --separate-stderr mls-ship code
	rec=$output
	run archive_paths "$rec"
	assert_output $'.gitignore\n.mlsignore\nsub/.gitignore\ntrain.py'
	[ "$(field "$rec" git.commit)" = "$commit" ]
	[ "$(field "$rec" git.branch)" = main ]
	[ "$(field "$rec" git.dirty)" = true ]	# .mlsignore and data.csv are untracked
	[ "$(field "$rec" git.remote)" = https://git.example.org/r.git ]
	[[ "$rec" != *s3cret* ]]
	(cd code && git add -A && git commit -q -m all && git checkout -q --detach)
	run -0 mls-ship code
	[ "$(field "$output" git.dirty)" = false ]
	[ "$(field "$output" git.branch)" = null ]
}

@test "--dry-run writes nothing and lists the files largest first" {
	head -c 5000 /dev/zero > code/big.bin
	run -0 --separate-stderr mls-ship --dry-run code
	[ "$(field "$output" dry_run)" = true ]
	[ "$(field "$output" id)" = null ]
	run -0 /usr/bin/python3 -c '
import json, sys
r = json.loads(sys.argv[1])
print(" ".join(e["path"] for e in r["listing"]))' "$output"
	[ "$output" = "big.bin train.py sub/data.csv" ]
	[ ! -e "$MLS_DATA_HOME/store" ]
}

@test "--dry-run on a terminal prints a table with human sizes" {
	head -c 5000 /dev/zero > code/big.bin
	run -0 script -qec "NO_COLOR=1 mls-ship -n code" /dev/null
	[[ "${lines[0]}" == "SIZE"*"PATH"* ]]
	[[ "${lines[1]}" == "4.9 KiB  big.bin"* ]]
	[[ "${lines[2]}" == "15 B"*"train.py"* ]]
	[[ "$output" == *"mls-ship: dry run: 3 files, 4.9 KiB"* ]]
}

@test "--max-size refuses a larger tree (65) and lists the largest files" {
	head -c 3000 /dev/zero > code/big.bin
	head -c 2000 /dev/zero > code/mid.bin
	run -65 --separate-stderr mls-ship --max-size 4k code
	[ -z "$output" ]
	[[ "$stderr" == "mls-ship: '$WORK/code': 4.9 KiB of files is over the maximum of 4.0 KiB (--max-size); largest: 'big.bin' (2.9 KiB), 'mid.bin' (2.0 KiB), 'train.py' (15 B), 'sub/data.csv' (8 B)" ]]
}

@test "a symlink leading out of the tree is refused with 65" {
	ln -s /etc/passwd code/passwd
	run -65 --separate-stderr mls-ship code
	[[ "$stderr" == "mls-ship: symlink 'passwd' -> '/etc/passwd': target leaves"* ]]
	[ ! -e "$MLS_DATA_HOME/store/sandboxes" ]
}

@test "a symlink inside the tree is kept as a symlink" {
	ln -s ../train.py code/sub/train-link.py
	run -0 mls-ship code
	url=$(field "$output" url)
	run -0 sh -c "zstd -dc '${url#file://}' | tar -tvf - sub/train-link.py"
	[[ "$output" == *"sub/train-link.py -> ../train.py" ]]
}

@test "a socket is skipped with a warning" {
	/usr/bin/python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' code/sock
	[ -S code/sock ]
	run -0 --separate-stderr mls-ship code
	[ "$stderr" = "mls-ship: skipping socket 'sock'" ]
	[ "$(field "$output" files)" = 2 ]
}

@test "--format table shows the record's columns" {
	run -0 mls-ship --format table code
	[[ "${lines[0]}" == "ID"*"FILES"*"SIZE"*"UPLOADED"*"BRANCH" ]]
	[[ "${lines[1]}" == "sha256:"* ]]
}

@test "the shipped archive extracts to the same tree" {
	run -0 mls-ship code
	url=$(field "$output" url)
	mkdir out
	zstd -dc "${url#file://}" | tar -xf - -C out
	diff -r code out
}

# The id of a ship of $1 with no cache (the cache is dropped first).
fresh_id() {
	rm -rf "$MLS_DATA_HOME/shipcache"
	run -0 mls-ship "$1"
	field "$output" id
}

# Age every file of the tree so that the cache trusts it (not racily clean).
age_tree() {
	find "$1" -exec touch -h -d '-1 hour' {} +
	sleep 1.1	# ctimes must be older than the cache by a second too
}

@test "the cache: an unchanged tree ships without packing, and writes nothing" {
	age_tree code
	run -0 mls-ship code
	id1=$(field "$output" id)
	cache=$(ls "$MLS_DATA_HOME"/shipcache/*)
	[ -f "$cache" ]
	ino=$(stat -c %i "$cache")
	run -0 --separate-stderr mls-ship -v code
	[ "$(field "$output" id)" = "$id1" ]
	[ "$(field "$output" uploaded)" = false ]
	[[ "$stderr" == *"known from the cache"* ]]
	[[ "$stderr" != *"pack:"* ]]
	[[ "$stderr" != *"ship cache: wrote"* ]]
	[ "$(stat -c %i "$cache")" = "$ino" ]
	[ -z "$(ls -A "$MLS_DATA_HOME/tmp")" ]
}

@test "the cache: a changed file (same size, other content) is seen" {
	age_tree code
	run -0 mls-ship code
	id1=$(field "$output" id)
	printf 'print("TRAIN")\n' > code/train.py
	run -0 --separate-stderr mls-ship -v code
	id2=$(field "$output" id)
	[ "$id2" != "$id1" ]
	[[ "$stderr" == *"'train.py' changed"* ]]
	[ "$(fresh_id code)" = "$id2" ]
}

@test "the cache: a file replaced by a directory, a removed file" {
	age_tree code
	run -0 mls-ship code
	rm code/sub/data.csv
	mkdir code/sub/data.csv
	printf 'x\n' > code/sub/data.csv/inner.txt
	run -0 mls-ship code
	id2=$(field "$output" id)
	run archive_paths "$output"
	assert_output $'sub/data.csv/inner.txt\ntrain.py'
	[ "$(fresh_id code)" = "$id2" ]
	rm -r code/sub/data.csv
	run -0 mls-ship code
	id3=$(field "$output" id)
	[ "$id3" != "$id2" ]
	[ "$(fresh_id code)" = "$id3" ]
}

@test "the cache: a permission change counts when it changes the archive" {
	age_tree code
	run -0 mls-ship code
	id1=$(field "$output" id)
	chmod 600 code/train.py		# packed 0644 either way
	run -0 mls-ship code
	[ "$(field "$output" id)" = "$id1" ]
	chmod 755 code/train.py		# packed 0755: another archive
	run -0 mls-ship code
	id2=$(field "$output" id)
	[ "$id2" != "$id1" ]
	[ "$(fresh_id code)" = "$id2" ]
	chmod 644 code/train.py
	run -0 mls-ship code
	[ "$(field "$output" id)" = "$id1" ]
}

@test "the cache: an .mlsignore change changes what ships" {
	age_tree code
	run -0 mls-ship code
	id1=$(field "$output" id)
	printf 'sub/\n' > code/.mlsignore
	run -0 mls-ship code
	id2=$(field "$output" id)
	run archive_paths "$output"
	assert_output $'.mlsignore\ntrain.py'
	[ "$(fresh_id code)" = "$id2" ]
	rm code/.mlsignore
	run -0 --separate-stderr mls-ship -v code
	[ "$(field "$output" id)" = "$id1" ]
}

@test "the cache: a corrupt or foreign cache file is ignored" {
	age_tree code
	run -0 mls-ship code
	id1=$(field "$output" id)
	cache=$(ls "$MLS_DATA_HOME"/shipcache/*)
	printf 'not a cache\n' > "$cache"
	run -0 --separate-stderr mls-ship -v code
	[ "$(field "$output" id)" = "$id1" ]
	[[ "$stderr" == *"ship cache '$cache': "*"ignored"* ]]
	head -c 100 /dev/urandom > "$cache"
	printf 'changed\n' >> code/train.py
	run -0 mls-ship code
	[ "$(fresh_id code)" = "$(field "$output" id)" ]
}

@test "the cache: a known tree whose archive left the store is packed again" {
	age_tree code
	run -0 mls-ship code
	id1=$(field "$output" id)
	url=$(field "$output" url)
	rm "${url#file://}"
	run -0 mls-ship code
	[ "$(field "$output" id)" = "$id1" ]
	[ "$(field "$output" uploaded)" = true ]
	[ -f "${url#file://}" ]
}
