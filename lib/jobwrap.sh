#!/bin/sh
# mls job wrapper: runs one job on a worker and reports to the store.
#
#   sh jobwrap.sh STORE_URL JOB_ID
#
# Needs only a POSIX sh, tar, zstd (or gzip), sha256sum, cp/mv for a
# file:// store and curl (or wget) for an http(s):// one.  The job's spec
# (jobs/ID/spec.sh in the store) sets MLS_* variables, the user's -e
# variables and the command ("set -- argv...").  The wrapper writes
# jobs/ID/result.json last, atomically; everything else is pushed first.
#
# Environment read: MLS_SCRATCH (or TMPDIR), MLS_PUSH_INTERVAL (2 s),
# MLS_KEEP_WORK=1, MLS_STORE_TOKEN_FILE, MLS_STORE_CA_FILE, CONTAINERS_CONF.
# Every value is quoted; the token never appears in a command line.
# The wrapper runs with the job submitter's environment (on the local
# site the scheduler passes it on from the job's queue entry; it is never
# in spec.sh, which may be in a remote store), and so does the command,
# with the -e variables of spec.sh and the MLS_* set here over it.  A
# command in an image gets only those.

set -u
# A stop request (SIGTERM from the site, or the store's stop marker) is
# acted on by the main loop: the command gets SIGTERM, a grace period,
# then SIGKILL, and the outputs are still pushed.
STOP=
trap 'STOP=${STOP:-terminated}' TERM INT HUP

if [ $# -ne 2 ]; then
	echo "usage: jobwrap.sh STORE_URL JOB_ID" >&2
	exit 64
fi
MLS_STORE_URL=$1
MLS_JOB_ID=$2
case $MLS_JOB_ID in
''|*/*|.*) echo "mls-jobwrap: bad job id '$MLS_JOB_ID'" >&2; exit 64 ;;
esac
case $MLS_STORE_URL in
*/) ;;
*) MLS_STORE_URL=$MLS_STORE_URL/ ;;
esac
JOBKEY=jobs/$MLS_JOB_ID

log() {
	printf 'mls-jobwrap: %s: %s\n' "$MLS_JOB_ID" "$*" >&2
}

now() {
	_t=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ 2>/dev/null)
	case $_t in
	*N*|'') _t=$(date -u +%Y-%m-%dT%H:%M:%S.000Z) ;;
	esac
	printf '%s' "$_t"
}

# JSON string body of $1 (without the quotes).
json_esc() {
	printf '%s' "$1" | tr '\n\r\t' '   ' | tr -d '\000-\037' |
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'
}

# ---- the store: file:// with cp/mv, http(s):// with curl or wget -----------

