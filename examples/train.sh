#!/bin/sh
# A tiny "training" with no dependencies: gradient descent on (w - 3)^2.
# Reads the learning rate from $1, $LR or the job's params (MLS_PARAMS),
# appends one metrics line per epoch to $MLS_METRICS, and leaves a model
# file in $MLS_OUTPUT_DIR.  Runs as a plain script too (no mls needed).
set -eu
lr=${1:-${LR:-}}
if [ -z "$lr" ] && [ -n "${MLS_PARAMS:-}" ] && [ -r "$MLS_PARAMS" ]; then
	lr=$(sed -n 's/.*"lr": *\([-0-9.eE+]*\).*/\1/p' "$MLS_PARAMS")
fi
lr=${lr:-0.1}
epochs=${EPOCHS:-10}
metrics=${MLS_METRICS:-/dev/null}
out=${MLS_OUTPUT_DIR:-.}
w=0
i=1
while [ "$i" -le "$epochs" ]; do
	w=$(awk -v w="$w" -v lr="$lr" 'BEGIN { printf "%.10g", w - lr * 2 * (w - 3) }')
	loss=$(awk -v w="$w" 'BEGIN { printf "%.10g", (w - 3) * (w - 3) }')
	printf '{"step":%d,"loss":%s}\n' "$i" "$loss" >> "$metrics"
	echo "epoch $i loss=$loss"
	i=$((i + 1))
done
mkdir -p "$out"
printf 'w=%s\nlr=%s\n' "$w" "$lr" > "$out/model.txt"
echo "final loss=$loss"
