#!/bin/sh
# A per-event likelihood ratio with an ensemble of small neural networks
# (python3-sklearn): MEMBERS members (default 20) train the classifier
# trick, each with its own seed, on the embedded local site, PARALLEL at a
# time; mls-fetch brings back their predictions and combine.py compares the
# ensemble's log-likelihood ratio with the exact one and with single
# members.  MEMBERS=200 scales it up; NTRAIN, NEVAL and EPOCHS size a member.
# Needs the mls tools on PATH and /usr/bin/python3 with python3-sklearn.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
members=${MEMBERS:-20}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rm -rf got		# not shipped with the code
mls-ensemble --members "$members" --quorum 0.9 --retries 1 \
	--parallel "${PARALLEL:-2}" --seed "${SEED:-1}" \
	-e NTRAIN="${NTRAIN:-4000}" -e NEVAL="${NEVAL:-4000}" \
	-e EPOCHS="${EPOCHS:-150}" -e OMP_NUM_THREADS=1 \
	--format jsonl -- /usr/bin/python3 train.py </dev/null >"$out"
id=$(tail -n 1 "$out" | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
mls-fetch -q -o got "$id" </dev/null >/dev/null
/usr/bin/python3 combine.py got
