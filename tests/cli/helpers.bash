# Shared set-up for the CLI tests: every test gets its own HOME, data dir
# and config dir under BATS_TEST_TMPDIR, so nothing touches the real home
# and tests do not see each other's jobs.
bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

mls_setup() {
	export HOME="$BATS_TEST_TMPDIR/home"
	mkdir -p "$HOME"
	export MLS_DATA_HOME="$BATS_TEST_TMPDIR/data"
	export XDG_CONFIG_HOME="$HOME/.config"
	unset MLS_CONFIG MLS_SITE MLS_STORE MLS_STORE_TOKEN_FILE MLS_STORE_CA_FILE \
		XDG_DATA_HOME NO_COLOR MLS_DEBUG
	export MLS_LOCAL_CPUS=${MLS_LOCAL_CPUS:-2}
	export MLS_PUSH_INTERVAL=${MLS_PUSH_INTERVAL:-0.2}
	WORK="$BATS_TEST_TMPDIR/work"
	mkdir -p "$WORK"
	cd "$WORK"
}

# Stop whatever the test left running: the local runner and its jobs.
mls_teardown() {
	local f pid
	for f in "$MLS_DATA_HOME"/local/running/*.json; do
		[ -e "$f" ] || continue
		pid=$(sed -n 's/.*"pgid":\([0-9]*\).*/\1/p' "$f")
		[ -n "$pid" ] && kill -KILL -- "-$pid" 2>/dev/null
	done
	if [ -f "$MLS_DATA_HOME/local/runner.pid" ]; then
		kill "$(cat "$MLS_DATA_HOME/local/runner.pid")" 2>/dev/null
	fi
	return 0
}

# jq-less JSON field access with the system python (no third-party modules).
json_get() {	# json_get FIELD.PATH < one JSON object per line
	/usr/bin/python3 -c '
import json, sys
path = sys.argv[1].split(".")
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    v = json.loads(line)
    for p in path:
        v = v[int(p)] if isinstance(v, list) else v.get(p) if isinstance(v, dict) else None
    print(json.dumps(v) if not isinstance(v, str) else v)
' "$1"
}
