#!/usr/bin/env bats
# A job with --image runs inside podman (tests/services/podman-image.sh
# builds a busybox image offline in a private store) and still sees its
# parameters, appends metrics and leaves outputs that come back.

load helpers

setup_file() {
	export PODMAN_DIR="$BATS_FILE_TMPDIR/podman"
	PODMAN_ENV=$("$top_srcdir/tests/services/podman-image.sh" "$PODMAN_DIR" 2>"$BATS_FILE_TMPDIR/podman.err") || true
	export PODMAN_ENV
}

setup() {
	if [ -z "$PODMAN_ENV" ]; then
		skip "$(tail -n 1 "$BATS_FILE_TMPDIR/podman.err" 2>/dev/null || echo 'podman unavailable: image build failed')"
	fi
	eval "$PODMAN_ENV"
	mls_setup
	STORE="$MLS_DATA_HOME/store"
}

teardown() {
	mls_teardown
}

@test "a job in an image sees params, appends metrics, writes outputs" {
	run -0 --separate-stderr sh -c "mls-submit --image '$MLS_TEST_IMAGE' -p lr=0.25 -e GREETING=hello -- sh -c '
		test -f /bin/busybox || exit 7
		cat \"\$MLS_PARAMS\" >\"\$MLS_OUTPUT_DIR/params.json\"
		echo \"\$GREETING\" >\"\$MLS_OUTPUT_DIR/greeting\"
		echo \"{{\\\"step\\\":1,\\\"acc\\\":0.75}\" >>\"\$MLS_METRICS\"
		echo in-container
	' | timeout 120 mls-status --wait"
	[ "$(json_get state <<<"$output")" = succeeded ]
	[ "$(json_get metrics.acc <<<"$output")" = 0.75 ]
	id=$(json_get id <<<"$output")
	[ "$(cat "$STORE/jobs/$id/stdout")" = in-container ]
	run -0 sh -c "zstd -dc '$STORE/jobs/$id/outputs.tar.zst' | tar -xOf - ./params.json ./greeting"
	[[ "$output" == *'"lr"'*'0.25'* ]]
	[[ "$output" == *hello ]]
}

@test "a failing command in an image keeps its exit code" {
	run -1 --separate-stderr sh -c "mls-submit --image '$MLS_TEST_IMAGE' -- sh -c 'exit 5' | timeout 120 mls-status --wait"
	[ "$(json_get exit_code <<<"$output")" = 5 ]
	[ "$(json_get reason <<<"$output")" = "exit status 5" ]
}

@test "an image without podman on the worker fails with a clear reason" {
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	for t in sh cat cp mv mkdir rm tar zstd sha256sum cut wc tr sed date uname sleep awk setsid chmod kill grep head tail; do
		p=$(command -v "$t") && ln -sf "$p" "$BATS_TEST_TMPDIR/bin/$t"
	done
	submit=$(command -v mls-submit)
	run -1 --separate-stderr sh -c "PATH='$BATS_TEST_TMPDIR/bin' '$submit' --image '$MLS_TEST_IMAGE' -- true | timeout 60 mls-status --wait"
	[[ "$(json_get reason <<<"$output")" == "image '$MLS_TEST_IMAGE': podman not found on "* ]]
}
