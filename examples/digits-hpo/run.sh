#!/bin/sh
# The main job: tune an MLP on the digits data set with mls-search on the
# embedded default site (local, no configuration), 40 trials, 2 in parallel,
# TPE with median pruning, then print the best parameters and accuracy.
# Needs the mls tools on PATH and /usr/bin/python3 with python3-sklearn.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
trials=${TRIALS:-40}
parallel=${PARALLEL:-2}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
mls-search --trials "$trials" --parallel "$parallel" --seed "${SEED:-1}" \
	--algorithm tpe --prune median --objective val_accuracy:max --reduce best \
	-p lr=loguniform:1e-4:1e-1 \
	-p alpha=loguniform:1e-6:1e-1 \
	-p units=intlog:16:256 \
	-p layers=int:1:3 \
	-p activation=choice:relu,tanh,logistic \
	-p epochs=fixed:25 \
	--format jsonl -- /usr/bin/python3 train.py </dev/null >"$out"
# The last line is the campaign record: print the best trial.
tail -n 1 "$out" | /usr/bin/python3 -c '
import json, sys
c = json.loads(sys.stdin.read())
n = c["counts"]
print("campaign %s: %d trials, %d succeeded, %d pruned, %d failed" % (
    c["id"], n["total"], n["succeeded"], n["pruned"], n["failed"]))
b = c["best"]
print("best validation accuracy: %.4f (trial %d)" % (b["value"], b["number"]))
print("best parameters: " + json.dumps(b["params"], sort_keys=True))
'
