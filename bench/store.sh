#!/bin/sh
# bench/store.sh - the http(s) store through mls vs the curl command line,
# on the same nginx (tests/services/nginx-store.sh) in the same run:
# upload and download of one 100 MB file and of 1,000 small files.
# Prints one JSON object; ratios > 1 mean mls is slower than curl.
#
#   bench/store.sh [BUILD_DIR]     (BUILD_DIR has bench/store-bench; it
#                                   is built there with make when missing)
# Env: BENCH_MB (100), BENCH_FILES (1000), BENCH_SMALL_BYTES (4096),
#      BENCH_JOBS (8: parallel downloads of the small files).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-.}
build=$(cd "$build" && pwd)
[ -x "$build/bench/store-bench" ] || make -C "$build" bench/store-bench >&2
mb=${BENCH_MB:-100} nf=${BENCH_FILES:-1000} sb=${BENCH_SMALL_BYTES:-4096}
jobs=${BENCH_JOBS:-8}
T=$(mktemp -d)
trap '"$top/tests/services/nginx-store.sh" stop "$T/srv"; rm -rf "$T"' EXIT
eval "$("$top/tests/services/nginx-store.sh" start "$T/srv")"
export MLS_DATA_HOME="$T/data"
hdr=$T/hdr
(umask 077; printf 'Authorization: Bearer %s\n' "$(cat "$MLS_STORE_TOKEN_FILE")" >"$hdr")

secs() {	# secs CMD...: wall seconds of CMD
	_t0=$(date +%s.%N)
	"$@" >/dev/null
	_t1=$(date +%s.%N)
	awk -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.3f", b - a }'
}
C="curl -sSf --cacert $MLS_STORE_CA_FILE -H @$hdr"

head -c "$((mb * 1048576))" /dev/urandom >"$T/big"
mkdir -p "$T/small" "$T/got1" "$T/got2"
i=0
while [ $i -lt "$nf" ]; do
	head -c "$sb" /dev/urandom >"$T/small/f$i"
	i=$((i + 1))
done
# curl: one process for all the small files (connection reuse), as fair
# as the command line gets
: >"$T/put.cfg"; : >"$T/get.cfg"
i=0
while [ $i -lt "$nf" ]; do
	printf 'upload-file = "%s"\nurl = "%scurl-small/f%d"\n' "$T/small/f$i" \
	    "$MLS_STORE" $i >>"$T/put.cfg"
	printf 'url = "%scurl-small/f%d"\noutput = "%s/got2/f%d"\n' "$MLS_STORE" \
	    $i "$T" $i >>"$T/get.cfg"
	i=$((i + 1))
done

b="$build/bench/store-bench"
mls_put_big=$(secs "$b" put "$T/big" mls/big)
curl_put_big=$(secs $C -o /dev/null -T "$T/big" "${MLS_STORE}curl/big")
mls_get_big=$(secs "$b" get mls/big "$T/big.mls")
curl_get_big=$(secs $C -o "$T/big.curl" "${MLS_STORE}curl/big")
cmp -s "$T/big" "$T/big.mls" && cmp -s "$T/big" "$T/big.curl"
mls_put_small=$(secs "$b" put-many "$T/small" mls-small "$nf")
curl_put_small=$(secs $C -o /dev/null -K "$T/put.cfg")
mls_get_small=$(secs "$b" get-many mls-small "$T/got1" "$nf" "$jobs")
curl_get_small=$(secs $C -K "$T/get.cfg")
diff -r "$T/small" "$T/got1" >/dev/null && diff -r "$T/small" "$T/got2" >/dev/null

awk -v mb="$mb" -v nf="$nf" -v sb="$sb" -v j="$jobs" \
    -v a="$mls_put_big" -v b="$curl_put_big" -v c="$mls_get_big" -v d="$curl_get_big" \
    -v e="$mls_put_small" -v f="$curl_put_small" -v g="$mls_get_small" -v h="$curl_get_small" \
    -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
	printf "{\"bench\":\"store\",\"tls\":true,\"load\":%s,\"big_mb\":%d,\"small_files\":%d,\"small_bytes\":%d,\"jobs\":%d,", load, mb, nf, sb, j
	printf "\"put_big\":{\"mls_s\":%s,\"curl_s\":%s,\"mls_MBps\":%.1f,\"curl_MBps\":%.1f,\"ratio\":%.2f},", a, b, mb * 1.048576 / a, mb * 1.048576 / b, a / b
	printf "\"get_big\":{\"mls_s\":%s,\"curl_s\":%s,\"mls_MBps\":%.1f,\"curl_MBps\":%.1f,\"ratio\":%.2f},", c, d, mb * 1.048576 / c, mb * 1.048576 / d, c / d
	printf "\"put_small\":{\"mls_s\":%s,\"curl_s\":%s,\"mls_per_s\":%.0f,\"curl_per_s\":%.0f,\"ratio\":%.2f},", e, f, nf / e, nf / f, e / f
	printf "\"get_small\":{\"mls_s\":%s,\"curl_s\":%s,\"mls_per_s\":%.0f,\"curl_per_s\":%.0f,\"ratio\":%.2f}}\n", g, h, nf / g, nf / h, g / h
}'
