#!/bin/sh
# latency.sh - mls TPE ask vs Optuna TPESampler ask at 100, 1,000, 10,000
# completed trials; prints one JSON object with the ratio at each size.
#   bench/hpo/latency.sh [BUILDDIR]    (BUILDDIR holds bench/hpo/suggest-bench;
#                                       built with `make bench/hpo/suggest-bench`)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-${top_builddir:-.}}
bin=$build/bench/hpo/suggest-bench
[ -x "$bin" ] || (cd "$build" && make -s bench/hpo/suggest-bench) >&2
mls=$("$bin" -m 100 1000 10000)	# -m: the default, joint tpe
opt=$(/usr/bin/python3 "$here/optuna-latency.py" 100 1000 10000)
/usr/bin/python3 - "$mls" "$opt" <<'PY'
import json, sys
m, o = json.loads(sys.argv[1]), json.loads(sys.argv[2])
ratio = {n: round(o["ask"][n]["median_ms"] / m["ask"][n]["median_ms"], 1)
         for n in m["ask"] if n in o["ask"]}
print(json.dumps({"mls": m, "optuna": o, "speedup_median": ratio}))
PY
