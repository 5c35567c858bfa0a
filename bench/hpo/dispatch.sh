#!/bin/sh
# dispatch.sh - N trivial trials (default 2,000) dispatched three ways, 2 at
# a time, in R rounds (default 3) taken in turn so that the three see the
# same load: mls-search on the local site, `xargs -P2`, and Optuna's
# optimize loop (n_jobs=2) running the same subprocess.  Every trial runs
# `echo loss=0.5` and its objective is read from that line.  Prints one
# JSON object with the wall times of every round, their medians and the
# ratios of the medians.  A sync before each run keeps the writeback of
# one (mls writes a few small files per trial) out of the next.
#   PATH=BUILDDIR:$PATH bench/hpo/dispatch.sh [N [R]]
set -eu
n=${1:-2000}
rounds=${2:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
export MLS_DATA_HOME="$tmp/data"
mkdir -p "$tmp/code" && cd "$tmp/code" && echo 'placeholder' > README

cat > "$tmp/run_optuna.py" <<'PY'
import json, subprocess, sys, time
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
n = int(sys.argv[1])
def objective(trial):
    trial.suggest_float("x", 0, 1)
    out = subprocess.run(["echo", "loss=0.5"], capture_output=True, text=True).stdout
    return float(out.strip().split("=")[1])
study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
t = time.time()
study.optimize(objective, n_trials=n, n_jobs=2)
print(json.dumps({"seconds": time.time() - t, "trials": len(study.trials)}))
PY

: > "$tmp/times"
r=1
while [ "$r" -le "$rounds" ]; do
	# each run starts with no writeback of an earlier one pending
	sync
	t0=$(now)
	mls-search --trials "$n" --parallel 2 --algorithm random -p x=uniform:0:1 \
		--metric-regex 'loss=([0-9.]+)' --format jsonl -- echo loss=0.5 \
		</dev/null >"$tmp/mls.jsonl" 2>"$tmp/mls.err"
	t1=$(now)
	# with the writeback of what it wrote, for the record
	sync
	t1s=$(now)
	ok=$(tail -n 1 "$tmp/mls.jsonl" | /usr/bin/python3 -c \
		'import json,sys; print(json.load(sys.stdin)["counts"]["succeeded"])')
	t2=$(now)
	seq "$n" | xargs -P2 -n1 sh -c 'echo loss=0.5 | sed -n "s/loss=//p" >/dev/null'
	t3=$(now)
	sync
	opt=$(/usr/bin/python3 "$tmp/run_optuna.py" "$n" | /usr/bin/python3 -c \
		'import json,sys; print(json.load(sys.stdin)["seconds"])')
	echo "$t0 $t1 $t2 $t3 $opt $ok $t1s" >> "$tmp/times"
	r=$((r + 1))
done

/usr/bin/python3 - "$n" "$tmp/times" <<'PY'
import json, platform, statistics, sys
n = int(sys.argv[1])
rows = [l.split() for l in open(sys.argv[2])]
mls = [float(r[1]) - float(r[0]) for r in rows]
xargs = [float(r[3]) - float(r[2]) for r in rows]
opt = [float(r[4]) for r in rows]
ok = [int(r[5]) for r in rows]
mls_sync = [float(r[6]) - float(r[0]) for r in rows]
m, x, o = statistics.median(mls), statistics.median(xargs), statistics.median(opt)
print(json.dumps({
    "bench": "dispatch", "trials": n, "parallel": 2, "rounds": len(rows),
    "machine": platform.node(),
    "mls_search_s": [round(v, 3) for v in mls], "mls_succeeded": ok,
    "xargs_s": [round(v, 3) for v in xargs],
    "optuna_s": [round(v, 3) for v in opt],
    "mls_search_and_sync_s": [round(v, 3) for v in mls_sync],
    "median_mls_s": round(m, 3), "median_xargs_s": round(x, 3),
    "median_mls_and_sync_s": round(statistics.median(mls_sync), 3),
    "median_optuna_s": round(o, 3),
    "mls_trials_per_s": round(n / m, 1),
    "mls_vs_xargs_speed": round(x / m, 3),
    "mls_vs_optuna_speed": round(o / m, 3),
}))
PY