case $MLS_STORE_URL in
file://*) STORE_KIND='file'; STORE_DIR=${MLS_STORE_URL#file://} ;;
/*) STORE_KIND='file'; STORE_DIR=$MLS_STORE_URL ;;
http://*|https://*) STORE_KIND=http ;;
*) log "store '$MLS_STORE_URL': unknown URL scheme"; exit 78 ;;
esac

HTTP_HDR=
WGET_RC=
http_setup() {
	# The token goes into a private header file, never into argv.
	if [ -n "${MLS_STORE_TOKEN_FILE:-}" ]; then
		HTTP_HDR=$META/http-headers
		WGET_RC=$META/wgetrc
		_tok=$(cat "$MLS_STORE_TOKEN_FILE") || return 1
		(
			umask 077
			printf 'Authorization: Bearer %s\n' "$_tok" >"$HTTP_HDR"
			printf 'header = Authorization: Bearer %s\n' "$_tok" >"$WGET_RC"
		) || return 1
		_tok=
	fi
}

# curl with our options; "$@" appended.  The token comes from a header
# file (-H @file), never from argv.  A transfer below 1 byte/s for
# MLS_HTTP_STALL_S seconds (30) is dropped, and retried.
curl_do() {
	set -- -sS --connect-timeout "${MLS_HTTP_CONNECT_TIMEOUT:-10}" \
	    --speed-limit 1 --speed-time "${MLS_HTTP_STALL_S:-30}" "$@"
	[ -n "$HTTP_HDR" ] && set -- -H "@$HTTP_HDR" "$@"
	[ -n "${MLS_STORE_CA_FILE:-}" ] && set -- --cacert "$MLS_STORE_CA_FILE" "$@"
	curl "$@"
}

wget_do() {
	set -- -q --tries="$((${MLS_HTTP_RETRIES:-5} + 1))" --retry-connrefused \
	    --waitretry=2 --timeout="${MLS_HTTP_STALL_S:-30}" "$@"
	[ -n "${MLS_STORE_CA_FILE:-}" ] && set -- --ca-certificate="$MLS_STORE_CA_FILE" "$@"
	if [ -n "$WGET_RC" ]; then
		WGETRC=$WGET_RC wget "$@"
	else
		wget "$@"
	fi
}

HAVE_CURL=0
command -v curl >/dev/null 2>&1 && HAVE_CURL=1

# The library's retry policy: connect errors, timeouts, resets and 5xx are
# retried MLS_HTTP_RETRIES times (5) with exponential backoff and jitter
# (MLS_HTTP_BACKOFF_MS, 250 ms, doubled, capped at 8 s); 4xx never.
# http_req OK_CODES CURL_ARGS...: 0 on one of OK_CODES (e.g. "200 206"),
# 2 on 404, 1 otherwise.  HTTP_CODE holds the last status.
HTTP_CODE=
http_req() {
	_hok=$1
	shift
	_try=0
	while :; do
		HTTP_CODE=$(curl_do -w '%{http_code}' "$@")
		_rc=$?
		case " $_hok " in *" $HTTP_CODE "*) [ $_rc -eq 0 ] && return 0 ;; esac
		_retry=0
		case $_rc in
		0|22) case $HTTP_CODE in 5[0-9][0-9]) _retry=1 ;; esac ;;
		5|6|7|16|18|28|35|52|55|56|92) _retry=1 ;;
		esac
		[ "$HTTP_CODE" = 404 ] && return 2
		if [ "$_retry" = 0 ] || [ "$_try" -ge "${MLS_HTTP_RETRIES:-5}" ]; then
			log "store: curl exit $_rc, HTTP $HTTP_CODE, after $((_try + 1)) attempts"
			return 1
		fi
		_try=$((_try + 1))
		_ms=$(awk -v b="${MLS_HTTP_BACKOFF_MS:-250}" -v t="$_try" \
		    -v s="$$$_try" 'BEGIN { srand(s + 0); d = b;
		    for (i = 1; i < t && d < 8000; i++) d *= 2;
		    if (d > 8000) d = 8000;
		    printf "%.3f", (d / 2 + rand() * d / 2) / 1000 }')
		sleep "$_ms" 2>/dev/null || sleep 1
	done
}

# st_get KEY DEST: fetch KEY into DEST; 1 if missing or failed.  A
# download cut short is resumed with a Range request (curl -C -).
st_get() {
	if [ "$STORE_KIND" = file ]; then
		[ -f "$STORE_DIR/$1" ] || return 1
		cp "$STORE_DIR/$1" "$2.part" && mv -f "$2.part" "$2"
	elif [ "$HAVE_CURL" = 1 ]; then
		rm -f "$2.part"
		# -f keeps error pages out of DEST.part
		http_req "200 206" -f -C - -o "$2.part" "$MLS_STORE_URL$1" &&
		    mv -f "$2.part" "$2"
	else
		wget_do -O "$2.part" "$MLS_STORE_URL$1" && mv -f "$2.part" "$2"
	fi
}

# st_put SRC KEY: store SRC under KEY.  nginx publishes a PUT by renaming
# the complete body over the key, so a reader never sees half of it.
st_put() {
	if [ "$STORE_KIND" = file ]; then
		_d=$STORE_DIR/${2%/*}
		[ -d "$_d" ] || mkdir -p "$_d" || return 1
		_tmp=$_d/.mls-tmp-wrap$$
		cp "$1" "$_tmp" && chmod 644 "$_tmp" && mv -f "$_tmp" "$STORE_DIR/$2"
	elif [ "$HAVE_CURL" = 1 ]; then
		http_req "200 201 204" -f -o /dev/null -T "$1" "$MLS_STORE_URL$2"
	else
		wget_do -O /dev/null --method=PUT --body-file="$1" "$MLS_STORE_URL$2"
	fi
}

# st_exists KEY: 0 if KEY is in the store.
st_exists() {
	if [ "$STORE_KIND" = file ]; then
		[ -f "$STORE_DIR/$1" ]
	elif [ "$HAVE_CURL" = 1 ]; then
		http_req 200 -f -o /dev/null -I "$MLS_STORE_URL$1" 2>/dev/null
	else
		wget_do -O /dev/null --spider "$MLS_STORE_URL$1" 2>/dev/null
	fi
}

# ---- scratch space ----------------------------------------------------------

TOP=${MLS_SCRATCH:-${TMPDIR:-/tmp}}/mls-$MLS_JOB_ID
META=$TOP/meta
work=$TOP/work
STARTED=null
FINISHED_DONE=0

cleanup() {
	if [ "${MLS_KEEP_WORK:-0}" != 1 ]; then
		rm -rf "$TOP"
	fi
}

# finish STATE EXIT_CODE REASON [SIGNAL]: push outputs and logs, then
# result.json; exits the wrapper.
finish() {
	_state=$1 _code=$2 _reason=$3 _sig=${4:-}
	[ "$FINISHED_DONE" = 1 ] && exit 0
	FINISHED_DONE=1
	_fin=$(now)
	_outputs=null
	if [ -d "$work" ]; then
		mkdir -p "$work/outputs"
		# phpo compatibility: the evaluation's output.json
		[ -f "$work/output.json" ] &&
		    st_put "$work/output.json" "$JOBKEY/output.json"
		push_metrics
		_ok=0 _ext=tar.zst
		if (cd "$work/outputs" && tar -cf "$META/outputs.tar" .); then
			if command -v zstd >/dev/null 2>&1; then
				zstd -q -f --rm -o "$META/outputs.tar.zst" \
				    "$META/outputs.tar" && _ok=1
			else
				_ext=tar.gz
				gzip -n -f "$META/outputs.tar" && _ok=1
			fi
		fi
		if [ "$_ok" = 1 ] &&
		    st_put "$META/outputs.$_ext" "$JOBKEY/outputs.$_ext"; then
			_dg=$(sha256sum "$META/outputs.$_ext" | cut -d' ' -f1)
			_sz=$(($(wc -c <"$META/outputs.$_ext")))
			_outputs="{\"key\":\"$JOBKEY/outputs.$_ext\",\"digest\":\"sha256:$_dg\",\"size\":$_sz}"
		else
			log "outputs: could not pack or upload"
		fi
	fi
	[ -f "$META/stdout" ] && st_put "$META/stdout" "$JOBKEY/stdout"
	[ -f "$META/stderr" ] && st_put "$META/stderr" "$JOBKEY/stderr"
	mkdir -p "$META"
	{
		printf '{"kind":"result","id":"%s","state":"%s","exit_code":%s' \
		    "$(json_esc "$MLS_JOB_ID")" "$_state" "$_code"
		[ -n "$_sig" ] && printf ',"signal":%s' "$_sig"
		printf ',"reason":"%s"' "$(json_esc "$_reason")"
		if [ "$STARTED" = null ]; then
			printf ',"started":null'
		else
			printf ',"started":"%s"' "$STARTED"
		fi
		printf ',"finished":"%s","host":"%s","outputs":%s}\n' "$_fin" \
		    "$(json_esc "$(uname -n)")" "$_outputs"
	} >"$META/result.json"
	if ! st_put "$META/result.json" "$JOBKEY/result.json"; then
		log "result.json: upload failed"
		cleanup
		exit 75
	fi
	cleanup
	exit 0
}

# A failure of the wrapper itself, before or around the command.
fail() {
	log "$*"
	finish failed null "$*"
}

METRICS_SIZE=-1
push_metrics() {
	_m=$work/.mls/metrics.jsonl
	[ -f "$_m" ] || return 0
	_s=$(wc -c <"$_m")
	[ "$_s" -eq "$METRICS_SIZE" ] && return 0
	cp "$_m" "$META/metrics.jsonl" &&
	    st_put "$META/metrics.jsonl" "$JOBKEY/metrics.jsonl" &&
	    METRICS_SIZE=$_s
}

rm -rf "$TOP"
if ! { mkdir -p "${TOP%/*}" && mkdir -m 700 "$TOP" &&
    mkdir -p "$META" "$work/outputs" "$work/.mls"; }; then
	log "cannot create scratch dir '$TOP'"
	exit 73
fi
[ "$STORE_KIND" = http ] && { http_setup || fail "cannot read MLS_STORE_TOKEN_FILE"; }

# ---- the spec, the sandbox, the parameters ------------------------------------

# sandbox_check TAR: the rules of the C executor's extraction (lib/mls_pack.c)
# that tar does not apply itself: only files, directories and links, no
# absolute path, no '..'.  Prints why not and fails.
sandbox_check() {
	tar -tvf "$1" >"$META/sandbox.list" 2>/dev/null || return 1
	_bad=$(cut -c1 "$META/sandbox.list" | grep -v '^[-dlh]' | head -1)
	case $_bad in
	'') ;;
	c|b) echo "an entry is a device; refused"; return 1 ;;
	p) echo "an entry is a fifo; refused"; return 1 ;;
	*) echo "an entry of type '$_bad'; refused"; return 1 ;;
	esac
	tar -tf "$1" >"$META/sandbox.list" 2>/dev/null || return 1
	_n=$(wc -l <"$META/sandbox.list")
	if [ "$_n" -gt "$MLS_EXTRACT_MAX_FILES" ]; then
		echo "more than $MLS_EXTRACT_MAX_FILES entries (extract_max_files); refused"
		return 1
	fi
	_bad=$(grep -E '^/|(^|/)\.\.(/|$)' "$META/sandbox.list" | head -1)
	if [ -n "$_bad" ]; then
		echo "entry '$_bad': absolute or with '..'; refused"
		return 1
	fi
	rm -f "$META/sandbox.list"
}

st_get "$JOBKEY/spec.sh" "$META/spec.sh" || fail "spec.sh: not in store"
MLS_SANDBOX='' MLS_SANDBOX_KEY='' MLS_IMAGE='' MLS_GRACE_S=10 MLS_TIME_S=''
MLS_EXTRACT_MAX_SIZE=4294967296 MLS_EXTRACT_MAX_FILES=100000 MLS_EXTRACT_MAX_RATIO=1000
MLS_ENV_NAMES=
mls_user_env() { :; }
# shellcheck source=/dev/null
. "$META/spec.sh" || fail "spec.sh: cannot be read"
[ $# -gt 0 ] || fail "spec.sh: no command"
case $MLS_GRACE_S in ''|*[!0-9]*) MLS_GRACE_S=10 ;; esac
case $MLS_TIME_S in *[!0-9]*) MLS_TIME_S= ;; esac
case $MLS_EXTRACT_MAX_SIZE$MLS_EXTRACT_MAX_FILES$MLS_EXTRACT_MAX_RATIO in
''|*[!0-9]*) fail "spec.sh: extraction limits are not numbers" ;;
esac

if [ -n "$MLS_SANDBOX" ]; then
	st_get "$MLS_SANDBOX_KEY" "$META/sandbox.tar.zst" ||
	    fail "sandbox '$MLS_SANDBOX': not in store"
	_dg=$(sha256sum "$META/sandbox.tar.zst" | cut -d' ' -f1)
	[ "sha256:$_dg" = "$MLS_SANDBOX" ] || fail "sandbox digest mismatch"
	command -v zstd >/dev/null 2>&1 || fail "zstd: not found"
	# the executor's limits on what unpacking writes: a size, and a
	# ratio to the archive's own (past 1 MiB), whichever is lower
	_cap=$MLS_EXTRACT_MAX_SIZE _why="$_cap bytes in all (extract_max_size)"
	_zs=$(wc -c <"$META/sandbox.tar.zst")
	if [ "$_zs" -lt $(((_cap - 1048576) / MLS_EXTRACT_MAX_RATIO)) ]; then
		_cap=$((_zs * MLS_EXTRACT_MAX_RATIO + 1048576))
		_why="$_cap bytes in all, $MLS_EXTRACT_MAX_RATIO times the archive's size (extract_max_ratio)"
	fi
	rm -f "$META/zstd.failed"
	{ zstd -q -dc "$META/sandbox.tar.zst" 2>/dev/null || : >"$META/zstd.failed"; } |
	    head -c $((_cap + 1)) >"$META/sandbox.tar"
	rm -f "$META/sandbox.tar.zst"
	[ "$(wc -c <"$META/sandbox.tar")" -le "$_cap" ] ||
	    fail "sandbox '$MLS_SANDBOX': more than $_why; refused"
	[ ! -e "$META/zstd.failed" ] || fail "sandbox '$MLS_SANDBOX': cannot unpack"
	_why=$(sandbox_check "$META/sandbox.tar") ||
	    fail "sandbox '$MLS_SANDBOX': ${_why:-cannot be listed}"
	(cd "$work" && tar -xof "$META/sandbox.tar") ||
	    fail "sandbox '$MLS_SANDBOX': cannot unpack"
	rm -f "$META/sandbox.tar"
	# no setuid, setgid or sticky bit survives (the C executor's rule);
	# $TOP is 0700, so nothing could use one in between
	chmod -R u-s,g-s,o-t "$work" ||
	    fail "sandbox '$MLS_SANDBOX': cannot clear setuid bits"
fi
if st_get "$JOBKEY/params.json" "$work/params.json"; then
	cp "$work/params.json" "$work/input.json"
else
	printf '{}\n' >"$work/params.json"
	printf '{}\n' >"$work/input.json"
fi
st_get "$JOBKEY/input.json" "$work/input.json" 2>/dev/null || :

MLS_PARAMS=$work/params.json
MLS_METRICS=$work/.mls/metrics.jsonl
MLS_OUTPUT_DIR=$work/outputs/
MLS_WORK_DIR=$work
export MLS_JOB_ID MLS_PARAMS MLS_METRICS MLS_OUTPUT_DIR MLS_WORK_DIR
: >"$MLS_METRICS"

# ---- the command ---------------------------------------------------------------

USE_PODMAN=0
if [ -n "$MLS_IMAGE" ] && [ "$MLS_IMAGE" != none ]; then
	command -v podman >/dev/null 2>&1 ||
	    fail "image '$MLS_IMAGE': podman not found on $(uname -n)"
	USE_PODMAN=1
	CTR=mls-$MLS_JOB_ID
	set -- "$MLS_IMAGE" "$@"
	for _n in $MLS_ENV_NAMES; do
		set -- -e "$_n" "$@"
	done
	# --init (catatonit) makes SIGTERM reach the command even as pid 1
	INIT=
	for _i in /usr/libexec/podman/catatonit /usr/bin/catatonit; do
		[ -x "$_i" ] && INIT=--init
	done
	set -- podman run --rm $INIT --network=host --name "$CTR" \
	    --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 \
	    -v "$work:$work" -w "$work" \
	    -e MLS_JOB_ID -e MLS_PARAMS -e MLS_METRICS -e MLS_OUTPUT_DIR \
	    -e MLS_WORK_DIR -e CUDA_VISIBLE_DEVICES "$@"
	podman_cleanup() { podman rm -f "$CTR" >/dev/null 2>&1 || :; }
fi

if [ -n "$STOP" ] || st_exists "$JOBKEY/stop"; then
	finish cancelled null "stopped before it started"
fi
STARTED=$(now)
START_S=$(date +%s)
# The command runs in its own session (setsid, when there is one) so that
# one kill reaches all its processes; its pid is that group's id.
(
	# A caught signal is reset in the command; an ignored one would not be.
	trap : TERM INT HUP
	cd "$work" || exit 126
	mls_user_env
	if command -v setsid >/dev/null 2>&1; then
		# shellcheck disable=SC2016
		setsid sh -c 'echo $$ >"$0"; exec "$@"' "$META/pid" "$@" \
		    </dev/null >"$META/stdout" 2>"$META/stderr"
	else
		# shellcheck disable=SC2016
		sh -c 'echo $$ >"$0"; exec "$@"' "$META/pid" "$@" \
		    </dev/null >"$META/stdout" 2>"$META/stderr"
	fi
	echo $? >"$META/rc.part" && mv -f "$META/rc.part" "$META/rc"
) &
RUNNER=$!

# The loop ticks every 0.2 s (1 s where sleep takes whole seconds only);
# metrics are pushed every MLS_PUSH_INTERVAL seconds (2, may be fractional).
NAP=1
sleep 0.001 2>/dev/null && NAP=0.2
nap() { sleep "$NAP"; }
INTERVAL=${MLS_PUSH_INTERVAL:-2}
case $INTERVAL in ''|*[!0-9.]*|*.*.*|.) INTERVAL=2 ;; esac
TICKS=$(awk -v i="$INTERVAL" -v n="$NAP" \
    'BEGIN { t = int(i / n + 0.5); if (t < 1) t = 1; print t }')
GRACE_TICKS=$(awk -v g="$MLS_GRACE_S" -v n="$NAP" 'BEGIN { print int(g / n + 0.5) }')
tick=0

signal_group() {
	_pg=$(cat "$META/pid" 2>/dev/null)
	[ -n "$_pg" ] || return 0
	kill "-$1" "-$_pg" 2>/dev/null || kill "-$1" "$_pg" 2>/dev/null
}

# The loop waits on the command, so a job that ends is seen at once; a
# ticker wakes it every NAP seconds (SIGUSR1) to push metrics and look for
# the stop marker.
trap : USR1
(
	trap - TERM INT HUP
	while sleep "$NAP"; do kill -USR1 $$ 2>/dev/null || exit 0; done
) </dev/null >/dev/null 2>&1 &
TICKER=$!
while [ ! -f "$META/rc" ]; do
	wait "$RUNNER" 2>/dev/null
	[ -f "$META/rc" ] && break
	# the command's subshell is gone without a status: it was killed
	if ! kill -0 "$RUNNER" 2>/dev/null && [ ! -f "$META/rc" ]; then
		sleep 0.1 2>/dev/null || sleep 1
		[ -f "$META/rc" ] || echo 137 >"$META/rc"
		break
	fi
	tick=$((tick + 1))
	if [ -z "$STOP" ] && [ -n "$MLS_TIME_S" ] && [ "$MLS_TIME_S" -gt 0 ] &&
	    [ $(($(date +%s) - START_S)) -ge "$MLS_TIME_S" ]; then
		STOP="time limit of ${MLS_TIME_S}s exceeded (TIMEOUT)"
	fi
	# a file store is cheap to look at: check the marker every tick
	if [ -z "$STOP" ] && { [ "$STORE_KIND" = file ] ||
	    [ $((tick % TICKS)) -eq 0 ]; } && st_exists "$JOBKEY/stop"; then
		STOP=stopped
	fi
	if [ "$STOP" = terminated ] && st_exists "$JOBKEY/stop"; then
		STOP=stopped
	fi
	if [ -n "$STOP" ]; then
		log "stopping: $STOP"
		signal_group TERM
		waited=0
		while [ ! -f "$META/rc" ] && [ "$waited" -lt "$GRACE_TICKS" ]; do
			nap
			waited=$((waited + 1))
		done
		if [ ! -f "$META/rc" ]; then
			signal_group KILL
			[ "$USE_PODMAN" = 1 ] && podman_cleanup
		fi
		while [ ! -f "$META/rc" ]; do nap; done
		break
	fi
	[ $((tick % TICKS)) -eq 0 ] && push_metrics
done
kill "$TICKER" 2>/dev/null
wait "$RUNNER" 2>/dev/null
# what the command left running in its process group ends with it
signal_group KILL
# a wake-up the ticker sent just before it died must not kill us (the
# default action of USR1) while finish() pushes the results
trap '' USR1
trap - TERM INT HUP
rc=$(cat "$META/rc")

if [ -n "$STOP" ]; then
	_sig=
	[ "$rc" -gt 128 ] && [ "$rc" -lt 193 ] && _sig=$((rc - 128))
	case $STOP in
	time*) finish failed "$rc" "$STOP" "$_sig" ;;
	*) finish cancelled "$rc" "$STOP" "$_sig" ;;
	esac
fi
if [ "$rc" -eq 0 ]; then
	finish succeeded 0 ""
elif [ "$rc" -gt 128 ] && [ "$rc" -lt 193 ]; then
	finish failed "$rc" "killed by signal $((rc - 128))" $((rc - 128))
elif [ "$USE_PODMAN" = 1 ] && [ "$rc" -ge 125 ] && [ "$rc" -le 127 ] &&
    grep -q '^Error: ' "$META/stderr" 2>/dev/null; then
	finish failed "$rc" "podman: $(grep '^Error: ' "$META/stderr" | tail -n 1 | cut -c8-)"
elif [ "$rc" -eq 127 ] && [ "$USE_PODMAN" = 0 ] &&
    ! (cd "$work" && command -v "$1" >/dev/null 2>&1); then
	finish failed 127 "command not found: $1"
else
	finish failed "$rc" "exit status $rc"
fi
