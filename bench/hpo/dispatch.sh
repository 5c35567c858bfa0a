#!/bin/sh
# dispatch.sh - N trivial trials (default 2,000) dispatched three ways, in
# one run, 2 at a time: mls-search on the local site, `xargs -P2`, and
# Optuna's optimize loop (n_jobs=2) running the same subprocess.  Every
# trial runs `echo loss=0.5` and its objective is read from that line.
# Prints one JSON object with the wall times and the ratios.
#   PATH=BUILDDIR:$PATH bench/hpo/dispatch.sh [N]
set -eu
n=${1:-2000}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
export MLS_DATA_HOME="$tmp/data"
mkdir -p "$tmp/code" && cd "$tmp/code" && echo 'placeholder' > README

t0=$(now)
mls-search --trials "$n" --parallel 2 --algorithm random -p x=uniform:0:1 \
	--metric-regex 'loss=([0-9.]+)' --format jsonl -- echo loss=0.5 \
	</dev/null >"$tmp/mls.jsonl" 2>"$tmp/mls.err"
t1=$(now)
ok=$(tail -n 1 "$tmp/mls.jsonl" | /usr/bin/python3 -c \
	'import json,sys; print(json.load(sys.stdin)["counts"]["succeeded"])')

t2=$(now)
seq "$n" | xargs -P2 -n1 sh -c 'echo loss=0.5 | sed -n "s/loss=//p" >/dev/null'
t3=$(now)

/usr/bin/python3 - "$n" >"$tmp/optuna.json" <<'PY'
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

/usr/bin/python3 - "$n" "$t0" "$t1" "$t2" "$t3" "$ok" "$tmp/optuna.json" <<'PY'
import json, platform, sys
n, t0, t1, t2, t3, ok = int(sys.argv[1]), *map(float, sys.argv[2:6]), int(sys.argv[6])
opt = json.load(open(sys.argv[7]))
mls, xargs = t1 - t0, t3 - t2
print(json.dumps({
    "bench": "dispatch", "trials": n, "parallel": 2, "machine": platform.node(),
    "mls_search_s": round(mls, 3), "mls_succeeded": ok,
    "xargs_s": round(xargs, 3), "optuna_s": round(opt["seconds"], 3),
    "mls_trials_per_s": round(n / mls, 1),
    "mls_vs_xargs_speed": round(xargs / mls, 3),
    "mls_vs_optuna_speed": round(opt["seconds"] / mls, 3),
}))
PY
