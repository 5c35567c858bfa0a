#!/bin/sh
# A toy trial: loss = (x - 0.3)^2 + (y + 0.1)^2, reported over STEPS steps
# (the loss shrinks towards its final value), for mls-search tests.
# Appends the job id to $RUNLOG (if set) to detect a trial run twice.
set -eu
[ -n "${RUNLOG:-}" ] && echo "$MLS_JOB_ID" >> "$RUNLOG"
x=$(sed -n 's/.*"x": *\([-0-9.eE+]*\).*/\1/p' "$MLS_PARAMS")
y=$(sed -n 's/.*"y": *\([-0-9.eE+]*\).*/\1/p' "$MLS_PARAMS")
y=${y:-0}
steps=${STEPS:-3}
i=1
while [ "$i" -le "$steps" ]; do
	awk -v x="$x" -v y="$y" -v i="$i" -v n="$steps" 'BEGIN {
		l = (x - 0.3) ^ 2 + (y + 0.1) ^ 2
		printf "{\"step\":%d,\"loss\":%.10g}\n", i, l * (1 + (n - i) / n) }' >> "$MLS_METRICS"
	[ -n "${SLEEP:-}" ] && sleep "$SLEEP"
	i=$((i + 1))
done
echo "done x=$x"
