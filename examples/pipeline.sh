#!/bin/sh
# Ship this directory, run train.sh on the default (local) site, wait for
# it, and fetch its outputs, logs and metrics into ./out/.
set -eu
cd "$(dirname "$0")"
mls-ship . </dev/null | mls-submit -p lr=0.2 -- sh train.sh | mls-status --wait | mls-fetch -o out/
