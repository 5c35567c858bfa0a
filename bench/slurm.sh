#!/bin/sh
# bench/slurm.sh: N trials (default 1000) submitted by mls as job arrays
# against N sequential sbatch calls, on the same single-host Slurm in the
# same run (tests/services/slurm.sh).  Prints one JSON object:
#   submit_s: how long submitting took; done_s: submit until all finished;
#   ratio: sbatch submit time / mls submit time.
# Every mls job runs the full job wrapper (sandbox, metrics, result.json
# in the file store); every plain sbatch job runs "true".
#
#   bench/slurm.sh [N]          (run from a build dir, or with mls-* on PATH)
set -eu
N=${1:-1000}
top=$(cd "$(dirname "$0")/.." && pwd)
[ -x ./mls-submit ] && PATH=$(pwd):$PATH
tmp=$(mktemp -d /tmp/mls-bench-slurm.XXXXXX)
base=$tmp/slurm
cleanup() { "$top/tests/services/slurm.sh" stop "$base" >/dev/null 2>&1 || :; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
eval "$(REST=0 MIN_JOB_AGE=3600 "$top/tests/services/slurm.sh" start "$base")"

export MLS_DATA_HOME=$tmp/data MLS_CONFIG=$tmp/mls.conf HOME=$tmp
mkdir -p "$tmp/work"
cd "$tmp/work"
printf '[site "hpc"]\n\ttype = slurm\n\tworkdir = %s/scratch\n' "$tmp" >"$MLS_CONFIG"
now() { date +%s.%N; }
# all jobs named NAME* finished? (squeue -t all keeps them for MinJobAge)
left() { squeue --me -h -t pending,running,completing -o '%j' | grep -c "^$1" || :; }

# mls: one call, arrays
t0=$(now)
mls-submit -s hpc --array "$N" --format jsonl -- true >"$tmp/jobs.jsonl"
t1=$(now)
mls-status --wait --timeout 1800 --format jsonl <"$tmp/jobs.jsonl" >"$tmp/done.jsonl" || :
t2=$(now)
ok=$(grep -c '"state":"succeeded"' "$tmp/done.jsonl" || :)
arrays=$(sed -n 's/.*"site_id":"\([0-9]*\)_.*/\1/p' "$tmp/jobs.jsonl" | sort -u | wc -l)

# plain sbatch, one call per job
t3=$(now)
i=0
while [ "$i" -lt "$N" ]; do
	sbatch -Q --parsable -J bench-seq -o /dev/null --wrap true >/dev/null
	i=$((i + 1))
done
t4=$(now)
while [ "$(left bench-seq)" -gt 0 ]; do sleep 0.5; done
t5=$(now)

awk -v n="$N" -v ok="$ok" -v arrays="$arrays" -v t0="$t0" -v t1="$t1" \
    -v t2="$t2" -v t3="$t3" -v t4="$t4" -v t5="$t5" -v cpus="$(nproc)" 'BEGIN {
	ms = t1 - t0; md = t2 - t0; ss = t4 - t3; sd = t5 - t3
	printf "{\"bench\":\"slurm\",\"jobs\":%d,\"cpus\":%d,", n, cpus
	printf "\"mls\":{\"submit_s\":%.3f,\"done_s\":%.2f,\"succeeded\":%d,\"arrays\":%d,\"submit_per_s\":%.0f},", ms, md, ok, arrays, n / ms
	printf "\"sbatch\":{\"submit_s\":%.3f,\"done_s\":%.2f,\"submit_per_s\":%.1f},", ss, sd, n / ss
	printf "\"submit_ratio\":%.1f,\"done_ratio\":%.2f}\n", ss / ms, sd / md
}'
