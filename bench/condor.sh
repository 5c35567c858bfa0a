#!/bin/sh
# bench/condor.sh: N trials (default 1000) submitted by mls as one
# HTCondor cluster against N sequential condor_submit calls, on the same
# personal HTCondor 23.9 in the same run (tests/services/condor.sh; needs
# root).  Prints one JSON object:
#   submit_s: how long submitting took; done_s: submit until all finished;
#   submit_ratio: condor_submit time / mls submit time.
# Every mls job runs the full job wrapper (sandbox, metrics, result.json
# in the file store); every plain condor_submit job runs /bin/true.
#
#   bench/condor.sh [N]          (run from a build dir, or with mls-* on PATH)
set -eu
N=${1:-1000}
top=$(cd "$(dirname "$0")/.." && pwd)
[ -x ./mls-submit ] && PATH=$(pwd):$PATH
tmp=$(mktemp -d /tmp/mls-bench-condor.XXXXXX)
base=$tmp/condor
cleanup() { "$top/tests/services/condor.sh" stop "$base" >/dev/null 2>&1 || :; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
eval "$(SHARE=$tmp "$top/tests/services/condor.sh" start "$base")"

export MLS_DATA_HOME=$tmp/data MLS_CONFIG=$tmp/mls.conf HOME=$tmp
mkdir -p "$tmp/work" "$tmp/seq"
cd "$tmp/work"
printf '[site "pool"]\n\ttype = condor\n' >"$MLS_CONFIG"
now() { date +%s.%N; }
# procs of clusters [from, to] not yet finished (the queue drops them)
left() { condor_q -af ClusterId 2>/dev/null | awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b' | wc -l; }

# mls: one call, one cluster
t0=$(now)
mls-submit -s pool --array "$N" --format jsonl -- true >"$tmp/jobs.jsonl"
t1=$(now)
mls-status --wait --timeout 3600 --format jsonl <"$tmp/jobs.jsonl" >"$tmp/done.jsonl" || :
t2=$(now)
ok=$(grep -c '"state":"succeeded"' "$tmp/done.jsonl" || :)
clusters=$(sed -n 's/.*"site_id":"\([0-9]*\)\..*/\1/p' "$tmp/jobs.jsonl" | sort -u | wc -l)

# plain condor_submit, one call per job
printf 'executable = /bin/true\nshould_transfer_files = NO\noutput = /dev/null\nerror = /dev/null\nqueue\n' >"$tmp/seq/true.sub"
t3=$(now)
i=0 first= last=
while [ "$i" -lt "$N" ]; do
	c=$(condor_submit -terse "$tmp/seq/true.sub" | cut -d. -f1)
	[ -n "$first" ] || first=$c
	last=$c
	i=$((i + 1))
done
t4=$(now)
while [ "$(left "$first" "$last")" -gt 0 ]; do sleep 0.5; done
t5=$(now)

awk -v n="$N" -v ok="$ok" -v clusters="$clusters" -v t0="$t0" -v t1="$t1" \
    -v t2="$t2" -v t3="$t3" -v t4="$t4" -v t5="$t5" -v cpus="$(nproc)" 'BEGIN {
	ms = t1 - t0; md = t2 - t0; ss = t4 - t3; sd = t5 - t3
	printf "{\"bench\":\"condor\",\"jobs\":%d,\"cpus\":%d,", n, cpus
	printf "\"mls\":{\"submit_s\":%.3f,\"done_s\":%.2f,\"succeeded\":%d,\"clusters\":%d,\"submit_per_s\":%.0f},", ms, md, ok, clusters, n / ms
	printf "\"condor_submit\":{\"submit_s\":%.3f,\"done_s\":%.2f,\"submit_per_s\":%.1f},", ss, sd, n / ss
	printf "\"submit_ratio\":%.1f,\"done_ratio\":%.2f}\n", ss / ms, sd / md
}'
