#!/usr/bin/env bats
# The http(s) store against a real nginx WebDAV server with TLS and a
# bearer token (tests/services/nginx-store.sh), with and without a fault
# injecting proxy (tests/services/faultproxy.py) in between.

load helpers

SVC="${top_srcdir:-$BATS_TEST_DIRNAME/../..}/tests/services"

setup_file() {
	export SRV="$BATS_FILE_TMPDIR/nginx"
	if ! "$SVC/nginx-store.sh" start "$SRV" >"$BATS_FILE_TMPDIR/env" \
	    2>"$BATS_FILE_TMPDIR/start.err"; then
		echo "cannot start nginx: $(cat "$BATS_FILE_TMPDIR/start.err")" \
		    >"$BATS_FILE_TMPDIR/skip"
	fi
}

teardown_file() {
	"$SVC/nginx-store.sh" stop "$BATS_FILE_TMPDIR/nginx"
}

setup() {
	[ ! -f "$BATS_FILE_TMPDIR/skip" ] || skip "$(cat "$BATS_FILE_TMPDIR/skip")"
	mls_setup
	# shellcheck source=/dev/null
	. "$BATS_FILE_TMPDIR/env"
	TOKEN=$(cat "$MLS_STORE_TOKEN_FILE")
	export MLS_HTTP_BACKOFF_MS=50
	mkdir -p proj
	printf '%s\n' 'head -c 300000 /dev/urandom >"$MLS_OUTPUT_DIR/w.bin"' \
	    'echo "{\"step\":1,\"loss\":0.5}" >>"$MLS_METRICS"' 'echo trained' \
	    >proj/train.sh
}

teardown() {
	mls_teardown
	[ -z "${PROXY_PID:-}" ] || kill "$PROXY_PID" 2>/dev/null || :
}

# start_proxy ARGS...: the fault proxy in front of nginx (TLS both sides)
start_proxy() {
	rm -f "$BATS_TEST_TMPDIR/proxy.port"
	/usr/bin/python3 "$SVC/faultproxy.py" --upstream "127.0.0.1:$STORE_PORT" \
	    --upstream-ca "$MLS_STORE_CA_FILE" --tls-cert "$STORE_DIR/pki/server.crt" \
	    --tls-key "$STORE_DIR/pki/server.key" --max-seconds 120 \
	    --port-file "$BATS_TEST_TMPDIR/proxy.port" \
	    --log "$BATS_TEST_TMPDIR/proxy.log" "$@" >/dev/null 3>&- &
	PROXY_PID=$!
	for _ in $(seq 50); do
		[ -s "$BATS_TEST_TMPDIR/proxy.port" ] && break
		sleep 0.1
	done
	MLS_STORE="https://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/proxy.port")/store/"
}

# every artifact record on stdin names a file whose sha256 matches
verify_artifacts() {
	/usr/bin/python3 -c '
import hashlib, json, sys
n = 0
for line in sys.stdin:
    a = json.loads(line)
    d = hashlib.sha256(open(a["path"], "rb").read()).hexdigest()
    assert "sha256:" + d == a["digest"], a
    assert a["size"] == len(open(a["path"], "rb").read()), a
    n += 1
print(n)
'
}

no_token_anywhere() {
	! grep -rqF -- "$TOKEN" "$MLS_DATA_HOME" "$STORE_ROOT" \
	    "$STORE_DIR/logs" "$WORK" 2>/dev/null
}

@test "ship | submit | status --wait | fetch runs entirely through the HTTPS store" {
	cd proj
	run --separate-stderr bash -c 'mls-ship | mls-submit --array 2 -- sh train.sh |
	    mls-status --wait --timeout 60 | mls-fetch -j 4 -o ../out/'
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(printf '%s\n' "$output" | verify_artifacts)" -eq 12 ]
	[ "$(ls ../out/*/outputs/w.bin | wc -l)" -eq 2 ]
	grep -q trained ../out/*/stdout
	# everything went through nginx: the sandbox, the results, the logs
	ls "$STORE_ROOT"/sandboxes/sha256/*/*.tar.zst
	[ "$(ls "$STORE_ROOT"/jobs/*/result.json | wc -l)" -eq 2 ]
	grep -q '"PUT /store/jobs/.*/result.json' "$STORE_DIR/logs/access.log"
	grep -q '"GET /store/sandboxes/' "$STORE_DIR/logs/access.log"
	# the token is nowhere: outputs, records, job logs, the store, nginx logs
	[[ "$output$stderr" != *"$TOKEN"* ]]
	no_token_anywhere
	# the wrapper's private files (header file with the token) are gone
	for j in $(printf '%s\n' "$output" | json_get job | sort -u); do
		[ ! -e "${TMPDIR:-/tmp}/mls-$j" ]
	done
}

@test "a sandbox already in the store is not uploaded again" {
	cd proj
	run -0 mls-ship
	id1=$(echo "$output" | json_get id)
	run -0 --separate-stderr mls-ship -v
	[ "$(echo "$output" | json_get id)" = "$id1" ]
	[ "$(echo "$output" | json_get uploaded)" = false ]
	[[ "$stderr" == *"already in the store"* ]]
	hex=${id1#sha256:}
	[ "$(grep -c "\"PUT /store/sandboxes/sha256/${hex:0:2}/$hex.tar.zst" \
	    "$STORE_DIR/logs/access.log")" -eq 1 ]
}

@test "a wrong token exits 77 naming the store, never the token" {
	printf 'not-the-token\n' >"$BATS_TEST_TMPDIR/bad.token"
	chmod 600 "$BATS_TEST_TMPDIR/bad.token"
	cd proj
	MLS_STORE_TOKEN_FILE="$BATS_TEST_TMPDIR/bad.token" run -77 --separate-stderr mls-ship
	[[ "$stderr" == "mls-ship: store '$MLS_STORE': HTTP 401 for "* ]]
	[[ "$stderr" == *"bad.token"* ]]
	[[ "$stderr" != *not-the-token* ]]
	unset MLS_STORE_TOKEN_FILE
	run -77 --separate-stderr mls-ship
	[[ "$stderr" == *"HTTP 401"*"MLS_STORE_TOKEN_FILE"* ]]
}

@test "a token file readable by others is refused with exit 77" {
	cp "$MLS_STORE_TOKEN_FILE" "$BATS_TEST_TMPDIR/open.token"
	chmod 644 "$BATS_TEST_TMPDIR/open.token"
	cd proj
	MLS_STORE_TOKEN_FILE="$BATS_TEST_TMPDIR/open.token" run -77 --separate-stderr mls-ship
	[[ "$stderr" == *"token file '$BATS_TEST_TMPDIR/open.token': readable by group or others (mode 644)"* ]]
	[[ "$stderr" != *"$TOKEN"* ]]
}

@test "TLS without the CA exits 78 naming the host and the CA file" {
	cd proj
	unset MLS_STORE_CA_FILE
	run -78 --separate-stderr mls-ship
	[[ "$stderr" == *"certificate of host '127.0.0.1' does not verify against the system CA certificates"* ]]
	# a CA file that is not the server's CA
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=other CA" -keyout other.key -out other.crt 2>/dev/null
	MLS_STORE_CA_FILE="$PWD/other.crt" run -78 --separate-stderr mls-ship
	[[ "$stderr" == *"host '127.0.0.1' does not verify against CA file '$PWD/other.crt'"* ]]
}

@test "an unreachable store exits 75 naming the URL after retries" {
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	cd proj
	MLS_HTTP_RETRIES=2 MLS_STORE="https://127.0.0.1:$port/store/" \
	    run -75 --separate-stderr mls-ship
	[[ "$stderr" == *"'https://127.0.0.1:$port/store/sandboxes/sha256/"*"(after 3 attempts)" ]]
}

@test "an upload cut short leaves nothing a reader could take as complete" {
	head -c 4000000 /dev/urandom >big.bin
	curl -sS --cacert "$MLS_STORE_CA_FILE" -H @<(printf 'Authorization: Bearer %s\n' "$TOKEN") \
	    --limit-rate 200k -T big.bin "${MLS_STORE}half/big.bin" 3>&- &
	pid=$!
	sleep 1
	kill "$pid"
	wait "$pid" || :
	[ ! -e "$STORE_ROOT/half/big.bin" ]
	run -0 curl -s -o /dev/null -w '%{http_code}' --cacert "$MLS_STORE_CA_FILE" \
	    -H @<(printf 'Authorization: Bearer %s\n' "$TOKEN") -I "${MLS_STORE}half/big.bin"
	[ "$output" = 404 ]
}

@test "resets, stalls and 500s on the way: the pipeline completes and every artifact verifies" {
	start_proxy --reset 0.1 --stall 0.04 --error 0.1 --stall-seconds 10 --seed 7
	export MLS_STORE MLS_HTTP_STALL_S=2 MLS_HTTP_RETRIES=8
	cd proj
	run --separate-stderr bash -c 'mls-ship | mls-submit --array 3 -- sh train.sh |
	    mls-status --wait --timeout 150 | mls-fetch -j 4 -o ../out/'
	[ "$status" -eq 0 ] || { echo "$stderr"; tail -20 "$BATS_TEST_TMPDIR/proxy.log"; false; }
	[ "$(printf '%s\n' "$output" | verify_artifacts)" -eq 18 ]
	# faults were injected, and retried through
	grep -q '^reset ' "$BATS_TEST_TMPDIR/proxy.log"
	grep -q '^500 ' "$BATS_TEST_TMPDIR/proxy.log"
	no_token_anywhere
}

@test "a truncated download is detected and resumed with Range" {
	cd proj
	run -0 bash -c 'mls-ship | mls-submit -- sh train.sh | mls-status --wait --timeout 60'
	job=$(echo "$output" | json_get id)
	start_proxy --truncate 1
	export MLS_STORE
	run -0 --separate-stderr env MLS_DEBUG=1 mls-fetch -v -o ../out "$job"
	[ "$(printf '%s\n' "$output" | verify_artifacts)" -eq 6 ]
	grep -q '^truncate GET /store/jobs/.*/outputs.tar.zst' "$BATS_TEST_TMPDIR/proxy.log"
	[[ "$stderr" == *"outputs.tar.zst': resuming at byte "* ]]
	grep -q '"GET /store/jobs/.*/outputs.tar.zst HTTP/1.1" 206 ' "$STORE_DIR/logs/access.log"
	[ "$(wc -c <../out/"$job"/outputs/w.bin)" -eq 300000 ]
}

@test "a corrupted sandbox in the store is refused on download" {
	cd proj
	mls-ship >../sb.jsonl
	id=$(json_get id <../sb.jsonl)
	hex=${id#sha256:}
	f="$STORE_ROOT/sandboxes/sha256/${hex:0:2}/$hex.tar.zst"
	cp "$f" "$BATS_TEST_TMPDIR/keep"
	printf 'x' >>"$f"
	run -1 --separate-stderr bash -c "mls-submit -- sh train.sh <../sb.jsonl |
	    mls-status --wait --timeout 60"
	cp "$BATS_TEST_TMPDIR/keep" "$f"
	[ "$(echo "$output" | json_get state)" = failed ]
	[[ "$(echo "$output" | json_get reason)" == *"digest mismatch"* ]]
}
